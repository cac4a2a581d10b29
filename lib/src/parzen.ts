/**
 * Parzen windows: kernel density estimates, and the classifier built from one per class.
 *
 *   p̂(x) = (1/n) Σ_i K_σ(x − x_i),   K_σ(u) = c_K k(‖u/σ‖) / Π_j σ_j,
 *
 * where c_K = exp(logNormalizer(kernel, d)) makes K_σ integrate to 1 over ℝ^d. With one estimate
 * per class and priors π_c, the joint is p̂(x, y = c) = π_c p̂(x | y = c) and Bayes' rule gives the
 * classifier. Everything is computed in log space (log-sum-exp over the points), so a narrow
 * kernel far from the data gives a large negative log density instead of log 0.
 *
 * The link to attention pooling: with empirical priors π_c = n_c / N the posterior p̂(y = c | x) is
 * exactly Nadaraya-Watson regression on one-hot labels. With other priors, Nadaraya-Watson on one-hot
 * labels scaled by w_c = π_c / (n_c / N) (see {@link oneHotLabels}) gives values proportional to
 * p̂(x, c): the same decision, but rows that do not sum to 1. The posterior itself is attention whose
 * weights carry the class weight inside, α_i ∝ w_{y_i} K((x − x_i)/σ).
 */
import * as tf from "@tensorflow/tfjs-core";

