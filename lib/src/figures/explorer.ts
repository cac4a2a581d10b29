/**
 * A live figure: Nadaraya-Watson on one-dimensional data with a σ slider and a kernel menu,
 * computed by Vega in the browser, so that JupyterLab redraws the fit and the attention map as
 * the slider moves, with no kernel round-trip. The same spec also renders to a static PNG.
 */
import { describe, fail } from "../errors";
import { resolveKernel, type Kernel, type KernelName } from "../kernels";
import { checkRange, optionalString, paddedRange, resolveSize, toNumbers } from "./convert";
import { MAGENTA, REDS, SERIES_COLORS, vegaLiteConfig } from "./style";
import type { FigureSizeOptions, NumericArray, Figure } from "./types";
import { checkOptions, checkPositive } from "../validate";

/** The Vega-Lite version JupyterLab 4 renders live; the spec is written to its schema. */
export const VEGA_LITE_V5_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json";

/** Options for {@link nadarayaWatsonExplorer}. */
export interface ExplorerOptions extends FigureSizeOptions {
  /** Where the estimate is drawn (and the attention map's columns). Required. */
  readonly queries: NumericArray;
  /** The true function at the queries, drawn dashed, if known. */
  readonly truth?: NumericArray;
  /** The kernels the menu offers, by name. Default `["gaussian"]`. */
  readonly kernels?: readonly KernelName[];
  /** The kernel shown first. Default: the first of `kernels`. */
  readonly kernel?: KernelName;
  /** The slider's range of σ (a logarithmic slider). Default `[0.05, 2]`. */
  readonly sigmaRange?: readonly [number, number];
  /** The σ shown first. Default: the geometric middle of `sigmaRange`, rounded to 2 digits. */
  readonly sigma?: number;
  /** x-axis label of the fit. Default `"x"`. */
  readonly xLabel?: string;
  /** y-axis label of the fit. Default `"y"`. */
  readonly yLabel?: string;
  /** Draw the attention map beside the fit. Default `true`. */
  readonly attention?: boolean;
  /**
   * Curves over σ drawn in a panel of their own, such as losses against the width, with a
   * marker on each curve at the grid point nearest the slider's σ.
   */
  readonly curves?: ExplorerCurves;
}

/** Curves against σ for {@link ExplorerOptions.curves}: one σ grid, one or more series on it. */
export interface ExplorerCurves {
  /** The σ grid, increasing and positive (the panel's x axis is logarithmic). */
  readonly sigma: NumericArray;
  /** The curves: a label and one finite value per grid point. */
  readonly series: readonly { readonly label: string; readonly values: NumericArray }[];
  /** The panel's title. Default `"Against σ"`. */
  readonly title?: string;
  /** The panel's y-axis label. Default `"value"`. */
  readonly yLabel?: string;
  /** The y scale. Default `"linear"`. */
  readonly yScale?: "linear" | "log";
}

/** What {@link nadarayaWatsonExplorer} returns: a figure with a live spec. */
export interface ExplorerFigure extends Figure {
  readonly kind: "explorer";
  /**
   * The Vega-Lite v5 spec that front ends able to render it (JupyterLab) draw live, with its
   * bound parameters `logSigma` (a range input) and `kernel` (a menu). `show` sends it together
   * with the static PNG of `spec`, which is the same figure at its first σ and kernel.
   */
  readonly live: Record<string, unknown>;
  /** The kernels in the menu. */
  readonly kernels: readonly KernelName[];
  /** The slider's range of σ. */
  readonly sigmaRange: readonly [number, number];
  /** The σ and kernel the figure opens with. */
  readonly initial: { readonly sigma: number; readonly kernel: KernelName };
}

