/**
 * Exercise 2 (learning σ): the computations its notebook shows and the figures drawn from them,
 * built here so that the notebook and `npm run figures` draw the same figures from the same code.
 */
import {
  anisotropicData,
  bandwidthLossCurve,
  fitBandwidth,
  heldOutLoss,
  logSpace,
  type FitBandwidthResult,
} from "../bandwidth";
import { loadTutorialData, trueFunction, type TutorialData } from "../data";
import { nadarayaWatson } from "../nadaraya_watson";
import { chartsFigure, type ChartsFigure } from "./charts";
import { linesFigure } from "./lines";
import { MAGENTA } from "./style";
import type { FigureSizeOptions, LinesFigure } from "./types";

/** The tutorial's fixed Gaussian widths, to compare σ* with. */
export const TUTORIAL_WIDTHS: readonly number[] = [0.1, 0.2, 0.5, 1];

/** Everything exercise 2 computes on the tutorial data, as plain numbers. */
export interface SigmaStudy {
  readonly data: TutorialData;
  /** A fine grid of widths (300 values from 0.005 to 5, log-spaced). */
  readonly grid: number[];
  /** LOO loss on `grid`. */
  readonly loo: number[];
  /** Training loss on `grid`. */
  readonly train: number[];
  /** Test MSE against the true function on the validation queries, on `grid`. */
  readonly test: number[];
  /** `fitBandwidth` with its defaults: LOO from the best point of the coarse grid. */
  readonly looFit: FitBandwidthResult;
  /** LOO descent started at σ = 1 (for drawing a longer path). */
  readonly looDescent: FitBandwidthResult;
  /** Training-loss descent started at σ = 1, steps of at most 0.25 in log σ. */
  readonly trainDescent: FitBandwidthResult;
  /** Test MSE at each iterate of `looDescent` and of `trainDescent`. */
  readonly looDescentTest: number[];
  readonly trainDescentTest: number[];
}

/**
 * Runs exercise 2's computations on the tutorial data: loss curves on a fine grid, the default
 * LOO fit, and two descents from σ = 1 (LOO and training loss) with the test error along them.
 *
 * @example
 * ```ts
 * const study = sigmaStudy();
 * study.looFit.sigma[0]; // σ*
 * ```
 */
export function sigmaStudy(data: TutorialData = loadTutorialData()): SigmaStudy {
  const { xTrain, yTrain, xVal, yVal } = data;
  const grid = logSpace(0.005, 5, 300);
  const testAt = (sigma: number) => heldOutLoss(xTrain, yTrain, xVal, yVal, "gaussian", { sigma });
  const looDescent = fitBandwidth(xTrain, yTrain, { init: 1 });
  const trainDescent = fitBandwidth(xTrain, yTrain, { objective: "train", init: 1, maxStep: 0.25 });
  return {
    data,
    grid,
    loo: bandwidthLossCurve(xTrain, yTrain, grid),
    train: bandwidthLossCurve(xTrain, yTrain, grid, "gaussian", { objective: "train" }),
    test: grid.map(testAt),
    looFit: fitBandwidth(xTrain, yTrain),
    looDescent,
    trainDescent,
    looDescentTest: looDescent.path.sigma.map((s) => testAt(s[0] as number)),
    trainDescentTest: trainDescent.path.sigma.map((s) => testAt(s[0] as number)),
  };
}

const sizeOf = (options: FigureSizeOptions, width: number, height: number) => ({
  width: options.width ?? width,
  height: options.height ?? height,
  ...(options.pixelRatio === undefined ? {} : { pixelRatio: options.pixelRatio }),
  ...(options.title === undefined ? {} : { title: options.title }),
});

/**
 * Left: the LOO and training losses against σ (log axis), with the coarse grid and the descent
 * of the default fit marked. Right: the test error against the true function, with σ* and the
 * tutorial's fixed widths marked.
 *
 * @example
 * ```ts
 * await show(looCurveFigure(sigmaStudy()));
 * ```
 */
