/**
 * A row of attention heatmaps with one shared colour bar, in the spirit of the d2l book's
 * `show_heatmaps`.
 */
import { describe, fail } from "../errors";
import { checkRange, optionalString, resolveSize, toMatrix } from "./convert";
import { FIGURE_PADDING, PANEL_SPACING, REDS, panelTitleLayer, vegaLiteConfig } from "./style";
import type { FigureSizeOptions, HeatmapPanel, HeatmapPanelInput, HeatmapsFigure } from "./types";
import { checkOptions } from "../validate";

/** Options for {@link heatmapsFigure}. */
export interface HeatmapsFigureOptions extends FigureSizeOptions {
  /** x-axis label of every panel. Default `"Query index"`. */
  readonly xLabel?: string;
  /** y-axis label, drawn once left of the first panel. Default `"Key index"`. */
  readonly yLabel?: string;
  /** Title of the colour bar. Default `"Weight"`. */
  readonly colorLabel?: string;
  /** Colour-scale domain shared by every panel. Default `[0, largest weight of all panels]`. */
  readonly colorDomain?: readonly [number, number];
  /**
   * How weights map to colour on the shared scale. `"linear"` (default): colour proportional to
   * the weight. `"sqrt"`: proportional to its square root, so that panels whose weights are all
   * small (a wide kernel spreading over many keys) stay visible beside panels with weights near
   * 1, on one colour bar whose ticks show the weights.
   */
  readonly colorScale?: HeatmapColorScale;
}

/** How a {@link heatmapsFigure} maps weights to colour. */
export type HeatmapColorScale = "linear" | "sqrt";

/**
 * Builds a row of heatmaps of attention-weight matrices, with axis labels and ONE colour bar
 * shared by all panels, on matplotlib's "Reds" scale (ColorBrewer's nine reds interpolated linearly in
 * RGB, from near-white at the low end of the domain to dark red at the high end).
 *
 * Orientation: each matrix is `[nQueries, nKeys]` (row i holds query i's weights over the
 * keys, as `attentionWeights` returns it). It is drawn like the tutorial's `imshow` of its
 * transpose: the KEY (training) index on the y axis, key 0 at the top, and the QUERY index on
 * the x axis, query 0 at the left. So column x of a panel is one query's weight distribution.
 * When all panels have the same number of keys the y axis is labelled on the first panel only.
 *
 * Defaults: 960 × 240 CSS px, PNG at 2×; labels "Query index", "Key index", "Weight"; colour
 * domain `[0, max]` over all panels.
 *
 * @param panels one entry per panel, left to right: `{ title?, weights }`.
 * @param options see {@link HeatmapsFigureOptions}.
 * @returns a {@link HeatmapsFigure}; tensors passed in are read, not disposed.
 *
 * @example
 * ```ts
 * const weights = attentionWeights([0, 1, 2, 3], [0.5, 1.5, 2.5], "gaussian", { sigma: 0.5 });
 * const figure = heatmapsFigure([{ title: "σ = 0.5", weights }], { width: 320 });
 * weights.dispose();
 * await show(figure);
 * ```
 */
