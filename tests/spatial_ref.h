/* spatial_ref.h - the cases of the spatial and channel ops (maxpool, gmp, pad, softmax, slice,
   channel_shuffle) shared by test_cpu_ops.c, test_cpu_grad.c and test_kgen_host_spatial.c: each case's
   output shape, a double-precision reference forward (maxpool with PyTorch's CPU argmax rule) and the CPU
   kernels' forward and backward run on it. */
#ifndef SQN_SPATIAL_REF_H
#define SQN_SPATIAL_REF_H
#include <math.h>
#include "cpu_grad.h"

enum { SP_MAXPOOL, SP_GMP, SP_PAD, SP_SOFTMAX, SP_SLICE, SP_SHUFFLE };
/* p: the max pool's geometry; m: pad's top, bottom, left, right; a, b: slice [a, b), shuffle groups a */
typedef struct SpCase { int kind; Shape xs; ConvParams p; int m[4]; float value; int a, b; } SpCase;

static const SpCase sp_cases[] = {
    {SP_MAXPOOL, {2, 3, 7, 5}, {3, 3, 1, 1, 1, 1, 1, 1, 1, 0}, {0}, 0, 0, 0},
    {SP_MAXPOOL, {2, 3, 7, 5}, {3, 3, 2, 2, 1, 1, 1, 1, 1, 0}, {0}, 0, 0, 0},
    {SP_MAXPOOL, {1, 2, 9, 8}, {2, 2, 2, 2, 0, 0, 1, 1, 1, 0}, {0}, 0, 0, 0},
    {SP_MAXPOOL, {1, 2, 11, 9}, {3, 2, 2, 1, 1, 1, 2, 3, 1, 0}, {0}, 0, 0, 0},
    {SP_MAXPOOL, {2, 1, 6, 7}, {5, 3, 3, 2, 2, 1, 1, 2, 1, 0}, {0}, 0, 0, 0},
    {SP_GMP, {2, 3, 5, 4}, {0}, {0}, 0, 0, 0},
    {SP_PAD, {2, 3, 4, 5}, {0}, {1, 2, 0, 3}, 0, 0, 0},
    {SP_PAD, {1, 2, 3, 3}, {0}, {2, 0, 1, 1}, -1.5f, 0, 0},
    {SP_SOFTMAX, {2, 5, 3, 4}, {0}, {0}, 0, 0, 0},
    {SP_SOFTMAX, {1, 1, 2, 3}, {0}, {0}, 0, 0, 0},
    {SP_SLICE, {2, 6, 3, 2}, {0}, {0}, 0, 1, 4},
    {SP_SLICE, {2, 6, 3, 2}, {0}, {0}, 0, 0, 6},
    {SP_SHUFFLE, {2, 6, 3, 2}, {0}, {0}, 0, 2, 0},
    {SP_SHUFFLE, {1, 12, 2, 2}, {0}, {0}, 0, 3, 0},
};
enum { SP_NCASES = sizeof sp_cases / sizeof *sp_cases };

static inline const char *sp_name(const SpCase *c) {
  static const char *const names[] = {"maxpool", "gmp", "pad", "softmax", "slice", "channel_shuffle"};
  return names[c->kind];
}

static inline ConvParams sp_pool(const SpCase *c) {
  return c->kind == SP_GMP ? (ConvParams){c->xs.h, c->xs.w, 1, 1, 0, 0, 1, 1, 1, 0} : c->p;
}

static inline Shape sp_out_shape(const SpCase *c) {
  Shape s = c->xs;
  ConvParams p = sp_pool(c);
  switch (c->kind) {
  case SP_MAXPOOL: case SP_GMP:
    s.h = (s.h + 2 * p.ph - p.dh * (p.kh - 1) - 1) / p.sh + 1, s.w = (s.w + 2 * p.pw - p.dw * (p.kw - 1) - 1) / p.sw + 1;
    break;
  case SP_PAD: s.h += c->m[0] + c->m[1], s.w += c->m[2] + c->m[3]; break;
  case SP_SLICE: s.c = c->b - c->a; break;
  default: break;
  }
  return s;
}

static inline size_t sp_idx(Shape s, int n, int c, int h, int w) { return (((size_t)n * s.c + c) * s.h + h) * s.w + w; }

