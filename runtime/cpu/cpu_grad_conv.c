/* cpu_grad_conv.c - conv2d backward (runtime/cpu/cpu_grad.h): the gradients w.r.t. the input (data) and the
 * weights and bias, float32 NCHW with zero padding, groups and dilation. Two paths, as in cpu_conv.c:
 *  - direct loops when a group has few output channels (cout/groups <= 4: depthwise, ASPP's narrow groups):
 *    data: one task per input plane (sample, channel), scattering dy through the taps into it (depthwise stride 1
 *    without accumulation: the forward depthwise conv of dy with the turned kernel, cpu_conv2d; depthwise stride 2:
 *    gathered row by row, cpu_grad_dw.c);
 *    weight: one task per (output channel, input channel of its group), one dot product per tap;
 *  - sgemm otherwise (CBLAS when SQN_HAVE_CBLAS, else plain loops):
 *    data: per (sample, group, block of input channels) cols = W_g[:, block]^T * dy_g, a block of output rows at
 *    a time, then col2im into the block's own dx planes; 1x1 stride-1 unpadded convs: dx_g = W_g^T * dy_g
 *    directly, per block of columns (with the AVX-512 kernel where the CPU has it, cpu_gemm_wide_tn);
 *    weight: per (sample, group, block of output rows) dw_g += dy_g * im2col(x)^T into a per-thread copy of dw,
 *    the copies summed into dw at the end (with the AVX-512 kernel where the CPU has it, cpu_gemm_wide_nt).
 * Every task writes memory no other task writes: no races. The results do not depend on the scheduling: the same
 * for a given thread count (the weight path's per-thread copies take static shares of the tasks). */
#include "cpu_grad.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "omp_pragma.h"
#include "cpu_conv_internal.h"
#ifdef SQN_HAVE_CBLAS
#include <cblas.h>
#endif

static inline int floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); } /* b > 0 */
static inline int ceil_div(int a, int b) { return -floor_div(-a, b); }
static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int imax(int a, int b) { return a > b ? a : b; }

static int max_threads(void) {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

static void *xmalloc(size_t bytes) {
  void *p = malloc(bytes ? bytes : 1);
  if (!p) {
    fprintf(stderr, "cpu_grad_conv: out of memory\n");
    abort();
  }
  return p;
}

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size);
  if (!p) {
    fprintf(stderr, "cpu_grad_conv: out of memory\n");
    abort();
  }
  return p;
}

#if defined(SQN_HAVE_CBLAS) && defined(SQN_HAVE_OPENBLAS_THREADS) && defined(_OPENMP)
/* As in cpu_conv.c: our OpenMP tasks call sgemm concurrently, so OpenBLAS's own pthread pool stays out of it. */
static void blas_single_thread(void) {
  if (openblas_get_parallel() == 1) openblas_set_num_threads(1);
}
#else
static void blas_single_thread(void) {}
#endif

/* C[m x n] = beta*C + op(A) * op(B), row-major, in the calling thread; beta is 0 or 1.
   ta: A is stored [k x m] (else [m x k]); tb: B is stored [n x k] (else [k x n]). */
static void gemm(bool ta, bool tb, int m, int n, int k, const float *A, int lda, const float *B, int ldb, float beta,
                 float *C, int ldc) {
#ifdef SQN_HAVE_CBLAS
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, A, lda, B,
              ldb, beta, C, ldc);
#else
  for (int i = 0; i < m; i++) {
    float *restrict c = C + (size_t)i * ldc;
    if (beta == 0.0f) memset(c, 0, (size_t)n * sizeof(float));
    for (int kk = 0; kk < k; kk++) {
      const float a = ta ? A[(size_t)kk * lda + i] : A[(size_t)i * lda + kk];
      if (!tb) {
        const float *restrict b = B + (size_t)kk * ldb;
        for (int j = 0; j < n; j++) c[j] += a * b[j];
      } else {
        for (int j = 0; j < n; j++) c[j] += a * B[(size_t)j * ldb + kk];
      }
    }
  }
