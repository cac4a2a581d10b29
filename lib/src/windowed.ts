/**
 * Windowed Nadaraya-Watson regression for one-dimensional keys: each query looks only at the
 * keys its kernel can see, found by binary search in the sorted keys, instead of at all n.
 *
 * - Compact kernels (support |u| < 1, u = (key − query)/σ) are exact: keys outside the window
 *   have weight 0. For the polynomial ones (boxcar, triangular/epanechikov, epanechnikov,
 *   biweight, tricube) the window sums come from a segment tree of moments
 *   Σ v ((x − c)/σ)^p kept about each node's centre c, in O(log n) nodes per query, so a whole
 *   prediction costs O((n + m) log n) whatever the width; small windows are summed directly.
 *   Other compact kernels (cosine, custom ones) sum their window directly.
 * - The Gaussian has unbounded support and is truncated with a bound: keys whose weight is below
 *   `tolerance / n` times the nearest key's are dropped, which changes each prediction by at
 *   most `tolerance × (max v − min v)` (see {@link windowedNadarayaWatson}). Its windows are
 *   summed directly, in O(m log n + Σ window sizes).
 *
 * Everything is computed in float64 JavaScript and returned as float32 tensors.
 */
import * as tf from "@tensorflow/tfjs-core";

import { describe, fail } from "./errors";
import { resolveKernel, type Kernel, type KernelName } from "./kernels";
import { checkOnEmpty, failEmpty, type OnEmpty } from "./empty";
import { checkOptions, checkSigma, readMatrix, type TensorInput } from "./validate";

/** Default truncation tolerance of the Gaussian window (relative to the range of the values). */
export const DEFAULT_WINDOW_TOLERANCE = 1e-6;

/** Windows with fewer keys than this are summed directly rather than through the moment tree. */
export const DEFAULT_DIRECT_WINDOW = 64;

/** Options for {@link windowedNadarayaWatson}. */
export interface WindowedOptions {
  /** Kernel width σ > 0 (one number: the keys are one-dimensional). Default 1. */
  readonly sigma?: number | readonly number[];
  /**
   * Gaussian only: keys with weight below `tolerance / n` times the nearest key's weight are
   * dropped, so each prediction is within `tolerance × (max v − min v)` of the untruncated one.
   * In (0, 1). Default {@link DEFAULT_WINDOW_TOLERANCE}.
   */
  readonly tolerance?: number;
  /** Queries with no key inside a compact kernel's support: as in `nadarayaWatson`. Default `"throw"`. */
  readonly onEmpty?: OnEmpty;
  /**
   * Windows holding fewer keys than this are summed key by key; larger ones through the moment
   * tree (polynomial kernels only). Default {@link DEFAULT_DIRECT_WINDOW}; 0 always uses the tree.
   */
  readonly directWindow?: number;
}

/** The result of {@link windowedNadarayaWatson}. The caller disposes of `predictions`. */
export interface WindowedResult {
  /** `[nQueries]` for values `[nKeys]`, `[nQueries, k]` for values `[nKeys, k]`. */
  readonly predictions: tf.Tensor;
  /** (query, key) pairs summed one by one (compare with nQueries × nKeys for the dense path). */
  readonly directPairs: number;
  /** Moment-tree nodes combined, over all queries. */
  readonly treeNodes: number;
}

/** Binomial coefficients C(p, i) for p ≤ 9. */
const BINOMIAL: number[][] = Array.from({ length: 10 }, (_, p) => {
  const row = [1];
  for (let i = 1; i <= p; i++) row.push(((row[i - 1] as number) * (p - i + 1)) / i);
  return row;
});

