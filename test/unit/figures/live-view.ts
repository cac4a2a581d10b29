/**
 * The explorer's live spec in a headless vega 5 view, for figures/explorer.test.ts (on every
 * backend) and once/figures/explorer.test.ts: vega-lite compiles it as JupyterLab does, and vega
 * evaluates the in-browser arithmetic.
 */
import assert from "node:assert/strict";

import { nadarayaWatsonExplorer, type ExplorerFigure } from "../../../lib/src/index";
import { TUTORIAL_KERNELS, data } from "./helpers";

// vega-lite 5.6.1 and vega 5.33.0, as bundled by JupyterLab 4.6.6 (devDependencies under aliases).
export const vl5 = require("vega-lite-5") as {
  version: string;
  compile: (spec: unknown, opts?: unknown) => { spec: VegaSpec };
};
export const vega5 = require("vega-5") as VegaModule;

export interface VegaSpec {
  data: { name: string }[];
  signals?: { name: string; bind?: { input: string; options?: string[] } }[];
}
export interface VegaView {
  runAsync(): Promise<VegaView>;
  signal(name: string, value: unknown): VegaView;
  data(name: string): Record<string, number>[];
}
interface VegaModule {
  version: string;
  parse(spec: VegaSpec): unknown;
  View: new (runtime: unknown, options: { renderer: string }) => VegaView;
}

/** The tutorial's explorer: its data, the four tutorial kernels, σ = 0.5 to start. */
export const explorer = (): ExplorerFigure =>
  nadarayaWatsonExplorer(data.xTrain, data.yTrain, {
    queries: data.xVal,
    truth: data.yVal,
    kernels: TUTORIAL_KERNELS,
    sigma: 0.5,
  });

/** Compiles the live spec with vega-lite 5, collecting its warnings, and starts a headless vega 5 view. */
export async function liveView(
  figure: ExplorerFigure,
): Promise<{ view: VegaView; spec: VegaSpec; warnings: string[] }> {
  const warnings: string[] = [];
  const logger = {
    level: () => logger,
    warn: (...args: unknown[]) => (warnings.push(args.join(" ")), logger),
    info: () => logger,
    debug: () => logger,
    error: (...args: unknown[]) => (warnings.push(args.join(" ")), logger),
  };
  const { spec } = vl5.compile(figure.live, { logger });
  const view = new vega5.View(vega5.parse(spec), { renderer: "none" });
  await view.runAsync();
  return { view, spec, warnings };
}

/** The rows of the first dataset that has `field`: vega-lite names its datasets itself. */
export function rowsWith(view: VegaView, spec: VegaSpec, field: string): Record<string, number>[] {
  for (const { name } of spec.data) {
    const rows = view.data(name);
    if (rows.length > 0 && field in (rows[0] as object)) return rows;
  }
  return assert.fail(`no dataset has a field ${field}`);
}
