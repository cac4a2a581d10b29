/**
 * Nadaraya-Watson kernel regression, read as attention pooling:
 *
 *   f(q) = Σ_i α(q, k_i) v_i,   α(q, k_i) = K_σ(q − k_i) / Σ_j K_σ(q − k_j).
 *
 * Orientation, used everywhere in this project: the attention-weight matrix has shape
 * `[nQueries, nKeys]`. Row i holds the weights of query i over all keys and sums to 1, as in
 * softmax(QKᵀ) attention. (Heatmaps draw it with the key index on the y axis, as the
 * tutorial does; see `figures`.)
 *
 * How it is evaluated:
 * - Predictions alone take the backend's fused kernel (fused.ts): one pass over the keys per
 *   query, no `[m, n]` matrix, for every kernel with a `fusedProfile` in the kernel table.
 * - Otherwise (weights requested, a `chunkSize` given, a kernel of one's own, widths so extreme
 *   that offsets must be formed before scaling) the dense path pools with tfjs ops, in chunks of
 *   queries. There a kernel with a `weight` (compact, or constant) is normalised directly,
 *   Σ k v / Σ k, as its weights cannot underflow; the others in log space, α = softmax(log K), so a
 *   narrow Gaussian far from every key gives the nearest-key answer instead of 0/0.
 */
import * as tf from "@tensorflow/tfjs-core";

import { maxAbsColumns, scaledSquaredDistances, toWidths, type Widths } from "./distance";
import {
  checkOnEmpty,
  failEmptyRows,
  findEmpty,
  nearestWeights,
  softmaxWithEmpty,
  type OnEmpty,
} from "./empty";
import { describe, fail } from "./errors";
import { fusedPool } from "./fused";
import { checkDenseMemory } from "./memory";
import { disposeOnFailure } from "./ownership";
import { resolveKernel, type Kernel, type KernelName } from "./kernels";
import {
  checkInteger,
  checkOptions,
  checkSigma,
  type Sigma,
  type TensorInput,
  toCentredPoints,
  toValues,
} from "./validate";

/** Options for {@link nadarayaWatson}. */
export interface NadarayaWatsonOptions {
  /** Kernel width σ > 0: one number or one per input dimension. Default 1. */
  readonly sigma?: Sigma;
  /** Also return the `[nQueries, nKeys]` attention weights (evaluates all queries at once). Default `false`. */
  readonly returnWeights?: boolean;
  /** Policy for queries with no key in a compact kernel's support. Default `"throw"`. */
  readonly onEmpty?: OnEmpty;
  /**
   * Evaluate densely with tfjs ops, this many queries per chunk, bounding peak memory to about
   * `chunkSize × nKeys` floats per temporary (not with `returnWeights`). Default: none needed where
   * the backend has a fused kernel (see `fusedKernelInfo`), which holds no such matrix; else as
   * many queries as fit in 2²² pairs.
   */
  readonly chunkSize?: number;
}

/** The result of {@link nadarayaWatson}. The caller disposes of its tensors. */
export interface NadarayaWatsonResult {
  /** Predictions: `[nQueries]` for values `[nKeys]`, `[nQueries, k]` for values `[nKeys, k]`. */
  readonly predictions: tf.Tensor;
  /** Attention weights `[nQueries, nKeys]`, rows summing to 1; present when `returnWeights` is set. */
  readonly weights?: tf.Tensor2D;
}

/** Pairs per chunk in the chunked path (2²² float32 values = 16 MiB per temporary). */
export const DEFAULT_CHUNK_PAIRS = 1 << 22;

/**
 * log-kernel scores `[m, n]` between queries `[m, d]` and keys `[n, d]`: log K((q − k)/σ),
 * −∞ outside a compact support. Differentiable in `sigma` (a scalar or `[d]` tensor).
 * No validation: for use inside `lib`, after the public door.
 */
export function kernelLogits(
  queries: tf.Tensor2D,
  keys: tf.Tensor2D,
  widths: Widths,
  kernel: Kernel,
  centre?: tf.Tensor,
): tf.Tensor2D {
  return tf.tidy(() => kernel.logValue(scaledSquaredDistances(queries, keys, widths, centre)) as tf.Tensor2D);
}

