/**
 * The chunked, cached loss engine behind every bandwidth loss, the risk and the fits.
 *
 * Numerics, all in float32: the weights are a softmax of log-kernel scores, so they stay finite
 * (and sum to 1) however small σ is. Leaving a point out removes its own score before the
 * softmax, never its weight afterwards (subtracting a weight that tends to 1 cancels
 * catastrophically): when log k = c·r² (the Gaussian) its own squared distance is replaced by a
 * huge finite number, so exp(−BIG/2σ²) underflows to exactly 0 and the derivative through it,
 * 0·BIG, stays finite; other kernels add a −∞ mask. Values are centred on their mean first (the
 * estimate is equivariant under shifts of the values, and centring keeps the residuals accurate).
 *
 * Cost: the pairwise squared differences do not depend on σ, so they are formed once per
 * block of rows and, when they fit in {@link BANDWIDTH_CACHE_FLOATS}, kept across
 * evaluations; each evaluation then costs a scale, a softmax and a matrix product per block,
 * and its gradient three more elementwise passes (see `softmaxPool`). Blocks bound the memory
 * to about `chunkSize × n` floats per temporary, so n in the tens of thousands is fine.
 */
import * as tf from "@tensorflow/tfjs-core";

import { describe, fail } from "./errors";
import { fusedLoss } from "./fused";
import { checkDenseMemory } from "./memory";
import { disposeOnFailure } from "./ownership";
import { resolveKernel, type Kernel } from "./kernels";
import {
  checkInteger,
  checkPositive,
  type Sigma,
  toCentredKeys,
  toCentredPoints,
  toValues,
} from "./validate";

/** What {@link fitBandwidth} minimises: the leave-one-out loss or the (degenerate) training loss. */
export type BandwidthObjective = "loo" | "train";

/** The valid {@link BandwidthObjective}s. */
export const BANDWIDTH_OBJECTIVES: readonly BandwidthObjective[] = ["loo", "train"];

/** Pairs per block of rows in the chunked loss (2²¹ float32 values = 8 MiB per temporary). */
export const BANDWIDTH_CHUNK_PAIRS = 1 << 21;

/**
 * Floats of σ-independent data (squared differences; −∞ masks for non-Gaussian LOO) kept across
 * evaluations of one loss (2²⁵ floats = 128 MiB). Above this they are rebuilt per evaluation.
 */
export const BANDWIDTH_CACHE_FLOATS = 1 << 25;

/** Options shared by the loss functions. */
export interface BandwidthLossOptions {
  /** Kernel width σ > 0: one number, or one per input dimension. Default 1. */
  readonly sigma?: Sigma;
  /**
   * Evaluate the loss only at these key indices (each in [0, n), e.g. a random subset when n
   * is large, or the points away from a boundary); the pool of keys is always all n.
   * Default: every key.
   */
  readonly rows?: readonly number[] | Int32Array;
  /**
   * Treat inputs as periodic with this period in every dimension (a torus): differences are
   * wrapped to [−period/2, period/2] before scaling. Default: not periodic.
   */
  readonly period?: number;
  /** Rows per block; peak memory is about `chunkSize × n` floats per temporary. Default 2²¹ / n. */
  readonly chunkSize?: number;
  /**
   * Floats of σ-independent data to keep across evaluations (0 recomputes everything each
   * time). Default {@link BANDWIDTH_CACHE_FLOATS}.
   */
  readonly cacheFloats?: number;
}

/** The loss and its gradient in log σ, from {@link bandwidthLossAndGradient}. */
export interface LossAndGradient {
  /** The loss at σ. */
  readonly loss: number;
  /** ∂loss / ∂log σ_d, one entry per width (1 for a scalar σ, d for one width per dimension). */
  readonly gradient: number[];
}

export type Mode = "loo" | "train" | "heldout";

