/* cpu_conv_narrow.c - convolutions with a short reduction (every output reads at most CPU_NARROW_K input values: the
 * stem, 3 -> 16 channels, 3x3, stride 2) computed directly. im2col + gemm wrote and read back a K x OW matrix for
 * every output row, and the gemm's k is too short to hide that. Here each task keeps a ring of the input rows its
 * output rows read, zero-padded (stride 2: deinterleaved, even columns then odd), so every tap of an output row is a
 * contiguous run of one ring row; the sums of 8 output channels x 16 columns stay in registers over all K taps.
 * Stride 1 or 2, any padding and dilation, groups 1. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cpu_conv_internal.h"
#include "cpu_ops.h"
#include "cpu_simd.h"
#include "omp_pragma.h"
#if defined(__SSE__)
#include <immintrin.h>
#endif

enum { CB = 8, VW = 16 }; /* output channels x columns of one register block */

static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int imax(int a, int b) { return a > b ? a : b; }

bool cpu_conv_narrow_fits(Shape xs, const ConvParams *p, Shape ys) {
  const int groups = p->groups > 0 ? p->groups : 1;
  const bool pointwise = p->kh == 1 && p->kw == 1 && p->sh == 1 && p->sw == 1 && p->ph == 0 && p->pw == 0;
  return groups == 1 && !pointwise && ys.c >= CB && xs.c * p->kh * p->kw <= CPU_NARROW_K && (p->sw == 1 || p->sw == 2) &&
         p->sh >= 1 && p->kw * p->dw <= 64 && ys.w >= VW; /* pointwise convs read the input in place (cpu_conv2d) */
}

typedef struct NarrowGeom {
  int cin, H, W, cout, OH, OW, K, R; /* K taps; R ring rows per input channel */
  int Wp, half;                      /* padded row length; stride 2: where its odd half starts */
  bool stream;                       /* the output is written past the caches (CPU_STREAM_MIN_BYTES) */
  const ConvParams *p;
} NarrowGeom;

static NarrowGeom geometry(Shape xs, const ConvParams *p, Shape ys) {
  NarrowGeom g = {xs.c, xs.h, xs.w, ys.c, ys.h, ys.w, xs.c * p->kh * p->kw, (p->kh - 1) * p->dh + 1, 0, 0,
                  shape_numel(ys) * sizeof(float) >= CPU_STREAM_MIN_BYTES, p};
  const int owpad = (g.OW + VW - 1) / VW * VW, reach = (p->kw - 1) * p->dw;
  const int need = p->sw == 2 ? 2 * (owpad + reach / 2 + 1) : owpad + reach;
  g.Wp = (imax(need, g.W + p->pw) + 31) / 32 * 32;
  g.half = g.Wp / 2;
  return g;
}

/* Input row iy of channel ci, zero-padded by pw on the left (and to Wp on the right), into slot (deinterleaved
   through tmp for stride 2); a row outside the image is all zeros. */
static void load_row(const NarrowGeom *g, const float *xc, int iy, float *slot, float *tmp) {
  const int pw = g->p->pw;
  float *dst = g->p->sw == 2 ? tmp : slot;
  if (iy < 0 || iy >= g->H) {
    memset(slot, 0, (size_t)g->Wp * sizeof *slot);
    return;
  }
  const int l = imax(0, pw), src0 = imax(0, -pw), n = imin(g->W - src0, g->Wp - l);
  memset(dst, 0, (size_t)l * sizeof *dst);
  memcpy(dst + l, xc + (size_t)iy * g->W + src0, (size_t)n * sizeof *dst);
  memset(dst + l + n, 0, (size_t)(g->Wp - l - n) * sizeof *dst);
  if (g->p->sw == 2) cpu_deinterleave(tmp, g->Wp, slot);
}

/* Output columns [0, OW) of channels [co, co + CB) of one row: y[c][ox] = act(bias + sum over taps t of
   wt[t][c] * tap[t][ox]); wt is [K][CB] (zero for channels past cout), y rows OHW apart, `nc` of them written. */
/* One register block's sums, bias, activation and store (only the n columns from ox that exist). */
__attribute__((always_inline)) static inline void store_block(v16 v, int act, float *dst, int n, bool stream) {
  cpu_act16(&v, act);
#if defined(__SSE__)
  if (stream && n >= VW && !((uintptr_t)dst & 15)) { /* past the caches (CPU_STREAM_MIN_BYTES) */
    _mm_stream_ps(dst, (__m128)__builtin_shufflevector(v, v, 0, 1, 2, 3));
    _mm_stream_ps(dst + 4, (__m128)__builtin_shufflevector(v, v, 4, 5, 6, 7));
    _mm_stream_ps(dst + 8, (__m128)__builtin_shufflevector(v, v, 8, 9, 10, 11));
    _mm_stream_ps(dst + 12, (__m128)__builtin_shufflevector(v, v, 12, 13, 14, 15));
    return;
  }
#else
  (void)stream;
#endif
  if (n >= VW) *(v16u *)dst = v;
  else
    for (int j = 0; j < n; j++) dst[j] = v[j];
}

/* Output columns [0, OW) of channels [co, co + CB) of one row: y[c][ox] = act(bias + sum over taps t of
   wt[t][c] * tap[t][ox]); wt is [K][CB] (zero for channels past cout), y rows OHW apart, `nc` of them written.
   Two column blocks at a time (16 sums in registers), then one; stream: with non-temporal stores. */
