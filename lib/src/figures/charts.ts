/**
 * A row of panels that each keep their own axes, linear or logarithmic: for loss curves against
 * σ, descents against the iteration, and rates on log-log axes. Optionally a panel draws a
 * scalar field on a grid under its series (e.g. a loss surface over two widths).
 */
import { describe, fail } from "../errors";
import { checkRange, optionalString, resolveSeries, resolveSize, seriesLegend, toNumbers } from "./convert";
import { estimateTextWidth, FIGURE_PADDING, vegaLiteConfig } from "./style";
import type { FigureSeries, FigureSizeOptions, Figure, SeriesInput, SeriesStyle } from "./types";
import { checkOptions } from "../validate";

/** How an axis maps numbers to positions. */
export type AxisScale = "linear" | "log";

/** A scalar field on a rectangular grid, drawn as coloured cells under a panel's series. */
export interface FieldInput {
  /** Cell centres along x, ascending. */
  readonly x: readonly number[];
  /** Cell centres along y, ascending. */
  readonly y: readonly number[];
  /** Values `[y.length][x.length]`: row i is y[i]. */
  readonly values: readonly (readonly number[])[];
  /** Title of the colour bar. */
  readonly label: string;
}

/** One panel of a {@link chartsFigure}. */
export interface ChartPanelInput {
  /** Title above the panel. */
  readonly title?: string;
  /** x-axis label. Default: the figure's `xLabel`. */
  readonly xLabel?: string;
  /** y-axis label (each panel has its own). Default: the figure's `yLabel`. */
  readonly yLabel?: string;
  /** `"linear"` (default) or `"log"`. */
  readonly xScale?: AxisScale;
  /** `"linear"` (default) or `"log"`. */
  readonly yScale?: AxisScale;
  /** x range. Default: the data's range plus 5% each side (of the log range on a log axis). */
  readonly xDomain?: readonly [number, number];
  /** y range. Default: as for x. */
  readonly yDomain?: readonly [number, number];
  /** Series in drawing order. Series with the same name share colour, style and legend entry. */
  readonly series: readonly SeriesInput[];
  /** A field drawn under the series. */
  readonly field?: FieldInput;
}

/** Options for {@link chartsFigure}. */
export interface ChartsFigureOptions extends FigureSizeOptions {
  /** x-axis label of panels that don't set their own. Default `"x"`. */
  readonly xLabel?: string;
  /** y-axis label of panels that don't set their own. Default `"y"`. */
  readonly yLabel?: string;
  /** Draw one legend (right of the panels) for all series. Default: when there is more than one series name. */
  readonly legend?: boolean;
}

/** A panel as stored in a {@link ChartsFigure}: defaults resolved, data as plain numbers. */
export interface ChartPanel {
  readonly title?: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly xScale: AxisScale;
  readonly yScale: AxisScale;
  readonly xDomain: readonly [number, number];
  readonly yDomain: readonly [number, number];
  readonly series: readonly FigureSeries[];
  readonly field?: FieldInput;
}

/** A row of panels with independent (linear or log) axes, from {@link chartsFigure}. */
export interface ChartsFigure extends Figure {
  readonly kind: "charts";
  readonly title?: string;
  readonly panels: readonly ChartPanel[];
  /** Whether a legend (one for all panels) is drawn. */
  readonly legend: boolean;
}

/** Horizontal gap between panels, room for the next panel's y-axis labels and title. */
const PANEL_GAP = 80;

const DASH: Record<SeriesStyle, number[]> = { line: [1, 0], dashed: [6, 3], points: [1, 0] };
const SHAPE: Record<SeriesStyle, string> = { line: "stroke", dashed: "stroke", points: "circle" };

/** The data range widened by 5% each side, in log space for a log axis. */
function autoDomain(values: number[], scale: AxisScale): [number, number] {
  if (scale === "linear") {
    const lo = Math.min(...values);
    const hi = Math.max(...values);
    const span = hi - lo || Math.max(Math.abs(lo), 1) * 0.1;
    return [lo - 0.05 * span, hi + 0.05 * span];
  }
  const logs = values.map(Math.log10);
  const lo = Math.min(...logs);
  const hi = Math.max(...logs);
  const span = hi - lo || 0.2;
  return [10 ** (lo - 0.05 * span), 10 ** (hi + 0.05 * span)];
}

/**
 * Tick values for a log axis over `domain`: 1, 2 and 5 times powers of ten; powers of ten alone
 * beyond 4 decades, and every other power beyond 8.
 */
