/* cpu_conv.c - cpu_conv2d (float32, NCHW, zero padding, groups, dilation).
 * Three paths:
 *  - convolutions with at most CPU_NARROW_K taps per output (the stem) go to cpu_conv_narrow.c;
 *  - direct loops when a group has few output channels (depthwise, ASPP's 2-channel groups): one task per
 *    (sample, output channel, block of rows), each output row accumulated over its taps in cache; depthwise convs of
 *    stride 1 or 2 with the sums in registers (cpu_dw_row.c, shared with the fused inverted residual), their input
 *    rows read in place, deinterleaved (stride 2) or zero-padded (narrow rows: dw_pad);
 *  - sgemm otherwise: per (sample, group, block of output rows) C[cout_g x rows*OW] = W_g[cout_g x K] * B,
 *    where B is the input itself for 1x1 stride-1 unpadded convs and an im2col buffer (K = cin_g*kh*kw rows)
 *    for the rest. sgemm is CBLAS (OpenBLAS, single-threaded inside our OpenMP tasks) when SQN_HAVE_CBLAS,
 *    else a plain blocked loop.
 * Everything accumulates in float, as PyTorch does. */
#include "cpu_ops.h"
#include "cpu_conv_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "omp_pragma.h"
#ifdef SQN_HAVE_CBLAS
#include <cblas.h>
#endif

int cpu_conv_threads(void) {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

#if defined(SQN_HAVE_CBLAS) && defined(SQN_HAVE_OPENBLAS_THREADS) && defined(_OPENMP)
/* Our OpenMP tasks call sgemm concurrently: keep OpenBLAS's own pthread pool out of it (two pools spinning on
   2 cores fight). Only for the pthreads build (openblas_get_parallel() == 1): the OpenMP build runs
   single-threaded inside a parallel region by itself, and its openblas_set_num_threads would also change the
   OpenMP thread count. Idempotent and cheap, so it is simply called before every parallel sgemm. */
void cpu_blas_single_thread(void) {
  if (openblas_get_parallel() == 1) openblas_set_num_threads(1);
}
#else
void cpu_blas_single_thread(void) {}
#endif

static inline int floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); } /* b > 0 */
static inline int ceil_div(int a, int b) { return -floor_div(-a, b); }
static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int imax(int a, int b) { return a > b ? a : b; }

/* Output columns ox whose input column ox*sw + off lies in [0, W): [*lo, *hi) (may be empty). */
void cpu_conv_valid_cols(int off, int sw, int W, int OW, int *lo, int *hi) {
  *lo = imin(OW, imax(0, ceil_div(-off, sw)));
  *hi = imin(OW, floor_div(W - 1 - off, sw) + 1);
  if (*hi < *lo) *hi = *lo;
}

/* C[m x n] (ldc) = A[m x k] (lda) * B[k x n] (ldb), row-major, in the calling thread. */
void cpu_sgemm(int m, int n, int k, const float *A, int lda, const float *B, int ldb, float *C, int ldc) {
#ifdef SQN_HAVE_CBLAS
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, A, lda, B, ldb, 0.0f, C, ldc);
#else
  enum { NB = 256 };
  float acc[4][NB];
  for (int j0 = 0; j0 < n; j0 += NB) {
    const int nj = imin(NB, n - j0);
    int i = 0;
    for (; i + 4 <= m; i += 4) {
      memset(acc, 0, sizeof acc);
      for (int kk = 0; kk < k; kk++) {
        const float a0 = A[(size_t)i * lda + kk], a1 = A[(size_t)(i + 1) * lda + kk];
        const float a2 = A[(size_t)(i + 2) * lda + kk], a3 = A[(size_t)(i + 3) * lda + kk];
        const float *restrict b = B + (size_t)kk * ldb + j0;
        for (int j = 0; j < nj; j++) {
          const float bj = b[j];
          acc[0][j] += a0 * bj;
          acc[1][j] += a1 * bj;
          acc[2][j] += a2 * bj;
          acc[3][j] += a3 * bj;
        }
      }
      for (int r = 0; r < 4; r++) memcpy(C + (size_t)(i + r) * ldc + j0, acc[r], (size_t)nj * sizeof(float));
    }
    for (; i < m; i++) {
      float *restrict c = acc[0];
      memset(c, 0, sizeof acc[0]);
      for (int kk = 0; kk < k; kk++) {
        const float a = A[(size_t)i * lda + kk];
        const float *restrict b = B + (size_t)kk * ldb + j0;
        for (int j = 0; j < nj; j++) c[j] += a * b[j];
      }
      memcpy(C + (size_t)i * ldc + j0, c, (size_t)nj * sizeof(float));
    }
  }
