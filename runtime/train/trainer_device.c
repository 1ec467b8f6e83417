/* trainer_device.c - the trainer's buffers in a device backend's memory (trainer_device.h). Parameters and
   gradients are each one device block (every tensor 256-byte aligned for cuDNN), copied to and from the host
   in one transfer through a staging buffer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "trainer_internal.h"

#define ALIGN 64 /* floats: 256 bytes */

static size_t padded(size_t count) { return (count + ALIGN - 1) / ALIGN * ALIGN; }

/* Keeps the first failure of a call that cannot report it. */
static void keep(TrainerDev *d, const char *why) {
  if (!d->err[0]) snprintf(d->err, sizeof d->err, "%s", why);
}

static void *dev_alloc(TrainerDev *d, size_t bytes, char *err, size_t n) {
  return d->dev->alloc(d->state, bytes ? bytes : 64, err, n);
}

static void dev_free(TrainerDev *d, void *p) {
  if (p) d->dev->free(d->state, p);
}

/* Host staging of at least `count` floats. */
static float *staging(TrainerDev *d, size_t count) {
  if (count > d->check_cap) {
    free(d->check);
    d->check_cap = (d->check = malloc((count ? count : 1) * sizeof(float))) ? count : 0;
  }
  return d->check;
}

/* Offsets of each parameter (all of them, or the trainable ones) in one padded block. */
static size_t offsets(const Plan *p, size_t *off, bool trainable_only) {
  size_t total = 0;
  for (int i = 0; i < p->nparams; i++) {
    if (trainable_only && !p->params[i].trainable) continue;
    off[i] = total, total += padded((size_t)p->params[i].numel);
  }
  return total;
}

static bool alloc_blocks(Trainer *t, char *err, size_t n) {
  TrainerDev *d = t->dv;
  const Plan *p = t->p;
  size_t np = (size_t)p->nparams + 1, nn = (size_t)p->nnodes, bn = 0;
  d->param = calloc(np, sizeof *d->param), d->pgrad = calloc(np, sizeof *d->pgrad), d->mom = calloc(np, sizeof *d->mom);
  d->param_off = calloc(np, sizeof *d->param_off), d->grad_off = calloc(np, sizeof *d->grad_off);
  d->bn_save = calloc(nn, sizeof *d->bn_save);
  if (!d->param || !d->pgrad || !d->mom || !d->param_off || !d->grad_off || !d->bn_save)
    return snprintf(err, n, "out of memory"), false;
  d->param_floats = offsets(p, d->param_off, false), d->grad_floats = offsets(p, d->grad_off, true);
  for (int i = 0; i < p->nnodes; i++)
    if (p->nodes[i].kind == OP_BN) bn += padded(2 * (size_t)p->nodes[i].out.c);
  if (!(d->param_block = dev_alloc(d, d->param_floats * sizeof(float), err, n)) ||
      !(d->grad_block = dev_alloc(d, d->grad_floats * sizeof(float), err, n)) ||
      !(d->bn_block = dev_alloc(d, bn * sizeof(float), err, n)))
    return false;
  for (int i = 0; i < p->nparams; i++) {
    d->param[i] = d->param_block + d->param_off[i];
    if (p->params[i].trainable) d->pgrad[i] = d->grad_block + d->grad_off[i];
  }
  bn = 0;
  for (int i = 0; i < p->nnodes; i++)
    if (p->nodes[i].kind == OP_BN) d->bn_save[i] = d->bn_block + bn, bn += padded(2 * (size_t)p->nodes[i].out.c);
  return true;
}

/* The host weights, gathered into the padded layout, in one upload. */
static bool upload_weights(Trainer *t, char *err, size_t n) {
  TrainerDev *d = t->dv;
  float *h = staging(d, d->param_floats);
  if (!h) return snprintf(err, n, "out of memory"), false;
  memset(h, 0, d->param_floats * sizeof(float));
  for (int i = 0; i < t->p->nparams; i++)
    memcpy(h + d->param_off[i], t->param[i], (size_t)t->p->params[i].numel * sizeof(float));
  return d->dev->upload(d->state, d->param_block, h, d->param_floats * sizeof(float), err, n) &&
         d->dev->sync(d->state, err, n); /* the staging buffer is reused */
}

