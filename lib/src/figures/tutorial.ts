/**
 * The tutorial's figures, built here so that the notebook and `npm run figures` draw the same
 * figures from the same code: kernel shapes, predictions and attention heatmaps, for the four
 * tutorial kernels and for four Gaussian widths.
 */
import * as tf from "@tensorflow/tfjs-core";

import { loadTutorialData, type TutorialData } from "../data";
import { describe, fail } from "../errors";
import { evaluateKernel, KERNELS, resolveKernel, TUTORIAL_KERNELS, type KernelName } from "../kernels";
import { attentionWeights, nadarayaWatson } from "../nadaraya_watson";
import { heatmapsFigure, type HeatmapsFigureOptions } from "./heatmaps";
import { linesFigure, type LinesFigureOptions } from "./lines";
import { MAGENTA, SERIES_COLORS } from "./style";
import type { HeatmapsFigure, LinePanelInput, LinesFigure } from "./types";

/** The Gaussian widths σ the tutorial compares. */
export const GAUSSIAN_WIDTHS = [0.1, 0.2, 0.5, 1] as const;

/**
 * One panel of a tutorial figure: a kernel name (width σ = 1), a number (a Gaussian of that
 * width σ), or `{ kernel, sigma, title }` with defaults `"gaussian"`, 1 and a generated title.
 */
export type TutorialPanel = KernelName | number | { readonly kernel?: KernelName; readonly sigma?: number; readonly title?: string };

/**
 * The display name of a kernel: its name capitalised. The tutorial's "Epanechikov" (sic) is the
 * triangular kernel max(0, 1 − |x|), so it is shown as "Epanechikov (triangular)".
 *
 * @example
 * ```ts
 * kernelTitle("epanechikov"); // "Epanechikov (triangular)"
 * ```
 */
export function kernelTitle(kernel: KernelName): string {
  const name = resolveKernel("kernelTitle", kernel).name;
  const title = name.charAt(0).toUpperCase() + name.slice(1);
  return name === "epanechikov" ? `${title} (triangular)` : title;
}

/** A number as the tutorial writes σ: `0.1`, `1`. */
const formatSigma = (s: number): string => String(+s.toPrecision(6));

function resolvePanel(fn: string, panel: unknown, i: number): { kernel: KernelName; sigma: number; title: string } {
  const at = `panels[${i}]`;
  let kernel: unknown = "gaussian";
  let sigma: unknown = 1;
  let title: unknown;
  if (typeof panel === "string") {
    kernel = panel;
  } else if (typeof panel === "number") {
    sigma = panel;
    title = `σ = ${formatSigma(panel)}`;
  } else if (typeof panel === "object" && panel !== null) {
    const p = panel as { kernel?: unknown; sigma?: unknown; title?: unknown };
    kernel = p.kernel ?? "gaussian";
    sigma = p.sigma ?? 1;
    title = p.title;
  } else {
    return fail(fn, `${at} must be a kernel name, a Gaussian width or { kernel, sigma, title }, got ${describe(panel)}`);
  }
  if (typeof kernel !== "string" || !Object.prototype.hasOwnProperty.call(KERNELS, kernel)) {
    fail(fn, `${at}: unknown kernel ${describe(kernel)}; expected one of ${Object.keys(KERNELS).join(", ")}`);
  }
  if (typeof sigma !== "number" || !Number.isFinite(sigma) || sigma <= 0) {
    fail(fn, `${at}: sigma must be finite and > 0, got ${describe(sigma)}`);
  }
  if (title !== undefined && typeof title !== "string") fail(fn, `${at}.title must be a string, got ${describe(title)}`);
  const k = kernel as KernelName;
  const generated =
    typeof panel === "object" && sigma !== 1
      ? k === "gaussian"
        ? `σ = ${formatSigma(sigma)}`
        : `${kernelTitle(k)}, σ = ${formatSigma(sigma)}`
      : kernelTitle(k);
  return { kernel: k, sigma, title: (title as string | undefined) ?? generated };
}

function resolvePanels(fn: string, panels: unknown): { kernel: KernelName; sigma: number; title: string }[] {
  if (!Array.isArray(panels) || panels.length === 0) fail(fn, `panels must be a non-empty array, got ${describe(panels)}`);
  return panels.map((p, i) => resolvePanel(fn, p, i));
}

/**
 * The offsets at which kernel shapes are drawn: −2.5, −2.4, …, 2.4, fifty points (the tutorial's
 * `arange(-2.5, 2.5, 0.1)`), each the double nearest to i/10.
 *
 * @example
 * ```ts
 * kernelShapeGrid().length; // 50
 * ```
 */
export function kernelShapeGrid(): number[] {
  return Array.from({ length: 50 }, (_, i) => (i - 25) / 10);
}

