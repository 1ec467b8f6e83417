/* cpu_resize.c - spatial resampling: bilinear and nearest F.interpolate, and crop. The source indices and
 * weights are computed exactly as PyTorch 1.13's CPU upsample kernels do (UpSample.h: area_pixel_compute_scale,
 * area_pixel_compute_source_index, compute_source_index_and_lambda, nearest_idx), including which parts are
 * float and which double. */
#include "cpu_ops.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cpu_resize_index.h"
#include "cpu_simd.h"
#if defined(__AVX__)
#include <immintrin.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif
#include "omp_pragma.h"

/* For each output index: the two source indices and their weights along one axis. As PyTorch 1.13's CPU
   kernel (the version the goldens come from; checked against it): the scale is a float (the size ratio,
   area_pixel_compute_scale<float>), the source index is computed in double (accscalar_t of float on CPU) from
   that float scale, and the weight is rounded to float: lambda1 = (float)clamp(src - i0, 0, 1), lambda0 = 1 - lambda1. */
void cpu_linear_weights(int in, int out, bool align_corners, int *i0, int *i1, float *l0, float *l1) {
  float scale;
  if (align_corners) scale = out > 1 ? (float)(in - 1) / (float)(out - 1) : 0.0f;
  else scale = (float)in / (float)out;
  for (int d = 0; d < out; d++) {
    if (out == in) { /* PyTorch copies in this case */
      i0[d] = i1[d] = d;
      l0[d] = 1.0f;
      l1[d] = 0.0f;
      continue;
    }
    double src;
    if (align_corners) src = (double)scale * d;
    else {
      src = (double)scale * (d + 0.5) - 0.5;
      if (src < 0.0) src = 0.0;
    }
    const int h0 = (int)src;
    i0[d] = h0;
    i1[d] = h0 + (h0 < in - 1 ? 1 : 0);
    const double lam = src - h0;
    l1[d] = (float)(lam < 0.0 ? 0.0 : (lam > 1.0 ? 1.0 : lam));
    l0[d] = 1.0f - l1[d];
  }
}

/* The source row `sy` of plane `xp` interpolated along w (PyTorch's Interpolate<2> does w first, then h). */
static void bilinear_hrow(const float *xp, int W, int sy, const int *x0, const int *x1, const float *lx0,
                          const float *lx1, int OW, float *t) {
  const float *r = xp + (size_t)sy * W;
  for (int ox = 0; ox < OW; ox++) t[ox] = r[x0[ox]] * lx0[ox] + r[x1[ox]] * lx1[ox];
}

/* Rows interpolated along w, cached by (plane, source row): consecutive output rows share their source rows
   (8 of them at x8), so each source row is interpolated along w once per thread instead of once per use. */
typedef struct {
  float *buf[2];
  long key[2]; /* plane * H + source row, -1 when empty */
} HRowCache;

static const float *hrow_get(HRowCache *c, const float *xp, long plane_index, int H, int W, int sy, const int *x0,
                             const int *x1, const float *lx0, const float *lx1, int OW, long pin) {
  const long key = plane_index * H + sy;
  for (int i = 0; i < 2; i++)
    if (c->key[i] == key) return c->buf[i];
  const int slot = c->key[0] == pin ? 1 : 0; /* never evict the row the caller still holds */
  bilinear_hrow(xp, W, sy, x0, x1, lx0, lx1, OW, c->buf[slot]);
  c->key[slot] = key;
  return c->buf[slot];
}

/* The interpolation tables of one resize: source rows/columns and their weights. */
typedef struct {
  int *y0, *y1, *x0, *x1;
  float *ly0, *ly1, *lx0, *lx1;
  void *mem;
} LinearTables;

static void linear_tables(LinearTables *t, int H, int W, int OH, int OW, bool align_corners, const char *who) {
  t->mem = malloc(2 * ((size_t)OH + OW) * (sizeof(int) + sizeof(float)));
  if (!t->mem) {
    fprintf(stderr, "%s: out of memory\n", who);
    abort();
  }
  t->y0 = t->mem;
  t->y1 = t->y0 + OH;
  t->x0 = t->y1 + OH;
  t->x1 = t->x0 + OW;
  t->ly0 = (float *)(t->x1 + OW);
  t->ly1 = t->ly0 + OH;
  t->lx0 = t->ly1 + OH;
  t->lx1 = t->lx0 + OW;
  cpu_linear_weights(H, OH, align_corners, t->y0, t->y1, t->ly0, t->ly1);
  cpu_linear_weights(W, OW, align_corners, t->x0, t->x1, t->lx0, t->lx1);
}

