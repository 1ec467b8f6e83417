/* trainer_device.c - the trainer's buffers in its backend's device memory (trainer_device.h). Gradients and BN
   statistics are each one device block, parameters too where device memory is not host memory (every tensor at
   BackendDevice.align: 256 bytes for cuDNN), copied to and from the host in one transfer. Where device memory is
   host memory a host copy is the device buffer itself (`host` below): the transfers are then no-ops. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "trainer_internal.h"

static size_t padded(const TrainerDev *d, size_t count) {
  size_t a = d->dev->align / sizeof(float);
  return (count + a - 1) / a * a;
}

static size_t param_bytes(const Trainer *t, int i) { return (size_t)t->p->params[i].numel * sizeof(float); }

/* Keeps the first failure of a call that cannot report it. */
static void keep(TrainerDev *d, const char *why) {
  if (!d->err[0]) snprintf(d->err, sizeof d->err, "%s", why);
}

static void dev_free(TrainerDev *d, void *p) {
  if (p) d->dev->free(d->state, p);
}

/* Host memory for the host copy of `bytes` of device memory at dev (NULL: none): dev itself where that is host memory. */
static void *host_copy(const TrainerDev *d, void *dev, size_t bytes) {
  return d->dev->host && dev ? dev : calloc(1, bytes ? bytes : 1);
}

static void host_copy_free(void *host, const void *dev) {
  if (host != dev) free(host);
}

/* Offsets of each parameter (all of them, or the trainable ones) in one padded block. */
static size_t offsets(const TrainerDev *d, const Plan *p, size_t *off, bool trainable_only) {
  size_t total = 0;
  for (int i = 0; i < p->nparams; i++) {
    if (trainable_only && !p->params[i].trainable) continue;
    off[i] = total, total += padded(d, (size_t)p->params[i].numel);
  }
  return total;
}

/* The parameters: the host's own tensors on host memory, else one device block with the host values uploaded. */
static bool alloc_params(Trainer *t, char *err, size_t n) {
  TrainerDev *d = t->dv;
  const Plan *p = t->p;
  d->param_floats = offsets(d, p, d->param_off, false);
  if (d->dev->host) return memcpy(d->param, t->param, sizeof *d->param * (size_t)p->nparams), true;
  if (!(d->param_block = backend_dev_alloc(d->dev, d->state, d->param_floats * sizeof(float), "the parameters", err, n)))
    return false;
  for (int i = 0; i < p->nparams; i++) {
    d->param[i] = d->param_block + d->param_off[i];
    if (!d->dev->upload(d->state, d->param[i], t->param[i], param_bytes(t, i), err, n)) return false;
  }
  return d->dev->sync(d->state, err, n);
}

/* The gradients, zero, and their host copy (same layout: one transfer after each step). */
static bool alloc_grads(Trainer *t, char *err, size_t n) {
  TrainerDev *d = t->dv;
  const Plan *p = t->p;
  size_t bytes = (d->grad_floats = offsets(d, p, d->grad_off, true)) * sizeof(float);
  if (!(d->grad_block = backend_dev_alloc(d->dev, d->state, bytes, "the gradients", err, n)) ||
      !d->dev->zero(d->state, d->grad_block, bytes, err, n))
    return false;
  if (!(t->grad_block = host_copy(d, d->grad_block, bytes)))
    return snprintf(err, n, "out of memory for the gradients"), false;
  for (int i = 0; i < p->nparams; i++)
    if (p->params[i].trainable) d->pgrad[i] = d->grad_block + d->grad_off[i], t->pgrad[i] = t->grad_block + d->grad_off[i];
  return true;
}