function logTicks([lo, hi]: readonly [number, number]): number[] {
  const decades = Math.log10(hi / lo);
  const steps = decades > 4 ? [1] : decades > 1.5 ? [1, 2, 5] : [1, 2, 3, 5, 7];
  const every = decades > 8 ? 2 : 1;
  const ticks: number[] = [];
  for (let k = Math.floor(Math.log10(lo)); k <= Math.ceil(Math.log10(hi)); k++) {
    if (k % every !== 0) continue;
    for (const m of steps) {
      const v = Number((m * 10 ** k).toPrecision(12));
      if (v >= lo && v <= hi) ticks.push(v);
    }
  }
  return ticks;
}

/** Cell edges from centres: midpoints between neighbours (geometric on a log axis), extended at the ends. */
function edges(centres: readonly number[], scale: AxisScale): number[] {
  const t = scale === "log" ? centres.map(Math.log) : [...centres];
  const mids = t.slice(1).map((v, i) => (v + (t[i] as number)) / 2);
  const first = (t[0] as number) - ((mids[0] ?? (t[0] as number) + 0.5) - (t[0] as number));
  const last = (t[t.length - 1] as number) + ((t[t.length - 1] as number) - (mids[mids.length - 1] ?? (t[0] as number) - 0.5));
  const all = [first, ...mids, last];
  return scale === "log" ? all.map(Math.exp) : all;
}

/**
 * Builds a row of panels, each with its own x and y axes (linear or logarithmic) and labels,
 * holding lines, dashed lines and points, with one legend for the whole row. A panel may also
 * draw a scalar field as coloured cells (viridis, with its own colour bar) under its series.
 * Series with the same name share colour and style in every panel but are drawn as separate
 * lines, so a name can label several curves (e.g. three "theory" lines).
 *
 * Defaults: 960 × 280 CSS px, PNG at 2×; linear axes; ranges from the data plus 5%.
 *
 * @param panels one entry per panel, left to right.
 * @param options see {@link ChartsFigureOptions}.
 * @returns a {@link ChartsFigure}; render it with `show`, `saveFigure` or `renderPng`.
 *
 * @example
 * ```ts
 * const n = [100, 1000, 10000];
 * await show(chartsFigure([
 *   { xScale: "log", yScale: "log", xLabel: "n", yLabel: "MSE",
 *     series: [{ name: "measured", x: n, y: [0.1, 0.016, 0.0025], style: "points" },
 *              { name: "n^(−4/5)", x: n, y: n.map((v) => 4 * v ** -0.8), style: "dashed" }] },
 * ]));
 * ```
 */
export function chartsFigure(panels: readonly ChartPanelInput[], options: ChartsFigureOptions = {}): ChartsFigure {
  const fn = "chartsFigure";
  const { width, height, pixelRatio } = resolveSize(fn, options, { width: 960, height: 280 });
  if (!Array.isArray(panels) || panels.length === 0) fail(fn, `panels must be a non-empty array, got ${describe(panels)}`);
  const title = optionalString(fn, "options.title", options.title);
  const xLabel = optionalString(fn, "options.xLabel", options.xLabel) ?? "x";
  const yLabel = optionalString(fn, "options.yLabel", options.yLabel) ?? "y";
  const keys = seriesLegend();

  const built: ChartPanel[] = panels.map((panel, p) => {
    const at = `panels[${p}]`;
    checkOptions(fn, panel, at);
    if (!Array.isArray(panel.series)) fail(fn, `${at}.series must be an array, got ${describe(panel.series)}`);
    const scales = (["xScale", "yScale"] as const).map((k) => {
      const s = panel[k] ?? "linear";
      if (s !== "linear" && s !== "log") fail(fn, `${at}.${k} must be 'linear' or 'log', got ${describe(s)}`);
      return s;
    }) as [AxisScale, AxisScale];
    const series: FigureSeries[] = (panel.series as readonly SeriesInput[]).map((s, i) => {
      const sat = `${at}.series[${i}]`;
      const resolved = resolveSeries(fn, sat, s, keys, 0.8);
      [resolved.x, resolved.y].forEach((values, axis) => {
        if (scales[axis] === "log") {
          const bad = values.findIndex((v) => !(v > 0));
          if (bad >= 0) {
            fail(fn, `${sat}.${axis === 0 ? "x" : "y"} must be > 0 on a log axis, got ${describe(values[bad])} at index ${bad}`);
          }
        }
      });
      return resolved;
    });
    if (series.length === 0 && panel.field === undefined) fail(fn, `${at} has neither series nor a field`);
    const field = panel.field === undefined ? undefined : checkField(fn, `${at}.field`, panel.field, scales);
    const xs = [...series.flatMap((s) => s.x), ...(field ? edges(field.x, scales[0]) : [])];
    const ys = [...series.flatMap((s) => s.y), ...(field ? edges(field.y, scales[1]) : [])];
    return {
      ...(panel.title === undefined ? {} : { title: optionalString(fn, `${at}.title`, panel.title) as string }),
      xLabel: optionalString(fn, `${at}.xLabel`, panel.xLabel) ?? xLabel,
      yLabel: optionalString(fn, `${at}.yLabel`, panel.yLabel) ?? yLabel,
      xScale: scales[0],
      yScale: scales[1],
      xDomain: panel.xDomain ? checkRange(fn, `${at}.xDomain`, panel.xDomain) : field ? [Math.min(...xs), Math.max(...xs)] : autoDomain(xs, scales[0]),
      yDomain: panel.yDomain ? checkRange(fn, `${at}.yDomain`, panel.yDomain) : field ? [Math.min(...ys), Math.max(...ys)] : autoDomain(ys, scales[1]),
      series,
      ...(field ? { field } : {}),
    };
  });
  const { colors, styles } = keys;
  const legend = options.legend ?? colors.size > 1;
  if (typeof legend !== "boolean") fail(fn, `options.legend must be a boolean, got ${describe(legend)}`);
  const spec = chartsSpec(built, { names: [...colors.keys()], colors, styles, legend, width, height, title });
  return { kind: "charts", width, height, pixelRatio, ...(title === undefined ? {} : { title }), panels: built, legend, spec };
}