interface Block {
  readonly size: number;
  /** Queries of the block `[size, d]`. */
  readonly queries: tf.Tensor2D;
  /** Targets of the block, centred `[size, k]`. */
  readonly targets: tf.Tensor2D;
  /** Key index of each row (leave-one-out only). */
  readonly index?: Int32Array;
  /** Cached squared differences: one `[size, n]` sum, or d of them per dimension. */
  parts?: tf.Tensor2D[];
  /** Cached leave-one-out mask `[size, n]` for non-Gaussian kernels: 0, and −∞ at each row's own key. */
  mask?: tf.Tensor2D;
}

/**
 * σ is clamped at this multiple of the largest pairwise distance: there every Gaussian kernel
 * value is 1 − O(10⁻⁸), i.e. exactly 1 in float32, so the clamp changes no result.
 */
const SIGMA_MAX_FACTOR = 1e4;

/**
 * Gaussian leave-one-out puts this multiple of the largest squared distance on each row's own
 * entry of the squared differences instead of adding a −∞ mask: its weight exp(−BIG/2σ²)
 * underflows to exactly 0 for every σ up to the clamp (exp(−5000)), and the derivative through
 * it, 0 · BIG, stays finite. This saves a `[rows, n]` mask in memory and a pass per evaluation.
 */
const SELF_DISTANCE_FACTOR = 1e12;

/** The largest float32 number. */
const F32_MAX = 3.4028234663852886e38;

/** Checks a coarse grid of widths (multiples of the keys' spread). */
export function checkGrid(fn: string, grid: unknown): readonly number[] {
  if (!Array.isArray(grid) || grid.length === 0) {
    fail(fn, `options.grid must be a non-empty array of positive multiples, got ${describe(grid)}`);
  }
  grid.forEach((c, i) => checkPositive(fn, `options.grid[${i}]`, c));
  return grid as readonly number[];
}

/**
 * Validates the data and options of a loss call and prepares its {@link LossEngine}; the caller
 * disposes of it. `heldOut` evaluates at other points (the held-out loss and the risk).
 */
export function prepareProblem(
  fn: string,
  mode: Mode,
  keysIn: unknown,
  valuesIn: unknown,
  kernelIn: unknown,
  options: BandwidthLossOptions,
  heldOut?: { queries: unknown; targets: unknown },
  names: readonly [string, string] = ["values", "targets"],
): LossEngine {
  const [valuesArg, targetsArg] = names;
  const kernel = resolveKernel(fn, kernelIn);
  const period =
    options.period === undefined ? undefined : checkPositive(fn, "options.period", options.period);
  const owned: tf.Tensor[] = [];
  return disposeOnFailure(owned, () => {
    // Keys (and held-out queries) centred together in float64: a large common offset keeps its spacing.
    const centred = heldOut === undefined ? undefined : toCentredPoints(fn, keysIn, heldOut.queries);
    const keys = centred?.keys ?? toCentredKeys(fn, keysIn);
    owned.push(keys);
    if (centred) owned.push(centred.queries);
    const { values: rawValues } = toValues(fn, valuesArg, valuesIn);
    owned.push(rawValues);
    const n = keys.shape[0];
    const dims = keys.shape[1];
    if (rawValues.shape[0] !== n) {
      fail(fn, `keys and ${valuesArg} must have the same length, got ${n} and ${rawValues.shape[0]}`);
    }
    if (mode === "loo" && n < 2) fail(fn, `leave-one-out needs at least 2 keys, got ${n}`);
    const mean = tf.mean(rawValues, 0, true);
    owned.push(mean);
    const values = tf.sub(rawValues, mean) as tf.Tensor2D;
    owned.push(values);

    let queries: tf.Tensor2D;
    let targets: tf.Tensor2D;
    let index: Int32Array | undefined;
    if (heldOut !== undefined) {
      queries = (centred as { queries: tf.Tensor2D }).queries;
      const { values: rawTargets } = toValues(fn, targetsArg, heldOut.targets);
      owned.push(rawTargets);
      if (rawTargets.shape[0] !== queries.shape[0]) {
        fail(
          fn,
          `queries and ${targetsArg} must have the same length, got ${queries.shape[0]} and ${rawTargets.shape[0]}`,
        );
      }
      if (rawTargets.shape[1] !== values.shape[1]) {
        fail(
          fn,
          `${targetsArg} and ${valuesArg} must have the same number of columns, got ${rawTargets.shape[1]} and ${values.shape[1]}`,
        );
      }
      targets = tf.sub(rawTargets, mean) as tf.Tensor2D;
      owned.push(targets);
    } else if (options.rows !== undefined) {
      index = checkRows(fn, options.rows, n);
      const idx = tf.tensor1d(index, "int32");
      owned.push(idx);
      queries = tf.gather(keys, idx) as tf.Tensor2D;
      targets = tf.gather(values, idx) as tf.Tensor2D;
      owned.push(queries, targets);
      if (mode !== "loo") index = undefined;
    } else {
      queries = keys;
      targets = values;
      if (mode === "loo") index = Int32Array.from({ length: n }, (_, i) => i);
    }
    const m = queries.shape[0];
    const chunk =
      options.chunkSize !== undefined
        ? checkInteger(fn, "options.chunkSize", options.chunkSize)
        : Math.max(1, Math.floor(BANDWIDTH_CHUNK_PAIRS / n));
    checkDenseMemory(fn, Math.min(chunk, m), n, dims, kernel, "pass a smaller options.chunkSize");

    const cacheFloats = options.cacheFloats ?? BANDWIDTH_CACHE_FLOATS;
    checkInteger(fn, "options.cacheFloats", cacheFloats, 0);
    const { std: spread, range } = columnStats(keys);
    const blocks: Block[] = [];
    for (let start = 0; start < m; start += chunk) {
      const size = Math.min(chunk, m - start);
      const block: Block = {
        size,
        queries: tf.slice(queries, [start, 0], [size, -1]) as tf.Tensor2D,
        targets: tf.slice(targets, [start, 0], [size, -1]) as tf.Tensor2D,
        index: index?.subarray(start, start + size),
      };
      owned.push(block.queries, block.targets);
      blocks.push(block);
    }
    return new LossEngine(
      fn,
      {
        keys,
        values,
        queries,
        targets,
        index,
        blocks,
        kernel,
        period,
        dims,
        n,
        m,
        spread,
        range,
        cacheFloats,
      },
      owned,
    );
  });
}

