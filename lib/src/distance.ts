/**
 * Scaled squared distances r²[i, j] = Σ_d ((q[i, d] − k[j, d]) / σ_d)², the quantity every
 * radial kernel is a function of.
 */
import * as tf from "@tensorflow/tfjs-core";

/** Up to this many dimensions, differences are formed per dimension (exact); above, by matmul. */
export const DIRECT_MAX_DIMS = 4;

/**
 * Scaled squared distances between queries `[m, d]` and keys `[n, d]`, shape `[m, n]`.
 *
 * `sigma` is a scalar or `[d]` tensor, so the result can be differentiated in σ. For
 * d ≤ {@link DIRECT_MAX_DIMS} the differences are formed directly, one fused squared-difference
 * pass per dimension, which is exact and translation invariant in float32. Above that the
 * expansion ‖q‖² + ‖k‖² − 2 q·k is used, after centring both sets on `centre` (the keys' mean)
 * to limit cancellation; it is clamped at 0.
 */
export function scaledSquaredDistances(
  queries: tf.Tensor2D,
  keys: tf.Tensor2D,
  sigma: tf.Tensor,
  centre?: tf.Tensor,
): tf.Tensor2D {
  return tf.tidy(() => {
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
  });
}
