/* cpu_ops.h - CPU backend op kernels: float32, NCHW, matching PyTorch's semantics.
 * The kernels live in cpu_conv.c (conv2d), cpu_pool.c (avg pools), cpu_maxpool.c (max pools), cpu_resize.c
 * (bilinear, nearest, crop), cpu_channel.c (pad, softmax, slice, channel_shuffle)
 * and cpu_eltwise.c (batchnorm, activations, add/mul, concat, mix, threads). They are parallel with
 * OpenMP where it was found; 1x1 and dense convs go through CBLAS sgemm (OpenBLAS) where it was found.
 * Inputs and outputs must not overlap unless an op says otherwise (the elementwise ops allow y == x). */
#ifndef SQN_CPU_OPS_H
#define SQN_CPU_OPS_H
#include <stdbool.h>
#include <stddef.h>
#include "tensor.h"


/* act: the epilogue applied after the bias, while the output is in cache: CONV_ACT_NONE, _RELU, _RELU6. */
enum { CONV_ACT_NONE, CONV_ACT_RELU, CONV_ACT_RELU6 };
typedef struct ConvParams { int kh, kw, sh, sw, ph, pw, dh, dw, groups, act; } ConvParams;

/* y[n, co, oy, ox] = bias[co] + sum over ci in group, ky, kx of x[n, ci, oy*sh - ph + ky*dh, ox*sw - pw + kx*dw] * w[co, ci - g*cin_g, ky, kx]
   (zero padding); w is [cout, cin/groups, kh, kw]; bias may be NULL. */
void cpu_conv2d(const float *x, Shape xs, const float *w, const float *bias, const ConvParams *p, float *y, Shape ys);
/* A whole inverted residual with BN folded (cpu_fused_ir.c): y = project(act2(dw(act1(expand(x) + b1)) + bd)) + b2
   [+ x]. expand: w1 [hidden, cin/g1] (1x1, stride 1); dw: wd [hidden, 1, kh, kw] (stride, pad, dilation, groups =
   hidden); project: w2 [cout, hidden/g2] (1x1, stride 1); residual needs ys = xs, and then y may be x (in place).
   Biases may be NULL. The result equals the three cpu_conv2d calls (and cpu_add) up to sgemm rounding; the hidden
   tensor is kept to a ring of rows per thread. */
typedef struct FusedIr {
  const float *w1, *b1;
  int g1, act1;
  const float *wd, *bd;
  int kh, kw, sh, sw, ph, pw, dh, dw, act2;
  const float *w2, *b2;
  int g2, hidden;
  bool residual;
} FusedIr;
/* The widest depthwise kernel (kh and kw) cpu_fused_ir takes; wider ones run op by op. */
enum { CPU_FUSED_IR_MAX_K = 32 };
/* The floats of scratch cpu_fused_ir needs for these shapes (all threads together). */
size_t cpu_fused_ir_scratch(const FusedIr *f, Shape xs, Shape ys);
void cpu_fused_ir(const float *x, Shape xs, const FusedIr *f, float *scratch, float *y, Shape ys);
/* inference BN: y = (x - mean) / sqrt(var + eps) * gamma + beta, per channel */
void cpu_batchnorm_infer(const float *x, Shape s, const float *gamma, const float *beta, const float *mean, const float *var, float eps, float *y);
void cpu_relu(const float *x, size_t n, float *y);
void cpu_relu6(const float *x, size_t n, float *y);
void cpu_sigmoid(const float *x, size_t n, float *y);
void cpu_hswish(const float *x, size_t n, float *y);   /* x * relu6(x + 3) / 6 */
void cpu_silu(const float *x, size_t n, float *y);     /* x / (1 + exp(-x)), as PyTorch's SiLU */
void cpu_hsigmoid(const float *x, size_t n, float *y); /* relu6(x + 3) / 6, PyTorch's Hardsigmoid */
void cpu_tanh(const float *x, size_t n, float *y);
void cpu_leaky_relu(const float *x, size_t n, float slope, float *y); /* x > 0 ? x : x * slope */
void cpu_affine(const float *x, size_t n, float a, float b, float *y); /* a * x + b */
/* elementwise with broadcast over size-1 dims (n, c, h, w independently) */
void cpu_add(const float *a, Shape as, const float *b, Shape bs, float *y, Shape ys);
void cpu_sub(const float *a, Shape as, const float *b, Shape bs, float *y, Shape ys);
void cpu_mul(const float *a, Shape as, const float *b, Shape bs, float *y, Shape ys);
void cpu_concat(const float *const *xs, const Shape *shapes, int n, float *y, Shape ys); /* along channels */
/* PyTorch AvgPool2d (ceil_mode=False): window clipped to the padded input; with count_include_pad=false
   the divisor counts only the in-bounds (unpadded) elements */