interface Prepared {
  readonly keys: tf.Tensor2D;
  readonly values: tf.Tensor2D;
  readonly queries: tf.Tensor2D;
  readonly widths: Widths;
  /** The offset keys and queries were centred by (float64), for messages. */
  readonly shift: number[];
  readonly centre: tf.Tensor;
  readonly vector: boolean;
  readonly kernel: Kernel;
  readonly onEmpty: OnEmpty;
  /** No row can be empty, so the per-chunk search for empty rows is skipped (see {@link cannotBeEmpty}). */
  readonly neverEmpty: boolean;
  /** 1/σ per dimension, from the float64 widths. */
  readonly inverseWidths: number[];
  /**
   * The values were divided by 2 to this power (0 unless their largest magnitude is beyond
   * 2^±64), so that sums of n weighted values neither overflow nor underflow; predictions are
   * multiplied back, exactly.
   */
  readonly valueExponent: number;
  /** `[n, k + 1]`: the values and a column of ones, for weights normalised by the same product. */
  readonly valuesWithOnes?: tf.Tensor2D;
}

/**
 * Nadaraya-Watson regression (attention pooling) of `values` attached to `keys`, at `queries`.
 *
 * Shapes: keys `[n]` or `[n, d]`; values `[n]` or `[n, k]` (one-hot values give class
 * probabilities); queries `[m]` or `[m, d]`. In d dimensions the kernel is radial in the
 * Euclidean distance after scaling each dimension by its σ.
 *
 * @param keys training inputs x_i (tensor, array or typed array).
 * @param values training targets y_i.
 * @param queries where to predict.
 * @param kernel a name from `KERNELS` or a `Kernel`. Default `"gaussian"`.
 * @param options see {@link NadarayaWatsonOptions}.
 * @returns predictions, and the `[nQueries, nKeys]` weights when `returnWeights` is set.
 *
 * @example
 * ```ts
 * await initBackend();
 * const { predictions } = nadarayaWatson([0, 1, 2], [0, 10, 20], [0.5, 1.5], "gaussian", { sigma: 0.5 });
 * predictions.print(); // [5, 15]
 * predictions.dispose();
 * ```
 */
export function nadarayaWatson(
  keys: TensorInput,
  values: TensorInput,
  queries: TensorInput,
  kernel: KernelName | Kernel = "gaussian",
  options: NadarayaWatsonOptions = {},
): NadarayaWatsonResult {
  const fn = "nadarayaWatson";
  const prepared = prepare(fn, keys, values, queries, kernel, options);
  try {
    const n = prepared.keys.shape[0];
    const m = prepared.queries.shape[0];
    if (options.returnWeights) {
      if (options.chunkSize !== undefined) {
        fail(
          fn,
          `options.chunkSize has no effect with returnWeights (the weights are one ${m} × ${n} matrix), ` +
            `got chunkSize ${describe(options.chunkSize)}; omit one of the two`,
        );
      }
      checkDenseMemory(
        fn,
        m,
        n,
        prepared.keys.shape[1],
        prepared.kernel,
        "omit returnWeights to evaluate in chunks, or pass fewer queries",
        prepared.kernel.weight !== undefined,
      );
      const { predictions, weights } = poolChunk(fn, prepared, prepared.queries, 0, true);
      return { predictions: finish(prepared, predictions), weights: weights as tf.Tensor2D };
    }
    if (options.chunkSize === undefined) {
      const fused = poolFused(fn, prepared);
      if (fused) return { predictions: finish(prepared, fused) };
    }
    const chunk =
      options.chunkSize !== undefined
        ? checkInteger(fn, "options.chunkSize", options.chunkSize)
        : Math.max(1, Math.floor(DEFAULT_CHUNK_PAIRS / n));
    checkDenseMemory(
      fn,
      Math.min(chunk, m),
      n,
      prepared.keys.shape[1],
      prepared.kernel,
      "pass a smaller options.chunkSize",
      prepared.kernel.weight !== undefined && n <= BLOCKED_KEYS,
    );
    if (chunk >= m) {
      const { predictions } = poolChunk(fn, prepared, prepared.queries, 0, false);
      return { predictions: finish(prepared, predictions) };
    }
    const parts: tf.Tensor[] = [];
    try {
      for (let start = 0; start < m; start += chunk) {
        const size = Math.min(chunk, m - start);
        const q = tf.slice(prepared.queries, [start, 0], [size, -1]);
        try {
          parts.push(poolChunk(fn, prepared, q, start, false).predictions);
        } finally {
          q.dispose();
        }
      }
      const all = tf.concat(parts, 0);
      return { predictions: finish(prepared, all) };
    } finally {
      tf.dispose(parts);
    }
  } finally {
    dispose(prepared);
  }
}

