/* backend_cuda.h - the CUDA backend's prepared network, shared by its two halves: backend_cuda.c
   (prepare: GPU, kernels, parameters on the device; the device memory hooks) and backend_cuda_run.c
   (run_node: each op on the stream), and to training (backend_cuda_train.c: prepare_train, train_node, the
   loss and SGD hooks; backend_cuda_grad.c: backward_step). */
#ifndef SQN_BACKEND_CUDA_H
#define SQN_BACKEND_CUDA_H
#include <cuda_runtime_api.h>
#include "backend.h"
#include "backend_fold.h"
#include "cuda_conv.h"
#include "cuda_kernels.h"

typedef struct CudaTrain CudaTrain; /* training extras (backend_cuda_train.h) */

typedef struct CudaState {
  const Plan *p;
  int device, cc;
  cudaStream_t stream;      /* everything runs on it, in order */
  CudaKernels *k;           /* the plan's PTX module */
  CudaConvLib *dnn;
  BackendFold f;            /* folded BN, conv epilogues (as the CPU backend) */
  CudaConv **conv;          /* per conv node run by cuDNN, else NULL */
  CUfunction *fn;           /* per node: its kernel (DWCONV, the conv epilogue AFFINE, ACT, ...), else NULL */
  float **conv_w, **conv_b; /* per conv node: device weights and bias (folded where BN folds; bias may be NULL) */
  float **bn_scale, **bn_shift; /* per BN node computed on its own: device scale and shift per channel */
  void **owned;             /* every device allocation of prepare */
  int nowned, cap_owned;
  cudaEvent_t *ev;          /* profiling timestamps (BackendDevice.mark), created on first use */
  int nev;
  char error[1024];         /* why the last run_node failed ("" = op not supported) */
  struct CudaNccl *nccl;    /* a data-parallel run's GPUs joined by NCCL (backend_cuda_dist.c), else NULL */
  bool dist_host;           /* ... or summed through the host (the job's MPI) */
  BackendJob job;           /* the job (dist_join) */
  void *dist_stage;         /* the host copy for dist_host */
  size_t dist_stage_cap;
  CudaTrain *train;         /* a training state's extras, else NULL */
  void (*train_free)(CudaTrain *); /* frees them (set by backend_cuda_train.c: the core does not call training code) */
} CudaState;

/* The GPU, its stream, the plan's kernels, cuDNN and empty per-node tables (no parameters); NULL with a
   message. cuda_release frees a state at any stage. */
CudaState *cuda_state_open(const Plan *p, char *err, size_t errlen);
void cuda_release(void *state);
/* Backend.prepare: the state with the parameters on the device. */
void *cuda_prepare(const Plan *p, const float *const *param, const int *uses, char *err, size_t errlen);
/* A CUDA runtime call's result: true on success, else false with "what: why" in err. */
bool cuda_rt(cudaError_t e, const char *what, char *err, size_t errlen);
/* The library kernel op node nd runs with (activation, add/mul, pool, resize) into x->fn, where it has one. */
bool cuda_op_kernel(CudaState *x, const PlanNode *nd, char *err, size_t errlen);
bool cuda_run_node(void *state, const BackendRun *r, int i);
/* BINARY's element strides of an operand of shape s broadcast to the output (0 along its size-1 dims). */
void cuda_push_strides(KArgs *k, int batch, Shape s);
/* Training (backend_cuda_train.c, backend_cuda_grad.c); backend.h describes each. */
void *cuda_prepare_train(const Plan *p, char *err, size_t errlen);
void cuda_train_free(CudaTrain *t);
bool cuda_train_node(const BackendTrain *t, int i);
bool cuda_backward_step(const BackendTrain *t, const PlanGradStep *s);
bool cuda_loss(void *state, const float *logits, Shape s, const unsigned char *labels, int ignore, float *dlogits,
               double *loss, long *nvalid, char *err, size_t errlen);
bool cuda_sgd(void *state, float *w, const float *g, float *mom, size_t n, float lr, float momentum, float wd, bool first,
              char *err, size_t errlen);
/* Data parallelism (backend_cuda_dist.c): BackendDevice dist_join, allreduce, scale. */
bool cuda_dist_join(void *state, BackendJob *job, char *err, size_t errlen);
bool cuda_allreduce(void *state, void *buf, size_t n, bool f64, char *err, size_t errlen);
bool cuda_scale(void *state, float *x, size_t n, float a, char *err, size_t errlen);
/* Records a CUDA runtime failure in x->error; false unless e is cudaSuccess. */
bool cuda_check(CudaState *x, cudaError_t e, const char *what);
#endif