function checkField(fn: string, at: string, field: FieldInput, scales: [AxisScale, AxisScale]): FieldInput {
  checkOptions(fn, field, at);
  const x = toNumbers(fn, `${at}.x`, field.x);
  const y = toNumbers(fn, `${at}.y`, field.y);
  [x, y].forEach((c, axis) => {
    const name = axis === 0 ? "x" : "y";
    if (c.length < 2) fail(fn, `${at}.${name} must have at least 2 cell centres, got ${c.length}`);
    if (c.some((v, i) => i > 0 && !(v > (c[i - 1] as number)))) fail(fn, `${at}.${name} must be ascending`);
    if (scales[axis] === "log" && !((c[0] as number) > 0)) fail(fn, `${at}.${name} must be > 0 on a log axis`);
  });
  if (!Array.isArray(field.values) || field.values.length !== y.length) {
    fail(fn, `${at}.values must have one row per y (${y.length}), got ${describe(field.values)}`);
  }
  const values = field.values.map((row, i) => {
    const r = toNumbers(fn, `${at}.values[${i}]`, row);
    if (r.length !== x.length) fail(fn, `${at}.values[${i}] must have one value per x (${x.length}), got ${r.length}`);
    return r;
  });
  const label = optionalString(fn, `${at}.label`, field.label) ?? "";
  return { x, y, values, label };
}

interface ChartsLayout {
  readonly names: readonly string[];
  readonly colors: ReadonlyMap<string, string>;
  readonly styles: ReadonlyMap<string, { style: SeriesStyle; opacity: number }>;
  readonly legend: boolean;
  readonly width: number;
  readonly height: number;
  readonly title: string | undefined;
}

