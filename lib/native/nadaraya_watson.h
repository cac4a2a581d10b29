/*
 * Fused Nadaraya-Watson pooling: one pass over the keys per query, no [m, n] matrix in memory.
 *
 * For query i and every key j, with r²_ij = Σ_e ((q_ie − k_je) / σ_e)²:
 *
 *   w_ij = k(r²_ij)                                 compact and constant kernels (weights are 0 or
 *                                                   bounded away from 0, so they are summed as they are)
 *   w_ij = exp(−(r²_ij − min_j r²_ij) / 2)          the Gaussian (scaled so the nearest key weighs 1:
 *                                                   no query's weights can all underflow)
 *
 *   out[i, c] = Σ_j w_ij v_jc / Σ_j w_ij   for each value column c,   out[i, C] = Σ_j w_ij.
 *
 * A query with no key in a compact support gets Σ w = 0 and NaN predictions; the caller applies
 * its empty-query policy. Normalising constants are left out: they cancel.
 *
 * Numerics: weights in float32 (the exponential within 2 ulp, see ap_exp2), summed in float32
 * over blocks of AP_BLOCK keys in AP_LANES independent lanes (AP_BLOCK / AP_LANES = 32 terms
 * each), and the blocks' sums added in float64. Each prediction is a float64 quotient rounded
 * once to float32.
 *
 * The same source is compiled natively (a TensorFlow op for the tensorflow backend, see
 * tensorflow_op.c) and to WebAssembly with SIMD (see wasm.c). The loops are plain C written so
 * that compilers vectorise them: no calls, no branches but selects, fixed-width lane sums.
 */
#ifndef ATTENTION_POOLING_NADARAYA_WATSON_H
#define ATTENTION_POOLING_NADARAYA_WATSON_H

#include <stdint.h>

/* Kernel profiles, numbered as the kernel table's `fusedProfile` field (lib/src/kernels.ts). */
enum {
  AP_GAUSSIAN = 0,     /* exp(−r²/2) */
  AP_CONSTANT = 1,     /* 1 */
  AP_BOXCAR = 2,       /* 1 for r < 1 */
  AP_TRIANGULAR = 3,   /* (1 − r)₊ */
  AP_EPANECHNIKOV = 4, /* (1 − r²)₊ */
  AP_BIWEIGHT = 5,     /* (1 − r²)₊² */
  AP_TRICUBE = 6,      /* (1 − r³)₊³ */
  AP_COSINE = 7,       /* cos(πr/2) for r < 1 */
  AP_PROFILES = 8
};

/*
 * 1: the Gaussian's shift is set by the first block and revised only when a block's weights blow
 * up (see ap_pool_rows); 0: every block's smallest r² is found first. Measured on one thread at
 * 4096² (CPU time per pair): native x86-64-v3 0.66 ns lazily against 0.75; WebAssembly 1.76 against
 * 1.55. So tensorflow_op.c builds with 1 and wasm.c with 0.
 */
#ifndef AP_LAZY_SHIFT
#define AP_LAZY_SHIFT 1
#endif

/* Keys per block: sums within a block are float32, across blocks float64. */
#define AP_BLOCK 256
/* Independent partial sums per block (a multiple of the widest SIMD width, 8 floats). */
#define AP_LANES 8

/* Where the row loop is compiled for several instruction sets, the helpers must be inlined into it. */
#ifndef AP_TARGET
#define AP_TARGET
#endif
#define AP_INLINE static inline __attribute__((always_inline))

AP_INLINE float ap_bits_to_float(uint32_t bits) {
  float f;
  __builtin_memcpy(&f, &bits, sizeof f);
  return f;
}

AP_INLINE uint32_t ap_float_to_bits(float f) {
  uint32_t bits;
  __builtin_memcpy(&bits, &f, sizeof bits);
  return bits;
}