#endif
}

/* C = act(A * B + bias[row]) by the fastest way the CPU has: cpu_gemm_wide (AVX-512), else cpu_gemm_smallk for
   k <= CPU_SMALL_K, else sgemm and then the epilogue over each row. */
void cpu_gemm_bias_act(int m, int n, int k, const float *A, int lda, const float *B, int ldb, float *C, int ldc,
                       const float *bias, int act) {
  if (cpu_gemm_wide(m, n, k, A, lda, B, ldb, C, ldc, bias, act)) return;
  if (k <= CPU_SMALL_K) return cpu_gemm_smallk(m, n, k, A, lda, B, ldb, C, ldc, bias, act);
  cpu_sgemm(m, n, k, A, lda, B, ldb, C, ldc);
  if (bias || act)
    for (int r = 0; r < m; r++) cpu_conv_epilogue(C + (size_t)r * ldc, (size_t)n, bias, r, act);
}

/* A thread's scratch of `bytes` (NULL for none); running out of memory here ends the process, as in sgemm. */
static void *scratch_or_abort(size_t bytes) {
  void *p = bytes ? malloc(bytes) : NULL;
  if (bytes && !p) {
    fprintf(stderr, "cpu_conv2d: out of memory\n");
    abort();
  }
  return p;
}

typedef struct ConvGeom {
  int N, cin, H, W, cout, OH, OW, G, cin_g, cout_g;
  const ConvParams *p;
  const int *lo, *hi; /* per kx: the valid output columns [lo, hi) (see valid_cols) */
} ConvGeom;

/* Bias and activation over n outputs of one channel. */
void cpu_conv_epilogue(float *restrict r, size_t n, const float *bias, int co, int act) {
  if (bias) {
    const float b = bias[co];
    for (size_t j = 0; j < n; j++) r[j] += b;
  }
  if (act == CONV_ACT_RELU)
    for (size_t j = 0; j < n; j++) r[j] = r[j] < 0.0f ? 0.0f : r[j]; /* NaN passes, as in PyTorch */
  else if (act == CONV_ACT_RELU6)
    for (size_t j = 0; j < n; j++) r[j] = r[j] < 0.0f ? 0.0f : r[j] > 6.0f ? 6.0f : r[j];
}

/* Direct path: output rows [oy0, oy1) of channel co of sample n. */
static void conv_direct_rows(const ConvGeom *gm, const float *x, const float *w, const float *bias, float *y, int n, int co,
                             int oy0, int oy1) {
  const ConvParams *p = gm->p;
  const int H = gm->H, W = gm->W, OW = gm->OW, cin_g = gm->cin_g, kh = p->kh, kw = p->kw;
  const int g = co / gm->cout_g;
  const float *xg = x + ((size_t)n * gm->cin + (size_t)g * cin_g) * H * W;
  const float *wc = w + (size_t)co * cin_g * kh * kw;
  float *yp = y + ((size_t)n * gm->cout + co) * gm->OH * OW;
  const int *lo = gm->lo, *hi = gm->hi;
  for (int oy = oy0; oy < oy1; oy++) {
    float *restrict yr = yp + (size_t)oy * OW;
    for (int ox = 0; ox < OW; ox++) yr[ox] = 0.0f;
    for (int ci = 0; ci < cin_g; ci++) {
      const float *xc = xg + (size_t)ci * H * W;
      for (int ky = 0; ky < kh; ky++) {
        const int iy = oy * p->sh - p->ph + ky * p->dh;
        if (iy < 0 || iy >= H) continue;
        const float *xrow = xc + (size_t)iy * W;
        const float *wr = wc + ((size_t)ci * kh + ky) * kw;
        for (int kx = 0; kx < kw; kx++) {
          const float wv = wr[kx];
          const int off = kx * p->dw - p->pw, l = lo[kx], h = hi[kx];
          if (p->sw == 1) {
            const float *restrict xr = xrow + off;
            for (int ox = l; ox < h; ox++) yr[ox] += wv * xr[ox];
          } else {
            const int sw = p->sw;
            const float *restrict xr = xrow + off;
            for (int ox = l; ox < h; ox++) yr[ox] += wv * xr[(size_t)ox * sw];
          }
        }
      }
    }
    cpu_conv_epilogue(yr, (size_t)OW, bias, co, p->act);
  }
}