/**
 * The `[nQueries, nKeys]` attention weights alone: row i is query i's distribution over keys.
 * Same arguments and rules as {@link nadarayaWatson}, without values.
 */
export function attentionWeights(
  keys: TensorInput,
  queries: TensorInput,
  kernel: KernelName | Kernel = "gaussian",
  options: Omit<NadarayaWatsonOptions, "returnWeights" | "chunkSize"> = {},
): tf.Tensor2D {
  const fn = "attentionWeights";
  const extra = options as { chunkSize?: unknown; returnWeights?: unknown };
  if (
    typeof options === "object" &&
    options !== null &&
    (extra.chunkSize !== undefined || extra.returnWeights !== undefined)
  ) {
    fail(
      fn,
      `options.${extra.chunkSize !== undefined ? "chunkSize" : "returnWeights"} has no effect here (the weights are ` +
        `returned whole); for predictions in chunks, call nadarayaWatson without returnWeights`,
    );
  }
  const prepared = prepare(fn, keys, undefined, queries, kernel, options);
  try {
    checkDenseMemory(
      fn,
      prepared.queries.shape[0],
      prepared.keys.shape[0],
      prepared.keys.shape[1],
      prepared.kernel,
      "pass fewer queries per call, or call nadarayaWatson without returnWeights for predictions in chunks",
      prepared.kernel.weight !== undefined,
    );
    const { predictions, weights } = poolChunk(fn, prepared, prepared.queries, 0, true);
    predictions.dispose();
    return weights as tf.Tensor2D;
  } finally {
    dispose(prepared);
  }
}

function prepare(
  fn: string,
  keysIn: unknown,
  valuesIn: unknown,
  queriesIn: unknown,
  kernelIn: unknown,
  options: Omit<NadarayaWatsonOptions, "chunkSize" | "returnWeights">,
): Prepared {
  checkOptions(fn, options);
  const kernel = resolveKernel(fn, kernelIn);
  const onEmpty = checkOnEmpty(fn, options.onEmpty);
  // Centred together in float64, so that a large common offset does not cost the spacing.
  const { keys, queries, offset: shift } = toCentredPoints(fn, keysIn, queriesIn);
  const owned: tf.Tensor[] = [keys, queries];
  return disposeOnFailure(owned, () => {
    // attentionWeights has no values: pool zeros, one column.
    const given =
      valuesIn === undefined
        ? { values: tf.zeros([keys.shape[0], 1]) as tf.Tensor2D, vector: true }
        : toValues(fn, "values", valuesIn);
    let values = given.values;
    const vector = given.vector;
    owned.push(values);
    if (values.shape[0] !== keys.shape[0]) {
      fail(fn, `keys and values must have the same length, got ${keys.shape[0]} and ${values.shape[0]}`);
    }
    const data = values.dataSync();
    const valueExponent = scaleExponent(data);
    if (valueExponent !== 0) {
      // In float64 here, not by a tensor op: tensorflow flushes subnormal float32 inputs to 0.
      const factor = 2 ** -valueExponent;
      const unscaled = values;
      values = tf.tensor2d(
        Float32Array.from(data, (v) => v * factor),
        unscaled.shape,
      );
      owned[owned.indexOf(unscaled)] = values;
      unscaled.dispose();
    }
    const widths = checkSigma(fn, options.sigma ?? 1, keys.shape[1], "options.sigma");
    const scaled = toWidths(widths, keys.shape[1], maxAbsColumns(keys, queries));
    owned.push(scaled.sigma, scaled.factors, scaled.ratios, scaled.ranking);
    const centre = tf.mean(keys, 0);
    owned.push(centre);
    // A kernel whose log is finite everywhere leaves no row empty unless r² overflows float32,
    // which only extreme widths can make it do: then the per-chunk search for empty rows is needed.
    const neverEmpty = kernel.finiteLog === true && !scaled.extreme;
    const inverseWidths = Array.from(
      { length: keys.shape[1] },
      (_, j) => 1 / (widths[widths.length === 1 ? 0 : j] as number),
    );
    const valuesWithOnes =
      kernel.weight !== undefined || kernel.logQuadratic !== undefined
        ? tf.tidy(() => tf.concat([values, tf.ones([values.shape[0], 1])], 1) as tf.Tensor2D)
        : undefined;
    if (valuesWithOnes) owned.push(valuesWithOnes);
    return {
      keys,
      values,
      queries,
      widths: scaled,
      centre,
      shift,
      vector,
      kernel,
      onEmpty,
      neverEmpty,
      inverseWidths,
      valueExponent,
      valuesWithOnes,
    };
  });
}