export function heatmapsFigure(
  panels: readonly HeatmapPanelInput[],
  options: HeatmapsFigureOptions = {},
): HeatmapsFigure {
  const fn = "heatmapsFigure";
  const { width, height, pixelRatio } = resolveSize(fn, options);
  if (!Array.isArray(panels) || panels.length === 0) {
    fail(fn, `panels must be a non-empty array, got ${describe(panels)}`);
  }
  const title = optionalString(fn, "options.title", options.title);
  const xLabel = optionalString(fn, "options.xLabel", options.xLabel) ?? "Query index";
  const yLabel = optionalString(fn, "options.yLabel", options.yLabel) ?? "Key index";
  const colorLabel = optionalString(fn, "options.colorLabel", options.colorLabel) ?? "Weight";
  const built: HeatmapPanel[] = panels.map((panel, p) => {
    checkOptions(fn, panel, `panels[${p}]`);
    const weights = toMatrix(fn, `panels[${p}].weights`, panel.weights);
    const panelTitle = optionalString(fn, `panels[${p}].title`, panel.title);
    return {
      ...(panelTitle === undefined ? {} : { title: panelTitle }),
      nQueries: weights.length,
      nKeys: (weights[0] as number[]).length,
      weights,
    };
  });
  let colorDomain: [number, number];
  if (options.colorDomain === undefined) {
    let max = 0;
    for (const p of built) for (const row of p.weights) for (const w of row) if (w > max) max = w;
    colorDomain = [0, max > 0 ? max : 1];
  } else {
    colorDomain = checkRange(fn, "options.colorDomain", options.colorDomain);
  }
  const colorScale = options.colorScale ?? "linear";
  if (colorScale !== "linear" && colorScale !== "sqrt") {
    fail(fn, `options.colorScale must be "linear" or "sqrt", got ${describe(colorScale)}`);
  }
  if (colorScale === "sqrt" && colorDomain[0] < 0) {
    fail(fn, `options.colorDomain must start at 0 or above for a "sqrt" colour scale, got [${colorDomain.join(", ")}]`);
  }
  const spec = heatmapsSpec(built, { width, height, title, xLabel, yLabel, colorLabel, colorDomain, colorScale });
  return {
    kind: "heatmaps",
    width,
    height,
    pixelRatio,
    ...(title === undefined ? {} : { title }),
    xLabel,
    yLabel,
    colorLabel,
    colorDomain,
    colorScale,
    colorScheme: "Reds",
    panels: built,
    spec,
  };
}

/** Tick values for an index axis 0 … n−1: multiples of 1, 2, 5, 10, 20, 50, … with at most 6 ticks. */
export function indexTicks(n: number): number[] {
  let step = 1;
  for (let decade = 1; ; decade *= 10) {
    const found = [1, 2, 5].find((s) => Math.ceil(n / (s * decade)) <= 6);
    if (found !== undefined) {
      step = found * decade;
      break;
    }
  }
  const ticks: number[] = [];
  for (let v = 0; v < n; v += step) ticks.push(v);
  return ticks;
}

/**
 * The weights at which the nine Reds anchors sit: evenly spaced in the weight (linear) or in its
 * square root (sqrt), so the colour between anchors follows the scale.
 */
function colorStops([lo, hi]: readonly [number, number], scale: HeatmapColorScale): number[] {
  const last = REDS.length - 1;
  if (scale === "linear") return REDS.map((_, i) => lo + ((hi - lo) * i) / last);
  const [a, b] = [Math.sqrt(lo), Math.sqrt(hi)];
  return REDS.map((_, i) => (a + ((b - a) * i) / last) ** 2);
}

/**
 * Legend ticks for a sqrt colour scale: 0 and round numbers (1, 2 or 5 times a power of ten) in
 * the domain, at least a fifth of the bar apart, so labels never crowd the dense top of the bar.
 */
function sqrtTicks([lo, hi]: readonly [number, number]): number[] {
  const bottom = Math.sqrt(Math.max(lo, 0));
  const gap = 0.2 * (Math.sqrt(hi) - bottom);
  const ticks: number[] = lo <= 0 ? [0] : [];
  const top = Math.floor(Math.log10(hi));
  for (let e = top - 6; e <= top; e++) {
    for (const m of [1, 2, 5]) {
      const v = +(m * 10 ** e).toPrecision(12);
      const last = ticks[ticks.length - 1];
      const clear = last === undefined ? Math.sqrt(v) - bottom >= gap : Math.sqrt(v) - Math.sqrt(last) >= gap;
      if (v >= lo && v <= hi && clear) ticks.push(v);
    }
  }
  return ticks;
}

