/* cpu_maxpool.c - max pools and their adjoints: PyTorch's max_pool2d (ceil_mode=False, -inf padding,
 * dilation) and the global max pool ([n, c, h, w] -> [n, c, 1, 1], a max_pool2d with an h x w window).
 * The argmax is PyTorch's CPU rule: taps in row-major window order, a tap wins when `v > max || isnan(v)`
 * (the first of equal maxima; NaN propagates). The backward finds the argmax again in x. */
#include <math.h>
#include <string.h>
#include "cpu_grad.h"
#include "omp_pragma.h"

/* Index (iy * W + ix) of the window's maximum in plane xp, -1 when no tap is inside the input. */
static long window_argmax(const float *xp, int H, int W, int oy, int ox, const ConvParams *p) {
  long best = -1;
  float m = -INFINITY;
  for (int ky = 0; ky < p->kh; ky++) {
    const int iy = oy * p->sh - p->ph + ky * p->dh;
    if (iy < 0 || iy >= H) continue;
    for (int kx = 0; kx < p->kw; kx++) {
      const int ix = ox * p->sw - p->pw + kx * p->dw;
      if (ix < 0 || ix >= W) continue;
      const float v = xp[(size_t)iy * W + ix];
      if (v > m || isnan(v)) m = v, best = (long)iy * W + ix;
    }
  }
  return best;
}

void cpu_maxpool(const float *x, Shape xs, const ConvParams *p, float *y, Shape ys) {
  const long planes = (long)ys.n * ys.c;
  OMP(omp parallel for schedule(static) if (shape_numel(xs) > (1 << 15)))
  for (long pl = 0; pl < planes; pl++) {
    const float *xp = x + (size_t)pl * xs.h * xs.w;
    float *yp = y + (size_t)pl * ys.h * ys.w;
    for (int oy = 0; oy < ys.h; oy++)
      for (int ox = 0; ox < ys.w; ox++) {
        const long k = window_argmax(xp, xs.h, xs.w, oy, ox, p);
        yp[(size_t)oy * ys.w + ox] = k < 0 ? -INFINITY : xp[k];
      }
  }
}

void cpu_maxpool_backward(const float *x, Shape xs, const float *dy, Shape ys, const ConvParams *p, float *dx, bool acc) {
  const long planes = (long)ys.n * ys.c;
  const size_t hw = (size_t)xs.h * xs.w;
  OMP(omp parallel for schedule(static) if (shape_numel(xs) > (1 << 15)))
  for (long pl = 0; pl < planes; pl++) {
    const float *xp = x + (size_t)pl * hw, *dyp = dy + (size_t)pl * ys.h * ys.w;
    float *dxp = dx + (size_t)pl * hw;
    if (!acc) memset(dxp, 0, hw * sizeof *dxp);
    for (int oy = 0; oy < ys.h; oy++)
      for (int ox = 0; ox < ys.w; ox++) {
        const long k = window_argmax(xp, xs.h, xs.w, oy, ox, p);
        if (k >= 0) dxp[k] += dyp[(size_t)oy * ys.w + ox];
      }
  }
}

/* The global max pool as a max_pool2d whose window is the whole plane. */
static ConvParams global_window(Shape xs) { return (ConvParams){xs.h, xs.w, 1, 1, 0, 0, 1, 1, 1, CONV_ACT_NONE}; }

void cpu_global_maxpool(const float *x, Shape xs, float *y) {
  const ConvParams p = global_window(xs);
  cpu_maxpool(x, xs, &p, y, (Shape){xs.n, xs.c, 1, 1});
}

void cpu_global_maxpool_backward(const float *x, Shape xs, const float *dy, float *dx, bool acc) {
  const ConvParams p = global_window(xs);
  cpu_maxpool_backward(x, xs, dy, (Shape){xs.n, xs.c, 1, 1}, &p, dx, acc);
}
