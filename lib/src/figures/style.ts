/**
 * The look shared by every figure: one bundled font, matplotlib-like colours and a Vega-Lite
 * config. Constants only; nothing here changes state when imported.
 */
import * as path from "node:path";

/**
 * The font family every figure names. Its TrueType files ship with the `dejavu-fonts-ttf`
 * package and are handed to the PNG renderer with system fonts disabled, so text renders the
 * same on any machine.
 */
export const FIGURE_FONT = "DejaVu Sans";

/** Default figure size in CSS pixels (about 12 × 3 inches at 80 px per inch). */
export const DEFAULT_FIGURE_SIZE = { width: 960, height: 240 } as const;

/** Default pixel density of PNG output: 2 device pixels per CSS pixel. */
export const DEFAULT_PIXEL_RATIO = 2;

/** matplotlib's default colour cycle ("tab10"), used for series in order of first appearance. */
export const SERIES_COLORS = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
] as const;

/**
 * ColorBrewer's nine-class "Reds", light to dark: the anchors of matplotlib's "Reds" colour map,
 * which interpolates linearly between them.
 */
export const REDS = [
  "#fff5f0",
  "#fee0d2",
  "#fcbba1",
  "#fc9272",
  "#fb6a4a",
  "#ef3b2c",
  "#cb181d",
  "#a50f15",
  "#67000d",
] as const;

/** matplotlib's `'m'` (magenta), the tutorial's colour for the true function. */
export const MAGENTA = "#bf00bf";

/** The TrueType files of {@link FIGURE_FONT} (regular and bold), as absolute paths. */
export function figureFontFiles(): string[] {
  const dir = path.join(path.dirname(require.resolve("dejavu-fonts-ttf/package.json")), "ttf");
  return [path.join(dir, "DejaVuSans.ttf"), path.join(dir, "DejaVuSans-Bold.ttf")];
}

/** Space Vega-Lite leaves around the whole figure, in CSS pixels. */
export const FIGURE_PADDING = 6;

/** Horizontal gap between panels, in CSS pixels. */
export const PANEL_SPACING = 14;

/** The Vega-Lite `config` of every figure: font, axes, grid, legend and title styles. */
export function vegaLiteConfig(): Record<string, unknown> {
  return {
    font: FIGURE_FONT,
    // No per-item ARIA descriptions: they would triple the size of a heatmap's SVG.
    aria: false,
    background: "white",
    padding: FIGURE_PADDING,
    view: { stroke: "#000000", strokeWidth: 0.8 },
    concat: { spacing: PANEL_SPACING },
    axis: {
      domainColor: "#000000",
      domainWidth: 0.8,
      tickColor: "#000000",
      tickWidth: 0.8,
      tickSize: 4,
      labelColor: "#000000",
      labelFontSize: 10,
      labelPadding: 3,
      titleColor: "#000000",
      titleFontSize: 11,
      titleFontWeight: "normal",
      titlePadding: 5,
      gridColor: "#dddddd",
      gridWidth: 0.8,
      labelFlush: false,
      labelOverlap: true,
    },
    legend: {
      labelFontSize: 10.5,
      labelColor: "#000000",
      titleFontSize: 11,
      titleFontWeight: "normal",
      titleColor: "#000000",
      symbolStrokeWidth: 2,
      padding: 2,
    },
    title: { fontSize: 12, fontWeight: "normal", color: "#000000", offset: 6 },
  };
}

/** Space between a panel's top edge and the baseline of its title, in CSS pixels. */
export const PANEL_TITLE_OFFSET = 7;

/**
 * A panel title drawn as a text mark centred above the panel at a fixed distance from its top
 * edge, so that titles line up across panels whatever their axes' labels stick out.
 * `xMid` is the middle of the panel's x domain.
 */
export function panelTitleLayer(title: string, xMid: number): Record<string, unknown> {
  return {
    data: { values: [{}] },
    mark: { type: "text", text: title, fontSize: 12, align: "center", baseline: "alphabetic", color: "#000000" },
    encoding: { x: { datum: xMid, type: "quantitative" }, y: { value: -PANEL_TITLE_OFFSET } },
  };
}

/**
 * A first estimate of a label's width in CSS pixels, for laying out the space a legend needs
 * before rendering: DejaVu Sans averages about 0.55 em per character in lowercase text, and 0.6
 * leaves a little slack. Too generous an estimate leaves a gap between the panels and the legend.
 */
export function estimateTextWidth(text: string, fontSize: number): number {
  return 0.6 * text.length * fontSize;
}