#endif
}

typedef struct Geom {
  int N, cin, H, W, cout, OH, OW, G, cin_g, cout_g, kh, kw, sh, sw, ph, pw, dh, dw;
  int *lo, *hi; /* per kx: the output columns [lo, hi) whose input column ox*sw - pw + kx*dw is in [0, W) */
} Geom;

static Geom geom_make(Shape xs, Shape ys, const ConvParams *p, const char *who) {
  if (p->act != CONV_ACT_NONE) {
    fprintf(stderr, "%s: the conv has an activation epilogue; backward needs act == CONV_ACT_NONE\n", who);
    abort();
  }
  Geom g = {.N = xs.n, .cin = xs.c, .H = xs.h, .W = xs.w, .cout = ys.c, .OH = ys.h, .OW = ys.w, .kh = p->kh,
            .kw = p->kw, .sh = p->sh, .sw = p->sw, .ph = p->ph, .pw = p->pw, .dh = p->dh, .dw = p->dw};
  g.G = p->groups > 0 ? p->groups : 1;
  g.cin_g = g.cin / g.G;
  g.cout_g = g.cout / g.G;
  g.lo = xmalloc(2 * (size_t)imax(1, g.kw) * sizeof(int));
  g.hi = g.lo + imax(1, g.kw);
  for (int kx = 0; kx < g.kw; kx++) {
    const int off = kx * g.dw - g.pw;
    g.lo[kx] = imin(g.OW, imax(0, ceil_div(-off, g.sw)));
    g.hi[kx] = imax(g.lo[kx], imin(g.OW, floor_div(g.W - 1 - off, g.sw) + 1));
  }
  return g;
}

static bool use_direct(const Geom *g) { return g->cout_g <= 4; }
static bool is_pointwise(const Geom *g) {
  return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0 && g->OH == g->H &&
         g->OW == g->W;
}
static double conv_macs(const Geom *g) { return (double)g->N * g->cout * g->OH * g->OW * g->cin_g * g->kh * g->kw; }

/* ---- direct path ---- */

/* dx row (+)= wv * dy row through one tap: dxr[ox*sw + off] += wv * dyr[ox] for ox in [l, h). */
static inline void scatter_row(float *restrict dxr, const float *restrict dyr, float wv, int off, int sw, int l, int h) {
  if (sw == 1)
    for (int ox = l; ox < h; ox++) dxr[ox + off] += wv * dyr[ox];
  else
    for (int ox = l; ox < h; ox++) dxr[(size_t)ox * sw + off] += wv * dyr[ox];
}

/* dx of input plane (n, ci): the sum over the output channels of its group and their taps. */
static void data_direct_plane(const Geom *g, const float *dy, const float *w, float *dx, int n, int ci, bool acc) {
  const int grp = ci / g->cin_g, cil = ci % g->cin_g, kh = g->kh, kw = g->kw;
  float *dxp = dx + ((size_t)n * g->cin + ci) * g->H * g->W;
  if (!acc) memset(dxp, 0, (size_t)g->H * g->W * sizeof(float));
  for (int j = 0; j < g->cout_g; j++) {
    const int co = grp * g->cout_g + j;
    const float *dyp = dy + ((size_t)n * g->cout + co) * g->OH * g->OW;
    const float *wk = w + ((size_t)co * g->cin_g + cil) * kh * kw;
    for (int oy = 0; oy < g->OH; oy++) {
      const float *dyr = dyp + (size_t)oy * g->OW;
      for (int ky = 0; ky < kh; ky++) {
        const int iy = oy * g->sh - g->ph + ky * g->dh;
        if (iy < 0 || iy >= g->H) continue;
        for (int kx = 0; kx < kw; kx++)
          scatter_row(dxp + (size_t)iy * g->W, dyr, wk[ky * kw + kx], kx * g->dw - g->pw, g->sw, g->lo[kx], g->hi[kx]);
      }
    }
  }
}

