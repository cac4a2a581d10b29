/**
 * Parzen windows: kernel density estimates in log space.
 *
 *   p̂(x) = (1/n) Σ_i K_σ(x − x_i),   K_σ(u) = c_K k(‖u/σ‖) / Π_j σ_j,
 *
 * where c_K = exp(logNormalizer(kernel, d)) makes K_σ integrate to 1 over ℝ^d. Everything is
 * computed in log space (log-sum-exp over the points), so a narrow kernel far from the data gives
 * a large negative log density instead of log 0. The classifier built from one estimate per class
 * is in parzen_classifier.ts.
 */
import * as tf from "@tensorflow/tfjs-core";

import { maxAbsColumns, toWidths, type Widths } from "./distance";
import { AttentionPoolingError, fail } from "./errors";
import { checkDenseMemory } from "./memory";
import { disposeOnFailure } from "./ownership";
import { logNormalizer, resolveKernel, type Kernel, type KernelName } from "./kernels";
import { DEFAULT_CHUNK_PAIRS, kernelLogits } from "./nadaraya_watson";
import {
  checkInteger,
  checkOptions,
  checkSigma,
  type Sigma,
  type TensorInput,
  toCentredPoints,
} from "./validate";

const NEG_INF = Number.NEGATIVE_INFINITY;

/** Options for {@link parzenDensity} and {@link parzenLogDensity}. */
export interface ParzenOptions {
  /** Kernel width σ > 0: one number or one per input dimension. Default 1. */
  readonly sigma?: Sigma;
  /** Queries evaluated per chunk, bounding temporaries to `chunkSize × nPoints`. Default: 2²² pairs. */
  readonly chunkSize?: number;
}

/**
 * The log of the Parzen density estimate at each query:
 *
 *   log p̂(x) = log Σ_i k(‖(x − x_i)/σ‖) − log n + log c_K − Σ_j log σ_j,
 *
 * with the sum done by log-sum-exp. It is −∞ only where the density is 0 (outside a compact
 * kernel's support around every point), or where ((x − x_i)/σ)² overflows float32 (about 3.4e38).
 *
 * @param points the sample x_i, `[n]` or `[n, d]`.
 * @param queries where to evaluate, `[m]` or `[m, d]`.
 * @param kernel a name from `KERNELS` or a `Kernel` with a finite integral (not `"constant"`). Default `"gaussian"`.
 * @param options width σ (default 1) and chunk size.
 * @returns `[m]` log densities (float32). The caller disposes of it.
 *
 * @example
 * ```ts
 * await initBackend();
 * const logP = parzenLogDensity([[0, 0]], [[0, 0]], "gaussian", { sigma: 1e-3 });
 * logP.print(); // [11.97…] = −log(2π) − 2 log(1e-3)
 * logP.dispose();
 * ```
 */
export function parzenLogDensity(
  points: TensorInput,
  queries: TensorInput,
  kernel: KernelName | Kernel = "gaussian",
  options: ParzenOptions = {},
): tf.Tensor1D {
  const fn = "parzenLogDensity";
  const p = prepare(fn, points, queries, kernel, options);
  try {
    const offset = p.logConst - Math.log(p.points.shape[0]);
    const [out] = mapChunks(p.queries, p.chunk, (q) => [
      tf.tidy(() => tf.add(logSumExpRows(kernelLogits(q, p.points, p.widths, p.kernel, p.centre)), offset)),
    ]);
    return out as tf.Tensor1D;
  } finally {
    tf.dispose([p.points, p.queries, p.centre]);
    p.widths.dispose();
  }
}

/**
 * The Parzen density estimate p̂(x) = (1/n) Σ_i K_σ(x − x_i) at each query, with K_σ normalised to
 * integrate to 1 over ℝ^d. It is `exp` of {@link parzenLogDensity}; prefer the log for narrow
 * kernels, whose densities can underflow float32 far from the data.
 *
 * @param points the sample x_i, `[n]` or `[n, d]`.
 * @param queries where to evaluate, `[m]` or `[m, d]`.
 * @param kernel a name from `KERNELS` or a `Kernel` with a finite integral. Default `"gaussian"`.
 * @param options width σ (default 1) and chunk size.
 * @returns `[m]` densities (float32). The caller disposes of it.
 *
 * @example
 * ```ts
 * await initBackend();
 * const p = parzenDensity([0], [0], "gaussian", { sigma: 2 });
 * p.print(); // [0.19947…] = 1 / (2 √(2π))
 * p.dispose();
 * ```
 */