/*
 * 2^y for y ≤ 64 (larger y give 2^64), within 2 ulp: y = n + f with n the nearest integer and
 * |f| ≤ 1/2, 2^f by its Taylor polynomial of degree 6 (error 1.2e-7 at |f| = 1/2), 2^n built in
 * the exponent bits. Adding 1.5·2²³ to y rounds it to n, which then sits in the sum's low mantissa
 * bits, so 2^n needs no float-to-integer conversion: (bits + 127) << 23 drops the rest. Below −126
 * the result would be subnormal (or its bits garbage): 0 is returned. The Gaussian's weights are
 * 2^(c log₂e (r² − min r²)), which needs no two-part reduction of the argument as e^x does.
 */
AP_INLINE float ap_exp2(float y) {
  const float round = 12582912.0f;
#if AP_LAZY_SHIFT
  y = y < 64.0f ? y : 64.0f; /* weights against a stale shift can exceed 1 */
#endif
  const float t = y + round;
  const float f = y - (t - round);
  float p = 1.5403530393381610e-4f;
  p = p * f + 1.3333558146428443e-3f;
  p = p * f + 9.6181291076284772e-3f;
  p = p * f + 5.5504108664821580e-2f;
  p = p * f + 2.4022650695910071e-1f;
  p = p * f + 6.9314718055994531e-1f;
  p = p * f + 1.0f;
  const float scale = ap_bits_to_float((ap_float_to_bits(t) + 127u) << 23);
  return y < -126.0f ? 0.0f : p * scale;
}

/* sin(πs/2) for s in [0, 1]: the odd Taylor series of sin x at x = πs/2 to x¹³ (error below 1e-9). */
AP_INLINE float ap_sin_half_pi(float s) {
  float x = 1.57079632679489662f * s;
  float z = x * x;
  float p = 1.6059043836821613e-10f;
  p = p * z - 2.5052108385441720e-8f;
  p = p * z + 2.7557319223985893e-6f;
  p = p * z - 1.9841269841269841e-4f;
  p = p * z + 8.3333333333333333e-3f;
  p = p * z - 1.6666666666666667e-1f;
  return x + x * z * p;
}

/* Scaled squared distances of one query to keys [j0, j0 + len): t[j] = Σ_e ((q_e − k_e,j) σ_e⁻¹)². */
AP_INLINE void ap_distances(int dims, int len, const float *q, const float *keys_t, int n, int j0,
                            const float *inverse, float *restrict t) {
  const float *restrict row = keys_t + j0;
  const float q0 = q[0], s0 = inverse[0];
  for (int j = 0; j < len; j++) {
    float u = (q0 - row[j]) * s0;
    t[j] = u * u;
  }
  for (int e = 1; e < dims; e++) {
    row = keys_t + (int64_t)e * n + j0;
    const float qe = q[e], se = inverse[e];
    for (int j = 0; j < len; j++) {
      float u = (qe - row[j]) * se;
      t[j] += u * u;
    }
  }
}

/* The kernel profiles' weights from a squared distance t (unnormalised); `shift` is min r² (Gaussian). */
#define AP_W_GAUSSIAN(t) ap_exp2(0.72134752044448170f * (shift - (t))) /* ½ log₂e (min r² − r²) */
#define AP_W_CONSTANT(t) ((void)(t), 1.0f)
#define AP_W_BOXCAR(t) ((t) < 1.0f ? 1.0f : 0.0f)
#define AP_W_TRIANGULAR(t) ((t) < 1.0f ? 1.0f - __builtin_sqrtf(t) : 0.0f)
#define AP_W_EPANECHNIKOV(t) ((t) < 1.0f ? 1.0f - (t) : 0.0f)
#define AP_W_BIWEIGHT(t) ((t) < 1.0f ? (1.0f - (t)) * (1.0f - (t)) : 0.0f)
#define AP_W_TRICUBE(t) ((t) < 1.0f ? ap_cube(1.0f - (t) * __builtin_sqrtf(t)) : 0.0f)
#define AP_W_COSINE(t) ((t) < 1.0f ? ap_sin_half_pi(1.0f - __builtin_sqrtf(t)) : 0.0f)

AP_INLINE float ap_cube(float u) { return u * u * u; }

