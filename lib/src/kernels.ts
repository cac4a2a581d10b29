/**
 * Similarity kernels. Every kernel is radial: k(u) depends only on r = ‖u‖, where
 * u = (query − key) / σ is the difference scaled per dimension. So k_σ(d) = k(d / σ).
 *
 * The table {@link KERNELS} is the single list of kernel names. The first four are the
 * tutorial's, with its definitions (no normalising constants). Note the tutorial's
 * "Epanechikov" (sic) is max(0, 1 − |x|): that is the triangular kernel. It is kept under the
 * tutorial's spelling for fidelity and also exported as `triangular`; the real Epanechnikov
 * kernel ¾(1 − x²)₊ is `epanechnikov`.
 */
import * as tf from "@tensorflow/tfjs-core";

import { describe, fail } from "./errors";
import { checkInteger, checkOptions, checkSigma, type TensorInput, toFloatTensor } from "./validate";

/** A radial similarity kernel. */
export interface Kernel {
  /** Its name in {@link KERNELS}, e.g. `"gaussian"`. */
  readonly name: string;
  /** The profile k(r) as a formula, for legends and docs. */
  readonly formula: string;
  /** Radius of the support in scaled units: 1 for compact kernels, `Infinity` otherwise. */
  readonly support: number;
  /** k(r) at one point, in float64. Used for normalising constants and documentation. */
  readonly profile: (r: number) => number;
  /** k elementwise from the squared scaled distance r², as a tensor. */
  readonly value: (r2: tf.Tensor) => tf.Tensor;
  /**
   * log k elementwise from r², with −∞ outside the support. Its gradient is finite
   * everywhere (masked entries get zero gradient), so it can be differentiated in σ.
   */
  readonly logValue: (r2: tf.Tensor) => tf.Tensor;
  /**
   * log k(r) as a Vega expression in `r` (with `log(0)` for −∞), so that a figure can
   * evaluate the kernel live in the browser (see `nadarayaWatsonExplorer`). Built-in kernels
   * have one; a kernel from {@link defineKernel} has none.
   */
  readonly vegaLog?: string;
  /**
   * Whether log k is finite for every finite r² (the Gaussian, the constant kernel): then only an
   * overflow of r² can leave a query with no weight, which Nadaraya-Watson checks for cheaply.
   */
  readonly finiteLog?: boolean;
  /**
   * When log k(r) = c·r² exactly, the coefficient c < 0 (the Gaussian's −½). The paths that use
   * the closed form read it here: the leave-one-out loss (logits straight from the squared
   * distances), the windowed path's truncation bound, and the density's normalising constant.
   */
  readonly logQuadratic?: number;
  /**
   * Compact polynomial kernels: the profile as polynomials in u = (x − q)/σ on each side of the
   * query, for |u| < 1. `right[p]` multiplies u^p for keys at or right of the query (u ≥ 0),
   * `left[p]` for u < 0; normalising constants are left out, as they cancel in the weights. The
   * windowed path sums a window through a tree of moments with it.
   */
  readonly polynomial?: { readonly left: readonly number[]; readonly right: readonly number[] };
  /**
   * `[m, n]` float32 temporaries alive at the peak of one dense step through log-weights with 1-D
   * points (Parzen densities, the losses, and Nadaraya-Watson for a kernel without `weight`),
   * measured with `tf.profile` on wasm (peak bytes / 4mn). The memory pre-flight reads it; a
   * kernel from {@link defineKernel} has none and is assumed to need 12.
   */
  readonly peakTemporaries?: number;
  /**
   * The same for Nadaraya-Watson's dense step through `weight` (weights, chunked predictions or
   * attentionWeights, whichever is largest), measured with `tf.profile` on tensorflow, wasm and
   * cpu, the largest kept.
   */
  readonly weightTemporaries?: number;
  /**
   * k from r² up to a constant factor, elementwise, in a few cheap passes and not for
   * differentiation: for kernels whose weights cannot underflow (exactly 0 outside a compact
   * support and bounded away from 0 inside it, or constant). The dense Nadaraya-Watson path
   * normalises these weights directly, Σ k v / Σ k, instead of through log-weights; a query whose
   * weights are all 0 has no key in the support and follows `onEmpty`.
   */
  readonly weight?: (r2: tf.Tensor) => tf.Tensor;
  /**
   * The kernel's number in the fused pooling kernels (`lib/native/nadaraya_watson.h`), which
   * evaluate Nadaraya-Watson in one pass over the keys per query, with no `[m, n]` matrix in
   * memory, where the backend has them (see `fusedKernelInfo`). A kernel without one (from
   * {@link defineKernel}) is pooled densely.
   */
  readonly fusedProfile?: number;
}

