/**
 * Static rendering with no browser: Vega-Lite → Vega (in Node, headless) → SVG, and SVG → PNG
 * with resvg, using only the bundled font. Output is a pure function of the figure, so
 * rendering the same figure again gives the same bytes.
 *
 * `vega` and `vega-lite` are ES modules only; this CommonJS library loads them with a dynamic
 * `import()` that TypeScript's CommonJS output leaves alone. So rendering is asynchronous.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";

import { describe, fail } from "../errors";
import type { ResvgRenderOptions } from "@resvg/resvg-js";

import { FIGURE_FONT, FIGURE_PADDING, figureFontFiles } from "./style";
import { type VegaTextMetrics, withFigureTextMetrics } from "./text_metrics";
import type { Figure } from "./types";
import { checkInteger, checkPositive } from "../validate";

/** The few entry points of `vega` used here. */
interface VegaApi {
  parse(spec: unknown, config?: unknown): unknown;
  View: new (
    runtime: unknown,
    options: { renderer: string; logger?: Logger; logLevel?: number },
  ) => { toSVG(scale?: number): Promise<string>; finalize(): void };
  Warn: number;
  textMetrics: VegaTextMetrics;
}

/** The few entry points of `vega-lite` used here. */
interface VegaLiteApi {
  compile(spec: unknown, options?: { logger?: Logger }): { spec: unknown };
}

/** Vega's logger interface, used to collect warnings instead of printing them. */
interface Logger {
  level(): number;
  level(level: number): Logger;
  error(...args: unknown[]): Logger;
  warn(...args: unknown[]): Logger;
  info(...args: unknown[]): Logger;
  debug(...args: unknown[]): Logger;
}

/** A dynamic `import()` kept as is by TypeScript's CommonJS output (which would turn it into `require`). */
const importModule = new Function("specifier", "return import(specifier)") as (specifier: string) => Promise<unknown>;

let modules: Promise<{ vega: VegaApi; vegaLite: VegaLiteApi }> | undefined;

/** Loads vega and vega-lite once per process (a cache of loaded modules, not a setting). */
function loadVega(): Promise<{ vega: VegaApi; vegaLite: VegaLiteApi }> {
  if (modules === undefined) {
    const load = (name: string) => importModule(pathToFileURL(require.resolve(name)).href);
    modules = Promise.all([load("vega"), load("vega-lite")]).then(([vega, vegaLite]) => ({
      vega: vega as VegaApi,
      vegaLite: vegaLite as VegaLiteApi,
    }));
    modules.catch(() => {
      modules = undefined;
    });
  }
  return modules;
}

/** resvg, a native module, loaded on first use. */
function loadResvg(): typeof import("@resvg/resvg-js") {
  return require("@resvg/resvg-js") as typeof import("@resvg/resvg-js");
}

function collectingLogger(messages: string[]): Logger {
  let level = 2;
  const logger: Logger = {
    level: ((l?: number) => {
      if (l === undefined) return level;
      level = l;
      return logger;
    }) as Logger["level"],
    error: (...args) => {
      messages.push(`error: ${args.map(String).join(" ")}`);
      return logger;
    },
    warn: (...args) => {
      messages.push(`warning: ${args.map(String).join(" ")}`);
      return logger;
    },
    info: () => logger,
    debug: () => logger,
  };
  return logger;
}

/** The SVG that vega draws for a Vega-Lite spec, and any warnings. */
async function vegaSvg(spec: Record<string, unknown>): Promise<{ svg: string; warnings: string[] }> {
  const { vega, vegaLite } = await loadVega();
  const warnings: string[] = [];
  const logger = collectingLogger(warnings);
  const compiled = vegaLite.compile(spec, { logger }).spec;
  // Laid out with the real widths of the text in the bundled font, as a browser would lay it out.
  return withFigureTextMetrics(vega.textMetrics, async () => {
    const view = new vega.View(vega.parse(compiled), { renderer: "none", logger, logLevel: vega.Warn });
    try {
      const svg = await view.toSVG();
      if (!/^<svg[^>]*\sviewBox="/.test(svg)) {
        fail("renderSvg", `vega returned no <svg> element with a viewBox, got ${describe(svg.slice(0, 80))}`);
      }
      return { svg, warnings };
    } finally {
      view.finalize();
    }
  });
}