/**
 * Nadaraya-Watson on one-dimensional keys, live: a slider for the width σ (logarithmic) and a
 * menu of kernels redraw, in the browser, the estimate over the training points (and the true
 * function, when given) and the `[nQueries, nKeys]` attention map beside it. The arithmetic runs
 * inside the spec as Vega transforms over the key × query pairs: log-scores from the kernel
 * table's `vegaLog`, weights as a softmax of them per query (as `nadarayaWatson` computes them),
 * and the weighted sum of the values. A query with no key inside a compact kernel's window has
 * no estimate; the curve has a gap there.
 *
 * In JupyterLab, `show(explorer)` draws it live; everywhere else (GitHub, nbviewer, `--check`)
 * the output shows the static PNG of the first σ and kernel. Keep n × m small (a few thousand
 * pairs): the browser recomputes every pair on each slider move.
 *
 * @param keys `[n]` training inputs.
 * @param values `[n]` training targets.
 * @param options the queries (required), truth, kernels, σ range and labels.
 *
 * @example
 * ```ts
 * const { xTrain, yTrain, xVal, yVal } = loadTutorialData();
 * await show(nadarayaWatsonExplorer(xTrain, yTrain, { queries: xVal, truth: yVal, kernels: ["gaussian", "boxcar"] }));
 * ```
 */
export function nadarayaWatsonExplorer(keys: NumericArray, values: NumericArray, options: ExplorerOptions): ExplorerFigure {
  const fn = "nadarayaWatsonExplorer";
  checkOptions(fn, options);
  const { width, height, pixelRatio } = resolveSize(fn, { width: 960, height: 280, ...options });
  const k = toNumbers(fn, "keys", keys);
  const v = toNumbers(fn, "values", values);
  if (k.length === 0) fail(fn, "keys must not be empty");
  if (k.length !== v.length) fail(fn, `keys and values must have the same length, got ${k.length} and ${v.length}`);
  if (options.queries === undefined) fail(fn, "options.queries is required: where to draw the estimate");
  const q = toNumbers(fn, "options.queries", options.queries);
  if (q.length === 0) fail(fn, "options.queries must not be empty");
  const truth = options.truth === undefined ? undefined : toNumbers(fn, "options.truth", options.truth);
  if (truth !== undefined && truth.length !== q.length) {
    fail(fn, `options.truth must have one value per query, got ${truth.length} for ${q.length} queries`);
  }
  const names = options.kernels ?? ["gaussian"];
  if (!Array.isArray(names) || names.length === 0) fail(fn, `options.kernels must be a non-empty array of kernel names, got ${describe(names)}`);
  const kernels = names.map((name, i) => {
    // Names only: the menu draws each kernel from its Vega expression in the kernel table.
    if (typeof name !== "string") fail(fn, `options.kernels[${i}] must be a kernel name, got ${describe(name)}`);
    return resolveKernel(fn, name, `options.kernels[${i}]`);
  });
  const kernel = options.kernel ?? (names[0] as KernelName);
  if (!names.includes(kernel)) fail(fn, `options.kernel must be one of the menu's kernels (${names.join(", ")}), got ${describe(kernel)}`);
  const sigmaRange = options.sigmaRange === undefined ? ([0.05, 2] as [number, number]) : checkRange(fn, "options.sigmaRange", options.sigmaRange);
  checkPositive(fn, "options.sigmaRange[0]", sigmaRange[0]);
  const sigma = options.sigma ?? +Math.sqrt(sigmaRange[0] * sigmaRange[1]).toPrecision(2);
  if (typeof sigma !== "number" || !(sigma >= sigmaRange[0] && sigma <= sigmaRange[1])) {
    fail(fn, `options.sigma must lie in options.sigmaRange [${sigmaRange.join(", ")}], got ${describe(sigma)}`);
  }
  const xLabel = optionalString(fn, "options.xLabel", options.xLabel) ?? "x";
  const yLabel = optionalString(fn, "options.yLabel", options.yLabel) ?? "y";
  const attention = options.attention ?? true;
  if (typeof attention !== "boolean") fail(fn, `options.attention must be true or false, got ${describe(attention)}`);
  const curves = options.curves === undefined ? undefined : resolveCurves(fn, options.curves);

  const spec = explorerSpec({ k, v, q, truth, kernels, kernel, sigma, sigmaRange, width, height, xLabel, yLabel, attention, curves });
  return {
    kind: "explorer",
    width,
    height,
    pixelRatio,
    spec,
    live: spec,
    kernels: names,
    sigmaRange,
    initial: { sigma, kernel },
  };
}