const NEG_INF = Number.NEGATIVE_INFINITY;

/** log(x) where x > 0, −∞ elsewhere, with a zero (not NaN) gradient on the masked part. */
function maskedLog(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const positive = tf.greater(x, 0);
    const safe = tf.where(positive, x, tf.onesLike(x));
    return tf.where(positive, tf.log(safe), tf.fill(x.shape, NEG_INF));
  });
}

/** √(r²) with a finite gradient at 0. */
function radius(r2: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const positive = tf.greater(r2, 0);
    return tf.where(positive, tf.sqrt(tf.where(positive, r2, tf.onesLike(r2))), tf.zerosLike(r2));
  });
}

function inside(r2: tf.Tensor): tf.Tensor {
  return tf.less(r2, 1);
}

const gaussian: Kernel = {
  name: "gaussian",
  formula: "exp(−r²/2)",
  support: Infinity,
  profile: (r) => Math.exp((-r * r) / 2),
  value: (r2) => tf.tidy(() => tf.exp(tf.mul(r2, -0.5))),
  logValue: (r2) => tf.mul(r2, -0.5),
  vegaLog: "-r * r / 2",
  finiteLog: true,
  logQuadratic: -0.5,
  peakTemporaries: 2,
  fusedProfile: 0,
};

const boxcar: Kernel = {
  name: "boxcar",
  formula: "1 if r < 1, else 0",
  support: 1,
  profile: (r) => (Math.abs(r) < 1 ? 1 : 0),
  value: (r2) => tf.tidy(() => tf.cast(inside(r2), "float32")),
  logValue: (r2) => tf.tidy(() => tf.where(inside(r2), tf.zerosLike(r2), tf.fill(r2.shape, NEG_INF))),
  vegaLog: "r < 1 ? 0 : log(0)",
  // 1 − r² ≥ 2⁻²⁴ exactly when r² < 1 in float32, so scaling it by 2²⁵ and clipping to [0, 1]
  // gives exactly 1 inside and 0 outside, with fast ops only (no comparison and cast).
  weight: (r2) => tf.tidy(() => tf.clipByValue(tf.mul(tf.sub(1, r2), 2 ** 25), 0, 1)),
  polynomial: { left: [1], right: [1] },
  peakTemporaries: 6.5,
  weightTemporaries: 5,
  fusedProfile: 2,
};

const constant: Kernel = {
  name: "constant",
  formula: "1",
  support: Infinity,
  profile: () => 1,
  value: (r2) => tf.onesLike(r2),
  logValue: (r2) => tf.zerosLike(r2),
  vegaLog: "0",
  weight: (r2) => tf.onesLike(r2),
  finiteLog: true,
  peakTemporaries: 2,
  weightTemporaries: 3,
  fusedProfile: 1,
};

const triangularValue = (r2: tf.Tensor): tf.Tensor => tf.tidy(() => tf.relu(tf.sub(1, radius(r2))));

const triangular: Kernel = {
  name: "triangular",
  formula: "max(0, 1 − r)",
  support: 1,
  profile: (r) => Math.max(0, 1 - Math.abs(r)),
  value: triangularValue,
  logValue: (r2) => tf.tidy(() => maskedLog(tf.sub(1, radius(r2)))),
  vegaLog: "r < 1 ? log(1 - r) : log(0)",
  weight: (r2) => tf.tidy(() => tf.relu(tf.sub(1, tf.sqrt(r2)))),
  polynomial: { left: [1, 1], right: [1, -1] },
  peakTemporaries: 10.5,
  weightTemporaries: 4,
  fusedProfile: 3,
};

/** The tutorial's "Epanechikov" (sic): the triangular kernel under the tutorial's name. */
const epanechikov: Kernel = { ...triangular, name: "epanechikov" };

