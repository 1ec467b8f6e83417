/* cpu_grad.h - CPU training kernels: training-mode batch norm, the backward of every op in cpu_ops.h, and the
 * pixel-wise softmax cross-entropy loss. float32, NCHW, PyTorch's semantics.
 * The kernels live in cpu_grad_conv.c (conv2d backward), cpu_grad_norm.c (batch norm) and cpu_grad_misc.c
 * (activations, broadcasting, concat, pools, resizing, crop, mixture, loss, argmax).
 * Conventions:
 *  - input gradients (dx, da, dxs[k]) take `acc`: true adds into them (dx += ...), false overwrites them
 *    (every element of dx is written, zeros included);
 *  - parameter gradients (dw, db, dgamma, dbeta, dmix's dw) always accumulate (+=): the caller zeroes them;
 *    NULL skips one of them where the comment says so;
 *  - outputs must not overlap inputs, except that the elementwise kernels (activations, batch norm) allow dx == dy
 *    with acc false, cpu_batchnorm_train allows y == x and cpu_batchnorm_backward_act allows dz == dx
 *    with acc false. */
#ifndef SQN_CPU_GRAD_H
#define SQN_CPU_GRAD_H
#include "cpu_ops.h"

/* conv backward; p->act must be CONV_ACT_NONE (aborts otherwise). x: [xs], w: [cout, cin/groups, kh, kw], dy: [ys] */
void cpu_conv2d_backward_data(const float *dy, Shape ys, const float *w, const ConvParams *p, float *dx, Shape xs, bool acc);
/* dw += dL/dw; db_or_null (when not NULL) += dL/dbias */
void cpu_conv2d_backward_weight(const float *x, Shape xs, const float *dy, Shape ys, const ConvParams *p, float *dw,
                                float *db_or_null);

/* training-mode batch norm (PyTorch F.batch_norm training=True): mean and biased variance over (n, h, w) per
   channel, accumulated in double; y = (x - mean) * invstd * gamma + beta with invstd = 1/sqrt(var_biased + eps);
   writes save_mean[c], save_invstd[c]; updates the running stats in place (skipped where NULL):
   rm = (1-momentum)*rm + momentum*mean; rv = (1-momentum)*rv + momentum*var_unbiased (var_biased*m/(m-1), m = n*h*w;
   var_biased when m == 1). gamma/beta NULL mean 1/0 (affine=False). */
void cpu_batchnorm_train(const float *x, Shape s, const float *gamma, const float *beta, float *running_mean,
                         float *running_var, float momentum, float eps, float *y, float *save_mean, float *save_invstd);
/* y = (x - save_mean) * save_invstd * gamma + beta with the statistics cpu_batchnorm_train saved, the
   same arithmetic bit for bit (recomputing a BN output for the backward pass instead of keeping it) */
void cpu_batchnorm_apply_saved(const float *x, Shape s, const float *gamma, const float *beta, const float *save_mean,
                               const float *save_invstd, float *y);
/* BN backward (training mode): dgamma += sum(dy*xhat), dbeta += sum(dy) (each skipped where NULL);
   dx = gamma*invstd/m * (m*dy - sum(dy) - xhat*sum(dy*xhat)) (skipped where NULL) */
void cpu_batchnorm_backward(const float *x, const float *dy, Shape s, const float *gamma, const float *save_mean,
                            const float *save_invstd, float *dx, bool acc, float *dgamma, float *dbeta);
/* The same three fused with the activation `act` (CONV_ACT_NONE, _RELU or _RELU6) that the BN feeds alone:
   train/apply write act(BN(x)) to y; backward takes the activation's output gradient dz and uses dy = dz where
   the activation passes it (0 < BN(x), and BN(x) < 6 for ReLU6; BN(x) recomputed from x bit for bit as the
   forward computed it) — one pass instead of two or three, and no activation output read. */
