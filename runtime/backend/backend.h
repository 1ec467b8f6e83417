/* backend.h - the interface a backend implements to run a plan's forward program (ggml-style: the
   executor owns shapes, buffers and order; a backend computes one node at a time, switching on the
   op kind). The CPU backend is backend_cpu.c (inference), backend_cpu_train.c (training) and
   backend_cpu_device.c (host memory as its device); the CUDA backend is backend_cuda.c (inference),
   backend_cuda_train.c and backend_cuda_grad.c (training), built where the CUDA toolkit and cuDNN are found.
   backend_device.c has the helpers below that callers of BackendDevice share. */
#ifndef SQN_BACKEND_H
#define SQN_BACKEND_H
#include <stdbool.h>
#include <stddef.h>
#include "plan.h"

/* What a node needs at run time: the plan, parameter data, every node's buffer and shape. */
typedef struct BackendRun {
  const Plan *p;
  const float *const *param; /* per plan parameter (the backend's memory; host pointers in inference: see Backend.dev) */
  float *const *buf;         /* per node: its output buffer (slots may alias, as the plan says) */
  const Shape *shapes;   /* per node, at the current input size */
  int batch;
} BackendRun;

/* What a training step needs besides the forward buffers: the plan's training program (GRAD)
   decides which buffers exist and alias; the trainer lays them out and owns them. */
typedef struct BackendTrain {
  BackendRun run;            /* forward values (training slots), parameters, shapes, batch */
  float *const *grad;        /* per node: the gradient of its output, NULL where the program has none */
  float *const *param_grad;  /* per parameter: its gradient (trainable ones), else NULL; steps add to it */
  float *const *param_rw;    /* per parameter: writable data (training BN updates the running statistics) */
  float *const *bn_save;     /* per BN node: 2 x C floats, the batch mean and 1/std of the last forward */
  const float *const *mix_w; /* per mix node: mixing weights [ncand x batch], else NULL (host memory on every
                                backend: a device backend uploads them) */
  float *const *mix_dw;      /* per mix node: d loss / d mixing weights, same layout; steps add to it (host memory) */
  float bn_momentum;         /* 0.1 as PyTorch */
  bool bn_eval;              /* BN uses (and keeps) its running statistics: frozen BN */
  bool bn_keep_running;      /* training-mode BN leaves the running statistics as they are */
  float *scratch;            /* a buffer as large as the largest value, for gradients nobody keeps */
  const bool *skip;          /* per node: not computed (a pruned or unchosen candidate); NULL = none */
  const int *bn_act;         /* per BN node: the ReLU/ReLU6 node it feeds alone, fused into it (the BN's forward
                                writes act(BN(x)) into that node's buffer, its backward takes that node's output
                                gradient), or -1; NULL = no fusion (trainer.c decides where it is safe) */
  void *state;               /* the backend's training state (BackendDevice.prepare_train) */
  void (*bn_sum)(double *v, size_t n); /* SyncBN: sums BN's per-channel statistics over the ranks of a data-parallel
                                          run (dist.h, host memory); NULL = this process's batch only. */
} BackendTrain;

/* The processes of a data-parallel run (dist.h) as a backend sees them: this one's rank among size, and the job's
   host collectives (dist_bcast, dist_allreduce_f32/_f64), which a device backend may use to bootstrap its own or
   fall back on. `how` is the backend's answer (BackendDevice.dist_join). */
typedef struct BackendJob {
  int rank, size;
  void (*bcast)(void *buf, size_t bytes, int root);
  void (*sum_f32)(float *v, size_t n);
  void (*sum_f64)(double *v, size_t n);
  char how[160];
} BackendJob;

/* Where a backend's buffers live, and how to reach them: every backend gives these hooks, so that the executor
   and the trainer have one code path. The CUDA backend's memory is the GPU's; the CPU backend's "device" is host
   memory (backend_cpu_device.c: aligned_alloc, memmove, memset, a no-op sync, the host clock). `state` is what prepare
   (or prepare_train) returned. Copies and kernels are queued in order on one stream; only download and sync wait
   for the device. The bool hooks return false with a message on a device error.
   Host memory as a device costs no copies: where `host` is set a device pointer is a host pointer, so a caller
   reads device memory in place (backend_dev_read) and keeps one buffer where it would keep a device buffer and
   its host copy; upload, download and copy between the same address do nothing. */