const epanechnikov: Kernel = {
  name: "epanechnikov",
  formula: "¾ (1 − r²)₊",
  support: 1,
  profile: (r) => 0.75 * Math.max(0, 1 - r * r),
  value: (r2) => tf.tidy(() => tf.mul(0.75, tf.relu(tf.sub(1, r2)))),
  logValue: (r2) => tf.tidy(() => tf.add(Math.log(0.75), maskedLog(tf.sub(1, r2)))),
  vegaLog: "r < 1 ? log(0.75 * (1 - r * r)) : log(0)",
  weight: (r2) => tf.tidy(() => tf.relu(tf.sub(1, r2))),
  polynomial: { left: [1, 0, -1], right: [1, 0, -1] },
  peakTemporaries: 9.5,
  weightTemporaries: 3,
  fusedProfile: 4,
};

const biweight: Kernel = {
  name: "biweight",
  formula: "(15/16) (1 − r²)₊²",
  support: 1,
  profile: (r) => (15 / 16) * Math.max(0, 1 - r * r) ** 2,
  value: (r2) => tf.tidy(() => tf.mul(15 / 16, tf.square(tf.relu(tf.sub(1, r2))))),
  logValue: (r2) => tf.tidy(() => tf.add(Math.log(15 / 16), tf.mul(2, maskedLog(tf.sub(1, r2))))),
  vegaLog: "r < 1 ? log(15 / 16) + 2 * log(1 - r * r) : log(0)",
  weight: (r2) => tf.tidy(() => tf.square(tf.relu(tf.sub(1, r2)))),
  polynomial: { left: [1, 0, -2, 0, 1], right: [1, 0, -2, 0, 1] },
  peakTemporaries: 9.5,
  weightTemporaries: 4,
  fusedProfile: 5,
};

const tricube: Kernel = {
  name: "tricube",
  formula: "(70/81) (1 − r³)₊³",
  support: 1,
  profile: (r) => (70 / 81) * Math.max(0, 1 - Math.abs(r) ** 3) ** 3,
  value: (r2) => tf.tidy(() => tf.mul(70 / 81, tf.pow(tf.relu(tf.sub(1, tf.pow(radius(r2), 3))), 3))),
  logValue: (r2) =>
    tf.tidy(() => tf.add(Math.log(70 / 81), tf.mul(3, maskedLog(tf.sub(1, tf.pow(radius(r2), 3)))))),
  vegaLog: "r < 1 ? log(70 / 81) + 3 * log(1 - r * r * r) : log(0)",
  weight: (r2) =>
    tf.tidy(() => {
      const u = tf.relu(tf.sub(1, tf.mul(r2, tf.sqrt(r2))));
      return tf.mul(tf.square(u), u);
    }),
  // (1 − |u|³)³: (1 + u³)³ on the left, (1 − u³)³ on the right.
  polynomial: { left: [1, 0, 0, 3, 0, 0, 3, 0, 0, 1], right: [1, 0, 0, -3, 0, 0, 3, 0, 0, -1] },
  peakTemporaries: 11.5,
  weightTemporaries: 7,
  fusedProfile: 6,
};

const cosine: Kernel = {
  name: "cosine",
  formula: "(π/4) cos(πr/2) for r < 1",
  support: 1,
  profile: (r) => (Math.abs(r) < 1 ? (Math.PI / 4) * Math.cos((Math.PI * r) / 2) : 0),
  value: (r2) =>
    tf.tidy(() =>
      tf.where(inside(r2), tf.mul(Math.PI / 4, tf.cos(tf.mul(Math.PI / 2, radius(r2)))), tf.zerosLike(r2)),
    ),
  logValue: (r2) =>
    tf.tidy(() => {
      const cos = tf.cos(tf.mul(Math.PI / 2, radius(r2)));
      return tf.where(inside(r2), tf.add(Math.log(Math.PI / 4), maskedLog(cos)), tf.fill(r2.shape, NEG_INF));
    }),
  vegaLog: "r < 1 ? log(PI / 4 * cos(PI * r / 2)) : log(0)",
  // At r² ≥ 1 the clipped radius is 1 and cos(π/2) rounds to −4.4e−8 in float32: relu makes it 0.
  weight: (r2) => tf.tidy(() => tf.relu(tf.cos(tf.mul(tf.sqrt(tf.clipByValue(r2, 0, 1)), Math.PI / 2)))),
  peakTemporaries: 11.75,
  weightTemporaries: 6,
  fusedProfile: 7,
};

/** Every kernel by name: the one table of valid kernel names. */
export const KERNELS = {
  gaussian,
  boxcar,
  constant,
  epanechikov,
  triangular,
  epanechnikov,
  biweight,
  tricube,
  cosine,
} as const satisfies Record<string, Kernel>;

/** A kernel name from {@link KERNELS}. */
export type KernelName = keyof typeof KERNELS;

