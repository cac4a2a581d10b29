/**
 * The exact conditional risk of Nadaraya-Watson regression in a simulation (where the true
 * function is known), and the oracle width h* that minimises it.
 */
import { type Kernel, type KernelName } from "./kernels";
import { checkGrid, prepareProblem, type BandwidthLossOptions } from "./loss_engine";
import { logSpace } from "./fit_bandwidth";
import { goldenSection } from "./optimise";
import { checkNonNegative, checkOptions, checkPositive, checkSigma, type TensorInput } from "./validate";

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
  /** The risk-minimising width, shared by every dimension: one entry, as `fitBandwidth` gives it. */
  readonly sigma: number[];
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
 * nadarayaWatson(keys, values, queries, "gaussian", { sigma }); // σ as fitted, straight in
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
    // Golden-section search in the bracket around the best grid point; the grid point itself
    // stays a candidate.
    const found = goldenSection(
      riskAt,
      (r) => r.mse,
      ts[Math.max(0, best - 1)] as number,
      ts[Math.min(ts.length - 1, best + 1)] as number,
      tolerance,
    );
    const [t, risk] =
      found.value.mse <= (risks[best] as Risk).mse
        ? [found.x, found.value]
        : [ts[best] as number, risks[best] as Risk];
    return { sigma: [Math.exp(t)], risk, evaluations };
  } finally {
    problem.dispose();
  }
}
