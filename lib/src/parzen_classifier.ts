/**
 * The Parzen-window classifier: one kernel density estimate per class, combined by Bayes' rule,
 * p̂(y = c | x) ∝ π_c p̂(x | y = c).
 *
 * The link to attention pooling: with empirical priors π_c = n_c / N the posterior p̂(y = c | x) is
 * exactly Nadaraya-Watson regression on one-hot labels. With other priors, Nadaraya-Watson on one-hot
 * labels scaled by w_c = π_c / (n_c / N) (see {@link oneHotLabels}) gives values proportional to
 * p̂(x, c): the same decision, but rows that do not sum to 1. The posterior itself is attention whose
 * weights carry the class weight inside, α_i ∝ w_{y_i} K((x − x_i)/σ).
 */
import * as tf from "@tensorflow/tfjs-core";

import { checkOnEmpty, findEmpty, nearestWeights, softmaxWithEmpty, type OnEmpty } from "./empty";
import { describe, fail } from "./errors";
import { disposeOnFailure } from "./ownership";
import { type Kernel, type KernelName } from "./kernels";
import { kernelLogits } from "./nadaraya_watson";
import { logSumExpRows, mapChunks, prepare, type ParzenOptions } from "./parzen";
import { checkInteger, checkOptions, type TensorInput, toFloatTensor } from "./validate";

const NEG_INF = Number.NEGATIVE_INFINITY;

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

/**
 * `[m, C]`: log Σ_{i: y_i = c} e^{ℓ_i} + offset_c per row of logits ℓ over all points, one masked
 * log-sum-exp per class (C passes over the logits). Used at extreme widths, where the logits are
 * shifted by each row's largest one first.
 */
function maskedClassLogSums(logits: tf.Tensor2D, masks: tf.Tensor[], offsets: number[]): tf.Tensor2D {
  return tf.tidy(() => {
    const negInf = tf.fill(logits.shape, NEG_INF);
    const cols = offsets.map((o, c) =>
      o === NEG_INF
        ? tf.fill([logits.shape[0]], NEG_INF)
        : tf.add(logSumExpRows(tf.where(masks[c] as tf.Tensor, logits, negInf) as tf.Tensor2D), o),
    );
    return tf.stack(cols, 1) as tf.Tensor2D;
  });
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
    const classOneHot = tf.tidy(() =>
      tf.cast(tf.oneHot(tf.tensor1d(classes.classOf, "int32"), C), "float32"),
    ) as tf.Tensor2D;
    owned.push(classOneHot);
    // The points of each class that can occur (undefined for the others), for the class sums.
    const classPoints = offsets.map((o, c) => {
      if (o === NEG_INF) return undefined;
      const rows = Array.from(classes.classOf).flatMap((k, i) => (k === c ? [i] : []));
      const own = tf.tidy(() => tf.gather(p.points, tf.tensor1d(rows, "int32")) as tf.Tensor2D);
      owned.push(own);
      return own;
    });

    const [logJoint, posterior, labels] = mapChunks(p.queries, p.chunk, (q, offset) => {
      // At extreme widths the log-kernel values are so large (−10³⁷) that log 2 vanishes beside them
      // in float32: then each row is shifted by its largest value first, so that the posterior still
      // counts tied points, and the shift is added back for the log joint.
      const [joint, relative] = tf.tidy(() => {
        if (p.widths.extreme) {
          const logits = kernelLogits(q, p.points, p.widths, p.kernel, p.centre);
          const max = tf.max(logits, 1, true);
          const top = tf.where(tf.isFinite(max), max, tf.zerosLike(max));
          const rel = maskedClassLogSums(tf.sub(logits, top) as tf.Tensor2D, masks, offsets);
          return [tf.add(rel, top) as tf.Tensor2D, rel];
        }
        // Each class's log-sum-exp over its own points only: N scores per query in all, and each
        // class shifted by its own largest score, so no class's sum underflows beside another's.
        const cols = offsets.map((o, c) => {
          const own = classPoints[c];
          return own === undefined
            ? tf.fill([q.shape[0]], NEG_INF)
            : tf.add(logSumExpRows(kernelLogits(q, own, p.widths, p.kernel, p.centre)), o);
        });
        const rel = tf.stack(cols, 1) as tf.Tensor2D;
        return [rel, rel];
      });
      return disposeOnFailure(relative === joint ? [joint] : [joint, relative], () => {
        const compact = Number.isFinite(p.kernel.support);
        const empty = findEmpty(fn, relative, q, offset, p.kernel, onEmpty, "point", p.shift);
        const [post, lab] = tf.tidy(() => {
          const nearest = () => {
            // The classes of the nearest points, ties averaged: weights [m, N] times one-hot classes [N, C].
            return tf.matMul(
              nearestWeights(q, p.points, p.widths, p.centre, allowed),
              classOneHot,
            ) as tf.Tensor2D;
          };
          const { weights: post, isEmpty } = softmaxWithEmpty(relative, empty, onEmpty, compact, nearest);
          if (isEmpty && onEmpty === "nan" && compact) {
            return [
              post,
              tf.where(tf.reshape(isEmpty, [-1]), tf.fill([q.shape[0]], -1, "int32"), tf.argMax(post, 1)),
            ];
          }
          return [post, tf.argMax(post, 1)];
        });
        if (relative !== joint) relative.dispose();
        return [joint, post, lab];
      });
    });
    return {
      logJoint: logJoint as tf.Tensor2D,
      posterior: posterior as tf.Tensor2D,
      labels: labels as tf.Tensor1D,
    };
  } finally {
    tf.dispose(owned);
    tf.dispose([p.points, p.queries, p.centre]);
    p.widths.dispose();
  }
}