interface ResolvedCurves {
  readonly sigma: number[];
  readonly series: { label: string; values: number[] }[];
  readonly title: string;
  readonly yLabel: string;
  readonly yScale: "linear" | "log";
}

function resolveCurves(fn: string, curves: ExplorerCurves): ResolvedCurves {
  checkOptions(fn, curves, "options.curves");
  const sigma = toNumbers(fn, "options.curves.sigma", curves.sigma);
  if (sigma.length < 2) fail(fn, `options.curves.sigma needs at least 2 grid points, got ${sigma.length}`);
  sigma.forEach((s, i) => {
    checkPositive(fn, `options.curves.sigma[${i}]`, s);
    if (i > 0 && !(s > (sigma[i - 1] as number))) {
      fail(fn, `options.curves.sigma must increase, got ${sigma[i - 1]} then ${s} at index ${i}`);
    }
  });
  if (!Array.isArray(curves.series) || curves.series.length === 0) {
    fail(fn, `options.curves.series must be a non-empty array of { label, values }, got ${describe(curves.series)}`);
  }
  const yScale = curves.yScale ?? "linear";
  if (yScale !== "linear" && yScale !== "log") fail(fn, `options.curves.yScale must be "linear" or "log", got ${describe(yScale)}`);
  const series = curves.series.map((entry, i) => {
    const where = `options.curves.series[${i}]`;
    if (typeof entry !== "object" || entry === null) fail(fn, `${where} must be { label, values }, got ${describe(entry)}`);
    const label = optionalString(fn, `${where}.label`, entry.label);
    if (label === undefined || label === "") fail(fn, `${where}.label must be a non-empty string, got ${describe(entry.label)}`);
    const values = toNumbers(fn, `${where}.values`, entry.values);
    if (values.length !== sigma.length) {
      fail(fn, `${where}.values must have one value per σ, got ${values.length} for ${sigma.length} grid points`);
    }
    if (yScale === "log" && values.some((x) => x <= 0)) fail(fn, `${where}.values must be positive on a log scale`);
    return { label, values };
  });
  const title = optionalString(fn, "options.curves.title", curves.title) ?? "Against σ";
  const yLabel = optionalString(fn, "options.curves.yLabel", curves.yLabel) ?? "value";
  return { sigma, series, title, yLabel, yScale };
}

interface ExplorerLayout {
  readonly k: number[];
  readonly v: number[];
  readonly q: number[];
  readonly truth: number[] | undefined;
  readonly kernels: Kernel[];
  readonly kernel: KernelName;
  readonly sigma: number;
  readonly sigmaRange: readonly [number, number];
  readonly width: number;
  readonly height: number;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly attention: boolean;
  readonly curves: ResolvedCurves | undefined;
}

/** The log-score of the chosen kernel at scaled distance r, as one Vega expression. */
function logScoreExpression(kernels: Kernel[]): string {
  const branches = kernels.map((k) => {
    if (k.vegaLog === undefined) return fail("nadarayaWatsonExplorer", `kernel ${k.name} has no Vega expression`);
    return [k.name, `(${k.vegaLog.replace(/\br\b/g, "datum.r")})`] as const;
  });
  let expr = (branches[branches.length - 1] as readonly [string, string])[1];
  for (let i = branches.length - 2; i >= 0; i--) {
    const [name, body] = branches[i] as readonly [string, string];
    expr = `kernel === '${name}' ? ${body} : ${expr}`;
  }
  return expr;
}

