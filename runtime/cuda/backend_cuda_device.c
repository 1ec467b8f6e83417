/* backend_cuda_device.c - the CUDA backend as the executor and the trainer see it: the device memory
   hooks (backend.h BackendDevice: allocation, copies, the stream, timestamps) and the Backend table,
   which names the functions of backend_cuda.c (prepare, release), backend_cuda_run.c (run_node) and
   backend_cuda_train.c / backend_cuda_grad.c (training). The top of the backend: nothing calls back here. */
#include <stdlib.h>
#include "backend_cuda.h"

static void *dev_alloc(void *state, size_t bytes, char *err, size_t n) {
  (void)state;
  void *d = NULL;
  return cuda_rt(cudaMalloc(&d, bytes), "cudaMalloc", err, n) ? d : NULL;
}

static void dev_free(void *state, void *ptr) {
  (void)state;
  cudaFree(ptr); /* waits for the work still using it */
}

static bool dev_upload(void *state, void *dst, const void *src, size_t bytes, char *err, size_t n) {
  CudaState *x = state;
  return cuda_rt(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, x->stream), "copying the input to the GPU", err, n);
}

static bool dev_sync(void *state, char *err, size_t n) {
  CudaState *x = state;
  return cuda_rt(cudaStreamSynchronize(x->stream), "the GPU failed while running the network", err, n);
}

static bool dev_download(void *state, void *dst, const void *src, size_t bytes, char *err, size_t n) {
  CudaState *x = state;
  return cuda_rt(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, x->stream), "copying a result from the GPU", err, n) &&
         dev_sync(state, err, n);
}

static bool dev_copy(void *state, void *dst, const void *src, size_t bytes, char *err, size_t n) {
  CudaState *x = state;
  return cuda_rt(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, x->stream), "cudaMemcpyAsync", err, n);
}

static bool dev_zero(void *state, void *dst, size_t bytes, char *err, size_t n) {
  CudaState *x = state;
  return cuda_rt(cudaMemsetAsync(dst, 0, bytes, x->stream), "cudaMemsetAsync", err, n);
}

/* Timestamp k, its event created on first use (2 per node). */
static bool dev_mark(void *state, int k, char *err, size_t n) {
  CudaState *x = state;
  if (!x->ev) {
    x->nev = 2 * x->p->nnodes;
    if (!(x->ev = calloc((size_t)x->nev, sizeof *x->ev))) return x->nev = 0, snprintf(err, n, "out of memory"), false;
  }
  if (k < 0 || k >= x->nev) return snprintf(err, n, "timestamp %d out of range", k), false;
  if (!x->ev[k] && !cuda_rt(cudaEventCreate(&x->ev[k]), "cudaEventCreate", err, n)) return false;
  return cuda_rt(cudaEventRecord(x->ev[k], x->stream), "cudaEventRecord", err, n);
}

static bool dev_elapsed(void *state, int a, int b, double *seconds, char *err, size_t n) {
  CudaState *x = state;
  float ms = 0;
  if (a < 0 || b < 0 || a >= x->nev || b >= x->nev || !x->ev[a] || !x->ev[b])
    return snprintf(err, n, "timestamps %d, %d were not recorded", a, b), false;
  if (!cuda_rt(cudaEventElapsedTime(&ms, x->ev[a], x->ev[b]), "cudaEventElapsedTime", err, n)) return false;
  *seconds = ms * 1e-3;
  return true;
}

static const char *dev_error(void *state) { return ((CudaState *)state)->error; }

static const BackendDevice cuda_device = {
    .host = false, .align = 256, .alloc = dev_alloc, .free = dev_free, .upload = dev_upload, .download = dev_download,
    .copy = dev_copy, .zero = dev_zero, .sync = dev_sync, .mark = dev_mark, .elapsed = dev_elapsed, .error = dev_error,
    .prepare_train = cuda_prepare_train, .loss = cuda_loss, .sgd = cuda_sgd, .dist_join = cuda_dist_join,
    .allreduce = cuda_allreduce, .scale = cuda_scale};

/* No BN + activation fusion in training (BackendTrain.bn_act): cuDNN's batch norm computes BN alone. */
const Backend backend_cuda = {.name = "cuda", .prepare = cuda_prepare, .run_node = cuda_run_node, .release = cuda_release,
                              .train_node = cuda_train_node, .backward_step = cuda_backward_step, .dev = &cuda_device,
                              .train_bn_act = false};