export function looCurveFigure(study: SigmaStudy, options: FigureSizeOptions = {}): ChartsFigure {
  const fit = study.looFit;
  const star = fit.sigma[0] as number;
  const { xTrain, yTrain, xVal, yVal } = study.data;
  const testAt = (sigma: number) => heldOutLoss(xTrain, yTrain, xVal, yVal, "gaussian", { sigma });
  return chartsFigure(
    [
      {
        title: "losses on the training data",
        xScale: "log",
        yLabel: "mean squared error",
        yDomain: [0, 3.2],
        series: [
          { name: "LOO loss", x: study.grid, y: study.loo },
          { name: "training loss", x: study.grid, y: study.train, style: "dashed" },
          { name: "coarse grid", x: fit.grid.sigma.map((s) => s[0] as number), y: fit.grid.loss, style: "points" },
          { name: "descent", x: fit.path.sigma.map((s) => s[0] as number), y: fit.path.loss, style: "points" },
        ],
      },
      {
        title: "error against the true function",
        xScale: "log",
        yLabel: "test MSE",
        yDomain: [0, 3.2],
        series: [
          { name: "test MSE", x: study.grid, y: study.test },
          { name: "tutorial's widths", x: [...TUTORIAL_WIDTHS], y: TUTORIAL_WIDTHS.map(testAt), style: "points" },
          { name: "σ* (LOO)", x: [star], y: [testAt(star)], style: "points" },
        ],
      },
    ],
    { xLabel: "σ", ...sizeOf(options, 960, 300) },
  );
}

/**
 * The two descents from σ = 1 against the iteration: σ (log axis) for the LOO and the training
 * loss, and, for the training loss, the loss itself falling toward 0 while the test error climbs
 * (log axis).
 *
 * @example
 * ```ts
 * await show(sigmaDescentFigure(sigmaStudy()));
 * ```
 */
export function sigmaDescentFigure(study: SigmaStudy, options: FigureSizeOptions = {}): ChartsFigure {
  const steps = (f: FitBandwidthResult) => f.path.sigma.map((_, i) => i);
  const train = study.trainDescent;
  return chartsFigure(
    [
      {
        title: "σ along gradient descent",
        xLabel: "iteration",
        yLabel: "σ",
        yScale: "log",
        series: [
          { name: "minimising the LOO loss", x: steps(study.looDescent), y: study.looDescent.path.sigma.map((s) => s[0] as number) },
          { name: "minimising the training loss", x: steps(train), y: train.path.sigma.map((s) => s[0] as number) },
        ],
      },
      {
        title: "errors along the training-loss descent",
        xLabel: "iteration",
        yLabel: "mean squared error",
        yScale: "log",
        series: [
          { name: "training loss", x: steps(train), y: train.path.loss.map((v) => Math.max(v, 1e-16)), style: "dashed" },
          { name: "test MSE", x: steps(train), y: study.trainDescentTest },
        ],
      },
    ],
    sizeOf(options, 960, 300),
  );
}

/**
 * The estimates themselves: at σ* (LOO) a smooth curve near the truth; at the σ the training
 * loss ends with, a staircase through every noisy point.
 *
 * @example
 * ```ts
 * await show(sigmaFitsFigure(sigmaStudy()));
 * ```
 */