function explorerSpec(l: ExplorerLayout): Record<string, unknown> {
  const round = (x: number) => +x.toPrecision(15);
  const keys = l.k.map((k, i) => ({ i, k: round(k), v: round(l.v[i] as number) }));
  const queries = l.q.map(round);
  // Every (key, query) pair, with the weight α of the key for the query: a softmax of the
  // log-scores per query, as nadarayaWatson computes it (the best key's term is exp(0) = 1).
  const pairs = [
    { calculate: `[${queries.join(",")}]`, as: "qs" },
    { calculate: `sequence(0, ${queries.length})`, as: "js" },
    { flatten: ["qs", "js"], as: ["q", "j"] },
    { calculate: "abs(datum.q - datum.k) / sigma", as: "r" },
    { calculate: logScoreExpression(l.kernels), as: "s" },
    { joinaggregate: [{ op: "max", field: "s", as: "best" }], groupby: ["j"] },
    { calculate: "exp(datum.s - datum.best)", as: "e" },
    { joinaggregate: [{ op: "sum", field: "e", as: "total" }], groupby: ["j"] },
    { calculate: "datum.e / datum.total", as: "alpha" },
  ];
  const xDomain = paddedRange([...l.k, ...l.q]);
  const yDomain = paddedRange([...l.v, ...(l.truth ?? [])]);
  const panels = 1 + (l.attention ? 1 : 0) + (l.curves === undefined ? 0 : 1);
  const panelWidth = Math.floor((l.width - 115 * panels) / panels);
  const panelHeight = l.height - 70;
  const titles = Object.fromEntries(l.kernels.map((k) => [k.name, k.name.charAt(0).toUpperCase() + k.name.slice(1)]));
  const fit = {
    width: panelWidth,
    height: panelHeight,
    title: { text: { expr: `'Nadaraya-Watson, ' + ${JSON.stringify(titles)}[kernel] + ' kernel, σ = ' + format(sigma, '.3~g')` } },
    layer: [
      {
        data: { name: "keys" },
        transform: [
          ...pairs,
          { calculate: "datum.alpha * datum.v", as: "share" },
          {
            aggregate: [
              { op: "sum", field: "share", as: "sum" },
              { op: "max", field: "s", as: "best" },
            ],
            groupby: ["j", "q"],
          },
          // No key in a compact kernel's window: every score is −∞ and the estimate undefined
          // (vega's sum would skip the NaN shares and say 0).
          { calculate: "datum.best > log(0) ? datum.sum : NaN", as: "estimate" },
        ],
        mark: { type: "line", color: SERIES_COLORS[0], strokeWidth: 2 },
        encoding: {
          x: { field: "q", type: "quantitative", title: l.xLabel, scale: { domain: xDomain, nice: false } },
          // A fixed y range, so the axes stay put while the slider moves.
          y: { field: "estimate", type: "quantitative", title: l.yLabel, scale: { domain: yDomain, nice: false } },
        },
      },
      ...(l.truth === undefined
        ? []
        : [
            {
              data: { values: queries.map((q, j) => ({ q, f: round((l.truth as number[])[j] as number) })) },
              mark: { type: "line", color: MAGENTA, strokeDash: [6, 3], strokeWidth: 2 },
              encoding: { x: { field: "q", type: "quantitative" }, y: { field: "f", type: "quantitative" } },
            },
          ]),
      {
        data: { name: "keys" },
        mark: { type: "circle", color: SERIES_COLORS[1], opacity: 0.5, size: 30 },
        encoding: { x: { field: "k", type: "quantitative" }, y: { field: "v", type: "quantitative" } },
      },
    ],
  };
  const attention = {
    width: panelWidth,
    height: panelHeight,
    title: "Attention weights α",
    data: { name: "keys" },
    transform: pairs,
    mark: { type: "rect" },
    encoding: {
      x: { field: "j", type: "ordinal", title: "Query index", axis: { values: ticks(queries.length), labelAngle: 0 } },
      y: { field: "i", type: "ordinal", title: "Key index", axis: { values: ticks(keys.length) } },
      color: {
        field: "alpha",
        type: "quantitative",
        title: "α",
        // The nine reds, evenly spaced in √α, as heatmapsFigure's "sqrt" scale places them.
        scale: { type: "sqrt", domain: REDS.map((_, i) => (i / (REDS.length - 1)) ** 2), range: [...REDS], interpolate: "rgb", clamp: true },
        legend: { values: [0, 0.05, 0.2, 0.5, 1], format: "~g", gradientLength: Math.max(20, panelHeight - 20) },
      },
    },
  };
  const curves = l.curves === undefined ? undefined : curvesPanel(l.curves, panelWidth, panelHeight, round);
  const [lo, hi] = l.sigmaRange;
  return {
    $schema: VEGA_LITE_V5_SCHEMA,
    description: "Nadaraya-Watson attention pooling with a σ slider and a kernel menu, computed live by Vega.",
    config: { ...vegaLiteConfig(), view: { stroke: "#000000", strokeWidth: 0.8 } },
    datasets: { keys },
    params: [
      {
        name: "logSigma",
        value: round(Math.log10(l.sigma)),
        bind: { input: "range", min: round(Math.log10(lo)), max: round(Math.log10(hi)), step: 0.01, name: "log₁₀ σ " },
      },
      { name: "sigma", expr: "pow(10, logSigma)" },
      {
        name: "kernel",
        value: l.kernel,
        bind: { input: "select", options: l.kernels.map((k) => k.name), name: "kernel " },
      },
    ],
    hconcat: [fit, ...(l.attention ? [attention] : []), ...(curves === undefined ? [] : [curves])],
    resolve: { scale: { color: "independent" } },
  };
}

