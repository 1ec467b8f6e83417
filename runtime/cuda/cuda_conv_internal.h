/* cuda_conv_internal.h - what cuda_conv.c (forward) and cuda_conv_grad.c (backward) share: the cuDNN handle
   and workspace, each conv's descriptors and its per-shape algorithm caches, and small error helpers. */
#ifndef SQN_CUDA_CONV_INTERNAL_H
#define SQN_CUDA_CONV_INTERNAL_H
#include <cudnn.h>
#include <stdio.h>
#include "cuda_conv.h"
#include "cuda_driver.h"

#define WS_LIMIT ((size_t)1 << 30) /* the most workspace an algorithm may ask for */
#define NCACHE 8                    /* input shapes remembered per conv (eval sees a few sizes) */

struct CudaConvLib {
  cudnnHandle_t h;
  bool tf32;
  void *ws;
  size_t ws_bytes;
};

/* An algorithm (forward, backward data or backward filter: the cudnn enum as an int) chosen for an input shape. */
typedef struct AlgoChoice {
  ConvDims x;
  int algo;
  cudnnMathType_t math;
  size_t ws;
} AlgoChoice;

/* The choices remembered for one direction of one conv (the oldest replaced when full). */
typedef struct AlgoCache {
  AlgoChoice e[NCACHE];
  int n, next;
} AlgoCache;

struct CudaConv {
  cudnnTensorDescriptor_t xd, yd;
  cudnnFilterDescriptor_t wd;
  cudnnConvolutionDescriptor_t cd;
  ConvDims cur_x, cur_y;   /* what xd and yd describe now */
  cudnnMathType_t cur_math;
  AlgoCache fwd, data, filter; /* algorithms per input shape: forward, backward data and filter (training) */
  cudnnTensorDescriptor_t bd; /* the bias gradient [1, cout, 1, 1], made on first use */
};

static inline bool dnn_ok(cudnnStatus_t s, const char *what, char *err, size_t n) {
  if (s == CUDNN_STATUS_SUCCESS) return true;
  snprintf(err, n, "cuDNN %s: %s", what, cudnnGetErrorString(s));
  return false;
}

static inline bool rt_ok(cudaError_t e, const char *what, char *err, size_t n) {
  if (e == cudaSuccess) return true;
  char why[256];
  snprintf(err, n, "%s: %s", what, cuda_runtime_error(e, why, sizeof why));
  return false;
}

/* Points the tensor descriptors at this call's shapes, checking cuDNN's output size against the plan's. */
bool cuda_conv_set_shapes(CudaConv *c, ConvDims x, ConvDims y, char *err, size_t n);
/* The shared workspace, grown (never shrunk) to `bytes`. */
bool cuda_conv_workspace(CudaConvLib *l, size_t bytes, char *err, size_t n);
/* Sets the conv's math type where it differs. */
bool cuda_conv_math(CudaConv *c, cudnnMathType_t m, char *err, size_t n);
/* One entry of cuDNN's heuristic ranking, taken into *out when it succeeded, is deterministic where that is
   required, fits WS_LIMIT and keeps float32 arithmetic unless TF32 is allowed. */
bool cuda_conv_algo_usable(AlgoChoice *out, ConvDims x, bool tf32, int algo, cudnnStatus_t st, bool deterministic,
                           cudnnMathType_t math, size_t ws);
/* Picks an algorithm for the conv's current shapes into *out. */
typedef bool (*AlgoChooser)(CudaConvLib *l, CudaConv *c, AlgoChoice *out, char *err, size_t n);
/* The cached choice for the current input shape (chosen on first use), with the workspace and math type set. */
const AlgoChoice *cuda_conv_algo(CudaConvLib *l, CudaConv *c, AlgoCache *cache, AlgoChooser choose, char *err, size_t n);
#endif