/** Adds `dw` to every panel's width and `dh` to its height and to the length of its colour bar. */
function resizePanels(spec: Record<string, unknown>, dw: number, dh: number): Record<string, unknown> {
  const copy = structuredClone(spec) as { hconcat: Record<string, unknown>[] };
  for (const panel of copy.hconcat) {
    panel.width = Math.max(10, (panel.width as number) + dw);
    panel.height = Math.max(10, (panel.height as number) + dh);
    const views = [panel, ...((panel.layer as Record<string, unknown>[] | undefined) ?? [])];
    for (const view of views) {
      const color = (view.encoding as Record<string, { legend?: Record<string, unknown> }> | undefined)?.color;
      if (color?.legend && typeof color.legend.gradientLength === "number") {
        color.legend.gradientLength = Math.max(10, color.legend.gradientLength + dh);
      }
    }
  }
  return copy as unknown as Record<string, unknown>;
}

/**
 * Rounds the numbers in geometry attributes (`d`, `transform`, positions and sizes) to 0.01 CSS
 * pixel, far below what can be seen, which roughly halves a heatmap's SVG. Text is untouched.
 */
function roundGeometry(svg: string): string {
  return svg.replace(
    /(\s(?:d|transform|x|y|x1|x2|y1|y2|width|height)=")([^"]*)"/g,
    (_all, head: string, value: string) =>
      `${head}${value.replace(/-?\d*\.\d{3,}(?:e-?\d+)?/g, (n) => {
        const r = Math.round(Number(n) * 100) / 100;
        return String(r === 0 ? 0 : r);
      })}"`,
  );
}

/** Writes `rgb(r, g, b)` colours as `#rrggbb`, a third shorter (heatmaps have thousands). */
function hexColors(svg: string): string {
  return svg.replace(/rgb\((\d+), (\d+), (\d+)\)/g, (_all, ...c: string[]) => {
    return "#" + c.slice(0, 3).map((v) => Number(v).toString(16).padStart(2, "0")).join("");
  });
}

/**
 * Renames the SVG's ids (vega numbers clip paths and gradients with counters that run on
 * through the process) to `fig-0`, `fig-1`, … in order of appearance, so that the bytes do not
 * depend on what was rendered before.
 */
function renumberIds(svg: string): string {
  const ids = new Map<string, string>();
  for (const m of svg.matchAll(/\sid="([^"]+)"/g)) {
    if (!ids.has(m[1] as string)) ids.set(m[1] as string, `fig-${ids.size}`);
  }
  if (ids.size === 0) return svg;
  return svg.replace(/(\sid=")([^"]+)(")|(url\(#)([^)]+)(\))|(href="#)([^"]+)(")/g, (all, ...g: (string | undefined)[]) => {
    const [a1, id1, c1, a2, id2, c2, a3, id3, c3] = g as string[];
    if (id1 !== undefined) return `${a1}${ids.get(id1) ?? id1}${c1}`;
    if (id2 !== undefined) return `${a2}${ids.get(id2) ?? id2}${c2}`;
    if (id3 !== undefined) return `${a3}${ids.get(id3) ?? id3}${c3}`;
    return all;
  });
}

/** The white background rect that vega puts first in its SVG. */
const BACKGROUND = /^(<svg[^>]*>)<rect width="[\d.]+" height="[\d.]+" fill="white"\/>/;

/** resvg's options: the bundled font only, no system fonts. */
function resvgOptions(extra: Record<string, unknown> = {}): ResvgRenderOptions {
  return {
    font: {
      loadSystemFonts: false,
      fontFiles: figureFontFiles(),
      defaultFontFamily: FIGURE_FONT,
      sansSerifFamily: FIGURE_FONT,
    },
    logLevel: "off",
    ...extra,
  };
}