export function sigmaFitsFigure(study: SigmaStudy, options: FigureSizeOptions = {}): LinesFigure {
  const { xTrain, yTrain } = study.data;
  const x = Array.from({ length: 251 }, (_, i) => i / 50); // 0, 0.02, …, 5
  const curve = (sigma: number) => {
    const { predictions } = nadarayaWatson(xTrain, yTrain, x, "gaussian", { sigma });
    const y = Array.from(predictions.dataSync());
    predictions.dispose();
    return y;
  };
  const panel = (title: string, sigma: number) => ({
    title,
    series: [
      { name: "prediction", x, y: curve(sigma) },
      { name: "true function", x, y: x.map(trueFunction), style: "dashed" as const, color: MAGENTA },
      { name: "training data", x: xTrain, y: yTrain, style: "points" as const },
    ],
  });
  const star = study.looFit.sigma[0] as number;
  const collapsed = study.trainDescent.sigma[0] as number;
  return linesFigure(
    [
      panel(`σ* = ${star.toPrecision(3)} (leave-one-out)`, star),
      panel(`σ = ${collapsed.toPrecision(2)} (training loss)`, collapsed),
    ],
    { xLabel: "x", yLabel: "y", ...sizeOf(options, 960, 280) },
  );
}

/** Exercise 2's per-dimension study on {@link anisotropicData}. */
export interface PerDimensionStudy {
  readonly keys: number[][];
  readonly values: number[];
  /** LOO fit with one width per dimension. */
  readonly fit: FitBandwidthResult;
  /** LOO fit with one shared width. */
  readonly shared: FitBandwidthResult;
  /** σ₁ and σ₂ of the loss surface (40 log-spaced values each). */
  readonly sigma1: number[];
  readonly sigma2: number[];
  /** LOO loss `[σ₂ index][σ₁ index]`. */
  readonly loss: number[][];
}

/**
 * Learns one width per dimension on {@link anisotropicData}, and maps the LOO loss over a grid
 * of (σ₁, σ₂) to show where the descent went.
 *
 * @example
 * ```ts
 * perDimensionStudy().fit.sigma; // [σ₁, σ₂] with σ₁ ≪ σ₂
 * ```
 */
export function perDimensionStudy(): PerDimensionStudy {
  const { keys, values } = anisotropicData();
  const sigma1 = logSpace(0.01, 1, 40);
  const sigma2 = logSpace(0.01, 3, 40);
  const pairs = sigma2.flatMap((s2) => sigma1.map((s1) => [s1, s2]));
  const flat = bandwidthLossCurve(keys, values, pairs);
  const loss = sigma2.map((_, i) => flat.slice(i * sigma1.length, (i + 1) * sigma1.length));
  return {
    keys,
    values,
    fit: fitBandwidth(keys, values, { perDimension: true }),
    shared: fitBandwidth(keys, values),
    sigma1,
    sigma2,
    loss,
  };
}

/**
 * The LOO loss over (σ₁, σ₂) on log axes (colour, clipped at twice its minimum so the valley
 * shows), the per-dimension descent on it, and the shared-σ optimum on the diagonal.
 *
 * @example
 * ```ts
 * await show(perDimensionFigure(perDimensionStudy()));
 * ```
 */
export function perDimensionFigure(study: PerDimensionStudy, options: FigureSizeOptions = {}): ChartsFigure {
  const low = Math.min(...study.loss.flat());
  const s = study.shared.sigma[0] as number;
  return chartsFigure(
    [
      {
        title: "LOO loss over one width per dimension",
        xLabel: "σ₁ (y varies fast along x₁)",
        yLabel: "σ₂ (y varies slowly along x₂)",
        xScale: "log",
        yScale: "log",
        field: {
          x: study.sigma1,
          y: study.sigma2,
          values: study.loss.map((row) => row.map((v) => Math.min(v, 2 * low))),
          label: "LOO loss",
        },
        series: [
          {
            name: "descent (per dimension)",
            x: study.fit.path.sigma.map((p) => p[0] as number),
            y: study.fit.path.sigma.map((p) => p[1] as number),
            color: "#ff7f0e",
          },
          { name: "optimum (per dimension)", x: [study.fit.sigma[0] as number], y: [study.fit.sigma[1] as number], style: "points", color: "#ff7f0e" },
          { name: "optimum (shared σ)", x: [s], y: [s], style: "points", color: "#d62728" },
        ],
      },
    ],
    sizeOf(options, 640, 420),
  );
}