/* sum over ox in [l, h) of dyr[ox] * xr[ox*sw + off] */
static inline float dot_row(const float *restrict dyr, const float *restrict xr, int off, int sw, int l, int h) {
  float s = 0.0f;
  if (sw == 1) {
    OMP(omp simd reduction(+ : s))
    for (int ox = l; ox < h; ox++) s += dyr[ox] * xr[ox + off];
  } else {
    OMP(omp simd reduction(+ : s))
    for (int ox = l; ox < h; ox++) s += dyr[ox] * xr[(size_t)ox * sw + off];
  }
  return s;
}

enum { TAP_ROWS = 16 }; /* output rows whose products a tap sums in float before adding them to its double sum */

/* sum[kx] += the correlation of dy rows [oy0, oy1) with the x rows they read through kernel row ky, for the KW tap
   columns of a stride-1 or stride-2 kernel: tap kx reads xr[dc->colo[kx] + ox] of the x row xr (stride 2: the row
   deinterleaved into `deint` first, cpu_deinterleave). The columns every tap reads in bounds ([L, H)) sixteen at a
   time, each dy vector loaded once for all KW taps, in float per 16 lanes over the rows; the ragged columns one by
   one. KW is a constant at each call, so the KW sums stay in registers. */
__attribute__((always_inline)) static inline void row_taps(const Geom *g, const CpuDwCols *dc, const float *dyp,
                                                           const float *xp, int ky, int oy0, int oy1, float *deint,
                                                           double *sum, const int KW) {
  v16 acc[7] = {0};
  float edge[7] = {0};
  for (int oy = oy0; oy < oy1; oy++) {
    const float *restrict dyr = dyp + (size_t)oy * g->OW, *xr = xp + (size_t)(oy * g->sh - g->ph + ky * g->dh) * g->W;
    if (deint) cpu_deinterleave(xr, g->W, deint), xr = deint;
    int V = dc->L;
    for (; V + 16 <= dc->H; V += 16) {
      const v16 d = *(const v16u *)(dyr + V);
#pragma GCC unroll 7
      for (int kx = 0; kx < KW; kx++) acc[kx] += d * *(const v16u *)(xr + dc->colo[kx] + V);
    }
    for (int kx = 0; kx < KW; kx++) {
      const float *restrict xt = xr + dc->colo[kx];
      const int lo = dc->lo[kx], hi = dc->hi[kx];
      float s = 0.0f;
      for (int ox = lo; ox < hi && ox < dc->L; ox++) s += dyr[ox] * xt[ox];
      for (int ox = lo > V ? lo : V; ox < hi; ox++) s += dyr[ox] * xt[ox];
      edge[kx] += s;
    }
  }
  for (int kx = 0; kx < KW; kx++) {
    float s = edge[kx];
    for (int j = 0; j < 16; j++) s += acc[kx][j];
    sum[kx] += s;
  }
}

/* row_taps for kernels 3, 5 and 7 wide (false for others). */
SQN_ISA_CLONES static bool weight_row_taps(const Geom *g, const CpuDwCols *dc, const float *dyp, const float *xp,
                                           int ky, int oy0, int oy1, float *deint, double *sum) {
  switch (g->kw) {
  case 3: return row_taps(g, dc, dyp, xp, ky, oy0, oy1, deint, sum, 3), true;
  case 5: return row_taps(g, dc, dyp, xp, ky, oy0, oy1, deint, sum, 5), true;
  case 7: return row_taps(g, dc, dyp, xp, ky, oy0, oy1, deint, sum, 7), true;
  default: return false;
  }
}

/* Whether weight_pair_rows applies: stride 1 with kernels 3, 5 and 7 wide, stride 2 with 5 and 7 (3 taps a row do not
   pay for deinterleaving it: test_cpu_grad --bench). */