/**
 * Nadaraya-Watson regression with one-dimensional keys, evaluated over each query's window of
 * keys instead of all of them:
 *
 *   f(q) = Σ_{j ∈ W(q)} k((x_j − q)/σ) v_j / Σ_{j ∈ W(q)} k((x_j − q)/σ).
 *
 * For a compact kernel W(q) = {j : |x_j − q| < σ} and the result is the dense estimate. For the
 * Gaussian, with u_min the scaled distance to the nearest key and ε = `tolerance`,
 * W(q) = {j : u_j² ≤ u_min² + 2 ln(n/ε)}: each dropped key weighs less than ε/n of the nearest
 * key, so the dropped mass D is below ε times the kept mass, and
 * |f_W(q) − f(q)| = D/(S_W + D) · |mean of dropped v − f_W(q)| ≤ ε (max v − min v), per column.
 *
 * Keys need not be sorted (they are sorted once, O(n log n)). When to use it: `nadarayaWatson`
 * itself costs well under a nanosecond per (key, query) pair with its fused kernels, so compact
 * kernels gain from the window only once n is in the tens of thousands (σ = 0.3 on [0, 5]: even
 * at n = 16 384, far ahead at 100 000). The Gaussian's window spans about 2σ√(2 ln(n/ε)) and is
 * summed in plain JavaScript, so it beats the dense path only when that is a small part of the
 * keys' range. `npm run bench -- --only windowed` measures both
 * against the dense path (BENCHMARKS.md, "Windowed prediction").
 *
 * @param keys `[n]` or `[n, 1]`.
 * @param values `[n]` or `[n, k]`.
 * @param queries `[m]` or `[m, 1]`.
 * @param kernel a compact kernel or `"gaussian"`. Default `"gaussian"`.
 * @param options σ, the Gaussian's `tolerance`, `onEmpty`, `directWindow`; see {@link WindowedOptions}.
 *
 * @example
 * ```ts
 * const { predictions } = windowedNadarayaWatson([0, 1, 2, 3], [0, 10, 20, 30], [1.2], "epanechnikov", { sigma: 0.5 });
 * predictions.print(); // [10]: only the key at 1 is within 0.5 of 1.2
 * predictions.dispose();
 * ```
 */
