/* backend_cuda_train.h - what the CUDA backend's training halves share: backend_cuda_train.c (the training
   state, forward in training mode, the loss and SGD hooks) and backend_cuda_grad.c (the backward steps). */
#ifndef SQN_BACKEND_CUDA_TRAIN_H
#define SQN_BACKEND_CUDA_TRAIN_H
#include "backend_cuda.h"
#include "cuda_dnn.h"

struct CudaTrain {
  int nnodes;
  CudaDnn *dnn;          /* cuDNN batch norm, reductions, strided copies, pooling backward */
  void **mix;            /* per mix node: device [k candidate pointers][k x batch mixing weights] of this step */
  void **mix_host;       /* per mix node: the host staging of the same */
  size_t *mix_cap;       /* per mix node: bytes of both */
  float *dw;             /* device d loss / d mixing weights of one mix node */
  float *dw_host;
  size_t dw_cap;         /* floats of both */
  float *chan;           /* per-channel values, m = the most BN channels: 2m temporaries, then m ones, m zeros */
  float *ones, *zeros;   /* (into chan) constants for cuDNN's batch norm */
  float *invstd;         /* (into chan, m floats) 1/sqrt(running var + eps) of a frozen BN */
  unsigned char *labels; /* the loss: the step's labels (device), the per-pixel losses (device, and a host copy) */
  float *px_loss, *px_loss_host;
  size_t px_cap;         /* pixels of all three */
  int maxc;              /* the most BN channels (m above) */
  float *sync;           /* SyncBN (backend_cuda_syncbn.c): device [6m], its host staging [5m] floats, [2m + 1] sums */
  float *sync_hf;
  double *sync_sum;
};

/* Launches library kernel s (looked up in the plan's module, cached); false with x->error set. */
bool cuda_train_launch(CudaState *x, KernelSpec s, KArgs *a);
/* Records a message in x->error and returns false. */
bool cuda_train_fail(CudaState *x, const char *msg);
/* The device mixing weights of mix node i uploaded by its forward (layout of BackendTrain.mix_w). */
const float *cuda_train_mix_w(const CudaState *x, const PlanNode *nd);
/* The candidates' outputs of a mix node: NULL for the Zero op and for candidates that do not run. */
void cuda_train_mix_inputs(const BackendTrain *t, const PlanNode *nd, const float **xs);
/* Shapes as cuDNN takes them. */
ConvDims cuda_train_dims(const BackendRun *r, int node);
/* backend_cuda_syncbn.c: batch norm in training mode with the statistics (forward: y = BN(in) into out) and the
   backward sums (dx, acc adding; dg, db: where this rank's dgamma, dbeta go) of every rank's part of the batch
   (BackendTrain.bn_sum); false with x->error set. */
bool cuda_syncbn_forward(CudaState *x, const BackendTrain *t, const PlanNode *nd, const float *in, float *out);
bool cuda_syncbn_backward(CudaState *x, const BackendTrain *t, const PlanNode *nd, float *dx, bool acc, float *dg,
                          float *db);
/* backend_cuda_spatial.c: maxpool, gmp, pad, softmax, slice, channel_shuffle forward (into y) and backward
   (into dx, acc adding); false for other ops or with x->error set. */
bool cuda_spatial_forward(CudaState *x, const BackendRun *r, const PlanNode *nd, float *y);
bool cuda_spatial_backward(CudaState *x, const BackendTrain *t, const PlanNode *nd, float *dx, bool acc);
#endif