static bool pair_rows_apply(const Geom *g) {
  return (g->sw == 1 || g->sw == 2) && g->sh == g->sw && (g->kw == 3 || g->kw == 5 || g->kw == 7) &&
         !(g->sw == 2 && g->kw < 5);
}

/* The case of weight_direct_pair that pair_rows_apply allows: per kernel row, blocks of TAP_ROWS output rows
   (weight_row_taps), with the pair's columns dc (cpu_dw_cols). deint: W floats at stride 2. */
static void weight_pair_rows(const Geom *g, const CpuDwCols *dc, const float *dyp, const float *xp, float *deint,
                             double *sum) {
  for (int ky = 0; ky < g->kh; ky++) {
    const int off = ky * g->dh - g->ph; /* output row oy reads input row oy * sh + off */
    const int lo = imax(0, ceil_div(-off, g->sh)), hi = imin(g->OH, floor_div(g->H - 1 - off, g->sh) + 1);
    for (int oy0 = lo; oy0 < hi; oy0 += TAP_ROWS)
      weight_row_taps(g, dc, dyp, xp, ky, oy0, imin(hi, oy0 + TAP_ROWS), deint, sum + ky * g->kw);
  }
}

/* dw[co, cil, :, :] += the correlation of dy[:, co] with x[:, ci] per tap (rows summed in double; by weight_pair_rows,
   blocks of TAP_ROWS rows in float first). One
   pass over the planes: each dy row meets the x rows of all its taps while both are in cache (a pass
   per tap re-read the planes kh * kw times, which made 5x5 depthwise gradients memory-bound). */
static void weight_direct_pair(const Geom *g, const float *x, const float *dy, float *dw, int co, int cil) {
  const int ci = co / g->cout_g * g->cin_g + cil, kh = g->kh, kw = g->kw;
  float *dwk = dw + ((size_t)co * g->cin_g + cil) * kh * kw;
  double acc[64] = {0}, *sum = kh * kw <= 64 ? acc : xcalloc((size_t)kh * kw, sizeof *sum);
  const bool by_rows = pair_rows_apply(g);
  CpuDwCols dc;
  if (by_rows) cpu_dw_cols(kw, g->sw, g->dw, g->pw, g->W, g->OW, &dc); /* kw <= 7: always fits */
  float *deint = by_rows && g->sw == 2 ? xmalloc((size_t)g->W * sizeof *deint) : NULL;
  for (int n = 0; n < g->N; n++) {
    const float *dyp = dy + ((size_t)n * g->cout + co) * g->OH * g->OW;
    const float *xp = x + ((size_t)n * g->cin + ci) * g->H * g->W;
    if (by_rows) {
      weight_pair_rows(g, &dc, dyp, xp, deint, sum);
      continue;
    }
    for (int oy = 0; oy < g->OH; oy++)
      for (int ky = 0; ky < kh; ky++) {
        const int iy = oy * g->sh - g->ph + ky * g->dh;
        if (iy < 0 || iy >= g->H) continue;
        for (int kx = 0; kx < kw; kx++)
          sum[ky * kw + kx] += dot_row(dyp + (size_t)oy * g->OW, xp + (size_t)iy * g->W, kx * g->dw - g->pw, g->sw,
                                       g->lo[kx], g->hi[kx]);
      }
  }
  for (int t = 0; t < kh * kw; t++) dwk[t] += (float)sum[t];
  if (sum != acc) free(sum);
  free(deint);
}

/* ---- sgemm path: data ---- */

/* dx planes [ci0, ci0 + nci) of sample n += col2im(col), col holding output rows [oy0, oy1):
   col[((ci - ci0)*kh + ky)*kw + kx][(oy - oy0)*OW + ox]. */
