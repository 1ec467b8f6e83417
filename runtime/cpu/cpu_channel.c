/* cpu_channel.c - pad, the channel softmax and the channel gathers (slice, channel_shuffle), with their
 * adjoints. pad's adjoint is a crop (accumulating or not); the gathers' adjoints are gathers again (a
 * slice's scatter is a gather with an offset of -start, a shuffle's inverse is the shuffle with C/groups). */
#include <math.h>
#include <string.h>
#include "cpu_grad.h"
#include "omp_pragma.h"

void cpu_pad(const float *x, Shape xs, int top, int left, float value, float *y, Shape ys) {
  const long planes = (long)ys.n * ys.c;
  const size_t hw = (size_t)ys.h * ys.w;
  OMP(omp parallel for schedule(static) if (shape_numel(ys) > (1 << 16)))
  for (long pl = 0; pl < planes; pl++) {
    float *yp = y + (size_t)pl * hw;
    for (size_t i = 0; i < hw; i++) yp[i] = value;
    for (int iy = 0; iy < xs.h; iy++)
      memcpy(yp + (size_t)(top + iy) * ys.w + left, x + ((size_t)pl * xs.h + iy) * xs.w, (size_t)xs.w * sizeof *y);
  }
}

void cpu_pad_backward(const float *dy, Shape ys, int top, int left, float *dx, Shape xs, bool acc) {
  if (!acc) {
    cpu_crop(dy, ys, top, left, dx, xs);
    return;
  }
  const long rows = (long)xs.n * xs.c * xs.h;
  OMP(omp parallel for schedule(static) if (shape_numel(xs) > (1 << 16)))
  for (long r = 0; r < rows; r++) {
    const float *src = dy + ((size_t)(r / xs.h) * ys.h + top + r % xs.h) * ys.w + left;
    for (int ix = 0; ix < xs.w; ix++) dx[(size_t)r * xs.w + ix] += src[ix];
  }
}

/* Per pixel over channels (stride hw): y = exp(x - max) / sum exp(x - max); NaN anywhere gives NaN. */
void cpu_softmax(const float *x, Shape s, float *y) {
  const size_t hw = (size_t)s.h * s.w;
  const long pixels = (long)s.n * (long)hw;
  OMP(omp parallel for schedule(static) if (shape_numel(s) > (1 << 15)))
  for (long px = 0; px < pixels; px++) {
    const size_t base = (size_t)(px / (long)hw) * s.c * hw + (size_t)(px % (long)hw);
    float m = -INFINITY;
    for (int c = 0; c < s.c; c++) {
      const float v = x[base + c * hw];
      if (v > m || isnan(v)) m = v;
    }
    double sum = 0.0;
    for (int c = 0; c < s.c; c++) sum += (y[base + c * hw] = expf(x[base + c * hw] - m));
    const float inv = (float)(1.0 / sum);
    for (int c = 0; c < s.c; c++) y[base + c * hw] *= inv;
  }
}

void cpu_softmax_backward(const float *y, const float *dy, Shape s, float *dx, bool acc) {
  const size_t hw = (size_t)s.h * s.w;
  const long pixels = (long)s.n * (long)hw;
  OMP(omp parallel for schedule(static) if (shape_numel(s) > (1 << 15)))
  for (long px = 0; px < pixels; px++) {
    const size_t base = (size_t)(px / (long)hw) * s.c * hw + (size_t)(px % (long)hw);
    double dot = 0.0;
    for (int c = 0; c < s.c; c++) dot += (double)dy[base + c * hw] * y[base + c * hw];
    for (int c = 0; c < s.c; c++) {
      const size_t i = base + c * hw;
      const float g = y[i] * (dy[i] - (float)dot);
      dx[i] = acc ? dx[i] + g : g;
    }
  }
}

void cpu_channel_gather(const float *x, Shape xs, int c0, int groups, float *y, Shape ys, bool acc) {
  const size_t hw = (size_t)ys.h * ys.w;
  const long rows = (long)ys.n * ys.c;
  const int per = ys.c / groups;
  OMP(omp parallel for schedule(static) if (shape_numel(ys) > (1 << 16)))
  for (long r = 0; r < rows; r++) {
    const int j = (int)(r % ys.c), src = c0 + (j % groups) * per + j / groups;
    float *yr = y + (size_t)r * hw;
    const float *xr = src >= 0 && src < xs.c ? x + ((size_t)(r / ys.c) * xs.c + src) * hw : NULL;
    if (!acc) {
      if (xr) memcpy(yr, xr, hw * sizeof *yr);
      else memset(yr, 0, hw * sizeof *yr);
    } else if (xr) {
      for (size_t i = 0; i < hw; i++) yr[i] += xr[i];
    }
  }
}
