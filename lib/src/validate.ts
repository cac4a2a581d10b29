/**
 * Conversion at the door: every public function turns its arguments into float32 tensors
 * here, with the argument's name, so that errors say which argument was wrong.
 */
import * as tf from "@tensorflow/tfjs-core";

import { describe, fail } from "./errors";

/** What public functions accept where a tensor is expected, as tfjs ops do. */
export type TensorInput = tf.Tensor | tf.TensorLike;

/** A point set: `[n]` (one dimension) or `[n, d]`. */
export type Points = tf.Tensor1D | tf.Tensor2D;

/**
 * Converts `x` to a float32 tensor. Tensors passed in are not disposed; the returned tensor
 * is always new (the caller disposes of it), so callers can treat the two cases alike.
 */
export function toFloatTensor(fn: string, arg: string, x: unknown): tf.Tensor {
  if (x instanceof tf.Tensor) {
    if (x.isDisposed) fail(fn, `${arg} is a disposed tensor`);
    if (x.dtype !== "float32" && x.dtype !== "int32" && x.dtype !== "bool") {
      fail(fn, `${arg} must be a numeric tensor, got ${describe(x)}`);
    }
    return x.dtype === "float32" ? x.clone() : tf.cast(x, "float32");
  }
  if (x === null || x === undefined || typeof x === "string" || typeof x === "boolean") {
    fail(fn, `${arg} must be a tensor, an array or a typed array, got ${describe(x)}`);
  }
  if (typeof x === "number") return tf.scalar(x, "float32");
  if (!Array.isArray(x) && !ArrayBuffer.isView(x)) {
    fail(fn, `${arg} must be a tensor, an array or a typed array, got ${describe(x)}`);
  }
  if (Array.isArray(x)) {
    const problem = raggedness(x, "");
    if (problem) fail(fn, `${arg} is not a rectangular numeric array: ${problem}`);
  }
  return tf.tensor(x as tf.TensorLike, undefined, "float32");
}

/** Describes the first place where a nested array is ragged or not numeric, or returns undefined. */
function raggedness(x: unknown[], at: string): string | undefined {
  const nested = Array.isArray(x[0]) || ArrayBuffer.isView(x[0]);
  for (let i = 0; i < x.length; i++) {
    const item = x[i];
    const here = `${at}[${i}]`;
    if (!nested) {
      if (typeof item !== "number" && typeof item !== "boolean")
        return `${here} is ${describe(item)}, not a number`;
      continue;
    }
    if (!Array.isArray(item) && !ArrayBuffer.isView(item))
      return `${here} is ${describe(item)}, expected an array`;
    const len = (item as ArrayLike<unknown>).length;
    const first = (x[0] as ArrayLike<unknown>).length;
    if (len !== first) return `${here} has length ${len}, but ${at}[0] has length ${first}`;
    if (Array.isArray(item)) {
      const inner = raggedness(item, here);
      if (inner) return inner;
    }
  }
  return undefined;
}

/** Throws if `t` holds a NaN or an infinity, naming the first offending index. */
export function assertFinite(fn: string, arg: string, t: tf.Tensor): void {
  const values = t.dataSync();
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v)) {
      const at = t.rank <= 1 ? `index ${i}` : `flat index ${i} of shape [${t.shape.join(", ")}]`;
      fail(fn, `${arg} must be finite, got ${Number.isNaN(v) ? "NaN" : v} at ${at}`);
    }
  }
}

/**
 * Converts a point set (`[n]` or `[n, d]`) to a finite float32 `[n, d]` tensor.
 * `[n]` means n points in one dimension.
 */
export function toPoints(fn: string, arg: string, x: unknown): tf.Tensor2D {
  const t = toFloatTensor(fn, arg, x);
  try {
    if (t.rank !== 1 && t.rank !== 2) {
      fail(fn, `${arg} must have rank 1 ([n]) or 2 ([n, d]), got ${describe(t)}`);
    }
    if (t.shape[0] === 0) fail(fn, `${arg} must not be empty, got ${describe(t)}`);
    if (t.rank === 2 && t.shape[1] === 0)
      fail(fn, `${arg} must have at least one dimension, got ${describe(t)}`);
    assertFinite(fn, arg, t);
    return (t.rank === 1 ? tf.reshape(t, [t.shape[0] as number, 1]) : t.clone()) as tf.Tensor2D;
  } finally {
    t.dispose();
  }
}