export function parzenDensity(
  points: TensorInput,
  queries: TensorInput,
  kernel: KernelName | Kernel = "gaussian",
  options: ParzenOptions = {},
): tf.Tensor1D {
  const logP = parzenLogDensity(points, queries, kernel, options);
  try {
    return tf.exp(logP);
  } finally {
    logP.dispose();
  }
}

// ---------------------------------------------------------------------------------------------

/** A density or classifier call's inputs, validated and converted. */
export interface Prepared {
  readonly points: tf.Tensor2D;
  readonly queries: tf.Tensor2D;
  readonly widths: Widths;
  /** The offset points and queries were centred by (float64), for messages. */
  readonly shift: number[];
  readonly centre: tf.Tensor;
  readonly kernel: Kernel;
  /** log c_K − Σ_j log σ_j, in float64. */
  readonly logConst: number;
  readonly chunk: number;
}

export function prepare(
  fn: string,
  pointsIn: unknown,
  queriesIn: unknown,
  kernelIn: unknown,
  options: ParzenOptions,
): Prepared {
  checkOptions(fn, options);
  const kernel = resolveKernel(fn, kernelIn);
  const owned: tf.Tensor[] = [];
  return disposeOnFailure(owned, () => {
    // Centred together in float64, so that a large common offset does not cost the spacing.
    const {
      keys: points,
      queries,
      offset: shift,
    } = toCentredPoints(fn, pointsIn, queriesIn, ["points", "queries"]);
    owned.push(points, queries);
    const d = points.shape[1];
    const widths = checkSigma(fn, options.sigma ?? 1, d, "options.sigma");
    let logWidths = 0;
    for (let j = 0; j < d; j++)
      logWidths += Math.log((widths.length === 1 ? widths[0] : widths[j]) as number);
    const logConst = densityLogNormalizer(fn, kernel, d) - logWidths;
    const chunk =
      options.chunkSize !== undefined
        ? checkInteger(fn, "options.chunkSize", options.chunkSize)
        : Math.max(1, Math.floor(DEFAULT_CHUNK_PAIRS / points.shape[0]));
    checkDenseMemory(
      fn,
      Math.min(chunk, queries.shape[0]),
      points.shape[0],
      d,
      kernel,
      "pass a smaller options.chunkSize",
    );
    const scaled = toWidths(widths, d, maxAbsColumns(points, queries));
    owned.push(scaled.sigma, scaled.factors, scaled.ratios, scaled.ranking);
    const centre = tf.mean(points, 0);
    owned.push(centre);
    return { points, queries, widths: scaled, centre, shift, kernel, logConst, chunk };
  });
}

/** log c_K, rethrown under `fn` when the kernel has no finite integral. */
function densityLogNormalizer(fn: string, kernel: Kernel, d: number): number {
  try {
    return logNormalizer(kernel, d);
  } catch (err) {
    if (!(err instanceof AttentionPoolingError)) throw err;
    return fail(
      fn,
      `kernel ${JSON.stringify(kernel.name)} has no finite integral, so it defines no density; ` +
        `use a kernel such as "gaussian" or "epanechnikov"`,
    );
  }
}

/** log Σ_j exp(x[i, j]) per row, `[m]`; −∞ (not NaN) for a row that is all −∞. */
export function logSumExpRows(x: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const max = tf.max(x, 1, true);
    const shift = tf.where(tf.greater(max, NEG_INF), max, tf.zerosLike(max));
    const sum = tf.sum(tf.exp(tf.sub(x, shift)), 1);
    return tf.add(tf.reshape(shift, [-1]), tf.log(sum)) as tf.Tensor1D;
  });
}

/** Runs `f` on blocks of at most `chunk` queries and concatenates each of its outputs. */
export function mapChunks(
  queries: tf.Tensor2D,
  chunk: number,
  f: (q: tf.Tensor2D, offset: number) => tf.Tensor[],
): tf.Tensor[] {
  const m = queries.shape[0];
  if (chunk >= m) return f(queries, 0);
  const parts: tf.Tensor[][] = [];
  try {
    for (let start = 0; start < m; start += chunk) {
      const q = tf.slice(queries, [start, 0], [Math.min(chunk, m - start), -1]);
      try {
        parts.push(f(q, start));
      } finally {
        q.dispose();
      }
    }
    return (parts[0] as tf.Tensor[]).map((_, j) =>
      tf.concat(
        parts.map((p) => p[j] as tf.Tensor),
        0,
      ),
    );
  } finally {
    for (const p of parts) tf.dispose(p);
  }
}
