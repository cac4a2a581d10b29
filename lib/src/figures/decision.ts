/**
 * Decision-boundary plots: a classifier's decisions on a 2-D grid drawn as lightly tinted class
 * regions, the boundaries between them as lines, and the training points coloured by class.
 */
import { describe, fail } from "../errors";
import { checkRange, optionalString, resolveSize, toNumbers } from "./convert";
import { estimateTextWidth, FIGURE_PADDING, SERIES_COLORS, vegaLiteConfig } from "./style";
import type { FigureSizeOptions } from "./types";
import { checkOptions } from "../validate";

/** How a boundary line is drawn. */
export type BoundaryStyle = "line" | "dashed";

/** A decision boundary to draw in a {@link DecisionPanelInput}. */
export interface BoundaryInput {
  /** Legend label, e.g. `"Parzen"`. */
  readonly name: string;
  /** One decision per grid point (same order as the panel's `regions`); −1 marks "undecided". */
  readonly decisions: ArrayLike<number>;
  /** `"line"` (default) or `"dashed"`. */
  readonly style?: BoundaryStyle;
}

/** One panel of a {@link decisionFigure}. */
export interface DecisionPanelInput {
  /** Title above the panel. */
  readonly title?: string;
  /** The grid axes: `nx` x values and `ny` y values, ascending and evenly spaced (e.g. from `grid2d`). */
  readonly grid: { readonly x: readonly number[]; readonly y: readonly number[] };
  /**
   * The class decided at each grid point, row by row (`index = iy · nx + ix`), as `grid2d` orders
   * its points; −1 (undecided) is left white.
   */
  readonly regions: ArrayLike<number>;
  /** Boundaries to draw along the edges between grid cells of different decision. Default none. */
  readonly boundaries?: readonly BoundaryInput[];
  /** Training points `[n][2]`, drawn on top. */
  readonly points: readonly (readonly number[])[];
  /** The class of each training point. */
  readonly labels: ArrayLike<number>;
  /** The name of each class index in this panel. Default: the figure's `classNames`. */
  readonly classNames?: readonly string[];
  /** x-axis label. Default: the figure's `xLabel`. */
  readonly xLabel?: string;
  /** y-axis label. Default: the figure's `yLabel`. */
  readonly yLabel?: string;
}

/** Options for {@link decisionFigure}. */
export interface DecisionFigureOptions extends FigureSizeOptions {
  /**
   * Class names, one per class index, for panels that don't set their own, and the order of the
   * legend. Default `"class 0"`, `"class 1"`, …. Colours follow names, so a class keeps its colour
   * across panels that number it differently.
   */
  readonly classNames?: readonly string[];
  /** x-axis label of panels that don't set their own. Default `"x₁"`. */
  readonly xLabel?: string;
  /** y-axis label of panels that don't set their own. Default `"x₂"`. */
  readonly yLabel?: string;
  /** Opacity of the class regions, in [0, 1]. Default 0.2. */
  readonly regionOpacity?: number;
}

/** A panel of a {@link DecisionFigure}: every default resolved, data as plain numbers. */
export interface DecisionPanel {
  readonly title?: string;
  readonly xLabel: string;
  readonly yLabel: string;
  /** The x and y ranges drawn: the grid's extent plus half a cell. */
  readonly xDomain: readonly [number, number];
  readonly yDomain: readonly [number, number];
  /** Class regions as rectangles, neighbouring cells of one class merged along each grid row. */
  readonly regions: readonly { x0: number; x1: number; y0: number; y1: number; class: string }[];
  /** Boundary segments, each between two grid cells that were decided differently. */
  readonly boundaries: readonly {
    readonly name: string;
    readonly style: BoundaryStyle;
    readonly segments: readonly { x: number; y: number; x2: number; y2: number }[];
  }[];
  readonly points: readonly { x: number; y: number; class: string }[];
}

