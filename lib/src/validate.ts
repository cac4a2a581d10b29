/**
 * Conversion at the door: every public function turns its arguments into float32 tensors
 * here, with the argument's name, so that errors say which argument was wrong.
 */
import * as tf from "@tensorflow/tfjs-core";

import { describe, fail } from "./errors";

/** What public functions accept where a tensor is expected, as tfjs ops do. */
export type TensorInput = tf.Tensor | tf.TensorLike | NumericTypedArray | readonly NumericTypedArray[];

/** The typed arrays accepted wherever data are: every numeric element type but BigInt. */
export type NumericTypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint8ClampedArray
  | Uint16Array
  | Uint32Array;

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
  // tfjs takes Float32Array, Int32Array and Uint8Array; every other numeric typed array
  // (Float64Array, Int16Array, …) is converted here.
  if (
    isNumericView(x) &&
    !(x instanceof Float32Array || x instanceof Int32Array || x instanceof Uint8Array)
  ) {
    return tf.tensor1d(Float32Array.from(x));
  }
  return tf.tensor(x as tf.TensorLike, undefined, "float32");
}

/** A numeric array read in float64: `rows × cols` entries, row by row. */
export interface Matrix {
  readonly data: Float64Array;
  readonly rows: number;
  readonly cols: number;
  /** 1 for `[n]` input, 2 for `[n, d]`. */
  readonly rank: 1 | 2;
  /** The entries rounded to float32. */
  float32(): Float32Array;
}

function matrix(data: Float64Array, rows: number, cols: number, rank: 1 | 2): Matrix {
  return { data, rows, cols, rank, float32: () => Float32Array.from(data) };
}

/** Whether `x` is a numeric typed array (any element type except BigInt; not a DataView). */
function isNumericView(x: unknown): x is ArrayLike<number> {
  return (
    ArrayBuffer.isView(x) &&
    !(x instanceof DataView) &&
    !(x instanceof BigInt64Array) &&
    !(x instanceof BigUint64Array)
  );
}

/**
 * Reads a tensor, a (nested) array or any numeric typed array (Float64Array, Int16Array, …) as a
 * float64 `[n]` or `[n, d]` matrix, checking shape, emptiness and finiteness with the argument's
 * name. Data given in float64 keep their precision here; tensors are float32 already.
 * `kind` only words the messages (`[n, d]` points or `[n, k]` values). With `allowEmpty`, empty
 * input passes (for {@link toFloatTensor}).
 */
export function readMatrix(
  fn: string,
  arg: string,
  x: unknown,
  kind: "points" | "values",
  allowEmpty = false,
): Matrix {
  const second = kind === "points" ? "d" : "k";
  let data: Float64Array;
  let shape: number[];
  if (x instanceof tf.Tensor) {
    if (x.isDisposed) fail(fn, `${arg} is a disposed tensor`);
    if (x.dtype !== "float32" && x.dtype !== "int32" && x.dtype !== "bool") {
      fail(fn, `${arg} must be a numeric tensor, got ${describe(x)}`);
    }
    shape = x.shape;
    if (shape.length !== 1 && shape.length !== 2) {
      fail(fn, `${arg} must have rank 1 ([n]) or 2 ([n, ${second}]), got ${describe(x)}`);
    }
    data = Float64Array.from(x.dataSync() as ArrayLike<number>);
  } else if (isNumericView(x)) {
    shape = [x.length];
    data = Float64Array.from(x);
  } else if (Array.isArray(x)) {
    const problem = raggedness(x, "");
    if (problem) fail(fn, `${arg} is not a rectangular numeric array: ${problem}`);
    const nested = x.length > 0 && (Array.isArray(x[0]) || isNumericView(x[0]));
    if (!nested) {
      shape = [x.length];
      data = Float64Array.from(x as ArrayLike<number>, Number);
    } else {
      const rows = x as ArrayLike<unknown>[];
      const cols = (rows[0] as ArrayLike<unknown>).length;
      if (rows.some((r) => Array.isArray(r) && r.some((v) => Array.isArray(v) || isNumericView(v)))) {
        fail(fn, `${arg} must have rank 1 ([n]) or 2 ([n, ${second}]), got an array nested three deep`);
      }
      shape = [rows.length, cols];
      data = new Float64Array(rows.length * cols);
      rows.forEach((r, i) => {
        for (let j = 0; j < cols; j++) data[i * cols + j] = Number((r as ArrayLike<unknown>)[j]);
      });
    }
  } else if (typeof x === "number") {
    return fail(
      fn,
      `${arg} must have rank 1 ([n]) or 2 ([n, ${second}]), got the number ${describe(x)}; wrap one point as [${describe(x)}]`,
    );
  } else {
    return fail(fn, `${arg} must be a tensor, an array or a typed array, got ${describe(x)}`);
  }
  const rows = shape[0] as number;
  const cols = shape.length === 2 ? (shape[1] as number) : 1;
  if (!allowEmpty) {
    if (rows === 0) fail(fn, `${arg} must not be empty, got ${describeShape(x, shape)}`);
    if (cols === 0) {
      const what = kind === "points" ? "at least one dimension" : "at least one column";
      fail(fn, `${arg} must have ${what}, got ${describeShape(x, shape)}`);
    }
  }
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (!Number.isFinite(v)) {
      const at = shape.length === 1 ? `index ${i}` : `flat index ${i} of shape [${shape.join(", ")}]`;
      fail(fn, `${arg} must be finite, got ${Number.isNaN(v) ? "NaN" : v} at ${at}`);
    }
  }
  return matrix(data, rows, cols, shape.length === 2 ? 2 : 1);
}

