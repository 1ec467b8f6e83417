/* trainer_dist.c - the data-parallel parts of a training step (trainer.h trainer_set_data_parallel): each rank holds
   a shard of the global batch; the loss and the gradients become the global batch's, and SyncBN (the CPU backend's
   BackendTrain.bn_sum, which both backends honour) makes BN see it too. Gradients are summed over the one gradient
   block, not one per tensor: on host memory in DIST_BUCKET-sized MPI all-reduces, on a GPU by the device's own
   collective (BackendDevice.allreduce: NCCL) before the block comes to the host. On host memory the sums overlap the
   backward pass: the stretches of the block whose gradients are final go out while the earlier layers' backward
   still runs (like PyTorch DDP's buckets). */
#include <stdio.h>
#include <stdlib.h>
#include "dist.h"
#include "shapes.h"
#include "trainer_internal.h"

/* While the backward pass runs, the block is summed in stretches of at least SQN_DIST_BUCKET_MB MiB (default 4). */
static bool bucket_floats(Trainer *t, char *err, size_t n) {
  const char *v = getenv("SQN_DIST_BUCKET_MB");
  char *end = NULL;
  double mb = v && *v ? strtod(v, &end) : 4.0;
  if (v && *v && (*end || !(mb > 0 && mb <= 65536)))
    return snprintf(err, n, "SQN_DIST_BUCKET_MB=%s is not a size in MiB: give a number above 0 (the default is 4)",
                    v), false;
  t->grad_bucket = (size_t)(mb * 262144.0) > 0 ? (size_t)(mb * 262144.0) : 1;
  return true;
}

typedef struct { size_t off; int param; } GradAt;
static int by_offset_desc(const void *a, const void *b) {
  size_t x = ((const GradAt *)a)->off, y = ((const GradAt *)b)->off;
  return (x < y) - (x > y);
}

/* grad_ready and grad_order from the plan alone (not from this step's skipped nodes), so every rank starts the same
   sums in the same order: a parameter's gradient is final after the last backward step of a node that uses it. */
static bool plan_ready_steps(Trainer *t) {
  const Plan *p = t->p;
  free(t->grad_ready), free(t->grad_order);
  t->grad_ready = malloc(sizeof(int) * (size_t)(p->nparams + 1));
  t->grad_order = malloc(sizeof(int) * (size_t)(p->nparams + 1));
  GradAt *at = malloc(sizeof *at * (size_t)(p->nparams + 1));
  if (!t->grad_ready || !t->grad_order || !at) return free(at), false;
  for (int i = 0; i < p->nparams; i++) t->grad_ready[i] = -1;
  for (int s = 0; s < p->grad.nsteps; s++) {
    const PlanGradStep *ps = &p->grad.steps[s];
    const PlanNode *nd = &p->nodes[ps->node];
    for (int k = 0; ps->kind == PLAN_STEP_BACKWARD && k < nd->nparams; k++)
      if (nd->param[k] >= 0) t->grad_ready[nd->param[k]] = s;
  }
  t->ntrainable = 0;
  for (int i = 0; i < p->nparams; i++)
    if (p->params[i].trainable) at[t->ntrainable++] = (GradAt){t->dv->grad_off[i], i};
  qsort(at, (size_t)t->ntrainable, sizeof *at, by_offset_desc);
  for (int k = 0; k < t->ntrainable; k++) t->grad_order[k] = at[k].param;
  free(at);
  return true;
}

bool trainer_set_data_parallel(Trainer *t, bool on, char *err, size_t n) {
  const BackendDevice *d = t->dv->dev;
  if (on && !d->host && !(d->dist_join && d->allreduce && d->scale))
    return snprintf(err, n, "data-parallel training is not supported on the %s backend", t->be->name), false;
  BackendJob job = {dist_rank(), dist_size(), dist_bcast, dist_allreduce_f32, dist_allreduce_f64, ""};
  if (on && !d->host && !d->dist_join(t->dv->state, &job, err, n)) return false;
  if (on && d->host && !bucket_floats(t, err, n)) return false;
  if (on && d->host && !plan_ready_steps(t)) return snprintf(err, n, "out of memory"), false;
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

void trainer_dist_grads_begin(Trainer *t) {
  t->grad_next = 0;
  t->grad_hi = t->dv->grad_floats;
}

void trainer_dist_grads_after(Trainer *t, int step) {
  if (!t->data_parallel || !t->dv->dev->host) return;
  size_t lo = t->grad_hi;
  for (; t->grad_next < t->ntrainable && t->grad_ready[t->grad_order[t->grad_next]] <= step; t->grad_next++)
    lo = t->dv->grad_off[t->grad_order[t->grad_next]];
  if (t->grad_hi - lo >= t->grad_bucket) {
    dist_iallreduce_f32(t->grad_block + lo, t->grad_hi - lo);
    t->grad_hi = lo;
  }
  dist_progress();
}

void trainer_dist_grads_host(Trainer *t) {
  if (!t->dv->dev->host) return;
  dist_iallreduce_f32(t->grad_block, t->grad_hi);
  dist_wait_all();
}

const char *trainer_data_parallel_how(const Trainer *t) { return t->dist_how; }