/** All kernel names, in table order. */
export const KERNEL_NAMES = Object.keys(KERNELS) as KernelName[];

/** Looks a kernel up by name (or passes a {@link Kernel} through), with a clear error for unknown names. */
export function resolveKernel(fn: string, kernel: unknown, arg = "kernel"): Kernel {
  if (typeof kernel === "string") {
    if (Object.prototype.hasOwnProperty.call(KERNELS, kernel)) return KERNELS[kernel as KernelName];
    const where = arg === "kernel" ? "" : `${arg}: `;
    return fail(
      fn,
      `${where}unknown kernel ${JSON.stringify(kernel)}; expected one of ${KERNEL_NAMES.join(", ")}`,
    );
  }
  if (
    typeof kernel === "object" &&
    kernel !== null &&
    typeof (kernel as Kernel).logValue === "function" &&
    typeof (kernel as Kernel).value === "function"
  ) {
    return kernel as Kernel;
  }
  return fail(
    fn,
    `${arg} must be a kernel name (${KERNEL_NAMES.join(", ")}) or a Kernel, got ${describe(kernel)}`,
  );
}

/** Options for {@link defineKernel}. */
export interface DefineKernelOptions {
  /** The kernel's name, used in error messages. Default `"custom"`. */
  readonly name?: string;
  /** The profile as text, for legends and docs. Default: the name. */
  readonly formula?: string;
  /**
   * The radius of the support: k(r) = 0 for r ≥ `support`. Default `Infinity` (the kernel is
   * positive everywhere). Declare a compact kernel's support so that queries with no key inside
   * it follow `onEmpty`; with an unbounded support, a query whose weights all underflow gets
   * the nearest key's value (the σ → 0 limit of a positive kernel).
   */
  readonly support?: number;
}

/**
 * Builds a {@link Kernel} from one function of the scaled offset, written the way the tutorial
 * writes its kernels: `(x) => tf.exp(tf.div(tf.neg(tf.square(x)), 2))` is the Gaussian.
 *
 * The function receives a tensor r = ‖(q − k)/σ‖ ≥ 0 of any shape (|x| in one dimension, so
 * the tutorial's even kernels work unchanged) and returns k(r) elementwise, of the same shape.
 * Values ≤ 0 mean "no weight". The result works wherever a kernel name does: in
 * `nadarayaWatson`, `attentionWeights`, `evaluateKernel`, the losses and `fitBandwidth` (its
 * log-value is log k with −∞ where k ≤ 0, differentiable in σ). The function is checked once,
 * here, on a few radii.
 *
 * @param profile k as a function of the scaled distance, tensor in, tensor out.
 * @param options name, formula text and support; see {@link DefineKernelOptions}.
 *
 * @example
 * ```ts
 * // The real Epanechnikov kernel, in one line:
 * const parabola = defineKernel((r) => tf.mul(0.75, tf.relu(tf.sub(1, tf.square(r)))), { name: "parabola", support: 1 });
 * const { predictions } = nadarayaWatson([0, 1, 2], [0, 10, 20], [0.8], parabola, { sigma: 0.5 });
 * predictions.print(); // [10]: only the key at 1 is within 0.5 of 0.8
 * ```
 */