bool trainer_dev_init(Trainer *t, const Backend *be, char *err, size_t n) {
  if (!be->dev->prepare_train || !be->dev->xent || !be->dev->sgd)
    return snprintf(err, n, "the %s backend cannot train", be->name), false;
  TrainerDev *d = t->dv = calloc(1, sizeof *d);
  if (!d) return snprintf(err, n, "out of memory"), false;
  d->dev = be->dev;
  if (!(d->state = d->dev->prepare_train(t->p, err, n))) return false;
  return alloc_blocks(t, err, n) && upload_weights(t, err, n);
}

void trainer_dev_free(Trainer *t) {
  TrainerDev *d = t->dv;
  if (!d) return;
  if (d->state) {
    for (int i = 0; d->mom && i < t->p->nparams; i++) dev_free(d, d->mom[i]);
    dev_free(d, d->param_block), dev_free(d, d->grad_block), dev_free(d, d->bn_block);
    dev_free(d, d->labels), dev_free(d, d->loss);
    dev_free(d, t->arena), dev_free(d, t->scratch);
    t->be->release(d->state);
  }
  t->arena = t->scratch = NULL; /* device memory: not the host's to free */
  free(d->param), free(d->pgrad), free(d->mom), free(d->param_off), free(d->grad_off), free(d->bn_save);
  free(d->loss_host), free(d->check);
  free(d);
  t->dv = NULL;
}

void trainer_dev_view(const Trainer *t, BackendTrain *bt) {
  TrainerDev *d = t->dv;
  bt->run.param = (const float *const *)d->param;
  bt->param_grad = d->pgrad;
  bt->param_rw = d->param;
  bt->bn_save = d->bn_save;
  bt->bn_act = NULL; /* no BN + activation fusion on the device */
  bt->state = d->state;
}

bool trainer_dev_grow(Trainer *t, float **p, size_t *have, size_t bytes, char *err, size_t n) {
  TrainerDev *d = t->dv;
  if (bytes <= *have && *p) return true;
  dev_free(d, *p);
  *have = 0;
  char why[512] = "";
  if (!(*p = dev_alloc(d, bytes, why, sizeof why)))
    return snprintf(err, n, "out of device memory: the training buffers need %.1f MiB (%s)", bytes / 1048576.0, why), false;
  *have = bytes;
  return true;
}

bool trainer_dev_upload(Trainer *t, void *dst, const void *src, size_t bytes, char *err, size_t n) {
  return t->dv->dev->upload(t->dv->state, dst, src, bytes, err, n);
}

bool trainer_dev_download(Trainer *t, void *dst, const void *src, size_t bytes, char *err, size_t n) {
  return t->dv->dev->download(t->dv->state, dst, src, bytes, err, n);
}

bool trainer_dev_sync(Trainer *t, char *err, size_t n) { return t->dv->dev->sync(t->dv->state, err, n); }

bool trainer_dev_begin_step(Trainer *t, char *err, size_t n) {
  TrainerDev *d = t->dv;
  if (d->err[0]) return snprintf(err, n, "%s", d->err), false;
  return d->dev->zero(d->state, d->grad_block, d->grad_floats * sizeof(float), err, n);
}

static bool grow_pixels(TrainerDev *d, size_t px, char *err, size_t n) {
  if (px <= d->px_cap) return true;
  dev_free(d, d->labels), dev_free(d, d->loss), free(d->loss_host);
  d->labels = NULL, d->loss = d->loss_host = NULL, d->px_cap = 0;
  if (!(d->labels = dev_alloc(d, px, err, n)) || !(d->loss = dev_alloc(d, px * sizeof(float), err, n))) return false;
  if (!(d->loss_host = malloc(px * sizeof(float)))) return snprintf(err, n, "out of memory"), false;
  d->px_cap = px;
  return true;
}

/* nvalid counted on the host as cpu_softmax_xent counts it; the per-pixel losses summed in double. */
bool trainer_dev_loss(Trainer *t, const unsigned char *labels, Shape ls, double *loss, long *nvalid, char *err,
                      size_t n) {
  TrainerDev *d = t->dv;
  size_t hw = (size_t)ls.h * ls.w, px = hw * (size_t)ls.n;
  long valid = 0;
  for (size_t i = 0; i < px; i++) valid += labels[i] != 255;
  if (!grow_pixels(d, px, err, n) || !d->dev->upload(d->state, d->labels, labels, px, err, n)) return false;
  float inv = valid ? 1.0f / (float)valid : 0.0f;
  if (!d->dev->xent(d->state, d->loss, t->grad[t->p->output], t->buf[t->p->output], d->labels, ls.n, ls.c, (long)hw, 255,
                    inv, err, n) ||
      !d->dev->download(d->state, d->loss_host, d->loss, px * sizeof(float), err, n))
    return false;
  double sum = 0;
  for (size_t i = 0; i < px; i++) sum += d->loss_host[i];
  *nvalid = valid;
  *loss = valid ? sum / (double)valid : 0.0;
  return true;
}