/** A row of decision-boundary panels, from {@link decisionFigure}. */
export interface DecisionFigure {
  readonly kind: "decision";
  /** Width of the whole figure in CSS pixels. */
  readonly width: number;
  /** Height of the whole figure in CSS pixels. */
  readonly height: number;
  /** Device pixels per CSS pixel in PNG output. */
  readonly pixelRatio: number;
  /** Title above the whole figure, if any. */
  readonly title?: string;
  /** y-axis label of the first panel. */
  readonly yLabel: string;
  /** Every class name, in order of first appearance (panel by panel). */
  readonly classNames: readonly string[];
  /** The colour of each entry of `classNames` (matplotlib's cycle). */
  readonly classColors: readonly string[];
  readonly panels: readonly DecisionPanel[];
  /** The Vega-Lite spec that draws the figure (datasets `panel-<i>-regions`, `-boundaries`, `-points`). */
  readonly spec: Record<string, unknown>;
}

/** Default size of a decision figure: wide enough for two nearly square panels. */
export const DECISION_FIGURE_SIZE = { width: 960, height: 400 } as const;

/** Gap between panel frames, in CSS pixels: room for the next panel's own y axis and label. */
const PANEL_GAP = 64;

const BOUNDARY_STYLES: readonly BoundaryStyle[] = ["line", "dashed"];
/** Solid boundaries wide and black; dashed ones narrow and yellow, so a dashed line drawn on a solid one shows both. */
const BOUNDARY_LOOK: Record<BoundaryStyle, { color: string; dash: number[]; width: number }> = {
  line: { color: "#000000", dash: [1, 0], width: 2.6 },
  dashed: { color: "#ffd92f", dash: [4, 3], width: 1.3 },
};

/**
 * Builds a row of decision-boundary plots. Each panel shows, over a regular 2-D grid, the class
 * decided at every grid point as a light tint of that class's colour, boundaries as lines along
 * the edges between grid cells decided differently (so a boundary is exactly what the grid
 * decisions imply, to the grid's resolution), and the training points in their class colours.
 * Two boundaries computed by different rules can be overlaid (one solid, one dashed) to show
 * that they coincide.
 *
 * Defaults: 960 × 400 CSS px, PNG at 2×; class colours from matplotlib's cycle; region opacity 0.2;
 * axis labels "x₁" and "x₂".
 *
 * @param panels one entry per panel, left to right.
 * @param options see {@link DecisionFigureOptions}.
 * @returns a {@link DecisionFigure}; render it with `show`, `saveFigure` or `renderPng`.
 *
 * @example
 * ```ts
 * const { points, labels } = twoMoons();
 * const grid = grid2d(points, { steps: 100 });
 * const { labels: decided } = parzenClassifier(points, labels, grid.points, "gaussian", { sigma: 0.2 });
 * const decisions = Int32Array.from(decided.dataSync());
 * const figure = decisionFigure([
 *   { grid, regions: decisions, points, labels, boundaries: [{ name: "Parzen", decisions }] },
 * ]);
 * await show(figure);
 * ```
 */