/* Expands X(profile, weight macro) once per kernel profile but the Gaussian (which needs its shift). */
#define AP_FOR_EACH_PROFILE(X)                                                                   \
  X(AP_CONSTANT, AP_W_CONSTANT)                                                                  \
  X(AP_BOXCAR, AP_W_BOXCAR)                                                                      \
  X(AP_TRIANGULAR, AP_W_TRIANGULAR)                                                              \
  X(AP_EPANECHNIKOV, AP_W_EPANECHNIKOV)                                                          \
  X(AP_BIWEIGHT, AP_W_BIWEIGHT)                                                                  \
  X(AP_TRICUBE, AP_W_TRICUBE)                                                                    \
  X(AP_COSINE, AP_W_COSINE)

/* Adds AP_LANES float32 lanes into a float64 sum. */
#define AP_LANE_TOTAL(lanes, into)                                                               \
  do {                                                                                           \
    for (int l_ = 0; l_ < AP_LANES; l_++) (into) += (lanes)[l_];                                  \
  } while (0)

/* Σ_j w[j] x[j] over one block, in AP_LANES float32 lanes, returned in float64. */
AP_INLINE double ap_dot(int len, const float *restrict w, const float *restrict x) {
  float lane[AP_LANES] = {0};
  int j = 0;
  for (; j + AP_LANES <= len; j += AP_LANES)
    for (int l = 0; l < AP_LANES; l++) lane[l] += w[j + l] * x[j + l];
  double sum = 0;
  AP_LANE_TOTAL(lane, sum);
  for (; j < len; j++) sum += (double)w[j] * x[j];
  return sum;
}

/* The smallest of t[0..len). */
AP_INLINE float ap_min(int len, const float *restrict t) {
  float lane[AP_LANES];
  for (int l = 0; l < AP_LANES; l++) lane[l] = __builtin_inff();
  int j = 0;
  for (; j + AP_LANES <= len; j += AP_LANES)
    for (int l = 0; l < AP_LANES; l++) lane[l] = t[j + l] < lane[l] ? t[j + l] : lane[l];
  float best = __builtin_inff();
  for (int l = 0; l < AP_LANES; l++) best = lane[l] < best ? lane[l] : best;
  for (; j < len; j++) best = t[j] < best ? t[j] : best;
  return best;
}

/* Σ_j w[j] over one block, in AP_LANES float32 lanes, returned in float64. */
AP_INLINE double ap_sum(int len, const float *restrict w) {
  float lane[AP_LANES] = {0};
  int j = 0;
  for (; j + AP_LANES <= len; j += AP_LANES)
    for (int l = 0; l < AP_LANES; l++) lane[l] += w[j + l];
  double sum = 0;
  AP_LANE_TOTAL(lane, sum);
  for (; j < len; j++) sum += w[j];
  return sum;
}

/*
 * One query's block of keys [j0, j0 + len): the weights into w (one elementwise pass, from the
 * distances computed in the same pass in one dimension), then their sum into *total and their
 * products with each value column into acc.
 */
#define AP_BLOCK_CASE(PROFILE, WEIGHT)                                                           \
  case PROFILE: {                                                                                \
    if (dims == 1) {                                                                             \
      const float *restrict row = keys_t + j0;                                                   \
      const float q0 = q[0], s0 = inverse[0];                                                    \
      for (int j = 0; j < len; j++) {                                                            \
        float u = (q0 - row[j]) * s0;                                                            \
        w[j] = WEIGHT(u * u);                                                                    \
      }                                                                                          \
    } else {                                                                                     \
      ap_distances(dims, len, q, keys_t, n, j0, inverse, w);                                     \
      for (int j = 0; j < len; j++) w[j] = WEIGHT(w[j]);                                         \
    }                                                                                            \
    break;                                                                                       \
  }

/*
 * Pools queries [row_begin, row_end).
 *
 *   queries  [m, dims] row-major        keys_t   [dims, n] (keys transposed)
 *   values_t [cols, n] (transposed)     inverse  [dims]: 1/σ_e
 *   out      [m, cols + 1]: the predictions, then Σ w
 *   w        AP_BLOCK floats of scratch; acc: cols doubles
 *
 * The Gaussian's shift is the smallest r² seen so far, as in an online softmax: when it falls, the
 * sums so far are rescaled by exp((new − old shift)/2), which changes numerator and denominator
 * alike. With AP_LAZY_SHIFT it is set by the first block and weights are taken against it (one
 * pass per block, r² and weight together in one dimension; weights above 1 are fine); only a
 * block whose weights pass 2^52, a key far nearer than the shift, is done again with its own
 * smallest r². Without, every block's smallest r² is found first. Either way keys more than 87
 * (in r²/2) beyond the final shift, whose weights would be subnormal, count as 0.
 */
