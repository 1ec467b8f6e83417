/* cuda_kernels.c - loading and launching the plan's PTX kernels (cuda_kernels.h). */
#include "cuda_kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 256
#define MAX_BLOCKS (65535 * 4) /* enough to fill any GPU; the kernels loop over the rest (grid stride) */

typedef struct CachedFn {
  KernelSpec spec;
  CUfunction fn;
} CachedFn;

struct CudaKernels {
  const CudaDriver *d;
  CUmodule mod;
  const char *target;
  CachedFn *cache;
  int ncache, cap;
};

void ka_init(KArgs *a, int64_t total) {
  a->n = 0;
  ka_i64(a, total);
}

static KArg *ka_next(KArgs *a) {
  if (a->n >= KARGS_MAX) abort(); /* a launcher bug: no kernel has more parameters */
  a->ptr[a->n] = &a->val[a->n];
  return &a->val[a->n++];
}

void ka_ptr(KArgs *a, const void *p) { ka_next(a)->p = p; }
void ka_i64(KArgs *a, int64_t v) { ka_next(a)->i = v; }

int cuda_act_of(OpKind k) {
  static const int acts[OP__COUNT] = {[OP_RELU] = KACT_RELU,       [OP_RELU6] = KACT_RELU6,      [OP_SIGMOID] = KACT_SIGMOID,
                                      [OP_HSWISH] = KACT_HSWISH,   [OP_SILU] = KACT_SILU,        [OP_HSIGMOID] = KACT_HSIGMOID,
                                      [OP_TANH] = KACT_TANH};
  return (unsigned)k < OP__COUNT ? acts[k] : KACT_NONE;
}
void ka_f32(KArgs *a, float v) { ka_next(a)->f = v; }

static int sm_number(const char *target) { return (int)strtol(target + 3, NULL, 10); } /* "sm_75" -> 75 */

/* The embedded module for the GPU: the highest target not newer than it. */
static const PlanPtx *pick(const Plan *p, int cc, char *err, size_t n) {
  const PlanPtx *best = NULL;
  for (int i = 0; i < p->nptx; i++) {
    int sm = sm_number(p->ptx[i].target);
    if (sm <= cc && (!best || sm > sm_number(best->target))) best = &p->ptx[i];
  }
  if (best) return best;
  char have[256] = "";
  for (int i = 0; i < p->nptx; i++)
    snprintf(have + strlen(have), sizeof have - strlen(have), "%s%s", i ? ", " : "", p->ptx[i].target);
  snprintf(err, n, "this plan carries no GPU kernels for sm_%d: recompile it with sqnc --target sm_%d (it has: %s)", cc, cc,
           p->nptx ? have : "none");
  return NULL;
}

/* cuModuleLoadDataEx with an error log, so ptxas's complaints reach the user. */
static bool load_module(CudaKernels *k, const PlanPtx *x, int cc, char *err, size_t n) {
  static char log[8192];
  log[0] = 0;
  CUjit_option opt[2] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *val[2] = {log, (void *)(uintptr_t)sizeof log};
  CUresult r = k->d->ModuleLoadDataEx(&k->mod, x->text, 2, opt, val);
  if (r == CUDA_SUCCESS) return true;
  char why[256];
  snprintf(err, n, "cannot load the plan's GPU kernels (%s PTX, .target %s) on this sm_%d GPU: %s%s%s%s", x->target,
           x->ptx_cpu, cc, cuda_driver_error(r, why, sizeof why), log[0] ? "; ptxas says: " : "", log,
           r == CUDA_ERROR_UNSUPPORTED_PTX_VERSION ? " (the driver is older than the PTX: update the NVIDIA driver)" : "");
  k->mod = NULL;
  return false;
}

CudaKernels *cuda_kernels_load(const Plan *p, int cc, char *err, size_t n) {
  const CudaDriver *d = cuda_driver(err, n);
  const PlanPtx *x = d ? pick(p, cc, err, n) : NULL;
  if (!x) return NULL;
  CudaKernels *k = calloc(1, sizeof *k);
  if (!k) return snprintf(err, n, "out of memory"), NULL;
  k->d = d, k->target = x->target;
  if (!load_module(k, x, cc, err, n)) return free(k), NULL;
  return k;
}

const char *cuda_kernels_target(const CudaKernels *k) { return k->target; }

static bool cache_add(CudaKernels *k, const KernelSpec *s, CUfunction fn) {
  if (k->ncache == k->cap) {
    int cap = k->cap ? 2 * k->cap : 32;
    CachedFn *c = realloc(k->cache, sizeof *c * (size_t)cap);
    if (!c) return false;
    k->cache = c, k->cap = cap;
  }
  k->cache[k->ncache++] = (CachedFn){*s, fn};
  return true;
}

CUfunction cuda_kernels_get(CudaKernels *k, const KernelSpec *s, char *err, size_t n) {
  for (int i = 0; i < k->ncache; i++)
    if (kernel_spec_equal(&k->cache[i].spec, s)) return k->cache[i].fn;
  char name[SQN_KERNEL_NAME_MAX], why[256];
  kernel_spec_name(s, name, sizeof name);
  CUfunction fn = NULL;
  CUresult r = k->d->ModuleGetFunction(&fn, k->mod, name);
  if (r != CUDA_SUCCESS) {
    snprintf(err, n, "the plan's GPU kernels (%s) lack %s: %s; recompile the plan with this sqnc --target", k->target,
             name, cuda_driver_error(r, why, sizeof why));
    return NULL;
  }
  if (!cache_add(k, s, fn)) return snprintf(err, n, "out of memory"), NULL;
  return fn;
}

bool cuda_kernels_launch(CudaKernels *k, CUfunction fn, CUstream stream, KArgs *a, char *err, size_t n) {
  int64_t total = a->val[0].i, blocks = (total + THREADS - 1) / THREADS;
  if (total <= 0) return true;
  if (blocks > MAX_BLOCKS) blocks = MAX_BLOCKS;
  CUresult r = k->d->LaunchKernel(fn, (unsigned)blocks, 1, 1, THREADS, 1, 1, 0, stream, a->ptr, NULL);
  if (r == CUDA_SUCCESS) return true;
  char why[256];
  snprintf(err, n, "kernel launch failed: %s", cuda_driver_error(r, why, sizeof why));
  return false;
}

void cuda_kernels_free(CudaKernels *k) {
  if (!k) return;
  if (k->mod) k->d->ModuleUnload(k->mod);
  free(k->cache);
  free(k);
}
