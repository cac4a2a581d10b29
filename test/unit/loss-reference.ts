/**
 * Float64 references for the bandwidth tests (losses, fit_bandwidth): the slow, obvious loss and its
 * finite-difference gradient, a tolerance check, and a seeded 2-D problem that needs two widths.
 */
import assert from "node:assert/strict";

import { seededRandom } from "../../lib/src/index";

export type Mode = "loo" | "train";

/**
 * The slow, obvious loss in float64: for each evaluated row i, kernel values against every key
 * (all but i itself for leave-one-out), the weighted mean of the values, and the squared error.
 * `period` wraps each coordinate difference the shorter way round. A row with zero total weight
 * makes the loss infinite.
 */
export function referenceLoss(
  keys: number[][],
  values: number[][],
  sigma: number[],
  profile: (r: number) => number,
  mode: Mode,
  options: { rows?: number[]; period?: number; queries?: number[][]; targets?: number[][] } = {},
): number {
  const queries = options.queries ?? (options.rows ?? keys.map((_, i) => i)).map((i) => keys[i]!);
  const targets = options.targets ?? (options.rows ?? keys.map((_, i) => i)).map((i) => values[i]!);
  const self = options.queries ? undefined : (options.rows ?? keys.map((_, i) => i));
  let total = 0;
  queries.forEach((q, r) => {
    let wsum = 0;
    const acc = new Array<number>(values[0]!.length).fill(0);
    keys.forEach((k, j) => {
      if (mode === "loo" && self !== undefined && self[r] === j) return;
      let r2 = 0;
      k.forEach((kd, d) => {
        let delta = Math.abs(q[d]! - kd);
        if (options.period !== undefined) {
          delta %= options.period;
          delta = Math.min(delta, options.period - delta);
        }
        r2 += (delta / (sigma.length === 1 ? sigma[0]! : sigma[d]!)) ** 2;
      });
      const w = profile(Math.sqrt(r2));
      wsum += w;
      values[j]!.forEach((v, c) => (acc[c]! += w * v));
    });
    if (wsum === 0) {
      total = Infinity;
      return;
    }
    acc.forEach((a, c) => (total += (a / wsum - targets[r]![c]!) ** 2));
  });
  return total / queries.length;
}

/** ∂L/∂log σ_d of {@link referenceLoss} by central differences in float64 (step 1e-5). */
export function referenceGradient(
  keys: number[][],
  values: number[][],
  sigma: number[],
  profile: (r: number) => number,
  mode: Mode,
  options: { period?: number } = {},
): number[] {
  const h = 1e-5;
  return sigma.map((_, d) => {
    const at = (sign: number) =>
      referenceLoss(
        keys,
        values,
        sigma.map((s, e) => (e === d ? s * Math.exp(sign * h) : s)),
        profile,
        mode,
        options,
      );
    return (at(1) - at(-1)) / (2 * h);
  });
}

/** |a − e| ≤ rtol·|e| + atol, with a message; infinities must match exactly. */
export function assertNear(actual: number, expected: number, rtol: number, atol: number, what: string): void {
  if (!Number.isFinite(expected)) {
    assert.equal(actual, expected, `${what}: expected ${expected}, got ${actual}`);
    return;
  }
  const tol = rtol * Math.abs(expected) + atol;
  assert.ok(
    Math.abs(actual - expected) <= tol,
    `${what}: got ${actual}, expected ${expected} (tolerance ${tol.toExponential(2)})`,
  );
}

export const columns = (v: number[]): number[][] => v.map((x) => [x]);

/**
 * A seeded 2-D regression problem whose inputs need different widths: keys uniform on [0, 1)²,
 * y = sin(2π x₁) + 0.5 x₂ + 0.2 ε with ε ~ N(0, 1). y changes fast along x₁ and slowly along x₂,
 * so leave-one-out should prefer a narrow σ₁ and a wide σ₂. (The same draws as the former
 * lib `anisotropicData`, removed from lib with the exercise drivers.)
 */
export function twoWidthData(n = 200, seed = "two-widths"): { keys: number[][]; values: number[] } {
  const rng = seededRandom(seed);
  const keys = Array.from({ length: n }, () => [rng.uniform(), rng.uniform()]);
  const values = keys.map(([a, b]) => Math.sin(2 * Math.PI * a!) + 0.5 * b! + 0.2 * rng.normal());
  return { keys, values };
}