export function decisionFigure(
  panels: readonly DecisionPanelInput[],
  options: DecisionFigureOptions = {},
): DecisionFigure {
  const fn = "decisionFigure";
  const { width, height, pixelRatio } = resolveSize(fn, options, DECISION_FIGURE_SIZE);
  if (!Array.isArray(panels) || panels.length === 0) {
    fail(fn, `panels must be a non-empty array, got ${describe(panels)}`);
  }
  const title = optionalString(fn, "options.title", options.title);
  const xLabel = optionalString(fn, "options.xLabel", options.xLabel) ?? "x₁";
  const yLabel = optionalString(fn, "options.yLabel", options.yLabel) ?? "x₂";
  const regionOpacity = options.regionOpacity ?? 0.2;
  if (typeof regionOpacity !== "number" || !(regionOpacity >= 0 && regionOpacity <= 1)) {
    fail(fn, `options.regionOpacity must be a number in [0, 1], got ${describe(regionOpacity)}`);
  }

  // Legend order: the figure's class names first, then any other names in order of appearance.
  const seen: string[] = Array.isArray(options.classNames) ? [...options.classNames] : [];
  const built = panels.map((panel, p) => {
    const at = `panels[${p}]`;
    checkOptions(fn, panel, at);
    const gx = toNumbers(fn, `${at}.grid.x`, panel.grid?.x);
    const gy = toNumbers(fn, `${at}.grid.y`, panel.grid?.y);
    for (const [name, axis] of [
      ["x", gx],
      ["y", gy],
    ] as const) {
      if (axis.length < 2) fail(fn, `${at}.grid.${name} must have at least 2 values, got ${axis.length}`);
      for (let i = 1; i < axis.length; i++) {
        if (!((axis[i] as number) > (axis[i - 1] as number))) {
          fail(fn, `${at}.grid.${name} must be strictly ascending, got ${axis[i - 1]} then ${axis[i]} at index ${i}`);
        }
      }
    }
    const cells = gx.length * gy.length;
    const regions = classArray(fn, `${at}.regions`, panel.regions, cells);
    const boundaryInputs: readonly BoundaryInput[] = panel.boundaries ?? [];
    const boundaries = boundaryInputs.map((b: BoundaryInput, i: number) => {
      const bat = `${at}.boundaries[${i}]`;
      checkOptions(fn, b, bat);
      if (typeof b.name !== "string" || b.name === "") {
        fail(fn, `${bat}.name must be a non-empty string, got ${describe(b.name)}`);
      }
      const style = b.style ?? "line";
      if (!BOUNDARY_STYLES.includes(style)) {
        fail(fn, `${bat}.style must be one of 'line', 'dashed', got ${describe(style)}`);
      }
      const decisions = classArray(fn, `${bat}.decisions`, b.decisions, cells);
      return { name: b.name, style, segments: edges(gx, gy, decisions) };
    });
    const input: readonly (readonly number[])[] = panel.points;
    if (!Array.isArray(input) || input.length === 0) {
      fail(fn, `${at}.points must be a non-empty array of [x, y] pairs, got ${describe(input)}`);
    }
    const labels = classArray(fn, `${at}.labels`, panel.labels, input.length);
    const numClasses = Math.max(...regions, ...labels) + 1;
    const names = panel.classNames ?? options.classNames ?? Array.from({ length: numClasses }, (_, c) => `class ${c}`);
    if (!Array.isArray(names) || names.length < numClasses || names.some((v) => typeof v !== "string")) {
      const arg = panel.classNames === undefined ? "options.classNames" : `${at}.classNames`;
      fail(fn, `${arg} must name each of the ${numClasses} classes, got ${describe(names)}`);
    }
    for (const name of names.slice(0, numClasses)) if (!seen.includes(name)) seen.push(name);
    const points = input.map((pt, i) => {
      const xy = toNumbers(fn, `${at}.points[${i}]`, pt);
      if (xy.length !== 2) fail(fn, `${at}.points[${i}] must be an [x, y] pair, got ${describe(pt)}`);
      return { x: xy[0] as number, y: xy[1] as number, class: names[labels[i] as number] as string };
    });
    const hx = ((gx[1] as number) - (gx[0] as number)) / 2;
    const hy = ((gy[1] as number) - (gy[0] as number)) / 2;
    const panelTitle = optionalString(fn, `${at}.title`, panel.title);
    return {
      ...(panelTitle === undefined ? {} : { title: panelTitle }),
      xLabel: optionalString(fn, `${at}.xLabel`, panel.xLabel) ?? xLabel,
      yLabel: optionalString(fn, `${at}.yLabel`, panel.yLabel) ?? yLabel,
      xDomain: checkRange(fn, `${at}.grid.x`, [(gx[0] as number) - hx, (gx[gx.length - 1] as number) + hx]),
      yDomain: checkRange(fn, `${at}.grid.y`, [(gy[0] as number) - hy, (gy[gy.length - 1] as number) + hy]),
      regions: runs(gx, gy, regions).map(({ label, ...r }) => ({ ...r, class: names[label] as string })),
      boundaries,
      points,
    } satisfies DecisionPanel;
  });

  const classNames = seen;
  const classColors = classNames.map((_, c) => SERIES_COLORS[c % SERIES_COLORS.length] as string);
  const spec = decisionSpec(built, { width, height, title, classNames, classColors, regionOpacity });
  return {
    kind: "decision",
    width,
    height,
    pixelRatio,
    ...(title === undefined ? {} : { title }),
    yLabel: (built[0] as DecisionPanel).yLabel,
    classNames,
    classColors,
    panels: built,
    spec,
  };
}