void cpu_batchnorm_train_act(const float *x, Shape s, const float *gamma, const float *beta, float *running_mean,
                             float *running_var, float momentum, float eps, int act, float *y, float *save_mean,
                             float *save_invstd);
void cpu_batchnorm_apply_saved_act(const float *x, Shape s, const float *gamma, const float *beta,
                                   const float *save_mean, const float *save_invstd, int act, float *y);
void cpu_batchnorm_backward_act(const float *x, const float *dz, int act, Shape s, const float *gamma, const float *beta,
                                const float *save_mean, const float *save_invstd, float *dx, bool acc, float *dgamma,
                                float *dbeta);
/* SyncBN (data-parallel training): cpu_batchnorm_train_act and _backward_act with the per-channel sums (x and x^2;
   dy and dy*(x-mean)) and the element count added up over every rank by sum(v, n) (in place, the same call on every
   rank) before they are used, so the statistics and dx are those of the global batch. dgamma/dbeta get this rank's
   part only (the parameter gradients are summed afterwards). False when out of memory. */
typedef void (*CpuSum)(double *v, size_t n);
bool cpu_batchnorm_train_sync(const float *x, Shape s, const float *gamma, const float *beta, float *running_mean,
                              float *running_var, float momentum, float eps, int act, float *y, float *save_mean,
                              float *save_invstd, CpuSum sum);
bool cpu_batchnorm_backward_sync(const float *x, const float *dz, int act, Shape s, const float *gamma, const float *beta,
                                 const float *save_mean, const float *save_invstd, float *dx, bool acc, float *dgamma,
                                 float *dbeta, CpuSum sum);
/* BN backward in eval mode (running statistics, BN frozen): dx = dy*gamma/sqrt(rv+eps); dgamma += sum(dy*xhat);
   dbeta += sum(dy) (each of the three skipped where NULL) */
void cpu_batchnorm_backward_eval(const float *x, const float *dy, Shape s, const float *gamma, const float *running_mean,
                                 const float *running_var, float eps, float *dx, bool acc, float *dgamma, float *dbeta);

/* activations: y is the forward output, x the forward input; NaN handling as PyTorch's */
void cpu_relu_backward(const float *y, const float *dy, size_t n, float *dx, bool acc);    /* dy where y > 0 */
void cpu_relu6_backward(const float *y, const float *dy, size_t n, float *dx, bool acc);   /* dy where 0 < y < 6 */
void cpu_sigmoid_backward(const float *y, const float *dy, size_t n, float *dx, bool acc); /* dy*y*(1-y) */
/* PyTorch's (vectorized CPU) hardswish_backward: x < -3: 0; x >= 3: dy; else dy*(x/3 + 0.5) */
void cpu_hswish_backward(const float *x, const float *dy, size_t n, float *dx, bool acc);
/* PyTorch's silu_backward: s = sigmoid(x); dy * s * (1 + x * (1 - s)) */
void cpu_silu_backward(const float *x, const float *dy, size_t n, float *dx, bool acc);
/* PyTorch's hardsigmoid_backward: dy / 6 where -3 < x < 3, else 0 */
void cpu_hsigmoid_backward(const float *x, const float *dy, size_t n, float *dx, bool acc);
void cpu_tanh_backward(const float *y, const float *dy, size_t n, float *dx, bool acc); /* dy * (1 - y*y) */
void cpu_leaky_relu_backward(const float *x, const float *dy, size_t n, float slope, float *dx, bool acc);
void cpu_affine_backward(const float *dy, size_t n, float a, float *dx, bool acc); /* a * dy */

