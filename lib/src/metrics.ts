/**
 * Error summaries for comparing an estimate with the true function, in float64.
 */
import * as tf from "@tensorflow/tfjs-core";

import { describe, fail } from "./errors";

/** How far an estimate is from the truth over a set of points. */
export interface ErrorSummary {
  /** Mean squared error, (1/m) Σ (ŷ_j − y_j)². */
  readonly mse: number;
  /** The largest absolute error, max_j |ŷ_j − y_j|. */
  readonly maxAbsError: number;
  /** The input x_j where the largest absolute error occurs (the first, on ties). */
  readonly worstAt: number;
}

function toArray(fn: string, arg: string, v: unknown): number[] {
  let out: number[];
  if (v instanceof tf.Tensor) {
    if (v.rank !== 1) fail(fn, `${arg} must have rank 1, got ${describe(v)}`);
    out = Array.from(v.dataSync());
  } else if (Array.isArray(v) || v instanceof Float32Array || v instanceof Float64Array) {
    out = Array.from(v as ArrayLike<number>);
  } else {
    return fail(fn, `${arg} must be a 1-D tensor or array of numbers, got ${describe(v)}`);
  }
  out.forEach((x, i) => {
    if (typeof x !== "number" || !Number.isFinite(x))
      fail(fn, `${arg} must be finite, got ${describe(x)} at index ${i}`);
  });
  return out;
}

/**
 * Summarises the error of `estimate` against `truth` at inputs `x`: the mean squared error, the
 * largest absolute error and where it occurs. All three are 1-D and of equal length; tensors are
 * read, not disposed.
 *
 * @example
 * ```ts
 * errorSummary([1, 2, 4], [1, 2, 3], [0, 1, 2]); // { mse: 0.333…, maxAbsError: 1, worstAt: 2 }
 * ```
 */
export function errorSummary(
  estimate: tf.Tensor | readonly number[] | Float32Array,
  truth: tf.Tensor | readonly number[] | Float32Array,
  x: tf.Tensor | readonly number[] | Float32Array,
): ErrorSummary {
  const fn = "errorSummary";
  const e = toArray(fn, "estimate", estimate);
  const t = toArray(fn, "truth", truth);
  const xs = toArray(fn, "x", x);
  if (e.length === 0) fail(fn, "estimate must not be empty, got length 0");
  if (e.length !== t.length || e.length !== xs.length) {
    fail(
      fn,
      `estimate, truth and x must have the same length, got ${e.length}, ${t.length} and ${xs.length}`,
    );
  }
  let sum = 0;
  let worst = -1;
  let worstAt = xs[0] as number;
  e.forEach((v, i) => {
    const err = v - (t[i] as number);
    sum += err * err;
    if (Math.abs(err) > worst) {
      worst = Math.abs(err);
      worstAt = xs[i] as number;
    }
  });
  return { mse: sum / e.length, maxAbsError: worst, worstAt };
}
