/* kgen_test_util.h - helpers of the host-kernel tests (test_kgen_host*.c): a seeded RNG, scratch buffers
   freed together, the void** argument array a launcher builds (cuLaunchKernel's kernelParams), running a
   generated host kernel by its spec, and comparing against the CPU kernels with a stated tolerance while
   recording the largest error per kernel. Implemented in test_kgen_host.c. */
#ifndef SQN_KGEN_TEST_UTIL_H
#define SQN_KGEN_TEST_UTIL_H
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include "cpu_grad.h"
#include "kgen.h"

/* a check counted in test_util.h's counters (which are per translation unit: they live in test_kgen_host.c) */
void kt_check(int ok, const char *expr, const char *file, int line);
#define KT_CHECK(cond) kt_check((cond) != 0, #cond, __FILE__, __LINE__)

/* ---- random numbers and buffers ---- */
extern uint64_t kt_rng;
static inline uint32_t kt_u32(void) {
  kt_rng ^= kt_rng << 13;
  kt_rng ^= kt_rng >> 7;
  kt_rng ^= kt_rng << 17;
  return (uint32_t)(kt_rng >> 16);
}
static inline float kt_uniform(float lo, float hi) { return lo + (hi - lo) * ((float)kt_u32() / 4294967296.0f); }
void *kt_alloc(size_t bytes); /* zeroed; freed by kt_free_all */
void kt_free_all(void);
/* y = act(x) by the CPU kernel of KernelAct act (a copy for KACT_NONE); y may be x */
void kt_cpu_act(int act, const float *x, size_t n, float *y);
float *kt_rand(size_t n, float lo, float hi);
float *kt_copy(const float *x, size_t n);
static inline float *kt_zeros(size_t n) { return kt_alloc(n * sizeof(float)); }

/* ---- kernel arguments, in ABI order (total first), as a launcher passes them ---- */
typedef struct KtArgs {
  union { int64_t l; float f; void *p; } v[16];
  void *a[16];
  int n;
} KtArgs;
static inline void kt_l(KtArgs *A, int64_t x) { A->v[A->n].l = x, A->a[A->n] = &A->v[A->n].l, A->n++; }
static inline void kt_f(KtArgs *A, float x) { A->v[A->n].f = x, A->a[A->n] = &A->v[A->n].f, A->n++; }
static inline void kt_p(KtArgs *A, const void *x) { A->v[A->n].p = (void *)x, A->a[A->n] = &A->v[A->n].p, A->n++; }

/* Runs the host version of spec over all its work items; checks the argument count against the ABI. */
void kt_run(const KernelSpec *spec, KtArgs *A);

/* Compares n outputs: |got - want| <= tol * max(1, |want|) (NaN only against NaN); records the largest
   error under `what` (printed at the end); returns the largest error. */
double kt_compare(const char *what, const float *got, const float *want, size_t n, double tol);
void kt_report(void);

/* the test groups */
void kt_test_eltwise(void);  /* test_kgen_host.c: ACT, ACT_BWD, BINARY, AFFINE, SGD */
void kt_test_mix_xent(void); /* test_kgen_host_mix.c: MIX_*, XENT */
void kt_test_spatial(void);  /* test_kgen_host_spatial.c: DWCONV, BILINEAR*, NEAREST*, AVGPOOL, GAP */
KernelSpec *kt_dwconv_specs(int *n); /* the DWCONV variants the spatial tests use */
#endif