/** A box in the SVG's user units. */
interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/**
 * The box of everything drawn (text included, set in the bundled font), without the background.
 * What vega laid out and what resvg draws can differ by a pixel or so (glyph ink against advance widths); this is the ink.
 */
function inkBox(svg: string): Box {
  const { Resvg } = loadResvg();
  // Group backgrounds without fill or stroke draw nothing but would count in resvg's box.
  const drawn = svg.replace(BACKGROUND, "$1").replace(/<path class="background"(?![^>]*\s(?:fill|stroke)=)[^>]*\/>/g, "");
  const box = new Resvg(drawn, resvgOptions()).getBBox();
  if (box === undefined) return fail("renderSvg", "the figure draws nothing");
  return { x: box.x, y: box.y, width: box.width, height: box.height };
}

/**
 * Makes the SVG exactly `width × height` with the drawing centred in it and `FIGURE_PADDING`
 * around its ink (scaled down only if it does not fit); the white background covers the whole
 * area. Heatmap cells get crisp edges so that neighbouring cells show no hairline seams.
 */
function frame(svg: string, ink: Box, width: number, height: number): string {
  const cw = ink.width + 2 * FIGURE_PADDING;
  const ch = ink.height + 2 * FIGURE_PADDING;
  const s = Math.max(1, cw / width, ch / height);
  const vw = width * s;
  const vh = height * s;
  const vx = ink.x - FIGURE_PADDING - (vw - cw) / 2;
  const vy = ink.y - FIGURE_PADDING - (vh - ch) / 2;
  const num = (v: number) => String(Math.round(v * 1000) / 1000);
  const open = /^<svg[^>]*>/.exec(svg)![0];
  const newOpen = open
    .replace(/\swidth="[^"]*"/, ` width="${width}"`)
    .replace(/\sheight="[^"]*"/, ` height="${height}"`)
    .replace(/\sviewBox="[^"]*"/, ` viewBox="${num(vx)} ${num(vy)} ${num(vw)} ${num(vh)}"`);
  const background = `<rect x="${num(vx)}" y="${num(vy)}" width="${num(vw)}" height="${num(vh)}" fill="white"/>`;
  const body = svg
    .replace(BACKGROUND, "$1")
    .slice(open.length)
    .replace(/<g class="mark-rect role-mark/g, '<g shape-rendering="crispEdges" class="mark-rect role-mark');
  return newOpen + background + body;
}

function checkFigure(fn: string, figure: unknown): Figure {
  const f = figure as Figure;
  const panels = (f?.spec as { hconcat?: unknown } | undefined)?.hconcat;
  if (
    typeof figure !== "object" ||
    figure === null ||
    typeof f.kind !== "string" ||
    typeof f.spec !== "object" ||
    f.spec === null ||
    !Array.isArray(panels) ||
    panels.length === 0
  ) {
    return fail(fn, `figure must be a figure from linesFigure, heatmapsFigure or another builder, got ${describe(figure)}`);
  }
  for (const [name, v] of [
    ["width", f.width],
    ["height", f.height],
  ] as const) {
    checkInteger(fn, `figure.${name}`, v);
  }
  checkPositive(fn, "figure.pixelRatio", f.pixelRatio);
  return f;
}

/** What {@link renderSvg} does, plus the warnings vega and vega-lite reported (for tests). */
export async function renderSvgWithWarnings(figure: Figure): Promise<{ svg: string; warnings: string[] }> {
  const f = checkFigure("renderSvg", figure);
  // Draw with the estimated panel sizes, measure the ink, then correct the panel sizes once
  // so that the ink plus padding fills width × height.
  let drawn = await vegaSvg(f.spec);
  let ink = inkBox(drawn.svg);
  const nPanels = (f.spec.hconcat as unknown[]).length;
  const dw = Math.floor((f.width - 2 * FIGURE_PADDING - ink.width) / nPanels);
  const dh = Math.floor(f.height - 2 * FIGURE_PADDING - ink.height);
  if (dw !== 0 || dh !== 0) {
    drawn = await vegaSvg(resizePanels(f.spec, dw, dh));
    ink = inkBox(drawn.svg);
  }
  return { svg: frame(hexColors(roundGeometry(renumberIds(drawn.svg))), ink, f.width, f.height), warnings: drawn.warnings };
}

/**
 * Renders a figure to an SVG document of exactly `figure.width × figure.height` CSS pixels,
 * text set in the bundled DejaVu Sans. Asynchronous because vega is loaded and runs
 * asynchronously; in a notebook use `await`.
 *
 * Deterministic: the same figure gives the same string in any process. Text widths for the
 * layout come from the bundled font's own metrics (text_metrics.ts), whether or not the optional
 * `canvas` package is installed.
 *
 * @example
 * ```ts
 * const figure = linesFigure([{ series: [{ name: "x²", x: [0, 1, 2], y: [0, 1, 4] }] }]);
 * const svg = await renderSvg(figure);
 * ```
 */
export async function renderSvg(figure: Figure): Promise<string> {
  return (await renderSvgWithWarnings(figure)).svg;
}

/**
 * Rasterises an SVG from {@link renderSvg} to PNG at `pixelRatio` device pixels per CSS pixel,
 * with resvg, system fonts disabled and DejaVu Sans as the only font, on a white background.
 * Synchronous; a W × H SVG gives a (W·pixelRatio) × (H·pixelRatio) PNG.
 *
 * @example
 * ```ts
 * const figure = linesFigure([{ series: [{ name: "x²", x: [0, 1, 2], y: [0, 1, 4] }] }]);
 * const png = svgToPng(await renderSvg(figure), 2); // the same bytes as await renderPng(figure)
 * ```
 */
export function svgToPng(svg: string, pixelRatio: number): Uint8Array {
  const { Resvg } = loadResvg();
  const resvg = new Resvg(svg, resvgOptions({ fitTo: { mode: "zoom", value: pixelRatio }, background: "white" }));
  return new Uint8Array(resvg.render().asPng());
}

/**
 * Renders a figure to PNG bytes, `width × pixelRatio` by `height × pixelRatio` pixels (by
 * default 2× the CSS size, crisp on high-density screens). Asynchronous; `await` it.
 *
 * @example
 * ```ts
 * const png = await renderPng(linesFigure([{ series: [{ name: "x²", x: [0, 1, 2], y: [0, 1, 4] }] }])); // 1920 × 480 pixels
 * ```
 */
export async function renderPng(figure: Figure): Promise<Uint8Array> {
  const f = checkFigure("renderPng", figure);
  return svgToPng(await renderSvg(f), f.pixelRatio);
}

/** The files written by {@link saveFigure}. */
export interface SavedFigure {
  /** Path of the SVG file. */
  readonly svg: string;
  /** Path of the PNG file. */
  readonly png: string;
}

/**
 * Writes a figure as `<base>.svg` and `<base>.png` (creating the folder). `file` may end in
 * `.svg` or `.png`, or have no extension; both files are written either way. Asynchronous.
 *
 * @example
 * ```ts
 * await saveFigure(linesFigure([{ series: [{ name: "x²", x: [0, 1, 2], y: [0, 1, 4] }] }]), "squares");
 * // writes squares.svg and squares.png
 * ```
 */
export async function saveFigure(figure: Figure, file: string): Promise<SavedFigure> {
  const f = checkFigure("saveFigure", figure);
  if (typeof file !== "string" || file.trim() === "") fail("saveFigure", `file must be a non-empty path, got ${describe(file)}`);
  const base = file.replace(/\.(svg|png)$/i, "");
  const svg = await renderSvg(f);
  const png = svgToPng(svg, f.pixelRatio);
  fs.mkdirSync(path.dirname(path.resolve(base)), { recursive: true });
  fs.writeFileSync(`${base}.svg`, svg);
  fs.writeFileSync(`${base}.png`, png);
  return { svg: `${base}.svg`, png: `${base}.png` };
}
