/**
 * Fitting the kernel width σ: a coarse grid, then quasi-Newton descent on log σ with the loss
 * engine's exact gradient (the leave-one-out loss by default, the degenerate training loss to see
 * why not).
 */
import { describe, fail } from "./errors";
import { type Kernel, type KernelName } from "./kernels";
import {
  BANDWIDTH_OBJECTIVES,
  checkGrid,
  prepareProblem,
  type BandwidthLossOptions,
  type BandwidthObjective,
} from "./loss_engine";
import { minimise, type StopReason } from "./optimise";
import {
  checkChoice,
  checkInteger,
  checkOptions,
  checkPositive,
  checkSigma,
  type Sigma,
  type TensorInput,
} from "./validate";

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

/** Options for {@link fitBandwidth}. */
export interface FitBandwidthOptions extends Omit<BandwidthLossOptions, "sigma"> {
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
 * the training loss) in log σ, with exact gradients (see `bandwidthLossAndGradient`).
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
 * @param kernel a name from `KERNELS` or a `Kernel`. Default `"gaussian"`.
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
  kernel: KernelName | Kernel = "gaussian",
  options: FitBandwidthOptions = {},
): FitBandwidthResult {
  const fn = "fitBandwidth";
  if (typeof kernel === "object" && kernel !== null && !("logValue" in kernel)) {
    fail(
      fn,
      `the kernel is the third argument and the options the fourth, as in every call: ` +
        `fitBandwidth(keys, values, "gaussian", { ... }); got an options object as the kernel`,
    );
  }
  checkOptions(fn, options);
  const objective = checkChoice(fn, "options.objective", options.objective ?? "loo", BANDWIDTH_OBJECTIVES);
  const maxIterations = options.maxIterations ?? 100;
  checkInteger(fn, "options.maxIterations", maxIterations, 0);
  const learningRate = checkPositive(fn, "options.learningRate", options.learningRate ?? 1);
  const maxStep = checkPositive(fn, "options.maxStep", options.maxStep ?? 1);
  const tolerance = checkPositive(fn, "options.tolerance", options.tolerance ?? 1e-5);
  const grid = checkGrid(fn, options.grid ?? DEFAULT_BANDWIDTH_GRID);

  const problem = prepareProblem(fn, objective, keys, values, kernel, options);
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