AP_TARGET static void ap_pool_rows(int profile, int n, int dims, int cols, const float *queries,
                                   const float *keys_t, const float *values_t, const float *inverse,
                                   float *out, int row_begin, int row_end, float *restrict w,
                                   double *acc) {
  for (int i = row_begin; i < row_end; i++) {
    const float *q = queries + (int64_t)i * dims;
    float shift = __builtin_inff();
    double total = 0;
    for (int c = 0; c < cols; c++) acc[c] = 0;
    for (int j0 = 0; j0 < n; j0 += AP_BLOCK) {
      const int len = n - j0 < AP_BLOCK ? n - j0 : AP_BLOCK;
      if (profile == AP_GAUSSIAN) {
        double block = -1;
#if AP_LAZY_SHIFT
        if (shift < __builtin_inff()) {
          /* Weights against the shift so far, r² computed in the same pass in one dimension. */
          if (dims == 1) {
            const float *restrict row = keys_t + j0;
            const float q0 = q[0], s0 = inverse[0];
            for (int j = 0; j < len; j++) {
              const float u = (q0 - row[j]) * s0;
              w[j] = AP_W_GAUSSIAN(u * u);
            }
          } else {
            ap_distances(dims, len, q, keys_t, n, j0, inverse, w);
            for (int j = 0; j < len; j++) w[j] = AP_W_GAUSSIAN(w[j]);
          }
          block = ap_sum(len, w);
          /* A key far nearer than the shift (a weight past 2^52, capped at 2^64): start the block again. */
          if (!(block <= 0x1p60)) block = -1;
        }
#endif
        if (block < 0) {
          ap_distances(dims, len, q, keys_t, n, j0, inverse, w);
          const float nearest = ap_min(len, w);
          if (!(nearest < __builtin_inff())) continue; /* every r² overflowed: no weight here */
          if (nearest < shift) {
            if (shift < __builtin_inff()) {
              const double f = ap_exp2(0.72134752044448170f * (nearest - shift));
              total *= f;
              for (int c = 0; c < cols; c++) acc[c] *= f;
            }
            shift = nearest;
          }
          for (int j = 0; j < len; j++) w[j] = AP_W_GAUSSIAN(w[j]);
          block = ap_sum(len, w);
        }
        total += block;
        for (int c = 0; c < cols; c++) acc[c] += ap_dot(len, w, values_t + (int64_t)c * n + j0);
        continue;
      } else {
        switch (profile) {
          AP_FOR_EACH_PROFILE(AP_BLOCK_CASE)
          default:
            break;
        }
      }
      total += ap_sum(len, w);
      for (int c = 0; c < cols; c++) acc[c] += ap_dot(len, w, values_t + (int64_t)c * n + j0);
    }
    float *o = out + (int64_t)i * (cols + 1);
    for (int c = 0; c < cols; c++) o[c] = (float)(acc[c] / total);
    o[cols] = (float)total;
  }
}

/*
 * The bandwidth losses of a kernel with log k = coef·r² (the Gaussian: coef = −1/2), per query,
 * with their gradient in log σ: for query i with target y_i (a row of `targets`) and, for
 * leave-one-out, its own key `self[i]` left out (−1: none),
 *
 *   f_i = Σ_j w_ij v_j / S_i,  w_ij = exp(coef (r²_ij − min_j r²_ij)),  S_i = Σ_j w_ij,
 *   out[i, 0]     = ‖f_i − y_i‖²,
 *   out[i, 1 + e] = ∂‖f_i − y_i‖² / ∂log σ_e = Σ_c 2 (f_ic − y_ic) (A_ice − f_ic B_ie) / S_i · (−2 coef),
 *
 * with B_ie = Σ_j w_ij u²_ije and A_ice = Σ_j w_ij u²_ije v_jc, u_ije = (q_ie − k_je)/σ_e (from
 * ∂ log w_ij / ∂log σ_e = −2 coef u²_ije). Sums as in ap_pool_rows: float32 lanes per block, float64
 * across blocks, the shift tracked block by block.
 *
 *   scratch: (dims + 1) · AP_BLOCK floats; acc: cols + dims + cols · dims doubles
 */
