/* cpu_grad_misc.c - the backward of the cheap ops (runtime/cpu/cpu_grad.h): activations, broadcast reductions (add,
 * mul), concat, average pools, bilinear/nearest resizing, crop and the superblock mixture; plus the pixel-wise
 * softmax cross-entropy loss and the channel argmax. Each is the exact adjoint of its forward in cpu_*.c (same
 * indices, windows and weights). Parallel over planes (or elements) with OpenMP: a task writes only its own planes. */
#include "cpu_grad.h"
#include "cpu_mask.h"
#include "cpu_resize_index.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "omp_pragma.h"

enum { PAR_MIN = 1 << 15 }; /* elements below which a parallel region costs more than it saves */

static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int imax(int a, int b) { return a > b ? a : b; }

static void *xmalloc(size_t bytes) {
  void *p = malloc(bytes ? bytes : 1);
  if (!p) {
    fprintf(stderr, "cpu_grad_misc: out of memory\n");
    abort();
  }
  return p;
}

/* dx[i] = expr or dx[i] += expr over i < n; expr may read dy[i] (dx may equal dy when !acc) */
#define ELTWISE_BACKWARD(n, acc, expr)                                   \
  do {                                                                   \
    if (acc) {                                                           \
      OMP(omp parallel for schedule(static) if ((n) > PAR_MIN))          \
      for (size_t i = 0; i < (n); i++) dx[i] += (expr);                  \
    } else {                                                             \
      OMP(omp parallel for schedule(static) if ((n) > PAR_MIN))          \
      for (size_t i = 0; i < (n); i++) dx[i] = (expr);                   \
    }                                                                    \
  } while (0)

/* ---- activations: as PyTorch's threshold_backward, hardtanh_backward, sigmoid_backward, hardswish_backward ---- */

/* keep_if (cpu_mask.h): NaN in y passes dy, as PyTorch's `y <= 0 ? 0 : dy`. */
void cpu_relu_backward(const float *y, const float *dy, size_t n, float *dx, bool acc) {
  ELTWISE_BACKWARD(n, acc, keep_if(!(y[i] <= 0.0f), dy[i]));
}

void cpu_relu6_backward(const float *y, const float *dy, size_t n, float *dx, bool acc) {
  ELTWISE_BACKWARD(n, acc, keep_if(!(y[i] <= 0.0f) & !(y[i] >= 6.0f), dy[i]));
}

void cpu_sigmoid_backward(const float *y, const float *dy, size_t n, float *dx, bool acc) {
  ELTWISE_BACKWARD(n, acc, dy[i] * (1.0f - y[i]) * y[i]);
}

void cpu_hswish_backward(const float *x, const float *dy, size_t n, float *dx, bool acc) {
  ELTWISE_BACKWARD(n, acc, x[i] < -3.0f ? 0.0f : (x[i] >= 3.0f ? dy[i] : dy[i] * (x[i] / 3.0f + 0.5f)));
}

static inline float silu_grad(float x) {
  const float s = 1.0f / (1.0f + expf(-x));
  return s * (1.0f + x * (1.0f - s));
}

void cpu_silu_backward(const float *x, const float *dy, size_t n, float *dx, bool acc) {
  ELTWISE_BACKWARD(n, acc, dy[i] * silu_grad(x[i]));
}

void cpu_hsigmoid_backward(const float *x, const float *dy, size_t n, float *dx, bool acc) {
  ELTWISE_BACKWARD(n, acc, x[i] > -3.0f && x[i] < 3.0f ? dy[i] / 6.0f : 0.0f);
}

void cpu_tanh_backward(const float *y, const float *dy, size_t n, float *dx, bool acc) {
  ELTWISE_BACKWARD(n, acc, dy[i] * (1.0f - y[i] * y[i]));
}

void cpu_leaky_relu_backward(const float *x, const float *dy, size_t n, float slope, float *dx, bool acc) {
  ELTWISE_BACKWARD(n, acc, x[i] > 0.0f ? dy[i] : dy[i] * slope);
}

void cpu_affine_backward(const float *dy, size_t n, float a, float *dx, bool acc) { ELTWISE_BACKWARD(n, acc, a * dy[i]); }

/* ---- broadcasting ---- */

static bool same_shape(Shape a, Shape b) { return a.n == b.n && a.c == b.c && a.h == b.h && a.w == b.w; }

