/**
 * `show`: a figure inline in a tslab notebook, as a PNG with its display size; and
 * {@link displayBundle}, the one place that sends a full MIME bundle through tslab.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { describe, fail } from "../errors";
import { renderSvg, svgToPng } from "./render";
import type { Figure } from "./types";
import { checkOptions } from "../validate";

/**
 * One rich output: MIME type → content (base64 for binary types, a string for text, a JSON
 * value for JSON types such as Vega-Lite), with optional per-type metadata such as an image's
 * display width.
 */
export interface DisplayBundle {
  readonly data: Readonly<Record<string, unknown>>;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** Where {@link show} sends its output: tslab by default, or a stand-in (e.g. in tests). */
export interface FigureDisplay {
  /** Receives the whole bundle (PNG plus metadata). Used when present. */
  bundle?(bundle: DisplayBundle): void;
  /** Receives the PNG bytes alone: the fallback when `bundle` is missing. */
  png(bytes: Uint8Array): void;
}

/** Options for {@link show}. */
export interface ShowOptions {
  /**
   * The figure's file name without extension, e.g. `"tutorial-kernel-shapes"`: lower-case
   * letters, digits and dashes. When the notebook runs under `npm run figures` (or
   * `npm run notebooks`), which set {@link FIGURES_DIR_ENV}, the figure is also written there
   * as `<name>.svg` and `<name>.png`; that is how `figures/` is made from the notebooks.
   * Elsewhere it changes nothing.
   */
  readonly name?: string;
  /** Receives the output instead of tslab (for tests or other front ends). Default: tslab's. */
  readonly display?: FigureDisplay;
}

/** The MIME type of a live Vega-Lite v5 spec, which JupyterLab 4 renders itself. */
export const VEGA_LITE_V5_MIME = "application/vnd.vegalite.v5+json";

/** The environment variable naming the folder where {@link show} also saves named figures. */
export const FIGURES_DIR_ENV = "ATTENTION_POOLING_FIGURES_DIR";

const FIGURE_NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/**
 * Shows a figure inline in a tslab notebook: renders it to PNG (2× pixel density by default)
 * and sends one `display_data` output holding the PNG with its intended display size
 * (`metadata["image/png"] = { width, height }` in CSS pixels), so a 2× PNG is drawn at its
 * designed size rather than at twice it. A figure with a live spec (from
 * `nadarayaWatsonExplorer`) sends that too, as `application/vnd.vegalite.v5+json`: JupyterLab
 * draws it live, with its slider and menu, and other readers show the PNG. A PNG shows everywhere a notebook is read: in
 * JupyterLab even before the notebook is trusted, on GitHub and on nbviewer.
 *
 * The bundle goes through {@link displayBundle}; where tslab's internal bundle writer is
 * missing, the PNG goes alone through tslab's public `display.png`.
 *
 * Asynchronous (rendering is): write `await show(figure);` — tslab cells allow top-level await.
 *
 * @example
 * ```ts
 * const x = [0, 1, 2, 3];
 * await show(linesFigure([{ series: [{ name: "x²", x, y: x.map((v) => v * v) }] }]), { name: "squares" });
 * ```
 */
export async function show(figure: Figure, options: ShowOptions = {}): Promise<void> {
  const fn = "show";
  checkOptions(fn, options);
  if (options.display !== undefined && typeof options.display?.png !== "function") {
    fail(fn, `options.display must have a png(bytes) method, got ${describe(options.display)}`);
  }
  const name = options.name;
  if (name !== undefined && (typeof name !== "string" || !FIGURE_NAME.test(name))) {
    fail(fn, `options.name must be lower-case letters, digits and single dashes, e.g. "tutorial-kernel-shapes", got ${describe(name)}`);
  }
  const svg = await renderSvg(figure);
  const png = svgToPng(svg, figure.pixelRatio);
  const dir = process.env[FIGURES_DIR_ENV];
  if (name !== undefined && dir) saveNamed(fn, dir, name, svg, png);
  // A figure with a live spec (nadarayaWatsonExplorer) sends it first: JupyterLab draws it live,
  // and every other reader falls back to the PNG in the same output.
  const live = (figure as { live?: unknown }).live;
  const bundle: DisplayBundle = {
    data: {
      ...(typeof live === "object" && live !== null ? { [VEGA_LITE_V5_MIME]: live } : {}),
      "image/png": Buffer.from(png).toString("base64"),
    },
    metadata: { "image/png": { width: figure.width, height: figure.height } },
  };
  const display = options.display;
  try {
    if (display === undefined) displayBundle(bundle, png);
    else if (typeof display.bundle === "function") display.bundle(bundle);
    else display.png(png);
  } catch (err) {
    if ((err as { fn?: string }).fn !== undefined) throw err;
    fail(
      fn,
      `the notebook did not accept the figure (${(err as Error).message}); show() works inside a tslab ` +
        `kernel, elsewhere use saveFigure() or renderPng()`,
    );
  }
}

/** Writes `<dir>/<name>.svg` and `.png`, refusing a name already written in this run. */
function saveNamed(fn: string, dir: string, name: string, svg: string, png: Uint8Array): void {
  const base = path.join(dir, name);
  if (fs.existsSync(`${base}.png`)) {
    fail(fn, `a figure named ${JSON.stringify(name)} was already saved in this run; give each figure its own name`);
  }
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(`${base}.svg`, svg);
  fs.writeFileSync(`${base}.png`, png);
}

/** tslab's bundle writer: `(output, update) => void`, set afresh for each execute request. */
type WriteDisplayData = (
  output: { data: Record<string, unknown>; metadata: Record<string, unknown>; transient: Record<string, unknown> },
  update: boolean,
) => void;

/**
 * Sends one rich output (several MIME types, JSON values, per-type metadata) from a tslab cell.
 *
 * tslab's public `display` sends one MIME type per call, as a string. Its module
 * `tslab/dist/jupyter` exports `lastWriteDisplayData`, which sends a whole bundle; it is
 * internal and reassigned at every execute request, so it is looked up here, while the cell
 * runs, and checked to be a function. When it is missing (an older or newer tslab) the bundle
 * falls back to `fallbackPng` through the public `display.png`, so the output still shows.
 *
 * @param bundle the MIME bundle; binary types as base64 strings.
 * @param fallbackPng the PNG to send alone if the bundle cannot be sent.
 * @returns `"bundle"` or `"png"`: which way the output went.
 */
export function displayBundle(bundle: DisplayBundle, fallbackPng: Uint8Array): "bundle" | "png" {
  const fn = "displayBundle";
  const tslab = loadTslab(fn);
  const write = tslab.jupyter?.lastWriteDisplayData;
  if (typeof write === "function") {
    (write as WriteDisplayData)(
      { data: { ...bundle.data }, metadata: { ...(bundle.metadata ?? {}) }, transient: {} },
      false,
    );
    return "bundle";
  }
  tslab.display.png(fallbackPng);
  return "png";
}

function loadTslab(fn: string): { display: { png(bytes: Uint8Array): void }; jupyter?: { lastWriteDisplayData?: unknown } } {
  let display: { png(bytes: Uint8Array): void };
  try {
    display = (require("tslab") as { display: { png(bytes: Uint8Array): void } }).display;
  } catch (err) {
    return fail(
      fn,
      `cannot load tslab (${(err as Error).message.split("\n")[0]}); show() is for tslab notebooks, ` +
        `elsewhere use saveFigure() or renderPng()`,
    );
  }
  let jupyter: { lastWriteDisplayData?: unknown } | undefined;
  try {
    jupyter = require("tslab/dist/jupyter") as { lastWriteDisplayData?: unknown };
  } catch {
    jupyter = undefined; // the internal module moved: the public display still works
  }
  return { display, jupyter };
}