import { AttentionPoolingError, describe, fail } from "./errors";
import { logNormalizer, resolveKernel, type Kernel, type KernelName } from "./kernels";
import { checkOnEmpty, findEmpty, nearestIndex, softmaxWithEmpty, type OnEmpty } from "./empty";
import { DEFAULT_CHUNK_PAIRS, kernelLogits } from "./nadaraya_watson";
import {
  checkInteger,
  checkOptions,
  checkSigma,
  type Sigma,
  type TensorInput,
  toFloatTensor,
  toPoints,
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
      tf.tidy(() => tf.add(logSumExpRows(kernelLogits(q, p.points, p.sigma, p.kernel, p.centre)), offset)),
    ]);
    return out as tf.Tensor1D;
  } finally {
    tf.dispose([p.points, p.queries, p.sigma, p.centre]);
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

/** Options for {@link parzenClassifier}. */
export interface ParzenClassifierOptions extends ParzenOptions {
  /**
   * Class priors π_c, one per class, ≥ 0 and not all 0; they are divided by their sum. Default: the
   * empirical class frequencies n_c / N. A class with π_c > 0 must have at least one point.
   */
  readonly priors?: readonly number[] | Float32Array | Float64Array;
  /** Number of classes C, for integer labels when the last classes have no points. Default max label + 1. */
  readonly numClasses?: number;
  /**
   * A query with no point inside a compact kernel's support has density 0 in every class, so its
   * posterior is 0/0: `"throw"` (default), `"nan"` (NaN posterior, label −1) or `"nearest"` (the
   * class of the nearest point). Kernels with unbounded support use `"nearest"` when every kernel
   * value underflows, as {@link nadarayaWatson} does.
   */
  readonly onEmpty?: OnEmpty;
}

/** The result of {@link parzenClassifier}. The caller disposes of its tensors. */
export interface ParzenClassifierResult {
  /** `[m, C]` log joint densities log p̂(x, y = c) = log π_c + log p̂(x | y = c). */
  readonly logJoint: tf.Tensor2D;
  /** `[m, C]` posteriors p̂(y = c | x), rows summing to 1. */
  readonly posterior: tf.Tensor2D;
  /** `[m]` int32 predicted classes, argmax of the posterior (first on ties; −1 for NaN rows). */
  readonly labels: tf.Tensor1D;
}

/**
 * The Parzen-window classifier: one kernel density estimate per class, combined by Bayes' rule,
 *
 *   p̂(x, y = c) = π_c · (1/n_c) Σ_{i: y_i = c} K_σ(x − x_i),   p̂(y = c | x) = p̂(x, c) / Σ_c' p̂(x, c').
 *
 * With empirical priors π_c = n_c/N the posterior equals Nadaraya-Watson regression on one-hot
 * labels; with other priors, the decision equals the argmax of Nadaraya-Watson on
 * {@link oneHotLabels}`(labels, { priors })`.
 *
 * @param points training inputs x_i, `[N]` or `[N, d]`.
 * @param labels `[N]` integer classes 0…C−1, or `[N, C]` one-hot rows.
 * @param queries where to classify, `[m]` or `[m, d]`.
 * @param kernel a name from `KERNELS` or a `Kernel` with a finite integral. Default `"gaussian"`.
 * @param options σ (default 1), priors (default empirical), number of classes, empty-query policy.
 * @returns log joints `[m, C]`, posteriors `[m, C]` and predicted labels `[m]`.
 *
 * @example
 * ```ts
 * await initBackend();
 * const { logJoint, posterior, labels } = parzenClassifier([[0], [1], [3]], [0, 0, 1], [[0.5], [2.5]], "gaussian", {
 *   sigma: 0.5,
 *   priors: [0.5, 0.5],
 * });
 * labels.print(); // [0, 1]
 * tf.dispose([logJoint, posterior, labels]);
 * ```
 */
export function parzenClassifier(
  points: TensorInput,
  labels: TensorInput,
  queries: TensorInput,
  kernel: KernelName | Kernel = "gaussian",
  options: ParzenClassifierOptions = {},
): ParzenClassifierResult {
  return classify("parzenClassifier", points, labels, queries, kernel, options);
}

/**
 * The posteriors p̂(y = c | x) of the Parzen-window classifier alone, `[m, C]`, rows summing to 1.
 * Same arguments and rules as {@link parzenClassifier}.
 *
 * @example
 * ```ts
 * await initBackend();
 * const post = parzenPosterior([0, 1, 3], [0, 0, 1], [2], "gaussian", { sigma: 1 });
 * post.print(); // [[0.5502, 0.4498]]
 * post.dispose();
 * ```
 */
export function parzenPosterior(
  points: TensorInput,
  labels: TensorInput,
  queries: TensorInput,
  kernel: KernelName | Kernel = "gaussian",
  options: ParzenClassifierOptions = {},
): tf.Tensor2D {
  const r = classify("parzenPosterior", points, labels, queries, kernel, options);
  tf.dispose([r.logJoint, r.labels]);
  return r.posterior;
}

/** Options for {@link oneHotLabels}. */
export interface OneHotLabelsOptions {
  /** Number of classes C for integer labels. Default max label + 1. */
  readonly numClasses?: number;
  /** Class priors π_c (divided by their sum). Default empirical: every nonzero entry is then 1. */
  readonly priors?: readonly number[] | Float32Array | Float64Array;
}

/**
 * One-hot label values for Nadaraya-Watson, reweighted so that its argmax is the Parzen decision
 * under the given priors: row i has w_c = π_c / (n_c / N) in column c = y_i and 0 elsewhere.
 * With empirical priors every w_c is 1 (plain one-hot), and Nadaraya-Watson on these values is
 * the Parzen posterior itself. With other priors its output is proportional to p̂(x, c) (its rows
 * do not sum to 1); for the posterior use {@link parzenPosterior}.
 *
 * @param labels `[N]` integer classes or `[N, C]` one-hot rows.
 * @returns `[N, C]` float32 values. The caller disposes of it.
 *
 * @example
 * ```ts
 * await initBackend();
 * oneHotLabels([0, 0, 0, 1], { priors: [0.5, 0.5] }).print(); // [[2/3, 0], [2/3, 0], [2/3, 0], [0, 2]]
 * ```
 */
export function oneHotLabels(labels: TensorInput, options: OneHotLabelsOptions = {}): tf.Tensor2D {
  const fn = "oneHotLabels";
  checkOptions(fn, options);
  const classes = toClasses(fn, "labels", labels, options.numClasses);
  const weights = classWeights(fn, classes, options.priors);
  return weightedOneHot(classes, weights);
}

// ---------------------------------------------------------------------------------------------

interface Prepared {
  readonly points: tf.Tensor2D;
  readonly queries: tf.Tensor2D;
  readonly sigma: tf.Tensor1D;
  readonly centre: tf.Tensor;
  readonly kernel: Kernel;
  /** log c_K − Σ_j log σ_j, in float64. */
  readonly logConst: number;
  readonly chunk: number;
}

function prepare(
  fn: string,
  pointsIn: unknown,
  queriesIn: unknown,
  kernelIn: unknown,
  options: ParzenOptions,
): Prepared {
  checkOptions(fn, options);
  const kernel = resolveKernel(fn, kernelIn);
  const owned: tf.Tensor[] = [];
  try {
    const points = toPoints(fn, "points", pointsIn);
    owned.push(points);
    const queries = toPoints(fn, "queries", queriesIn);
    owned.push(queries);
    const d = points.shape[1];
    if (queries.shape[1] !== d) {
      fail(fn, `points and queries must have the same dimension, got ${d} and ${queries.shape[1]}`);
    }
    const widths = checkSigma(fn, options.sigma ?? 1, d, "options.sigma");
    let logWidths = 0;
    for (let j = 0; j < d; j++)
      logWidths += Math.log((widths.length === 1 ? widths[0] : widths[j]) as number);
    const logConst = densityLogNormalizer(fn, kernel, d) - logWidths;
    const chunk =
      options.chunkSize !== undefined
        ? checkInteger(fn, "options.chunkSize", options.chunkSize)
        : Math.max(1, Math.floor(DEFAULT_CHUNK_PAIRS / points.shape[0]));
    const sigma = tf.tensor1d(widths, "float32");
    owned.push(sigma);
    const centre = tf.mean(points, 0);
    owned.push(centre);
    return { points, queries, sigma, centre, kernel, logConst, chunk };
  } catch (err) {
    tf.dispose(owned);
    throw err;
  }
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
function logSumExpRows(x: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const max = tf.max(x, 1, true);
    const shift = tf.where(tf.greater(max, NEG_INF), max, tf.zerosLike(max));
    const sum = tf.sum(tf.exp(tf.sub(x, shift)), 1);
    return tf.add(tf.reshape(shift, [-1]), tf.log(sum)) as tf.Tensor1D;
  });
}