/* out[w or 0] += dy row (times the b row, b broadcast along w when !b_full; no b when br == NULL) */
static void accumulate_row(double *restrict out, bool out_full, const float *restrict dyr, const float *br, bool b_full,
                           int W) {
  if (out_full) {
    if (!br)
      for (int i = 0; i < W; i++) out[i] += dyr[i];
    else if (b_full)
      for (int i = 0; i < W; i++) out[i] += dyr[i] * br[i];
    else
      for (int i = 0; i < W; i++) out[i] += dyr[i] * br[0];
    return;
  }
  double s = 0.0;
  if (!br) {
    OMP(omp simd reduction(+ : s))
    for (int i = 0; i < W; i++) s += dyr[i];
  } else if (b_full) {
    OMP(omp simd reduction(+ : s))
    for (int i = 0; i < W; i++) s += dyr[i] * br[i];
  } else {
    OMP(omp simd reduction(+ : s))
    for (int i = 0; i < W; i++) s += dyr[i] * br[0];
  }
  out[0] += s;
}

/* sum[xs.h * xs.w] = the sum of dy (* b) over the (n, c) planes of ys that broadcast onto plane (n0, c0) of xs */
static void reduce_plane(const float *dy, Shape ys, const float *b, Shape bs, Shape xs, int n0, int c0, double *sum) {
  memset(sum, 0, (size_t)xs.h * xs.w * sizeof(double));
  const int n_lo = xs.n == 1 ? 0 : n0, n_hi = xs.n == 1 ? ys.n : n0 + 1;
  const int c_lo = xs.c == 1 ? 0 : c0, c_hi = xs.c == 1 ? ys.c : c0 + 1;
  for (int n = n_lo; n < n_hi; n++)
    for (int c = c_lo; c < c_hi; c++) {
      const float *dyp = dy + ((size_t)n * ys.c + c) * ys.h * ys.w;
      const float *bp = b ? b + ((size_t)(bs.n == 1 ? 0 : n) * bs.c + (bs.c == 1 ? 0 : c)) * bs.h * bs.w : NULL;
      for (int h = 0; h < ys.h; h++)
        accumulate_row(sum + (size_t)(xs.h == 1 ? 0 : h) * xs.w, xs.w == ys.w, dyp + (size_t)h * ys.w,
                       bp ? bp + (size_t)(bs.h == 1 ? 0 : h) * bs.w : NULL, bs.w == ys.w, ys.w);
    }
}

/* dx (+)= reduce_to(dy * broadcast(b)), b NULL meaning 1 */
static void reduce_broadcast(const float *dy, Shape ys, const float *b, Shape bs, float *dx, Shape xs, bool acc) {
  const size_t total = shape_numel(ys);
  if (same_shape(xs, ys) && (!b || same_shape(bs, ys))) {
    ELTWISE_BACKWARD(total, acc, b ? dy[i] * b[i] : dy[i]);
    return;
  }
  const size_t xhw = (size_t)xs.h * xs.w;
  const long planes = (long)xs.n * xs.c;
  OMP(omp parallel if (total > PAR_MIN && planes > 1))
  {
    double *sum = xmalloc(xhw * sizeof(double));
    OMP(omp for schedule(dynamic, 1))
    for (long pl = 0; pl < planes; pl++) {
      reduce_plane(dy, ys, b, bs, xs, (int)(pl / xs.c), (int)(pl % xs.c), sum);
      float *d = dx + (size_t)pl * xhw;
      for (size_t i = 0; i < xhw; i++) d[i] = (acc ? d[i] : 0.0f) + (float)sum[i];
    }
    free(sum);
  }
}

void cpu_reduce_to(const float *dy, Shape ys, float *dx, Shape xs, bool acc) {
  reduce_broadcast(dy, ys, NULL, ys, dx, xs, acc);
}

void cpu_mul_backward(const float *dy, Shape ys, const float *b, Shape bs, float *da, Shape as, bool acc) {
  reduce_broadcast(dy, ys, b, bs, da, as, acc);
}

void cpu_sub_backward_b(const float *dy, Shape ys, float *db, Shape bs, bool acc) {
  static const float minus_one = -1.0f;
  reduce_broadcast(dy, ys, &minus_one, (Shape){1, 1, 1, 1}, db, bs, acc);
}

