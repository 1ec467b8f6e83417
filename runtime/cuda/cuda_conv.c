/* cuda_conv.c - cuDNN convolutions with per-node descriptors, an algorithm cache per input shape and one
   shared, growing workspace (cuda_conv.h). Algorithms come from cuDNN's heuristics
   (cudnnGetConvolutionForwardAlgorithm_v7): no trial runs, no synchronization. */
#include "cuda_conv.h"
#include <stdlib.h>
#include "cuda_conv_internal.h"

CudaConvLib *cuda_conv_lib_new(cudaStream_t stream, bool tf32, char *err, size_t n) {
  CudaConvLib *l = calloc(1, sizeof *l);
  if (!l) return snprintf(err, n, "out of memory"), NULL;
  l->tf32 = tf32;
  if (!dnn_ok(cudnnCreate(&l->h), "cannot start (cudnnCreate; is libcudnn's version right for this driver?)", err, n))
    return free(l), NULL;
  if (!dnn_ok(cudnnSetStream(l->h, stream), "cudnnSetStream", err, n)) return cuda_conv_lib_free(l), NULL;
  return l;
}

void cuda_conv_lib_free(CudaConvLib *l) {
  if (!l) return;
  if (l->ws) cudaFree(l->ws);
  if (l->h) cudnnDestroy(l->h);
  free(l);
}

