/*
 * The fused Nadaraya-Watson pooling (nadaraya_watson.h) as a WebAssembly module with 128-bit SIMD,
 * for the wasm backend. It imports nothing and exports its memory and one function; lib/src/fused.ts
 * lays the arrays out in that memory, from `__heap_base` on, and reads the result back. Two
 * functions: `pool` (predictions) and `loss` (bandwidth losses with their gradient).
 *
 * Built by `npm run native -- wasm` (scripts/native.ts) with clang for wasm32; the built module,
 * lib/native/nadaraya_watson.wasm, is committed with a hash of the sources it came from.
 */
/* On WebAssembly a pass for each block's smallest r² costs less than starting blocks again. */
#define AP_LAZY_SHIFT 0
#include "nadaraya_watson.h"

/* The compiler may call these for block copies and zeroing; there is no C library here. */
void *memset(void *dest, int value, unsigned long count) {
  unsigned char *d = (unsigned char *)dest;
  for (unsigned long i = 0; i < count; i++) d[i] = (unsigned char)value;
  return dest;
}

void *memcpy(void *dest, const void *src, unsigned long count) {
  unsigned char *d = (unsigned char *)dest;
  const unsigned char *s = (const unsigned char *)src;
  for (unsigned long i = 0; i < count; i++) d[i] = s[i];
  return dest;
}

void *memmove(void *dest, const void *src, unsigned long count) {
  unsigned char *d = (unsigned char *)dest;
  const unsigned char *s = (const unsigned char *)src;
  if (d < s) {
    for (unsigned long i = 0; i < count; i++) d[i] = s[i];
  } else {
    for (unsigned long i = count; i > 0; i--) d[i - 1] = s[i - 1];
  }
  return dest;
}

/*
 * Pools every query: queries [m, dims], keys_t [dims, n], values_t [cols, n], inverse [dims],
 * out [m, cols + 1]; scratch holds AP_BLOCK floats and acc cols doubles (8-byte aligned).
 */
__attribute__((export_name("pool"))) void pool(int profile, int n, int dims, int cols, int m,
                                               const float *queries, const float *keys_t,
                                               const float *values_t, const float *inverse, float *out,
                                               float *scratch, double *acc) {
  ap_pool_rows(profile, n, dims, cols, queries, keys_t, values_t, inverse, out, 0, m, scratch, acc);
}

/*
 * Bandwidth losses per query (see ap_loss_rows): queries [m, dims], keys_t [dims, n], values_t
 * [cols, n], targets [m, cols], self [m] (−1: no key left out), inverse [dims], out [m, dims + 1];
 * scratch holds (dims + 1) · AP_BLOCK floats and acc cols + dims + cols · dims doubles.
 */
__attribute__((export_name("loss"))) void loss(int n, int dims, int cols, int m, float coef,
                                               const float *queries, const float *keys_t,
                                               const float *values_t, const float *targets,
                                               const int32_t *self, const float *inverse, float *out,
                                               float *scratch, double *acc) {
  ap_loss_rows(n, dims, cols, coef, queries, keys_t, values_t, targets, self, inverse, out, 0, m, scratch, acc);
}
