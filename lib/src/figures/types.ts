/**
 * The {@link Figure} value: a plain, inspectable description of a figure (its panels, series,
 * labels and colour domain) together with the Vega-Lite spec that draws it. Figures are
 * built by {@link linesFigure} and {@link heatmapsFigure}, and turned into pixels by
 * `renderSvg`, `renderPng`, `saveFigure`, `show` and `openFigure`.
 */
import type * as tf from "@tensorflow/tfjs-core";

/** How a series is drawn: a solid line, a dashed line, or unconnected points. */
export type SeriesStyle = "line" | "dashed" | "points";

/** One-dimensional numbers: an array, a typed array, or a `[n]` (or `[n, 1]`) tensor. */
export type NumericArray = readonly number[] | Float32Array | Float64Array | tf.Tensor;

/** A series to plot in a {@link LinePanelInput}. */
export interface SeriesInput {
  /** Legend label. Series with the same name in different panels share colour and style. */
  readonly name: string;
  /** x coordinates. */
  readonly x: NumericArray;
  /** y coordinates, one per x. */
  readonly y: NumericArray;
  /** `"line"` (default), `"dashed"` or `"points"`. */
  readonly style?: SeriesStyle;
  /** A CSS colour. Default: the next colour of matplotlib's cycle, by first appearance of the name. */
  readonly color?: string;
  /** Opacity in [0, 1]. Default 1 for lines, 0.5 for points (so overlapping points stay visible). */
  readonly opacity?: number;
}

/** One panel of a {@link linesFigure}. */
export interface LinePanelInput {
  /** Title above the panel, e.g. a kernel name. */
  readonly title?: string;
  /** x-axis label of this panel. Default: the figure's `xLabel`. */
  readonly xLabel?: string;
  /** The series drawn in this panel, in drawing order. */
  readonly series: readonly SeriesInput[];
}

/** One panel of a {@link heatmapsFigure}. */
export interface HeatmapPanelInput {
  /** Title above the panel. */
  readonly title?: string;
  /**
   * Attention weights `[nQueries, nKeys]` (row i = query i's weights over the keys), as a
   * `tf.Tensor2D` or nested arrays. The heatmap draws the key index on the y axis and the
   * query index on the x axis. A tensor passed here is read, not disposed.
   */
  readonly weights: tf.Tensor2D | readonly (readonly number[])[];
}

/** A series as stored in a figure: every default resolved, coordinates as plain numbers. */
export interface FigureSeries {
  /** Legend label. */
  readonly name: string;
  /** `"line"`, `"dashed"` or `"points"`. */
  readonly style: SeriesStyle;
  /** CSS colour. */
  readonly color: string;
  /** Opacity in [0, 1]. */
  readonly opacity: number;
  /** x coordinates. */
  readonly x: readonly number[];
  /** y coordinates, one per x. */
  readonly y: readonly number[];
}

/** A panel of a {@link LinesFigure}. */
export interface LinePanel {
  /** Title above the panel. */
  readonly title?: string;
  /** x-axis label. */
  readonly xLabel: string;
  /** The x range drawn. */
  readonly xDomain: readonly [number, number];
  /** The series, in drawing order. */
  readonly series: readonly FigureSeries[];
}

/** A panel of a {@link HeatmapsFigure}. */
export interface HeatmapPanel {
  /** Title above the panel. */
  readonly title?: string;
  /** Number of queries (columns drawn along x). */
  readonly nQueries: number;
  /** Number of keys (rows drawn along y, key 0 at the top). */
  readonly nKeys: number;
  /** The weights `[nQueries][nKeys]`, as given. */
  readonly weights: readonly (readonly number[])[];
}

/** What every figure has. */
interface FigureBase {
  /** Width of the whole figure in CSS pixels; the PNG is `width × pixelRatio` pixels wide. */
  readonly width: number;
  /** Height of the whole figure in CSS pixels. */
  readonly height: number;
  /** Device pixels per CSS pixel in PNG output. */
  readonly pixelRatio: number;
  /** Title above the whole figure, if any. */
  readonly title?: string;
  /** y-axis label, drawn once at the left of the first panel (panels share the y axis). */
  readonly yLabel: string;
  /**
   * The Vega-Lite spec (a JSON value) that draws the figure. Panel sizes in it are first
   * estimates: rendering corrects them so the whole figure is exactly `width × height`.
   * Each panel's data is a named dataset: `panel-<i>-lines`, `panel-<i>-points` or `panel-<i>-cells`.
   */
  readonly spec: Record<string, unknown>;
}

/** A row of line/point panels sharing the y axis, from {@link linesFigure}. */
export interface LinesFigure extends FigureBase {
  readonly kind: "lines";
  readonly panels: readonly LinePanel[];
  /** Whether a legend (one for all panels) is drawn. */
  readonly legend: boolean;
  /** The y range shared by every panel. */
  readonly yDomain: readonly [number, number];
}

/** A row of heatmaps with one shared colour bar, from {@link heatmapsFigure}. */
export interface HeatmapsFigure extends FigureBase {
  readonly kind: "heatmaps";
  readonly panels: readonly HeatmapPanel[];
  /** x-axis label of every panel (the query index). */
  readonly xLabel: string;
  /** Title of the colour bar. */
  readonly colorLabel: string;
  /** The colour scale's domain, shared by every panel: `[0, max weight]` by default. */
  readonly colorDomain: readonly [number, number];
  /** How weights map to colour: `"linear"`, or `"sqrt"` (small weights stay visible). */
  readonly colorScale: "linear" | "sqrt";
  /** The colour map: matplotlib's "Reds" (ColorBrewer's nine reds, interpolated linearly in RGB). */
  readonly colorScheme: "Reds";
}

/**
 * Any figure this library builds, and what the renderers (`renderSvg`, `renderPng`,
 * `saveFigure`, `show`) take: a size and a Vega-Lite spec whose top level is a row of panels
 * (`hconcat`), each with a `width` and `height` that rendering may correct. Each builder returns
 * a kind of its own ({@link LinesFigure}, {@link HeatmapsFigure}, `ChartsFigure`,
 * `DecisionFigure`, `ExplorerFigure`) that adds what it drew.
 */
export interface Figure {
  /** What kind of figure it is, e.g. `"lines"`. */
  readonly kind: string;
  /** Width in CSS pixels. */
  readonly width: number;
  /** Height in CSS pixels. */
  readonly height: number;
  /** Device pixels per CSS pixel in PNG output. */
  readonly pixelRatio: number;
  /** The Vega-Lite spec, a row of panels (`hconcat`). */
  readonly spec: Record<string, unknown>;
}

/** Size and density options common to both kinds of figure. */
export interface FigureSizeOptions {
  /** Width of the whole figure in CSS pixels. Default 960 (≈ 12 in at 80 px/in). */
  readonly width?: number;
  /** Height of the whole figure in CSS pixels. Default 240 (≈ 3 in). */
  readonly height?: number;
  /** Device pixels per CSS pixel in PNG output. Default 2. */
  readonly pixelRatio?: number;
  /** Title above the whole figure. Default none. */
  readonly title?: string;
}