function classArray(fn: string, arg: string, values: unknown, length: number): number[] {
  const isArrayLike =
    Array.isArray(values) ||
    values instanceof Int32Array ||
    values instanceof Float32Array ||
    values instanceof Float64Array ||
    values instanceof Uint8Array;
  if (!isArrayLike) fail(fn, `${arg} must be an array of class indices, got ${describe(values)}`);
  const out = Array.from(values as ArrayLike<number>);
  if (out.length !== length) fail(fn, `${arg} must have ${length} entries, got ${out.length}`);
  out.forEach((v, i) => {
    if (!Number.isInteger(v) || v < -1) fail(fn, `${arg} must hold class indices >= 0 or −1, got ${describe(v)} at index ${i}`);
  });
  return out;
}

/** Rectangles of constant class, merging neighbouring cells along each grid row. */
function runs(
  gx: number[],
  gy: number[],
  classes: number[],
): { x0: number; x1: number; y0: number; y1: number; label: number }[] {
  const nx = gx.length;
  const hx = ((gx[1] as number) - (gx[0] as number)) / 2;
  const hy = ((gy[1] as number) - (gy[0] as number)) / 2;
  const out: { x0: number; x1: number; y0: number; y1: number; label: number }[] = [];
  gy.forEach((y, iy) => {
    let start = 0;
    for (let ix = 1; ix <= nx; ix++) {
      const c = classes[iy * nx + start] as number;
      if (ix < nx && classes[iy * nx + ix] === c) continue;
      if (c >= 0) {
        out.push({ x0: (gx[start] as number) - hx, x1: (gx[ix - 1] as number) + hx, y0: y - hy, y1: y + hy, label: c });
      }
      start = ix;
    }
  });
  return out;
}

/** Segments along the cell edges that separate two grid cells with different decisions. */
function edges(gx: number[], gy: number[], d: number[]): { x: number; y: number; x2: number; y2: number }[] {
  const nx = gx.length;
  const ny = gy.length;
  const hx = ((gx[1] as number) - (gx[0] as number)) / 2;
  const hy = ((gy[1] as number) - (gy[0] as number)) / 2;
  const out: { x: number; y: number; x2: number; y2: number }[] = [];
  for (let iy = 0; iy < ny; iy++) {
    for (let ix = 0; ix < nx; ix++) {
      const c = d[iy * nx + ix];
      const x = gx[ix] as number;
      const y = gy[iy] as number;
      if (ix + 1 < nx && d[iy * nx + ix + 1] !== c) out.push({ x: x + hx, y: y - hy, x2: x + hx, y2: y + hy });
      if (iy + 1 < ny && d[(iy + 1) * nx + ix] !== c) out.push({ x: x - hx, y: y + hy, x2: x + hx, y2: y + hy });
    }
  }
  return out;
}

/** `color` (as #rrggbb) laid at `opacity` over white, as an opaque #rrggbb. */
function tint(color: string, opacity: number): string {
  const channel = (i: number) => {
    const v = parseInt(color.slice(1 + 2 * i, 3 + 2 * i), 16);
    return Math.round(255 - opacity * (255 - v))
      .toString(16)
      .padStart(2, "0");
  };
  return `#${channel(0)}${channel(1)}${channel(2)}`;
}

interface DecisionLayout {
  readonly width: number;
  readonly height: number;
  readonly title: string | undefined;
  readonly classNames: readonly string[];
  readonly classColors: readonly string[];
  readonly regionOpacity: number;
}