CudaConv *cuda_conv_new(CudaConvLib *l, const PlanNode *nd, int cin, char *err, size_t n) {
  CudaConv *c = calloc(1, sizeof *c);
  if (!c) return snprintf(err, n, "out of memory"), NULL;
  c->cur_math = l->tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
  bool ok = dnn_ok(cudnnCreateTensorDescriptor(&c->xd), "cudnnCreateTensorDescriptor", err, n) &&
            dnn_ok(cudnnCreateTensorDescriptor(&c->yd), "cudnnCreateTensorDescriptor", err, n) &&
            dnn_ok(cudnnCreateFilterDescriptor(&c->wd), "cudnnCreateFilterDescriptor", err, n) &&
            dnn_ok(cudnnCreateConvolutionDescriptor(&c->cd), "cudnnCreateConvolutionDescriptor", err, n) &&
            dnn_ok(cudnnSetFilter4dDescriptor(c->wd, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, nd->out.c, cin / nd->groups,
                                              nd->kh, nd->kw), "cudnnSetFilter4dDescriptor", err, n) &&
            dnn_ok(cudnnSetConvolution2dDescriptor(c->cd, nd->ph, nd->pw, nd->sh, nd->sw, nd->dh, nd->dw,
                                                   CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
                   "cudnnSetConvolution2dDescriptor", err, n) &&
            dnn_ok(cudnnSetConvolutionGroupCount(c->cd, nd->groups), "cudnnSetConvolutionGroupCount", err, n) &&
            dnn_ok(cudnnSetConvolutionMathType(c->cd, c->cur_math), "cudnnSetConvolutionMathType", err, n);
  if (!ok) return cuda_conv_free(c), NULL;
  return c;
}

void cuda_conv_free(CudaConv *c) {
  if (!c) return;
  if (c->xd) cudnnDestroyTensorDescriptor(c->xd);
  if (c->yd) cudnnDestroyTensorDescriptor(c->yd);
  if (c->wd) cudnnDestroyFilterDescriptor(c->wd);
  if (c->cd) cudnnDestroyConvolutionDescriptor(c->cd);
  if (c->bd) cudnnDestroyTensorDescriptor(c->bd);
  free(c);
}

static bool same(ConvDims a, ConvDims b) { return a.n == b.n && a.c == b.c && a.h == b.h && a.w == b.w; }

bool cuda_conv_set_shapes(CudaConv *c, ConvDims x, ConvDims y, char *err, size_t n) {
  if (same(x, c->cur_x) && same(y, c->cur_y)) return true;
  int on, oc, oh, ow;
  bool ok = dnn_ok(cudnnSetTensor4dDescriptor(c->xd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, x.n, x.c, x.h, x.w),
                   "cudnnSetTensor4dDescriptor (input)", err, n) &&
            dnn_ok(cudnnSetTensor4dDescriptor(c->yd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, y.n, y.c, y.h, y.w),
                   "cudnnSetTensor4dDescriptor (output)", err, n) &&
            dnn_ok(cudnnGetConvolution2dForwardOutputDim(c->cd, c->xd, c->wd, &on, &oc, &oh, &ow),
                   "cudnnGetConvolution2dForwardOutputDim", err, n);
  c->cur_x = c->cur_y = (ConvDims){0, 0, 0, 0};
  if (!ok) return false;
  if (on != y.n || oc != y.c || oh != y.h || ow != y.w)
    return snprintf(err, n, "cuDNN computes a %dx%dx%dx%d output, the plan %dx%dx%dx%d", on, oc, oh, ow, y.n, y.c, y.h,
                    y.w), false;
  c->cur_x = x, c->cur_y = y;
  return true;
}

bool cuda_conv_algo_usable(AlgoChoice *out, ConvDims x, bool tf32, int algo, cudnnStatus_t st, bool deterministic,
                           cudnnMathType_t math, size_t ws) {
  bool exact = math == CUDNN_FMA_MATH || math == CUDNN_DEFAULT_MATH;
  if (st != CUDNN_STATUS_SUCCESS || !deterministic || ws > WS_LIMIT || (!tf32 && !exact)) return false;
  *out = (AlgoChoice){x, algo, tf32 ? math : CUDNN_FMA_MATH, ws};
  return true;
}

/* The heuristics' best forward algorithm that is usable (any determinism). */
static bool choose(CudaConvLib *l, CudaConv *c, AlgoChoice *out, char *err, size_t n) {
  cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
  int got = 0;
  if (!dnn_ok(cudnnGetConvolutionForwardAlgorithm_v7(l->h, c->xd, c->wd, c->cd, c->yd, CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
                                                     &got, perf), "cudnnGetConvolutionForwardAlgorithm_v7", err, n))
    return false;
  for (int i = 0; i < got; i++)
    if (cuda_conv_algo_usable(out, c->cur_x, l->tf32, perf[i].algo, perf[i].status, true, perf[i].mathType,
                              perf[i].memory))
      return true;
  /* nothing suitable ranked: implicit GEMM runs every convolution */
  *out = (AlgoChoice){c->cur_x, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, c->cur_math, 0};
  return dnn_ok(cudnnGetConvolutionForwardWorkspaceSize(l->h, c->xd, c->wd, c->cd, c->yd, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM,
                                                        &out->ws), "cudnnGetConvolutionForwardWorkspaceSize", err, n);
}

const AlgoChoice *cuda_conv_algo(CudaConvLib *l, CudaConv *c, AlgoCache *cache, AlgoChooser choose_algo, char *err,
                                 size_t n) {
  const AlgoChoice *a = NULL;
  for (int i = 0; i < cache->n && !a; i++)
    if (same(cache->e[i].x, c->cur_x)) a = &cache->e[i];
  if (!a) {
    AlgoChoice g;
    if (!choose_algo(l, c, &g, err, n)) return NULL;
    int slot = cache->n < NCACHE ? cache->n++ : (cache->next++ % NCACHE);
    cache->e[slot] = g;
    a = &cache->e[slot];
  }
  return cuda_conv_workspace(l, a->ws, err, n) && cuda_conv_math(c, a->math, err, n) ? a : NULL;
}

/* cudaFree waits for the convs still using the old workspace. */
bool cuda_conv_workspace(CudaConvLib *l, size_t bytes, char *err, size_t n) {
  if (bytes <= l->ws_bytes) return true;
  if (l->ws && !rt_ok(cudaFree(l->ws), "freeing the cuDNN workspace", err, n)) return false;
  l->ws = NULL, l->ws_bytes = 0;
  if (!rt_ok(cudaMalloc(&l->ws, bytes), "allocating the cuDNN workspace", err, n)) return l->ws = NULL, false;
  l->ws_bytes = bytes;
  return true;
}

bool cuda_conv_math(CudaConv *c, cudnnMathType_t m, char *err, size_t n) {
  if (m == c->cur_math) return true;
  if (!dnn_ok(cudnnSetConvolutionMathType(c->cd, m), "cudnnSetConvolutionMathType", err, n)) return false;
  c->cur_math = m;
  return true;
}

bool cuda_conv_forward(CudaConvLib *l, CudaConv *c, const float *x, ConvDims xd, const float *w, float *y, ConvDims yd,
                       char *err, size_t n) {
  const AlgoChoice *a = cuda_conv_set_shapes(c, xd, yd, err, n) ? cuda_conv_algo(l, c, &c->fwd, choose, err, n) : NULL;
  if (!a) return false;
  const float one = 1.0f, zero = 0.0f;
  return dnn_ok(cudnnConvolutionForward(l->h, &one, c->xd, x, c->wd, w, c->cd, (cudnnConvolutionFwdAlgo_t)a->algo, l->ws,
                                        a->ws, &zero, c->yd, y),
                "cudnnConvolutionForward", err, n);
}
