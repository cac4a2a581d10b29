/**
 * Learning the kernel width σ: the training loss, the leave-one-out (LOO) loss and a
 * gradient-based fit of log σ with TensorFlow.js autodiff.
 *
 * Both losses are means of squared residuals over the evaluated points i:
 *
 *   L_train(σ) = (1/m) Σ_i ‖f_σ(x_i) − y_i‖²,        f_σ(x) = Σ_j softmax_j(log K_σ(x − x_j)) y_j,
 *   L_loo(σ)   = (1/m) Σ_i ‖f_σ^(−i)(x_i) − y_i‖²,   f_σ^(−i) leaves the pair (x_i, y_i) out.
 *
 * The training loss is minimised by σ → 0, because y_i is one of the values f(x_i) averages
 * and its own weight tends to 1. Leaving the pair out removes that shortcut.
 *
 * Numerics, all in float32: the weights are a softmax of log-kernel scores, so they stay finite
 * (and sum to 1) however small σ is. Leaving a point out removes its own score before the
 * softmax, never its weight afterwards (subtracting a weight that tends to 1 cancels
 * catastrophically): for the Gaussian its own squared distance is replaced by a huge finite
 * number, so exp(−BIG/2σ²) underflows to exactly 0 and the derivative through it, 0·BIG, stays
 * finite; other kernels add a −∞ mask. Values are centred on their mean first (the estimate is
 * equivariant under shifts of the values, and centring keeps the residuals accurate).
 *
 * Cost: the pairwise squared differences do not depend on σ, so they are formed once per
 * block of rows and, when they fit in {@link BANDWIDTH_CACHE_FLOATS}, kept across
 * evaluations; each evaluation then costs a scale, a softmax and a matrix product per block,
 * and its gradient three more elementwise passes (see `softmaxPool`). Blocks bound the memory
 * to about `chunkSize × n` floats per temporary, so n in the tens of thousands is fine.
 */
import * as tf from "@tensorflow/tfjs-core";

