/**
 * How fast Nadaraya-Watson regression converges, measured: for growing n, choose the width by
 * leave-one-out and record it and the mean squared error against the true function.
 *
 * Theory (second-order kernel, smooth f, interior points): the bias is O(h²) and the variance
 * O(1/(n h^d)), so MSE(h) ≈ A h⁴ + B / (n h^d). Minimising over h gives
 * h* ∝ n^(−1/(d+4)) and MSE(h*) ∝ n^(−4/(d+4)): slopes −1/(d+4) and −4/(d+4) on log-log axes.
 *
 * Design: inputs uniform on the torus [0, 1)^d with a periodic true function, and distances
 * wrapped around it (`period: 1`). Near the edge of an interval NW's window is one-sided, its
 * bias is O(h) instead of O(h²), and a strip of width ~h at the boundary then dominates the
 * integrated error (h³ against h⁴ in d = 1), which would change the measured rates. On the torus
 * there is no boundary, so the interior rates are what is measured.
 */
import * as tf from "@tensorflow/tfjs-core";

import { fitBandwidth, logSpace, nadarayaWatsonRisk, oracleBandwidth } from "./bandwidth";
import { describe, fail } from "./errors";
import { seededRandom } from "./data";
import { checkPositiveInt } from "./validate";

/**
 * The true function of the consistency experiment on the torus [0, 1)^d:
 * f(x) = Σ_j sin(2π x_j), smooth and periodic in every coordinate.
 *
 * @example
 * ```ts
 * periodicTarget([0.25]); // 1
 * ```
 */
export function periodicTarget(x: readonly number[]): number {
  let s = 0;
  for (const v of x) s += Math.sin(2 * Math.PI * v);
  return s;
}

/** A sample of the consistency experiment: keys on the torus, noisy values. */
export interface ConsistencySample {
  /** Keys `[n][d]`, uniform on [0, 1)^d. */
  readonly keys: number[][];
  /** Values y = f(x) + noise·ε, ε ~ N(0, 1), with f = {@link periodicTarget}. */
  readonly values: number[];
}

/**
 * Draws n points uniform on [0, 1)^d with values {@link periodicTarget}(x) + noise·N(0, 1),
 * from a seeded stream (float64 JavaScript, identical on every backend).
 *
 * @example
 * ```ts
 * const { keys, values } = consistencyData(2, 1000, "demo"); // keys [1000][2], values [1000]
 * ```
 */
export function consistencyData(dims: number, n: number, seed: string, noise = 1): ConsistencySample {
  const fn = "consistencyData";
  checkPositiveInt(fn, "dims", dims);
  checkPositiveInt(fn, "n", n);
  if (typeof noise !== "number" || !Number.isFinite(noise) || noise < 0) {
    fail(fn, `noise must be finite and ≥ 0, got ${describe(noise)}`);
  }
  const rng = seededRandom(seed);
  const keys = Array.from({ length: n }, () => Array.from({ length: dims }, () => rng.uniform()));
  const values = keys.map((x) => periodicTarget(x) + noise * rng.normal());
  return { keys, values };
}

/** The asymptotic bias–variance trade-off of {@link asymptoticRisk}. */
export interface AsymptoticRisk {
  /** The width minimising the asymptotic MSE. */
  readonly sigma: number;
  /** Integrated squared bias at that width, 2π⁴ d h⁴. */
  readonly bias2: number;
  /** Integrated variance at that width, s² (2√π)^(−d) / (n h^d). */
  readonly variance: number;
  /** bias2 + variance. */
  readonly mse: number;
}

/**
 * The leading-order (asymptotic) MSE of Gaussian Nadaraya-Watson for the experiment's design
 * — uniform keys on the torus [0, 1)^d, f = {@link periodicTarget}, noise s — and the width
 * that minimises it:
 *
 *   bias(x) ≈ (h²/2) Δf(x) = −2π² h² f(x)          ⇒ ∫ bias² = 4π⁴ h⁴ ∫ f² = 2π⁴ d h⁴
 *   var(x)  ≈ s² ∫K² / (n h^d) = s² (2√π)^(−d) / (n h^d)
 *   h*^(d+4) = s² (2√π)^(−d) / (8π⁴ n),   MSE* = (1 + 4/d) · 2π⁴ d h*⁴ ∝ n^(−4/(d+4)).
 *
 * (The density of the keys is 1, so the design term f′p′/p of the bias vanishes.)
 *
 * @example
 * ```ts
 * asymptoticRisk(1, 500).sigma; // ≈ 0.059
 * ```
 */
