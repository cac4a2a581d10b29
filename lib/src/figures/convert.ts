/**
 * Conversion at the door for figure helpers: numbers, matrices and size options are checked
 * here and turned into plain arrays, with errors that name the function and the argument.
 */
import * as tf from "@tensorflow/tfjs-core";

import { describe, fail } from "../errors";
import { DEFAULT_FIGURE_SIZE, DEFAULT_PIXEL_RATIO, SERIES_COLORS } from "./style";
import type { FigureSeries, FigureSizeOptions, SeriesInput, SeriesStyle } from "./types";
import { checkOptions } from "../validate";

/** Reads one-dimensional numbers (array, typed array, `[n]` or `[n, 1]` tensor) as a finite `number[]`. */
export function toNumbers(fn: string, arg: string, x: unknown): number[] {
  let values: number[];
  if (x instanceof tf.Tensor) {
    if (x.isDisposed) fail(fn, `${arg} is a disposed tensor`);
    if (!(x.rank === 1 || (x.rank === 2 && x.shape[1] === 1))) {
      fail(fn, `${arg} must have shape [n] or [n, 1], got ${describe(x)}`);
    }
    values = Array.from(x.dataSync() as ArrayLike<number>);
  } else if (Array.isArray(x) || x instanceof Float32Array || x instanceof Float64Array) {
    values = Array.from(x as ArrayLike<number>);
  } else {
    return fail(fn, `${arg} must be an array, a typed array or a tensor, got ${describe(x)}`);
  }
  values.forEach((v, i) => {
    if (typeof v !== "number" || !Number.isFinite(v)) {
      fail(fn, `${arg} must hold finite numbers, got ${describe(v)} at index ${i}`);
    }
  });
  return values;
}

/** Reads a `[rows, cols]` matrix (a rank-2 tensor or nested arrays) as finite `number[][]`. */
export function toMatrix(fn: string, arg: string, m: unknown): number[][] {
  let rows: number[][];
  if (m instanceof tf.Tensor) {
    if (m.isDisposed) fail(fn, `${arg} is a disposed tensor`);
    if (m.rank !== 2) fail(fn, `${arg} must be a [nQueries, nKeys] matrix, got ${describe(m)}`);
    rows = m.arraySync() as number[][];
  } else if (Array.isArray(m)) {
    rows = m.map((row, i) => {
      if (!Array.isArray(row) && !(row instanceof Float32Array) && !(row instanceof Float64Array)) {
        fail(fn, `${arg}[${i}] must be an array of numbers, got ${describe(row)}`);
      }
      return Array.from(row as ArrayLike<number>);
    });
  } else {
    return fail(fn, `${arg} must be a [nQueries, nKeys] tensor or nested arrays, got ${describe(m)}`);
  }
  if (rows.length === 0 || (rows[0] as number[]).length === 0) {
    fail(fn, `${arg} must have at least one row and one column, got ${rows.length} rows`);
  }
  const cols = (rows[0] as number[]).length;
  rows.forEach((row, i) => {
    if (row.length !== cols) fail(fn, `${arg} must be rectangular: row 0 has ${cols} entries, row ${i} has ${row.length}`);
    row.forEach((v, j) => {
      if (typeof v !== "number" || !Number.isFinite(v)) {
        fail(fn, `${arg} must hold finite numbers, got ${describe(v)} at [${i}, ${j}]`);
      }
    });
  });
  return rows;
}

/** Resolves and checks the size options: integer CSS sizes and a positive pixel ratio. */
export function resolveSize(
  fn: string,
  options: FigureSizeOptions,
  defaults: { width: number; height: number } = DEFAULT_FIGURE_SIZE,
): { width: number; height: number; pixelRatio: number } {
  checkOptions(fn, options);
  const width = options.width ?? defaults.width;
  const height = options.height ?? defaults.height;
  const pixelRatio = options.pixelRatio ?? DEFAULT_PIXEL_RATIO;
  for (const [name, v, min] of [
    ["options.width", width, 100],
    ["options.height", height, 80],
  ] as const) {
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > 10000) {
      fail(fn, `${name} must be an integer number of CSS pixels in [${min}, 10000], got ${describe(v)}`);
    }
  }
  if (typeof pixelRatio !== "number" || !Number.isFinite(pixelRatio) || pixelRatio <= 0 || pixelRatio > 8) {
    fail(fn, `options.pixelRatio must be a number in (0, 8], got ${describe(pixelRatio)}`);
  }
  return { width, height, pixelRatio };
}

