/**
 * The empty-query policy: what a query gets when its kernel sees no key at all.
 *
 * With a compact kernel (finite support), a query farther than σ·support from every key has all
 * kernel values 0, and the weighted average is 0/0. Nadaraya-Watson, the windowed path and the
 * Parzen classifier all follow the one {@link OnEmpty} policy defined here, with the same error
 * message. Kernels with unbounded support never have an empty query in exact arithmetic; when
 * every weight of a query underflows in float32, the σ → 0 limit (the nearest key) is used.
 */
import * as tf from "@tensorflow/tfjs-core";

import { scaledSquaredDistances, type Widths } from "./distance";
import { fail } from "./errors";
import { checkChoice } from "./validate";

/**
 * What to do with a query that has no key inside a compact kernel's support, where the estimate
 * is 0/0 and undefined:
 * - `"throw"` (default): throw an error naming how many queries and the first one;
 * - `"nan"`: predict NaN for that query (and give it a NaN row of weights);
 * - `"nearest"`: give its weight to the nearest key (in scaled distance), shared equally by tied keys.
 *
 * Kernels with unbounded support never have empty queries: if every kernel value of a query
 * underflows (σ so small that (distance/σ)² overflows float32), the limit of the estimate as σ → 0,
 * the nearest key (ties averaged), is used.
 */
export type OnEmpty = "throw" | "nan" | "nearest";

/** The valid {@link OnEmpty} policies. */
export const ON_EMPTY: readonly OnEmpty[] = ["throw", "nan", "nearest"];

/** Reads `options.onEmpty` (default `"throw"`). */
export function checkOnEmpty(fn: string, value: unknown): OnEmpty {
  return checkChoice(fn, "options.onEmpty", value ?? "throw", ON_EMPTY);
}

/** Indices of the rows whose every entry is −∞: queries with no key of positive weight. */
export function emptyRows(scores: tf.Tensor2D): number[] {
  const max = tf.max(scores, 1);
  const rowMax = max.dataSync();
  max.dispose();
  const empty: number[] = [];
  for (let i = 0; i < rowMax.length; i++) if (rowMax[i] === Number.NEGATIVE_INFINITY) empty.push(i);
  return empty;
}

/** Where an empty query was found, for {@link failEmpty}. */
export interface EmptyQueries {
  /** How many queries of the call (or chunk) are empty. */
  readonly count: number;
  /** How many queries the call (or chunk) has. */
  readonly total: number;
  /** The first empty query's index in the caller's queries. */
  readonly first: number;
  /** The first empty query's coordinates. */
  readonly at: readonly number[];
  /** The kernel's name. */
  readonly kernel: string;
  /** What the data are called: "key" (regression) or "point" (densities). */
  readonly noun: "key" | "point";
}

/** Throws the one error of the `"throw"` policy. */
export function failEmpty(fn: string, e: EmptyQueries): never {
  const at = e.at.map((v) => +v.toPrecision(6));
  return fail(
    fn,
    `${e.count} of ${e.total} queries have no ${e.noun} inside the ${e.kernel} kernel's support ` +
      `(first: query ${e.first} at ${at.length === 1 ? at[0] : `[${at.join(", ")}]`}); ` +
      `widen sigma, or pass onEmpty: 'nan' or 'nearest'`,
  );
}

/**
 * Checks a chunk's scores (log-weights `[m, n]`, or log-joints `[m, C]`) against the policy:
 * returns the empty rows, or throws for `"throw"` with a compact kernel.
 *
 * @param queries the chunk's `[m, d]` queries, for the message.
 * @param offset the chunk's first query's index in the call.
 * @param shift the offset the points were centred by (see `toCentredPoints`), added back for the message.
 */
export function findEmpty(
  fn: string,
  scores: tf.Tensor2D,
  queries: tf.Tensor2D,
  offset: number,
  kernel: { readonly name: string; readonly support: number },
  policy: OnEmpty,
  noun: "key" | "point",
  shift: readonly number[] = [],
): number[] {
  const empty = emptyRows(scores);
  if (empty.length > 0 && Number.isFinite(kernel.support) && policy === "throw") {
    failEmptyRows(fn, empty, queries, offset, kernel.name, noun, shift);
  }
  return empty;
}

/**
 * Throws the `"throw"` policy's error for a chunk's empty rows (indices into `queries`), naming
 * the first query as the caller gave it: the shift its points were centred by is added back.
 */
export function failEmptyRows(
  fn: string,
  empty: readonly number[],
  queries: tf.Tensor2D,
  offset: number,
  kernel: string,
  noun: "key" | "point",
  shift: readonly number[],
): never {
  const first = empty[0] as number;
  const row = tf.slice(queries, [first, 0], [1, -1]);
  const at = Array.from(row.dataSync(), (v, j) => v + (shift[j] ?? 0));
  row.dispose();
  return failEmpty(fn, {
    count: empty.length,
    total: queries.shape[0],
    first: offset + first,
    at,
    kernel,
    noun,
  });
}

/**
 * Row-wise softmax of `scores`, with each empty row (index in `empty`) replaced by the policy:
 * NaN for `"nan"` with a compact kernel, otherwise the one-hot row `nearest()` gives (the
 * nearest key, or the nearest point's class). Call inside `tf.tidy`.
 */
export function softmaxWithEmpty(
  scores: tf.Tensor2D,
  empty: readonly number[],
  policy: OnEmpty,
  compact: boolean,
  nearest: () => tf.Tensor2D,
): { weights: tf.Tensor2D; isEmpty?: tf.Tensor2D } {
  if (empty.length === 0) return { weights: tf.softmax(scores) as tf.Tensor2D };
  const [m, width] = scores.shape;
  const flag = new Uint8Array(m);
  for (const i of empty) flag[i] = 1;
  const isEmpty = tf.tensor2d(flag, [m, 1], "bool");
  const weights = tf.softmax(tf.where(isEmpty, tf.zerosLike(scores), scores)) as tf.Tensor2D;
  const fill = policy === "nan" && compact ? tf.fill([m, width], Number.NaN) : nearest();
  return { weights: tf.where(isEmpty, fill, weights) as tf.Tensor2D, isEmpty };
}

/**
 * Each query's weights in the σ → 0 limit: shared equally by its nearest points in scaled distance
 * (ties averaged, as the limit of any positive kernel gives them), among the points `allowed`
 * marks (`[1, n]` bool) when given. Distances are ranked in units of the smallest width, so they
 * stay finite however small σ is. `[m, n]` rows summing to 1. Call inside `tf.tidy`.
 */
export function nearestWeights(
  queries: tf.Tensor2D,
  points: tf.Tensor2D,
  widths: Widths,
  centre?: tf.Tensor,
  allowed?: tf.Tensor,
): tf.Tensor2D {
  const d2 = scaledSquaredDistances(queries, points, widths, centre, true);
  const ranked = allowed ? tf.where(allowed, d2, tf.fill(d2.shape, Infinity)) : d2;
  const hit = tf.cast(tf.equal(ranked, tf.min(ranked, 1, true)), "float32");
  return tf.div(hit, tf.sum(hit, 1, true)) as tf.Tensor2D;
}