/**
 * The shapes k(x) of kernels on x ∈ [−2.5, 2.5) in steps of 0.1, one panel per kernel, sharing
 * the y axis (the tutorial's step 3). Evaluates {@link evaluateKernel} with σ = 1.
 *
 * @param kernels kernel names. Default: the tutorial's four, gaussian, boxcar, constant and
 *   epanechikov (which is the triangular kernel; its panel says so).
 * @param options size and label options of {@link linesFigure}.
 *
 * @example
 * ```ts
 * await show(kernelShapesFigure());
 * ```
 */
export function kernelShapesFigure(
  kernels: readonly KernelName[] = TUTORIAL_KERNELS,
  options: LinesFigureOptions = {},
): LinesFigure {
  const fn = "kernelShapesFigure";
  const resolved = resolvePanels(fn, kernels);
  const x = kernelShapeGrid();
  const panels: LinePanelInput[] = resolved.map(({ kernel, title }) => {
    const k = evaluateKernel(kernel, x);
    try {
      return { title, series: [{ name: "k(x)", x, y: Array.from(k.dataSync()) }] };
    } finally {
      k.dispose();
    }
  });
  return linesFigure(panels, { xLabel: "x", yLabel: "k(x)", ...options });
}

/**
 * Nadaraya-Watson predictions at the validation queries, one panel per kernel (or width), each
 * with the prediction (solid blue), the true function 2 sin x + x (dashed magenta) and the
 * training data (orange points at opacity 0.5), sharing the y axis (the tutorial's steps 6
 * and 8; unlike the tutorial's step 6 this draws all four kernels, constant included).
 * Calls {@link nadarayaWatson}(xTrain, yTrain, xVal, kernel, { sigma }).
 *
 * @param data the tutorial data. Default: {@link loadTutorialData}().
 * @param panels kernels by name, Gaussian widths σ as numbers, or `{ kernel, sigma, title }`.
 *   Default: the four tutorial kernels. Use {@link GAUSSIAN_WIDTHS} for the width study.
 * @param options size and label options of {@link linesFigure}.
 *
 * @example
 * ```ts
 * const data = loadTutorialData();
 * await show(predictionsFigure(data));                  // four kernels
 * await show(predictionsFigure(data, GAUSSIAN_WIDTHS)); // σ = 0.1, 0.2, 0.5, 1
 * ```
 */
export function predictionsFigure(
  data: TutorialData = loadTutorialData(),
  panels: readonly TutorialPanel[] = TUTORIAL_KERNELS,
  options: LinesFigureOptions = {},
): LinesFigure {
  const fn = "predictionsFigure";
  const resolved = resolvePanels(fn, panels);
  const built: LinePanelInput[] = resolved.map(({ kernel, sigma, title }) => {
    const { predictions } = nadarayaWatson(data.xTrain, data.yTrain, data.xVal, kernel, { sigma });
    let yHat: number[];
    try {
      yHat = Array.from(predictions.dataSync());
    } finally {
      predictions.dispose();
    }
    return {
      title,
      series: [
        { name: "Prediction", x: data.xVal, y: yHat, color: SERIES_COLORS[0] },
        { name: "True function", x: data.xVal, y: data.yVal, style: "dashed", color: MAGENTA },
        { name: "Training data", x: data.xTrain, y: data.yTrain, style: "points", color: SERIES_COLORS[1] },
      ],
    };
  });
  return linesFigure(built, { xLabel: "x", yLabel: "y", ...options });
}

/**
 * Attention-weight heatmaps, one panel per kernel (or width), with one shared "Reds" colour
 * bar (the tutorial's steps 7 and 9). Each panel draws {@link attentionWeights}(xTrain, xVal,
 * kernel, { sigma }), a `[nQueries, nKeys]` matrix, with the key (training) index on the y axis
 * and the query (validation) index on the x axis. The training keys are sorted, so weight
 * near the diagonal means that a query attends to the keys nearest to it.
 *
 * @param data the tutorial data. Default: {@link loadTutorialData}().
 * @param panels as for {@link predictionsFigure}. Default: the four tutorial kernels.
 * @param options size and label options of {@link heatmapsFigure}.
 *
 * @example
 * ```ts
 * await show(attentionFigure(loadTutorialData(), GAUSSIAN_WIDTHS));
 * ```
 */
export function attentionFigure(
  data: TutorialData = loadTutorialData(),
  panels: readonly TutorialPanel[] = TUTORIAL_KERNELS,
  options: HeatmapsFigureOptions = {},
): HeatmapsFigure {
  const fn = "attentionFigure";
  const resolved = resolvePanels(fn, panels);
  const weights = resolved.map(({ kernel, sigma }) => attentionWeights(data.xTrain, data.xVal, kernel, { sigma }));
  try {
    return heatmapsFigure(
      resolved.map(({ title }, i) => ({ title, weights: weights[i] as tf.Tensor2D })),
      { xLabel: "Query (validation) index", yLabel: "Key (training) index", ...options },
    );
  } finally {
    tf.dispose(weights);
  }
}


