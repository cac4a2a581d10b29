/**
 * A row of line/point panels sharing the y axis, in the spirit of the d2l book's `plot`.
 */
import { describe, fail } from "../errors";
import { checkRange, optionalString, paddedRange, resolveSeries, resolveSize, seriesLegend } from "./convert";
import { estimateTextWidth, FIGURE_PADDING, PANEL_SPACING, panelTitleLayer, vegaLiteConfig } from "./style";
import type {
  FigureSeries,
  FigureSizeOptions,
  LinePanel,
  LinePanelInput,
  LinesFigure,
  SeriesInput,
  SeriesStyle,
} from "./types";
import { checkOptions } from "../validate";

/** Options for {@link linesFigure}. */
export interface LinesFigureOptions extends FigureSizeOptions {
  /** x-axis label of panels that don't set their own. Default `"x"`. */
  readonly xLabel?: string;
  /** y-axis label, drawn once, left of the first panel. Default `"y"`. */
  readonly yLabel?: string;
  /** Draw one legend (right of the panels) for all series. Default: when there is more than one series name. */
  readonly legend?: boolean;
  /** x range of every panel. Default: each panel's data range plus 5% on each side. */
  readonly xDomain?: readonly [number, number];
  /** y range shared by all panels. Default: the data range of all panels plus 5% on each side. */
  readonly yDomain?: readonly [number, number];
}

const DASH: Record<SeriesStyle, number[]> = { line: [1, 0], dashed: [6, 3], points: [1, 0] };
const SHAPE: Record<SeriesStyle, string> = { line: "stroke", dashed: "stroke", points: "circle" };

/**
 * Builds a row of panels sharing one y axis, each holding lines and points, with axis labels
 * and one legend for the whole row (right of the panels, so it never covers data).
 * Series with the same name share colour and style in every panel; the figure is
 * `width × height` CSS pixels, and its PNG `pixelRatio` times that.
 *
 * Defaults: 960 × 240 CSS px, PNG at 2×; solid lines; points at opacity 0.5; colours from
 * matplotlib's cycle in order of first appearance; x and y ranges from the data plus 5%.
 *
 * @param panels one entry per panel, left to right.
 * @param options see {@link LinesFigureOptions}.
 * @returns a {@link LinesFigure}; render it with `show`, `saveFigure` or `renderPng`.
 *
 * @example
 * ```ts
 * const x = [0, 1, 2, 3];
 * const figure = linesFigure(
 *   [{ title: "squares", series: [
 *     { name: "x²", x, y: x.map((v) => v * v) },
 *     { name: "samples", x, y: [0.2, 1.1, 3.8, 9.3], style: "points" },
 *   ] }],
 *   { yLabel: "y", width: 480 },
 * );
 * await show(figure);
 * ```
 */
export function linesFigure(panels: readonly LinePanelInput[], options: LinesFigureOptions = {}): LinesFigure {
  const fn = "linesFigure";
  const { width, height, pixelRatio } = resolveSize(fn, options);
  if (!Array.isArray(panels) || panels.length === 0) {
    fail(fn, `panels must be a non-empty array, got ${describe(panels)}`);
  }
  const title = optionalString(fn, "options.title", options.title);
  const xLabel = optionalString(fn, "options.xLabel", options.xLabel) ?? "x";
  const yLabel = optionalString(fn, "options.yLabel", options.yLabel) ?? "y";
  const xDomainOption = options.xDomain === undefined ? undefined : checkRange(fn, "options.xDomain", options.xDomain);

  const keys = seriesLegend();
  const built: LinePanel[] = panels.map((panel, p) => {
    const at = `panels[${p}]`;
    checkOptions(fn, panel, at);
    if (!Array.isArray(panel.series)) fail(fn, `${at}.series must be an array, got ${describe(panel.series)}`);
    const series: FigureSeries[] = (panel.series as readonly SeriesInput[]).map((s, i) =>
      resolveSeries(fn, `${at}.series[${i}]`, s, keys, 0.5),
    );
    if (series.length === 0) fail(fn, `${at}.series must not be empty`);
    const panelTitle = optionalString(fn, `${at}.title`, panel.title);
    const xDomain = xDomainOption ?? paddedRange(series.flatMap((s) => s.x));
    return {
      ...(panelTitle === undefined ? {} : { title: panelTitle }),
      xLabel: optionalString(fn, `${at}.xLabel`, panel.xLabel) ?? xLabel,
      xDomain,
      series,
    };
  });

  const yDomain =
    options.yDomain === undefined
      ? paddedRange(built.flatMap((p) => p.series.flatMap((s) => s.y)))
      : checkRange(fn, "options.yDomain", options.yDomain);
  const { colors, styles } = keys;
  const legend = options.legend ?? colors.size > 1;
  if (typeof legend !== "boolean") fail(fn, `options.legend must be a boolean, got ${describe(legend)}`);

  const names = [...colors.keys()];
  const spec = linesSpec({ panels: built, names, colors, styles, legend, yLabel, yDomain, width, height, title });
  return {
    kind: "lines",
    width,
    height,
    pixelRatio,
    ...(title === undefined ? {} : { title }),
    yLabel,
    legend,
    yDomain,
    panels: built,
    spec,
  };
}