static void col2im_rows(const Geom *g, const float *col, float *dx, int n, int ci0, int nci, int oy0, int oy1) {
  const size_t L = (size_t)(oy1 - oy0) * g->OW;
  for (int c = 0; c < nci; c++) {
    float *dxp = dx + ((size_t)n * g->cin + ci0 + c) * g->H * g->W;
    for (int ky = 0; ky < g->kh; ky++)
      for (int kx = 0; kx < g->kw; kx++) {
        const float *crow = col + ((size_t)(c * g->kh + ky) * g->kw + kx) * L;
        for (int oy = oy0; oy < oy1; oy++) {
          const int iy = oy * g->sh - g->ph + ky * g->dh;
          if (iy < 0 || iy >= g->H) continue;
          scatter_row(dxp + (size_t)iy * g->W, crow + (size_t)(oy - oy0) * g->OW, 1.0f, kx * g->dw - g->pw, g->sw,
                      g->lo[kx], g->hi[kx]);
        }
      }
  }
}

/* dx planes of input channels [ci0, ci1) of group grp (channels local to the group) of sample n. */
static void data_gemm_block(const Geom *g, const float *dy, const float *w, float *dx, int n, int grp, int ci0, int ci1,
                            int rows, float *col, bool acc) {
  const int khw = g->kh * g->kw, K = g->cin_g * khw, M = (ci1 - ci0) * khw, cin0 = grp * g->cin_g + ci0;
  const size_t OHW = (size_t)g->OH * g->OW, HW = (size_t)g->H * g->W;
  if (!acc) memset(dx + ((size_t)n * g->cin + cin0) * HW, 0, (size_t)(ci1 - ci0) * HW * sizeof(float));
  const float *wg = w + (size_t)grp * g->cout_g * K + (size_t)ci0 * khw;
  const float *dyg = dy + ((size_t)n * g->cout + (size_t)grp * g->cout_g) * OHW;
  for (int oy0 = 0; oy0 < g->OH; oy0 += rows) {
    const int oy1 = imin(g->OH, oy0 + rows), L = (oy1 - oy0) * g->OW;
    gemm(true, false, M, L, g->cout_g, wg, K, dyg + (size_t)oy0 * g->OW, (int)OHW, 0.0f, col, L);
    col2im_rows(g, col, dx, n, cin0, ci1 - ci0, oy0, oy1);
  }
}

static void data_gemm(const Geom *g, const float *dy, const float *w, float *dx, bool acc) {
  const int T = max_threads(), khw = g->kh * g->kw;
  const long units = (long)g->N * g->G;
  int cb = imax(1, imin(g->cin_g, 256 / khw)); /* channels a block: M = cb*kh*kw rows of cols */
  const long want = 4L * T;
  if (units * ((g->cin_g + cb - 1) / cb) < want) cb = imax(1, (int)((g->cin_g * units + want - 1) / want));
  const int nb = (g->cin_g + cb - 1) / cb;
  const int rows = imax(1, imin(g->OH, (1 << 18) / imax(1, cb * khw * g->OW))); /* cols <= 1 MiB */
  const long tasks = units * nb;
  blas_single_thread();
  const bool par = conv_macs(g) > 2e5; /* below this a parallel region costs more than it saves */
  (void)par;
  OMP(omp parallel if (par))
  {
    float *col = xmalloc((size_t)cb * khw * rows * g->OW * sizeof(float));
    OMP(omp for schedule(dynamic, 1))
    for (long t = 0; t < tasks; t++) {
      const int b = (int)(t % nb), grp = (int)(t / nb % g->G), n = (int)(t / nb / g->G);
      data_gemm_block(g, dy, w, dx, n, grp, b * cb, imin(g->cin_g, (b + 1) * cb), rows, col, acc);
    }
    free(col);
  }
}

