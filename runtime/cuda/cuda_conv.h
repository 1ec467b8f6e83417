/* cuda_conv.h - convolutions through cuDNN for the CUDA backend: NCHW float32, groups, dilation and the
   plan's symmetric padding. Each conv node keeps its descriptors (made once) and the algorithm chosen per
   input shape; every conv shares one workspace that only grows (no allocation at steady state). */
#ifndef SQN_CUDA_CONV_H
#define SQN_CUDA_CONV_H
#include <stdbool.h>
#include <stddef.h>
#include <cuda_runtime_api.h>
#include "plan.h"

typedef struct CudaConvLib CudaConvLib; /* the cuDNN handle (on the backend's stream) and the workspace */
typedef struct CudaConv CudaConv;       /* one conv node */

/* tf32: let cuDNN use TF32 tensor cores (faster on Ampere and later, ~1e-3 relative error); false keeps
   exact float32 arithmetic (CUDNN_FMA_MATH), which the backend uses unless SQN_CUDA_TF32=1. */
CudaConvLib *cuda_conv_lib_new(cudaStream_t stream, bool tf32, char *err, size_t errlen);
void cuda_conv_lib_free(CudaConvLib *l);

/* Descriptors for conv node nd with cin input channels. NULL with a message. */
CudaConv *cuda_conv_new(CudaConvLib *l, const PlanNode *nd, int cin, char *err, size_t errlen);
void cuda_conv_free(CudaConv *c);

typedef struct ConvDims { int n, c, h, w; } ConvDims;
/* y = conv(x, w) (no bias: the backend's epilogue adds it), queued on the stream; x is xd, y is yd (as the
   executor computed them: checked against cuDNN's). The algorithm for xd is chosen on first use. */
bool cuda_conv_forward(CudaConvLib *l, CudaConv *c, const float *x, ConvDims xd, const float *w, float *y, ConvDims yd,
                       char *err, size_t errlen);
/* Training (cuda_conv_grad.c), queued on the stream like the forward: dx = (acc: dx +) the gradient of the
   input from dy, w the forward weights; dw += the weights' gradient from the forward input x and dy, and
   db += the bias's (db may be NULL). Deterministic algorithms, chosen per input shape and cached. */
bool cuda_conv_backward_data(CudaConvLib *l, CudaConv *c, const float *dy, ConvDims yd, const float *w, float *dx,
                             ConvDims xd, bool acc, char *err, size_t errlen);
bool cuda_conv_backward_filter(CudaConvLib *l, CudaConv *c, const float *x, ConvDims xd, const float *dy, ConvDims yd,
                               float *dw, float *db, char *err, size_t errlen);
#endif