void cpu_concat_backward(const float *dy, Shape ys, int c0, float *dx, Shape xs, bool acc) {
  const size_t len = (size_t)xs.c * xs.h * xs.w;
  for (int n = 0; n < xs.n; n++) {
    const float *src = dy + ((size_t)n * ys.c + c0) * ys.h * ys.w;
    float *d = dx + (size_t)n * len;
    if (!acc) {
      if (len) memcpy(d, src, len * sizeof(float));
      continue;
    }
    OMP(omp parallel for schedule(static) if (len > PAR_MIN))
    for (size_t i = 0; i < len; i++) d[i] += src[i];
  }
}

/* ---- pools ---- */

/* one plane of cpu_avgpool's adjoint: each dy spread evenly (by PyTorch's divisor) over its clipped window */
static void avgpool_plane_backward(const float *dyp, Shape ys, int kh, int kw, int sh, int sw, int ph, int pw,
                                   bool count_include_pad, float *dxp, Shape xs) {
  const int H = xs.h, W = xs.w;
  for (int oy = 0; oy < ys.h; oy++)
    for (int ox = 0; ox < ys.w; ox++) {
      int y0 = oy * sh - ph, x0 = ox * sw - pw;
      int y1 = imin(y0 + kh, H + ph), x1 = imin(x0 + kw, W + pw);
      const int pool_size = (y1 - y0) * (x1 - x0);
      y0 = imax(y0, 0);
      x0 = imax(x0, 0);
      y1 = imin(y1, H);
      x1 = imin(x1, W);
      if (y0 >= y1 || x0 >= x1) continue;
      const int divide = count_include_pad ? pool_size : (y1 - y0) * (x1 - x0);
      const float g = dyp[(size_t)oy * ys.w + ox] / (float)divide;
      for (int iy = y0; iy < y1; iy++)
        for (int ix = x0; ix < x1; ix++) dxp[(size_t)iy * W + ix] += g;
    }
}

void cpu_avgpool_backward(const float *dy, Shape ys, int kh, int kw, int sh, int sw, int ph, int pw,
                          bool count_include_pad, float *dx, Shape xs, bool acc) {
  const size_t hw = (size_t)xs.h * xs.w, ohw = (size_t)ys.h * ys.w;
  const long planes = (long)xs.n * xs.c;
  OMP(omp parallel for schedule(static) if (shape_numel(xs) > PAR_MIN))
  for (long pl = 0; pl < planes; pl++) {
    float *dxp = dx + (size_t)pl * hw;
    if (!acc) memset(dxp, 0, hw * sizeof(float));
    avgpool_plane_backward(dy + (size_t)pl * ohw, ys, kh, kw, sh, sw, ph, pw, count_include_pad, dxp, xs);
  }
}

void cpu_global_avgpool_backward(const float *dy, float *dx, Shape xs, bool acc) {
  const size_t hw = (size_t)xs.h * xs.w;
  const long planes = (long)xs.n * xs.c;
  OMP(omp parallel for schedule(static) if (shape_numel(xs) > PAR_MIN))
  for (long pl = 0; pl < planes; pl++) {
    const float g = dy[pl] / (float)hw;
    float *d = dx + (size_t)pl * hw;
    if (acc)
      for (size_t i = 0; i < hw; i++) d[i] += g;
    else
      for (size_t i = 0; i < hw; i++) d[i] = g;
  }
}

/* ---- resizing and crop ---- */


typedef struct LinearAxis { int *i0, *i1; float *l0, *l1; } LinearAxis;

static LinearAxis linear_axis(int in, int out, bool align_corners) {
  LinearAxis a;
  a.i0 = xmalloc(2 * (size_t)imax(out, 1) * sizeof(int));
  a.i1 = a.i0 + imax(out, 1);
  a.l0 = xmalloc(2 * (size_t)imax(out, 1) * sizeof(float));
  a.l1 = a.l0 + imax(out, 1);
  cpu_linear_weights(in, out, align_corners, a.i0, a.i1, a.l0, a.l1);
  return a;
}