/* A stride-1 depthwise conv whose edge columns (where some tap reads outside the row) are a sixteenth or more of the
   output row reads zero-padded copies of its input rows instead, so that cpu_dw_row runs every column with its
   vector sums (on a 49-wide row a 5x5 kernel with dilation 2 has 8 edge columns, which cpu_dw_row would sum one by
   one); padl zeros are put before each row and the row is padw wide. */
typedef struct DwPad {
  bool on;
  int padl, padw;
  CpuDwCols dc; /* the columns of the padded rows: every tap in bounds */
} DwPad;

static DwPad dw_pad(const ConvParams *p, int W, int OW, const CpuDwCols *dc) {
  DwPad d = {.on = p->sw == 1 && (OW - (dc->H - dc->L)) * 16 >= OW};
  if (!d.on) return d;
  const int last = (p->kw - 1) * p->dw - p->pw; /* the last tap's column offset */
  d.padl = imax(0, p->pw);
  d.padw = d.padl + W + imax(0, OW + last - W);
  d.dc.step = 1, d.dc.L = 0, d.dc.H = OW;
  for (int kx = 0; kx < p->kw; kx++) d.dc.colo[kx] = kx * p->dw - p->pw + d.padl, d.dc.lo[kx] = 0, d.dc.hi[kx] = OW;
  return d;
}

/* row iy of plane xc as the depthwise path reads it: in place (stride 1), or copied into `ring` (R rows, row iy in
   slot iy % R, keys[slot] = the row held there, -1 none): deinterleaved at stride 2, zero-padded under pad */
static const float *dw_input_row(const ConvGeom *gm, const DwPad *pad, const float *xc, int iy, float *ring, int *keys,
                                 int R) {
  const int W = gm->W;
  if (gm->p->sw == 1 && !pad->on) return xc + (size_t)iy * W;
  const int width = pad->on ? pad->padw : W;
  float *slot = ring + (size_t)(iy % R) * width;
  if (keys[iy % R] == iy) return slot;
  keys[iy % R] = iy;
  if (!pad->on) {
    cpu_deinterleave(xc + (size_t)iy * W, W, slot);
    return slot;
  }
  memset(slot, 0, (size_t)pad->padl * sizeof(float));
  memcpy(slot + pad->padl, xc + (size_t)iy * W, (size_t)W * sizeof(float));
  memset(slot + pad->padl + W, 0, (size_t)(width - pad->padl - W) * sizeof(float));
  return slot;
}

/* Depthwise path (one input and one output channel per group, stride 1 or 2): output rows [oy0, oy1) of channel co of
   sample n with cpu_dw_row, reading the input rows through dw_input_row. */
static void conv_dw_rows(const ConvGeom *gm, const CpuDwCols *dc, const DwPad *pad, const float *x, const float *w,
                         const float *bias, float *y, int n, int co, int oy0, int oy1, float *ring, int *keys, int R) {
  const ConvParams *p = gm->p;
  const int H = gm->H, W = gm->W, OW = gm->OW, kh = p->kh;
  const float *xc = x + ((size_t)n * gm->cin + co) * H * W, *wc = w + (size_t)co * kh * p->kw;
  float *yp = y + ((size_t)n * gm->cout + co) * gm->OH * OW;
  const float *rows[CPU_FUSED_IR_MAX_K];
  for (int r = 0; r < R; r++) keys[r] = -1;
  for (int oy = oy0; oy < oy1; oy++) {
    for (int ky = 0; ky < kh; ky++) {
      const int iy = oy * p->sh - p->ph + ky * p->dh;
      rows[ky] = iy < 0 || iy >= H ? NULL : dw_input_row(gm, pad, xc, iy, ring, keys, R);
    }
    float *yr = yp + (size_t)oy * OW;
    cpu_dw_row(yr, rows, wc, kh, p->kw, OW, pad->on ? &pad->dc : dc, bias ? bias + co : NULL, p->act);
  }
}