/* 1x1 stride-1 unpadded: dx_g[cin_g x HW] (+)= W_g^T * dy_g, per block of columns. */
static void data_pointwise(const Geom *g, const float *dy, const float *w, float *dx, bool acc) {
  const int T = max_threads();
  const long units = (long)g->N * g->G;
  const int HW = g->H * g->W;
  const int nb = imax(1, imin((HW + 255) / 256, (int)((2L * T + units - 1) / units))); /* column blocks */
  const int span = ((HW + nb - 1) / nb + 15) / 16 * 16;
  const long tasks = units * nb;
  const bool par = conv_macs(g) > 2e5;
  (void)par;
  blas_single_thread();
  OMP(omp parallel for schedule(dynamic, 1) if (par))
  for (long t = 0; t < tasks; t++) {
    const int b = (int)(t % nb), grp = (int)(t / nb % g->G), n = (int)(t / nb / g->G);
    const int j0 = b * span, j1 = imin(HW, j0 + span);
    if (j0 >= j1) continue;
    const float *dyg = dy + ((size_t)n * g->cout + (size_t)grp * g->cout_g) * HW + j0;
    float *dxg = dx + ((size_t)n * g->cin + (size_t)grp * g->cin_g) * HW + j0;
    const float *wg = w + (size_t)grp * g->cout_g * g->cin_g;
    if (!cpu_gemm_wide_tn(g->cin_g, j1 - j0, g->cout_g, wg, g->cin_g, dyg, HW, dxg, HW, acc))
      gemm(true, false, g->cin_g, j1 - j0, g->cout_g, wg, g->cin_g, dyg, HW, acc ? 1.0f : 0.0f, dxg, HW);
  }
}

/* Depthwise, stride 1, written (not accumulated): dx is the forward depthwise conv of dy with the kernel turned
   by 180 degrees and padding (k - 1) * d - p, which cpu_conv2d runs with cpu_dw_row's register sums (the
   scatter of data_direct_plane reads and writes dx once per tap). False where that does not apply. */
static bool data_depthwise_as_conv(const Geom *g, const float *dy, Shape ys, const float *w, float *dx, Shape xs) {
  const int ph = (g->kh - 1) * g->dh - g->ph, pw = (g->kw - 1) * g->dw - g->pw, khw = g->kh * g->kw;
  if (g->cin_g != 1 || g->cout_g != 1 || g->sh != 1 || g->sw != 1 || ph < 0 || pw < 0 || g->kh > CPU_FUSED_IR_MAX_K ||
      g->kw > CPU_FUSED_IR_MAX_K)
    return false;
  float *wf = malloc((size_t)g->cin * khw * sizeof *wf);
  if (!wf) return false;
  for (int c = 0; c < g->cin; c++)
    for (int t = 0; t < khw; t++) wf[(size_t)c * khw + t] = w[(size_t)c * khw + khw - 1 - t];
  const ConvParams q = {g->kh, g->kw, 1, 1, ph, pw, g->dh, g->dw, g->cin, CONV_ACT_NONE};
  cpu_conv2d(dy, ys, wf, NULL, &q, dx, xs);
  free(wf);
  return true;
}

/* Plane (n, ci) of a stride-2 depthwise conv's data gradient, gathered row by row (cpu_dw_data_s2_plane); false where
   that does not apply (not depthwise, another stride, a kernel wider than cpu_dw_row's, out of memory). */
static bool data_depthwise_s2(const Geom *g, const float *dy, const float *w, float *dx, int n, int ci, bool acc) {
  if (g->cin_g != 1 || g->cout_g != 1 || g->sh != 2 || g->sw != 2) return false;
  float *scratch = malloc(((size_t)g->W + 1) * sizeof *scratch);
  const bool ok = scratch && cpu_dw_data_s2_plane(dy + ((size_t)n * g->cout + ci) * g->OH * g->OW, g->OH, g->OW,
                                                  w + (size_t)ci * g->kh * g->kw, g->kh, g->kw, g->ph, g->pw, g->dh,
                                                  g->dw, dx + ((size_t)n * g->cin + ci) * g->H * g->W, g->H, g->W, acc,
                                                  scratch);
  free(scratch);
  return ok;
}