export function windowedNadarayaWatson(
  keys: TensorInput,
  values: TensorInput,
  queries: TensorInput,
  kernel: KernelName | Kernel = "gaussian",
  options: WindowedOptions = {},
): WindowedResult {
  const fn = "windowedNadarayaWatson";
  checkOptions(fn, options);
  const k = resolveKernel(fn, kernel);
  const quadratic = k.logQuadratic;
  if (quadratic === undefined && !Number.isFinite(k.support)) {
    fail(
      fn,
      `kernel ${k.name} has unbounded support and no truncation rule; use a compact kernel, "gaussian", or nadarayaWatson`,
    );
  }
  const onEmpty = checkOnEmpty(fn, options.onEmpty);
  const tolerance = options.tolerance ?? DEFAULT_WINDOW_TOLERANCE;
  if (typeof tolerance !== "number" || !(tolerance > 0 && tolerance < 1)) {
    fail(fn, `options.tolerance must be a number in (0, 1), got ${describe(tolerance)}`);
  }
  const directWindow = options.directWindow ?? DEFAULT_DIRECT_WINDOW;
  if (typeof directWindow !== "number" || Number.isNaN(directWindow) || directWindow < 0) {
    fail(fn, `options.directWindow must be a number >= 0, got ${describe(directWindow)}`);
  }
  const [sigma] = checkSigma(fn, options.sigma ?? 1, 1, "options.sigma") as [number];

  const { x, v, cols, vector, q } = readInputs(fn, keys, values, queries);
  const n = x.length;
  const m = q.length;
  const order = sortOrder(x);
  const xs = new Float64Array(n);
  const vs = new Float64Array(n * cols);
  for (let r = 0; r < n; r++) {
    const j = order[r] as number;
    xs[r] = x[j] as number;
    for (let c = 0; c < cols; c++) vs[r * cols + c] = v[j * cols + c] as number;
  }

  const out = new Float32Array(m * cols);
  const num = new Float64Array(cols + 1); // weighted sums of each value column, then the total weight
  let directPairs = 0;
  let treeNodes = 0;
  const empty: number[] = [];
  const poly = k.polynomial;
  const tree = poly ? new MomentTree(xs, vs, cols, sigma, poly.right.length - 1) : undefined;
  // Keys with c(u² − u_min²) < ln(ε/n) are dropped: u² > u_min² + ln(n/ε)/(−c), 2 ln(n/ε) for the Gaussian.
  const lnRatio = quadratic === undefined ? 0 : Math.log(n / tolerance) / -quadratic;

  for (let i = 0; i < m; i++) {
    const qi = q[i] as number;
    num.fill(0);
    let lo: number;
    let hi: number;
    if (quadratic !== undefined) {
      const near = nearestPositions(xs, qi)[0] as number;
      const uMin = (xs[near] as number) - qi;
      const half = Math.sqrt(uMin * uMin + lnRatio * sigma * sigma);
      lo = lowerBound(xs, qi - half);
      hi = upperBound(xs, qi + half);
      // w = exp(c(u² − u_min²)) with u = (x − q)/σ: 1 at the nearest key, never underflowing there.
      const half2 = quadratic / (sigma * sigma);
      const shift = -half2 * uMin * uMin;
      if (cols === 1) {
        let s = 0;
        let t = 0;
        for (let r = lo; r < hi; r++) {
          const d = (xs[r] as number) - qi;
          const w = Math.exp(half2 * d * d + shift);
          s += w * (vs[r] as number);
          t += w;
        }
        num[0] = s;
        num[1] = t;
      } else {
        for (let r = lo; r < hi; r++) {
          const d = (xs[r] as number) - qi;
          const w = Math.exp(half2 * d * d + shift);
          for (let c = 0; c < cols; c++) num[c] = (num[c] as number) + w * (vs[r * cols + c] as number);
          num[cols] = (num[cols] as number) + w;
        }
      }
      directPairs += hi - lo;
    } else {
      // Strictly inside the support: |x − q| < σ.
      lo = firstIndex(xs, (xr) => qi - xr < sigma);
      hi = firstIndex(xs, (xr) => xr - qi >= sigma);
      if (tree && poly && hi - lo >= directWindow) {
        // Keys left of the query use the left polynomial, the rest the right one.
        const mid = Math.max(lo, Math.min(lowerBound(xs, qi), hi));
        treeNodes += tree.accumulate(lo, mid, qi, poly.left, num);
        treeNodes += tree.accumulate(mid, hi, qi, poly.right, num);
      }
      // A window whose weights are all near the edge of the support is summed exactly instead,
      // so the tree's rounding (about 1e-13 of the largest weight) never decides the answer.
      const summed = tree && poly && hi - lo >= directWindow && (num[cols] as number) > 1e-8 * (hi - lo);
      if (!summed) {
        num.fill(0);
        for (let r = lo; r < hi; r++) {
          const w = k.profile(Math.abs(((xs[r] as number) - qi) / sigma));
          if (w === 0) continue;
          for (let c = 0; c < cols; c++) num[c] = (num[c] as number) + w * (vs[r * cols + c] as number);
          num[cols] = (num[cols] as number) + w;
        }
        directPairs += hi - lo;
      }
    }
    const den = num[cols] as number;
    if (!(den > 0)) {
      empty.push(i);
      if (onEmpty === "nan") {
        for (let c = 0; c < cols; c++) out[i * cols + c] = Number.NaN;
      } else {
        // The σ → 0 limit: the nearest keys' values, ties averaged.
        const near = nearestPositions(xs, qi);
        for (let c = 0; c < cols; c++) {
          let sum = 0;
          for (const r of near) sum += vs[r * cols + c] as number;
          out[i * cols + c] = sum / near.length;
        }
      }
      continue;
    }
    for (let c = 0; c < cols; c++) out[i * cols + c] = (num[c] as number) / den;
  }
  if (empty.length > 0 && onEmpty === "throw") {
    const first = empty[0] as number;
    failEmpty(fn, {
      count: empty.length,
      total: m,
      first,
      at: [q[first] as number],
      kernel: k.name,
      noun: "key",
    });
  }
  const predictions = vector ? tf.tensor1d(out) : tf.tensor2d(out, [m, cols]);
  return { predictions, directPairs, treeNodes };
}