static bool alloc_bn(Trainer *t, char *err, size_t n) {
  TrainerDev *d = t->dv;
  const Plan *p = t->p;
  size_t floats = 0;
  for (int i = 0; i < p->nnodes; i++)
    if (p->nodes[i].kind == OP_BN) floats += padded(d, 2 * (size_t)p->nodes[i].out.c);
  if (!(d->bn_block = backend_dev_alloc(d->dev, d->state, floats * sizeof(float), "the BN statistics", err, n)))
    return false;
  floats = 0;
  for (int i = 0; i < p->nnodes; i++)
    if (p->nodes[i].kind == OP_BN) d->bn_save[i] = d->bn_block + floats, floats += padded(d, 2 * (size_t)p->nodes[i].out.c);
  return true;
}

bool trainer_dev_init(Trainer *t, const Backend *be, char *err, size_t n) {
  if (!be->dev->prepare_train || !be->dev->loss || !be->dev->sgd)
    return snprintf(err, n, "the %s backend cannot train", be->name), false;
  TrainerDev *d = t->dv = calloc(1, sizeof *d);
  if (!d) return snprintf(err, n, "out of memory"), false;
  d->dev = be->dev;
  size_t np = (size_t)t->p->nparams + 1, nn = (size_t)t->p->nnodes;
  d->param = calloc(np, sizeof *d->param), d->pgrad = calloc(np, sizeof *d->pgrad), d->mom = calloc(np, sizeof *d->mom);
  d->param_off = calloc(np, sizeof *d->param_off), d->grad_off = calloc(np, sizeof *d->grad_off);
  d->bn_save = calloc(nn, sizeof *d->bn_save);
  if (!d->param || !d->pgrad || !d->mom || !d->param_off || !d->grad_off || !d->bn_save)
    return snprintf(err, n, "out of memory"), false;
  if (!(d->state = d->dev->prepare_train(t->p, err, n))) return false;
  return alloc_params(t, err, n) && alloc_grads(t, err, n) && alloc_bn(t, err, n);
}

void trainer_dev_free(Trainer *t) {
  TrainerDev *d = t->dv;
  if (!d) return;
  for (int i = 0; t->mom && i < t->p->nparams; i++) {
    host_copy_free(t->mom[i], d->mom ? d->mom[i] : NULL);
    if (d->mom) dev_free(d, d->mom[i]);
    t->mom[i] = NULL;
  }
  host_copy_free(t->grad_block, d->grad_block);
  t->grad_block = NULL;
  if (d->state) {
    dev_free(d, d->param_block), dev_free(d, d->grad_block), dev_free(d, d->bn_block);
    dev_free(d, t->arena), dev_free(d, t->scratch);
    t->be->release(d->state);
  }
  t->arena = t->scratch = NULL;
  free(d->param), free(d->pgrad), free(d->mom), free(d->param_off), free(d->grad_off), free(d->bn_save);
  free(d->stage);
  free(d);
  t->dv = NULL;
}

bool trainer_dev_grow(Trainer *t, float **p, size_t *have, size_t bytes, char *err, size_t n) {
  TrainerDev *d = t->dv;
  if (bytes <= *have && *p) return true;
  dev_free(d, *p);
  *have = 0;
  if (!(*p = backend_dev_alloc(d->dev, d->state, bytes, "the training buffers", err, n))) return false;
  *have = bytes;
  return true;
}

bool trainer_dev_begin_step(Trainer *t, char *err, size_t n) {
  TrainerDev *d = t->dv;
  if (d->err[0]) return snprintf(err, n, "%s", d->err), false;
  return d->dev->zero(d->state, d->grad_block, d->grad_floats * sizeof(float), err, n);
}

bool trainer_dev_pull_grads(Trainer *t, char *err, size_t n) {
  TrainerDev *d = t->dv;
  return d->dev->download(d->state, t->grad_block, d->grad_block, d->grad_floats * sizeof(float), err, n);
}