export function asymptoticRisk(dims: number, n: number, noise = 1): AsymptoticRisk {
  const fn = "asymptoticRisk";
  checkPositiveInt(fn, "dims", dims);
  if (typeof n !== "number" || !Number.isFinite(n) || n <= 0)
    fail(fn, `n must be finite and > 0, got ${describe(n)}`);
  if (typeof noise !== "number" || !Number.isFinite(noise) || noise <= 0) {
    fail(fn, `noise must be finite and > 0, got ${describe(noise)}`);
  }
  const a = 2 * Math.PI ** 4 * dims;
  const b = noise * noise * (2 * Math.sqrt(Math.PI)) ** -dims;
  const sigma = (b / (8 * Math.PI ** 4 * n)) ** (1 / (dims + 4));
  const bias2 = a * sigma ** 4;
  const variance = b / (n * sigma ** dims);
  return { sigma, bias2, variance, mse: bias2 + variance };
}

/**
 * Least-squares line through (log x, log y): returns its slope and intercept (natural logs),
 * so y ≈ e^intercept · x^slope.
 *
 * @example
 * ```ts
 * logLogSlope([1, 10, 100], [1, 0.1, 0.01]).slope; // −1
 * ```
 */
export function logLogSlope(
  x: readonly number[],
  y: readonly number[],
): { slope: number; intercept: number } {
  const fn = "logLogSlope";
  if (!Array.isArray(x) || !Array.isArray(y) || x.length !== y.length || x.length < 2) {
    fail(fn, `x and y must be arrays of the same length ≥ 2, got ${describe(x)} and ${describe(y)}`);
  }
  [x, y].forEach((arr, k) =>
    arr.forEach((v, i) => {
      if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
        fail(fn, `${k === 0 ? "x" : "y"} must hold finite numbers > 0, got ${describe(v)} at index ${i}`);
      }
    }),
  );
  const lx = x.map(Math.log);
  const ly = y.map(Math.log);
  const mx = lx.reduce((a, b) => a + b, 0) / lx.length;
  const my = ly.reduce((a, b) => a + b, 0) / ly.length;
  let sxy = 0;
  let sxx = 0;
  lx.forEach((v, i) => {
    sxy += (v - mx) * ((ly[i] as number) - my);
    sxx += (v - mx) ** 2;
  });
  if (sxx === 0) fail(fn, "x must not be constant");
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

/** Options for {@link consistencyExperiment}. */
export interface ConsistencyOptions {
  /** Input dimension d. */
  readonly dims: number;
  /** Sample sizes n (at least 2 distinct), e.g. a geometric range. */
  readonly sizes: readonly number[];
  /** Independent data sets per n; rates are fitted to geometric means over them. Default 2. */
  readonly seeds?: number;
  /** Noise standard deviation s. Default 1. */
  readonly noise?: number;
  /**
   * Also choose σ by leave-one-out ({@link fitBandwidth}) on each data set, as a practitioner
   * would, and record its width and risk. Default `true`.
   */
  readonly loo?: boolean;
  /**
   * The LOO loss is evaluated at a seeded random subset of at most this many points (the pool
   * of keys is always all n): an unbiased estimate of the full LOO loss at a cost of
   * `looRows × n` pairs instead of n², but a noisier one. Default: every point (exact LOO).
   */
  readonly looRows?: number;
  /** Run the leave-one-out choice only for n up to this size (it costs O(n²) without `looRows`). Default: every n. */
  readonly looMaxSize?: number;
  /**
   * Points where the risk against the true function is measured: a regular grid of this
   * many cell centres for d = 1, seeded uniform points otherwise (the same for every n).
   * Default 1000.
   */
  readonly evalPoints?: number;
  /** Coarse grid of both searches, as multiples of the keys' spread. Default 7 values from 0.02 to 2. */
  readonly grid?: readonly number[];
  /** Prefix of every seed string. Default `"consistency"`. */
  readonly seed?: string;
}

/** One data set of the experiment. */
export interface ConsistencyRun {
  readonly n: number;
  /** Index of the data set among the seeds of this n. */
  readonly replicate: number;
  /** The risk-minimising width h* ({@link oracleBandwidth}). */
  readonly sigma: number;
  /** The exact conditional risk (MSE against the true function) at h*. */
  readonly mse: number;
  /** The leave-one-out width ĥ (when `loo` is set). */
  readonly looSigma?: number;
  /** The exact conditional risk at ĥ (when `loo` is set). */
  readonly looMse?: number;
}

