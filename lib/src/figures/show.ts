/**
 * `show`: a figure inline in a tslab notebook, as one PNG.
 */
import { describe, fail } from "../errors";
import { renderPng } from "./render";
import type { RenderableFigure } from "./types";

/** Where {@link show} sends the PNG: tslab's `display`, or a stand-in (e.g. in tests). */
export interface PngDisplay {
  /** Displays PNG bytes. */
  png(bytes: Uint8Array): void;
}

/** Options for {@link show}. */
export interface ShowOptions {
  /** Receives the PNG instead of tslab's `display` (for tests or other front ends). Default: tslab's. */
  readonly display?: PngDisplay;
}

/**
 * Shows a figure inline in a tslab notebook: renders it to PNG (2× pixel density by default)
 * and sends it with tslab's `display.png`, one MIME type (`image/png`) in one display call.
 * A PNG output shows everywhere a notebook is read: in JupyterLab even when the notebook is
 * not trusted, on GitHub and on nbviewer. At the default 960 × 240 CSS px a figure's PNG
 * weighs tens of kilobytes.
 *
 * Asynchronous (rendering is): write `await show(figure);` — tslab cells allow top-level await.
 * tslab is loaded only when `show` runs without `options.display`.
 *
 * @example
 * ```ts
 * await show(kernelShapesFigure());
 * ```
 */
export async function show(figure: RenderableFigure, options: ShowOptions = {}): Promise<void> {
  const fn = "show";
  if (typeof options !== "object" || options === null) fail(fn, `options must be an object, got ${describe(options)}`);
  if (options.display !== undefined && typeof options.display?.png !== "function") {
    fail(fn, `options.display must have a png(bytes) method, got ${describe(options.display)}`);
  }
  const png = await renderPng(figure);
  const display = options.display ?? tslabDisplay();
  try {
    display.png(png);
  } catch (err) {
    fail(
      fn,
      `tslab's display did not accept the figure (${(err as Error).message}); show() works inside a tslab ` +
        `kernel, elsewhere use saveFigure() or renderPng()`,
    );
  }
}

function tslabDisplay(): PngDisplay {
  let tslab: { display: PngDisplay };
  try {
    tslab = require("tslab") as { display: PngDisplay };
  } catch (err) {
    return fail(
      "show",
      `cannot load tslab (${(err as Error).message.split("\n")[0]}); show() is for tslab notebooks, ` +
        `elsewhere use saveFigure() or renderPng()`,
    );
  }
  return tslab.display;
}