import { describe, fail } from "./errors";
import { resolveKernel, type Kernel, type KernelName } from "./kernels";
import {
  checkChoice,
  checkInteger,
  checkNonNegative,
  checkOptions,
  checkPositive,
  checkSigma,
  type Sigma,
  type TensorInput,
  toPoints,
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

/**
 * The leave-one-out loss of Nadaraya-Watson regression at width σ:
 * (1/m) Σ_i ‖f^(−i)(x_i) − y_i‖², where f^(−i) pools every key but x_i.
 *
 * It estimates the prediction error on new data (noise variance plus the estimation error), so
 * its minimiser over σ is a data-driven width. Finite for every σ > 0 with the Gaussian kernel
 * (as σ → 0 it tends to the nearest-neighbour error). With a compact kernel it is `Infinity`
 * when some evaluated point has no other key inside its support.
 *
 * Shapes: keys `[n]` or `[n, d]`, values `[n]` or `[n, k]` (residual norms are summed over k).
 *
 * @param keys training inputs x_i; at least 2.
 * @param values training targets y_i.
 * @param kernel a name from `KERNELS` or a `Kernel`. Default `"gaussian"`.
 * @param options σ (default 1), `rows`, `period`, `chunkSize`; see {@link BandwidthLossOptions}.
 * @returns the mean squared leave-one-out residual, a float64 number accumulated over blocks.
 *
 * @example
 * ```ts
 * const { xTrain, yTrain } = loadTutorialData();
 * looLoss(xTrain, yTrain, "gaussian", { sigma: 0.3 }); // ≈ 1.31 (noise variance ≈ 1 plus error)
 * ```
 */
export function looLoss(
  keys: TensorInput,
  values: TensorInput,
  kernel: KernelName | Kernel = "gaussian",
  options: BandwidthLossOptions = {},
): number {
  return singleLoss("looLoss", "loo", keys, values, kernel, options);
}

/**
 * The training (resubstitution) loss (1/m) Σ_i ‖f(x_i) − y_i‖², where f pools every key,
 * including x_i itself. It tends to 0 as σ → 0 (each point then attends only to itself), so
 * minimising it does not choose a useful width; see {@link looLoss}. Finite for every σ > 0.
 *
 * Same arguments, shapes and defaults as {@link looLoss}.
 *
 * @example
 * ```ts
 * trainingLoss([0, 1, 2], [0, 1, 4], "gaussian", { sigma: 1e-3 }); // 0: σ so small each point sees itself
 * ```
 */
export function trainingLoss(
  keys: TensorInput,
  values: TensorInput,
  kernel: KernelName | Kernel = "gaussian",
  options: BandwidthLossOptions = {},
): number {
  return singleLoss("trainingLoss", "train", keys, values, kernel, options);
}

/**
 * Mean squared error (1/m) Σ_j ‖f(q_j) − t_j‖² of Nadaraya-Watson predictions at `queries`
 * against `targets`: the test error against the true function when `targets` are its values,
 * or a held-out validation loss when they are noisy observations.
 *
 * Shapes: keys `[n]`/`[n, d]`, values `[n]`/`[n, k]`, queries `[m]`/`[m, d]`, targets like values
 * with m rows. Evaluated in blocks of queries (`chunkSize`); `rows` does not apply.
 *
 * @example
 * ```ts
 * const { xTrain, yTrain, xVal, yVal } = loadTutorialData();
 * heldOutLoss(xTrain, yTrain, xVal, yVal, "gaussian", { sigma: 0.3 }); // test MSE at σ = 0.3
 * ```
 */
export function heldOutLoss(
  keys: TensorInput,
  values: TensorInput,
  queries: TensorInput,
  targets: TensorInput,
  kernel: KernelName | Kernel = "gaussian",
  options: Omit<BandwidthLossOptions, "rows"> = {},
): number {
  const fn = "heldOutLoss";
  checkOptions(fn, options);
  if ((options as BandwidthLossOptions).rows !== undefined) {
    fail(fn, "options.rows does not apply to held-out queries; pass the queries you want instead");
  }
  const problem = prepareProblem(fn, "heldout", keys, values, kernel, options, { queries, targets });
  try {
    const widths = checkSigma(fn, options.sigma ?? 1, problem.dims, "options.sigma");
    return problem.evaluate(widths.map(Math.log), false).loss;
  } finally {
    problem.dispose();
  }
}

/** Options for {@link nadarayaWatsonRisk}. */
export interface RiskOptions extends Omit<BandwidthLossOptions, "rows"> {
  /**
   * Variance s² of the noise in the values (for `[n, k]` values, E‖ε‖² summed over the k
   * columns). Default 0 (bias² only).
   */
  readonly noiseVariance?: number;
}

/** The conditional risk of Nadaraya-Watson at a set of queries, from {@link nadarayaWatsonRisk}. */
export interface Risk {
  /** Mean over queries of (Σ_j w_j(q) m(x_j) − f(q))². */
  readonly bias2: number;
  /** Mean over queries of s² Σ_j w_j(q)², with s² = `noiseVariance`. */
  readonly variance: number;
  /** bias2 + variance: the expected squared error at a query, averaged over the queries. */
  readonly mse: number;
}

/**
 * The exact mean squared error of Nadaraya-Watson given the keys, without simulating noise:
 * for values y_j = m(x_j) + ε_j with independent noise of variance s², the estimate
 * f̂(q) = Σ_j w_j(q) y_j has
 *
 *   E[(f̂(q) − f(q))² | keys] = (Σ_j w_j(q) m(x_j) − f(q))²  +  s² Σ_j w_j(q)²
 *                               └──────── bias² ────────┘     └─ variance ─┘
 *
 * averaged here over the queries. It is the quantity the bias–variance theory is about, and
 * it has no noise Monte-Carlo error, so rates can be measured from few data sets.
 *
 * Shapes: keys `[n]`/`[n, d]`; means (m at the keys) `[n]`/`[n, k]`; queries `[q]`/`[q, d]`;
 * truth (f at the queries) like means with q rows.
 *
 * @example
 * ```ts
 * const keys = [0.1, 0.4, 0.7];
 * const r = nadarayaWatsonRisk(keys, keys.map(Math.sin), [0.5], [Math.sin(0.5)], "gaussian", {
 *   sigma: 0.2, noiseVariance: 1,
 * });
 * r.mse === r.bias2 + r.variance; // true
 * ```
 */
export function nadarayaWatsonRisk(
  keys: TensorInput,
  means: TensorInput,
  queries: TensorInput,
  truth: TensorInput,
  kernel: KernelName | Kernel = "gaussian",
  options: RiskOptions = {},
): Risk {
  const fn = "nadarayaWatsonRisk";
  checkOptions(fn, options);
  const noiseVariance = options.noiseVariance ?? 0;
  checkNonNegative(fn, "options.noiseVariance", noiseVariance);
  const problem = prepareProblem(fn, "heldout", keys, means, kernel, options, { queries, targets: truth }, [
    "means",
    "truth",
  ]);
  try {
    const widths = checkSigma(fn, options.sigma ?? 1, problem.dims, "options.sigma");
    const { bias2, spread } = problem.risk(widths.map(Math.log));
    const variance = noiseVariance * spread;
    return { bias2, variance, mse: bias2 + variance };
  } finally {
    problem.dispose();
  }
}

/** Options for {@link oracleBandwidth}. */
export interface OracleBandwidthOptions extends Omit<RiskOptions, "sigma"> {
  /** Coarse grid, as multiples of the keys' pooled spread. Default 13 values from 10⁻³ to 3. */
  readonly grid?: readonly number[];
  /** Width of the final bracket in log σ. Default 10⁻³. */
  readonly tolerance?: number;
}

/** The result of {@link oracleBandwidth}. */
export interface OracleBandwidthResult {
  /** The risk-minimising (shared) width. */
  readonly sigma: number;
  /** The risk at `sigma`. */
  readonly risk: Risk;
  /** Risk evaluations used. */
  readonly evaluations: number;
}

/**
 * The width that minimises the exact conditional risk {@link nadarayaWatsonRisk}: the
 * "oracle" bandwidth h*, which needs the true function and so exists only in simulations. It is
 * the h* of the bias–variance theory, free of the noise a data-driven choice (like
 * {@link fitBandwidth}'s leave-one-out) adds.
 *
 * Coarse grid, then golden-section search in log σ inside the bracket around the grid's best
 * point, down to `tolerance` (a best point at the end of the grid stays inside it: widen the
 * grid if that happens). One shared σ.
 *
 * @example
 * ```ts
 * const { sigma } = oracleBandwidth(keys, keys.map(f), queries, queries.map(f), "gaussian", { noiseVariance: 1 });
 * ```
 */
export function oracleBandwidth(
  keys: TensorInput,
  means: TensorInput,
  queries: TensorInput,
  truth: TensorInput,
  kernel: KernelName | Kernel = "gaussian",
  options: OracleBandwidthOptions = {},
): OracleBandwidthResult {
  const fn = "oracleBandwidth";
  checkOptions(fn, options);
  const noiseVariance = options.noiseVariance ?? 0;
  checkNonNegative(fn, "options.noiseVariance", noiseVariance);
  const grid = checkGrid(fn, options.grid ?? logSpace(1e-3, 3, 13));
  const tolerance = checkPositive(fn, "options.tolerance", options.tolerance ?? 1e-3);
  const problem = prepareProblem(fn, "heldout", keys, means, kernel, options, { queries, targets: truth }, [
    "means",
    "truth",
  ]);
  try {
    let evaluations = 0;
    const riskAt = (t: number): Risk => {
      evaluations++;
      const { bias2, spread } = problem.risk([t]);
      const variance = noiseVariance * spread;
      return { bias2, variance, mse: bias2 + variance };
    };
    const pooled = Math.sqrt(problem.spread.reduce((a, v) => a + v * v, 0) / problem.dims);
    const ts = grid.map((c) => Math.log(c * pooled));
    const risks = ts.map(riskAt);
    let best = 0;
    risks.forEach((r, i) => {
      if (r.mse < (risks[best] as Risk).mse) best = i;
    });
    // Golden-section search on [a, b] around the best grid point.
    let a = ts[Math.max(0, best - 1)] as number;
    let b = ts[Math.min(ts.length - 1, best + 1)] as number;
    const ratio = (Math.sqrt(5) - 1) / 2;
    let c = b - ratio * (b - a);
    let d = a + ratio * (b - a);
    let rc = riskAt(c);
    let rd = riskAt(d);
    while (b - a > tolerance) {
      if (rc.mse <= rd.mse) {
        b = d;
        d = c;
        rd = rc;
        c = b - ratio * (b - a);
        rc = riskAt(c);
      } else {
        a = c;
        c = d;
        rc = rd;
        d = a + ratio * (b - a);
        rd = riskAt(d);
      }
    }
    const candidates: [number, Risk][] = [
      [c, rc],
      [d, rd],
      [ts[best] as number, risks[best] as Risk],
    ];
    candidates.sort((x, y) => x[1].mse - y[1].mse);
    const [t, risk] = candidates[0] as [number, Risk];
    return { sigma: Math.exp(t), risk, evaluations };
  } finally {
    problem.dispose();
  }
}

/** Options for {@link bandwidthLossAndGradient} and {@link bandwidthLossCurve}. */
export interface BandwidthObjectiveOptions extends BandwidthLossOptions {
  /** `"loo"` (default) or `"train"`. */
  readonly objective?: BandwidthObjective;
}

/**
 * The loss and its gradient with respect to log σ, by TensorFlow.js autodiff (reverse mode
 * through the scaled distances, the softmax pooling and the squared residuals), summed over
 * blocks. The softmax pooling is one op whose vector-Jacobian product is written out, as tfjs
 * does for its own softmax; everything else is tfjs's own gradients.
 *
 * A scalar `sigma` gives one derivative ∂L/∂log σ; one width per dimension gives d of them.
 * Differentiating in log σ keeps σ positive and makes steps relative.
 *
 * @example
 * ```ts
 * const { loss, gradient } = bandwidthLossAndGradient(xTrain, yTrain, "gaussian", { sigma: 0.1 });
 * // gradient[0] < 0 here: widening σ lowers the LOO loss of the tutorial data
 * ```
 */
export function bandwidthLossAndGradient(
  keys: TensorInput,
  values: TensorInput,
  kernel: KernelName | Kernel = "gaussian",
  options: BandwidthObjectiveOptions = {},
): LossAndGradient {
  const fn = "bandwidthLossAndGradient";
  checkOptions(fn, options);
  const objective = checkChoice(fn, "options.objective", options.objective ?? "loo", BANDWIDTH_OBJECTIVES);
  const problem = prepareProblem(fn, objective, keys, values, kernel, options);
  try {
    const widths = checkSigma(fn, options.sigma ?? 1, problem.dims, "options.sigma");
    return problem.evaluate(widths.map(Math.log), true);
  } finally {
    problem.dispose();
  }
}

/**
 * The loss at many widths at once, reusing the σ-independent work: e.g. a fine grid for
 * plotting the loss against σ or for checking a fitted σ* against a grid search.
 *
 * @param sigmas widths: numbers (one scalar σ each) or arrays (one σ per dimension each).
 * @returns the loss at each width, in order.
 *
 * @example
 * ```ts
 * const grid = logSpace(0.05, 2, 200);
 * const losses = bandwidthLossCurve(xTrain, yTrain, grid); // LOO loss at each σ
 * ```
 */
export function bandwidthLossCurve(
  keys: TensorInput,
  values: TensorInput,
  sigmas: readonly (number | readonly number[])[],
  kernel: KernelName | Kernel = "gaussian",
  options: Omit<BandwidthObjectiveOptions, "sigma"> = {},
): number[] {
  const fn = "bandwidthLossCurve";
  checkOptions(fn, options);
  const objective = checkChoice(fn, "options.objective", options.objective ?? "loo", BANDWIDTH_OBJECTIVES);
  if (!Array.isArray(sigmas) || sigmas.length === 0) {
    fail(fn, `sigmas must be a non-empty array of widths, got ${describe(sigmas)}`);
  }
  const problem = prepareProblem(fn, objective, keys, values, kernel, options);
  try {
    const widths = sigmas.map((s, i) => checkSigma(fn, s, problem.dims, `sigmas[${i}]`));
    return widths.map((w) => problem.evaluate(w.map(Math.log), false).loss);
  } finally {
    problem.dispose();
  }
}

/**
 * `count` numbers from `start` to `stop` (both included), evenly spaced in log scale.
 *
 * @example
 * ```ts
 * logSpace(0.01, 1, 3); // [0.01, 0.1, 1]
 * ```
 */
export function logSpace(start: number, stop: number, count: number): number[] {
  const fn = "logSpace";
  for (const [name, v] of [
    ["start", start],
    ["stop", stop],
  ] as const) {
    checkPositive(fn, name, v);
  }
  checkInteger(fn, "count", count);
  if (count === 1) return [start];
  const a = Math.log(start);
  const step = (Math.log(stop) - a) / (count - 1);
  return Array.from({ length: count }, (_, i) => (i === count - 1 ? stop : Math.exp(a + i * step)));
}

// ---------------------------------------------------------------------------------------------
// fitBandwidth

/** Options for {@link fitBandwidth}. */
export interface FitBandwidthOptions extends Omit<BandwidthLossOptions, "sigma"> {
  /** Kernel name or `Kernel`. Default `"gaussian"`. */
  readonly kernel?: KernelName | Kernel;
  /** `"loo"` (default) or `"train"`. */
  readonly objective?: BandwidthObjective;
  /** Learn one width per input dimension instead of one shared σ. Default `false`. */
  readonly perDimension?: boolean;
  /**
   * Start the descent here instead of at the best point of the coarse grid. A scalar, or one
   * per dimension (which implies `perDimension`).
   */
  readonly init?: Sigma;
  /**
   * Coarse grid, as multiples c of the keys' spread: σ = c·s with s the root-mean-square of the
   * per-dimension standard deviations (or σ_d = c·s_d per dimension with `perDimension`).
   * Default: 15 values from 10⁻³ to 3, evenly spaced in log scale.
   */
  readonly grid?: readonly number[];
  /** Maximum number of descent steps. Default 100. */
  readonly maxIterations?: number;
  /**
   * First trial step in log σ, as a multiple of −∂L/∂log σ divided by the loss (so it does not
   * depend on the units of y). Later steps are quasi-Newton (BFGS). Default 1.
   */
  readonly learningRate?: number;
  /** Largest change of any log σ_d in one step (a factor e^maxStep in σ). Default 1. */
  readonly maxStep?: number;
  /** Stop when a step changes every log σ_d by less than this (relative change of σ). Default 1e-5. */
  readonly tolerance?: number;
}

/** The result of {@link fitBandwidth}. Plain numbers: nothing to dispose. */
export interface FitBandwidthResult {
  /** The fitted width(s): length 1 for a shared σ, d with `perDimension`. */
  readonly sigma: number[];
  /** The objective at `sigma`. */
  readonly loss: number;
  /** ∂loss/∂log σ_d at `sigma`. */
  readonly gradient: number[];
  /** Whether a stopping test was met (small step, or zero gradient) before `maxIterations`. */
  readonly converged: boolean;
  /** Why the descent stopped; see {@link StopReason}. */
  readonly stopReason: StopReason;
  /** Accepted descent steps taken. */
  readonly iterations: number;
  /** Loss evaluations, grid included (a gradient evaluation counts once). */
  readonly evaluations: number;
  /** The descent, for plotting: σ (one array per iterate, start included) and the loss there. */
  readonly path: { readonly sigma: number[][]; readonly loss: number[] };
  /** The coarse grid that chose the start (empty when `init` was given). */
  readonly grid: { readonly sigma: number[][]; readonly loss: number[] };
}

/** Default coarse grid: multiples of the keys' spread. */
export const DEFAULT_BANDWIDTH_GRID: readonly number[] = logSpace(1e-3, 3, 15);

/**
 * Learns the kernel width σ by minimising the leave-one-out loss (or, to see why one should not,
 * the training loss) in log σ, with gradients from TensorFlow.js autodiff.
 *
 * 1. Coarse grid: the loss at σ = c·s for each c in `grid` (s = the keys' spread); the best
 *    point is the start (or `init`). This guards against the LOO curve's local minima.
 * 2. Descent on t = log σ: quasi-Newton (BFGS) directions, the first one −g/L scaled by
 *    `learningRate`, each step capped at `maxStep` and accepted by a backtracking (Armijo) line
 *    search, which also rejects any non-finite loss. Deterministic.
 * 3. Stops when a step moves every log σ_d by less than `tolerance`, when the gradient is
 *    exactly zero, or at the float32 floor of the loss; see {@link StopReason}. Widths are
 *    capped at 10⁴ × the largest pairwise distance, where the kernel is flat in float32 (a width
 *    that ends there means the loss kept falling as it grew: that input does not matter).
 *
 * @param keys `[n]` or `[n, d]`, n ≥ 2.
 * @param values `[n]` or `[n, k]`.
 * @param options see {@link FitBandwidthOptions}.
 *
 * @example
 * ```ts
 * const { xTrain, yTrain } = loadTutorialData();
 * const fit = fitBandwidth(xTrain, yTrain); // LOO, Gaussian
 * fit.sigma[0]; // σ*, a finite width
 * fit.path.sigma.map((s) => s[0]); // the descent, for a plot
 * ```
 */
export function fitBandwidth(
  keys: TensorInput,
  values: TensorInput,
  options: FitBandwidthOptions = {},
): FitBandwidthResult {
  const fn = "fitBandwidth";
  checkOptions(fn, options);
  const objective = checkChoice(fn, "options.objective", options.objective ?? "loo", BANDWIDTH_OBJECTIVES);
  const maxIterations = options.maxIterations ?? 100;
  checkInteger(fn, "options.maxIterations", maxIterations, 0);
  const learningRate = checkPositive(fn, "options.learningRate", options.learningRate ?? 1);
  const maxStep = checkPositive(fn, "options.maxStep", options.maxStep ?? 1);
  const tolerance = checkPositive(fn, "options.tolerance", options.tolerance ?? 1e-5);
  const grid = checkGrid(fn, options.grid ?? DEFAULT_BANDWIDTH_GRID);

  const problem = prepareProblem(fn, objective, keys, values, options.kernel ?? "gaussian", options);
  try {
    const dims = problem.dims;
    let perDimension = options.perDimension ?? false;
    if (typeof perDimension !== "boolean")
      fail(fn, `options.perDimension must be a boolean, got ${describe(perDimension)}`);
    let start: number[] | undefined;
    if (options.init !== undefined) {
      start = checkSigma(fn, options.init, dims, "options.init");
      if (start.length > 1) perDimension = true;
      else if (perDimension) start = Array.from({ length: dims }, () => start![0] as number);
    }
    let evaluations = 0;
    const gridOut: { sigma: number[][]; loss: number[] } = { sigma: [], loss: [] };
    if (start === undefined) {
      const spread = problem.spread;
      const pooled = Math.sqrt(spread.reduce((a, s) => a + s * s, 0) / dims);
      let best = Infinity;
      for (const c of grid) {
        const sigma = perDimension ? spread.map((s) => c * s) : [c * pooled];
        const { loss } = problem.evaluate(sigma.map(Math.log), false);
        evaluations++;
        gridOut.sigma.push(sigma);
        gridOut.loss.push(loss);
        if (loss < best) {
          best = loss;
          start = sigma;
        }
      }
      if (start === undefined) {
        fail(
          fn,
          `the ${objective} loss is not finite at any grid width (kernel support too narrow?); pass options.init or a wider options.grid`,
        );
      }
    }
    const descent = minimise(
      (t) => {
        evaluations++;
        return problem.evaluate(t, true);
      },
      start.map(Math.log),
      { upper: problem.maxLogSigma(start.length), maxIterations, learningRate, maxStep, tolerance },
    );
    if (!Number.isFinite(descent.loss)) {
      fail(
        fn,
        `the ${objective} loss is not finite at the start σ = ${describe(start)}; choose another options.init`,
      );
    }
    return {
      sigma: descent.t.map(Math.exp),
      loss: descent.loss,
      gradient: descent.gradient,
      converged: descent.converged,
      stopReason: descent.stopReason,
      iterations: descent.iterations,
      evaluations,
      path: { sigma: descent.path.map((t) => t.map(Math.exp)), loss: descent.pathLoss },
      grid: gridOut,
    };
  } finally {
    problem.dispose();
  }
}

/**
 * Why {@link fitBandwidth} stopped:
 * - `"step"`: the last step moved every log σ_d by less than `tolerance` (converged);
 * - `"gradient"`: the gradient is exactly zero (converged; e.g. the training loss once every
 *   point attends only to itself);
 * - `"precision"`: the loss cannot be lowered within float32 resolution: either a full
 *   quasi-Newton step would gain less than 10⁻⁶ of the loss (converged), or the line search
 *   found no decrease at all (converged only if that step is below 10⁻³ in log σ; the
 *   training loss ends this way, still falling as σ → 0 until it underflows);
 * - `"maxIterations"`: the iteration budget ran out (not converged).
 */
export type StopReason = "step" | "gradient" | "precision" | "maxIterations";

interface MinimiseOptions {
  /** Upper bound of each t_j; steps are projected onto it. */
  readonly upper: readonly number[];
  readonly maxIterations: number;
  readonly learningRate: number;
  readonly maxStep: number;
  readonly tolerance: number;
}

interface MinimiseResult {
  t: number[];
  loss: number;
  gradient: number[];
  converged: boolean;
  stopReason: StopReason;
  iterations: number;
  path: number[][];
  pathLoss: number[];
}

/** Relative resolution of a float32 loss summed over blocks: gains below this are noise. */
const PRECISION = 1e-6;

const dot = (a: readonly number[], b: readonly number[]): number =>
  a.reduce((s, v, i) => s + v * (b[i] as number), 0);
const maxAbs = (a: readonly number[]): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const isFiniteAll = (a: readonly number[]): boolean => a.every(Number.isFinite);

/**
 * BFGS on a small vector t with an Armijo backtracking line search; `f` returns the loss and
 * its gradient. The inverse Hessian starts as (learningRate / L) I and is rescaled by sᵀy / yᵀy
 * after the first step (Nocedal & Wright, eq. 6.20).
 */
function minimise(f: (t: number[]) => LossAndGradient, t0: number[], o: MinimiseOptions): MinimiseResult {
  const p = t0.length;
  let t = t0.slice();
  let { loss, gradient: g } = f(t);
  const path = [t.slice()];
  const pathLoss = [loss];
  const result = (converged: boolean, stopReason: StopReason, iterations: number): MinimiseResult => ({
    t,
    loss,
    gradient: g,
    converged,
    stopReason,
    iterations,
    path,
    pathLoss,
  });
  if (!Number.isFinite(loss) || !isFiniteAll(g)) return result(false, "precision", 0);
  const identity = (scale: number): number[][] =>
    Array.from({ length: p }, (_, i) => Array.from({ length: p }, (_, j) => (i === j ? scale : 0)));
  let H = identity(o.learningRate / Math.max(Math.abs(loss), Number.MIN_VALUE));
  let first = true;
  for (let iter = 1; iter <= o.maxIterations; iter++) {
    if (maxAbs(g) === 0) return result(true, "gradient", iter - 1);
    // Coordinates held at their upper bound and pushed further out do not move.
    const free = t.map((v, j) => v < (o.upper[j] as number) || (g[j] as number) > 0);
    const project = (d: number[]): number[] => d.map((v, j) => (free[j] ? v : 0));
    let dir = project(H.map((row) => -dot(row, g)));
    if (!(dot(dir, g) < 0) || !isFiniteAll(dir)) {
      H = identity(o.learningRate / Math.max(Math.abs(loss), Number.MIN_VALUE));
      dir = project(H.map((row) => -dot(row, g)));
    }
    if (maxAbs(dir) === 0) return result(true, "gradient", iter - 1);
    const longest = maxAbs(dir);
    if (longest > o.maxStep) dir = dir.map((v) => (v * o.maxStep) / longest);
    const slope = dot(dir, g);
    if (!first && -slope <= PRECISION * Math.abs(loss)) {
      // A full quasi-Newton step would gain less than float32 can resolve in the loss.
      return result(true, "precision", iter - 1);
    }
    let alpha = 1;
    let accepted: { t: number[]; loss: number; gradient: number[] } | undefined;
    for (let k = 0; k < 40; k++) {
      const trial = t.map((v, i) => Math.min(v + alpha * (dir[i] as number), o.upper[i] as number));
      const next = f(trial);
      if (
        Number.isFinite(next.loss) &&
        isFiniteAll(next.gradient) &&
        next.loss <= loss + 1e-4 * alpha * slope
      ) {
        accepted = { t: trial, loss: next.loss, gradient: next.gradient };
        break;
      }
      alpha /= 2;
      if (alpha * maxAbs(dir) < o.tolerance * 1e-3) break;
    }
    if (accepted === undefined) {
      // No decrease representable in float32: we are at the floor of the loss's precision.
      return result(maxAbs(dir) < 1e-3, "precision", iter - 1);
    }
    const s = accepted.t.map((v, i) => v - (t[i] as number));
    const y = accepted.gradient.map((v, i) => v - (g[i] as number));
    t = accepted.t;
    loss = accepted.loss;
    g = accepted.gradient;
    path.push(t.slice());
    pathLoss.push(loss);
    const sy = dot(s, y);
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(y, y))) {
      if (first) {
        H = identity(sy / dot(y, y));
        first = false;
      }
      // H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ
      const rho = 1 / sy;
      const Hy = H.map((row) => dot(row, y));
      const yHy = dot(y, Hy);
      H = H.map((row, i) =>
        row.map(
          (h, j) =>
            h -
            rho * ((s[i] as number) * (Hy[j] as number) + (Hy[i] as number) * (s[j] as number)) +
            (rho * rho * yHy + rho) * (s[i] as number) * (s[j] as number),
        ),
      );
    }
    if (maxAbs(s) < o.tolerance) return result(true, "step", iter);
  }
  return maxAbs(g) === 0
    ? result(true, "gradient", o.maxIterations)
    : result(false, "maxIterations", o.maxIterations);
}