function checkRows(fn: string, rows: unknown, n: number): Int32Array {
  if (!Array.isArray(rows) && !(rows instanceof Int32Array)) {
    fail(fn, `options.rows must be an array of key indices, got ${describe(rows)}`);
  }
  const list = rows as ArrayLike<number>;
  if (list.length === 0) fail(fn, "options.rows must not be empty");
  const out = new Int32Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const r = list[i];
    if (typeof r !== "number" || !Number.isInteger(r) || r < 0 || r >= n) {
      fail(fn, `options.rows must hold integers in [0, ${n}), got ${describe(r)} at index ${i}`);
    }
    out[i] = r;
  }
  return out;
}

/** Population standard deviation and range of each column, in float64 (a zero spread becomes 1). */
function columnStats(points: tf.Tensor2D): { std: number[]; range: number[] } {
  const [n, d] = points.shape;
  const data = points.dataSync();
  const std: number[] = [];
  const range: number[] = [];
  for (let j = 0; j < d; j++) {
    let sum = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = data[i * d + j] as number;
      sum += v;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const mean = sum / n;
    let ss = 0;
    for (let i = 0; i < n; i++) ss += ((data[i * d + j] as number) - mean) ** 2;
    const sd = Math.sqrt(ss / n);
    std.push(sd > 0 ? sd : 1);
    range.push(hi > lo ? hi - lo : 1);
  }
  return { std, range };
}

interface ProblemData {
  keys: tf.Tensor2D;
  values: tf.Tensor2D;
  /** All rows' queries `[m, d]` and centred targets `[m, k]`, and for leave-one-out their key indices. */
  queries: tf.Tensor2D;
  targets: tf.Tensor2D;
  index?: Int32Array;
  blocks: Block[];
  kernel: Kernel;
  period: number | undefined;
  dims: number;
  n: number;
  m: number;
  spread: number[];
  range: number[];
  cacheFloats: number;
}