/** Converts values (`[n]` or `[n, k]`) to a finite float32 `[n, k]` tensor; reports whether it was `[n]`. */
export function toValues(fn: string, arg: string, x: unknown): { values: tf.Tensor2D; vector: boolean } {
  const t = toFloatTensor(fn, arg, x);
  try {
    if (t.rank !== 1 && t.rank !== 2) {
      fail(fn, `${arg} must have rank 1 ([n]) or 2 ([n, k]), got ${describe(t)}`);
    }
    if (t.shape[0] === 0) fail(fn, `${arg} must not be empty, got ${describe(t)}`);
    assertFinite(fn, arg, t);
    const values = (t.rank === 1 ? tf.reshape(t, [t.shape[0] as number, 1]) : t.clone()) as tf.Tensor2D;
    return { values, vector: t.rank === 1 };
  } finally {
    t.dispose();
  }
}

/** A kernel width: one number, or one number per input dimension. */
export type Sigma = number | readonly number[] | Float32Array | tf.Tensor;

/**
 * The rule for a valid bandwidth, in one place: σ is a finite number > 0, either one scalar
 * or one per input dimension. Returns the widths as a plain array of length 1 or `dims`.
 */
export function checkSigma(fn: string, sigma: unknown, dims: number, arg = "sigma"): number[] {
  let values: number[];
  if (typeof sigma === "number") {
    values = [sigma];
  } else if (sigma instanceof tf.Tensor) {
    if (sigma.rank > 1) fail(fn, `${arg} must be a scalar or have shape [${dims}], got ${describe(sigma)}`);
    values = Array.from(sigma.dataSync());
  } else if (Array.isArray(sigma) || sigma instanceof Float32Array || sigma instanceof Float64Array) {
    values = Array.from(sigma as ArrayLike<number>);
  } else {
    return fail(fn, `${arg} must be a positive number or one per dimension, got ${describe(sigma)}`);
  }
  if (values.length !== 1 && values.length !== dims) {
    fail(fn, `${arg} must have 1 or ${dims} entries (one per dimension), got ${values.length}`);
  }
  values.forEach((v, i) => {
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
      const where = values.length > 1 ? ` at index ${i}` : "";
      fail(fn, `${arg} must be finite and > 0, got ${describe(v)}${where}`);
    }
  });
  return values;
}

/**
 * Checks that an options argument is a plain object (not null, not an array). Every public
 * function that takes options calls this first, so the message reads the same everywhere.
 */
export function checkOptions(fn: string, options: unknown, arg = "options"): void {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    fail(fn, `${arg} must be an object, got ${describe(options)}`);
  }
}

/** Checks that `v` is a finite number > 0 (a width, a scale, a temperature). */
export function checkPositive(fn: string, arg: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
    fail(fn, `${arg} must be finite and > 0, got ${describe(v)}`);
  }
  return v;
}

/** Checks that `v` is a finite number >= 0 (a noise level, a padding). */
export function checkNonNegative(fn: string, arg: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    fail(fn, `${arg} must be finite and >= 0, got ${describe(v)}`);
  }
  return v;
}

/** Checks that `v` is an integer >= `min` (default 1: a positive count). */
export function checkInteger(fn: string, arg: string, v: unknown, min = 1): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
    const what =
      min === 1 ? "a positive integer" : min === 0 ? "a non-negative integer" : `an integer >= ${min}`;
    fail(fn, `${arg} must be ${what}, got ${describe(v)}`);
  }
  return v;
}

/** Checks that `v` is one of `allowed`. */
export function checkChoice<T extends string>(fn: string, arg: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== "string" || !(allowed as readonly string[]).includes(v)) {
    fail(fn, `${arg} must be one of ${allowed.map((a) => `'${a}'`).join(", ")}, got ${describe(v)}`);
  }
  return v as T;
}