function dispose(p: Prepared): void {
  tf.dispose([p.keys, p.values, p.queries, p.centre]);
  if (p.valuesWithOnes) p.valuesWithOnes.dispose();
  p.widths.dispose();
}

function finish(p: Prepared, predictions: tf.Tensor): tf.Tensor {
  let out = predictions;
  if (p.valueExponent !== 0) {
    // In float64 here: tensorflow would flush subnormal float32 results to 0.
    const factor = 2 ** p.valueExponent;
    out = tf.tensor(
      Float32Array.from(predictions.dataSync(), (v) => v * factor),
      predictions.shape,
    );
    predictions.dispose();
  }
  if (!p.vector) return out;
  const flat = tf.reshape(out, [-1]);
  out.dispose();
  return flat;
}

/**
 * An exponent e with max|v|·2⁻ᵉ in [2⁻⁶⁴, 2⁶⁴] (0 when it already is, or when there is nothing to
 * scale): dividing the values by 2ᵉ is exact, and keeps Σ w v over up to 2⁶⁰ keys finite and its
 * terms normal in float32.
 */
function scaleExponent(values: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i] as number));
  if ((max > 2 ** -64 && max < 2 ** 64) || max === 0 || !Number.isFinite(max)) return 0;
  return Math.round(Math.log2(max));
}

/**
 * Above this many keys, a chunk of queries is pooled in blocks of {@link KEY_BLOCK} keys, and the
 * blocks' sums are combined in float64: one float32 sum over 10⁶ terms drifts by about 10⁻³
 * relative, while sums of 4096 terms stay near 10⁻⁶.
 */
export const BLOCKED_KEYS = 1 << 16;

/** Keys per block on the blocked path. */
export const KEY_BLOCK = 1 << 12;

/**
 * All queries' predictions in one fused pass where the backend has a fused kernel (see fused.ts),
 * or `undefined`: the kernel needs a `fusedProfile`, and widths of ordinary size (extreme ones
 * take the dense path, which forms offsets before scaling). Queries with no key in a compact
 * support follow the `onEmpty` policy, as on the dense path.
 */
function poolFused(fn: string, p: Prepared): tf.Tensor2D | undefined {
  const profile = p.kernel.fusedProfile;
  if (profile === undefined || p.widths.extreme) return undefined;
  if (!p.inverseWidths.every((s) => Number.isFinite(Math.fround(s)) && s > 0)) return undefined;
  const pooled = fusedPool({
    queries: p.queries,
    keys: p.keys,
    values: p.values,
    inverseWidths: p.inverseWidths,
    profile,
  });
  if (pooled === undefined) return undefined;
  const [m, width] = pooled.shape;
  const k = width - 1;
  const predictions = tf.slice(pooled, [0, 0], [m, k]);
  if (p.neverEmpty || (p.onEmpty === "nan" && Number.isFinite(p.kernel.support))) {
    pooled.dispose();
    return predictions;
  }
  // Queries whose weights sum to 0: no key in a compact support (NaN predictions so far).
  const totals = tf.slice(pooled, [0, k], [m, 1]);
  const data = totals.dataSync();
  tf.dispose([pooled, totals]);
  const empty: number[] = [];
  for (let i = 0; i < m; i++) if (!((data[i] as number) > 0)) empty.push(i);
  if (empty.length === 0) return predictions;
  try {
    if (Number.isFinite(p.kernel.support) && p.onEmpty === "throw") {
      failEmptyRows(fn, empty, p.queries, 0, p.kernel.name, "key", p.shift);
    }
    const out = predictions.dataSync().slice() as Float32Array;
    fillEmpty(fn, p, p.queries, 0, empty, out);
    return tf.tensor2d(out, [m, k]);
  } finally {
    predictions.dispose();
  }
}