/** The curves against σ, with a rule at the slider's σ and a marker on each curve at the nearest grid point. */
function curvesPanel(
  c: ResolvedCurves,
  width: number,
  height: number,
  round: (x: number) => number,
): Record<string, unknown> {
  const rows = c.series.flatMap(({ label, values }) =>
    c.sigma.map((s, i) => ({ series: label, s: round(s), value: round(values[i] as number) })),
  );
  const labels = c.series.map((e) => e.label);
  const color = {
    field: "series",
    type: "nominal",
    title: null,
    scale: { domain: labels, range: labels.map((_, i) => SERIES_COLORS[i % SERIES_COLORS.length]) },
    legend: { orient: "top-right" },
  };
  const x = { field: "s", type: "quantitative", title: "σ", scale: { type: "log", domain: [c.sigma[0], c.sigma[c.sigma.length - 1]], nice: false } };
  const y = { field: "value", type: "quantitative", title: c.yLabel, scale: { type: c.yScale, zero: false } };
  return {
    width,
    height,
    title: c.title,
    data: { values: rows },
    layer: [
      { mark: { type: "line", strokeWidth: 2 }, encoding: { x, y, color } },
      {
        transform: [{ calculate: "abs(log(datum.s) - log(sigma))", as: "gap" }, { joinaggregate: [{ op: "min", field: "gap", as: "nearest" }], groupby: ["series"] }, { filter: "datum.gap === datum.nearest" }],
        mark: { type: "point", filled: true, size: 70, opacity: 1 },
        encoding: { x, y, color },
      },
      {
        data: { values: [{}] },
        transform: [{ calculate: "sigma", as: "s" }],
        mark: { type: "rule", color: "#555555", strokeDash: [4, 3] },
        encoding: { x: { field: "s", type: "quantitative" } },
      },
    ],
  };
}

/** Index ticks 0, 10, 20, … (or 0, 5, 10, … for short axes). */
function ticks(n: number): number[] {
  const step = n > 30 ? 10 : 5;
  const out: number[] = [];
  for (let i = 0; i < n; i += step) out.push(i);
  return out;
}
