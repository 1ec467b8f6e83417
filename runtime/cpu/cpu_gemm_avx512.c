/* cpu_gemm_avx512.c - cpu_gemm_wide: C = act(A * B + bias) with AVX-512 registers, for the 1x1 convs (plain and
   inside the fused inverted residuals) and the im2col convs on machines that have AVX-512. OpenBLAS may be held to
   its AVX2 kernels (OPENBLAS_CORETYPE=Haswell, or a build for an older CPU), and it packs A and B for every call,
   which costs as much as the multiply at these shapes (k of 16..576, m of 16..576). Here A is never packed:
   panels of 32 columns of B (k in blocks of KC rows, so a panel stays in L1; where B's rows lie pages apart, copied
   together first, four panels at a time so that each row is read 512 bytes at once) are swept by blocks of 8 rows of
   A with the 16 sums in registers, and bias and activation are applied before the one store of each sum.
   The sums run over k in order, in float, as in cpu_gemm_smallk. cpu_gemm_wide_tn is the same kernel reading A
   transposed and optionally adding to C, for the 1x1 convs' data gradient in training. Elsewhere (no AVX-512, another
   architecture, SQN_CPU_GEMM=blas) both return false and the caller uses sgemm or cpu_gemm_smallk. */
#include "cpu_conv_internal.h"
#include "cpu_ops.h"
#include "cpu_simd.h"

#include <stdlib.h>
#include <string.h>

bool cpu_has_avx512(void) {
  static int state = -1; /* -1: not asked yet */
  int s = __atomic_load_n(&state, __ATOMIC_RELAXED);
  if (s < 0) {
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    s = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
#else
    s = 0;
#endif
    __atomic_store_n(&state, s, __ATOMIC_RELAXED);
  }
  return s;
}

static int wide_state = -1; /* -1: not decided yet; 0 off; 1 on */

