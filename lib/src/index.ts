/**
 * attention-pooling: Nadaraya-Watson kernel regression as the ancestor of attention, on
 * TensorFlow.js tensors. Call `await initBackend()` once, then use the functions below.
 *
 * The public API, listed by name and grouped as the README's table groups it. Everything else in
 * `src/` is internal: tests import it from its own module.
 *
 * Conventions, the same in every call:
 * - **Argument order: the data, then where to evaluate, then the kernel, then options.**
 *   `(keys, values, queries, kernel, options)`; a call without queries (the losses, bandwidth
 *   fitting) keeps the same first two arguments `(keys, values, kernel, options)`, and Parzen's
 *   `(points, [labels,] queries, kernel, options)` reads the same way. This is the tutorial's
 *   `nadaraya_watson(x_train, y_train, x_val)` and the fit-then-predict order of kernel
 *   regression libraries. `scaledDotProductAttention` follows it too, so that the two sides of
 *   the project's thesis take the same arguments (PyTorch's `scaled_dot_product_attention` puts
 *   the queries first).
 * - **Results:** a regression or pooling call returns `predictions` (`[m]` or `[m, k]`) and,
 *   where asked for, `weights` (`[nQueries, nKeys]`, each row summing to 1); a fitted or
 *   oracle width is `sigma: number[]` (one entry when shared), the form every `sigma` option
 *   accepts.
 */
export * as tf from "@tensorflow/tfjs-core";

// Backend
export { initBackend, currentBackend, BACKENDS } from "./backend";
export type { BackendName, BackendInfo, InitBackendOptions } from "./backend";

// Kernels
export { KERNELS, KERNEL_NAMES, defineKernel, evaluateKernel, logNormalizer } from "./kernels";
export type { Kernel, KernelName, DefineKernelOptions } from "./kernels";

// Nadaraya-Watson and attention
export { nadarayaWatson, attentionWeights } from "./nadaraya_watson";
export { fusedKernelInfo } from "./fused";
export type { FusedKernelInfo } from "./fused";
export type { NadarayaWatsonOptions, NadarayaWatsonResult } from "./nadaraya_watson";
export type { OnEmpty } from "./empty";
export { windowedNadarayaWatson } from "./windowed";
export type { WindowedOptions, WindowedResult } from "./windowed";
export { scaledDotProductAttention, normalizeRows } from "./attention";
export type { ScaledDotProductOptions, ScaledDotProductResult } from "./attention";

// Losses, risk and bandwidth
export { looLoss, trainingLoss, heldOutLoss, bandwidthLossAndGradient, bandwidthLossCurve } from "./losses";
export type { BandwidthObjectiveOptions } from "./losses";
export type { BandwidthLossOptions, BandwidthObjective, LossAndGradient } from "./loss_engine";
export { nadarayaWatsonRisk, oracleBandwidth } from "./risk";
export type { Risk, RiskOptions, OracleBandwidthOptions, OracleBandwidthResult } from "./risk";
export { fitBandwidth, logSpace } from "./fit_bandwidth";
export type { FitBandwidthOptions, FitBandwidthResult } from "./fit_bandwidth";
export type { StopReason } from "./optimise";

// Parzen windows
export { parzenDensity, parzenLogDensity } from "./parzen";
export type { ParzenOptions } from "./parzen";
export { parzenClassifier, parzenPosterior, oneHotLabels } from "./parzen_classifier";
export type {
  ParzenClassifierOptions,
  ParzenClassifierResult,
  OneHotLabelsOptions,
} from "./parzen_classifier";

// Metrics
export { errorSummary } from "./metrics";
export type { ErrorSummary } from "./metrics";

// Data
export {
  TUTORIAL_SEED,
  trueFunction,
  seededRandom,
  tutorialData,
  loadTutorialData,
  readCsv,
  writeCsv,
} from "./data";
export type { TutorialData, Table } from "./data";
export { twoMoons, loadIris, grid2d, IRIS_FEATURES, IRIS_SPECIES } from "./classification_data";
export type {
  LabelledPoints,
  TwoMoonsOptions,
  IrisFeature,
  IrisSpecies,
  LoadIrisOptions,
  Grid2D,
  Grid2DOptions,
} from "./classification_data";
export { randomNormalVectors, randomUnitVectors } from "./attention";

// Figures: build (lines, heatmaps, charts, decision regions, the live explorer), then show,
// save, render or open in a window. See the README's Figures section.
export { linesFigure } from "./figures/lines";
export type { LinesFigureOptions } from "./figures/lines";
export { heatmapsFigure } from "./figures/heatmaps";
export type { HeatmapsFigureOptions, HeatmapColorScale } from "./figures/heatmaps";
export { chartsFigure } from "./figures/charts";
export type {
  ChartsFigure,
  ChartsFigureOptions,
  ChartPanelInput,
  FieldInput,
  AxisScale,
} from "./figures/charts";
export { decisionFigure } from "./figures/decision";
export type {
  DecisionFigure,
  DecisionFigureOptions,
  DecisionPanelInput,
  BoundaryInput,
} from "./figures/decision";
export { nadarayaWatsonExplorer } from "./figures/explorer";
export type { ExplorerOptions, ExplorerFigure, ExplorerCurves } from "./figures/explorer";
export { show, displayBundle } from "./figures/show";
export type { ShowOptions, FigureDisplay, DisplayBundle } from "./figures/show";
export { renderSvg, renderPng, saveFigure } from "./figures/render";
export type { SavedFigure } from "./figures/render";
export { openFigure, toPlotly } from "./figures/interactive";
export type { PlotlyFigure, OpenFigureOptions, FigureWindow } from "./figures/interactive";
export { SERIES_COLORS } from "./figures/style";
export type {
  Figure,
  LinesFigure,
  HeatmapsFigure,
  FigureSizeOptions,
  SeriesInput,
  SeriesStyle,
  LinePanelInput,
  HeatmapPanelInput,
  NumericArray,
} from "./figures/types";

// Errors and input types
export { AttentionPoolingError } from "./errors";
export type { TensorInput, Sigma } from "./validate";