export function defineKernel(
  profile: (r: tf.Tensor) => tf.Tensor,
  options: DefineKernelOptions = {},
): Kernel {
  const fn = "defineKernel";
  if (typeof profile !== "function")
    fail(fn, `profile must be a function of a tensor, got ${describe(profile)}`);
  checkOptions(fn, options);
  const name = options.name ?? "custom";
  if (typeof name !== "string" || name === "")
    fail(fn, `options.name must be a non-empty string, got ${describe(name)}`);
  const formula = options.formula ?? name;
  if (typeof formula !== "string") fail(fn, `options.formula must be a string, got ${describe(formula)}`);
  const support = options.support ?? Infinity;
  if (typeof support !== "number" || !(support > 0)) {
    fail(fn, `options.support must be a number > 0 (or Infinity), got ${describe(support)}`);
  }
  const call = (r: tf.Tensor): tf.Tensor => {
    const out = profile(r);
    if (!(out instanceof tf.Tensor)) {
      fail(name === "custom" ? fn : `${fn} (${name})`, `profile must return a tensor, got ${describe(out)}`);
    }
    return out;
  };
  const value = (r2: tf.Tensor): tf.Tensor =>
    tf.tidy(() => {
      const r = radius(r2);
      const k = tf.cast(call(r), "float32");
      return Number.isFinite(support) ? tf.where(tf.less(r, support), k, tf.zerosLike(k)) : k;
    });
  const kernel: Kernel = {
    name,
    formula,
    support,
    profile: (r) => tf.tidy(() => value(tf.scalar(r * r))).dataSync()[0] as number,
    value,
    logValue: (r2) => tf.tidy(() => maskedLog(value(r2))),
  };
  // Check the function once on a few radii: same shape out, finite, and positive at r = 0.
  const { shape, probe } = tf.tidy(() => {
    const out = call(tf.tensor1d([0, 0.25, 0.5, 1, 2]));
    return { shape: out.shape, probe: Array.from(out.dataSync()) };
  });
  if (shape.length !== 1 || shape[0] !== 5) {
    fail(
      fn,
      `profile must return a tensor of the shape of its input, got shape [${shape.join(", ")}] for shape [5]`,
    );
  }
  if (!probe.every((v) => Number.isFinite(v))) {
    fail(fn, `profile must be finite, got [${probe.join(", ")}] at r = [0, 0.25, 0.5, 1, 2]`);
  }
  if (!((probe[0] as number) > 0)) fail(fn, `profile must be positive at r = 0, got ${probe[0]}`);
  return kernel;
}

/**
 * Evaluates k_σ(x) = k(x / σ) elementwise, e.g. to plot a kernel's shape.
 *
 * @param kernel a name from {@link KERNELS} or a {@link Kernel}.
 * @param x any shape; each entry is a one-dimensional offset.
 * @param sigma the width σ > 0. Default 1.
 * @returns a float32 tensor of the shape of `x`.
 *
 * @example
 * ```ts
 * evaluateKernel("epanechikov", [-1, -0.5, 0, 0.5, 1]).print(); // [0, 0.5, 1, 0.5, 0]
 * ```
 */
export function evaluateKernel(kernel: KernelName | Kernel, x: TensorInput, sigma: number = 1): tf.Tensor {
  const fn = "evaluateKernel";
  const k = resolveKernel(fn, kernel);
  const [s] = checkSigma(fn, sigma, 1);
  const input = toFloatTensor(fn, "x", x);
  try {
    return tf.tidy(() => k.value(tf.square(tf.div(input, s as number))));
  } finally {
    input.dispose();
  }
}

/** Γ(d/2) for a positive integer d, exactly from Γ(1/2) = √π and Γ(1) = 1. */
function gammaHalf(d: number): number {
  let g = d % 2 === 0 ? 1 : Math.sqrt(Math.PI);
  for (let x = d % 2 === 0 ? 1 : 0.5; x < d / 2; x += 1) g *= x;
  return g;
}

/**
 * log of the constant c that makes c·k(‖u‖) integrate to 1 over ℝ^d (unit width).
 * Gaussian (any log k = c·r²): c = (2π)^(−d/2). Compact kernels: 1 / (|S^(d−1)| ∫₀¹ k(r) r^(d−1) dr), by Simpson's rule
 * in float64. The constant kernel has no such constant.
 */
export function logNormalizer(kernel: KernelName | Kernel, dims: number): number {
  const fn = "logNormalizer";
  const k = resolveKernel(fn, kernel);
  checkInteger(fn, "dims", dims);
  // ∫ exp(c‖u‖²) du over ℝ^d = (π / −c)^(d/2): (2π)^(d/2) for the Gaussian.
  if (k.logQuadratic !== undefined) return (-dims / 2) * Math.log(Math.PI / -k.logQuadratic);
  if (!Number.isFinite(k.support)) {
    return fail(
      fn,
      `kernel ${JSON.stringify(k.name)} does not integrate to a finite value, so it has no density`,
    );
  }
  const steps = 20000;
  const h = k.support / steps;
  let sum = 0;
  for (let i = 0; i <= steps; i++) {
    // Sample just inside the support at the right end: boxcar is 1 on [0, 1).
    const r = i === steps ? k.support * (1 - 1e-12) : i * h;
    const w = i === 0 || i === steps ? 1 : i % 2 === 1 ? 4 : 2;
    sum += w * k.profile(r) * r ** (dims - 1);
  }
  const radial = (sum * h) / 3;
  const sphere = (2 * Math.PI ** (dims / 2)) / gammaHalf(dims);
  return -Math.log(sphere * radial);
}