function describeShape(x: unknown, shape: number[]): string {
  return x instanceof tf.Tensor || Array.isArray(x) || ArrayBuffer.isView(x)
    ? describe(x)
    : `shape [${shape.join(", ")}]`;
}

/**
 * Keys and queries as float32 `[n, d]` and `[m, d]` tensors, both shifted by one float64 offset
 * per dimension (the middle of the keys' range) before they are rounded. Points with a large
 * common offset, such as timestamps in seconds, keep their spacing: rounded as given, 10⁶ + 0.01·i
 * would lose it. Every kernel here depends on q − k only, so the shift changes no result (dot
 * products do depend on it: scaled dot-product attention does not centre).
 */
export function toCentredPoints(
  fn: string,
  keysIn: unknown,
  queriesIn: unknown,
  names: readonly [string, string] = ["keys", "queries"],
): { keys: tf.Tensor2D; queries: tf.Tensor2D; offset: number[] } {
  const k = readMatrix(fn, names[0], keysIn, "points");
  const q = readMatrix(fn, names[1], queriesIn, "points");
  if (q.cols !== k.cols) {
    fail(fn, `${names[0]} and ${names[1]} must have the same dimension, got ${k.cols} and ${q.cols}`);
  }
  const offset = centreOf(k);
  const shifted = (m: Matrix): Float32Array => {
    const out = new Float32Array(m.data.length);
    for (let i = 0; i < out.length; i++) out[i] = (m.data[i] as number) - (offset[i % m.cols] as number);
    return out;
  };
  const keys = tf.tensor2d(shifted(k), [k.rows, k.cols]);
  const queries = tf.tensor2d(shifted(q), [q.rows, q.cols]);
  return { keys, queries, offset };
}

/** Points alone as a float32 `[n, d]` tensor, centred like {@link toCentredPoints}. */
export function toCentredKeys(fn: string, keysIn: unknown, arg = "keys"): tf.Tensor2D {
  const k = readMatrix(fn, arg, keysIn, "points");
  const offset = centreOf(k);
  const out = new Float32Array(k.data.length);
  for (let i = 0; i < out.length; i++) out[i] = (k.data[i] as number) - (offset[i % k.cols] as number);
  return tf.tensor2d(out, [k.rows, k.cols]);
}

/** The middle of each column's range, in float64. */
export function centreOf(m: Matrix): number[] {
  const lo = new Array<number>(m.cols).fill(Infinity);
  const hi = new Array<number>(m.cols).fill(-Infinity);
  for (let i = 0; i < m.data.length; i++) {
    const j = i % m.cols;
    const v = m.data[i] as number;
    if (v < (lo[j] as number)) lo[j] = v;
    if (v > (hi[j] as number)) hi[j] = v;
  }
  return lo.map((l, j) => (l + (hi[j] as number)) / 2);
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
  const m = readMatrix(fn, arg, x, "points");
  return tf.tensor2d(m.float32(), [m.rows, m.cols]);
}

/** Converts values (`[n]` or `[n, k]`) to a finite float32 `[n, k]` tensor; reports whether it was `[n]`. */
export function toValues(fn: string, arg: string, x: unknown): { values: tf.Tensor2D; vector: boolean } {
  const m = readMatrix(fn, arg, x, "values");
  return { values: tf.tensor2d(m.float32(), [m.rows, m.cols]), vector: m.rank === 1 };
}

/** A kernel width: one number, or one number per input dimension. */
export type Sigma = number | readonly number[] | NumericTypedArray | tf.Tensor;

/**
 * The rule for a valid bandwidth, in one place: σ is a finite number > 0, either one scalar
 * or one per input dimension. Returns the widths as a plain array of length 1 or `dims`.
 */
export function checkSigma(fn: string, sigma: unknown, dims: number, arg = "sigma"): number[] {
  let values: number[];
  if (typeof sigma === "number") {
    values = [sigma];
  } else if (sigma instanceof tf.Tensor) {
    if (sigma.isDisposed) fail(fn, `${arg} is a disposed tensor`);
    if (sigma.rank > 1) fail(fn, `${arg} must be a scalar or have shape [${dims}], got ${describe(sigma)}`);
    values = Array.from(sigma.dataSync());
  } else if (Array.isArray(sigma) || isNumericView(sigma)) {
    values = Array.from(sigma as ArrayLike<number>);
  } else {
    return fail(fn, `${arg} must be a positive number or one per dimension, got ${describe(sigma)}`);
  }
  if (values.length !== 1 && values.length !== dims) {
    const allowed =
      dims === 1 ? "one number (the points are one-dimensional)" : `1 or ${dims} entries (one per dimension)`;
    fail(fn, `${arg} must have ${allowed}, got ${values.length} entries`);
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
