/* trainer_internal.h - the trainer's state, shared by trainer.c (the training program) and trainer_device.c
   (its buffers in the backend's device memory, and their host copies). */
#ifndef SQN_TRAINER_INTERNAL_H
#define SQN_TRAINER_INTERNAL_H
#include "backend.h"
#include "trainer.h"
#include "trainer_device.h"

struct Trainer {
  const Plan *p;
  const Backend *be;
  TensorSet *w;              /* live weights, plan order */
  float **param;             /* per parameter: its data in w (host) */
  float **pgrad;             /* per parameter: gradient (host copy), NULL if not trainable */
  float *grad_block;         /* every gradient (host copy of TrainerDev.grad_block, same layout) */
  float **mom;               /* per parameter: SGD momentum buffer (host copy), NULL until the first step or a pull */
  float **buf, **grad;       /* per node: forward value and gradient (NULL: none) in the arena */
  size_t *slot_off;
  float *arena;              /* device memory, as scratch */
  size_t arena_bytes;
  float *scratch;
  size_t scratch_bytes;
  Shape *shapes;
  int batch;
  bool bn_eval;
  /* supernets */
  int nmix, maxc;            /* mix nodes; most candidates of a superblock */
  int *mix_node;             /* per superblock: its mix node, -1 if none */
  float *mix, *mix_dw;       /* [sb][maxc][mix_batch] */
  int mix_batch;
  float **mix_w, **mix_dwp;  /* per node: pointers into mix / mix_dw for mix nodes */
  bool *skip;                /* per node: not computed */
  int *bn_act;               /* per BN node: the ReLU/ReLU6 fused into it, or -1 (train_fusion.h) */
  bool *fused;               /* per node: an activation the BN before it computes (forward and backward) */
  bool *written;             /* per node: its gradient holds a contribution in this backward pass */
  float **adam_m, **adam_v;  /* per parameter: Adam moments of architecture parameters */
  long adam_t;
  bool keep_logits, keep_running;
  bool data_parallel;        /* trainer_set_data_parallel */
  char dist_how[160];        /* how a device backend sums over the ranks ("" on host memory) */
  int *grad_ready;           /* host memory, data-parallel: per parameter, the backward step after which its
                                gradient is final (-1: before the first) */
  int *grad_order;           /* ... the trainable parameters by offset in the gradient block, last first */
  int ntrainable, grad_next; /* ... how many; the first of grad_order not yet final in this backward pass */
  size_t grad_hi;            /* ... the gradient block from here on is being summed */
  size_t grad_bucket;        /* ... the least floats summed at once while the backward pass runs */
  const float *logits;       /* the logits of the last forward on the host, NULL when none (trainer_logits) */
  void *logits_copy;         /* their host copy, where one is needed */
  size_t logits_cap;
  double *prof_fwd, *prof_bwd;
  TrainerDev *dv;            /* the device's buffers and state (trainer_device.h) */
};

/* trainer_new on a given backend (tests: one that backend_get does not know). */
Trainer *trainer_new_on(const Plan *p, const TensorSet *weights, uint64_t seed, const Backend *be, char *err, size_t n);
/* Data-parallel steps (trainer_dist.c): the global loss and this rank's d loss / d logits rescaled to it; the
   gradient block summed over the ranks: on the device before it comes to the host (a GPU), or on the host after
   (host memory); each does nothing where the other applies. */
bool trainer_dist_loss(Trainer *t, Shape ls, TrainStats *st, char *err, size_t n);
bool trainer_dist_grads_device(Trainer *t, char *err, size_t n);
/* On host memory the sum overlaps the backward pass: trainer_dist_grads_begin before its first step,
   trainer_dist_grads_after(s) after step s (whether it ran or was skipped) starts summing each stretch of the block
   that has become final once it is large enough, trainer_dist_grads_host sums the rest and waits for all of it. */
void trainer_dist_grads_begin(Trainer *t);
void trainer_dist_grads_after(Trainer *t, int step);
void trainer_dist_grads_host(Trainer *t);
#endif