/* The padded device block of `floats` to the host staging, then each tensor to its host place. */
static bool pull_block(Trainer *t, const float *block, size_t floats, const size_t *off, float *const *to, char *err,
                       size_t n) {
  TrainerDev *d = t->dv;
  float *h = staging(d, floats);
  if (!h) return snprintf(err, n, "out of memory"), false;
  if (!d->dev->download(d->state, h, block, floats * sizeof(float), err, n)) return false;
  for (int i = 0; i < t->p->nparams; i++)
    if (to[i]) memcpy(to[i], h + off[i], (size_t)t->p->params[i].numel * sizeof(float));
  return true;
}

bool trainer_dev_pull_grads(Trainer *t, char *err, size_t n) {
  return pull_block(t, t->dv->grad_block, t->dv->grad_floats, t->dv->grad_off, t->pgrad, err, n);
}

bool trainer_dev_pull_weights(Trainer *t, char *err, size_t n) {
  return pull_block(t, t->dv->param_block, t->dv->param_floats, t->dv->param_off, t->param, err, n);
}

void trainer_dev_push_param(Trainer *t, int i) {
  TrainerDev *d = t->dv;
  char why[512];
  size_t bytes = (size_t)t->p->params[i].numel * sizeof(float);
  if (!d->dev->upload(d->state, d->param[i], t->param[i], bytes, why, sizeof why) || !d->dev->sync(d->state, why, sizeof why))
    keep(d, why);
}

void trainer_dev_sgd(Trainer *t, int i, float lr, float momentum, float wd) {
  TrainerDev *d = t->dv;
  char why[512];
  size_t count = (size_t)t->p->params[i].numel;
  bool first = !d->mom[i];
  if (first && momentum != 0 && !(d->mom[i] = dev_alloc(d, count * sizeof(float), why, sizeof why))) first = false, momentum = 0;
  if (!d->dev->sgd(d->state, d->param[i], d->pgrad[i], d->mom[i], count, lr, momentum, wd, first, why, sizeof why))
    keep(d, why);
}

bool trainer_dev_pull_momentum(Trainer *t) {
  TrainerDev *d = t->dv;
  char why[512];
  for (int i = 0; i < t->p->nparams; i++) {
    if (!d->mom[i]) continue;
    size_t bytes = (size_t)t->p->params[i].numel * sizeof(float);
    if (!t->mom[i] && !(t->mom[i] = malloc(bytes))) return keep(d, "out of memory"), false;
    if (!d->dev->download(d->state, t->mom[i], d->mom[i], bytes, why, sizeof why)) return keep(d, why), false;
  }
  return true;
}

/* Architecture parameters keep theirs on the host (trainer.c updates them there). */
bool trainer_dev_push_momentum(Trainer *t, char *err, size_t n) {
  TrainerDev *d = t->dv;
  for (int i = 0; i < t->p->nparams; i++) {
    if (!t->mom[i] || t->p->params[i].role == PLAN_PARAM_ARCH) continue;
    size_t bytes = (size_t)t->p->params[i].numel * sizeof(float);
    if (!d->mom[i] && !(d->mom[i] = dev_alloc(d, bytes, err, n))) return false;
    if (!d->dev->upload(d->state, d->mom[i], t->mom[i], bytes, err, n)) return false;
  }
  return d->dev->sync(d->state, err, n);
}

bool trainer_dev_finite(Trainer *t, const float *v, size_t count) {
  TrainerDev *d = t->dv;
  char why[512];
  float *h = staging(d, count);
  if (!h || !d->dev->download(d->state, h, v, count * sizeof(float), why, sizeof why)) return false;
  for (size_t i = 0; i < count; i++)
    if (!isfinite(h[i])) return false;
  return true;
}