/** Pools one block of queries; `offset` is its first query's index, for error messages. */
function poolChunk(
  fn: string,
  p: Prepared,
  queries: tf.Tensor2D,
  offset: number,
  wantWeights: boolean,
): { predictions: tf.Tensor2D; weights?: tf.Tensor2D } {
  if (!wantWeights && p.keys.shape[0] > BLOCKED_KEYS)
    return { predictions: poolBlocked(fn, p, queries, offset) };
  const weight = p.kernel.weight;
  if (weight !== undefined && p.valuesWithOnes !== undefined) {
    return poolDirect(fn, p, queries, offset, wantWeights, weight, p.valuesWithOnes);
  }
  if (
    !wantWeights &&
    p.kernel.logQuadratic !== undefined &&
    p.valuesWithOnes !== undefined &&
    !p.widths.extreme &&
    DENSE_EXP.has(tf.getBackend())
  ) {
    return { predictions: poolExp(fn, p, queries, offset, p.valuesWithOnes) };
  }
  return poolShifted(fn, p, queries, offset, wantWeights);
}

/**
 * A kernel with a `weight` (compact, or constant): its weights cannot underflow, so they are
 * normalised directly, Σ k v / Σ k, with the sum of weights from the same product as the values'
 * (predictions), or divided out (weights). A query whose weights sum to 0 has no key in the
 * support: NaN by 0/0 already, else the policy's error or its nearest keys.
 */
function poolDirect(
  fn: string,
  p: Prepared,
  queries: tf.Tensor2D,
  offset: number,
  wantWeights: boolean,
  weight: (r2: tf.Tensor) => tf.Tensor,
  valuesWithOnes: tf.Tensor2D,
): { predictions: tf.Tensor2D; weights?: tf.Tensor2D } {
  return tf.tidy(() => {
    const m = queries.shape[0];
    const k = p.values.shape[1];
    const w = weight(scaledSquaredDistances(queries, p.keys, p.widths, p.centre)) as tf.Tensor2D;
    let predictions: tf.Tensor2D;
    let weights: tf.Tensor2D | undefined;
    let total: tf.Tensor2D;
    if (wantWeights) {
      total = tf.sum(w, 1, true);
      weights = tf.div(w, total) as tf.Tensor2D;
      predictions = tf.matMul(weights, p.values);
    } else {
      const pooled = tf.matMul(w, valuesWithOnes);
      total = tf.slice(pooled, [0, k], [m, 1]) as tf.Tensor2D;
      predictions = tf.div(tf.slice(pooled, [0, 0], [m, k]), total) as tf.Tensor2D;
    }
    if (!Number.isFinite(p.kernel.support) || p.onEmpty === "nan") return { predictions, weights };
    const totals = total.dataSync();
    const empty: number[] = [];
    for (let i = 0; i < m; i++) if (!((totals[i] as number) > 0)) empty.push(i);
    if (empty.length === 0) return { predictions, weights };
    if (p.onEmpty === "throw") failEmptyRows(fn, empty, queries, offset, p.kernel.name, "key", p.shift);
    const flag = new Uint8Array(m);
    for (const i of empty) flag[i] = 1;
    const isEmpty = tf.tensor2d(flag, [m, 1], "bool");
    const nearest = nearestWeights(queries, p.keys, p.widths, p.centre);
    return {
      predictions: tf.where(isEmpty, tf.matMul(nearest, p.values), predictions) as tf.Tensor2D,
      weights: weights === undefined ? undefined : (tf.where(isEmpty, nearest, weights) as tf.Tensor2D),
    };
  });
}

