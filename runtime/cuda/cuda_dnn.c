/* cuda_dnn.c - cuDNN tensor operations for training (cuda_dnn.h). Descriptors are made once and re-pointed
   per call (cuDNN reads them when the call is queued).
   Batch norm: cudnnBatchNormalizationForwardTraining in CUDNN_BATCHNORM_SPATIAL mode computes per channel the
   mean and the biased variance over (n, h, w), saves the mean and 1/sqrt(var + eps) (resultSaveMean /
   resultSaveInvVariance: what cpu_batchnorm_train saves), and updates the running statistics as
   running = (1 - factor) * running + factor * batch value with exponentialAverageFactor = momentum (0.1, as
   PyTorch), using the unbiased variance (Bessel's correction, m / (m - 1)) for the running variance: so
   cuDNN's documentation describes it (cudnn_ops.h only says "moving average of variance[x]"), and PyTorch
   passes its running_var to cuDNN unchanged and gets what its native (unbiased) kernels give. Not verified
   on a GPU here: gpu_train_network compares the running statistics with the CPU's. For m == 1 the CPU uses
   the biased variance; cuDNN's m / (m - 1) is undefined there (a batch of one 1x1 value: not a real case).
   eps: the double 1e-5, which rounds to the float the CPU uses (1e-5f); cuDNN 9 allows any eps >=
   CUDNN_BN_MIN_EPSILON = 0. */
#include "cuda_dnn.h"
#include <stdlib.h>
#include "cuda_conv_internal.h"

#define BN_EPS CUDA_DNN_BN_EPS

struct CudaDnn {
  CudaConvLib *l;
  cudnnTensorDescriptor_t t[4];
  cudnnReduceTensorDescriptor_t red;
  cudnnOpTensorDescriptor_t mul;
  cudnnPoolingDescriptor_t pool;
};

CudaDnn *cuda_dnn_new(CudaConvLib *l, char *err, size_t n) {
  CudaDnn *d = calloc(1, sizeof *d);
  if (!d) return snprintf(err, n, "out of memory"), NULL;
  d->l = l;
  bool ok = true;
  for (int i = 0; i < 4 && ok; i++) ok = dnn_ok(cudnnCreateTensorDescriptor(&d->t[i]), "cudnnCreateTensorDescriptor", err, n);
  ok = ok && dnn_ok(cudnnCreateReduceTensorDescriptor(&d->red), "cudnnCreateReduceTensorDescriptor", err, n) &&
       dnn_ok(cudnnSetReduceTensorDescriptor(d->red, CUDNN_REDUCE_TENSOR_ADD, CUDNN_DATA_FLOAT, CUDNN_PROPAGATE_NAN,
                                             CUDNN_REDUCE_TENSOR_NO_INDICES, CUDNN_32BIT_INDICES),
              "cudnnSetReduceTensorDescriptor", err, n) &&
       dnn_ok(cudnnCreateOpTensorDescriptor(&d->mul), "cudnnCreateOpTensorDescriptor", err, n) &&
       dnn_ok(cudnnSetOpTensorDescriptor(d->mul, CUDNN_OP_TENSOR_MUL, CUDNN_DATA_FLOAT, CUDNN_PROPAGATE_NAN),
              "cudnnSetOpTensorDescriptor", err, n) &&
       dnn_ok(cudnnCreatePoolingDescriptor(&d->pool), "cudnnCreatePoolingDescriptor", err, n);
  if (!ok) return cuda_dnn_free(d), NULL;
  return d;
}

void cuda_dnn_free(CudaDnn *d) {
  if (!d) return;
  for (int i = 0; i < 4; i++)
    if (d->t[i]) cudnnDestroyTensorDescriptor(d->t[i]);
  if (d->red) cudnnDestroyReduceTensorDescriptor(d->red);
  if (d->mul) cudnnDestroyOpTensorDescriptor(d->mul);
  if (d->pool) cudnnDestroyPoolingDescriptor(d->pool);
  free(d);
}

static bool set4(CudaDnn *d, int k, ConvDims s, char *err, size_t n) {
  return dnn_ok(cudnnSetTensor4dDescriptor(d->t[k], CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, s.n, s.c, s.h, s.w),
                "cudnnSetTensor4dDescriptor", err, n);
}

