/**
 * Figures: tutorial-quality plots in the spirit of the d2l book's `plot` and `show_heatmaps`.
 *
 * - Build: {@link linesFigure} (a row of line/point panels sharing the y axis),
 *   {@link heatmapsFigure} (a row of attention heatmaps with one "Reds" colour bar),
 *   {@link chartsFigure} (panels with their own axes, linear or log) and {@link decisionFigure}
 *   (classifier regions on a grid). A figure is a plain value: panels, series, labels, colour
 *   domain and the Vega-Lite spec that draws it. The notebooks compute what they plot and hand
 *   it to these.
 * - Output: {@link show} (inline PNG in a tslab notebook), {@link saveFigure} (SVG + PNG files),
 *   {@link renderSvg} / {@link renderPng} (bytes), {@link openFigure} (interactive Plotly window).
 *
 * Rendering needs no browser and no system font: Vega-Lite → vega → SVG → resvg → PNG, with
 * DejaVu Sans from the `dejavu-fonts-ttf` package. The same figure always gives the same bytes.
 */
export * from "./types";
export { FIGURE_FONT, DEFAULT_FIGURE_SIZE, DEFAULT_PIXEL_RATIO, SERIES_COLORS, figureFontFiles } from "./style";
export { linesFigure, type LinesFigureOptions } from "./lines";
export { heatmapsFigure, type HeatmapsFigureOptions, type HeatmapColorScale } from "./heatmaps";
export { renderSvg, renderPng, svgToPng, saveFigure, type SavedFigure } from "./render";
export {
  show,
  displayBundle,
  FIGURES_DIR_ENV,
  VEGA_LITE_V5_MIME,
  type ShowOptions,
  type FigureDisplay,
  type DisplayBundle,
} from "./show";
export {
  nadarayaWatsonExplorer,
  VEGA_LITE_V5_SCHEMA,
  type ExplorerOptions,
  type ExplorerFigure,
} from "./explorer";
export { openFigure, toPlotly, type PlotlyFigure } from "./interactive";
export * from "./decision";
export * from "./charts";
