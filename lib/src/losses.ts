/**
 * The bandwidth losses of Nadaraya-Watson regression, as numbers and as functions of σ.
 *
 * Both losses are means of squared residuals over the evaluated points i:
 *
 *   L_train(σ) = (1/m) Σ_i ‖f_σ(x_i) − y_i‖²,        f_σ(x) = Σ_j softmax_j(log K_σ(x − x_j)) y_j,
 *   L_loo(σ)   = (1/m) Σ_i ‖f_σ^(−i)(x_i) − y_i‖²,   f_σ^(−i) leaves the pair (x_i, y_i) out.
 *
 * The training loss is minimised by σ → 0, because y_i is one of the values f(x_i) averages
 * and its own weight tends to 1. Leaving the pair out removes that shortcut. The computation is
 * the loss engine's (loss_engine.ts).
 */
import { describe, fail } from "./errors";
import { type Kernel, type KernelName } from "./kernels";
import {
  BANDWIDTH_OBJECTIVES,
  prepareProblem,
  type BandwidthLossOptions,
  type BandwidthObjective,
  type LossAndGradient,
} from "./loss_engine";
import { checkChoice, checkOptions, checkSigma, type TensorInput } from "./validate";

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

/** Options for {@link bandwidthLossAndGradient} and {@link bandwidthLossCurve}. */
export interface BandwidthObjectiveOptions extends BandwidthLossOptions {
  /** `"loo"` (default) or `"train"`. */
  readonly objective?: BandwidthObjective;
}

/**
 * The loss and its gradient with respect to log σ. For the Gaussian (off a torus, at widths of
 * ordinary size) both come from one fused pass per row with the derivative written out (see
 * `fusedKernelInfo`). Otherwise they come from TensorFlow.js autodiff (reverse mode through the
 * scaled distances, the softmax pooling and the squared residuals), summed over blocks; the
 * softmax pooling is one op whose vector-Jacobian product is written out, as tfjs does for its
 * own softmax, and everything else is tfjs's own gradients.
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
