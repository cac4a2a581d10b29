/** Shared test helpers: a float64 reference, seeded inputs and a tensor-leak check. */
import assert from "node:assert/strict";
import seedrandom from "seedrandom";

import { tf } from "../../lib/src/index";

/** Kernel profiles written out independently of lib, in float64, as functions of r = ‖u‖ ≥ 0. */
export const REFERENCE_PROFILES: Record<string, (r: number) => number> = {
  gaussian: (r) => Math.exp(-0.5 * r * r),
  boxcar: (r) => (r < 1 ? 1 : 0),
  constant: () => 1,
  epanechikov: (r) => Math.max(0, 1 - r),
  triangular: (r) => Math.max(0, 1 - r),
  epanechnikov: (r) => (r < 1 ? 0.75 * (1 - r * r) : 0),
  biweight: (r) => (r < 1 ? (15 / 16) * (1 - r * r) ** 2 : 0),
  tricube: (r) => (r < 1 ? (70 / 81) * (1 - r * r * r) ** 3 : 0),
  cosine: (r) => (r < 1 ? (Math.PI / 4) * Math.cos((Math.PI / 2) * r) : 0),
};

/**
 * The slow, obvious Nadaraya-Watson in float64: for each query, kernel values against every
 * key, divided by their sum. Returns predictions [m][k] and weights [m][n]; an empty query
 * (all kernel values 0) gets NaN.
 */
export function referenceNW(
  keys: number[][],
  values: number[][],
  queries: number[][],
  profile: (r: number) => number,
  sigma: number[],
): { predictions: number[][]; weights: number[][] } {
  const predictions: number[][] = [];
  const weights: number[][] = [];
  for (const q of queries) {
    const k = keys.map((key) => {
      let r2 = 0;
      key.forEach((kd, d) => {
        const s = sigma.length === 1 ? sigma[0]! : sigma[d]!;
        r2 += ((q[d]! - kd) / s) ** 2;
      });
      return profile(Math.sqrt(r2));
    });
    const total = k.reduce((a, b) => a + b, 0);
    const w = k.map((v) => v / total);
    weights.push(w);
    const cols = values[0]!.length;
    const out = Array.from({ length: cols }, (_, c) =>
      w.reduce((acc, wi, i) => acc + wi * values[i]![c]!, 0),
    );
    predictions.push(out);
  }
  return { predictions, weights };
}

/** A seeded uniform matrix [rows][cols] on [lo, hi). */
export function uniformMatrix(seed: string, rows: number, cols: number, lo = 0, hi = 1): number[][] {
  const rng = seedrandom(seed);
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => lo + (hi - lo) * rng()));
}

/** Asserts two equal-shape number arrays agree within atol + rtol·|expected|, naming the first bad index. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol: number,
  atol: number,
  what: string,
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e)) {
      assert.ok(Number.isNaN(a), `${what}[${i}]: expected NaN, got ${a}`);
      continue;
    }
    const tol = atol + rtol * Math.abs(e);
    assert.ok(
      Math.abs(a - e) <= tol,
      `${what}[${i}]: got ${a}, expected ${e} (tolerance ${tol.toExponential(2)})`,
    );
  }
}

/**
 * Runs `body`, disposes of the tensors it returns, and asserts the live tensor count is back
 * where it started: the function leaked nothing beyond what it returned.
 */
export function assertNoLeak(what: string, body: () => tf.Tensor | tf.Tensor[] | object | void): void {
  const before = tf.memory().numTensors;
  const out = body();
  if (out instanceof tf.Tensor) out.dispose();
  else if (Array.isArray(out)) tf.dispose(out);
  else if (out) tf.dispose(Object.values(out).filter((t): t is tf.Tensor => t instanceof tf.Tensor));
  assert.equal(tf.memory().numTensors, before, `${what} leaked ${tf.memory().numTensors - before} tensors`);
}

/** Asserts that a call leaves no tensors behind when it throws. */
export function assertThrowsClean(body: () => unknown, message: RegExp | string): void {
  const before = tf.memory().numTensors;
  assert.throws(body, (err: Error) => {
    if (typeof message === "string") assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
  assert.equal(tf.memory().numTensors, before, "tensors leaked on the error path");
}

/** Reads a tensor as nested arrays and disposes of it. */
export function take<T extends tf.Tensor>(t: T): number[] {
  const out = Array.from(t.dataSync());
  t.dispose();
  return out;
}
