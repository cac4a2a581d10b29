/*
 * The fused Nadaraya-Watson pooling (nadaraya_watson.h) as a TensorFlow op, for the tensorflow
 * backend (@tensorflow/tfjs-node):
 *
 *   AttentionPoolingNadarayaWatson(queries [m, d], keys_t [d, n], values_t [c, n], inverse_widths [d];
 *                                  profile: int) -> pooled [m, c + 1]
 *
 * Loading this library (it is also a Node.js addon with no exports) registers the op and its CPU
 * kernel with the TensorFlow runtime that tfjs-node already loaded; tfjs-node then runs it by name.
 * Only TensorFlow's stable C API is used, declared below, so no TensorFlow headers are needed:
 * `npm run tfjs-node` builds it with the system C compiler (see scripts/native.ts).
 *
 * Queries are shared among threads, one per online processor (at most 16), when the call has at
 * least 2^18 pairs.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
/* The row loop is built twice, for x86-64-v3 (AVX2, FMA) and the baseline, chosen at load time. */
#define AP_TARGET __attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
#include "nadaraya_watson.h"

/* TensorFlow's C API (tensorflow/c/c_api.h, kernels.h, ops.h, tf_tensor.h, tf_status.h). */
typedef struct TF_Status TF_Status;
typedef struct TF_Tensor TF_Tensor;
typedef struct TF_OpKernelConstruction TF_OpKernelConstruction;
typedef struct TF_OpKernelContext TF_OpKernelContext;
typedef struct TF_KernelBuilder TF_KernelBuilder;
typedef struct TF_OpDefinitionBuilder TF_OpDefinitionBuilder;
typedef struct TF_ShapeInferenceContext TF_ShapeInferenceContext;
enum { TF_OK = 0, TF_INVALID_ARGUMENT = 3, TF_RESOURCE_EXHAUSTED = 8 };
enum { TF_FLOAT = 1 };

extern TF_Status *TF_NewStatus(void);
extern void TF_DeleteStatus(TF_Status *);
extern int TF_GetCode(const TF_Status *);
extern void TF_SetStatus(TF_Status *, int code, const char *msg);
extern int TF_NumDims(const TF_Tensor *);
extern int64_t TF_Dim(const TF_Tensor *, int dim_index);
extern void *TF_TensorData(const TF_Tensor *);
extern int TF_TensorType(const TF_Tensor *);
extern void TF_DeleteTensor(TF_Tensor *);
extern TF_OpDefinitionBuilder *TF_NewOpDefinitionBuilder(const char *op_name);
extern void TF_OpDefinitionBuilderAddInput(TF_OpDefinitionBuilder *, const char *input_spec);
extern void TF_OpDefinitionBuilderAddOutput(TF_OpDefinitionBuilder *, const char *output_spec);
extern void TF_OpDefinitionBuilderAddAttr(TF_OpDefinitionBuilder *, const char *attr_spec);
extern void TF_OpDefinitionBuilderSetShapeInferenceFunction(
    TF_OpDefinitionBuilder *, void (*fn)(TF_ShapeInferenceContext *, TF_Status *));
extern void TF_ShapeInferenceContextSetUnknownShape(TF_ShapeInferenceContext *, TF_Status *);
extern void TF_RegisterOpDefinition(TF_OpDefinitionBuilder *, TF_Status *);
extern TF_KernelBuilder *TF_NewKernelBuilder(const char *op_name, const char *device_name,
                                             void *(*create)(TF_OpKernelConstruction *),
                                             void (*compute)(void *, TF_OpKernelContext *),
                                             void (*destroy)(void *));
extern void TF_RegisterKernelBuilder(const char *kernel_name, TF_KernelBuilder *, TF_Status *);
extern void TF_OpKernelConstruction_GetAttrInt32(TF_OpKernelConstruction *, const char *name,
                                                 int32_t *value, TF_Status *);
