/**
 * Dot-product attention, and the unit sphere where it meets Nadaraya-Watson.
 *
 * For unit vectors ‖q − k‖² = 2 − 2 q·k, so the Gaussian kernel of width σ gives the logits
 * −‖q − k‖²/(2σ²) = q·k/σ² − 1/σ². The constant drops out of the softmax: Gaussian
 * Nadaraya-Watson on the sphere is softmax(q·k / σ²) attention, scaled dot-product attention with
 * temperature σ² (scale 1/σ²). Off the sphere the same expansion leaves a weight exp(‖k‖²/2σ²) on
 * each key, so softmax(q·k/σ²) is Gaussian Nadaraya-Watson only for keys of one common length
 * (normalise them with {@link normalizeRows}). Transformers use the scale 1/√d.
 */
import * as tf from "@tensorflow/tfjs-core";

import { seededRandom } from "./data";
import { describe, fail } from "./errors";
import { checkDenseMemory } from "./memory";
import { checkInteger, checkOptions, checkPositive, type TensorInput, toPoints, toValues } from "./validate";

/**
 * Scales each row of `x` to unit Euclidean length, x_i / ‖x_i‖, projecting points onto the
 * unit sphere S^(d−1).
 *
 * @param x `[n, d]` points (`[n]` means n points in one dimension, which become ±1).
 * @returns `[n, d]` float32 unit vectors. The caller disposes of it.
 * @throws if a row is all zeros (it has no direction).
 *
 * @example
 * ```ts
 * await initBackend();
 * normalizeRows([[3, 4], [0, 2]]).print(); // [[0.6, 0.8], [0, 1]]
 * ```
 */
export function normalizeRows(x: TensorInput): tf.Tensor2D {
  const fn = "normalizeRows";
  const t = toPoints(fn, "x", x);
  try {
    const norms = tf.norm(t, "euclidean", 1, true);
    try {
      const values = norms.dataSync();
      const zero = values.findIndex((v) => v === 0);
      if (zero >= 0)
        fail(fn, `x must have no zero row (a zero vector has no direction), got one at row ${zero}`);
      return tf.div(t, norms);
    } finally {
      norms.dispose();
    }
  } finally {
    t.dispose();
  }
}

/** Options for {@link scaledDotProductAttention}: give at most one of `scale` and `temperature`. */
export interface ScaledDotProductOptions {
  /** Multiplier s of the dot products, logits = s · q·k. Default 1/√d, as in transformers. */
  readonly scale?: number;
  /** Softmax temperature T, logits = q·k / T (the same as scale 1/T). For unit vectors, T = σ². */
  readonly temperature?: number;
}

/** The result of {@link scaledDotProductAttention}. The caller disposes of its tensors. */
export interface ScaledDotProductResult {
  /**
   * The pooled values α V, as `nadarayaWatson` names them: `[nQueries]` for values `[nKeys]`,
   * `[nQueries, k]` for values `[nKeys, k]`.
   */
  readonly predictions: tf.Tensor;
  /** Attention weights `[nQueries, nKeys]`, rows summing to 1. */
  readonly weights: tf.Tensor2D;
}

/**
 * Scaled dot-product attention: α = softmax(s · Q Kᵀ) row by row, predictions α V.
 *
 * The arguments come in this library's one order, the data then the queries, as in
 * `nadarayaWatson(keys, values, queries)` (PyTorch's `scaled_dot_product_attention` takes the
 * queries first).
 *
 * @param keys `[n, d]` key vectors.
 * @param values `[n]` or `[n, k]` values, one per key.
 * @param queries `[m, d]` query vectors.
 * @param options `scale` s (default 1/√d) or `temperature` T = 1/s.
 * @returns predictions `[m]` or `[m, k]` and weights `[m, n]`.
 *
 * @example
 * ```ts
 * await initBackend();
 * const { predictions, weights } = scaledDotProductAttention([[1, 0], [0, 1]], [10, 20], [[1, 0]], { temperature: 0.5 });
 * weights.print(); // [[0.8808, 0.1192]] = softmax([2, 0])
 * predictions.print(); // [11.19]
 * tf.dispose([predictions, weights]);
 * ```
 */
export function scaledDotProductAttention(
  keys: TensorInput,
  values: TensorInput,
  queries: TensorInput,
  options: ScaledDotProductOptions = {},
): ScaledDotProductResult {
  const fn = "scaledDotProductAttention";
  checkOptions(fn, options);
  if (options.scale !== undefined && options.temperature !== undefined) {
    fail(
      fn,
      `give options.scale or options.temperature, not both, got ${options.scale} and ${options.temperature}`,
    );
  }
  const owned: tf.Tensor[] = [];
  try {
    const k = toPoints(fn, "keys", keys);
    owned.push(k);
    const { values: v, vector } = toValues(fn, "values", values);
    owned.push(v);
    const q = toPoints(fn, "queries", queries);
    owned.push(q);
    const d = k.shape[1];
    if (q.shape[1] !== d)
      fail(fn, `queries and keys must have the same dimension, got ${q.shape[1]} and ${d}`);
    if (v.shape[0] !== k.shape[0]) {
      fail(fn, `keys and values must have the same length, got ${k.shape[0]} and ${v.shape[0]}`);
    }
    let scale = 1 / Math.sqrt(d);
    if (options.scale !== undefined) scale = checkPositive(fn, "options.scale", options.scale);
    if (options.temperature !== undefined)
      scale = 1 / checkPositive(fn, "options.temperature", options.temperature);
    checkDenseMemory(fn, q.shape[0], k.shape[0], 1, undefined, "pass fewer queries per call");
    return tf.tidy(() => {
      const weights = tf.softmax(tf.mul(tf.matMul(q, k, false, true), scale)) as tf.Tensor2D;
      const pooled = tf.matMul(weights, v);
      return { predictions: vector ? tf.reshape(pooled, [-1]) : pooled, weights };
    });
  } finally {
    tf.dispose(owned);
  }
}

function checkShape(fn: string, n: unknown, d: unknown, seed: unknown): void {
  checkInteger(fn, "n", n);
  checkInteger(fn, "d", d);
  if (typeof seed !== "string" || seed.length === 0)
    fail(fn, `seed must be a non-empty string, got ${describe(seed)}`);
}

/**
 * `n` seeded vectors in ℝ^d with independent standard normal entries, in float64.
 *
 * @returns `[n][d]` plain numbers (identical on every backend).
 *
 * @example
 * ```ts
 * const q = randomNormalVectors(3, 128, "demo"); // q[0].length === 128
 * ```
 */
export function randomNormalVectors(n: number, d: number, seed: string): number[][] {
  checkShape("randomNormalVectors", n, d, seed);
  const rng = seededRandom(seed);
  return Array.from({ length: n }, () => Array.from({ length: d }, () => rng.normal()));
}

/**
 * `n` seeded vectors drawn uniformly from the unit sphere S^(d−1) ⊂ ℝ^d: standard normal vectors
 * divided by their length (in float64, so each has length 1 to within 1e-15).
 *
 * @returns `[n][d]` plain numbers.
 *
 * @example
 * ```ts
 * const keys = randomUnitVectors(40, 16, "keys"); // Math.hypot(...keys[0]) ≈ 1
 * ```
 */
export function randomUnitVectors(n: number, d: number, seed: string): number[][] {
  checkShape("randomUnitVectors", n, d, seed);
  return randomNormalVectors(n, d, seed).map((row) => {
    const norm = Math.hypot(...row);
    return row.map((x) => x / norm);
  });
}
