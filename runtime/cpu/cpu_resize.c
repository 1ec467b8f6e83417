/* cpu_resize.c - spatial resampling: bilinear and nearest F.interpolate, and crop. The source indices and
 * weights are computed exactly as PyTorch 1.13's CPU upsample kernels do (UpSample.h: area_pixel_compute_scale,
 * area_pixel_compute_source_index, compute_source_index_and_lambda, nearest_idx), including which parts are
 * float and which double. */
#include "cpu_ops.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cpu_resize_index.h"
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

void cpu_bilinear(const float *x, Shape xs, float *y, Shape ys, bool align_corners) {
  const int H = xs.h, W = xs.w, OH = ys.h, OW = ys.w;
  if (shape_numel(ys) == 0) return;
  int *idx = malloc(2 * ((size_t)OH + OW) * sizeof(int));
  float *lam = malloc(2 * ((size_t)OH + OW) * sizeof(float));
  if (!idx || !lam) {
    fprintf(stderr, "cpu_bilinear: out of memory\n");
    abort();
  }
  int *y0 = idx, *y1 = idx + OH, *x0 = idx + 2 * OH, *x1 = idx + 2 * OH + OW;
  float *ly0 = lam, *ly1 = lam + OH, *lx0 = lam + 2 * OH, *lx1 = lam + 2 * OH + OW;
  cpu_linear_weights(H, OH, align_corners, y0, y1, ly0, ly1);
  cpu_linear_weights(W, OW, align_corners, x0, x1, lx0, lx1);
  const long rows = (long)ys.n * ys.c * OH;
  OMP(omp parallel for schedule(static) if (shape_numel(ys) > (1 << 15)))
  for (long r = 0; r < rows; r++) {
    const long pl = r / OH;
    const int oy = (int)(r % OH);
    const float *xp = x + (size_t)pl * H * W;
    const float *ra = xp + (size_t)y0[oy] * W, *rb = xp + (size_t)y1[oy] * W;
    const float wa = ly0[oy], wb = ly1[oy];
    float *yr = y + (size_t)r * OW;
    for (int ox = 0; ox < OW; ox++) {
      /* PyTorch's Interpolate<2>: interpolate along w within each of the two rows, then along h */
      const int c0 = x0[ox], c1 = x1[ox];
      const float t0 = ra[c0] * lx0[ox] + ra[c1] * lx1[ox];
      const float t1 = rb[c0] * lx0[ox] + rb[c1] * lx1[ox];
      yr[ox] = t0 * wa + t1 * wb;
    }
  }
  free(idx);
  free(lam);
}

/* One output row of cpu_bilinear_argmax: every channel interpolated with cpu_bilinear's arithmetic (the same
   expressions, vectorised along the row as there), the running maximum kept per pixel (torch.argmax: the first
   maximum, NaN counts as the largest). */
static void bilinear_argmax_row(const float *xp, int C, size_t plane, int W, const int *x0, const int *x1,
                                const float *lx0, const float *lx1, int ya, int yb, float wa, float wb, int OW,
                                float *best, float *val, unsigned char *o) {
  for (int c = 0; c < C; c++) {
    const float *ra = xp + (size_t)c * plane + (size_t)ya * W, *rb = xp + (size_t)c * plane + (size_t)yb * W;
    float *v = c ? val : best;
    for (int ox = 0; ox < OW; ox++) {
      const int c0 = x0[ox], c1 = x1[ox];
      const float t0 = ra[c0] * lx0[ox] + ra[c1] * lx1[ox];
      const float t1 = rb[c0] * lx0[ox] + rb[c1] * lx1[ox];
      v[ox] = t0 * wa + t1 * wb;
    }
    if (!c) {
      memset(o, 0, (size_t)OW);
      continue;
    }
    const unsigned char cc = (unsigned char)c;
    for (int ox = 0; ox < OW; ox++) { /* branch-free, so that it vectorises */
      const float b = best[ox], x = val[ox];
      const bool take = x > b || (x != x && b == b);
      best[ox] = take ? x : b;
      o[ox] = take ? cc : o[ox];
    }
  }
}

void cpu_bilinear_argmax(const float *x, Shape xs, unsigned char *labels, int OH, int OW, bool align_corners) {
  const int H = xs.h, W = xs.w;
  if (!xs.n || !OH || !OW || xs.c <= 0) return;
  int *idx = malloc(2 * ((size_t)OH + OW) * sizeof(int));
  float *lam = malloc(2 * ((size_t)OH + OW) * sizeof(float));
  if (!idx || !lam) {
    fprintf(stderr, "cpu_bilinear_argmax: out of memory\n");
    abort();
  }
  int *y0 = idx, *y1 = idx + OH, *x0 = idx + 2 * OH, *x1 = idx + 2 * OH + OW;
  float *ly0 = lam, *ly1 = lam + OH, *lx0 = lam + 2 * OH, *lx1 = lam + 2 * OH + OW;
  cpu_linear_weights(H, OH, align_corners, y0, y1, ly0, ly1);
  cpu_linear_weights(W, OW, align_corners, x0, x1, lx0, lx1);
  const long rows = (long)xs.n * OH;
  const size_t plane = (size_t)H * W;
  OMP(omp parallel if (rows * OW * xs.c > (1 << 15)))
  {
    float *best = malloc(2 * (size_t)OW * sizeof *best);
    if (!best) {
      fprintf(stderr, "cpu_bilinear_argmax: out of memory\n");
      abort();
    }
    OMP(omp for schedule(static))
    for (long r = 0; r < rows; r++) {
      const long b = r / OH;
      const int oy = (int)(r % OH);
      bilinear_argmax_row(x + (size_t)b * xs.c * plane, xs.c, plane, W, x0, x1, lx0, lx1, y0[oy], y1[oy], ly0[oy],
                          ly1[oy], OW, best, best + OW, labels + (size_t)r * OW);
    }
    free(best);
  }
  free(idx);
  free(lam);
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