extern void TF_OpKernelConstruction_Failure(TF_OpKernelConstruction *, TF_Status *);
extern void TF_GetInput(TF_OpKernelContext *, int i, TF_Tensor **, TF_Status *);
extern TF_Tensor *TF_AllocateOutput(TF_OpKernelContext *, int index, int dtype, const int64_t *dims,
                                    int num_dims, size_t len, TF_Status *);
extern void TF_OpKernelContext_Failure(TF_OpKernelContext *, TF_Status *);

#define OP_NAME "AttentionPoolingNadarayaWatson"
#define MAX_THREADS 16
#define PARALLEL_PAIRS (1 << 18)

/* Rows are handed out in batches from a shared counter, so a thread the OS leaves waiting does not
 * hold the others up: whoever is running takes the next batch. */
#define ROWS_PER_BATCH 8

typedef struct {
  int profile, n, dims, cols, m;
  const float *queries, *keys_t, *values_t, *inverse;
  float *out;
  int next; /* the next unclaimed row (atomic) */
  int failed;
} Job;

static void *run_job(void *arg) {
  Job *job = (Job *)arg;
  float *scratch = (float *)malloc(sizeof(float) * AP_BLOCK);
  double *acc = (double *)malloc(sizeof(double) * ((size_t)job->cols + 1));
  if (scratch == NULL || acc == NULL) {
    __atomic_store_n(&job->failed, 1, __ATOMIC_RELAXED);
  } else {
    for (;;) {
      const int begin = __atomic_fetch_add(&job->next, ROWS_PER_BATCH, __ATOMIC_RELAXED);
      if (begin >= job->m) break;
      const int end = begin + ROWS_PER_BATCH < job->m ? begin + ROWS_PER_BATCH : job->m;
      ap_pool_rows(job->profile, job->n, job->dims, job->cols, job->queries, job->keys_t, job->values_t,
                   job->inverse, job->out, begin, end, scratch, acc);
    }
  }
  free(scratch);
  free(acc);
  return NULL;
}

static int processors(void) {
  long p = sysconf(_SC_NPROCESSORS_ONLN);
  return p < 1 ? 1 : p > MAX_THREADS ? MAX_THREADS : (int)p;
}

static void *create(TF_OpKernelConstruction *ctx) {
  int32_t *profile = (int32_t *)malloc(sizeof(int32_t));
  TF_Status *status = TF_NewStatus();
  TF_OpKernelConstruction_GetAttrInt32(ctx, "profile", profile, status);
  if (TF_GetCode(status) == TF_OK && (*profile < 0 || *profile >= AP_PROFILES))
    TF_SetStatus(status, TF_INVALID_ARGUMENT, OP_NAME ": unknown kernel profile");
  if (TF_GetCode(status) != TF_OK) TF_OpKernelConstruction_Failure(ctx, status);
  TF_DeleteStatus(status);
  return profile;
}

static void destroy(void *kernel) { free(kernel); }

static void fail(TF_OpKernelContext *ctx, TF_Status *status, int code, const char *message) {
  TF_SetStatus(status, code, message);
  TF_OpKernelContext_Failure(ctx, status);
}