function decisionSpec(panels: readonly DecisionPanel[], l: DecisionLayout): Record<string, unknown> {
  const n = panels.length;
  const boundaryNames = [...new Set(panels.flatMap((p) => p.boundaries.map((b) => b.name)))];
  const styleOf = new Map(panels.flatMap((p) => p.boundaries.map((b) => [b.name, b.style] as const)));
  // First estimates of the space around the panels; rendering corrects them to the exact size.
  const legendWidth = 40 + Math.max(...[...l.classNames, ...boundaryNames].map((s) => estimateTextWidth(s, 10.5)));
  const left = 50;
  const top = panels.some((p) => p.title !== undefined) ? 20 : 4;
  const figureTitle = l.title === undefined ? 0 : 22;
  const bottom = 36;
  const panelWidth = Math.max(
    20,
    Math.floor((l.width - 2 * FIGURE_PADDING - legendWidth - left * n - PANEL_GAP * (n - 1)) / n),
  );
  const panelHeight = Math.max(20, Math.floor(l.height - 2 * FIGURE_PADDING - top - figureTitle - bottom));

  const classField = {
    field: "class",
    type: "nominal",
    sort: [...l.classNames],
    scale: { domain: [...l.classNames], range: [...l.classColors] },
  };
  const boundaryField = {
    field: "boundary",
    type: "nominal",
    sort: boundaryNames,
    legend: { title: "boundary", symbolType: "stroke", symbolStrokeWidth: 2.5, symbolFillColor: "#dddddd" },
  };
  const look = (key: "color" | "dash" | "width") => ({
    ...boundaryField,
    scale: { domain: boundaryNames, range: boundaryNames.map((b) => BOUNDARY_LOOK[styleOf.get(b) ?? "line"][key]) },
  });
  const classLegend = { title: "class", symbolType: "circle", symbolStrokeWidth: 0 };
  const datasets: Record<string, unknown[]> = {};
  const hconcat = panels.map((panel, p) => {
    const axis = { grid: false };
    const x = { type: "quantitative", title: panel.xLabel, axis, scale: { domain: [...panel.xDomain], nice: false, zero: false } };
    const y = { type: "quantitative", title: panel.yLabel, axis, scale: { domain: [...panel.yDomain], nice: false, zero: false } };
    const layer: unknown[] = [];
    const tints = new Map(l.classNames.map((name, c) => [name, tint(l.classColors[c] as string, l.regionOpacity)]));
    datasets[`panel-${p}-regions`] = panel.regions.map((r) => ({ ...r, tint: tints.get(r.class) }));
    layer.push({
      data: { name: `panel-${p}-regions` },
      // Opaque tints rather than transparency, so the seams between neighbouring rectangles don't show.
      mark: { type: "rect", strokeWidth: 0 },
      encoding: {
        x: { ...x, field: "x0" },
        x2: { field: "x1" },
        y: { ...y, field: "y0" },
        y2: { field: "y1" },
        fill: { field: "tint", type: "nominal", scale: null, legend: null },
      },
    });
    // Boundaries in the order given: later ones are drawn on top.
    const segments = panel.boundaries.flatMap((b, order) =>
      b.segments.map((s) => ({ ...s, boundary: b.name, order })),
    );
    if (segments.length > 0) {
      datasets[`panel-${p}-boundaries`] = segments;
      layer.push({
        data: { name: `panel-${p}-boundaries` },
        mark: { type: "rule", strokeCap: "butt" },
        encoding: {
          x: { ...x, field: "x" },
          y: { ...y, field: "y" },
          x2: { field: "x2" },
          y2: { field: "y2" },
          stroke: look("color"),
          strokeDash: look("dash"),
          strokeWidth: look("width"),
          order: { field: "order", type: "quantitative" },
        },
      });
    }
    datasets[`panel-${p}-points`] = [...panel.points];
    layer.push({
      data: { name: `panel-${p}-points` },
      mark: { type: "point", filled: true, size: 30, stroke: "#ffffff", strokeWidth: 0.6, opacity: 0.9, clip: true },
      encoding: {
        x: { ...x, field: "x" },
        y: { ...y, field: "y" },
        color: { ...classField, legend: classLegend },
      },
    });
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
    spacing: PANEL_GAP,
    datasets,
    hconcat,
    resolve: {
      scale: {
        x: "independent",
        y: "independent",
        color: "shared",
        stroke: "shared",
        strokeDash: "shared",
        strokeWidth: "shared",
      },
    },
  };
}