SQN_ISA_CLONES
static void narrow_row(const float *const *tap, int K, const float *wt, const float *bias, int act, int OW, float *y,
                       size_t OHW, int nc, bool stream) {
  int ox = 0;
  for (; ox + VW < OW; ox += 2 * VW) {
    v16 a[CB], b[CB];
    for (int c = 0; c < CB; c++) a[c] = b[c] = (v16){0} + (bias && c < nc ? bias[c] : 0.0f);
    for (int t = 0; t < K; t++) {
      const v16 x0 = *(const v16u *)(tap[t] + ox), x1 = *(const v16u *)(tap[t] + ox + VW);
      const float *w = wt + (size_t)t * CB;
      for (int c = 0; c < CB; c++) a[c] += w[c] * x0, b[c] += w[c] * x1;
    }
    for (int c = 0; c < nc; c++) {
      store_block(a[c], act, y + (size_t)c * OHW + ox, VW, stream);
      store_block(b[c], act, y + (size_t)c * OHW + ox + VW, OW - ox - VW, stream);
    }
  }
  for (; ox < OW; ox += VW) {
    v16 a[CB];
    for (int c = 0; c < CB; c++) a[c] = (v16){0} + (bias && c < nc ? bias[c] : 0.0f);
    for (int t = 0; t < K; t++) {
      const v16 xv = *(const v16u *)(tap[t] + ox);
      const float *w = wt + (size_t)t * CB;
      for (int c = 0; c < CB; c++) a[c] += w[c] * xv;
    }
    for (int c = 0; c < nc; c++) store_block(a[c], act, y + (size_t)c * OHW + ox, OW - ox, stream);
  }
}

/* Output rows [oy0, oy1) of sample n, every output channel. ring: [cin][R][Wp] (slot key in keys), tmp: Wp. */
static void narrow_rows(const NarrowGeom *g, const float *x, const float *wt, const float *bias, float *y, int n, int oy0,
                        int oy1, float *ring, int *keys, float *tmp) {
  const ConvParams *p = g->p;
  const float *tap[CPU_NARROW_K];
  const size_t OHW = (size_t)g->OH * g->OW;
  for (int i = 0; i < g->cin * g->R; i++) keys[i] = INT_MIN;
  for (int oy = oy0; oy < oy1; oy++) {
    for (int ci = 0; ci < g->cin; ci++)
      for (int ky = 0; ky < p->kh; ky++) {
        const int iy = oy * p->sh - p->ph + ky * p->dh, s = ci * g->R + ((iy % g->R) + g->R) % g->R;
        float *slot = ring + (size_t)s * g->Wp;
        if (keys[s] != iy) load_row(g, x + ((size_t)n * g->cin + ci) * g->H * g->W, iy, slot, tmp), keys[s] = iy;
        for (int kx = 0; kx < p->kw; kx++) {
          const int c0 = kx * p->dw;
          tap[(ci * p->kh + ky) * p->kw + kx] = p->sw == 2 ? slot + (c0 & 1 ? g->half + c0 / 2 : c0 / 2) : slot + c0;
        }
      }
    for (int co = 0; co < g->cout; co += CB)
      narrow_row(tap, g->K, wt + (size_t)co * g->K, bias ? bias + co : NULL, p->act, g->OW,
                 y + ((size_t)n * g->cout + co) * OHW + (size_t)oy * g->OW, OHW, imin(CB, g->cout - co), g->stream);
  }
}

/* w [cout][K] as blocks of CB channels, each [K][CB], zero-padded past cout. */
static float *transpose_weights(const float *w, int cout, int K) {
  const int blocks = (cout + CB - 1) / CB;
  float *wt = calloc((size_t)blocks * K * CB, sizeof *wt);
  if (!wt) {
    fprintf(stderr, "cpu_conv2d: out of memory\n");
    abort();
  }
  for (int co = 0; co < cout; co++)
    for (int t = 0; t < K; t++) wt[((size_t)(co / CB) * K + t) * CB + co % CB] = w[(size_t)co * K + t];
  return wt;
}

void cpu_conv_narrow(const float *x, Shape xs, const float *w, const float *bias, const ConvParams *p, float *y,
                     Shape ys) {
  const NarrowGeom g = geometry(xs, p, ys);
  float *wt = transpose_weights(w, g.cout, g.K);
  const int T = cpu_conv_threads();
  const int rows = imax(1, imin(16, (int)(((long)ys.n * g.OH + 4L * T - 1) / (4L * T)))); /* >= 4 tasks a thread */
  const int nrb = (g.OH + rows - 1) / rows;
  const long tasks = (long)ys.n * nrb;
  OMP(omp parallel if (tasks > 1))
  {
    const size_t ring_floats = (size_t)g.cin * g.R * g.Wp;
    float *ring = malloc((ring_floats + g.Wp) * sizeof *ring);
    int *keys = malloc((size_t)g.cin * g.R * sizeof *keys);
    if (!ring || !keys) {
      fprintf(stderr, "cpu_conv2d: out of memory\n");
      abort();
    }
    OMP(omp for schedule(dynamic, 1))
    for (long t = 0; t < tasks; t++) {
      const int n = (int)(t / nrb), rb = (int)(t % nrb);
      narrow_rows(&g, x, wt, bias, y, n, rb * rows, imin(g.OH, (rb + 1) * rows), ring, keys, ring + ring_floats);
    }
#if defined(__SSE__)
    if (g.stream) _mm_sfence(); /* the streamed rows are visible before the region's barrier */
#endif
    free(ring);
    free(keys);
  }
  free(wt);
}