typedef struct BackendDevice {
  bool host;    /* device memory is host memory (the CPU backend) */
  size_t align; /* bytes: where a caller packs several tensors into one allocation, each starts at a multiple
                   of this (cuDNN wants 256; the CPU packs them: sizeof(float)) */
  void *(*alloc)(void *state, size_t bytes, char *err, size_t errlen); /* device memory, NULL on failure */
  void (*free)(void *state, void *ptr);
  bool (*upload)(void *state, void *dst, const void *src, size_t bytes, char *err, size_t errlen); /* host -> device */
  bool (*download)(void *state, void *dst, const void *src, size_t bytes, char *err, size_t errlen); /* device -> host, done on return */
  bool (*copy)(void *state, void *dst, const void *src, size_t bytes, char *err, size_t errlen); /* device -> device */
  bool (*zero)(void *state, void *dst, size_t bytes, char *err, size_t errlen);
  bool (*sync)(void *state, char *err, size_t errlen); /* waits for everything queued */
  /* Per-node profiling: mark(k) queues timestamp k (k < 2 * nnodes); after sync, elapsed(a, b) gives the
     seconds between marks a and b. */
  bool (*mark)(void *state, int k, char *err, size_t errlen);
  bool (*elapsed)(void *state, int a, int b, double *seconds, char *err, size_t errlen);
  /* Why the last run_node, train_node or backward_step returned false when it was a device error ("" when the
     op is just not supported). */
  const char *(*error)(void *state);
  /* Training (NULL where the backend cannot train). prepare_train opens the device for the trainer (no
     parameters: the trainer owns them, in memory from alloc); Backend.release frees it. */
  void *(*prepare_train)(const Plan *p, char *err, size_t errlen);
  /* The pixel-wise cross-entropy of logits [s.n, s.c, s.h, s.w] against labels (u8 train ids, s.n x s.h x s.w, `ignore`
     skipped; host memory on every backend: a device backend uploads them), cpu_softmax_xent's semantics: *loss the
     mean over the valid pixels, *nvalid their number, dlogits (may be NULL) = (softmax - onehot) / nvalid. Done on
     return (the loss is on the host). */
  bool (*loss)(void *state, const float *logits, Shape s, const unsigned char *labels, int ignore, float *dlogits,
               double *loss, long *nvalid, char *err, size_t errlen);
  /* One SGD update (kernel_abi.h SGD; PyTorch's: d = g + wd * w; mom = first ? d : momentum * mom + d; w -= lr * mom,
     or w -= lr * d where mom is NULL) queued. */
  bool (*sgd)(void *state, float *w, const float *g, float *mom, size_t n, float lr, float momentum, float wd,
              bool first, char *err, size_t errlen);
  /* Data parallelism on device memory (docs/distributed.md); NULL where device memory is host memory (the trainer
     sums host buffers through dist.h there) or where the backend has no such path. dist_join: this process's device
     joins the job (a collective call; job->how gets how its sums will run, for the log); allreduce: n floats (f64:
     doubles) at buf summed over the ranks in place, queued; scale: x[i] *= a over n floats, queued. */
  bool (*dist_join)(void *state, BackendJob *job, char *err, size_t errlen);
  bool (*allreduce)(void *state, void *buf, size_t n, bool f64, char *err, size_t errlen);
  bool (*scale)(void *state, float *x, size_t n, float a, char *err, size_t errlen);
} BackendDevice;

/* Whether `bytes` of device memory for WHAT can fit: on host memory, false with host_memory_check's message ("WHAT
   need X GiB, more than this machine's Y GiB of memory; HINT") when they exceed the machine's memory; a GPU's
   allocator reports for itself. */
bool backend_dev_fits(const BackendDevice *d, size_t bytes, const char *what, const char *hint, char *err, size_t n);
/* `bytes` of device memory (at least 64), or NULL with "out of [device] memory: WHAT need X MiB[ (why)]". */
void *backend_dev_alloc(const BackendDevice *d, void *state, size_t bytes, const char *what, char *err, size_t n);
/* `bytes` of device memory at src, readable on the host: downloaded into *stage (grown as needed; *cap its bytes; the
   caller frees it), or, on host memory unless `copy` (a copy that outlives the buffer's next use), src itself:
   nothing copied. NULL with a message on failure. */
const void *backend_dev_read(const BackendDevice *d, void *state, const void *src, size_t bytes, bool copy, void **stage,
                             size_t *cap, char *err, size_t n);

typedef struct Backend {
  const char *name;
  /* Prepares a network once (e.g. folds BN into convs where the plan's kernels say so); returns the
     backend's state for it, or NULL with a message. `uses` gives each node's number of consumers. */
  void *(*prepare)(const Plan *p, const float *const *param, const int *uses, char *err, size_t errlen);
  /* Computes node i into r->buf[i]; false for an op this backend cannot run. */
  bool (*run_node)(void *state, const BackendRun *r, int i);
  void (*release)(void *state);
  /* Fused groups (NULL where the backend has none): the plan kernel that starts at node i and that the backend
     can compute in one call, or -1; run_group computes that kernel's output node from its head's input and
     leaves the nodes in between unwritten, so the executor neither runs nor lays them out. */
  int (*group_at)(void *state, int i);
  bool (*run_group)(void *state, const BackendRun *r, int kernel);
  /* Training (NULL when a backend cannot train): node i's forward in training mode (BN with batch
     statistics), and one step of the plan's backward program. */
  bool (*train_node)(const BackendTrain *t, int i);
  bool (*backward_step)(const BackendTrain *t, const PlanGradStep *s);
  /* Where its buffers live (never NULL). Where that is not host memory BackendRun.param holds host pointers in
     inference, which the backend ignores: prepare uploads the parameters it needs. */
  const BackendDevice *dev;
  bool train_bn_act; /* train_node and backward_step honour BackendTrain.bn_act (BN + ReLU fused in training) */
} Backend;

/* "cpu" (the default) or "cuda" (where built with CUDA); anything else is an error naming what this
   build has (backend.c). */
const Backend *backend_get(const char *name, char *err, size_t errlen);
extern const Backend backend_cpu;
#if SQN_HAVE_CUDA
extern const Backend backend_cuda;
#endif
#endif