void cpu_conv2d_backward_data(const float *dy, Shape ys, const float *w, const ConvParams *p, float *dx, Shape xs,
                              bool acc) {
  Geom g = geom_make(xs, ys, p, "cpu_conv2d_backward_data");
  const bool par = conv_macs(&g) > 2e5;
  (void)par;
  if (shape_numel(ys) == 0 || g.cin_g == 0) {
    if (!acc) memset(dx, 0, shape_numel(xs) * sizeof(float));
  } else if (!acc && data_depthwise_as_conv(&g, dy, ys, w, dx, xs)) { /* done */
  } else if (use_direct(&g)) {
    const long planes = (long)g.N * g.cin;
    OMP(omp parallel for schedule(dynamic, 1) if (par))
    for (long pl = 0; pl < planes; pl++)
      if (!data_depthwise_s2(&g, dy, w, dx, (int)(pl / g.cin), (int)(pl % g.cin), acc))
        data_direct_plane(&g, dy, w, dx, (int)(pl / g.cin), (int)(pl % g.cin), acc);
  } else if (is_pointwise(&g)) {
    data_pointwise(&g, dy, w, dx, acc);
  } else {
    data_gemm(&g, dy, w, dx, acc);
  }
  free(g.lo);
}

/* ---- sgemm path: weight ---- */

/* im2col of output rows [oy0, oy1) of group grp of sample n: col[(ci*kh + ky)*kw + kx][(oy-oy0)*OW + ox]. */
static void im2col_rows(const Geom *g, const float *x, int n, int grp, int oy0, int oy1, float *col) {
  const size_t L = (size_t)(oy1 - oy0) * g->OW;
  const float *xg = x + ((size_t)n * g->cin + (size_t)grp * g->cin_g) * g->H * g->W;
  for (int ci = 0; ci < g->cin_g; ci++)
    for (int ky = 0; ky < g->kh; ky++)
      for (int kx = 0; kx < g->kw; kx++) {
        float *crow = col + ((size_t)(ci * g->kh + ky) * g->kw + kx) * L;
        const int off = kx * g->dw - g->pw, l = g->lo[kx], h = g->hi[kx];
        for (int oy = oy0; oy < oy1; oy++) {
          float *restrict c = crow + (size_t)(oy - oy0) * g->OW;
          const int iy = oy * g->sh - g->ph + ky * g->dh;
          memset(c, 0, (size_t)g->OW * sizeof(float));
          if (iy < 0 || iy >= g->H) continue;
          const float *restrict xr = xg + ((size_t)ci * g->H + iy) * g->W;
          for (int ox = l; ox < h; ox++) c[ox] = xr[(size_t)ox * g->sw + off];
        }
      }
}

/* dwt[cout x K] += dy * im2col(x)^T over output rows [oy0, oy1) of group grp of sample n. */
static void weight_gemm_rows(const Geom *g, const float *x, const float *dy, float *dwt, int n, int grp, int oy0, int oy1,
                             float *col) {
  const int K = g->cin_g * g->kh * g->kw, L = (oy1 - oy0) * g->OW;
  const size_t OHW = (size_t)g->OH * g->OW;
  const float *dyg = dy + ((size_t)n * g->cout + (size_t)grp * g->cout_g) * OHW + (size_t)oy0 * g->OW;
  const float *B;
  int ldb;
  if (col) {
    im2col_rows(g, x, n, grp, oy0, oy1, col);
    B = col;
    ldb = L;
  } else { /* pointwise: the input rows themselves */
    B = x + ((size_t)n * g->cin + (size_t)grp * g->cin_g) * OHW + (size_t)oy0 * g->OW;
    ldb = (int)OHW;
  }
  float *dwg = dwt + (size_t)grp * g->cout_g * K;
  if (!cpu_gemm_wide_nt(g->cout_g, K, L, dyg, (int)OHW, B, ldb, dwg, K))
    gemm(false, true, g->cout_g, K, L, dyg, (int)OHW, B, ldb, 1.0f, dwg, K);
}

