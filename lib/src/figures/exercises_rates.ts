/**
 * Exercise 4 (consistency rates): the log-log figure of the chosen width and the MSE against n,
 * with the asymptotic theory, built here so that the notebook and `npm run figures` draw the
 * same figure from the same code.
 */
import { asymptoticRisk, type ConsistencyResult } from "../consistency";
import { chartsFigure, type ChartsFigure } from "./charts";
import { SERIES_COLORS } from "./style";
import type { FigureSizeOptions, SeriesInput } from "./types";

/**
 * Two log-log panels against n, one colour per dimension: the risk-minimising width h* (points)
 * and the leave-one-out width (small points, where measured) with the asymptotic h*, and the MSE
 * at h* with the asymptotic MSE (dashed, {@link asymptoticRisk}). The theory lines are absolute
 * predictions, not fitted to the points.
 *
 * @param results one {@link consistencyExperiment} result per dimension.
 *
 * @example
 * ```ts
 * await show(ratesFigure(CONSISTENCY_SETTINGS.map(consistencyExperiment)));
 * ```
 */
export function ratesFigure(results: readonly ConsistencyResult[], options: FigureSizeOptions = {}): ChartsFigure {
  const widths: SeriesInput[] = [];
  const errors: SeriesInput[] = [];
  results.forEach((r, k) => {
    const color = SERIES_COLORS[k % SERIES_COLORS.length] as string;
    const theory = r.sizes.map((n) => asymptoticRisk(r.dims, n, r.noise));
    widths.push({ name: `h*, d = ${r.dims}`, x: r.sizes, y: r.sigma.values, style: "points", color });
    if (r.looSigma) {
      widths.push({ name: `LOO, d = ${r.dims}`, x: r.looSigma.sizes, y: r.looSigma.values, style: "points", color, opacity: 0.35 });
    }
    widths.push({ name: "asymptotic theory", x: r.sizes, y: theory.map((t) => t.sigma), style: "dashed", color: "#555555" });
    errors.push({ name: `h*, d = ${r.dims}`, x: r.sizes, y: r.mse.values, style: "points", color });
    if (r.looMse) {
      errors.push({ name: `LOO, d = ${r.dims}`, x: r.looMse.sizes, y: r.looMse.values, style: "points", color, opacity: 0.35 });
    }
    errors.push({ name: "asymptotic theory", x: r.sizes, y: theory.map((t) => t.mse), style: "dashed", color: "#555555" });
  });
  return chartsFigure(
    [
      { title: "chosen width against n", xScale: "log", yScale: "log", yLabel: "σ", series: widths },
      { title: "MSE against n", xScale: "log", yScale: "log", yLabel: "MSE against the true function", series: errors },
    ],
    {
      xLabel: "n",
      width: options.width ?? 960,
      height: options.height ?? 340,
      ...(options.pixelRatio === undefined ? {} : { pixelRatio: options.pixelRatio }),
      ...(options.title === undefined ? {} : { title: options.title }),
    },
  );
}