/** A fitted rate: per-size geometric means, and the least-squares line through their logs. */
export interface Rate {
  /** The sample sizes of `values`. */
  readonly sizes: number[];
  /** Per size, the geometric mean over seeds. */
  readonly values: number[];
  /** Slope of log value against log n. */
  readonly slope: number;
  /** Intercept (natural log) of that line, for drawing it. */
  readonly intercept: number;
}

/** The result of {@link consistencyExperiment}: plain numbers, ready to print and plot. */
export interface ConsistencyResult {
  readonly dims: number;
  readonly sizes: number[];
  /** The noise standard deviation s. */
  readonly noise: number;
  /** Every data set. */
  readonly runs: ConsistencyRun[];
  /** The risk-minimising width h* against n. */
  readonly sigma: Rate;
  /** The risk at h* against n. */
  readonly mse: Rate;
  /** The leave-one-out width ĥ against n (when `loo` is set). */
  readonly looSigma?: Rate;
  /** The risk at ĥ against n (when `loo` is set). */
  readonly looMse?: Rate;
  /** The theory's slopes: −1/(d+4) for the width, −4/(d+4) for the MSE. */
  readonly theory: { readonly sigma: number; readonly mse: number };
}

/**
 * Runs the consistency experiment in d dimensions. For each n and seed it draws
 * {@link consistencyData} on the torus and records
 * - h*, the width minimising the exact risk given the keys ({@link oracleBandwidth} with
 *   {@link nadarayaWatsonRisk}: bias² + s² Σ w², no noise Monte-Carlo), and the risk there;
 * - optionally ĥ, the width chosen by leave-one-out ({@link fitBandwidth}), and the risk there.
 * Then it fits log-log slopes against n of the geometric means over seeds, to set beside the
 * theory's −1/(d+4) and −4/(d+4). All distances are periodic (`period: 1`): no boundary.
 *
 * Cost per data set: about 20 risk evaluations of `evalPoints × n` pairs, plus about 12 LOO
 * evaluations of `min(n, looRows) × n`, each in bounded-memory blocks.
 *
 * @example
 * ```ts
 * const r = consistencyExperiment({ dims: 1, sizes: [500, 1000, 2000, 4000, 8000] });
 * r.sigma.slope; // ≈ −0.2 = r.theory.sigma
 * r.mse.slope;   // ≈ −0.8 = r.theory.mse
 * ```
 */