interface HeatmapsLayout {
  readonly width: number;
  readonly height: number;
  readonly title: string | undefined;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly colorLabel: string;
  readonly colorDomain: readonly [number, number];
  readonly colorScale: HeatmapColorScale;
}

function heatmapsSpec(panels: readonly HeatmapPanel[], l: HeatmapsLayout): Record<string, unknown> {
  const n = panels.length;
  const sharedKeys = panels.every((p) => p.nKeys === (panels[0] as HeatmapPanel).nKeys);
  // First estimates of the space around the panels; rendering corrects them to the exact size.
  const left = 44;
  const legendWidth = 70;
  const top = panels.some((p) => p.title !== undefined) ? 20 : 4;
  const figureTitle = l.title === undefined ? 0 : 22;
  const bottom = 36;
  const innerLeft = sharedKeys ? 0 : left;
  const panelWidth = Math.max(
    20,
    Math.floor((l.width - 2 * FIGURE_PADDING - left - legendWidth - (PANEL_SPACING + innerLeft) * (n - 1)) / n),
  );
  const panelHeight = Math.max(20, Math.floor(l.height - 2 * FIGURE_PADDING - top - figureTitle - bottom));

  const datasets: Record<string, unknown[]> = {};
  const hconcat = panels.map((panel, p) => {
    const cells: { q0: number; q1: number; k0: number; k1: number; w: number }[] = [];
    panel.weights.forEach((row, q) =>
      row.forEach((w, k) => cells.push({ q0: q - 0.5, q1: q + 0.5, k0: k - 0.5, k1: k + 0.5, w })),
    );
    datasets[`panel-${p}-cells`] = cells;
    const labelled = p === 0 || !sharedKeys;
    const cellsLayer = {
      data: { name: `panel-${p}-cells` },
      mark: { type: "rect" },
      encoding: {
        x: {
          field: "q0",
          type: "quantitative",
          title: l.xLabel,
          scale: { domain: [-0.5, panel.nQueries - 0.5], nice: false, zero: false },
          axis: { values: indexTicks(panel.nQueries), format: "d", grid: false, zindex: 1 },
        },
        x2: { field: "q1" },
        y: {
          field: "k0",
          type: "quantitative",
          title: labelled ? l.yLabel : null,
          scale: { domain: [-0.5, panel.nKeys - 0.5], nice: false, zero: false, reverse: true },
          axis: labelled
            ? { values: indexTicks(panel.nKeys), format: "d", grid: false, zindex: 1 }
            : { values: indexTicks(panel.nKeys), labels: false, title: null, grid: false, zindex: 1 },
        },
        y2: { field: "k1" },
        color: {
          field: "w",
          type: "quantitative",
          scale: {
            type: l.colorScale,
            domain: colorStops(l.colorDomain, l.colorScale),
            range: [...REDS],
            interpolate: "rgb",
            clamp: true,
          },
          legend: {
            title: l.colorLabel,
            orient: "right",
            direction: "vertical",
            // As tall as the panels, less the colour bar's title.
            gradientLength: Math.max(10, panelHeight - 18),
            gradientThickness: 12,
            ...(l.colorScale === "sqrt" ? { values: sqrtTicks(l.colorDomain), format: "~g" } : { tickCount: 5 }),
          },
        },
      },
    };
    return {
      width: panelWidth,
      height: panelHeight,
      layer:
        panel.title === undefined
          ? [cellsLayer]
          : [cellsLayer, panelTitleLayer(panel.title, (panel.nQueries - 1) / 2)],
    };
  });

  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    ...(l.title === undefined ? {} : { title: { text: l.title, anchor: "middle" } }),
    config: { ...vegaLiteConfig(), view: { stroke: null } },
    bounds: "flush",
    datasets,
    hconcat,
    resolve: { scale: { color: "shared", x: "independent", y: sharedKeys ? "shared" : "independent" } },
  };
}