/**
 * Backends on which the dense path evaluates the Gaussian's predictions as Σ e^ℓ v / Σ e^ℓ, the
 * sum of weights from the same product as the values', instead of through tf.softmax: on cpu,
 * softmax took 267 ns per element and exp 24; on tensorflow, 1.5 against 0.7 (2 threads, at
 * 1024 × 4096). The wasm backend's softmax has a vectorised exponential and tf.exp does not
 * (1.4 against 9 ns per element), so it keeps softmax.
 */
const DENSE_EXP = new Set(["cpu", "tensorflow"]);

/**
 * Below this sum of unshifted weights e^ℓ (the nearest key farther than about 5.3σ), a query is
 * pooled again through softmax, which shifts its log-weights by their maximum: above it, the
 * largest terms are at least 2⁻²⁰/n and their products with the values stay normal floats.
 */
const EXP_FLOOR = 2 ** -20;

/** The Gaussian's predictions for a chunk as Σ e^ℓ v / Σ e^ℓ (see {@link DENSE_EXP}). */
function poolExp(
  fn: string,
  p: Prepared,
  queries: tf.Tensor2D,
  offset: number,
  valuesWithOnes: tf.Tensor2D,
): tf.Tensor2D {
  const m = queries.shape[0];
  const k = p.values.shape[1];
  const [predictions, total] = tf.tidy(() => {
    const e = tf.exp(kernelLogits(queries, p.keys, p.widths, p.kernel, p.centre));
    const pooled = tf.matMul(e, valuesWithOnes);
    const sum = tf.slice(pooled, [0, k], [m, 1]);
    return [tf.div(tf.slice(pooled, [0, 0], [m, k]), sum), sum];
  });
  const totals = total.dataSync();
  total.dispose();
  const far: number[] = [];
  for (let i = 0; i < m; i++) if (!((totals[i] as number) >= EXP_FLOOR)) far.push(i);
  if (far.length === 0) return predictions as tf.Tensor2D;
  try {
    const out = predictions.dataSync().slice() as Float32Array;
    const rows = tf.tidy(() => tf.gather(queries, tf.tensor1d(far, "int32")) as tf.Tensor2D);
    const again = (() => {
      try {
        return poolShifted(fn, p, rows, offset, false).predictions;
      } finally {
        rows.dispose();
      }
    })();
    const data = again.dataSync();
    again.dispose();
    far.forEach((i, r) => out.set(data.subarray(r * k, (r + 1) * k), i * k));
    return tf.tensor2d(out, [m, k]);
  } finally {
    predictions.dispose();
  }
}

/**
 * Predictions (and the weights, when asked) through softmax of the log-weights, shifted by each
 * row's maximum, with the empty-row policy.
 */
function poolShifted(
  fn: string,
  p: Prepared,
  queries: tf.Tensor2D,
  offset: number,
  wantWeights: boolean,
): { predictions: tf.Tensor2D; weights?: tf.Tensor2D } {
  const logits = kernelLogits(queries, p.keys, p.widths, p.kernel, p.centre);
  try {
    const empty = p.neverEmpty
      ? []
      : findEmpty(fn, logits, queries, offset, p.kernel, p.onEmpty, "key", p.shift);
    return tf.tidy(() => {
      const nearest = () => nearestWeights(queries, p.keys, p.widths, p.centre);
      const { weights } = softmaxWithEmpty(
        logits,
        empty,
        p.onEmpty,
        Number.isFinite(p.kernel.support),
        nearest,
      );
      return {
        predictions: tf.matMul(weights, p.values) as tf.Tensor2D,
        weights: wantWeights ? weights : undefined,
      };
    });
  } finally {
    logits.dispose();
  }
}

/**
 * Pools a chunk of queries over many keys, {@link KEY_BLOCK} keys at a time: per block, each row's
 * largest log-weight M_b, Σ exp(ℓ − M_b) and Σ exp(ℓ − M_b) v, in float32; then, in float64, the
 * blocks rescaled to the row's overall maximum and added. The same softmax pooling, with the long
 * sums done where float32 cannot drift.
 */