static bool same(ConvDims a, ConvDims b) { return a.n == b.n && a.c == b.c && a.h == b.h && a.w == b.w; }

static ConvDims channels(int c) { return (ConvDims){1, c, 1, 1}; }

bool cuda_dnn_bn_train(CudaDnn *d, const float *x, ConvDims s, const float *gamma, const float *beta, float *rmean,
                       float *rvar, double momentum, float *y, float *save_mean, float *save_invstd, char *err, size_t n) {
  const float one = 1.0f, zero = 0.0f;
  if (!set4(d, 0, s, err, n) || !set4(d, 1, channels(s.c), err, n)) return false;
  return dnn_ok(cudnnBatchNormalizationForwardTraining(d->l->h, CUDNN_BATCHNORM_SPATIAL, &one, &zero, d->t[0], x, d->t[0], y,
                                                       d->t[1], gamma, beta, momentum, rmean, rvar, BN_EPS, save_mean,
                                                       save_invstd),
                "cudnnBatchNormalizationForwardTraining", err, n);
}

bool cuda_dnn_bn_backward(CudaDnn *d, const float *x, const float *dy, ConvDims s, const float *gamma,
                          const float *save_mean, const float *save_invstd, float *dx, bool acc, float *dgamma,
                          float *dbeta, char *err, size_t n) {
  const float one = 1.0f, beta_dx = acc ? 1.0f : 0.0f; /* the parameter gradients always accumulate */
  if (!set4(d, 0, s, err, n) || !set4(d, 1, channels(s.c), err, n)) return false;
  return dnn_ok(cudnnBatchNormalizationBackward(d->l->h, CUDNN_BATCHNORM_SPATIAL, &one, &beta_dx, &one, &one, d->t[0], x,
                                                d->t[0], dy, d->t[0], dx, d->t[1], gamma, dgamma, dbeta, BN_EPS, save_mean,
                                                save_invstd),
                "cudnnBatchNormalizationBackward", err, n);
}

bool cuda_dnn_bn_infer(CudaDnn *d, const float *x, ConvDims s, const float *gamma, const float *beta, const float *mean,
                       const float *var, float *y, bool acc, char *err, size_t n) {
  const float one = 1.0f, blend = acc ? 1.0f : 0.0f;
  if (!set4(d, 0, s, err, n) || !set4(d, 1, channels(s.c), err, n)) return false;
  return dnn_ok(cudnnBatchNormalizationForwardInference(d->l->h, CUDNN_BATCHNORM_SPATIAL, &one, &blend, d->t[0], x, d->t[0],
                                                        y, d->t[1], gamma, beta, mean, var, BN_EPS),
                "cudnnBatchNormalizationForwardInference", err, n);
}

bool cuda_dnn_bn_scale_shift(CudaDnn *d, int c, const float *gamma, const float *beta, const float *mean,
                             const float *invstd, float *scale, float *shift, char *err, size_t n) {
  const float one = 1.0f, minus = -1.0f, zero = 0.0f;
  cudnnTensorDescriptor_t t = d->t[1];
  return set4(d, 1, channels(c), err, n) &&
         dnn_ok(cudnnOpTensor(d->l->h, d->mul, &one, t, gamma, &one, t, invstd, &zero, t, scale), "cudnnOpTensor", err, n) &&
         dnn_ok(cudnnTransformTensor(d->l->h, &one, t, beta, &zero, t, shift), "cudnnTransformTensor", err, n) &&
         dnn_ok(cudnnOpTensor(d->l->h, d->mul, &minus, t, mean, &one, t, scale, &one, t, shift), "cudnnOpTensor", err, n);
}

bool cuda_dnn_broadcast(CudaDnn *d, const float *src, ConvDims src_shape, float *dst, ConvDims s, bool acc, float alpha,
                        char *err, size_t n) {
  const float beta = acc ? 1.0f : 0.0f;
  return set4(d, 0, src_shape, err, n) && set4(d, 1, s, err, n) &&
         dnn_ok(cudnnAddTensor(d->l->h, &alpha, d->t[0], src, &beta, d->t[1], dst), "cudnnAddTensor", err, n);
}