AP_TARGET static void ap_loss_rows(int n, int dims, int cols, float coef, const float *queries,
                                   const float *keys_t, const float *values_t, const float *targets,
                                   const int32_t *self, const float *inverse, float *out, int row_begin,
                                   int row_end, float *restrict scratch, double *acc) {
  float *restrict w = scratch;                  /* the block's r², then its weights */
  float *restrict parts = scratch + AP_BLOCK;   /* u²_e per dimension, AP_BLOCK each */
  double *pooled = acc;                          /* Σ w v_c */
  double *spread = acc + cols;                   /* B_e = Σ w u²_e */
  double *moment = acc + cols + dims;            /* A_ce = Σ w u²_e v_c, at c * dims + e */
  for (int i = row_begin; i < row_end; i++) {
    const float *q = queries + (int64_t)i * dims;
    const int own = self[i];
    float shift = __builtin_inff();
    double total = 0;
    for (int c = 0; c < cols + dims + cols * dims; c++) acc[c] = 0;
    for (int j0 = 0; j0 < n; j0 += AP_BLOCK) {
      const int len = n - j0 < AP_BLOCK ? n - j0 : AP_BLOCK;
      for (int e = 0; e < dims; e++) {
        const float *restrict row = keys_t + (int64_t)e * n + j0;
        float *restrict part = parts + e * AP_BLOCK;
        const float qe = q[e], se = inverse[e];
        for (int j = 0; j < len; j++) {
          float u = (qe - row[j]) * se;
          part[j] = u * u;
        }
      }
      for (int j = 0; j < len; j++) w[j] = parts[j];
      for (int e = 1; e < dims; e++)
        for (int j = 0; j < len; j++) w[j] += parts[e * AP_BLOCK + j];
      if (own >= j0 && own < j0 + len) w[own - j0] = __builtin_inff(); /* left out */
      const float nearest = ap_min(len, w);
      if (!(nearest < __builtin_inff())) continue;
      if (nearest < shift) {
        if (shift < __builtin_inff()) {
          const double f = ap_exp2(coef * 1.44269504088896341f * (shift - nearest));
          total *= f;
          for (int c = 0; c < cols + dims + cols * dims; c++) acc[c] *= f;
        }
        shift = nearest;
      }
      const float scale = coef * 1.44269504088896341f; /* coef · log₂e */
      for (int j = 0; j < len; j++) w[j] = ap_exp2(scale * (w[j] - shift));
      total += ap_sum(len, w);
      for (int c = 0; c < cols; c++) pooled[c] += ap_dot(len, w, values_t + (int64_t)c * n + j0);
      for (int e = 0; e < dims; e++) {
        float *restrict part = parts + e * AP_BLOCK;
        for (int j = 0; j < len; j++) part[j] *= w[j]; /* w u²_e */
        spread[e] += ap_sum(len, part);
        for (int c = 0; c < cols; c++)
          moment[c * dims + e] += ap_dot(len, part, values_t + (int64_t)c * n + j0);
      }
    }
    float *o = out + (int64_t)i * (dims + 1);
    const float *y = targets + (int64_t)i * cols;
    double loss = 0;
    for (int e = 0; e < dims; e++) o[1 + e] = 0;
    for (int c = 0; c < cols; c++) {
      const double f = pooled[c] / total;
      const double r = f - y[c];
      loss += r * r;
      for (int e = 0; e < dims; e++)
        o[1 + e] += (float)(2.0 * r * (moment[c * dims + e] - f * spread[e]) / total * (-2.0 * coef));
    }
    o[0] = (float)loss;
  }
}

#endif
