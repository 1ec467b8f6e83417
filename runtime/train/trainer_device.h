/* trainer_device.h - the trainer on a backend with device memory (Backend.dev, the CUDA backend): the
   parameters, their gradients, the SGD momentum buffers, the BN statistics, the training arena and the
   scratch buffer live on the device; the host keeps the TensorSet of weights (brought up to date on demand:
   trainer_weights, checkpoints, evaluation), a copy of the gradients (downloaded after each step: grad norm,
   trainer_param_grad), the architecture parameters theta and their optimizer state (updated on the host,
   uploaded), and the mixing weights (uploaded by the backend). Device failures in calls that cannot report
   them (trainer_sgd, trainer_weights, ...) are kept and reported by the next trainer_step. */
#ifndef SQN_TRAINER_DEVICE_H
#define SQN_TRAINER_DEVICE_H
#include <stdbool.h>
#include <stddef.h>
#include "backend.h"
#include "cpu_ops.h"

typedef struct Trainer Trainer;

typedef struct TrainerDev {
  const BackendDevice *dev;
  void *state;                /* the backend's training state (prepare_train) */
  float *param_block, *grad_block, *bn_block;
  float **param, **pgrad;     /* per parameter: device data and gradient (NULL: not trainable) */
  float **mom;                /* per parameter: device momentum buffer (not for architecture parameters) */
  float **bn_save;            /* per BN node: device mean and 1/std */
  size_t *param_off, *grad_off; /* per parameter: its offset in param_block / grad_block (floats, 256-byte aligned) */
  size_t param_floats, grad_floats;
  unsigned char *labels;      /* the step's labels, and the per-pixel losses (device, with a host copy) */
  float *loss, *loss_host;
  size_t px_cap;
  float *check;               /* host staging (finiteness checks, whole-block copies) */
  size_t check_cap;
  char err[512];              /* a failure nobody could report yet */
} TrainerDev;

/* Opens the device and uploads the weights (after trainer_new's host setup); false with a message. */
bool trainer_dev_init(Trainer *t, const Backend *be, char *err, size_t n);
void trainer_dev_free(Trainer *t);
/* The training view's device pointers (parameters, gradients, BN statistics, the backend's state). */
void trainer_dev_view(const Trainer *t, BackendTrain *bt);
/* *p (device memory) grown to at least `bytes` (its size in *have). */
bool trainer_dev_grow(Trainer *t, float **p, size_t *have, size_t bytes, char *err, size_t n);
bool trainer_dev_upload(Trainer *t, void *dst, const void *src, size_t bytes, char *err, size_t n);
bool trainer_dev_download(Trainer *t, void *dst, const void *src, size_t bytes, char *err, size_t n);
bool trainer_dev_sync(Trainer *t, char *err, size_t n);
/* Zeroes every parameter gradient; a pending failure is reported here. */
bool trainer_dev_begin_step(Trainer *t, char *err, size_t n);
/* Loss and d loss / d logits on the device (labels checked by the caller): mean over the valid pixels. */
bool trainer_dev_loss(Trainer *t, const unsigned char *labels, Shape ls, double *loss, long *nvalid, char *err, size_t n);
/* Gradients to the host copy (Trainer.grad_block) after a step. */
bool trainer_dev_pull_grads(Trainer *t, char *err, size_t n);
/* Every parameter's value to the host TensorSet. */
bool trainer_dev_pull_weights(Trainer *t, char *err, size_t n);
/* Parameter i's host value to the device (after a host update). */
void trainer_dev_push_param(Trainer *t, int i);
/* SGD of parameter i on the device (trainer.c's arithmetic, the SGD kernel). */
void trainer_dev_sgd(Trainer *t, int i, float lr, float momentum, float wd);
/* Momentum buffers: device -> host copies (Trainer.mom, for checkpoints) and host -> device (after loading). */
bool trainer_dev_pull_momentum(Trainer *t);
bool trainer_dev_push_momentum(Trainer *t, char *err, size_t n);
/* Whether `count` device floats at v are all finite (downloaded; false on a device failure too). */
bool trainer_dev_finite(Trainer *t, const float *v, size_t count);
#endif