function poolBlocked(fn: string, p: Prepared, queries: tf.Tensor2D, offset: number): tf.Tensor2D {
  const n = p.keys.shape[0];
  const m = queries.shape[0];
  const k = p.values.shape[1];
  const nb = Math.ceil(n / KEY_BLOCK);
  // All blocks at once: the logits padded with −∞ to nb × KEY_BLOCK keys and viewed as
  // [m, nb, KEY_BLOCK]; the values as [nb, KEY_BLOCK, k] for one batched product.
  const sums = tf.tidy(() => {
    const pad = nb * KEY_BLOCK - n;
    const logits = kernelLogits(queries, p.keys, p.widths, p.kernel, p.centre);
    const padded =
      pad === 0
        ? logits
        : tf.pad(
            logits,
            [
              [0, 0],
              [0, pad],
            ],
            Number.NEGATIVE_INFINITY,
          );
    const blocked = tf.reshape(padded, [m, nb, KEY_BLOCK]);
    const max = tf.max(blocked, 2, true);
    // A row with no key of positive weight in a block (max −∞) gets nothing from it.
    const shift = tf.where(tf.isFinite(max), max, tf.zerosLike(max));
    const e = tf.exp(tf.sub(blocked, shift));
    const values =
      pad === 0
        ? p.values
        : tf.pad(p.values, [
            [0, pad],
            [0, 0],
          ]);
    const num = tf.matMul(tf.transpose(e, [1, 0, 2]), tf.reshape(values, [nb, KEY_BLOCK, k])); // [nb, m, k]
    return [tf.reshape(max, [m, nb]), tf.sum(e, 2), num];
  });
  const [maxData, denData, numData] = sums.map((t) => t.dataSync() as Float32Array) as [
    Float32Array,
    Float32Array,
    Float32Array,
  ];
  tf.dispose(sums);
  const blocks = Array.from({ length: nb }, (_, bIndex) => ({
    max: { length: m, at: (i: number) => maxData[i * nb + bIndex] as number },
    den: (i: number) => denData[i * nb + bIndex] as number,
    num: (i: number, c: number) => numData[(bIndex * m + i) * k + c] as number,
  }));
  const out = new Float32Array(m * k);
  const empty: number[] = [];
  const acc = new Float64Array(k);
  for (let i = 0; i < m; i++) {
    let top = Number.NEGATIVE_INFINITY;
    for (const b of blocks) top = Math.max(top, b.max.at(i));
    if (top === Number.NEGATIVE_INFINITY) {
      empty.push(i);
      continue;
    }
    acc.fill(0);
    let total = 0;
    for (const b of blocks) {
      const bm = b.max.at(i);
      if (bm === Number.NEGATIVE_INFINITY) continue;
      const scale = Math.exp(bm - top);
      total += b.den(i) * scale;
      for (let c = 0; c < k; c++) acc[c] = (acc[c] as number) + b.num(i, c) * scale;
    }
    for (let c = 0; c < k; c++) out[i * k + c] = (acc[c] as number) / total;
  }
  if (empty.length > 0) fillEmpty(fn, p, queries, offset, empty, out);
  return tf.tensor2d(out, [m, k]);
}

/** The blocked path's empty queries, by the policy: an error, NaN, or the nearest keys' values. */
function fillEmpty(
  fn: string,
  p: Prepared,
  queries: tf.Tensor2D,
  offset: number,
  empty: number[],
  out: Float32Array,
): void {
  const k = p.values.shape[1];
  const compact = Number.isFinite(p.kernel.support);
  if (compact && p.onEmpty === "throw")
    failEmptyRows(fn, empty, queries, offset, p.kernel.name, "key", p.shift);
  if (compact && p.onEmpty === "nan") {
    for (const i of empty) out.fill(Number.NaN, i * k, (i + 1) * k);
    return;
  }
  const near = tf.tidy(() => {
    const rows = tf.gather(queries, tf.tensor1d(empty, "int32")) as tf.Tensor2D;
    return tf.matMul(nearestWeights(rows, p.keys, p.widths, p.centre), p.values);
  });
  const data = near.dataSync();
  near.dispose();
  empty.forEach((i, r) => out.set(data.subarray(r * k, (r + 1) * k), i * k));
}