function readInputs(
  fn: string,
  keysIn: unknown,
  valuesIn: unknown,
  queriesIn: unknown,
): { x: Float64Array; v: Float64Array; cols: number; vector: boolean; q: Float64Array } {
  // Read in float64, as given: the windows are summed in float64, so keys with a large common
  // offset keep their spacing.
  const keys = readMatrix(fn, "keys", keysIn, "points");
  if (keys.cols !== 1)
    fail(fn, `keys must be one-dimensional ([n] or [n, 1]), got shape [${keys.rows}, ${keys.cols}]`);
  const values = readMatrix(fn, "values", valuesIn, "values");
  if (values.rows !== keys.rows) {
    fail(fn, `keys and values must have the same length, got ${keys.rows} and ${values.rows}`);
  }
  const queries = readMatrix(fn, "queries", queriesIn, "points");
  if (queries.cols !== 1) {
    fail(fn, `queries must be one-dimensional ([m] or [m, 1]), got shape [${queries.rows}, ${queries.cols}]`);
  }
  return { x: keys.data, v: values.data, cols: values.cols, vector: values.rank === 1, q: queries.data };
}

/** Indices that sort `x` ascending, ties in index order (the identity when already sorted). */
function sortOrder(x: Float64Array): Int32Array {
  const n = x.length;
  const order = Int32Array.from({ length: n }, (_, i) => i);
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) if ((x[i] as number) < (x[i - 1] as number)) sorted = false;
  if (!sorted) order.sort((a, b) => (x[a] as number) - (x[b] as number) || a - b);
  return order;
}

/** First index r with pred(xs[r]) true, for a predicate false then true along the sorted keys. */
function firstIndex(xs: Float64Array, pred: (x: number) => boolean): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pred(xs[mid] as number)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** First index with xs[r] ≥ t. */
function lowerBound(xs: Float64Array, t: number): number {
  return firstIndex(xs, (x) => x >= t);
}

/** First index with xs[r] > t. */
function upperBound(xs: Float64Array, t: number): number {
  return firstIndex(xs, (x) => x > t);
}

/**
 * The sorted positions of every key nearest to q: the run of equal keys on the nearer side, or
 * both runs when the keys left and right of q are equally far (ties, which the σ → 0 limit
 * averages).
 */
function nearestPositions(xs: Float64Array, q: number): number[] {
  const n = xs.length;
  const right = lowerBound(xs, q);
  const runs: [number, number][] = [];
  if (right < n) runs.push([right, upperBound(xs, xs[right] as number)]);
  if (right > 0) runs.push([lowerBound(xs, xs[right - 1] as number), right]);
  const distance = ([lo]: [number, number]): number => Math.abs((xs[lo] as number) - q);
  const best = Math.min(...runs.map(distance));
  const out: number[] = [];
  for (const run of runs) if (distance(run) === best) for (let r = run[0]; r < run[1]; r++) out.push(r);
  return out;
}

/**
 * A segment tree over the sorted keys. Node t covers a run of keys and stores, about its centre
 * c_t (the midpoint of its first and last key), the moments
 *   M_t[p][c] = Σ v_jc ((x_j − c_t)/σ)^p  and  M_t[p][cols] = Σ ((x_j − c_t)/σ)^p,  p ≤ degree.
 * A window is the union of O(log n) nodes; each node's moments are moved to the query by the
 * binomial theorem. Only nodes inside a window (|x − q| < σ) are ever used, so the shifts
 * (c_t − q)/σ stay in (−1, 1) and the expansion loses no accuracy. (Nodes spanning many widths
 * may hold huge or infinite moments; they are never read.)
 */
