/* backend.h - the interface a backend implements to run a plan's forward program (ggml-style: the
   executor owns shapes, buffers and order; a backend computes one node at a time, switching on the
   op kind). The CPU backend is backend_cpu.c (inference) and backend_cpu_train.c (training);
   the CUDA backend arrives with its issue. */
#ifndef SQN_BACKEND_H
#define SQN_BACKEND_H
#include <stdbool.h>
#include <stddef.h>
#include "plan.h"

/* What a node needs at run time: the plan, parameter data, every node's buffer and shape. */
typedef struct BackendRun {
  const Plan *p;
  const float *const *param; /* per plan parameter (device memory of the backend) */
  float *const *buf;         /* per node: its output buffer (slots may alias, as the plan says) */
  const PlanShape *shapes;   /* per node, at the current input size */
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
  const float *const *mix_w; /* per mix node: mixing weights [ncand x batch], else NULL */
  float *const *mix_dw;      /* per mix node: d loss / d mixing weights, same layout; steps add to it */
  float bn_momentum;         /* 0.1 as PyTorch */
  bool bn_eval;              /* BN uses (and keeps) its running statistics: frozen BN */
  bool bn_keep_running;      /* training-mode BN leaves the running statistics as they are */
  float *scratch;            /* a buffer as large as the largest value, for gradients nobody keeps */
  const bool *skip;          /* per node: not computed (a pruned or unchosen candidate); NULL = none */
  const int *bn_act;         /* per BN node: the ReLU/ReLU6 node it feeds alone, fused into it (the BN's forward
                                writes act(BN(x)) into that node's buffer, its backward takes that node's output
                                gradient), or -1; NULL = no fusion (trainer.c decides where it is safe) */
} BackendTrain;

typedef struct Backend {
  const char *name;
  /* Prepares a network once (e.g. folds BN into convs where the plan's kernels say so); returns the
     backend's state for it, or NULL with a message. `uses` gives each node's number of consumers. */
  void *(*prepare)(const Plan *p, const float *const *param, const int *uses, char *err, size_t errlen);
  /* Computes node i into r->buf[i]; false for an op this backend cannot run. */
  bool (*run_node)(void *state, const BackendRun *r, int i);
  void (*release)(void *state);
  /* Training (NULL when a backend cannot train): node i's forward in training mode (BN with batch
     statistics), and one step of the plan's backward program. */
  bool (*train_node)(const BackendTrain *t, int i);
  bool (*backward_step)(const BackendTrain *t, const PlanGradStep *s);
} Backend;

/* "cpu" (the default); anything else is an error naming what this build has. */
const Backend *backend_get(const char *name, char *err, size_t errlen);
extern const Backend backend_cpu;
#endif
