/* trainer_dist.c - the data-parallel parts of a training step (trainer.h trainer_set_data_parallel): each rank holds
   a shard of the global batch; the loss and the gradients become the global batch's, and SyncBN (the CPU backend's
   BackendTrain.bn_sum) makes BN see it too. Gradients are summed in DIST_BUCKET-sized all-reduces over the one
   gradient block, not one per tensor. Only where device memory is host memory (the CPU backend). */
#include <stdio.h>
#include "dist.h"
#include "shapes.h"
#include "trainer_internal.h"

bool trainer_set_data_parallel(Trainer *t, bool on, char *err, size_t n) {
  if (on && !t->dv->dev->host)
    return snprintf(err, n, "data-parallel training runs on the CPU backend only (the %s backend has no NCCL path yet)",
                    t->be->name), false;
  t->data_parallel = on;
  for (int i = 0; on && i < t->p->nparams; i++) /* every rank starts from rank 0's weights */
    dist_bcast(t->param[i], (size_t)t->p->params[i].numel * sizeof(float), 0);
  return true;
}

/* loss = sum over ranks of loss_r * valid_r / V (V: every rank's valid pixels), so d loss / d logits on rank r is its
   own (1 / valid_r scaled) gradient times valid_r / V: after this the backward pass and the summed gradients are
   those of one process on the global batch. */
void trainer_dist_loss(Trainer *t, Shape ls, TrainStats *st) {
  double v[2] = {st->valid_pixels ? st->loss * (double)st->valid_pixels : st->loss, (double)st->valid_pixels};
  dist_allreduce_f64(v, 2);
  const float scale = v[1] > 0 ? (float)((double)st->valid_pixels / v[1]) : 0.0f;
  st->loss = v[1] > 0 ? v[0] / v[1] : v[0]; /* NaN anywhere stays NaN everywhere */
  st->valid_pixels = (long)v[1];
  float *g = t->grad[t->p->output];
  const size_t count = shape_numel(ls);
  for (size_t i = 0; i < count; i++) g[i] *= scale;
}

void trainer_dist_grads(Trainer *t) { dist_allreduce_f32(t->grad_block, t->dv->grad_floats); }