void cpu_avgpool(const float *x, Shape xs, int kh, int kw, int sh, int sw, int ph, int pw, bool count_include_pad, float *y, Shape ys);
void cpu_global_avgpool(const float *x, Shape xs, float *y); /* y is [n, c, 1, 1] */
/* F.interpolate(mode='bilinear') to ys.h x ys.w; align_corners=true: src = dst * (in-1)/(out-1) (0 when out == 1);
   false: src = (dst + 0.5) * in/out - 0.5 clamped at 0 (PyTorch's area_pixel_compute_source_index with the size ratio) */
void cpu_bilinear(const float *x, Shape xs, float *y, Shape ys, bool align_corners);
/* The channel argmax of cpu_bilinear's output (xs.n images to OH x OW, as u8 class ids, torch.argmax's choice among
   equal values and NaN) without writing the interpolated channels: one pass, the same arithmetic, so the same ids. */
void cpu_bilinear_argmax(const float *x, Shape xs, unsigned char *labels, int OH, int OW, bool align_corners);
/* F.interpolate(mode='nearest'): src = min(floor(dst * in / out), in - 1) (computed in float as PyTorch does: scale = (float)in/out; src = floor(dst * scale)) */
void cpu_nearest(const float *x, Shape xs, float *y, Shape ys);
void cpu_crop(const float *x, Shape xs, int top, int left, float *y, Shape ys); /* y = x[:, :, top:top+ys.h, left:left+ys.w] */
/* PyTorch max_pool2d (ceil_mode=False, padding -inf): geometry from p (kh..dw; groups and act unused); the
   maximum of each window, the first of equal ones, NaN propagating (cpu_maxpool.c) */
void cpu_maxpool(const float *x, Shape xs, const ConvParams *p, float *y, Shape ys);
void cpu_global_maxpool(const float *x, Shape xs, float *y); /* y is [n, c, 1, 1] */
/* y = x with top/bottom/left/right borders of `value` (ys = xs grown by them) (cpu_channel.c) */
void cpu_pad(const float *x, Shape xs, int top, int left, float value, float *y, Shape ys);
/* softmax over channels per pixel, stable (the maximum subtracted) */
void cpu_softmax(const float *x, Shape s, float *y);
/* y[n, j] (+)= x[n, src] (0 where src is outside 0..xs.c-1), src = c0 + (j % groups) * (ys.c / groups) + j / groups:
   slice [start, end) is (c0 = start, groups 1), channel_shuffle(g) is (0, g) and its inverse (0, C/g) */
void cpu_channel_gather(const float *x, Shape xs, int c0, int groups, float *y, Shape ys, bool acc);
/* the superblock mixture: y = sum_k w[k * n + b] * x_k[b] for each sample b (x_k may be NULL = the Zero op) */
void cpu_mix(const float *const *xs, int k, const float *w, Shape s, float *y);
/* a width choice's channel mask (cpu_width.c): y[b, c] = x[b, c] * sum over j with widths[j] > c of w[j * n + b];
   y may equal x. False when out of memory. */
bool cpu_width_mask(const float *x, Shape s, const int *widths, int k, const float *w, float *y);
void cpu_set_threads(int n);  /* 0 = all cores */

#endif