/** Checks an optional string option. */
export function optionalString(fn: string, arg: string, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string") fail(fn, `${arg} must be a string, got ${describe(v)}`);
  return v;
}

/** Checks a `[lo, hi]` range with lo < hi, both finite. */
export function checkRange(fn: string, arg: string, v: unknown): [number, number] {
  if (
    !Array.isArray(v) ||
    v.length !== 2 ||
    !v.every((e) => typeof e === "number" && Number.isFinite(e)) ||
    !((v[0] as number) < (v[1] as number))
  ) {
    return fail(fn, `${arg} must be [lo, hi] with finite lo < hi, got ${describe(v)}`);
  }
  return [v[0] as number, v[1] as number];
}

/** The [lo, hi] range of `values` widened by `margin` of its span on each side (matplotlib's 5%). */
export function paddedRange(values: Iterable<number>, margin = 0.05): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!Number.isFinite(lo)) return [0, 1];
  const span = hi - lo;
  if (span <= 1e-12 * Math.max(1, Math.abs(lo))) {
    const pad = Math.max(Math.abs(lo) * margin, margin);
    return [lo - pad, hi + pad];
  }
  return [lo - margin * span, hi + margin * span];
}

/** The line styles a series may have. */
export const SERIES_STYLES: readonly SeriesStyle[] = ["line", "dashed", "points"];

/**
 * The legend shared by all panels of one figure: each series name keeps one style, opacity and
 * colour across panels. Names get colours from {@link SERIES_COLORS} in order of first use.
 */
export interface SeriesLegend {
  readonly colors: Map<string, string>;
  readonly styles: Map<string, { style: SeriesStyle; opacity: number }>;
}

/** A fresh, empty {@link SeriesLegend}. */
export function seriesLegend(): SeriesLegend {
  return { colors: new Map(), styles: new Map() };
}

/**
 * Checks one series input at `at` (e.g. `panels[1].series[0]`) and resolves its defaults: style
 * `"line"`, opacity 1 (or `pointOpacity` for points), and the legend's colour for its name.
 */
export function resolveSeries(
  fn: string,
  at: string,
  s: SeriesInput,
  legend: SeriesLegend,
  pointOpacity: number,
): FigureSeries {
  checkOptions(fn, s, at);
  if (typeof s.name !== "string" || s.name === "") fail(fn, `${at}.name must be a non-empty string, got ${describe(s.name)}`);
  const style = s.style ?? "line";
  if (!SERIES_STYLES.includes(style)) {
    fail(fn, `${at}.style must be one of ${SERIES_STYLES.map((v) => `'${v}'`).join(", ")}, got ${describe(style)}`);
  }
  const x = toNumbers(fn, `${at}.x`, s.x);
  const y = toNumbers(fn, `${at}.y`, s.y);
  if (x.length !== y.length) fail(fn, `${at}.x and ${at}.y must have the same length, got ${x.length} and ${y.length}`);
  if (x.length === 0) fail(fn, `${at} must have at least one point`);
  const opacity = s.opacity ?? (style === "points" ? pointOpacity : 1);
  if (typeof opacity !== "number" || !(opacity >= 0 && opacity <= 1)) {
    fail(fn, `${at}.opacity must be a number in [0, 1], got ${describe(opacity)}`);
  }
  const seen = legend.styles.get(s.name);
  if (seen && (seen.style !== style || seen.opacity !== opacity)) {
    fail(
      fn,
      `series named ${JSON.stringify(s.name)} must keep one style in every panel (they share a legend entry), ` +
        `got '${seen.style}' (opacity ${seen.opacity}) and '${style}' (opacity ${opacity}) at ${at}`,
    );
  }
  legend.styles.set(s.name, { style, opacity });
  if (!legend.colors.has(s.name)) {
    legend.colors.set(s.name, s.color ?? (SERIES_COLORS[legend.colors.size % SERIES_COLORS.length] as string));
  } else if (s.color !== undefined && s.color !== legend.colors.get(s.name)) {
    fail(fn, `series named ${JSON.stringify(s.name)} must keep one colour in every panel, got ${describe(s.color)} at ${at}`);
  }
  return { name: s.name, style, color: legend.colors.get(s.name) as string, opacity, x, y };
}