/**
 * One loss problem, prepared: the data cut into blocks of rows, the σ-independent squared
 * differences cached per block while they fit, and the evaluations that the losses, the risk
 * and the fits call with log σ. Owns its tensors until {@link LossEngine.dispose}.
 */
export class LossEngine {
  readonly dims: number;
  /** Standard deviation of the keys in each dimension (for the coarse grid). */
  readonly spread: number[];
  private readonly data: ProblemData;
  private readonly owned: tf.Tensor[];
  /** When log k = c·r² (the Gaussian), c: logits straight from the squared distances. */
  private readonly quadratic: number | undefined;
  /** The keys' columns, reduced to [0, period) on a torus: d × `[1, n]`. */
  private readonly keyColumns: tf.Tensor2D[];
  private readonly pool: (logits: tf.Tensor) => tf.Tensor;
  /** Largest squared difference per dimension (half a period on a torus), and their sum. */
  private readonly maxSquared: number[];
  private readonly maxTotal: number;
  /** The squared distance put on a row's own key for Gaussian leave-one-out. */
  private readonly selfDistance: number;
  private cacheLeft: number;
  private perDimCache: boolean | undefined;
  private disposed = false;

  constructor(
    private readonly fn: string,
    data: ProblemData,
    owned: tf.Tensor[],
  ) {
    this.data = data;
    this.owned = owned;
    this.dims = data.dims;
    this.spread = data.spread;
    this.quadratic = data.kernel.logQuadratic;
    const { keys, values, period, dims } = data;
    this.keyColumns = tf.tidy(() => tf.split(tf.transpose(this.reduce(keys)), dims, 0)) as tf.Tensor2D[];
    owned.push(...this.keyColumns);
    const valuesRow = values.shape[1] === 1 ? (tf.reshape(values, [1, -1]) as tf.Tensor2D) : undefined;
    if (valuesRow) owned.push(valuesRow);
    this.pool = softmaxPool(values, valuesRow);
    this.maxSquared = data.range.map((r) => (period === undefined ? r * r : Math.min(r, period / 2) ** 2));
    this.maxTotal = this.maxSquared.reduce((a, b) => a + b, 0);
    this.selfDistance = Math.min(SELF_DISTANCE_FACTOR * this.maxTotal, 1e37);
    this.cacheLeft = data.cacheFloats;
  }

  /**
   * Largest useful log σ for `p` widths: beyond it the kernel is constant to float32 precision
   * over every pair, so the loss no longer changes (widths above it are clamped to it).
   */
  maxLogSigma(p: number): number[] {
    return p === 1
      ? [Math.log(SIGMA_MAX_FACTOR * Math.sqrt(this.maxTotal))]
      : this.maxSquared.map((s) => Math.log(SIGMA_MAX_FACTOR * Math.sqrt(s)));
  }

  /** The loss (mean squared residual) at log σ, and its gradient in log σ when asked. */
  evaluate(logSigma: number[], wantGradient: boolean): LossAndGradient {
    const fused = this.fusedEvaluate(logSigma);
    if (fused !== undefined) return fused;
    const p = logSigma.length;
    const limit = this.maxLogSigma(p);
    let total = 0;
    const grad = new Array<number>(p).fill(0);
    const extreme = this.extreme(logSigma);
    this.eachBlock(logSigma, (block, parts, mask, t) => {
      const f = this.blockLoss(block, parts, mask, extreme);
      if (wantGradient) {
        const { value, grad: g } = tf.tidy(() => tf.valueAndGrad(f)(t));
        total += value.dataSync()[0] as number;
        const gv = g.dataSync();
        for (let j = 0; j < p; j++) grad[j] = (grad[j] as number) + (gv[j] as number);
        tf.dispose([value, g]);
      } else {
        const value = tf.tidy(() => f(t));
        total += value.dataSync()[0] as number;
        value.dispose();
      }
    });
    let loss = total / this.data.m;
    // Past the clamp the float32 loss is flat: its derivative there is exactly 0.
    // Likewise below the extreme widths, where the weights are the nearest keys' (see extreme()).
    let gradient = grad.map((v, j) =>
      (logSigma[j] as number) > (limit[j] as number) || extreme ? 0 : v / this.data.m,
    );
    if (!Number.isFinite(loss)) {
      // A compact kernel left some row with no key in its support (0/0): the width is too small.
      loss = Infinity;
      gradient = gradient.map(() => Number.NaN);
    }
    return { loss, gradient };
  }