bool cpu_gemm_wide_on(void) {
  int s = __atomic_load_n(&wide_state, __ATOMIC_RELAXED);
  if (s < 0) {
    const char *e = getenv("SQN_CPU_GEMM");
    s = (!e || strcmp(e, "blas")) && cpu_has_avx512();
    __atomic_store_n(&wide_state, s, __ATOMIC_RELAXED);
  }
  return s;
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define T512 __attribute__((target("arch=x86-64-v4")))

enum { KC = 256 };        /* k rows per pass: a 32-column panel of B is then 32 KiB */
enum { PACK_LDB = 1024 }; /* B rows at least this far apart (floats) are packed per panel */
#ifndef PACK_PANELS
#define PACK_PANELS 4 /* panels packed together (128 KiB of stack) */
#endif

T512 static inline float act1(float v, int act) {
  if (act == CONV_ACT_RELU) return v < 0.0f ? 0.0f : v;
  if (act == CONV_ACT_RELU6) return v < 0.0f ? 0.0f : v > 6.0f ? 6.0f : v;
  return v;
}

typedef struct Gemm {
  const float *A, *B, *bias;
  float *C;
  int lda, ldb, ldc, act;
  int ars, acs;       /* A's element (r, kk) is A[r * ars + kk * acs]: (lda, 1), or (1, lda) for A transposed */
  int k0, k1;         /* this pass's k rows */
  bool first, last;   /* the first pass writes C, the others add to it; the last applies bias and act */
} Gemm;

/* Rows [m0, m0 + MR) x columns [j, j + 16 * NV) over k in [k0, k1). MR and NV are constants at every call, so
   the loops unroll and acc stays in registers. */
T512 __attribute__((always_inline)) static inline void block(const Gemm *g, int MR, int NV, int m0, int j,
                                                            const float *bp, int ldbp) {
  v16 acc[8][2];
#pragma GCC unroll 8
  for (int r = 0; r < MR; r++)
#pragma GCC unroll 2
    for (int v = 0; v < NV; v++)
      acc[r][v] = g->first ? (v16){0} : (v16) * (const v16u *)(g->C + (size_t)(m0 + r) * g->ldc + j + 16 * v);
  const float *a = g->A + (size_t)m0 * g->ars + (size_t)g->k0 * g->acs;
  for (int kk = 0; kk < g->k1 - g->k0; kk++) {
    const float *b = bp + (size_t)kk * ldbp;
    const v16 b0 = *(const v16u *)b, b1 = NV > 1 ? (v16) * (const v16u *)(b + 16) : (v16){0};
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
      const float ar = a[(size_t)r * g->ars + (size_t)kk * g->acs];
      acc[r][0] += ar * b0;
      if (NV > 1) acc[r][1] += ar * b1;
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; r++) {
    const float bv = g->last && g->bias ? g->bias[m0 + r] : 0.0f;
#pragma GCC unroll 2
    for (int v = 0; v < NV; v++) {
      v16 s = acc[r][v];
      if (g->last) s += bv, cpu_act16(&s, g->act);
      *(v16u *)(g->C + (size_t)(m0 + r) * g->ldc + j + 16 * v) = s;
    }
  }
}

/* Every row of columns [j, j + 16 * NV). Where B's rows lie far apart (a 1x1 conv reading its input planes: one
   page per row) and more than one block of rows sweeps the panel, its k rows are first copied together (pack, 64-byte
   aligned): the sweeps then read one contiguous block instead of touching a page per row each time. */
T512 __attribute__((always_inline)) static inline void column_panel(const Gemm *g, int m, int NV, int j, float *pack,
                                                                   bool packed) {
  const float *bp = g->B + (size_t)g->k0 * g->ldb + j;
  int ldbp = g->ldb;
  if (packed) bp = pack, ldbp = 32;
  else if (pack) {
    for (int kk = 0; kk < g->k1 - g->k0; kk++) {
      *(v16 *)(pack + (size_t)kk * 32) = (v16) * (const v16u *)(bp + (size_t)kk * g->ldb);
      if (NV > 1) *(v16 *)(pack + (size_t)kk * 32 + 16) = (v16) * (const v16u *)(bp + (size_t)kk * g->ldb + 16);
    }
    bp = pack, ldbp = 32;
  }
  int m0 = 0;
  for (; m0 + 8 <= m; m0 += 8) block(g, 8, NV, m0, j, bp, ldbp);
  for (; m0 + 4 <= m; m0 += 4) block(g, 4, NV, m0, j, bp, ldbp);
  for (; m0 < m; m0++) block(g, 1, NV, m0, j, bp, ldbp);
}

/* Columns [j, j + 32 * np) of B's rows [k0, k1) into np packed 32-column panels (pack + p * KC * 32), each row's
   128 * np bytes read at once: where B's rows lie far apart (a 1x1 conv's input planes: 192 planes of 512 KiB for the
   xlarge nets' logits), 128 bytes a row per panel left each read waiting on memory. */
T512 static void pack_panels(const Gemm *g, int j, int np, float *pack) {
  for (int kk = 0; kk < g->k1 - g->k0; kk++) {
    const float *src = g->B + (size_t)(g->k0 + kk) * g->ldb + j;
    for (int p = 0; p < np; p++) {
      float *d = pack + (size_t)p * KC * 32 + (size_t)kk * 32;
      *(v16 *)d = *(const v16u *)(src + 32 * p);
      *(v16 *)(d + 16) = *(const v16u *)(src + 32 * p + 16);
    }
  }
}

/* Columns [j0, n), one at a time (fewer than 16). */
T512 static void column_tail(const Gemm *g, int m, int j0, int n) {
  for (int r = 0; r < m; r++)
    for (int j = j0; j < n; j++) {
      float *c = g->C + (size_t)r * g->ldc + j;
      float s = g->first ? 0.0f : *c;
      for (int kk = g->k0; kk < g->k1; kk++)
        s += g->A[(size_t)r * g->ars + (size_t)kk * g->acs] * g->B[(size_t)kk * g->ldb + j];
      *c = g->last ? act1(s + (g->bias ? g->bias[r] : 0.0f), g->act) : s;
    }
}

/* C (+= where acc) = act(op(A) * B + bias), op(A) = A or, where ta, A transposed (A is then k x m, lda); ta and acc
   are constants at each call (gemm512_nn, gemm512_tn). */
T512 __attribute__((always_inline)) static inline void gemm512_body(int m, int n, int k, const float *A, int lda,
                                                                    const float *B, int ldb, float *C, int ldc,
                                                                    const float *bias, int act, const bool ta,
                                                                    const bool acc) {
  Gemm g = {A, B, bias, C, lda, ldb, ldc, act, ta ? 1 : lda, ta ? lda : 1, 0, 0, true, true};
  float pack_buf[PACK_PANELS * KC * 32] __attribute__((aligned(64)));
  float *pack = ldb >= PACK_LDB && m > 8 ? pack_buf : NULL;
  for (int k0 = 0; k0 < k || k0 == 0; k0 += KC) {
    g.k0 = k0, g.k1 = k - k0 > KC ? k0 + KC : k;
    g.first = k0 == 0 && !acc, g.last = g.k1 == k;
    int j = 0;
    while (pack && j + 32 <= n) {
      const int np = (n - j) / 32 < PACK_PANELS ? (n - j) / 32 : PACK_PANELS;
      pack_panels(&g, j, np, pack);
      for (int p = 0; p < np; p++, j += 32) column_panel(&g, m, 2, j, pack + (size_t)p * KC * 32, true);
    }
    for (; j + 32 <= n; j += 32) column_panel(&g, m, 2, j, pack, false);
    for (; j + 16 <= n; j += 16) column_panel(&g, m, 1, j, pack, false);
    if (j < n) column_tail(&g, m, j, n);
    if (k == 0) break;
  }
}

T512 static void gemm512_nn(int m, int n, int k, const float *A, int lda, const float *B, int ldb, float *C, int ldc,
                            const float *bias, int act) {
  gemm512_body(m, n, k, A, lda, B, ldb, C, ldc, bias, act, false, false);
}

T512 static void gemm512_tn(int m, int n, int k, const float *A, int lda, const float *B, int ldb, float *C, int ldc,
                            bool acc) {
  if (acc) gemm512_body(m, n, k, A, lda, B, ldb, C, ldc, NULL, CONV_ACT_NONE, true, true);
  else gemm512_body(m, n, k, A, lda, B, ldb, C, ldc, NULL, CONV_ACT_NONE, true, false);
}

bool cpu_gemm_wide(int m, int n, int k, const float *A, int lda, const float *B, int ldb, float *C, int ldc,
                   const float *bias, int act) {
  if (!cpu_gemm_wide_on()) return false;
  gemm512_nn(m, n, k, A, lda, B, ldb, C, ldc, bias, act);
  return true;
}

bool cpu_gemm_wide_tn(int m, int n, int k, const float *A, int lda, const float *B, int ldb, float *C, int ldc,
                      bool acc) {
  if (!cpu_gemm_wide_on()) return false;
  gemm512_tn(m, n, k, A, lda, B, ldb, C, ldc, acc);
  return true;
}
#else
bool cpu_gemm_wide(int m, int n, int k, const float *A, int lda, const float *B, int ldb, float *C, int ldc,
                   const float *bias, int act) {
  (void)m, (void)n, (void)k, (void)A, (void)lda, (void)B, (void)ldb, (void)C, (void)ldc, (void)bias, (void)act;
  return false;
}

bool cpu_gemm_wide_tn(int m, int n, int k, const float *A, int lda, const float *B, int ldb, float *C, int ldc,
                      bool acc) {
  (void)m, (void)n, (void)k, (void)A, (void)lda, (void)B, (void)ldb, (void)C, (void)ldc, (void)acc;
  return false;
}
#endif