/* yr = ta * wa + tb * wb over n columns; streamed: with non-temporal stores where the CPU build has AVX (the same
   arithmetic in eight lanes; the caller fences). */
static void blend_rows(float *restrict yr, const float *restrict ta, const float *restrict tb, float wa, float wb,
                       int n, bool streamed) {
  int ox = 0;
#if defined(__AVX__)
  if (streamed) {
    for (; ox < n && ((uintptr_t)(yr + ox) & 31); ox++) yr[ox] = ta[ox] * wa + tb[ox] * wb;
    for (; ox + 8 <= n; ox += 8) {
      const v8 v = *(const v8u *)(ta + ox) * wa + *(const v8u *)(tb + ox) * wb;
      _mm256_stream_ps(yr + ox, (__m256)v);
    }
  }
#else
  (void)streamed;
#endif
  for (; ox < n; ox++) yr[ox] = ta[ox] * wa + tb[ox] * wb;
}

/* This thread's share [*lo, *hi) of n rows (contiguous, so that neighbouring rows share cached source rows). */
static void thread_rows(long n, long *lo, long *hi) {
#ifdef _OPENMP
  const long nt = omp_get_num_threads(), id = omp_get_thread_num();
#else
  const long nt = 1, id = 0;
#endif
  *lo = n * id / nt;
  *hi = n * (id + 1) / nt;
}

void cpu_bilinear(const float *x, Shape xs, float *y, Shape ys, bool align_corners) {
  const int H = xs.h, W = xs.w, OH = ys.h, OW = ys.w;
  if (shape_numel(ys) == 0) return;
  LinearTables t;
  linear_tables(&t, H, W, OH, OW, align_corners, "cpu_bilinear");
  const long rows = (long)ys.n * ys.c * OH;
  const bool streamed = shape_numel(ys) * sizeof(float) >= CPU_STREAM_MIN_BYTES;
  OMP(omp parallel if (shape_numel(ys) > (1 << 15)))
  {
    HRowCache cache = {{malloc(2 * (size_t)OW * sizeof(float)), NULL}, {-1, -1}};
    if (!cache.buf[0]) {
      fprintf(stderr, "cpu_bilinear: out of memory\n");
      abort();
    }
    cache.buf[1] = cache.buf[0] + OW;
    long lo, hi;
    thread_rows(rows, &lo, &hi);
    for (long r = lo; r < hi; r++) {
      const long pl = r / OH;
      const int oy = (int)(r % OH);
      const float *xp = x + (size_t)pl * H * W;
      const float *ta = hrow_get(&cache, xp, pl, H, W, t.y0[oy], t.x0, t.x1, t.lx0, t.lx1, OW, -1);
      const float *tb = hrow_get(&cache, xp, pl, H, W, t.y1[oy], t.x0, t.x1, t.lx0, t.lx1, OW, pl * H + t.y0[oy]);
      blend_rows(y + (size_t)r * OW, ta, tb, t.ly0[oy], t.ly1[oy], OW, streamed);
    }
#if defined(__AVX__)
    if (streamed) _mm_sfence(); /* the streamed rows are visible before the region's barrier */
#endif
    free(cache.buf[0]);
  }
  free(t.mem);
}

/* Output rows [lo, hi) of cpu_bilinear_argmax: every channel interpolated with cpu_bilinear's arithmetic (the
   rows along w cached per channel the same way), the running maximum kept per pixel (torch.argmax: the first
   maximum, NaN counts as the largest). */