  /**
   * The loss and its gradient in one fused pass per row (see `fusedLoss`), where the backend has
   * it: for a kernel with log k = c·r² (the Gaussian), off a torus, at widths of ordinary size
   * (extreme ones take the tfjs path, which ranks keys without overflow). The gradient comes with
   * the loss at no extra pass, so it is always returned.
   */
  private fusedEvaluate(logSigma: number[]): LossAndGradient | undefined {
    const { period, dims, m } = this.data;
    if (this.quadratic === undefined || period !== undefined || this.extreme(logSigma)) return undefined;
    const p = logSigma.length;
    const limit = this.maxLogSigma(p);
    const clamped = logSigma.map((v, j) => Math.min(v, limit[j] as number));
    const inverse = Array.from({ length: dims }, (_, e) => Math.exp(-(clamped[p === 1 ? 0 : e] as number)));
    if (!inverse.every((s) => s > 0 && Number.isFinite(Math.fround(s)))) return undefined;
    const out = fusedLoss({
      queries: this.data.queries,
      targets: this.data.targets,
      keys: this.data.keys,
      values: this.data.values,
      self: this.data.index,
      inverseWidths: inverse,
      coef: this.quadratic,
    });
    if (out === undefined) return undefined;
    let total = 0;
    const perDim = new Array<number>(dims).fill(0);
    for (let i = 0; i < m; i++) {
      total += out[i * (dims + 1)] as number;
      for (let e = 0; e < dims; e++)
        perDim[e] = (perDim[e] as number) + (out[i * (dims + 1) + 1 + e] as number);
    }
    const grad = p === 1 ? [perDim.reduce((a, b) => a + b, 0)] : perDim;
    const loss = total / m;
    if (!Number.isFinite(loss)) return { loss: Infinity, gradient: grad.map(() => Number.NaN) };
    // Past the clamp the float32 loss is flat: its derivative there is exactly 0.
    return {
      loss,
      gradient: grad.map((v, j) => ((logSigma[j] as number) > (limit[j] as number) ? 0 : v / m)),
    };
  }

  /** Bias² and variance sums of held-out predictions (held-out mode, forward only). */
  risk(logSigma: number[]): { bias2: number; spread: number } {
    let bias2 = 0;
    let spread = 0;
    const extreme = this.extreme(logSigma);
    this.eachBlock(logSigma, (block, parts, mask, t) => {
      const sums = tf.tidy(() => {
        const weights = tf.softmax(this.blockLogits(parts, mask, t, extreme)) as tf.Tensor2D;
        const bias = tf.sub(tf.matMul(weights, this.data.values), block.targets);
        return tf.stack([tf.sum(tf.square(bias)), tf.sum(tf.square(weights))]);
      });
      const [b, s] = sums.dataSync();
      sums.dispose();
      bias2 += b as number;
      spread += s as number;
    });
    return { bias2: bias2 / this.data.m, spread: spread / this.data.m };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.clearCache();
    tf.dispose(this.owned);
  }

  /** Coordinates reduced to [0, period) on a torus, so any difference lies in (−period, period). */
  private reduce(x: tf.Tensor): tf.Tensor {
    const period = this.data.period;
    return period === undefined ? x : tf.sub(x, tf.mul(tf.floor(tf.div(x, period)), period));
  }