/** Runs `f` on blocks of at most `chunk` queries and concatenates each of its outputs. */
function mapChunks(
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

interface Classes {
  /** Class of each point. */
  readonly classOf: Int32Array;
  readonly numClasses: number;
  /** Points per class, n_c. */
  readonly counts: number[];
}

/** Reads `[N]` integer labels or `[N, C]` one-hot rows. */
function toClasses(fn: string, arg: string, labels: unknown, numClasses: unknown): Classes {
  if (numClasses !== undefined) checkInteger(fn, "options.numClasses", numClasses);
  const t = toFloatTensor(fn, arg, labels);
  let values: Float32Array;
  let shape: number[];
  try {
    if (t.rank !== 1 && t.rank !== 2) {
      fail(fn, `${arg} must be [N] integer classes or [N, C] one-hot rows, got ${describe(t)}`);
    }
    if (t.shape[0] === 0) fail(fn, `${arg} must not be empty, got ${describe(t)}`);
    values = t.dataSync() as Float32Array;
    shape = t.shape;
  } finally {
    t.dispose();
  }
  const n = shape[0] as number;
  const classOf = new Int32Array(n);
  let C: number;
  if (shape.length === 1) {
    let max = 0;
    values.forEach((v, i) => {
      if (!Number.isInteger(v) || v < 0) {
        fail(fn, `${arg} must be integer classes >= 0, got ${describe(v)} at index ${i}`);
      }
      classOf[i] = v;
      if (v > max) max = v;
    });
    C = (numClasses as number | undefined) ?? max + 1;
    if (max >= C) fail(fn, `${arg} has class ${max}, but options.numClasses is ${C}`);
  } else {
    C = shape[1] as number;
    if (C === 0) fail(fn, `${arg} must have at least one class column, got shape [${shape.join(", ")}]`);
    if (numClasses !== undefined && numClasses !== C) {
      fail(fn, `options.numClasses must match the ${C} columns of one-hot ${arg}, got ${numClasses}`);
    }
    for (let i = 0; i < n; i++) {
      const row = values.subarray(i * C, (i + 1) * C);
      const hot = row.findIndex((v) => v === 1);
      const ok = hot >= 0 && row.every((v, j) => (j === hot ? v === 1 : v === 0));
      if (!ok) {
        fail(
          fn,
          `${arg} rows must be one-hot (a single 1, the rest 0), got [${Array.from(row).join(", ")}] in row ${i}`,
        );
      }
      classOf[i] = hot;
    }
  }
  const counts = new Array<number>(C).fill(0);
  for (const c of classOf) counts[c] = (counts[c] as number) + 1;
  return { classOf, numClasses: C, counts };
}

/** Normalised priors, defaulting to the empirical frequencies. */
function classPriors(fn: string, classes: Classes, priorsIn: unknown): number[] {
  const N = classes.classOf.length;
  if (priorsIn === undefined) return classes.counts.map((n) => n / N);
  const isArray =
    Array.isArray(priorsIn) || priorsIn instanceof Float32Array || priorsIn instanceof Float64Array;
  if (!isArray) fail(fn, `options.priors must be an array of numbers, got ${describe(priorsIn)}`);
  const raw = Array.from(priorsIn as ArrayLike<number>);
  if (raw.length !== classes.numClasses) {
    fail(fn, `options.priors must have one entry per class (${classes.numClasses}), got ${raw.length}`);
  }
  raw.forEach((p, c) => {
    if (typeof p !== "number" || !Number.isFinite(p) || p < 0) {
      fail(fn, `options.priors must be finite and >= 0, got ${describe(p)} at index ${c}`);
    }
    if (p > 0 && classes.counts[c] === 0) {
      fail(fn, `options.priors gives class ${c} the prior ${p}, but labels has no point of class ${c}`);
    }
  });
  const total = raw.reduce((a, b) => a + b, 0);
  if (!(total > 0)) fail(fn, `options.priors must not all be 0, got ${describe(raw)}`);
  return raw.map((p) => p / total);
}

/** w_c = π_c / (n_c / N), the factor that turns empirical-prior pooling into π-prior pooling. */
function classWeights(fn: string, classes: Classes, priorsIn: unknown): number[] {
  const N = classes.classOf.length;
  const priors = classPriors(fn, classes, priorsIn);
  return priors.map((p, c) => (classes.counts[c] === 0 ? 0 : (p * N) / (classes.counts[c] as number)));
}

function weightedOneHot(classes: Classes, weights: number[]): tf.Tensor2D {
  const C = classes.numClasses;
  const out = new Float32Array(classes.classOf.length * C);
  classes.classOf.forEach((c, i) => {
    out[i * C + c] = weights[c] as number;
  });
  return tf.tensor2d(out, [classes.classOf.length, C]);
}

function classify(
  fn: string,
  pointsIn: unknown,
  labelsIn: unknown,
  queriesIn: unknown,
  kernelIn: unknown,
  options: ParzenClassifierOptions,
): ParzenClassifierResult {
  checkOptions(fn, options);
  const onEmpty = checkOnEmpty(fn, options.onEmpty);
  const p = prepare(fn, pointsIn, queriesIn, kernelIn, options);
  const owned: tf.Tensor[] = [];
  try {
    const classes = toClasses(fn, "labels", labelsIn, options.numClasses);
    const N = p.points.shape[0];
    if (classes.classOf.length !== N) {
      fail(fn, `points and labels must have the same length, got ${N} and ${classes.classOf.length}`);
    }
    const priors = classPriors(fn, classes, options.priors);
    const C = classes.numClasses;
    // log π_c − log n_c + log c_K − Σ log σ_j, or −∞ for a class that cannot occur.
    const offsets = priors.map((pi, c) =>
      pi === 0 ? NEG_INF : Math.log(pi) - Math.log(classes.counts[c] as number) + p.logConst,
    );
    const masks = offsets.map((_, c) => {
      const row = new Uint8Array(N);
      classes.classOf.forEach((k, i) => {
        row[i] = k === c ? 1 : 0;
      });
      return tf.tensor2d(row, [1, N], "bool");
    });
    owned.push(...masks);
    // Points of classes that can occur, for the nearest-point fallback.
    const allowed = tf.tensor2d(
      Uint8Array.from(classes.classOf, (c) => ((priors[c] as number) > 0 ? 1 : 0)),
      [1, N],
      "bool",
    );
    owned.push(allowed);
    const classOf = tf.tensor1d(classes.classOf, "int32");
    owned.push(classOf);

    const [logJoint, posterior, labels] = mapChunks(p.queries, p.chunk, (q, offset) => {
      const joint = tf.tidy(() => {
        const logits = kernelLogits(q, p.points, p.sigma, p.kernel, p.centre);
        const negInf = tf.fill(logits.shape, NEG_INF);
        const cols = offsets.map((o, c) =>
          o === NEG_INF
            ? tf.fill([q.shape[0]], NEG_INF)
            : tf.add(logSumExpRows(tf.where(masks[c] as tf.Tensor, logits, negInf) as tf.Tensor2D), o),
        );
        return tf.stack(cols, 1) as tf.Tensor2D;
      });
      try {
        const compact = Number.isFinite(p.kernel.support);
        const empty = findEmpty(fn, joint, q, offset, p.kernel, onEmpty, "point");
        const [post, lab] = tf.tidy(() => {
          const nearest = () => {
            const nearestClass = tf.gather(classOf, nearestIndex(q, p.points, p.sigma, p.centre, allowed));
            return tf.cast(tf.oneHot(nearestClass, C), "float32") as tf.Tensor2D;
          };
          const { weights: post, isEmpty } = softmaxWithEmpty(joint, empty, onEmpty, compact, nearest);
          if (isEmpty && onEmpty === "nan" && compact) {
            return [
              post,
              tf.where(tf.reshape(isEmpty, [-1]), tf.fill([q.shape[0]], -1, "int32"), tf.argMax(post, 1)),
            ];
          }
          return [post, tf.argMax(post, 1)];
        });
        return [joint, post, lab];
      } catch (err) {
        joint.dispose();
        throw err;
      }
    });
    return {
      logJoint: logJoint as tf.Tensor2D,
      posterior: posterior as tf.Tensor2D,
      labels: labels as tf.Tensor1D,
    };
  } finally {
    tf.dispose(owned);
    tf.dispose([p.points, p.queries, p.sigma, p.centre]);
  }
}
