/*
 * The fused Nadaraya-Watson pooling (nadaraya_watson.h) as a TensorFlow op, for the tensorflow
 * backend (@tensorflow/tfjs-node):
 *
 *   AttentionPoolingNadarayaWatson(queries [m, d], keys_t [d, n], values_t [c, n], inverse_widths [d];
 *                                  profile: int) -> pooled [m, c + 1]
 *
 * and the bandwidth losses with their gradient (ap_loss_rows), for the Gaussian's fits:
 *
 *   AttentionPoolingBandwidthLoss(queries [m, d], keys_t [d, n], values_t [c, n], targets [m, c],
 *                                 self [m] (int32), inverse_widths [d]; coef: float) -> [m, d + 1]
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
enum { TF_FLOAT = 1, TF_INT32 = 3 };

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
extern void TF_OpKernelConstruction_GetAttrFloat(TF_OpKernelConstruction *, const char *name,
                                                 float *value, TF_Status *);
extern void TF_OpKernelConstruction_Failure(TF_OpKernelConstruction *, TF_Status *);
extern void TF_GetInput(TF_OpKernelContext *, int i, TF_Tensor **, TF_Status *);
extern TF_Tensor *TF_AllocateOutput(TF_OpKernelContext *, int index, int dtype, const int64_t *dims,
                                    int num_dims, size_t len, TF_Status *);
extern void TF_OpKernelContext_Failure(TF_OpKernelContext *, TF_Status *);

#define OP_NAME "AttentionPoolingNadarayaWatson"
#define LOSS_OP_NAME "AttentionPoolingBandwidthLoss"
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
  /* The loss op's: targets [m, cols], self [m], coef; NULL targets for the pooling op. */
  const float *targets;
  const int32_t *self;
  float coef;
} Job;