  /** Squared differences of a block: the sum over dimensions, or one per dimension. */
  private squaredDifferences(block: Block, perDim: boolean): tf.Tensor2D[] {
    const { period, dims } = this.data;
    return tf.tidy(() => {
      const cols = tf.split(this.reduce(block.queries), dims, 1) as tf.Tensor2D[];
      let parts = cols.map((q, j) => {
        const key = this.keyColumns[j] as tf.Tensor2D;
        if (period === undefined) return tf.squaredDifference(q, key);
        // |δ| < period after reduction; the shorter way round the circle is
        // min(|δ|, period − |δ|) = period/2 − ||δ| − period/2| (tf.minimum is slow on wasm).
        const half = period / 2;
        const delta = tf.abs(tf.sub(q, key));
        return tf.squaredDifference(tf.abs(tf.sub(delta, half)), half);
      }) as tf.Tensor2D[];
      if (!perDim && dims > 1) parts = [tf.addN(parts) as tf.Tensor2D];
      if (this.quadratic !== undefined && block.index !== undefined) {
        const size = block.size;
        const at = new Int32Array(2 * size);
        block.index.forEach((k, r) => {
          at[2 * r] = r;
          at[2 * r + 1] = k;
        });
        const indices = tf.tensor2d(at, [size, 2], "int32");
        const updates = tf.fill([size], this.selfDistance);
        parts = parts.map((d) => tf.tensorScatterUpdate(d, indices, updates) as tf.Tensor2D);
      }
      return parts;
    });
  }

  /** The leave-one-out mask of a block `[size, n]`: 0, and −∞ at each row's own key. */
  private looMask(block: Block): tf.Tensor2D {
    // A fresh buffer each time: the cpu backend keeps the array it is given, without copying.
    const { size } = block;
    const n = this.data.n;
    const buf = new Float32Array(size * n);
    const index = block.index as Int32Array;
    for (let r = 0; r < size; r++) buf[r * n + (index[r] as number)] = Number.NEGATIVE_INFINITY;
    return tf.tensor2d(buf, [size, n]);
  }

  private clearCache(): void {
    for (const b of this.data.blocks) {
      tf.dispose(b.parts ?? []);
      b.parts = undefined;
      b.mask?.dispose();
      b.mask = undefined;
    }
  }

  /** A block's squared differences (and LOO mask), from the cache or made now. */
  private blockParts(
    block: Block,
    perDim: boolean,
  ): { parts: tf.Tensor2D[]; mask?: tf.Tensor2D; cached: boolean } {
    if (this.perDimCache !== perDim) {
      // The cache holds one layout (summed or per dimension); switching layouts rebuilds it.
      this.clearCache();
      this.cacheLeft = this.data.cacheFloats;
      this.perDimCache = perDim;
    }
    if (block.parts !== undefined) return { parts: block.parts, mask: block.mask, cached: true };
    const parts = this.squaredDifferences(block, perDim);
    const mask = block.index !== undefined && this.quadratic === undefined ? this.looMask(block) : undefined;
    const floats = block.size * this.data.n * (parts.length + (mask ? 1 : 0));
    if (floats <= this.cacheLeft) {
      this.cacheLeft -= floats;
      block.parts = parts;
      block.mask = mask;
      return { parts, mask, cached: true };
    }
    return { parts, mask, cached: false };
  }

  /**
   * Whether σ is so small (min σ² below 10⁻³⁰ times the largest squared distance) that c·r²
   * could overflow float32 for every key of a row. Past that point the weights are the
   * nearest-key weights to float32 precision, so the loss is flat there.
   */
  private extreme(logSigma: readonly number[]): boolean {
    return (
      this.quadratic !== undefined && Math.min(...logSigma) < 0.5 * (Math.log(this.maxTotal) - 30 * Math.LN10)
    );
  }

