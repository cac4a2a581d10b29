/**
 * Float64 references for the Parzen tests (parzen, parzen_classifier): log kernels, the log density
 * and the log joint of a Bayes rule by plain loops, and a comparison that lets infinities match.
 */
import assert from "node:assert/strict";

import { logNormalizer, type KernelName } from "../../lib/src/index";
import { REFERENCE_PROFILES, assertClose } from "./helpers";

/** Kernels with a finite integral, i.e. those that define a density. */
export const DENSITY_KERNELS: KernelName[] = [
  "gaussian",
  "boxcar",
  "epanechikov",
  "triangular",
  "epanechnikov",
  "biweight",
  "tricube",
  "cosine",
];

/** The log normalising constant, in closed form for the Gaussian and from lib for the rest. */
export function logC(kernel: KernelName, d: number): number {
  return kernel === "gaussian" ? (-d / 2) * Math.log(2 * Math.PI) : logNormalizer(kernel, d);
}

export function logKernel(kernel: KernelName, q: number[], x: number[], sigma: number[]): number {
  let r2 = 0;
  q.forEach((qd, d) => {
    const s = sigma.length === 1 ? sigma[0]! : sigma[d]!;
    r2 += ((qd - x[d]!) / s) ** 2;
  });
  // The Gaussian in log form, so that narrow widths stay finite in the reference too.
  return kernel === "gaussian" ? -r2 / 2 : Math.log(REFERENCE_PROFILES[kernel]!(Math.sqrt(r2)));
}

export function logSumExp(v: number[]): number {
  const m = Math.max(...v);
  if (m === -Infinity) return -Infinity;
  return m + Math.log(v.reduce((a, x) => a + Math.exp(x - m), 0));
}

export function logWidths(sigma: number[], d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) s += Math.log(sigma.length === 1 ? sigma[0]! : sigma[j]!);
  return s;
}

/** Float64 log p̂(x): log-sum-exp of log kernels, − log n + log c − Σ log σ. */
export function referenceLogDensity(
  kernel: KernelName,
  points: number[][],
  queries: number[][],
  sigma: number[],
): number[] {
  const d = points[0]!.length;
  return queries.map(
    (q) =>
      logSumExp(points.map((x) => logKernel(kernel, q, x, sigma))) -
      Math.log(points.length) +
      logC(kernel, d) -
      logWidths(sigma, d),
  );
}

/** Float64 log p̂(x, y = c) = log π_c − log n_c + log Σ_{i in c} K_σ. */
export function referenceLogJoint(
  kernel: KernelName,
  points: number[][],
  labels: number[],
  queries: number[][],
  sigma: number[],
  priors: number[],
): number[][] {
  const d = points[0]!.length;
  return queries.map((q) =>
    priors.map((pi, c) => {
      const members = points.filter((_, i) => labels[i] === c);
      const lse = logSumExp(members.map((x) => logKernel(kernel, q, x, sigma)));
      return Math.log(pi) - Math.log(members.length) + lse + logC(kernel, d) - logWidths(sigma, d);
    }),
  );
}

/** assertClose, where −∞ must match −∞ exactly (a compact kernel's log density outside its support). */
export function assertCloseWithInfinities(
  actual: number[],
  expected: number[],
  rtol: number,
  atol: number,
  what: string,
) {
  expected.forEach((e, i) => {
    if (e === -Infinity) assert.equal(actual[i], -Infinity, `${what}[${i}]`);
  });
  const finite = (v: number[]) => v.map((x, i) => (expected[i] === -Infinity ? 0 : x));
  assertClose(finite(actual), finite(expected), rtol, atol, what);
}

export function softmaxRow(row: number[]): number[] {
  const m = Math.max(...row);
  const e = row.map((v) => Math.exp(v - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}