/* im2col of output rows [oy0, oy1) of group g of sample n: col[(ci*kh + ky)*kw + kx][(oy-oy0)*OW + ox]. */
static void im2col_rows(const ConvGeom *gm, const float *x, int n, int g, int oy0, int oy1, float *col) {
  const ConvParams *p = gm->p;
  const int H = gm->H, W = gm->W, OW = gm->OW, kh = p->kh, kw = p->kw, sw = p->sw;
  const size_t L = (size_t)(oy1 - oy0) * OW;
  const float *xg = x + ((size_t)n * gm->cin + (size_t)g * gm->cin_g) * H * W;
  const int *lo = gm->lo, *hi = gm->hi;
  for (int ci = 0; ci < gm->cin_g; ci++)
    for (int ky = 0; ky < kh; ky++)
      for (int kx = 0; kx < kw; kx++) {
        float *crow = col + ((size_t)(ci * kh + ky) * kw + kx) * L;
        const int off = kx * p->dw - p->pw, l = lo[kx], h = hi[kx];
        for (int oy = oy0; oy < oy1; oy++) {
          float *restrict c = crow + (size_t)(oy - oy0) * OW;
          const int iy = oy * p->sh - p->ph + ky * p->dh;
          if (iy < 0 || iy >= H) {
            memset(c, 0, (size_t)OW * sizeof(float));
            continue;
          }
          const float *restrict xr = xg + ((size_t)ci * H + iy) * W + off;
          for (int ox = 0; ox < l; ox++) c[ox] = 0.0f;
          if (sw == 1) memcpy(c + l, xr + l, (size_t)(h - l) * sizeof(float));
          else
            for (int ox = l; ox < h; ox++) c[ox] = xr[(size_t)ox * sw];
          for (int ox = h; ox < OW; ox++) c[ox] = 0.0f;
        }
      }
}

