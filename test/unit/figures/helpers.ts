/**
 * Helpers for the figure tests in figures/ (on every backend) and once/figures/ (no tensor): the
 * tutorial's figures, built as notebook 01 builds them from numbers the caller supplies (lib's
 * tensors, or the float64 reference), and a PNG's size.
 */
import assert from "node:assert/strict";

import {
  SERIES_COLORS,
  heatmapsFigure,
  linesFigure,
  loadTutorialData,
  tf,
  type Figure,
  type HeatmapsFigure,
  type KernelName,
  type LinesFigure,
  type TutorialData,
} from "../../../lib/src/index";

export const data = loadTutorialData();
export const N_KEYS = data.xTrain.length;
export const N_QUERIES = data.xVal.length;

// The tutorial's figures, built here as the notebook builds them: numbers computed by the caller,
// handed to the generic builders. They exercise linesFigure and heatmapsFigure on realistic input.
export const GAUSSIAN_WIDTHS = [0.1, 0.2, 0.5, 1] as const;
export const TUTORIAL_KERNELS: readonly KernelName[] = ["gaussian", "boxcar", "constant", "epanechikov"];
export type Panel = KernelName | number;
const titleOf = (p: Panel): string =>
  typeof p === "number"
    ? `σ = ${p}`
    : p === "epanechikov"
      ? "Epanechikov (triangular)"
      : p.charAt(0).toUpperCase() + p.slice(1);
const kernelOf = (p: Panel): KernelName => (typeof p === "number" ? "gaussian" : p);
const sigmaOf = (p: Panel): number => (typeof p === "number" ? p : 1);

/** Where a tutorial figure's numbers come from. */
export interface TutorialNumbers {
  /** k(x) at each x, for unit width. */
  kernel(name: KernelName, x: number[]): number[];
  /** Nadaraya-Watson predictions at `d.xVal`, from the keys `d.xTrain` and values `d.yTrain`. */
  predictions(d: TutorialData, kernel: KernelName, sigma: number): number[];
  /** Attention weights [nQueries, nKeys]; a tensor is disposed of once the figure is built. */
  weights(d: TutorialData, kernel: KernelName, sigma: number): tf.Tensor2D | number[][];
}

/** The tutorial's kernel-shape, prediction and attention figures, on the given numbers. */
export function tutorialFigures(numbers: TutorialNumbers) {
  function kernelShapesFigure(kernels: readonly KernelName[] = TUTORIAL_KERNELS): LinesFigure {
    const x = Array.from({ length: 50 }, (_, i) => (i - 25) / 10);
    return linesFigure(
      kernels.map((k) => ({ title: titleOf(k), series: [{ name: "k(x)", x, y: numbers.kernel(k, x) }] })),
      { xLabel: "x", yLabel: "k(x)" },
    );
  }

  function predictionsFigure(d = data, panels: readonly Panel[] = TUTORIAL_KERNELS): LinesFigure {
    return linesFigure(
      panels.map((p) => {
        const yHat = numbers.predictions(d, kernelOf(p), sigmaOf(p));
        return {
          title: titleOf(p),
          series: [
            { name: "Prediction", x: d.xVal, y: yHat, color: SERIES_COLORS[0] },
            { name: "True function", x: d.xVal, y: d.yVal, style: "dashed" as const, color: "#bf00bf" },
            {
              name: "Training data",
              x: d.xTrain,
              y: d.yTrain,
              style: "points" as const,
              color: SERIES_COLORS[1],
            },
          ],
        };
      }),
      { xLabel: "x", yLabel: "y" },
    );
  }

  function attentionFigure(
    d = data,
    panels: readonly Panel[] = TUTORIAL_KERNELS,
    options: { colorScale?: "linear" | "sqrt" } = {},
  ): HeatmapsFigure {
    const weights = panels.map((p) => numbers.weights(d, kernelOf(p), sigmaOf(p)));
    try {
      return heatmapsFigure(
        panels.map((p, i) => ({ title: titleOf(p), weights: weights[i]! })),
        { xLabel: "Query (validation) index", yLabel: "Key (training) index", ...options },
      );
    } finally {
      tf.dispose(weights.filter((w): w is tf.Tensor2D => w instanceof tf.Tensor));
    }
  }

  return { kernelShapesFigure, predictionsFigure, attentionFigure };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a Vega-Lite spec read loosely
type Encoding = Record<string, any>;
type Spec = {
  hconcat: {
    width: number;
    height: number;
    layer: { data: { name?: string }; encoding?: Encoding }[];
  }[];
  datasets: Record<string, Record<string, number | string>[]>;
};
export const specOf = (f: Figure) => f.spec as unknown as Spec;

/** Width and height from a PNG's IHDR chunk, after checking the signature. */
export function pngSize(bytes: Uint8Array): { width: number; height: number } {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  assert.deepEqual([...bytes.subarray(0, 8)], signature, "PNG signature");
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.equal(view.toString("latin1", 12, 16), "IHDR", "first chunk is IHDR");
  return { width: view.readUInt32BE(16), height: view.readUInt32BE(20) };
}