/* broadcasting: dx (shape xs, each dim equal to ys's or 1) = sum of dy over the broadcast dims */
void cpu_reduce_to(const float *dy, Shape ys, float *dx, Shape xs, bool acc);
/* a*b backward for operand a (shape as): da = reduce_to(dy * b) with b (shape bs) broadcast to ys */
void cpu_mul_backward(const float *dy, Shape ys, const float *b, Shape bs, float *da, Shape as, bool acc);
/* a-b backward for operand b: db = -reduce_to(dy) (operand a's is cpu_reduce_to) */
void cpu_sub_backward_b(const float *dy, Shape ys, float *db, Shape bs, bool acc);
/* concat along channels: dx = the slice of dy at channel offset c0 with xs.c channels */
void cpu_concat_backward(const float *dy, Shape ys, int c0, float *dx, Shape xs, bool acc);
/* the adjoint of cpu_avgpool (PyTorch avg_pool2d_backward, ceil_mode=False) */
void cpu_avgpool_backward(const float *dy, Shape ys, int kh, int kw, int sh, int sw, int ph, int pw,
                          bool count_include_pad, float *dx, Shape xs, bool acc);
void cpu_global_avgpool_backward(const float *dy, float *dx, Shape xs, bool acc); /* dy is [n, c, 1, 1] */
/* the exact adjoints of cpu_bilinear (same source indices and weights), cpu_nearest and cpu_crop */
void cpu_bilinear_backward(const float *dy, Shape ys, float *dx, Shape xs, bool align_corners, bool acc);
void cpu_nearest_backward(const float *dy, Shape ys, float *dx, Shape xs, bool acc);
void cpu_crop_backward(const float *dy, Shape ys, int top, int left, float *dx, Shape xs, bool acc); /* 0 outside */
/* max pools: dy to the argmax of each window, found again in x as the forward found it (cpu_maxpool.c) */
void cpu_maxpool_backward(const float *x, Shape xs, const float *dy, Shape ys, const ConvParams *p, float *dx, bool acc);
void cpu_global_maxpool_backward(const float *x, Shape xs, const float *dy, float *dx, bool acc);
/* pad: dx (+)= dy[:, :, top:top+xs.h, left:left+xs.w]; softmax: dx (+)= y * (dy - sum_c(dy * y)) (cpu_channel.c);
   slice and channel_shuffle backward through cpu_channel_gather */
void cpu_pad_backward(const float *dy, Shape ys, int top, int left, float *dx, Shape xs, bool acc);
void cpu_softmax_backward(const float *y, const float *dy, Shape s, float *dx, bool acc);
/* superblock mixture y = sum_k w[k*n+b]*x_k[b] (s = the shape of y and of each x_k):
   dxs[k] = w[k*n+b]*dy[b] for the k with dxs[k] != NULL (+= where bit k of acc_mask is set); dw[k*n+b] +=
   sum(dy[b]*x_k[b]) for the k with xs[k] != NULL (dw may be NULL). One pass over dy. False when out of memory
   (cpu_mix.c). */
bool cpu_mix_backward(const float *dy, Shape s, const float *const *xs, int k, const float *w, float *const *dxs,
                      unsigned acc_mask, float *dw);
/* the width mask's backward: dx (+)= dy * m (dx may be NULL); dw[j * n + b] += sum over the channels c < widths[j] of
   sum(x * dy) (dw may be NULL). False when out of memory. */
bool cpu_width_mask_backward(const float *x, const float *dy, Shape s, const int *widths, int k, const float *w,
                             float *dx, bool acc, float *dw);

/* pixel-wise softmax cross-entropy, PyTorch F.cross_entropy(logits, labels, ignore_index=ignore, reduction='mean'):
   logits [n, C, h, w]; labels uint8 [n, h, w], each < C or == ignore (another label aborts, as PyTorch raises).
   Returns the mean loss over the valid pixels (0 when none) and *nvalid = their number; when dlogits != NULL
   overwrites it with d loss / d logits = (softmax - onehot) / nvalid at valid pixels, 0 at ignored ones. */
double cpu_softmax_xent(const float *logits, Shape s, const unsigned char *labels, int ignore, float *dlogits, long *nvalid);
/* per-pixel argmax over channels (the first max wins and NaN counts as the max, as torch.argmax): out uint8 [n, h, w]; C <= 256 */
void cpu_argmax_channels(const float *logits, Shape s, unsigned char *out);

#endif