  /** log-kernel scores of a block from t = log σ (`[p]`), −∞ on each row's own key for LOO. */
  private blockLogits(
    parts: tf.Tensor2D[],
    mask: tf.Tensor2D | undefined,
    t: tf.Tensor,
    extreme = false,
  ): tf.Tensor {
    const scaled = (coef: tf.Tensor): tf.Tensor =>
      parts.length === 1
        ? tf.mul(parts[0] as tf.Tensor2D, tf.reshape(coef, []))
        : tf.addN(parts.map((d, j) => tf.mul(d, tf.reshape(tf.slice(coef, [j], [1]), []))));
    if (extreme && this.quadratic !== undefined) {
      // Rank in units of the smallest width (factors (σ_min/σ_j)² ≤ 1), shift each row so that its
      // nearest key scores 0 (a softmax ignores the shift), then scale by 1/σ_min², capped at the
      // float32 maximum: the nearest keys share the weight, every other key gets 0, never NaN.
      const tMin = tf.min(t);
      const rho2 = scaled(tf.exp(tf.mul(tf.sub(t, tMin), -2)));
      const shifted = tf.sub(rho2, tf.min(rho2, 1, true));
      const scale = tf.minimum(tf.exp(tf.mul(tMin, -2)), F32_MAX);
      return tf.mul(shifted, tf.mul(scale, this.quadratic));
    }
    const inv = tf.exp(tf.mul(t, -2)); // 1/σ², [p]
    let logits =
      this.quadratic !== undefined
        ? scaled(tf.mul(inv, this.quadratic))
        : this.data.kernel.logValue(scaled(inv));
    if (mask !== undefined) logits = tf.add(logits, mask);
    return logits;
  }

  /** Sum over the block of ‖f(q) − t‖², as a function of t = log σ. */
  private blockLoss(
    block: Block,
    parts: tf.Tensor2D[],
    mask: tf.Tensor2D | undefined,
    extreme: boolean,
  ): (t: tf.Tensor) => tf.Scalar {
    return (t) => {
      const residual = tf.sub(
        this.pool(this.blockLogits(parts, mask, t, extreme)) as tf.Tensor2D,
        block.targets,
      );
      return tf.sum(tf.square(residual)) as tf.Scalar;
    };
  }

  /** Runs `body` on every block with its (possibly cached) squared differences and t = log σ. */
  private eachBlock(
    logSigma: number[],
    body: (block: Block, parts: tf.Tensor2D[], mask: tf.Tensor2D | undefined, t: tf.Tensor) => void,
  ): void {
    if (this.disposed) fail(this.fn, "internal: problem used after dispose");
    const p = logSigma.length;
    const limit = this.maxLogSigma(p);
    const t = tf.tensor1d(
      logSigma.map((v, j) => Math.min(v, limit[j] as number)),
      "float32",
    );
    try {
      for (const block of this.data.blocks) {
        const { parts, mask, cached } = this.blockParts(block, p > 1);
        try {
          body(block, parts, mask, t);
        } finally {
          if (!cached) tf.dispose([...parts, ...(mask ? [mask] : [])]);
        }
      }
    } finally {
      t.dispose();
    }
  }
}

/**
 * Attention pooling softmax(logits) · values as one differentiable step in `logits`, with its
 * vector-Jacobian product written out (values are constants here):
 *
 *   f_i = Σ_j w_ij v_j,  w = softmax(logits)  ⇒  ∂L/∂logits_ij = w_ij ⟨∂L/∂f_i, v_j − f_i⟩.
 *
 * tfjs would otherwise differentiate the matrix product and the softmax separately, building a
 * `[m, n]` outer product by a slow k = 1 matrix multiply; this uses three elementwise passes
 * (`row` is `values` as `[1, n]` when k = 1).
 * The tests check it against a float64 derivative of the loss.
 */
function softmaxPool(values: tf.Tensor2D, row: tf.Tensor2D | undefined): (logits: tf.Tensor) => tf.Tensor {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [logits, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const weights = tf.softmax(logits);
    const pooled = tf.matMul(weights as tf.Tensor2D, values);
    save([weights, pooled]);
    return {
      value: pooled,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [w, f] = saved as [tf.Tensor2D, tf.Tensor2D];
        if (row !== undefined) return tf.mul(w, tf.mul(dy, tf.sub(row, f)));
        const dyv = tf.matMul(dy as tf.Tensor2D, values, false, true); // [m, n]: ⟨dy_i, v_j⟩
        return tf.mul(w, tf.sub(dyv, tf.sum(tf.mul(dy, f), 1, true)));
      },
    };
  });
}
