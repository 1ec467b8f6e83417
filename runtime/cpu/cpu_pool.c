/* cpu_pool.c - average pools: PyTorch's AvgPool2d (ceil_mode=False, window clipped to the padded input,
 * count_include_pad choosing the divisor) and the global average pool ([n, c, h, w] -> [n, c, 1, 1]). */
#include "cpu_ops.h"

#include "omp_pragma.h"

static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int imax(int a, int b) { return a > b ? a : b; }

void cpu_avgpool(const float *x, Shape xs, int kh, int kw, int sh, int sw, int ph, int pw, bool count_include_pad,
                 float *y, Shape ys) {
  const int H = xs.h, W = xs.w, OH = ys.h, OW = ys.w;
  const long planes = (long)ys.n * ys.c;
  OMP(omp parallel for schedule(static) if (shape_numel(xs) > (1 << 15)))
  for (long pl = 0; pl < planes; pl++) {
    const float *xp = x + (size_t)pl * H * W;
    float *yp = y + (size_t)pl * OH * OW;
    for (int oy = 0; oy < OH; oy++)
      for (int ox = 0; ox < OW; ox++) {
        /* as PyTorch's cpu_avg_pool: window [y0, y1) x [x0, x1) clipped to the padded input, then to the input */
        int y0 = oy * sh - ph, x0 = ox * sw - pw;
        int y1 = imin(y0 + kh, H + ph), x1 = imin(x0 + kw, W + pw);
        const int pool_size = (y1 - y0) * (x1 - x0);
        y0 = imax(y0, 0);
        x0 = imax(x0, 0);
        y1 = imin(y1, H);
        x1 = imin(x1, W);
        if (y0 >= y1 || x0 >= x1) {
          yp[(size_t)oy * OW + ox] = 0.0f;
          continue;
        }
        float sum = 0.0f;
        for (int iy = y0; iy < y1; iy++)
          for (int ix = x0; ix < x1; ix++) sum += xp[(size_t)iy * W + ix];
        const int divide = count_include_pad ? pool_size : (y1 - y0) * (x1 - x0);
        yp[(size_t)oy * OW + ox] = sum / (float)divide;
      }
  }
}

void cpu_global_avgpool(const float *x, Shape xs, float *y) {
  const size_t hw = (size_t)xs.h * xs.w;
  const long planes = (long)xs.n * xs.c;
  OMP(omp parallel for schedule(static) if (shape_numel(xs) > (1 << 15)))
  for (long pl = 0; pl < planes; pl++) {
    const float *xp = x + (size_t)pl * hw;
    double sum = 0.0; /* double: at least as close to the exact mean as any of PyTorch's float reductions */
    for (size_t i = 0; i < hw; i++) sum += xp[i];
    y[pl] = hw ? (float)(sum / (double)hw) : 0.0f;
  }
}
