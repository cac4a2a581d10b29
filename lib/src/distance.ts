/**
 * Scaled squared distances r²[i, j] = Σ_d ((q[i, d] − k[j, d]) / σ_d)², the quantity every
 * radial kernel is a function of, safe for any width σ > 0.
 *
 * The offsets q − k are formed before any scaling, and the scale factors 1/σ_d² are computed in
 * float64 and capped at the float32 maximum. So a tiny σ (10⁻⁴⁰, or 10⁻⁵⁰, which is 0 in float32)
 * gives r² = 0 for an exact match and a huge or infinite r² for every other key, which is the
 * σ → 0 limit, never ∞ − ∞ or 0 · ∞.
 */
import * as tf from "@tensorflow/tfjs-core";

/** Up to this many dimensions, differences are formed per dimension (exact); above, by matmul. */
export const DIRECT_MAX_DIMS = 4;

/** The largest float32 number. */
const F32_MAX = 3.4028234663852886e38;

/** A call's widths, turned once into the factors the distances need. Dispose of it after the call. */
export interface Widths {
  /** `[d]`: σ_d in float32, for the ordinary path (coordinates divided by σ, then differenced). */
  readonly sigma: tf.Tensor1D;
  /**
   * Whether the ordinary path could overflow or underflow: some σ_d is below the smallest normal
   * float32, or some scaled coordinate |x_d|/σ_d is beyond 10¹⁵. Then the offsets are formed first.
   */
  readonly extreme: boolean;
  /** `[d]`: 1/σ_d², computed in float64 and capped at the float32 maximum. */
  readonly factors: tf.Tensor1D;
  /** `[d]`: σ_min/σ_d, in (0, 1]: coordinates scaled by it never overflow. */
  readonly ratios: tf.Tensor1D;
  /** `[d]`: (σ_min/σ_d)²: distances in these units rank keys as r² does, without overflow. */
  readonly ranking: tf.Tensor1D;
  /** 1/σ_min², capped at the float32 maximum. */
  readonly scale: number;
  dispose(): void;
}

/** Scaled coordinates below this stay far from float32 overflow when squared differences are summed. */
const SAFE_SCALED = 1e15;
/** The smallest normal float32 number. */
const F32_MIN_NORMAL = 1.1754943508222875e-38;

/** The largest |coordinate| of each column over the point sets, in float64 (for {@link toWidths}). */
export function maxAbsColumns(...sets: tf.Tensor2D[]): number[] {
  const d = (sets[0] as tf.Tensor2D).shape[1];
  const out = new Array<number>(d).fill(0);
  for (const set of sets) {
    const data = set.dataSync();
    for (let i = 0; i < data.length; i++) {
      const j = i % d;
      const v = Math.abs(data[i] as number);
      if (v > (out[j] as number)) out[j] = v;
    }
  }
  return out;
}

/**
 * The factors of {@link Widths} for widths given as one number or one per dimension; `maxAbs[d]`
 * is the largest |coordinate| of keys and queries in dimension d (after centring).
 */
export function toWidths(widths: readonly number[], dims: number, maxAbs: readonly number[]): Widths {
  const sigma = Array.from(
    { length: dims },
    (_, j) => (widths.length === 1 ? widths[0] : widths[j]) as number,
  );
  const min = Math.min(...sigma);
  const extreme = sigma.some((s, j) => s < F32_MIN_NORMAL || (maxAbs[j] as number) / s > SAFE_SCALED);
  const sigmaTensor = tf.tensor1d(sigma, "float32");
  const factors = tf.tensor1d(sigma.map((s) => Math.min(1 / (s * s), F32_MAX)));
  const ratios = tf.tensor1d(sigma.map((s) => min / s));
  const ranking = tf.tensor1d(sigma.map((s) => (min / s) ** 2));
  return {
    sigma: sigmaTensor,
    extreme,
    factors,
    ratios,
    ranking,
    scale: Math.min(1 / (min * min), F32_MAX),
    dispose: () => tf.dispose([sigmaTensor, factors, ratios, ranking]),
  };
}