function chartsSpec(panels: readonly ChartPanel[], l: ChartsLayout): Record<string, unknown> {
  const n = panels.length;
  // First estimates of the space around the panels; rendering corrects them to the exact size.
  const legendWidth = l.legend ? 40 + Math.min(320, Math.max(...l.names.map((s) => estimateTextWidth(s, 10.5)))) : 0;
  const fieldBars = panels.filter((p) => p.field !== undefined).length * 70;
  const left = 56;
  const top = panels.some((p) => p.title !== undefined) ? 20 : 4;
  const figureTitle = l.title === undefined ? 0 : 22;
  const bottom = 36;
  const panelWidth = Math.max(20, Math.floor((l.width - 2 * FIGURE_PADDING - legendWidth - fieldBars - left * n - PANEL_GAP * (n - 1)) / n));
  const panelHeight = Math.max(20, Math.floor(l.height - 2 * FIGURE_PADDING - top - figureTitle - bottom));

  const legendSpec = l.legend ? { title: null, symbolSize: 80, labelLimit: 320 } : null;
  const styleOf = (name: string) => l.styles.get(name) as { style: SeriesStyle; opacity: number };
  const channel = (pick: (name: string) => unknown) => ({
    field: "series",
    type: "nominal",
    sort: l.names,
    scale: { type: "ordinal", domain: l.names, range: l.names.map(pick) },
    legend: legendSpec,
  });
  const seriesEncoding = {
    color: channel((s) => l.colors.get(s)),
    opacity: channel((s) => styleOf(s).opacity),
  };
  const datasets: Record<string, unknown[]> = {};
  // Linear axes span the data, not zero; a log axis has no zero (Vega-Lite warns if asked).
  const zero = (scale: AxisScale) => (scale === "linear" ? { zero: false } : {});
  const hconcat = panels.map((panel, p) => {
    // Log axes: ticks at 1, 2, 5 × 10^k (only 10^k over wide ranges), plain numbers from 0.001 up
    // and 1e−k below (shorter than 0.000001).
    const axis = (scale: AxisScale, domain: readonly [number, number]) =>
      scale === "log"
        ? {
            values: logTicks(domain),
            labelExpr: "datum.value < 0.001 ? format(datum.value, '.0e') : format(datum.value, '~g')",
            labelOverlap: "greedy",
            // 1-2-5 labels a decade apart crowd at the low end; drop those closer than 6 px.
            labelSeparation: 6,
          }
        : {};
    const x = {
      field: "x",
      type: "quantitative",
      title: panel.xLabel,
      axis: axis(panel.xScale, panel.xDomain),
      scale: { type: panel.xScale, domain: [...panel.xDomain], nice: false, ...zero(panel.xScale) },
    };
    const y = {
      field: "y",
      type: "quantitative",
      title: panel.yLabel,
      axis: axis(panel.yScale, panel.yDomain),
      scale: { type: panel.yScale, domain: [...panel.yDomain], nice: false, ...zero(panel.yScale) },
    };
    const layer: unknown[] = [];
    if (panel.field !== undefined) {
      const f = panel.field;
      const xe = edges(f.x, panel.xScale);
      const ye = edges(f.y, panel.yScale);
      datasets[`panel-${p}-cells`] = f.values.flatMap((row, i) =>
        row.map((v, j) => ({ x: xe[j], x2: xe[j + 1], y: ye[i], y2: ye[i + 1], value: v })),
      );
      layer.push({
        data: { name: `panel-${p}-cells` },
        mark: { type: "rect", strokeWidth: 0 },
        encoding: {
          x,
          x2: { field: "x2" },
          y,
          y2: { field: "y2" },
          fill: {
            field: "value",
            type: "quantitative",
            scale: { scheme: "viridis" },
            legend: { title: f.label, orient: "right", gradientLength: panelHeight - 20, direction: "vertical" },
          },
        },
      });
    }
    const rows = (pick: (s: SeriesStyle) => boolean) =>
      panel.series.flatMap((s, k) =>
        pick(s.style) ? s.x.map((xv, i) => ({ series: s.name, sid: k, i, x: xv, y: s.y[i] as number })) : [],
      );
    const lineRows = rows((s) => s !== "points");
    if (lineRows.length > 0) {
      datasets[`panel-${p}-lines`] = lineRows;
      layer.push({
        data: { name: `panel-${p}-lines` },
        mark: { type: "line", strokeWidth: 1.8, clip: true },
        encoding: {
          x,
          y,
          ...seriesEncoding,
          strokeDash: channel((s) => DASH[styleOf(s).style]),
          shape: channel((s) => SHAPE[styleOf(s).style]),
          detail: { field: "sid", type: "nominal" },
          order: { field: "i", type: "quantitative" },
        },
      });
    }
    const pointRows = rows((s) => s === "points");
    if (pointRows.length > 0) {
      datasets[`panel-${p}-points`] = pointRows;
      layer.push({
        data: { name: `panel-${p}-points` },
        mark: { type: "point", filled: true, size: 36, strokeWidth: 0, clip: true },
        encoding: { x, y, ...seriesEncoding, shape: channel((s) => SHAPE[styleOf(s).style]) },
      });
    }
    return {
      width: panelWidth,
      height: panelHeight,
      ...(panel.title === undefined ? {} : { title: panel.title }),
      layer,
    };
  });

  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    config: vegaLiteConfig(),
    ...(l.title === undefined ? {} : { title: { text: l.title, anchor: "middle" } }),
    bounds: "flush",
    // Each panel has its own y axis, so leave room for its labels between panels.
    spacing: PANEL_GAP,
    datasets,
    hconcat,
    resolve: {
      scale: { x: "independent", y: "independent", fill: "independent", color: "shared", opacity: "shared", strokeDash: "shared", shape: "shared" },
      legend: { fill: "independent" },
    },
  };
}