static inline void sp_ref_maxpool(const SpCase *c, const double *x, double *y, Shape ys) {
  const ConvParams p = sp_pool(c);
  const Shape xs = c->xs;
  for (int n = 0; n < ys.n; n++)
    for (int ch = 0; ch < ys.c; ch++)
      for (int oy = 0; oy < ys.h; oy++)
        for (int ox = 0; ox < ys.w; ox++) {
          double m = -INFINITY;
          for (int ky = 0; ky < p.kh; ky++)
            for (int kx = 0; kx < p.kw; kx++) {
              int iy = oy * p.sh - p.ph + ky * p.dh, ix = ox * p.sw - p.pw + kx * p.dw;
              if (iy < 0 || iy >= xs.h || ix < 0 || ix >= xs.w) continue;
              double v = x[sp_idx(xs, n, ch, iy, ix)];
              if (v > m || isnan(v)) m = v;
            }
          y[sp_idx(ys, n, ch, oy, ox)] = m;
        }
}

static inline void sp_ref_softmax(const double *x, Shape s, double *y) {
  const size_t hw = (size_t)s.h * s.w;
  for (int n = 0; n < s.n; n++)
    for (size_t q = 0; q < hw; q++) {
      double m = -INFINITY, sum = 0;
      for (int c = 0; c < s.c; c++) m = fmax(m, x[((size_t)n * s.c + c) * hw + q]);
      for (int c = 0; c < s.c; c++) sum += exp(x[((size_t)n * s.c + c) * hw + q] - m);
      for (int c = 0; c < s.c; c++) y[((size_t)n * s.c + c) * hw + q] = exp(x[((size_t)n * s.c + c) * hw + q] - m) / sum;
    }
}

/* y = the op on x, in double, written out from the op's definition */
static inline void sp_ref(const SpCase *c, const double *x, double *y) {
  const Shape xs = c->xs, ys = sp_out_shape(c);
  const size_t hw = (size_t)xs.h * xs.w;
  if (c->kind == SP_MAXPOOL || c->kind == SP_GMP) {
    sp_ref_maxpool(c, x, y, ys);
    return;
  }
  if (c->kind == SP_SOFTMAX) {
    sp_ref_softmax(x, xs, y);
    return;
  }
  for (int n = 0; n < ys.n; n++)
    for (int ch = 0; ch < ys.c; ch++)
      for (int h = 0; h < ys.h; h++)
        for (int w = 0; w < ys.w; w++) {
          double *out = &y[sp_idx(ys, n, ch, h, w)];
          if (c->kind == SP_PAD) {
            int iy = h - c->m[0], ix = w - c->m[2];
            *out = iy >= 0 && iy < xs.h && ix >= 0 && ix < xs.w ? x[sp_idx(xs, n, ch, iy, ix)] : c->value;
          } else if (c->kind == SP_SLICE) {
            *out = x[sp_idx(xs, n, ch + c->a, h, w)];
          } else { /* ShuffleNet: [g][C/g] viewed as [C/g][g]: output a*g + k is input k*(C/g) + a */
            int g = c->a, per = xs.c / g;
            *out = x[((size_t)n * xs.c + (ch % g) * per + ch / g) * hw + (size_t)h * xs.w + w];
          }
        }
}

static inline void sp_run(const SpCase *c, const float *x, float *y) {
  const Shape xs = c->xs, ys = sp_out_shape(c);
  switch (c->kind) {
  case SP_MAXPOOL: cpu_maxpool(x, xs, &c->p, y, ys); break;
  case SP_GMP: cpu_global_maxpool(x, xs, y); break;
  case SP_PAD: cpu_pad(x, xs, c->m[0], c->m[2], c->value, y, ys); break;
  case SP_SOFTMAX: cpu_softmax(x, xs, y); break;
  case SP_SLICE: cpu_channel_gather(x, xs, c->a, 1, y, ys, false); break;
  default: cpu_channel_gather(x, xs, 0, c->a, y, ys, false); break;
  }
}

/* dx (+)= the adjoint of the op at x (y: its output) applied to dy */
static inline void sp_run_backward(const SpCase *c, const float *x, const float *y, const float *dy, float *dx, bool acc) {
  const Shape xs = c->xs, ys = sp_out_shape(c);
  switch (c->kind) {
  case SP_MAXPOOL: cpu_maxpool_backward(x, xs, dy, ys, &c->p, dx, acc); break;
  case SP_GMP: cpu_global_maxpool_backward(x, xs, dy, dx, acc); break;
  case SP_PAD: cpu_pad_backward(dy, ys, c->m[0], c->m[2], dx, xs, acc); break;
  case SP_SOFTMAX: cpu_softmax_backward(y, dy, ys, dx, acc); break;
  case SP_SLICE: cpu_channel_gather(dy, ys, -c->a, 1, dx, xs, acc); break;
  default: cpu_channel_gather(dy, ys, 0, xs.c / c->a, dx, xs, acc); break;
  }
}
#endif
