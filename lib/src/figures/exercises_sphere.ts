/**
 * Figures of exercise 3 (the unit sphere), built here so that its notebook and `npm run figures`
 * draw the same figures from the same code.
 */
import * as tf from "@tensorflow/tfjs-core";

import { attentionPeakedness, randomUnitVectors, scaledDotProductAttention } from "../attention";
import { describe, fail } from "../errors";
import { attentionWeights } from "../nadaraya_watson";
import { heatmapsFigure } from "./heatmaps";
import { linesFigure } from "./lines";
import type { FigureSizeOptions, HeatmapsFigure, LinesFigure } from "./types";

/** Options for {@link circleAttentionFigure}. */
export interface CircleAttentionOptions extends FigureSizeOptions {
  /** The temperature σ² (the Gaussian's width is σ). Default 0.1. */
  readonly sigma2?: number;
  /** Keys: seeded random points on the unit circle, sorted by angle. Default 40. */
  readonly nKeys?: number;
  /** Queries: evenly spaced angles from −π (inclusive) to π (exclusive). Default 50. */
  readonly nQueries?: number;
}

/** Points on the unit circle for {@link circleAttentionFigure}: keys sorted by angle, queries evenly spaced. */
export function circlePoints(nKeys = 40, nQueries = 50): { keys: number[][]; queries: number[][] } {
  const angle = (p: number[]) => Math.atan2(p[1] as number, p[0] as number);
  const keys = randomUnitVectors(nKeys, 2, "circle-keys").sort((a, b) => angle(a) - angle(b));
  const queries = Array.from({ length: nQueries }, (_, i) => {
    const t = -Math.PI + (2 * Math.PI * i) / nQueries;
    return [Math.cos(t), Math.sin(t)];
  });
  return { keys, queries };
}

/**
 * Side-by-side attention maps on the unit circle (d = 2): Gaussian Nadaraya-Watson with width σ,
 * and scaled dot-product attention softmax(q·k / σ²). Keys and queries are ordered by angle, so
 * attention concentrates along the diagonal and wraps around at the corners (−π and π are the
 * same direction). The two panels are the same matrix, as exercise 3 shows they must be.
 *
 * Defaults: σ² = 0.1, 40 keys, 50 queries, 960 × 300 px.
 *
 * @example
 * ```ts
 * await show(circleAttentionFigure({ sigma2: 0.1 }));
 * ```
 */
export function circleAttentionFigure(options: CircleAttentionOptions = {}): HeatmapsFigure {
  const fn = "circleAttentionFigure";
  if (typeof options !== "object" || options === null) fail(fn, `options must be an object, got ${describe(options)}`);
  const sigma2 = options.sigma2 ?? 0.1;
  if (typeof sigma2 !== "number" || !Number.isFinite(sigma2) || sigma2 <= 0) {
    fail(fn, `options.sigma2 must be finite and > 0, got ${describe(sigma2)}`);
  }
  const { keys, queries } = circlePoints(options.nKeys ?? 40, options.nQueries ?? 50);
  const gaussian = attentionWeights(keys, queries, "gaussian", { sigma: Math.sqrt(sigma2) });
  const dot = scaledDotProductAttention(queries, keys, keys, { temperature: sigma2 });
  try {
    const s = +Math.sqrt(sigma2).toPrecision(3);
    return heatmapsFigure(
      [
        { title: `Gaussian Nadaraya-Watson, σ = ${s}`, weights: gaussian },
        { title: `softmax(q·k / σ²), σ² = ${+sigma2.toPrecision(3)}`, weights: dot.weights },
      ],
      {
        xLabel: "Query index (by angle)",
        yLabel: "Key index (by angle)",
        width: options.width ?? 960,
        height: options.height ?? 300,
        ...(options.pixelRatio === undefined ? {} : { pixelRatio: options.pixelRatio }),
        ...(options.title === undefined ? {} : { title: options.title }),
      },
    );
  } finally {
    tf.dispose([gaussian, dot.weights, dot.outputs]);
  }
}

/** The dimensions of {@link attentionScalingFigure}: 1, 2, 4, …, 1024. */
export const SCALING_DIMS = Array.from({ length: 11 }, (_, i) => 2 ** i);

/**
 * How peaked softmax attention is against the dimension d, for queries and keys with independent
 * standard normal entries: the mean largest weight with logits q·k and with q·k/√d (from
 * {@link attentionPeakedness}, 200 queries and 200 keys per d). Unscaled, attention collapses
 * onto one key as d grows; scaled, it stays as spread out as in low dimension.
 *
 * @example
 * ```ts
 * await show(attentionScalingFigure());
 * ```
 */
export function attentionScalingFigure(
  dims: readonly number[] = SCALING_DIMS,
  options: FigureSizeOptions = {},
): LinesFigure {
  const stats = dims.map((d) => attentionPeakedness(d));
  const x = stats.map((s) => Math.log2(s.d));
  return linesFigure(
    [
      {
        series: [
          { name: "logits q·k", x, y: stats.map((s) => s.maxWeightUnscaled) },
          { name: "logits q·k / √d", x, y: stats.map((s) => s.maxWeightScaled), style: "dashed" },
        ],
      },
    ],
    {
      xLabel: "log₂ d",
      yLabel: "mean largest weight",
      yDomain: [0, 1.05],
      width: options.width ?? 720,
      height: options.height ?? 280,
      ...(options.pixelRatio === undefined ? {} : { pixelRatio: options.pixelRatio }),
      ...(options.title === undefined ? {} : { title: options.title }),
    },
  );
}