// ---------------------------------------------------------------------------------------------
// The chunked loss engine shared by every function above.

type Mode = "loo" | "train" | "heldout";

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

interface Problem {
  readonly dims: number;
  /** Standard deviation of the keys in each dimension (for the coarse grid). */
  readonly spread: number[];
  /**
   * Largest useful log σ for `p` widths: beyond it the kernel is constant to float32 precision
   * over every pair, so the loss no longer changes (widths above it are clamped to it).
   */
  maxLogSigma(p: number): number[];
  evaluate(logSigma: number[], wantGradient: boolean): LossAndGradient;
  /** Bias² and variance sums of held-out predictions (held-out mode, forward only). */
  risk(logSigma: number[]): { bias2: number; spread: number };
  dispose(): void;
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

function checkGrid(fn: string, grid: unknown): readonly number[] {
  if (!Array.isArray(grid) || grid.length === 0) {
    fail(fn, `options.grid must be a non-empty array of positive multiples, got ${describe(grid)}`);
  }
  grid.forEach((c, i) => checkPositive(fn, `options.grid[${i}]`, c));
  return grid as readonly number[];
}

function prepareProblem(
  fn: string,
  mode: Mode,
  keysIn: unknown,
  valuesIn: unknown,
  kernelIn: unknown,
  options: BandwidthLossOptions,
  heldOut?: { queries: unknown; targets: unknown },
  names: readonly [string, string] = ["values", "targets"],
): Problem {
  const [valuesArg, targetsArg] = names;
  const kernel = resolveKernel(fn, kernelIn);
  const period =
    options.period === undefined ? undefined : checkPositive(fn, "options.period", options.period);
  const owned: tf.Tensor[] = [];
  try {
    const keys = toPoints(fn, "keys", keysIn);
    owned.push(keys);
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
      queries = toPoints(fn, "queries", heldOut.queries);
      owned.push(queries);
      if (queries.shape[1] !== dims) {
        fail(fn, `keys and queries must have the same dimension, got ${dims} and ${queries.shape[1]}`);
      }
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
    return makeProblem(
      fn,
      { keys, values, blocks, kernel, period, dims, n, m, spread, range, cacheFloats },
      owned,
    );
  } catch (err) {
    tf.dispose(owned);
    throw err;
  }
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

function makeProblem(fn: string, data: ProblemData, owned: tf.Tensor[]): Problem {
  const { keys, values, blocks, kernel, period, dims, n, m } = data;
  // log k = c·r² (the Gaussian): logits straight from the squared distances, and the own key
  // pushed out by a huge distance instead of a mask.
  const quadratic = kernel.logQuadratic;
  /** Coordinates reduced to [0, period) on a torus, so any difference lies in (−period, period). */
  const reduce = (x: tf.Tensor): tf.Tensor =>
    period === undefined ? x : tf.sub(x, tf.mul(tf.floor(tf.div(x, period)), period));
  const keyColumns = tf.tidy(() => tf.split(tf.transpose(reduce(keys)), dims, 0)) as tf.Tensor2D[]; // d × [1, n]
  owned.push(...keyColumns);
  const valuesRow = values.shape[1] === 1 ? (tf.reshape(values, [1, -1]) as tf.Tensor2D) : undefined;
  if (valuesRow) owned.push(valuesRow);
  const pool = softmaxPool(values, valuesRow);
  // Largest squared difference per dimension (half a period on a torus).
  const maxSquared = data.range.map((r) => (period === undefined ? r * r : Math.min(r, period / 2) ** 2));
  const maxTotal = maxSquared.reduce((a, b) => a + b, 0);
  const selfDistance = Math.min(SELF_DISTANCE_FACTOR * maxTotal, 1e37);
  let cacheLeft = data.cacheFloats;
  let perDimCache: boolean | undefined;

  /** Squared differences of a block: the sum over dimensions, or one per dimension. */
  const squaredDifferences = (block: Block, perDim: boolean): tf.Tensor2D[] =>
    tf.tidy(() => {
      const cols = tf.split(reduce(block.queries), dims, 1) as tf.Tensor2D[];
      let parts = cols.map((q, j) => {
        if (period === undefined) return tf.squaredDifference(q, keyColumns[j] as tf.Tensor2D);
        // |δ| < period after reduction; the shorter way round the circle is
        // min(|δ|, period − |δ|) = period/2 − ||δ| − period/2| (tf.minimum is slow on wasm).
        const half = period / 2;
        const delta = tf.abs(tf.sub(q, keyColumns[j] as tf.Tensor2D));
        return tf.squaredDifference(tf.abs(tf.sub(delta, half)), half);
      }) as tf.Tensor2D[];
      if (!perDim && dims > 1) parts = [tf.addN(parts) as tf.Tensor2D];
      if (quadratic !== undefined && block.index !== undefined) {
        const size = block.size;
        const at = new Int32Array(2 * size);
        block.index.forEach((k, r) => {
          at[2 * r] = r;
          at[2 * r + 1] = k;
        });
        const indices = tf.tensor2d(at, [size, 2], "int32");
        const updates = tf.fill([size], selfDistance);
        parts = parts.map((d) => tf.tensorScatterUpdate(d, indices, updates) as tf.Tensor2D);
      }
      return parts;
    });

  const looMask = (block: Block): tf.Tensor2D => {
    // A fresh buffer each time: the cpu backend keeps the array it is given, without copying.
    const size = block.size;
    const buf = new Float32Array(size * n);
    const index = block.index as Int32Array;
    for (let r = 0; r < size; r++) buf[r * n + (index[r] as number)] = Number.NEGATIVE_INFINITY;
    return tf.tensor2d(buf, [size, n]);
  };

  const blockParts = (
    block: Block,
    perDim: boolean,
  ): { parts: tf.Tensor2D[]; mask?: tf.Tensor2D; cached: boolean } => {
    if (perDimCache !== perDim) {
      // The cache holds one layout (summed or per dimension); switching layouts rebuilds it.
      for (const b of blocks) {
        tf.dispose(b.parts ?? []);
        b.parts = undefined;
        b.mask?.dispose();
        b.mask = undefined;
      }
      cacheLeft = data.cacheFloats;
      perDimCache = perDim;
    }
    if (block.parts !== undefined) return { parts: block.parts, mask: block.mask, cached: true };
    const parts = squaredDifferences(block, perDim);
    const mask = block.index !== undefined && quadratic === undefined ? looMask(block) : undefined;
    const floats = block.size * n * (parts.length + (mask ? 1 : 0));
    if (floats <= cacheLeft) {
      cacheLeft -= floats;
      block.parts = parts;
      block.mask = mask;
      return { parts, mask, cached: true };
    }
    return { parts, mask, cached: false };
  };

  /** log-kernel scores of a block from t = log σ (`[p]`), −∞ on each row's own key for LOO. */
  const blockLogits = (parts: tf.Tensor2D[], mask: tf.Tensor2D | undefined, t: tf.Tensor): tf.Tensor => {
    const inv = tf.exp(tf.mul(t, -2)); // 1/σ², [p]
    const scaled = (coef: tf.Tensor): tf.Tensor =>
      parts.length === 1
        ? tf.mul(parts[0] as tf.Tensor2D, tf.reshape(coef, []))
        : tf.addN(parts.map((d, j) => tf.mul(d, tf.reshape(tf.slice(coef, [j], [1]), []))));
    let logits = quadratic !== undefined ? scaled(tf.mul(inv, quadratic)) : kernel.logValue(scaled(inv));
    if (mask !== undefined) logits = tf.add(logits, mask);
    return logits;
  };

  /** Sum over the block of ‖f(q) − t‖², as a function of t = log σ. */
  const blockLoss = (block: Block, parts: tf.Tensor2D[], mask: tf.Tensor2D | undefined) => (t: tf.Tensor) => {
    const residual = tf.sub(pool(blockLogits(parts, mask, t)) as tf.Tensor2D, block.targets);
    return tf.sum(tf.square(residual)) as tf.Scalar;
  };

  const maxLogSigma = (p: number): number[] =>
    p === 1
      ? [Math.log(SIGMA_MAX_FACTOR * Math.sqrt(maxTotal))]
      : maxSquared.map((s) => Math.log(SIGMA_MAX_FACTOR * Math.sqrt(s)));

  /** Runs `body` on every block with its (possibly cached) squared differences and t = log σ. */
  const eachBlock = (
    logSigma: number[],
    body: (block: Block, parts: tf.Tensor2D[], mask: tf.Tensor2D | undefined, t: tf.Tensor) => void,
  ): void => {
    if (disposed) fail(fn, "internal: problem used after dispose");
    const p = logSigma.length;
    const limit = maxLogSigma(p);
    const t = tf.tensor1d(
      logSigma.map((v, j) => Math.min(v, limit[j] as number)),
      "float32",
    );
    try {
      for (const block of blocks) {
        const { parts, mask, cached } = blockParts(block, p > 1);
        try {
          body(block, parts, mask, t);
        } finally {
          if (!cached) tf.dispose([...parts, ...(mask ? [mask] : [])]);
        }
      }
    } finally {
      t.dispose();
    }
  };

  let disposed = false;
  return {
    dims,
    spread: data.spread,
    maxLogSigma,
    evaluate(logSigma: number[], wantGradient: boolean): LossAndGradient {
      const p = logSigma.length;
      const limit = maxLogSigma(p);
      let total = 0;
      const grad = new Array<number>(p).fill(0);
      eachBlock(logSigma, (block, parts, mask, t) => {
        const f = blockLoss(block, parts, mask);
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
      let loss = total / m;
      // Past the clamp the float32 loss is flat: its derivative there is exactly 0.
      let gradient = grad.map((v, j) => ((logSigma[j] as number) > (limit[j] as number) ? 0 : v / m));
      if (!Number.isFinite(loss)) {
        // A compact kernel left some row with no key in its support (0/0): the width is too small.
        loss = Infinity;
        gradient = gradient.map(() => Number.NaN);
      }
      return { loss, gradient };
    },
    risk(logSigma: number[]): { bias2: number; spread: number } {
      let bias2 = 0;
      let spread = 0;
      eachBlock(logSigma, (block, parts, mask, t) => {
        const sums = tf.tidy(() => {
          const weights = tf.softmax(blockLogits(parts, mask, t)) as tf.Tensor2D;
          const bias = tf.sub(tf.matMul(weights, values), block.targets);
          return tf.stack([tf.sum(tf.square(bias)), tf.sum(tf.square(weights))]);
        });
        const [b, s] = sums.dataSync();
        sums.dispose();
        bias2 += b as number;
        spread += s as number;
      });
      return { bias2: bias2 / m, spread: spread / m };
    },
    dispose(): void {
      if (disposed) return;
      disposed = true;
      for (const b of blocks) {
        tf.dispose(b.parts ?? []);
        b.mask?.dispose();
      }
      tf.dispose(owned);
    },
  };
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

function singleLoss(
  fn: string,
  mode: "loo" | "train",
  keys: unknown,
  values: unknown,
  kernel: unknown,
  options: BandwidthLossOptions,
): number {
  checkOptions(fn, options);
  const problem = prepareProblem(fn, mode, keys, values, kernel, options);
  try {
    const widths = checkSigma(fn, options.sigma ?? 1, problem.dims, "options.sigma");
    return problem.evaluate(widths.map(Math.log), false).loss;
  } finally {
    problem.dispose();
  }
}
