/* cuda_conv_grad.c - the backward of cuDNN convolutions for training (cuda_conv.h): data and filter
   gradients through cudnnConvolutionBackwardData / BackwardFilter with deterministic algorithms from cuDNN's
   heuristics (cached per input shape, the shared workspace), the bias gradient through
   cudnnConvolutionBackwardBias. Parameter gradients accumulate (beta = 1), as the trainer expects. */
#include "cuda_conv_internal.h"

static bool choose_data(CudaConvLib *l, CudaConv *c, AlgoChoice *out, char *err, size_t n) {
  cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
  int got = 0;
  if (!dnn_ok(cudnnGetConvolutionBackwardDataAlgorithm_v7(l->h, c->wd, c->yd, c->cd, c->xd,
                                                          CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &got, perf),
              "cudnnGetConvolutionBackwardDataAlgorithm_v7", err, n))
    return false;
  for (int i = 0; i < got; i++)
    if (cuda_conv_algo_usable(out, c->cur_x, l->tf32, perf[i].algo, perf[i].status,
                              perf[i].determinism == CUDNN_DETERMINISTIC, perf[i].mathType, perf[i].memory))
      return true;
  *out = (AlgoChoice){c->cur_x, CUDNN_CONVOLUTION_BWD_DATA_ALGO_1, CUDNN_FMA_MATH, 0}; /* deterministic, general */
  return dnn_ok(cudnnGetConvolutionBackwardDataWorkspaceSize(l->h, c->wd, c->yd, c->cd, c->xd, CUDNN_CONVOLUTION_BWD_DATA_ALGO_1,
                                                             &out->ws), "cudnnGetConvolutionBackwardDataWorkspaceSize", err, n);
}

static bool choose_filter(CudaConvLib *l, CudaConv *c, AlgoChoice *out, char *err, size_t n) {
  cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
  int got = 0;
  if (!dnn_ok(cudnnGetConvolutionBackwardFilterAlgorithm_v7(l->h, c->xd, c->yd, c->cd, c->wd,
                                                            CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &got, perf),
              "cudnnGetConvolutionBackwardFilterAlgorithm_v7", err, n))
    return false;
  for (int i = 0; i < got; i++)
    if (cuda_conv_algo_usable(out, c->cur_x, l->tf32, perf[i].algo, perf[i].status,
                              perf[i].determinism == CUDNN_DETERMINISTIC, perf[i].mathType, perf[i].memory))
      return true;
  *out = (AlgoChoice){c->cur_x, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1, CUDNN_FMA_MATH, 0};
  return dnn_ok(cudnnGetConvolutionBackwardFilterWorkspaceSize(l->h, c->xd, c->yd, c->cd, c->wd,
                                                               CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1, &out->ws),
                "cudnnGetConvolutionBackwardFilterWorkspaceSize", err, n);
}

bool cuda_conv_backward_data(CudaConvLib *l, CudaConv *c, const float *dy, ConvDims yd, const float *w, float *dx,
                             ConvDims xd, bool acc, char *err, size_t n) {
  const AlgoChoice *a = cuda_conv_set_shapes(c, xd, yd, err, n) ? cuda_conv_algo(l, c, &c->data, choose_data, err, n) : NULL;
  if (!a) return false;
  const float one = 1.0f, beta = acc ? 1.0f : 0.0f;
  return dnn_ok(cudnnConvolutionBackwardData(l->h, &one, c->wd, w, c->yd, dy, c->cd, (cudnnConvolutionBwdDataAlgo_t)a->algo,
                                             l->ws, a->ws, &beta, c->xd, dx),
                "cudnnConvolutionBackwardData", err, n);
}

static bool backward_bias(CudaConvLib *l, CudaConv *c, const float *dy, ConvDims yd, float *db, char *err, size_t n) {
  const float one = 1.0f;
  if (!c->bd && !dnn_ok(cudnnCreateTensorDescriptor(&c->bd), "cudnnCreateTensorDescriptor", err, n)) return false;
  return dnn_ok(cudnnSetTensor4dDescriptor(c->bd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, yd.c, 1, 1),
                "cudnnSetTensor4dDescriptor (bias)", err, n) &&
         dnn_ok(cudnnConvolutionBackwardBias(l->h, &one, c->yd, dy, &one, c->bd, db), "cudnnConvolutionBackwardBias", err, n);
}

bool cuda_conv_backward_filter(CudaConvLib *l, CudaConv *c, const float *x, ConvDims xd, const float *dy, ConvDims yd,
                               float *dw, float *db, char *err, size_t n) {
  const AlgoChoice *a = cuda_conv_set_shapes(c, xd, yd, err, n) ? cuda_conv_algo(l, c, &c->filter, choose_filter, err, n) : NULL;
  if (!a) return false;
  const float one = 1.0f;
  if (!dnn_ok(cudnnConvolutionBackwardFilter(l->h, &one, c->xd, x, c->yd, dy, c->cd,
                                             (cudnnConvolutionBwdFilterAlgo_t)a->algo, l->ws, a->ws, &one, c->wd, dw),
              "cudnnConvolutionBackwardFilter", err, n))
    return false;
  return !db || backward_bias(l, c, dy, yd, db, err, n);
}