class MomentTree {
  private readonly size: number;
  private readonly stride: number;
  private readonly moments: Float64Array;
  private readonly centre: Float64Array;
  private readonly count: Int32Array;
  private readonly shifted: Float64Array;

  constructor(
    xs: Float64Array,
    vs: Float64Array,
    private readonly cols: number,
    private readonly sigma: number,
    private readonly degree: number,
  ) {
    const n = xs.length;
    let size = 1;
    while (size < n) size <<= 1;
    this.size = size;
    this.stride = (degree + 1) * (cols + 1);
    this.moments = new Float64Array(2 * size * this.stride);
    this.centre = new Float64Array(2 * size);
    this.count = new Int32Array(2 * size);
    this.shifted = new Float64Array(this.stride);
    const first = new Float64Array(2 * size);
    const last = new Float64Array(2 * size);
    for (let r = 0; r < n; r++) {
      const t = size + r;
      this.centre[t] = first[t] = last[t] = xs[r] as number;
      this.count[t] = 1;
      const base = t * this.stride; // p = 0 row: the values and a weight of 1
      for (let c = 0; c < cols; c++) this.moments[base + c] = vs[r * cols + c] as number;
      this.moments[base + cols] = 1;
    }
    for (let t = size - 1; t >= 1; t--) {
      const a = 2 * t;
      const b = 2 * t + 1;
      const ca = this.count[a] as number;
      const cb = this.count[b] as number;
      this.count[t] = ca + cb;
      if (ca === 0) continue;
      first[t] = first[a] as number;
      last[t] = cb > 0 ? (last[b] as number) : (last[a] as number);
      this.centre[t] = ((first[t] as number) + (last[t] as number)) / 2;
      this.addShifted(a, this.centre[t] as number, t);
      if (cb > 0) this.addShifted(b, this.centre[t] as number, t);
    }
  }

  /** Adds node `from`'s moments, moved to centre `to`, into node `into` (or into `shifted` when into < 0). */
  private addShifted(from: number, to: number, into: number): void {
    const cols1 = this.cols + 1;
    const h = ((this.centre[from] as number) - to) / this.sigma;
    const src = from * this.stride;
    const dst = into >= 0 ? into * this.stride : -1;
    const target = dst >= 0 ? this.moments : this.shifted;
    const offset = dst >= 0 ? dst : 0;
    // ((x − to)/σ)^p = Σ_i C(p, i) h^(p−i) ((x − c)/σ)^i
    for (let p = 0; p <= this.degree; p++) {
      const binom = BINOMIAL[p] as number[];
      for (let i = 0; i <= p; i++) {
        const coef = (binom[i] as number) * h ** (p - i);
        if (coef === 0) continue;
        for (let c = 0; c < cols1; c++) {
          target[offset + p * cols1 + c] =
            (target[offset + p * cols1 + c] as number) + coef * (this.moments[src + i * cols1 + c] as number);
        }
      }
    }
  }

  /**
   * Adds Σ_{r ∈ [lo, hi)} P(u_r) v_r into `num[0..cols)` and Σ_{r ∈ [lo, hi)} P(u_r) into
   * `num[cols]`, with u = (x − q)/σ and P the polynomial `coefs`. Returns the nodes used.
   */
  accumulate(lo: number, hi: number, q: number, coefs: readonly number[], num: Float64Array): number {
    const cols1 = this.cols + 1;
    let nodes = 0;
    let l = lo + this.size;
    let r = hi + this.size;
    const use = (t: number): void => {
      nodes++;
      this.shifted.fill(0);
      this.addShifted(t, q, -1);
      for (let p = 0; p < coefs.length; p++) {
        const a = coefs[p] as number;
        if (a === 0) continue;
        for (let c = 0; c < cols1; c++)
          num[c] = (num[c] as number) + a * (this.shifted[p * cols1 + c] as number);
      }
    };
    while (l < r) {
      if (l & 1) use(l++);
      if (r & 1) use(--r);
      l >>= 1;
      r >>= 1;
    }
    return nodes;
  }
}