static void *run_job(void *arg) {
  Job *job = (Job *)arg;
  const size_t dims = (size_t)job->dims, cols = (size_t)job->cols;
  float *scratch = (float *)malloc(sizeof(float) * AP_BLOCK * (dims + 1));
  double *acc = (double *)malloc(sizeof(double) * (cols + dims + cols * dims + 1));
  if (scratch == NULL || acc == NULL) {
    __atomic_store_n(&job->failed, 1, __ATOMIC_RELAXED);
  } else {
    for (;;) {
      const int begin = __atomic_fetch_add(&job->next, ROWS_PER_BATCH, __ATOMIC_RELAXED);
      if (begin >= job->m) break;
      const int end = begin + ROWS_PER_BATCH < job->m ? begin + ROWS_PER_BATCH : job->m;
      if (job->targets == NULL)
        ap_pool_rows(job->profile, job->n, job->dims, job->cols, job->queries, job->keys_t, job->values_t,
                     job->inverse, job->out, begin, end, scratch, acc);
      else
        ap_loss_rows(job->n, job->dims, job->cols, job->coef, job->queries, job->keys_t, job->values_t,
                     job->targets, job->self, job->inverse, job->out, begin, end, scratch, acc);
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

static void *create_loss(TF_OpKernelConstruction *ctx) {
  float *coef = (float *)malloc(sizeof(float));
  TF_Status *status = TF_NewStatus();
  TF_OpKernelConstruction_GetAttrFloat(ctx, "coef", coef, status);
  if (TF_GetCode(status) == TF_OK && !(*coef < 0))
    TF_SetStatus(status, TF_INVALID_ARGUMENT, LOSS_OP_NAME ": coef must be negative");
  if (TF_GetCode(status) != TF_OK) TF_OpKernelConstruction_Failure(ctx, status);
  TF_DeleteStatus(status);
  return coef;
}

static void destroy(void *kernel) { free(kernel); }

static void fail(TF_OpKernelContext *ctx, TF_Status *status, int code, const char *message) {
  TF_SetStatus(status, code, message);
  TF_OpKernelContext_Failure(ctx, status);
}

/* Runs a job's rows on one thread per processor (one, for fewer than PARALLEL_PAIRS pairs). */
static int run_threads(Job *job) {
  int threads = processors();
  if ((double)job->m * (double)job->n < PARALLEL_PAIRS) threads = 1;
  if (threads > job->m) threads = job->m;
  /* This thread works too; helpers that cannot start leave their share to the others. */
  pthread_t ids[MAX_THREADS];
  int started[MAX_THREADS] = {0};
  for (int t = 1; t < threads; t++) started[t] = pthread_create(&ids[t], NULL, run_job, job) == 0;
  run_job(job);
  for (int t = 1; t < threads; t++)
    if (started[t]) pthread_join(ids[t], NULL);
  return job->failed;
}

#define MAX_INPUTS 6

/* Reads `count` inputs of the given types and ranks; on failure reports it and returns 0. */
static int read_inputs(TF_OpKernelContext *ctx, TF_Status *status, TF_Tensor **in, int count,
                       const int *types, const int *ranks, const char *message) {
  for (int i = 0; i < count; i++) {
    TF_GetInput(ctx, i, &in[i], status);
    if (TF_GetCode(status) != TF_OK) {
      TF_OpKernelContext_Failure(ctx, status);
      return 0;
    }
    if (TF_TensorType(in[i]) != types[i] || TF_NumDims(in[i]) != ranks[i]) {
      fail(ctx, status, TF_INVALID_ARGUMENT, message);
      return 0;
    }
  }
  return 1;
}

static void compute(void *kernel, TF_OpKernelContext *ctx) {
  const int profile = *(int32_t *)kernel;
  TF_Status *status = TF_NewStatus();
  TF_Tensor *in[MAX_INPUTS] = {NULL};
  TF_Tensor *output = NULL;
  static const int types[4] = {TF_FLOAT, TF_FLOAT, TF_FLOAT, TF_FLOAT}, ranks[4] = {2, 2, 2, 1};
  if (!read_inputs(ctx, status, in, 4, types, ranks,
                   OP_NAME ": expects float32 queries [m, d], keys [d, n], values [c, n], widths [d]"))
    goto done;
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
  Job job = {profile, (int)n, (int)dims, (int)cols, (int)m,
             (const float *)TF_TensorData(in[0]), (const float *)TF_TensorData(in[1]),
             (const float *)TF_TensorData(in[2]), (const float *)TF_TensorData(in[3]),
             (float *)TF_TensorData(output), 0, 0, NULL, NULL, 0.0f};
  if (run_threads(&job)) fail(ctx, status, TF_RESOURCE_EXHAUSTED, OP_NAME ": out of memory for scratch space");

done:
  for (int i = 0; i < MAX_INPUTS; i++)
    if (in[i] != NULL) TF_DeleteTensor(in[i]);
  if (output != NULL) TF_DeleteTensor(output);
  TF_DeleteStatus(status);
}

static void compute_loss(void *kernel, TF_OpKernelContext *ctx) {
  const float coef = *(float *)kernel;
  TF_Status *status = TF_NewStatus();
  TF_Tensor *in[MAX_INPUTS] = {NULL};
  TF_Tensor *output = NULL;
  static const int types[6] = {TF_FLOAT, TF_FLOAT, TF_FLOAT, TF_FLOAT, TF_INT32, TF_FLOAT},
                   ranks[6] = {2, 2, 2, 2, 1, 1};
  if (!read_inputs(ctx, status, in, 6, types, ranks,
                   LOSS_OP_NAME ": expects float32 queries [m, d], keys [d, n], values [c, n], targets [m, c], "
                                "int32 self [m], float32 widths [d]"))
    goto done;
  const int64_t m = TF_Dim(in[0], 0), dims = TF_Dim(in[0], 1), n = TF_Dim(in[1], 1),
                cols = TF_Dim(in[2], 0);
  if (TF_Dim(in[1], 0) != dims || TF_Dim(in[2], 1) != n || TF_Dim(in[3], 0) != m || TF_Dim(in[3], 1) != cols ||
      TF_Dim(in[4], 0) != m || TF_Dim(in[5], 0) != dims || dims < 1 || n < 1 || n > INT32_MAX ||
      m > INT32_MAX || cols > INT32_MAX) {
    fail(ctx, status, TF_INVALID_ARGUMENT, LOSS_OP_NAME ": shapes do not match");
    goto done;
  }
  const int32_t *self = (const int32_t *)TF_TensorData(in[4]);
  for (int64_t i = 0; i < m; i++) {
    if (self[i] < -1 || self[i] >= n) {
      fail(ctx, status, TF_INVALID_ARGUMENT, LOSS_OP_NAME ": a left-out key index is out of range");
      goto done;
    }
  }
  const int64_t out_dims[2] = {m, dims + 1};
  output = TF_AllocateOutput(ctx, 0, TF_FLOAT, out_dims, 2, sizeof(float) * (size_t)(m * (dims + 1)), status);
  if (TF_GetCode(status) != TF_OK) {
    TF_OpKernelContext_Failure(ctx, status);
    goto done;
  }
  if (m == 0) goto done;
  Job job = {0, (int)n, (int)dims, (int)cols, (int)m,
             (const float *)TF_TensorData(in[0]), (const float *)TF_TensorData(in[1]),
             (const float *)TF_TensorData(in[2]), (const float *)TF_TensorData(in[5]),
             (float *)TF_TensorData(output), 0, 0, (const float *)TF_TensorData(in[3]), self, coef};
  if (run_threads(&job)) fail(ctx, status, TF_RESOURCE_EXHAUSTED, LOSS_OP_NAME ": out of memory for scratch space");

done:
  for (int i = 0; i < MAX_INPUTS; i++)
    if (in[i] != NULL) TF_DeleteTensor(in[i]);
  if (output != NULL) TF_DeleteTensor(output);
  TF_DeleteStatus(status);
}

/* Set when registration failed: require() then throws with it (see napi_register_module_v1). */
static const char *registration_error = NULL;

static void register_one(const char *name, const char *const *inputs, int count, const char *attr,
                         void *(*create_fn)(TF_OpKernelConstruction *),
                         void (*compute_fn)(void *, TF_OpKernelContext *), const char *kernel_name) {
  TF_Status *status = TF_NewStatus();
  TF_OpDefinitionBuilder *op = TF_NewOpDefinitionBuilder(name);
  for (int i = 0; i < count; i++) TF_OpDefinitionBuilderAddInput(op, inputs[i]);
  TF_OpDefinitionBuilderAddAttr(op, attr);
  TF_OpDefinitionBuilderAddOutput(op, "out: float");
  TF_OpDefinitionBuilderSetShapeInferenceFunction(op, TF_ShapeInferenceContextSetUnknownShape);
  TF_RegisterOpDefinition(op, status);
  if (TF_GetCode(status) != TF_OK) {
    registration_error = "TensorFlow refused an op definition of attention-pooling (is another copy loaded?)";
  } else {
    TF_KernelBuilder *builder = TF_NewKernelBuilder(name, "CPU", create_fn, compute_fn, destroy);
    TF_RegisterKernelBuilder(kernel_name, builder, status);
    if (TF_GetCode(status) != TF_OK) registration_error = "TensorFlow refused a CPU kernel of attention-pooling";
  }
  TF_DeleteStatus(status);
}

__attribute__((constructor)) static void register_ops(void) {
  static const char *const pool_inputs[] = {"queries: float", "keys_t: float", "values_t: float",
                                            "inverse_widths: float"};
  static const char *const loss_inputs[] = {"queries: float", "keys_t: float", "values_t: float",
                                            "targets: float", "self: int32", "inverse_widths: float"};
  register_one(OP_NAME, pool_inputs, 4, "profile: int", create, compute, OP_NAME "Cpu");
  if (registration_error == NULL)
    register_one(LOSS_OP_NAME, loss_inputs, 6, "coef: float", create_loss, compute_loss, LOSS_OP_NAME "Cpu");
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
