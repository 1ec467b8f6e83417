/* cuda_dnn.h - the cuDNN tensor operations the CUDA backend trains with (float32, NCHW, queued on the
   conv library's stream, its workspace shared): training-mode batch norm and its backward, reductions to a
   broadcast shape, strided copies that add or overwrite, pooling backward, per-channel arithmetic and scaling. */
#ifndef SQN_CUDA_DNN_H
#define SQN_CUDA_DNN_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cuda_conv.h"

typedef struct CudaDnn CudaDnn;
#define CUDA_DNN_BN_EPS 1e-5 /* batch norm's eps (the CPU's 1e-5f; cuda_dnn.c) */

CudaDnn *cuda_dnn_new(CudaConvLib *l, char *err, size_t errlen);
void cuda_dnn_free(CudaDnn *d);

/* Batch norm with batch statistics (cpu_batchnorm_train): y = BN(x); save_mean / save_invstd (C floats each)
   get the batch mean and 1/sqrt(biased var + eps); running mean and variance (NULL: left as they are) move by
   `momentum` towards the batch mean and the unbiased batch variance. */
bool cuda_dnn_bn_train(CudaDnn *d, const float *x, ConvDims s, const float *gamma, const float *beta, float *rmean,
                       float *rvar, double momentum, float *y, float *save_mean, float *save_invstd, char *err,
                       size_t errlen);
/* Its backward (cpu_batchnorm_backward): dx = (acc: dx +) ...; dgamma += sum(dy * xhat), dbeta += sum(dy). */
bool cuda_dnn_bn_backward(CudaDnn *d, const float *x, const float *dy, ConvDims s, const float *gamma,
                          const float *save_mean, const float *save_invstd, float *dx, bool acc, float *dgamma,
                          float *dbeta, char *err, size_t errlen);
/* Batch norm with given statistics (cpu_batchnorm_infer: frozen BN): y = (acc: y +) gamma * (x - mean) /
   sqrt(var + eps) + beta, per channel. */
bool cuda_dnn_bn_infer(CudaDnn *d, const float *x, ConvDims s, const float *gamma, const float *beta, const float *mean,
                       const float *var, float *y, bool acc, char *err, size_t errlen);
/* Per channel (c floats each): scale = gamma * invstd, shift = beta - mean * scale (BN applied with saved
   statistics as one affine map). */
bool cuda_dnn_bn_scale_shift(CudaDnn *d, int c, const float *gamma, const float *beta, const float *mean,
                             const float *invstd, float *scale, float *shift, char *err, size_t errlen);
/* dx (shape xs: each dim ys's or 1) = (acc: dx +) alpha * the sum of dy (shape ys) over the broadcast dims. */
bool cuda_dnn_reduce_to(CudaDnn *d, const float *dy, ConvDims ys, float *dx, ConvDims xs, bool acc, float alpha,
                        char *err, size_t errlen);
/* dst = (acc: dst +) alpha * src, both of shape s; src broadcast along the dims where src_shape is 1. */
bool cuda_dnn_broadcast(CudaDnn *d, const float *src, ConvDims src_shape, float *dst, ConvDims s, bool acc, float alpha,
                        char *err, size_t errlen);
/* x *= alpha over n floats, in place. */
bool cuda_dnn_scale(CudaDnn *d, float *x, size_t n, float alpha, char *err, size_t errlen);
/* y = (acc: y +) x * v[c] per channel (x and y of shape s, v: s.c floats); y must not be x. */
bool cuda_dnn_mul_channels(CudaDnn *d, const float *x, ConvDims s, const float *v, float *y, bool acc, char *err,
                           size_t errlen);
/* dst = (acc: dst +) src over a [n, c, h, w] window, each side with its own element strides (NCHW order). */
bool cuda_dnn_copy_strided(CudaDnn *d, const float *src, const int64_t src_stride[4], float *dst,
                           const int64_t dst_stride[4], ConvDims s, bool acc, char *err, size_t errlen);
/* The adjoint of average pooling (cpu_avgpool_backward, ceil_mode off): y/dy of shape ys, x/dx of xs. */
bool cuda_dnn_avgpool_backward(CudaDnn *d, const float *y, const float *dy, ConvDims ys, const float *x, float *dx,
                               ConvDims xs, const int win[6], bool count_include_pad, bool acc, char *err, size_t errlen);
#endif