/**
 * Scaled squared distances between queries `[m, d]` and keys `[n, d]`, shape `[m, n]`.
 *
 * For d ≤ {@link DIRECT_MAX_DIMS} the differences are formed directly, one fused squared-difference
 * pass per dimension, which is exact and translation invariant in float32. Above that the
 * expansion ‖q‖² + ‖k‖² − 2 q·k is used on coordinates scaled by σ_min/σ_d, after centring both
 * sets on `centre` (the keys' mean) to limit cancellation; it is clamped at 0, then scaled by
 * 1/σ_min². With `rankOnly`, the last scaling is left out: the same order of keys per query,
 * finite for every σ (for the nearest-key fallback).
 */
export function scaledSquaredDistances(
  queries: tf.Tensor2D,
  keys: tf.Tensor2D,
  widths: Widths,
  centre?: tf.Tensor,
  rankOnly = false,
): tf.Tensor2D {
  return tf.tidy(() => {
    const dims = keys.shape[1];
    if (!widths.extreme && !rankOnly) return ordinary(queries, keys, widths.sigma, centre);
    const factors = rankOnly ? widths.ranking : widths.factors;
    if (dims === 1) {
      return tf.mul(
        tf.squaredDifference(queries, tf.reshape(keys, [1, -1])),
        tf.reshape(factors, []),
      ) as tf.Tensor2D;
    }
    if (dims <= DIRECT_MAX_DIMS) {
      const qCols = tf.split(queries, dims, 1);
      const kRows = tf.split(tf.transpose(keys), dims, 0);
      const f = tf.split(factors, dims);
      let sum: tf.Tensor = tf.mul(
        tf.squaredDifference(qCols[0] as tf.Tensor, kRows[0] as tf.Tensor),
        tf.reshape(f[0] as tf.Tensor, []),
      );
      for (let j = 1; j < dims; j++) {
        const term = tf.mul(
          tf.squaredDifference(qCols[j] as tf.Tensor, kRows[j] as tf.Tensor),
          tf.reshape(f[j] as tf.Tensor, []),
        );
        sum = tf.add(sum, term);
      }
      return sum as tf.Tensor2D;
    }
    const c = centre ?? tf.mean(keys, 0);
    const qc = tf.mul(tf.sub(queries, c), widths.ratios);
    const kc = tf.mul(tf.sub(keys, c), widths.ratios);
    const qq = tf.sum(tf.square(qc), 1, true);
    const kk = tf.reshape(tf.sum(tf.square(kc), 1), [1, -1]);
    const cross = tf.matMul(qc, kc, false, true);
    const rho2 = tf.relu(tf.sub(tf.add(qq, kk), tf.mul(cross, 2)));
    return (rankOnly ? rho2 : tf.mul(rho2, widths.scale)) as tf.Tensor2D;
  });
}

/**
 * The ordinary path, for widths of ordinary size: coordinates divided by σ, then differenced
 * (one fused pass per dimension for d ≤ {@link DIRECT_MAX_DIMS}, the centred expansion above).
 */
function ordinary(
  queries: tf.Tensor2D,
  keys: tf.Tensor2D,
  sigma: tf.Tensor,
  centre?: tf.Tensor,
): tf.Tensor2D {
  const dims = keys.shape[1];
  const q = tf.div(queries, sigma) as tf.Tensor2D;
  const k = tf.div(keys, sigma) as tf.Tensor2D;
  if (dims === 1) {
    return tf.squaredDifference(q, tf.reshape(k, [1, -1])) as tf.Tensor2D;
  }
  if (dims <= DIRECT_MAX_DIMS) {
    const qCols = tf.split(q, dims, 1);
    const kRows = tf.split(tf.transpose(k), dims, 0);
    let sum: tf.Tensor = tf.squaredDifference(qCols[0] as tf.Tensor, kRows[0] as tf.Tensor);
    for (let j = 1; j < dims; j++) {
      sum = tf.add(sum, tf.squaredDifference(qCols[j] as tf.Tensor, kRows[j] as tf.Tensor));
    }
    return sum as tf.Tensor2D;
  }
  const c = centre ? tf.div(centre, sigma) : tf.mean(k, 0);
  const qc = tf.sub(q, c);
  const kc = tf.sub(k, c);
  const qq = tf.sum(tf.square(qc), 1, true);
  const kk = tf.reshape(tf.sum(tf.square(kc), 1), [1, -1]);
  const cross = tf.matMul(qc, kc, false, true);
  return tf.relu(tf.sub(tf.add(qq, kk), tf.mul(cross, 2))) as tf.Tensor2D;
}