static void compute(void *kernel, TF_OpKernelContext *ctx) {
  const int profile = *(int32_t *)kernel;
  TF_Status *status = TF_NewStatus();
  TF_Tensor *in[4] = {NULL, NULL, NULL, NULL};
  TF_Tensor *output = NULL;
  for (int i = 0; i < 4; i++) {
    TF_GetInput(ctx, i, &in[i], status);
    if (TF_GetCode(status) != TF_OK) {
      TF_OpKernelContext_Failure(ctx, status);
      goto done;
    }
  }
  for (int i = 0; i < 4; i++) {
    if (TF_TensorType(in[i]) != TF_FLOAT || TF_NumDims(in[i]) != (i == 3 ? 1 : 2)) {
      fail(ctx, status, TF_INVALID_ARGUMENT, OP_NAME ": expects float32 queries [m, d], keys [d, n], values [c, n], widths [d]");
      goto done;
    }
  }
  const int64_t m = TF_Dim(in[0], 0), dims = TF_Dim(in[0], 1), n = TF_Dim(in[1], 1),
                cols = TF_Dim(in[2], 0);
  if (TF_Dim(in[1], 0) != dims || TF_Dim(in[2], 1) != n || TF_Dim(in[3], 0) != dims || dims < 1 ||
      n < 1 || n > INT32_MAX || m > INT32_MAX || cols > INT32_MAX) {
    fail(ctx, status, TF_INVALID_ARGUMENT, OP_NAME ": shapes do not match");
    goto done;
  }
  const int64_t out_dims[2] = {m, cols + 1};
  output = TF_AllocateOutput(ctx, 0, TF_FLOAT, out_dims, 2, sizeof(float) * (size_t)(m * (cols + 1)), status);
  if (TF_GetCode(status) != TF_OK) {
    TF_OpKernelContext_Failure(ctx, status);
    goto done;
  }
  if (m == 0) goto done;

  int threads = processors();
  if ((double)m * (double)n < PARALLEL_PAIRS) threads = 1;
  if (threads > m) threads = (int)m;
  Job job = {profile, (int)n, (int)dims, (int)cols, (int)m,
             (const float *)TF_TensorData(in[0]), (const float *)TF_TensorData(in[1]),
             (const float *)TF_TensorData(in[2]), (const float *)TF_TensorData(in[3]),
             (float *)TF_TensorData(output), 0, 0};
  /* This thread works too; helpers that cannot start leave their share to the others. */
  pthread_t ids[MAX_THREADS];
  int started[MAX_THREADS] = {0};
  for (int t = 1; t < threads; t++) started[t] = pthread_create(&ids[t], NULL, run_job, &job) == 0;
  run_job(&job);
  for (int t = 1; t < threads; t++)
    if (started[t]) pthread_join(ids[t], NULL);
  if (job.failed) fail(ctx, status, TF_RESOURCE_EXHAUSTED, OP_NAME ": out of memory for scratch space");

done:
  for (int i = 0; i < 4; i++)
    if (in[i] != NULL) TF_DeleteTensor(in[i]);
  if (output != NULL) TF_DeleteTensor(output);
  TF_DeleteStatus(status);
}

/* Set when registration failed, for the loader's message (see attention_pooling_status below). */
static const char *registration_error = NULL;

__attribute__((constructor)) static void register_op(void) {
  TF_Status *status = TF_NewStatus();
  TF_OpDefinitionBuilder *op = TF_NewOpDefinitionBuilder(OP_NAME);
  TF_OpDefinitionBuilderAddInput(op, "queries: float");
  TF_OpDefinitionBuilderAddInput(op, "keys_t: float");
  TF_OpDefinitionBuilderAddInput(op, "values_t: float");
  TF_OpDefinitionBuilderAddInput(op, "inverse_widths: float");
  TF_OpDefinitionBuilderAddAttr(op, "profile: int");
  TF_OpDefinitionBuilderAddOutput(op, "pooled: float");
  TF_OpDefinitionBuilderSetShapeInferenceFunction(op, TF_ShapeInferenceContextSetUnknownShape);
  TF_RegisterOpDefinition(op, status);
  if (TF_GetCode(status) != TF_OK) {
    registration_error = OP_NAME ": TensorFlow refused the op definition (is another copy loaded?)";
  } else {
    TF_KernelBuilder *builder = TF_NewKernelBuilder(OP_NAME, "CPU", create, compute, destroy);
    TF_RegisterKernelBuilder(OP_NAME "Cpu", builder, status);
    if (TF_GetCode(status) != TF_OK) registration_error = OP_NAME ": TensorFlow refused the CPU kernel";
  }
  TF_DeleteStatus(status);
}

/* Node.js addon entry point (N-API): the library exports nothing, as loading it registered the op;
 * if registration failed, require() throws with the reason. */
typedef struct napi_env__ *napi_env;
typedef struct napi_value__ *napi_value;
extern int napi_throw_error(napi_env env, const char *code, const char *msg);
__attribute__((visibility("default"))) napi_value napi_register_module_v1(napi_env env, napi_value exports) {
  if (registration_error != NULL) napi_throw_error(env, NULL, registration_error);
  return exports;
}