static void weight_gemm(const Geom *g, const float *x, const float *dy, float *dw) {
  const int T = max_threads(), K = g->cin_g * g->kh * g->kw;
  const bool pointwise = is_pointwise(g);
  const long units = (long)g->N * g->G;
  const size_t nw = (size_t)g->cout * K;
  int rows = pointwise ? imax(1, imin(g->OH, (1 << 16) / imax(1, g->OW)))
                       : imax(1, imin(g->OH, (1 << 18) / imax(1, K * g->OW))); /* im2col chunk <= 1 MiB */
  if (units * ((g->OH + rows - 1) / rows) < 2L * T) rows = imax(1, (int)((g->OH * units + 2L * T - 1) / (2L * T)));
  const int nrb = (g->OH + rows - 1) / rows;
  const long tasks = units * nrb;
  float **part = xcalloc((size_t)T, sizeof(float *)); /* per-thread copies of dw */
  const bool par = conv_macs(g) > 2e5;
  (void)par;
  blas_single_thread();
  OMP(omp parallel if (par))
  {
#ifdef _OPENMP
    const int tid = omp_get_thread_num();
#else
    const int tid = 0;
#endif
    float *dwt = part[tid] = xcalloc(nw, sizeof(float));
    float *col = pointwise ? NULL : xmalloc((size_t)K * rows * g->OW * sizeof(float));
    OMP(omp for schedule(static))
    for (long t = 0; t < tasks; t++) {
      const int rb = (int)(t % nrb), grp = (int)(t / nrb % g->G), n = (int)(t / nrb / g->G);
      weight_gemm_rows(g, x, dy, dwt, n, grp, rb * rows, imin(g->OH, (rb + 1) * rows), col);
    }
    free(col);
  }
  OMP(omp parallel for schedule(static) if (nw * T > (1 << 16)))
  for (size_t i = 0; i < nw; i++) {
    float s = 0.0f;
    for (int t = 0; t < T; t++)
      if (part[t]) s += part[t][i];
    dw[i] += s;
  }
  for (int t = 0; t < T; t++) free(part[t]);
  free(part);
}

/* db[co] += sum of dy[:, co] (in double) */
static void bias_grad(const Geom *g, const float *dy, float *db) {
  const size_t OHW = (size_t)g->OH * g->OW;
  OMP(omp parallel for schedule(static) if ((double)g->N * g->cout * OHW > (1 << 16)))
  for (int co = 0; co < g->cout; co++) {
    double s = 0.0;
    for (int n = 0; n < g->N; n++) {
      const float *d = dy + ((size_t)n * g->cout + co) * OHW;
      OMP(omp simd reduction(+ : s))
      for (size_t i = 0; i < OHW; i++) s += d[i];
    }
    db[co] += (float)s;
  }
}

void cpu_conv2d_backward_weight(const float *x, Shape xs, const float *dy, Shape ys, const ConvParams *p, float *dw,
                                float *db_or_null) {
  Geom g = geom_make(xs, ys, p, "cpu_conv2d_backward_weight");
  const bool par = conv_macs(&g) > 2e5;
  (void)par;
  if (shape_numel(ys) > 0 && g.cin_g > 0) {
    if (use_direct(&g)) {
      const long pairs = (long)g.cout * g.cin_g;
      OMP(omp parallel for schedule(dynamic, 1) if (par))
      for (long t = 0; t < pairs; t++) weight_direct_pair(&g, x, dy, dw, (int)(t / g.cin_g), (int)(t % g.cin_g));
    } else {
      weight_gemm(&g, x, dy, dw);
    }
  }
  if (db_or_null) bias_grad(&g, dy, db_or_null);
  free(g.lo);
}