void cpu_conv2d(const float *x, Shape xs, const float *w, const float *bias, const ConvParams *p, float *y, Shape ys) {
  ConvGeom gm = {.N = xs.n, .cin = xs.c, .H = xs.h, .W = xs.w, .cout = ys.c, .OH = ys.h, .OW = ys.w, .p = p};
  gm.G = p->groups > 0 ? p->groups : 1;
  gm.cin_g = gm.cin / gm.G;
  gm.cout_g = gm.cout / gm.G;
  if (shape_numel(ys) == 0) return;
  if (cpu_conv_narrow_fits(xs, p, ys)) return cpu_conv_narrow(x, xs, w, bias, p, y, ys);
  const int kw = p->kw, OW = gm.OW, OH = gm.OH, N = gm.N;
  int lohi_small[2 * 16], *lohi = lohi_small;
  if (kw > 16 && !(lohi = malloc(2 * (size_t)kw * sizeof(int)))) {
    fprintf(stderr, "cpu_conv2d: out of memory\n");
    abort();
  }
  int *lo = lohi, *hi = lohi + kw;
  gm.lo = lo;
  gm.hi = hi;
  for (int kx = 0; kx < kw; kx++) cpu_conv_valid_cols(kx * p->dw - p->pw, p->sw, gm.W, OW, &lo[kx], &hi[kx]);

  const int T = cpu_conv_threads();
  const double macs = (double)shape_numel(ys) * gm.cin_g * p->kh * kw;
  const int par = macs > 2e5; /* below this a parallel region costs more than it saves */
  (void)par;

  if (gm.cout_g <= 4) { /* direct: depthwise, narrow groups, few output channels */
    const long planes = (long)N * gm.cout;
    int rows = OH;
    if (planes < 4L * T) { /* too few planes to keep every thread busy: split them into row blocks */
      const int want = (int)((4L * T + planes - 1) / planes);
      rows = imax(1, (OH + want - 1) / want);
    }
    const int nrb = (OH + rows - 1) / rows;
    const long tasks = planes * nrb;
    CpuDwCols dc;
    const bool dw = gm.cin_g == 1 && gm.cout_g == 1 && (p->sw == 1 || p->sw == 2) && p->kh <= CPU_FUSED_IR_MAX_K &&
                    cpu_dw_cols(kw, p->sw, p->dw, p->pw, gm.W, OW, &dc);
    const DwPad pad = dw ? dw_pad(p, gm.W, OW, &dc) : (DwPad){0};
    /* the rows a task keeps: deinterleaved (stride 2) or padded */
    const int R = dw && (p->sw == 2 || pad.on) ? (p->kh - 1) * p->dh + 1 : 0, ring_w = pad.on ? pad.padw : gm.W;
    OMP(omp parallel if (par))
    {
      float *ring = scratch_or_abort(R ? (size_t)R * ring_w * sizeof(float) + (size_t)R * sizeof(int) : 0);
      OMP(omp for schedule(dynamic, 1))
      for (long t = 0; t < tasks; t++) {
        const int rb = (int)(t % nrb);
        const long pl = t / nrb;
        const int n = (int)(pl / gm.cout), co = (int)(pl % gm.cout);
        if (dw) conv_dw_rows(&gm, &dc, &pad, x, w, bias, y, n, co, rb * rows, imin(OH, (rb + 1) * rows), ring,
                             ring ? (int *)(ring + (size_t)R * ring_w) : NULL, R);
        else conv_direct_rows(&gm, x, w, bias, y, n, co, rb * rows, imin(OH, (rb + 1) * rows));
      }
      free(ring);
    }
  } else { /* sgemm per (sample, group, block of output rows) */
    cpu_blas_single_thread();
    const int pointwise = p->kh == 1 && kw == 1 && p->sh == 1 && p->sw == 1 && p->ph == 0 && p->pw == 0 &&
                          OH == gm.H && OW == gm.W;
    const int K = gm.cin_g * p->kh * kw;
    const long units = (long)N * gm.G;
    int rows = OH;
    /* im2col chunk <= 1 MiB-ish; for cpu_gemm_smallk, which reads it once per 4 output channels, <= 128 KiB (L2) */
    if (!pointwise) rows = imax(1, imin(OH, (K <= CPU_SMALL_K ? 1 << 15 : 1 << 18) / imax(1, K * OW)));
    if (units < 2L * T) {
      const int want = (int)((2L * T + units - 1) / units);
      rows = imin(rows, imax(1, (OH + want - 1) / want));
    }
    const int nrb = (OH + rows - 1) / rows;
    const long tasks = units * nrb;
    const size_t OHW = (size_t)OH * OW;
    OMP(omp parallel if (par))
    {
      float *col = scratch_or_abort(pointwise ? 0 : (size_t)K * rows * OW * sizeof(float));
      OMP(omp for schedule(dynamic, 1))
      for (long t = 0; t < tasks; t++) {
        const int rb = (int)(t % nrb);
        const long u = t / nrb;
        const int n = (int)(u / gm.G), g = (int)(u % gm.G);
        const int oy0 = rb * rows, oy1 = imin(OH, oy0 + rows);
        const int L = (oy1 - oy0) * OW;
        const float *B;
        int ldb;
        if (pointwise) {
          B = x + ((size_t)n * gm.cin + (size_t)g * gm.cin_g) * OHW + (size_t)oy0 * OW;
          ldb = (int)OHW;
        } else {
          im2col_rows(&gm, x, n, g, oy0, oy1, col);
          B = col;
          ldb = L;
        }
        float *C = y + ((size_t)n * gm.cout + (size_t)g * gm.cout_g) * OHW + (size_t)oy0 * OW;
        cpu_gemm_bias_act(gm.cout_g, L, K, w + (size_t)g * gm.cout_g * K, K, B, ldb, C, (int)OHW,
                          bias ? bias + g * gm.cout_g : NULL, p->act);
      }
      free(col);
    }
  }
  if (lohi != lohi_small) free(lohi);
}
