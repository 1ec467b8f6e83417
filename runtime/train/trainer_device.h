/* trainer_device.h - the trainer's memory on its backend's device (backend.h BackendDevice): the parameters,
   their gradients, the SGD momentum buffers, the BN statistics, the training arena and the scratch buffer live
   in device memory; the host keeps the TensorSet of weights (brought up to date on demand: trainer_weights,
   checkpoints, evaluation), a copy of the gradients (after each step: grad norm, trainer_param_grad), the
   architecture parameters theta and their optimizer state (updated on the host on every backend, then
   uploaded), and the mixing weights (uploaded by the backend). Where device memory is host memory (the CPU
   backend) each device buffer and its host copy are one buffer, so the copies between them do nothing: the
   parameters are the TensorSet's, the gradients one block. Device failures in calls that cannot report them
   (trainer_sgd, trainer_weights, ...) are kept and reported by the next trainer_step. */
#ifndef SQN_TRAINER_DEVICE_H
#define SQN_TRAINER_DEVICE_H
#include <stdbool.h>
#include <stddef.h>
#include "backend.h"

typedef struct Trainer Trainer;

typedef struct TrainerDev {
  const BackendDevice *dev;
  void *state;                /* the backend's training state (prepare_train) */
  float *param_block;         /* the parameters, one block; NULL on host memory (the TensorSet's tensors are theirs) */
  float *grad_block, *bn_block;
  float **param, **pgrad;     /* per parameter: device data and gradient (NULL: not trainable) */
  float **mom;                /* per parameter: device momentum buffer (none for theta: its SGD runs on the host) */
  float **bn_save;            /* per BN node: device mean and 1/std */
  size_t *param_off, *grad_off; /* per parameter: its offset in param_block / grad_block (floats, BackendDevice.align) */
  size_t param_floats, grad_floats;
  void *stage;                /* host staging (finiteness checks, whole-block copies) */
  size_t stage_cap;
  char err[512];              /* a failure nobody could report yet */
} TrainerDev;

/* Opens the device, lays out the parameters (uploaded), gradients (zero) and BN statistics there, and points
   Trainer.pgrad and Trainer.grad_block at their host copy (after trainer_new's host setup); false with a message. */
bool trainer_dev_init(Trainer *t, const Backend *be, char *err, size_t n);
/* Frees the device memory and the host copies (the momentum buffers too). */
void trainer_dev_free(Trainer *t);
/* *p (device memory) grown to at least `bytes` (its size in *have). */
bool trainer_dev_grow(Trainer *t, float **p, size_t *have, size_t bytes, char *err, size_t n);
/* Zeroes every parameter gradient; a pending failure is reported here. */
bool trainer_dev_begin_step(Trainer *t, char *err, size_t n);
/* Gradients to the host copy (Trainer.grad_block) after a step. */
bool trainer_dev_pull_grads(Trainer *t, char *err, size_t n);
/* Every parameter's value to the host TensorSet. */
bool trainer_dev_pull_weights(Trainer *t, char *err, size_t n);
/* Parameter i's host value to the device (after a host update). */
void trainer_dev_push_param(Trainer *t, int i);
/* SGD of parameter i (trainer.c's arithmetic): on the device, theta's on the host (then uploaded). */
void trainer_dev_sgd(Trainer *t, int i, float lr, float momentum, float wd);
/* Parameter i's momentum buffer on the host (Trainer.mom[i]), with its device buffer, allocated on first use; NULL
   with a message when out of memory. */
float *trainer_dev_momentum(Trainer *t, int i, char *err, size_t n);
/* Momentum buffers: device -> host copies (Trainer.mom, for checkpoints) and host -> device (after loading). */
bool trainer_dev_pull_momentum(Trainer *t);
bool trainer_dev_push_momentum(Trainer *t, char *err, size_t n);
#endif