static void bilinear_argmax_rows(const float *x, Shape xs, const LinearTables *t, long lo, long hi, int OH, int OW,
                                 unsigned char *labels) {
  const int C = xs.c, H = xs.h, W = xs.w;
  const size_t plane = (size_t)H * W;
  float *mem = malloc((size_t)OW * (2 + 2 * (size_t)C) * sizeof(float));
  HRowCache *caches = malloc((size_t)C * sizeof *caches);
  if (!mem || !caches) {
    fprintf(stderr, "cpu_bilinear_argmax: out of memory\n");
    abort();
  }
  float *best = mem, *val = mem + OW;
  for (int c = 0; c < C; c++)
    caches[c] = (HRowCache){{val + OW * (size_t)(1 + 2 * c), val + OW * (size_t)(2 + 2 * c)}, {-1, -1}};
  for (long r = lo; r < hi; r++) {
    const long b = r / OH;
    const int oy = (int)(r % OH);
    const float wa = t->ly0[oy], wb = t->ly1[oy];
    unsigned char *o = labels + (size_t)r * OW;
    for (int c = 0; c < C; c++) {
      const long pi = b * C + c;
      const float *xp = x + (size_t)pi * plane;
      const float *ta = hrow_get(&caches[c], xp, pi, H, W, t->y0[oy], t->x0, t->x1, t->lx0, t->lx1, OW, -1);
      const float *tb = hrow_get(&caches[c], xp, pi, H, W, t->y1[oy], t->x0, t->x1, t->lx0, t->lx1, OW,
                                 pi * H + t->y0[oy]);
      float *v = c ? val : best;
      for (int ox = 0; ox < OW; ox++) v[ox] = ta[ox] * wa + tb[ox] * wb;
      if (!c) {
        memset(o, 0, (size_t)OW);
        continue;
      }
      const unsigned char cc = (unsigned char)c;
      for (int ox = 0; ox < OW; ox++) { /* branch-free, so that it vectorises */
        const float bv = best[ox], xv = val[ox];
        const bool take = xv > bv || (xv != xv && bv == bv);
        best[ox] = take ? xv : bv;
        o[ox] = take ? cc : o[ox];
      }
    }
  }
  free(caches);
  free(mem);
}

void cpu_bilinear_argmax(const float *x, Shape xs, unsigned char *labels, int OH, int OW, bool align_corners) {
  if (!xs.n || !OH || !OW || xs.c <= 0) return;
  LinearTables t;
  linear_tables(&t, xs.h, xs.w, OH, OW, align_corners, "cpu_bilinear_argmax");
  const long rows = (long)xs.n * OH;
  OMP(omp parallel if (rows * OW * xs.c > (1 << 15)))
  {
    long lo, hi;
    thread_rows(rows, &lo, &hi);
    bilinear_argmax_rows(x, xs, &t, lo, hi, OH, OW, labels);
  }
  free(t.mem);
}

/* PyTorch's nearest_idx: identity and exact 2x are special-cased; otherwise floor(dst * (float)in/out) in float. */
int cpu_nearest_src(int d, int in, int out) {
  if (out == in) return d;
  if (out == 2 * in) return d >> 1;
  const float scale = (float)in / (float)out;
  const int s = (int)floorf((float)d * scale);
  return s < in - 1 ? s : in - 1;
}

void cpu_nearest(const float *x, Shape xs, float *y, Shape ys) {
  const int H = xs.h, W = xs.w, OH = ys.h, OW = ys.w;
  if (shape_numel(ys) == 0) return;
  int *sx = malloc((size_t)OW * sizeof(int));
  if (!sx) {
    fprintf(stderr, "cpu_nearest: out of memory\n");
    abort();
  }
  for (int ox = 0; ox < OW; ox++) sx[ox] = cpu_nearest_src(ox, W, OW);
  const long rows = (long)ys.n * ys.c * OH;
  OMP(omp parallel for schedule(static) if (shape_numel(ys) > (1 << 15)))
  for (long r = 0; r < rows; r++) {
    const long pl = r / OH;
    const int oy = (int)(r % OH);
    const float *xr = x + ((size_t)pl * H + cpu_nearest_src(oy, H, OH)) * W;
    float *yr = y + (size_t)r * OW;
    for (int ox = 0; ox < OW; ox++) yr[ox] = xr[sx[ox]];
  }
  free(sx);
}

void cpu_crop(const float *x, Shape xs, int top, int left, float *y, Shape ys) {
  const long rows = (long)ys.n * ys.c * ys.h;
  if (ys.w <= 0) return;
  OMP(omp parallel for schedule(static) if (shape_numel(ys) > (1 << 16)))
  for (long r = 0; r < rows; r++) {
    const long pl = r / ys.h;
    const int oy = (int)(r % ys.h);
    memcpy(y + (size_t)r * ys.w, x + ((size_t)pl * xs.h + top + oy) * xs.w + left, (size_t)ys.w * sizeof(float));
  }
}