export function consistencyExperiment(options: ConsistencyOptions): ConsistencyResult {
  const fn = "consistencyExperiment";
  if (typeof options !== "object" || options === null)
    fail(fn, `options must be an object, got ${describe(options)}`);
  const dims = checkPositiveInt(fn, "options.dims", options.dims);
  if (!Array.isArray(options.sizes) || new Set(options.sizes).size < 2) {
    fail(fn, `options.sizes must hold at least 2 distinct sample sizes, got ${describe(options.sizes)}`);
  }
  const sizes = options.sizes.map((n) => checkPositiveInt(fn, "options.sizes[]", n));
  sizes.forEach((n) => {
    if (n < 2) fail(fn, `options.sizes must be ≥ 2 (leave-one-out needs two points), got ${n}`);
  });
  const seeds = checkPositiveInt(fn, "options.seeds", options.seeds ?? 2);
  const noise = options.noise ?? 1;
  if (typeof noise !== "number" || !Number.isFinite(noise) || noise <= 0) {
    fail(fn, `options.noise must be finite and > 0, got ${describe(noise)}`);
  }
  const withLoo = options.loo ?? true;
  if (typeof withLoo !== "boolean") fail(fn, `options.loo must be a boolean, got ${describe(withLoo)}`);
  const looRows =
    options.looRows === undefined ? Infinity : checkPositiveInt(fn, "options.looRows", options.looRows);
  const looMaxSize =
    options.looMaxSize === undefined
      ? Infinity
      : checkPositiveInt(fn, "options.looMaxSize", options.looMaxSize);
  const looSizes = withLoo ? sizes.filter((n) => n <= looMaxSize) : [];
  if (withLoo && new Set(looSizes).size < 2) {
    fail(fn, `options.looMaxSize must leave at least 2 distinct sizes for leave-one-out, got ${looMaxSize}`);
  }
  const evalPoints = checkPositiveInt(fn, "options.evalPoints", options.evalPoints ?? 1000);
  const grid = options.grid ?? logSpace(0.02, 2, 7);
  const prefix = options.seed ?? "consistency";
  if (typeof prefix !== "string") fail(fn, `options.seed must be a string, got ${describe(prefix)}`);

  const queries = evaluationPoints(dims, evalPoints, `${prefix}/d${dims}/eval`);
  const queryTensor = tf.tensor2d(queries.flat(), [evalPoints, dims]);
  const truthTensor = tf.tensor1d(queries.map(periodicTarget));
  const runs: ConsistencyRun[] = [];
  try {
    for (const n of sizes) {
      for (let r = 0; r < seeds; r++) {
        const seed = `${prefix}/d${dims}/n${n}/r${r}`;
        const { keys, values } = consistencyData(dims, n, seed, noise);
        const keyTensor = tf.tensor2d(keys.flat(), [n, dims]);
        const valueTensor = tf.tensor1d(values);
        const meanTensor = tf.tensor1d(keys.map(periodicTarget));
        try {
          const riskOptions = { period: 1, noiseVariance: noise * noise };
          const oracle = oracleBandwidth(keyTensor, meanTensor, queryTensor, truthTensor, "gaussian", {
            ...riskOptions,
            grid,
          });
          let loo: { looSigma: number; looMse: number } | undefined;
          if (withLoo && n <= looMaxSize) {
            const rows = n > looRows ? sampleRows(n, looRows, `${seed}/rows`) : undefined;
            const fit = fitBandwidth(keyTensor, valueTensor, { period: 1, rows, grid });
            const looSigma = fit.sigma[0] as number;
            const { mse } = nadarayaWatsonRisk(keyTensor, meanTensor, queryTensor, truthTensor, "gaussian", {
              ...riskOptions,
              sigma: looSigma,
            });
            loo = { looSigma, looMse: mse };
          }
          runs.push({ n, replicate: r, sigma: oracle.sigma, mse: oracle.risk.mse, ...loo });
        } finally {
          tf.dispose([keyTensor, valueTensor, meanTensor]);
        }
      }
    }
  } finally {
    tf.dispose([queryTensor, truthTensor]);
  }
  const rate = (over: number[], pick: (r: ConsistencyRun) => number): Rate => {
    const values = over.map((n) => {
      const xs = runs.filter((r) => r.n === n).map(pick);
      return Math.exp(xs.reduce((a, v) => a + Math.log(v), 0) / xs.length);
    });
    const { slope, intercept } = logLogSlope(over, values);
    return { sizes: over, values, slope, intercept };
  };
  return {
    dims,
    sizes,
    noise,
    runs,
    sigma: rate(sizes, (r) => r.sigma),
    mse: rate(sizes, (r) => r.mse),
    looSigma: withLoo ? rate(looSizes, (r) => r.looSigma as number) : undefined,
    looMse: withLoo ? rate(looSizes, (r) => r.looMse as number) : undefined,
    theory: { sigma: -1 / (dims + 4), mse: -4 / (dims + 4) },
  };
}

/** Geometric sample sizes 500 · 2^k up to `max`. */
const doublings = (max: number): number[] => {
  const out: number[] = [];
  for (let n = 500; n <= max; n *= 2) out.push(n);
  return out;
};

/**
 * The exercise-4 notebook's experiments, one per dimension, shared with `npm run figures`:
 * two seeds per n; d = 1 from 500 to 32 000 (LOO up to 8 000, exact, no row subsampling);
 * d = 2 and d = 4 from 500 to 16 000 (LOO up to 4 000).
 */
export const CONSISTENCY_SETTINGS: readonly ConsistencyOptions[] = [
  { dims: 1, sizes: doublings(32000), seeds: 2, looMaxSize: 8000 },
  { dims: 2, sizes: doublings(16000), seeds: 2, looMaxSize: 4000 },
  { dims: 4, sizes: doublings(16000), seeds: 2, looMaxSize: 4000 },
];

/** Cell centres of a regular grid for d = 1; seeded uniform points on [0, 1)^d otherwise. */
function evaluationPoints(dims: number, count: number, seed: string): number[][] {
  if (dims === 1) return Array.from({ length: count }, (_, i) => [(i + 0.5) / count]);
  const rng = seededRandom(seed);
  return Array.from({ length: count }, () => Array.from({ length: dims }, () => rng.uniform()));
}

/** A seeded subset of `k` distinct indices of [0, n), in increasing order (partial Fisher-Yates). */
function sampleRows(n: number, k: number, seed: string): number[] {
  const rng = seededRandom(seed);
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rng.uniform() * (n - i));
    const t = idx[i] as number;
    idx[i] = idx[j] as number;
    idx[j] = t;
  }
  return Array.from(idx.subarray(0, k)).sort((a, b) => a - b);
}