/* one plane: the transpose of y = (ra[c0]*lx0 + ra[c1]*lx1)*wa + (rb[c0]*lx0 + rb[c1]*lx1)*wb */
static void bilinear_plane_backward(const float *dyp, Shape ys, const LinearAxis *ay, const LinearAxis *ax, float *dxp,
                                    Shape xs) {
  for (int oy = 0; oy < ys.h; oy++) {
    float *ra = dxp + (size_t)ay->i0[oy] * xs.w, *rb = dxp + (size_t)ay->i1[oy] * xs.w;
    const float wa = ay->l0[oy], wb = ay->l1[oy];
    const float *dyr = dyp + (size_t)oy * ys.w;
    for (int ox = 0; ox < ys.w; ox++) {
      const int c0 = ax->i0[ox], c1 = ax->i1[ox];
      const float t0 = dyr[ox] * wa, t1 = dyr[ox] * wb;
      ra[c0] += t0 * ax->l0[ox];
      ra[c1] += t0 * ax->l1[ox];
      rb[c0] += t1 * ax->l0[ox];
      rb[c1] += t1 * ax->l1[ox];
    }
  }
}

void cpu_bilinear_backward(const float *dy, Shape ys, float *dx, Shape xs, bool align_corners, bool acc) {
  const size_t hw = (size_t)xs.h * xs.w, ohw = (size_t)ys.h * ys.w;
  const long planes = (long)xs.n * xs.c;
  LinearAxis ay = linear_axis(xs.h, ys.h, align_corners), ax = linear_axis(xs.w, ys.w, align_corners);
  OMP(omp parallel for schedule(static) if (shape_numel(ys) > PAR_MIN))
  for (long pl = 0; pl < planes; pl++) {
    float *dxp = dx + (size_t)pl * hw;
    if (!acc) memset(dxp, 0, hw * sizeof(float));
    bilinear_plane_backward(dy + (size_t)pl * ohw, ys, &ay, &ax, dxp, xs);
  }
  free(ay.i0), free(ay.l0), free(ax.i0), free(ax.l0);
}


void cpu_nearest_backward(const float *dy, Shape ys, float *dx, Shape xs, bool acc) {
  const size_t hw = (size_t)xs.h * xs.w, ohw = (size_t)ys.h * ys.w;
  const long planes = (long)xs.n * xs.c;
  int *sx = xmalloc((size_t)imax(ys.w, 1) * sizeof(int));
  for (int ox = 0; ox < ys.w; ox++) sx[ox] = cpu_nearest_src(ox, xs.w, ys.w);
  OMP(omp parallel for schedule(static) if (shape_numel(ys) > PAR_MIN))
  for (long pl = 0; pl < planes; pl++) {
    float *dxp = dx + (size_t)pl * hw;
    if (!acc) memset(dxp, 0, hw * sizeof(float));
    for (int oy = 0; oy < ys.h; oy++) {
      float *dxr = dxp + (size_t)cpu_nearest_src(oy, xs.h, ys.h) * xs.w;
      const float *dyr = dy + (size_t)pl * ohw + (size_t)oy * ys.w;
      for (int ox = 0; ox < ys.w; ox++) dxr[sx[ox]] += dyr[ox];
    }
  }
  free(sx);
}

void cpu_crop_backward(const float *dy, Shape ys, int top, int left, float *dx, Shape xs, bool acc) {
  const size_t hw = (size_t)xs.h * xs.w;
  const long planes = (long)xs.n * xs.c;
  OMP(omp parallel for schedule(static) if (shape_numel(xs) > PAR_MIN))
  for (long pl = 0; pl < planes; pl++) {
    float *dxp = dx + (size_t)pl * hw;
    if (!acc) memset(dxp, 0, hw * sizeof(float));
    for (int oy = 0; oy < ys.h; oy++) {
      const float *dyr = dy + ((size_t)pl * ys.h + oy) * ys.w;
      float *dxr = dxp + (size_t)(top + oy) * xs.w + left;
      for (int ox = 0; ox < ys.w; ox++) dxr[ox] += dyr[ox];
    }
  }
}

/* ---- loss and argmax ---- */

enum { PIX_BLOCK = 256 }; /* pixels processed together, channel by channel (the channels are hw apart) */

