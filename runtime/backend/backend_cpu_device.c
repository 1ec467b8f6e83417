/* backend_cpu_device.c - the CPU backend's device: host memory (backend.h BackendDevice with `host` set).
   Allocations are 64-byte aligned (the kernels' vectors), copies are memmove and nothing where source and
   destination are the same memory (so a caller's "download" of a buffer into itself costs nothing), there is
   no queue to wait for, and timestamps are the host's monotonic clock. Training: the loss is
   cpu_softmax_xent, SGD a plain loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend_cpu.h"
#include "clock.h"
#include "cpu_grad.h"

static void *host_alloc(void *state, size_t bytes, char *err, size_t n) {
  (void)state, (void)err, (void)n; /* the caller says what ran out */
  return aligned_alloc(64, (bytes + 63) & ~(size_t)63);
}

static void host_free(void *state, void *ptr) { (void)state, free(ptr); }

static bool host_move(void *state, void *dst, const void *src, size_t bytes, char *err, size_t n) {
  (void)state, (void)err, (void)n;
  if (dst != src) memmove(dst, src, bytes);
  return true;
}

static bool host_zero(void *state, void *dst, size_t bytes, char *err, size_t n) {
  (void)state, (void)err, (void)n;
  memset(dst, 0, bytes);
  return true;
}

static bool host_sync(void *state, char *err, size_t n) { return (void)state, (void)err, (void)n, true; }

static bool host_mark(void *state, int k, char *err, size_t n) {
  CpuState *x = state;
  int nmarks = 2 * x->p->nnodes;
  if (!x->marks && !(x->marks = calloc((size_t)nmarks, sizeof *x->marks))) return snprintf(err, n, "out of memory"), false;
  if (k < 0 || k >= nmarks) return snprintf(err, n, "timestamp %d out of range", k), false;
  x->marks[k] = now_s();
  return true;
}

static bool host_elapsed(void *state, int a, int b, double *seconds, char *err, size_t n) {
  const CpuState *x = state;
  int nmarks = 2 * x->p->nnodes;
  if (!x->marks || a < 0 || b < 0 || a >= nmarks || b >= nmarks)
    return snprintf(err, n, "timestamps %d, %d were not recorded", a, b), false;
  *seconds = x->marks[b] - x->marks[a];
  return true;
}

static const char *host_error(void *state) { return (void)state, ""; }

/* Nothing folded in training: every BN and activation runs on its own. */
static void *host_prepare_train(const Plan *p, char *err, size_t n) {
  CpuState *x = calloc(1, sizeof *x);
  if (!x) return snprintf(err, n, "out of memory"), NULL;
  x->p = p;
  return x;
}

static bool host_loss(void *state, const float *logits, Shape s, const unsigned char *labels, int ignore, float *dlogits,
                      double *loss, long *nvalid, char *err, size_t n) {
  (void)state, (void)err, (void)n;
  *loss = cpu_softmax_xent(logits, s, labels, ignore, dlogits, nvalid);
  return true;
}

static bool host_sgd(void *state, float *w, const float *g, float *mom, size_t count, float lr, float momentum, float wd,
                     bool first, char *err, size_t n) {
  (void)state, (void)err, (void)n;
  for (size_t k = 0; k < count; k++) {
    float d = g[k] + wd * w[k];
    if (mom) mom[k] = first ? d : momentum * mom[k] + d, d = mom[k];
    w[k] -= lr * d;
  }
  return true;
}

const BackendDevice backend_cpu_device = {
    .host = true, .align = sizeof(float), .alloc = host_alloc, .free = host_free, .upload = host_move,
    .download = host_move, .copy = host_move, .zero = host_zero, .sync = host_sync, .mark = host_mark,
    .elapsed = host_elapsed, .error = host_error, .prepare_train = host_prepare_train, .loss = host_loss, .sgd = host_sgd};