bool cuda_dnn_reduce_to(CudaDnn *d, const float *dy, ConvDims ys, float *dx, ConvDims xs, bool acc, float alpha, char *err,
                        size_t n) {
  if (same(xs, ys) && dx == dy && !acc && alpha == 1.0f) return true; /* in place: nothing to do */
  if (same(xs, ys)) return cuda_dnn_broadcast(d, dy, ys, dx, xs, acc, alpha, err, n);
  const float beta = acc ? 1.0f : 0.0f;
  size_t ws = 0;
  return set4(d, 0, ys, err, n) && set4(d, 1, xs, err, n) &&
         dnn_ok(cudnnGetReductionWorkspaceSize(d->l->h, d->red, d->t[0], d->t[1], &ws), "cudnnGetReductionWorkspaceSize", err, n) &&
         cuda_conv_workspace(d->l, ws, err, n) &&
         dnn_ok(cudnnReduceTensor(d->l->h, d->red, NULL, 0, d->l->ws, ws, &alpha, d->t[0], dy, &beta, d->t[1], dx),
                "cudnnReduceTensor", err, n);
}

bool cuda_dnn_scale(CudaDnn *d, float *x, size_t n, float alpha, char *err, size_t errlen) {
  for (size_t at = 0; at < n; at += 1u << 30) { /* cuDNN's dims are ints */
    const size_t k = n - at < (1u << 30) ? n - at : (1u << 30);
    if (!set4(d, 0, (ConvDims){1, 1, 1, (int)k}, err, errlen) ||
        !dnn_ok(cudnnScaleTensor(d->l->h, d->t[0], x + at, &alpha), "cudnnScaleTensor", err, errlen))
      return false;
  }
  return true;
}

bool cuda_dnn_mul_channels(CudaDnn *d, const float *x, ConvDims s, const float *v, float *y, bool acc, char *err,
                           size_t n) {
  const float one = 1.0f, beta = acc ? 1.0f : 0.0f;
  return set4(d, 0, s, err, n) && set4(d, 1, channels(s.c), err, n) &&
         dnn_ok(cudnnOpTensor(d->l->h, d->mul, &one, d->t[0], x, &one, d->t[1], v, &beta, d->t[0], y), "cudnnOpTensor",
                err, n);
}

static bool set4_strided(CudaDnn *d, int k, ConvDims s, const int64_t st[4], char *err, size_t n) {
  return dnn_ok(cudnnSetTensor4dDescriptorEx(d->t[k], CUDNN_DATA_FLOAT, s.n, s.c, s.h, s.w, (int)st[0], (int)st[1],
                                             (int)st[2], (int)st[3]),
                "cudnnSetTensor4dDescriptorEx", err, n);
}

bool cuda_dnn_copy_strided(CudaDnn *d, const float *src, const int64_t src_stride[4], float *dst,
                           const int64_t dst_stride[4], ConvDims s, bool acc, char *err, size_t n) {
  const float one = 1.0f, beta = acc ? 1.0f : 0.0f;
  return set4_strided(d, 0, s, src_stride, err, n) && set4_strided(d, 1, s, dst_stride, err, n) &&
         dnn_ok(cudnnTransformTensor(d->l->h, &one, d->t[0], src, &beta, d->t[1], dst), "cudnnTransformTensor", err, n);
}

/* cuDNN's include-padding average divides by kh * kw, PyTorch's by the window clipped to the padded input:
   the same here, since without ceil_mode every window ends inside the padded input. */
bool cuda_dnn_avgpool_backward(CudaDnn *d, const float *y, const float *dy, ConvDims ys, const float *x, float *dx,
                               ConvDims xs, const int win[6], bool count_include_pad, bool acc, char *err, size_t n) {
  const float one = 1.0f, beta = acc ? 1.0f : 0.0f;
  cudnnPoolingMode_t mode = count_include_pad ? CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING
                                              : CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING;
  return dnn_ok(cudnnSetPooling2dDescriptor(d->pool, mode, CUDNN_PROPAGATE_NAN, win[0], win[1], win[2], win[3], win[4],
                                            win[5]), "cudnnSetPooling2dDescriptor", err, n) &&
         set4(d, 0, ys, err, n) && set4(d, 1, xs, err, n) &&
         dnn_ok(cudnnPoolingBackward(d->l->h, d->pool, &one, d->t[0], y, d->t[0], dy, d->t[1], x, &beta, d->t[1], dx),
                "cudnnPoolingBackward", err, n);
}