/* The parameter block to the host staging, then each tensor to its place in the TensorSet. */
bool trainer_dev_pull_weights(Trainer *t, char *err, size_t n) {
  TrainerDev *d = t->dv;
  if (!d->param_block) return true; /* the TensorSet's tensors are the device's */
  const float *h = backend_dev_read(d->dev, d->state, d->param_block, d->param_floats * sizeof(float), true, &d->stage,
                                    &d->stage_cap, err, n);
  if (!h) return false;
  for (int i = 0; i < t->p->nparams; i++) memcpy(t->param[i], h + d->param_off[i], param_bytes(t, i));
  return true;
}

void trainer_dev_push_param(Trainer *t, int i) {
  TrainerDev *d = t->dv;
  char why[512];
  if (!d->dev->upload(d->state, d->param[i], t->param[i], param_bytes(t, i), why, sizeof why) ||
      !d->dev->sync(d->state, why, sizeof why))
    keep(d, why);
}

/* The device momentum buffer of parameter i (on host memory also its host copy). */
static float *device_momentum(Trainer *t, int i, char *err, size_t n) {
  TrainerDev *d = t->dv;
  if (!d->mom[i] && !(d->mom[i] = backend_dev_alloc(d->dev, d->state, param_bytes(t, i), "a momentum buffer", err, n)))
    return NULL;
  if (d->dev->host) t->mom[i] = d->mom[i];
  return d->mom[i];
}

float *trainer_dev_momentum(Trainer *t, int i, char *err, size_t n) {
  TrainerDev *d = t->dv;
  if (t->p->params[i].role != PLAN_PARAM_ARCH && !device_momentum(t, i, err, n)) return NULL;
  if (!t->mom[i] && !(t->mom[i] = host_copy(d, d->mom[i], param_bytes(t, i)))) snprintf(err, n, "out of memory");
  return t->mom[i];
}

/* Theta lives on the host on every backend (Adam updates it there, the search reads it): the CPU backend's SGD on
   the host copies, then uploaded. */
static void theta_sgd(Trainer *t, int i, float lr, float momentum, float wd) {
  char why[512];
  bool first = !t->mom[i];
  if (first && momentum != 0 && !trainer_dev_momentum(t, i, why, sizeof why)) first = false, momentum = 0;
  backend_cpu.dev->sgd(NULL, t->param[i], t->pgrad[i], t->mom[i], (size_t)t->p->params[i].numel, lr, momentum, wd, first,
                       why, sizeof why);
  trainer_dev_push_param(t, i);
}

void trainer_dev_sgd(Trainer *t, int i, float lr, float momentum, float wd) {
  TrainerDev *d = t->dv;
  if (t->p->params[i].role == PLAN_PARAM_ARCH) {
    theta_sgd(t, i, lr, momentum, wd);
    return;
  }
  char why[512];
  bool first = !d->mom[i];
  if (first && momentum != 0 && !device_momentum(t, i, why, sizeof why)) first = false, momentum = 0;
  if (!d->dev->sgd(d->state, d->param[i], d->pgrad[i], d->mom[i], (size_t)t->p->params[i].numel, lr, momentum, wd, first,
                   why, sizeof why))
    keep(d, why);
}

bool trainer_dev_pull_momentum(Trainer *t) {
  TrainerDev *d = t->dv;
  char why[512];
  for (int i = 0; i < t->p->nparams; i++) {
    if (!d->mom[i]) continue;
    float *h = trainer_dev_momentum(t, i, why, sizeof why);
    if (!h || !d->dev->download(d->state, h, d->mom[i], param_bytes(t, i), why, sizeof why)) return keep(d, why), false;
  }
  return true;
}

bool trainer_dev_push_momentum(Trainer *t, char *err, size_t n) {
  TrainerDev *d = t->dv;
  for (int i = 0; i < t->p->nparams; i++)
    if (d->mom[i] && t->mom[i] && !d->dev->upload(d->state, d->mom[i], t->mom[i], param_bytes(t, i), err, n)) return false;
  return d->dev->sync(d->state, err, n);
}