/* loss over pixels [p0, p0 + np) of one image (z, lab, d point at the first); d (when not NULL) gets the gradient */
static double xent_block(const float *z, int C, size_t hw, const unsigned char *lab, int np, int ignore, float scale,
                         float *d) {
  float mx[PIX_BLOCK], sm[PIX_BLOCK];
  for (int p = 0; p < np; p++) mx[p] = z[p], sm[p] = 0.0f;
  for (int c = 1; c < C; c++)
    for (int p = 0; p < np; p++) mx[p] = z[(size_t)c * hw + p] > mx[p] ? z[(size_t)c * hw + p] : mx[p];
  for (int c = 0; c < C; c++)
    for (int p = 0; p < np; p++) {
      const float e = expf(z[(size_t)c * hw + p] - mx[p]);
      sm[p] += e;
      if (d) d[(size_t)c * hw + p] = e;
    }
  double loss = 0.0;
  for (int p = 0; p < np; p++)
    if (lab[p] != ignore) loss += (double)logf(sm[p]) + (double)mx[p] - (double)z[(size_t)lab[p] * hw + p];
  if (!d) return loss;
  for (int p = 0; p < np; p++) sm[p] = lab[p] != ignore ? scale / sm[p] : 0.0f; /* now the factor */
  for (int c = 0; c < C; c++)
    for (int p = 0; p < np; p++) d[(size_t)c * hw + p] *= sm[p];
  for (int p = 0; p < np; p++)
    if (lab[p] != ignore) d[(size_t)lab[p] * hw + p] -= scale;
  return loss;
}

/* the number of valid pixels; aborts on a label that is neither < C nor ignore */
static long count_valid(const unsigned char *labels, size_t npix, int C, int ignore) {
  long nv = 0, bad = 0;
  OMP(omp parallel for schedule(static) reduction(+ : nv, bad) if (npix > PAR_MIN))
  for (size_t i = 0; i < npix; i++) {
    if (labels[i] == ignore) continue;
    if (labels[i] < C) nv++;
    else bad++;
  }
  if (bad) {
    fprintf(stderr, "cpu_softmax_xent: %ld labels >= %d classes (and not the ignore label %d)\n", bad, C, ignore);
    abort();
  }
  return nv;
}

double cpu_softmax_xent(const float *logits, Shape s, const unsigned char *labels, int ignore, float *dlogits,
                        long *nvalid) {
  const size_t hw = (size_t)s.h * s.w, chw = (size_t)s.c * hw;
  const long nv = count_valid(labels, (size_t)s.n * hw, s.c, ignore);
  if (nvalid) *nvalid = nv;
  if (s.c <= 0 || hw == 0) return 0.0;
  const float scale = nv ? 1.0f / (float)nv : 0.0f;
  const long nblk = (long)((hw + PIX_BLOCK - 1) / PIX_BLOCK), tasks = (long)s.n * nblk;
  double loss = 0.0;
  OMP(omp parallel for schedule(static) reduction(+ : loss) if (s.n * chw > PAR_MIN))
  for (long t = 0; t < tasks; t++) {
    const size_t n = (size_t)(t / nblk), p0 = (size_t)(t % nblk) * PIX_BLOCK;
    const int np = (int)(hw - p0 < PIX_BLOCK ? hw - p0 : PIX_BLOCK);
    loss += xent_block(logits + n * chw + p0, s.c, hw, labels + n * hw + p0, np, ignore, scale,
                       dlogits ? dlogits + n * chw + p0 : NULL);
  }
  return nv ? loss / (double)nv : 0.0;
}

void cpu_argmax_channels(const float *logits, Shape s, unsigned char *out) {
  const size_t hw = (size_t)s.h * s.w, chw = (size_t)s.c * hw;
  const long nblk = (long)((hw + PIX_BLOCK - 1) / PIX_BLOCK), tasks = (long)s.n * nblk;
  if (s.c <= 0) return;
  OMP(omp parallel for schedule(static) if (s.n * chw > PAR_MIN))
  for (long t = 0; t < tasks; t++) {
    const size_t n = (size_t)(t / nblk), p0 = (size_t)(t % nblk) * PIX_BLOCK;
    const int np = (int)(hw - p0 < PIX_BLOCK ? hw - p0 : PIX_BLOCK);
    const float *z = logits + n * chw + p0;
    float best[PIX_BLOCK];
    unsigned char *o = out + n * hw + p0;
    for (int p = 0; p < np; p++) best[p] = z[p], o[p] = 0;
    for (int c = 1; c < s.c; c++)
      for (int p = 0; p < np; p++) {
        const float v = z[(size_t)c * hw + p];
        if (v > best[p] || (isnan(v) && !isnan(best[p]))) best[p] = v, o[p] = (unsigned char)c;
      }
  }
}
