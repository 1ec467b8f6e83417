/* trainer_dist.c - the data-parallel parts of a training step (trainer.h trainer_set_data_parallel): each rank holds
   a shard of the global batch; the loss and the gradients become the global batch's, and SyncBN (the CPU backend's
   BackendTrain.bn_sum, which both backends honour) makes BN see it too. Gradients are summed over the one gradient
   block, not one per tensor: on host memory in DIST_BUCKET-sized MPI all-reduces, on a GPU by the device's own
   collective (BackendDevice.allreduce: NCCL) before the block comes to the host. */
#include <stdio.h>
#include "dist.h"
#include "shapes.h"
#include "trainer_internal.h"

bool trainer_set_data_parallel(Trainer *t, bool on, char *err, size_t n) {
  const BackendDevice *d = t->dv->dev;
  if (on && !d->host && !(d->dist_join && d->allreduce && d->scale))
    return snprintf(err, n, "data-parallel training is not supported on the %s backend", t->be->name), false;
  BackendJob job = {dist_rank(), dist_size(), dist_bcast, dist_allreduce_f32, dist_allreduce_f64, ""};
  if (on && !d->host && !d->dist_join(t->dv->state, &job, err, n)) return false;
  snprintf(t->dist_how, sizeof t->dist_how, "%s", on ? job.how : "");
  t->data_parallel = on;
  for (int i = 0; on && i < t->p->nparams; i++) { /* every rank starts from rank 0's weights */
    dist_bcast(t->param[i], (size_t)t->p->params[i].numel * sizeof(float), 0);
    if (!d->host) trainer_dev_push_param(t, i);
  }
  return true;
}

/* loss = sum over ranks of loss_r * valid_r / V (V: every rank's valid pixels), so d loss / d logits on rank r is its
   own (1 / valid_r scaled) gradient times valid_r / V: after this the backward pass and the summed gradients are
   those of one process on the global batch. */
bool trainer_dist_loss(Trainer *t, Shape ls, TrainStats *st, char *err, size_t n) {
  double v[2] = {st->valid_pixels ? st->loss * (double)st->valid_pixels : st->loss, (double)st->valid_pixels};
  dist_allreduce_f64(v, 2);
  const float scale = v[1] > 0 ? (float)((double)st->valid_pixels / v[1]) : 0.0f;
  st->loss = v[1] > 0 ? v[0] / v[1] : v[0]; /* NaN anywhere stays NaN everywhere */
  st->valid_pixels = (long)v[1];
  float *g = t->grad[t->p->output];
  const size_t count = shape_numel(ls);
  const BackendDevice *d = t->dv->dev;
  if (!d->host) return d->scale(t->dv->state, g, count, scale, err, n);
  for (size_t i = 0; i < count; i++) g[i] *= scale;
  return true;
}

bool trainer_dist_grads_device(Trainer *t, char *err, size_t n) {
  const BackendDevice *d = t->dv->dev;
  return d->host || d->allreduce(t->dv->state, t->dv->grad_block, t->dv->grad_floats, false, err, n);
}

void trainer_dist_grads_host(Trainer *t) {
  if (t->dv->dev->host) dist_allreduce_f32(t->grad_block, t->dv->grad_floats);
}

const char *trainer_data_parallel_how(const Trainer *t) { return t->dist_how; }