interface LinesLayout {
  readonly panels: readonly LinePanel[];
  readonly names: readonly string[];
  readonly colors: ReadonlyMap<string, string>;
  readonly styles: ReadonlyMap<string, { style: SeriesStyle; opacity: number }>;
  readonly legend: boolean;
  readonly yLabel: string;
  readonly yDomain: readonly [number, number];
  readonly width: number;
  readonly height: number;
  readonly title: string | undefined;
}

/** Vega's own estimate of a text's width: 0.8 em per character. */

function linesSpec(l: LinesLayout): Record<string, unknown> {
  const n = l.panels.length;
  // First estimates of the space around the panels; rendering corrects them to the exact size.
  const legendWidth = l.legend ? 40 + Math.max(...l.names.map((s) => estimateTextWidth(s, 10.5))) : 0;
  const left = 50;
  const top = l.panels.some((p) => p.title !== undefined) ? 20 : 4;
  const figureTitle = l.title === undefined ? 0 : 22;
  const bottom = 36;
  const panelWidth = Math.max(
    20,
    Math.floor((l.width - 2 * FIGURE_PADDING - left - legendWidth - PANEL_SPACING * (n - 1)) / n),
  );
  const panelHeight = Math.max(20, Math.floor(l.height - 2 * FIGURE_PADDING - top - figureTitle - bottom));

  const legendSpec = l.legend ? { title: null, symbolSize: 80 } : null;
  const scale = (pick: (name: string) => unknown) => ({ type: "ordinal", domain: l.names, range: l.names.map(pick) });
  // One legend for all series: every style channel uses the same field, type and sort, so Vega-Lite merges them.
  const channel = (pick: (name: string) => unknown) => ({
    field: "series",
    type: "nominal",
    sort: l.names,
    scale: scale(pick),
    legend: legendSpec,
  });
  const styleOf = (name: string) => l.styles.get(name) as { style: SeriesStyle; opacity: number };
  const series = {
    color: channel((s) => l.colors.get(s)),
    opacity: channel((s) => styleOf(s).opacity),
  };
  const strokeDash = channel((s) => DASH[styleOf(s).style]);
  const shape = channel((s) => SHAPE[styleOf(s).style]);

  const datasets: Record<string, unknown[]> = {};
  const hconcat = l.panels.map((panel, p) => {
    const first = p === 0;
    const x = {
      field: "x",
      type: "quantitative",
      title: panel.xLabel,
      scale: { domain: [...panel.xDomain], nice: false, zero: false },
    };
    const y = {
      field: "y",
      type: "quantitative",
      title: first ? l.yLabel : null,
      scale: { domain: [...l.yDomain], nice: false, zero: false },
      axis: first ? {} : { labels: false, ticks: false, title: null },
    };
    const rows = (style: (s: SeriesStyle) => boolean) =>
      panel.series
        .filter((s) => style(s.style))
        .flatMap((s) => s.x.map((xv, i) => ({ series: s.name, i, x: xv, y: s.y[i] as number })));
    const layer: unknown[] = [];
    const lineRows = rows((s) => s !== "points");
    if (lineRows.length > 0) {
      datasets[`panel-${p}-lines`] = lineRows;
      layer.push({
        data: { name: `panel-${p}-lines` },
        mark: { type: "line", strokeWidth: 1.8, clip: true },
        encoding: { x, y, ...series, strokeDash, shape, order: { field: "i", type: "quantitative" } },
      });
    }
    const pointRows = rows((s) => s === "points");
    if (pointRows.length > 0) {
      datasets[`panel-${p}-points`] = pointRows;
      layer.push({
        data: { name: `panel-${p}-points` },
        mark: { type: "point", filled: true, size: 36, strokeWidth: 0, clip: true },
        encoding: { x, y, ...series, shape },
      });
    }
    return {
      width: panelWidth,
      height: panelHeight,
      layer: panel.title === undefined ? layer : [...layer, panelTitleLayer(panel.title, (panel.xDomain[0] + panel.xDomain[1]) / 2)],
    };
  });

  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    config: vegaLiteConfig(),
    ...(l.title === undefined ? {} : { title: { text: l.title, anchor: "middle" } }),
    bounds: "flush",
    datasets,
    hconcat,
    resolve: { scale: { y: "shared" } },
  };
}
