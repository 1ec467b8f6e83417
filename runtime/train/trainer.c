/* trainer.c - executes a plan's training program (plan.h PlanGrad, derived by compiler/passes/autodiff.c):
   lays the training buffers out in one arena from the compiler's slots, runs the forward nodes in
   training mode and the backward steps on a backend, computes the loss between them, and applies
   the SGD update. Also checks labels and catches non-finite values, naming the first bad tensor.
   Every buffer is in the backend's device memory (trainer_device.c), reached through its hooks: on the
   CPU that is host memory, and reading it on the host copies nothing. */
#include "trainer_internal.h"
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "backend.h"
#include "shapes.h"
#include "train_fusion.h"
#include "weights_bind.h"
#include "weights_init.h"
#include "clock.h"
#include "dist.h"

static bool copy_weights(Trainer *t, const TensorSet *src, char *err, size_t n) {
  const Plan *p = t->p;
  const float **from = calloc((size_t)p->nparams + 1, sizeof *from);
  TensorSet *slices = NULL;
  bool ok = from && weights_bind(p, src, from, &slices, err, n);
  t->w = tensor_set_new();
  for (int i = 0; ok && i < p->nparams; i++) {
    const PlanParam *pp = &p->params[i];
    int64_t dims[SQN_PLAN_MAX_DIMS];
    for (int d = 0; d < pp->ndim; d++) dims[d] = pp->dims[d];
    ok = tensor_set_add(t->w, pp->name, DT_F32, pp->ndim, dims, from[i]) != NULL; /* NULL data: zeros */
    if (!ok) snprintf(err, n, "out of memory for the weights");
  }
  for (int i = 0; ok && i < p->nparams; i++) t->param[i] = t->w->t[i].data;
  free(from);
  tensor_set_free(slices);
  return ok;
}

bool trainer_backend_ok(const char *backend, char *err, size_t n) {
  const Backend *be = backend_get(backend, err, n);
  if (!be) return false;
  if (be->train_node && be->backward_step) return true;
  snprintf(err, n, "the %s backend runs inference, bench, eval and profile; training and search on it are not implemented",
           be->name);
  return false;
}

Trainer *trainer_new(const Plan *p, const TensorSet *weights, uint64_t seed, const char *backend, char *err, size_t n) {
  if (!trainer_backend_ok(backend, err, n)) return NULL;
  return trainer_new_on(p, weights, seed, backend_get(backend, err, n), err, n);
}

Trainer *trainer_new_on(const Plan *p, const TensorSet *weights, uint64_t seed, const Backend *be, char *err, size_t n) {
  for (int i = 0; i < p->nnodes; i++)
    if (p->nodes[i].kind == OP_WIDTH && strcmp(be->name, "cpu"))
      return snprintf(err, n, "%s searches widths (stage [W1, W2, ...]); the %s backend does not run width choices in "
                              "training yet: search on the cpu backend (a derived network trains on any)", p->name,
                      be->name), NULL;
  if (p->grad.nsteps == 0) return snprintf(err, n, "%s has nothing to train (no trainable parameters)", p->name), NULL;
  Trainer *t = calloc(1, sizeof *t);
  size_t np = (size_t)p->nparams + 1, nn = (size_t)p->nnodes;
  t->p = p, t->be = be;
  t->param = calloc(np, sizeof *t->param);
  t->pgrad = calloc(np, sizeof *t->pgrad);
  t->mom = calloc(np, sizeof *t->mom);
  t->buf = calloc(nn, sizeof *t->buf);
  t->grad = calloc(nn, sizeof *t->grad);
  t->shapes = calloc(nn, sizeof *t->shapes);
  t->slot_off = calloc((size_t)p->grad.nslots + 1, sizeof *t->slot_off);
  t->mix_node = malloc(sizeof(int) * ((size_t)p->nsb + 1));
  t->mix_w = calloc(nn, sizeof *t->mix_w);
  t->mix_dwp = calloc(nn, sizeof *t->mix_dwp);
  t->skip = calloc(nn, sizeof *t->skip);
  t->written = calloc(nn, sizeof *t->written);
  t->adam_m = calloc(np, sizeof *t->adam_m);
  t->adam_v = calloc(np, sizeof *t->adam_v);
  t->bn_act = train_fusion_bn_act(p);
  t->fused = calloc(nn, sizeof *t->fused);
  for (int i = 0; t->bn_act && !be->train_bn_act && i < p->nnodes; i++) t->bn_act[i] = -1; /* a backend without it */
  for (int i = 0; t->bn_act && t->fused && i < p->nnodes; i++)
    if (t->bn_act[i] >= 0) t->fused[t->bn_act[i]] = true;
  for (int s = 0; s < p->nsb; s++) {
    t->mix_node[s] = -1;
    if (p->sb[s].ncand > t->maxc) t->maxc = p->sb[s].ncand;
  }
  for (int i = 0; i < p->nnodes; i++) /* the node holding each superblock's theta: its mix, or a width choice's first */
    if (p->nodes[i].kind == OP_MIX || (p->nodes[i].kind == OP_WIDTH && p->nodes[i].nparams > 0))
      t->mix_node[p->nodes[i].superblock] = i, t->nmix++;
  TensorSet *init = weights ? NULL : weights_init(p, seed);
  bool ok = t->param && t->pgrad && t->mom && t->buf && t->grad && t->shapes && t->slot_off &&
            t->mix_node && t->mix_w && t->mix_dwp && t->skip && t->written && t->adam_m && t->adam_v && t->bn_act && t->fused &&
            (weights || init);
  if (!ok) snprintf(err, n, "out of memory");
  ok = ok && copy_weights(t, weights ? weights : init, err, n) && trainer_dev_init(t, be, err, n);
  tensor_set_free(init);
  if (!ok) trainer_free(t), t = NULL;
  return t;
}

/* The training slots' offsets (slot_off, when given) and total size for a batch of `batch` at these
   node shapes (skip: nodes that take no memory, or NULL); *largest is the largest single tensor. */
static size_t slot_layout(const Plan *p, const Shape *shapes, int batch, const bool *skip, size_t *slot_off,
                          size_t *largest) {
  const PlanGrad *g = &p->grad;
  size_t *need = calloc((size_t)g->nslots + 1, sizeof *need), total = 0;
  *largest = 0;
  if (!need) return SIZE_MAX;
  for (int i = 0; i < p->nnodes; i++) {
    size_t bytes = skip && skip[i] ? 0 : (size_t)batch * shapes[i].c * shapes[i].h * shapes[i].w * sizeof(float);
    *largest = bytes > *largest ? bytes : *largest;
    if (bytes > need[g->node[i].train_slot]) need[g->node[i].train_slot] = bytes;
    if (g->node[i].grad_slot >= 0 && bytes > need[g->node[i].grad_slot]) need[g->node[i].grad_slot] = bytes;
    if (g->node[i].recompute_slot >= 0 && bytes > need[g->node[i].recompute_slot]) need[g->node[i].recompute_slot] = bytes;
  }
  for (int s = 0; s < g->nslots; s++) {
    if (slot_off) slot_off[s] = total;
    total += (need[s] + 63) & ~(size_t)63;
  }
  free(need);
  return total;
}

static const char *const SIZE_HINT = "use a smaller --crop or --batch";

/* Sizes the training slots for the current shapes and points every value and gradient into one arena. */
static bool layout(Trainer *t, char *err, size_t n) {
  const Plan *p = t->p;
  const PlanGrad *g = &p->grad;
  size_t largest, total = slot_layout(p, t->shapes, t->batch, t->skip, t->slot_off, &largest);
  if (total == SIZE_MAX) return snprintf(err, n, "out of memory"), false;
  if (!backend_dev_fits(t->be->dev, total + largest, "the training buffers", SIZE_HINT, err, n) ||
      !trainer_dev_grow(t, &t->arena, &t->arena_bytes, total, err, n) ||
      !trainer_dev_grow(t, &t->scratch, &t->scratch_bytes, largest, err, n))
    return false;
  for (int i = 0; i < p->nnodes; i++) {
    t->buf[i] = (float *)((char *)t->arena + t->slot_off[g->node[i].train_slot]);
    t->grad[i] = g->node[i].grad_slot >= 0 ? (float *)((char *)t->arena + t->slot_off[g->node[i].grad_slot]) : NULL;
  }
  return true;
}

static bool check_labels(const Trainer *t, const unsigned char *labels, Shape in, char *err, size_t n) {
  size_t hw = (size_t)in.h * in.w, total = hw * (size_t)in.n;
  for (size_t i = 0; i < total; i++)
    if (labels[i] != 255 && labels[i] >= t->p->classes)
      return snprintf(err, n,
                      "label %u at sample %zu, row %zu, column %zu is neither a train id (0..%d) nor 255 (ignore) "
                      "(hint: gtFine *_labelIds.png must be mapped to train ids)",
                      labels[i], i / hw, i % hw / (size_t)in.w, i % (size_t)in.w, t->p->classes - 1), false;
  return true;
}

static bool all_finite(const float *v, size_t n) {
  float acc = 0;
  for (size_t i = 0; i < n; i++) acc += v[i] * 0.0f; /* NaN or Inf anywhere makes it NaN */
  return acc == 0;
}

static size_t node_numel(const Trainer *t, int i) {
  return (size_t)t->batch * t->shapes[i].c * t->shapes[i].h * t->shapes[i].w;
}

/* Whether `count` floats of device memory at v are all finite (read in place on host memory; false on a device
   failure too). */
static bool value_finite(Trainer *t, const float *v, size_t count) {
  char why[512];
  const float *h = backend_dev_read(t->dv->dev, t->dv->state, v, count * sizeof *v, false, &t->dv->stage, &t->dv->stage_cap,
                                    why, sizeof why);
  return h && all_finite(h, count);
}

static const char *node_label(const PlanNode *nd, char *buf, size_t n) {
  if (nd->loc.file) snprintf(buf, n, "%s `%s` (node %d, %s:%d:%d)", op_name(nd->kind), nd->name ? nd->name : "",
                             nd->id, nd->loc.file, nd->loc.line, nd->loc.col);
  else snprintf(buf, n, "%s `%s` (node %d)", op_name(nd->kind), nd->name ? nd->name : "", nd->id);
  return buf;
}

/* The loss is not finite: the first parameter, then the first forward value, that is not. */
static bool explain_nonfinite_forward(Trainer *t, char *err, size_t n) {
  char lab[300];
  if (!trainer_dev_pull_weights(t, err, n)) return false;
  for (int pass = 0; pass < 2; pass++) /* trainable parameters first: running statistics follow them */
    for (int i = 0; i < t->p->nparams; i++)
      if (t->p->params[i].trainable == !pass && !all_finite(t->param[i], (size_t)t->p->params[i].numel))
        return snprintf(err, n, "the loss is not finite: parameter '%s' holds NaN or Inf (lower the learning rate?)",
                        t->p->params[i].name), false;
  for (int i = 0; i < t->p->nnodes; i++)
    if (!t->skip[i] && !(t->bn_act[i] >= 0 && !t->bn_eval) && !value_finite(t, t->buf[i], node_numel(t, i)))
      return snprintf(err, n, "the loss is not finite: the first non-finite value is the output of %s%s",
                      node_label(&t->p->nodes[i], lab, sizeof lab),
                      i == 0 ? " (the input batch holds NaN or Inf)" : ""), false;
  return snprintf(err, n, "the loss is not finite"), false;
}

/* Why the device failed, as ": why" (part 0 the colon, 1 the message), or "". */
static const char *device_error(const Trainer *t, int part) {
  const char *why = t->dv->dev->error(t->dv->state);
  if (!*why) return "";
  return part == 0 ? ": " : why;
}

/* Node i is an activation that its BN computes (not with frozen BN: then nothing is fused). */
static bool fused_away(const Trainer *t, int i) { return !t->bn_eval && t->fused[i]; }

static bool forward(Trainer *t, const float *images, BackendTrain *bt, char *err, size_t n) {
  for (int i = 0; i < t->p->nnodes; i++) {
    if (t->skip[i] || fused_away(t, i)) continue;
    if (t->p->nodes[i].kind == OP_INPUT) {
      if (!t->dv->dev->upload(t->dv->state, t->buf[i], images, node_numel(t, i) * sizeof(float), err, n)) return false;
      continue;
    }
    double t0 = t->prof_fwd ? now_s() : 0;
    bool ok = t->be->train_node(bt, i);
    if (ok && t->prof_fwd) ok = t->dv->dev->sync(t->dv->state, err, n);
    if (t->prof_fwd) t->prof_fwd[i] += now_s() - t0;
    if (!ok) {
      char lab[300];
      return snprintf(err, n, "%s cannot run in training mode on the %s backend%s%s",
                      node_label(&t->p->nodes[i], lab, sizeof lab), t->be->name, device_error(t, 0), device_error(t, 1)),
             false;
    }
  }
  return true;
}

/* The compiler's first-writer/accumulate choice, corrected where skipped candidates never write. */
static PlanGradStep live_step(Trainer *t, const PlanGradStep *s) {
  PlanGradStep l = *s;
  const PlanNode *nd = &t->p->nodes[s->node];
  for (int k = 0; k < nd->ninputs && k < 32; k++) {
    if (!((s->need_dx >> k) & 1)) continue;
    int in = nd->inputs[k];
    if (!t->written[in]) l.acc_dx &= ~(1u << k);
    if (!t->skip[in]) t->written[in] = true;
  }
  return l;
}

/* Backward step s of the plan (nothing for a skipped node). */
static bool backward_at(Trainer *t, BackendTrain *bt, int s, char *err, size_t n) {
  const PlanGradStep *ps = &t->p->grad.steps[s];
  if (t->skip[ps->node]) return true;
  if (ps->kind == PLAN_STEP_BACKWARD && fused_away(t, ps->node)) /* the BN's step, next, does it */
    return live_step(t, ps), true;
  if (ps->kind == PLAN_STEP_RECOMPUTE) /* the value lives in its recompute slot from here on */
    t->buf[ps->node] = (float *)((char *)t->arena + t->slot_off[t->p->grad.node[ps->node].recompute_slot]);
  PlanGradStep step = ps->kind == PLAN_STEP_RECOMPUTE ? *ps : live_step(t, ps);
  double t0 = t->prof_bwd ? now_s() : 0;
  /* a recomputed conv runs its forward again (into its recompute slot); a ReLU of a BN is the backend's */
  bool rerun = ps->kind == PLAN_STEP_RECOMPUTE && t->p->nodes[ps->node].kind == OP_CONV;
  bool ok = rerun ? t->be->train_node(bt, ps->node) : t->be->backward_step(bt, &step);
  if (ok && t->prof_bwd) ok = t->dv->dev->sync(t->dv->state, err, n);
  if (t->prof_bwd) t->prof_bwd[step.node] += now_s() - t0;
  if (ok) return true;
  char lab[300];
  return snprintf(err, n, "the backward of %s is not available on the %s backend%s%s",
                  node_label(&t->p->nodes[ps->node], lab, sizeof lab), t->be->name, device_error(t, 0),
                  device_error(t, 1)), false;
}

/* The plan's backward steps; a data-parallel run on host memory sums finished gradients meanwhile. */
static bool backward(Trainer *t, BackendTrain *bt, char *err, size_t n) {
  memset(t->written, 0, sizeof *t->written * (size_t)t->p->nnodes);
  trainer_dist_grads_begin(t);
  for (int s = 0; s < t->p->grad.nsteps; s++) {
    if (!backward_at(t, bt, s, err, n)) return false;
    trainer_dist_grads_after(t, s);
  }
  return true;
}

/* Over the host copy of the gradient block (its padding, if any, is zero). */
static double grad_norm(const Trainer *t) {
  double s = 0;
  for (size_t i = 0; i < t->dv->grad_floats; i++) s += (double)t->grad_block[i] * t->grad_block[i];
  return sqrt(s);
}

static bool explain_nonfinite_grad(const Trainer *t, char *err, size_t n) {
  for (int i = 0; i < t->p->nparams; i++)
    if (t->pgrad[i] && !all_finite(t->pgrad[i], (size_t)t->p->params[i].numel))
      return snprintf(err, n, "the gradient of '%s' is not finite (the loss was finite; lower the learning rate?)",
                      t->p->params[i].name), false;
  return snprintf(err, n, "the gradient norm is not finite"), false;
}

/* What the backend computes with: device pointers, and the host's mixing weights. */
static BackendTrain train_view(Trainer *t) {
  BackendTrain bt = {0};
  bt.run = (BackendRun){t->p, (const float *const *)t->dv->param, t->buf, t->shapes, t->batch};
  bt.grad = t->grad;
  bt.param_grad = t->dv->pgrad;
  bt.param_rw = t->dv->param;
  bt.bn_save = t->dv->bn_save;
  bt.bn_momentum = 0.1f;
  bt.bn_eval = t->bn_eval;
  bt.bn_keep_running = t->keep_running;
  bt.scratch = t->scratch;
  bt.skip = t->skip;
  bt.bn_act = t->bn_eval ? NULL : t->bn_act;
  bt.mix_w = (const float *const *)t->mix_w;
  bt.mix_dw = t->mix_dwp;
  bt.state = t->dv->state;
  bt.bn_sum = t->data_parallel ? dist_allreduce_f64 : NULL;
  return bt;
}

/* The node shapes for input `in`; false unless the logits have the input's size (what the loss needs). */
static bool train_shapes(const Plan *p, Shape in, Shape *shapes, char *err, size_t n) {
  if (in.n < 1) return snprintf(err, n, "batch must be at least 1"), false;
  if (!plan_shapes(p, (Shape){0, in.c, in.h, in.w}, shapes, err, n)) return false;
  Shape o = shapes[p->output];
  if (o.h != in.h || o.w != in.w || o.c != p->classes)
    return snprintf(err, n, "a %dx%d input gives %dx%dx%d logits, but training needs logits of the input's size: use a "
                            "larger crop (sides that are multiples of 32 suit every space in spaces/)",
                    in.h, in.w, o.c, o.h, o.w), false;
  return true;
}

bool trainer_check_input(const Plan *p, Shape in, const char *backend, char *err, size_t n) {
  Shape *shapes = malloc(sizeof *shapes * ((size_t)p->nnodes + 1));
  if (!shapes) return snprintf(err, n, "out of memory"), false;
  bool ok = train_shapes(p, in, shapes, err, n);
  const Backend *be = ok ? backend_get(backend, err, n) : NULL;
  if (be) {
    size_t largest, total = slot_layout(p, shapes, in.n, NULL, NULL, &largest);
    char what[128];
    snprintf(what, sizeof what, "the training buffers for a batch of %d at %dx%d", in.n, in.h, in.w);
    ok = backend_dev_fits(be->dev, total == SIZE_MAX ? SIZE_MAX : total + largest, what, SIZE_HINT, err, n);
  }
  free(shapes);
  return ok && be;
}

/* Shapes, buffers and mixing weights for a batch of this size. */
static bool prepare(Trainer *t, Shape in, char *err, size_t n) {
  const Plan *p = t->p;
  if (!train_shapes(p, in, t->shapes, err, n)) return false;
  if (t->nmix && (!t->mix || t->mix_batch != in.n))
    return snprintf(err, n, "%s is a supernet: each step needs mixing weights for a batch of %d (trainer_set_mix)",
                    p->name, in.n), false;
  t->batch = in.n;
  return layout(t, err, n);
}

/* The logits on the host (trainer_logits): `copy` before the backward pass reuses their buffer (a step with
   trainer_keep_logits), else where they are (read in place on host memory, downloaded from a GPU). */
static bool host_logits(Trainer *t, bool copy, char *err, size_t n) {
  size_t bytes = (size_t)t->batch * t->p->classes * t->shapes[t->p->output].h * t->shapes[t->p->output].w * sizeof(float);
  t->logits = backend_dev_read(t->dv->dev, t->dv->state, t->buf[t->p->output], bytes, copy, &t->logits_copy, &t->logits_cap,
                               err, n);
  return t->logits != NULL;
}

bool trainer_forward(Trainer *t, const float *images, Shape in, char *err, size_t n) {
  t->logits = NULL;
  if (!prepare(t, in, err, n)) return false;
  BackendTrain bt = train_view(t);
  return forward(t, images, &bt, err, n) && host_logits(t, false, err, n);
}

/* The loss and d loss / d logits, ignoring label 255. */
static bool loss(Trainer *t, const unsigned char *labels, Shape ls, TrainStats *st, char *err, size_t n) {
  const Plan *p = t->p;
  return t->dv->dev->loss(t->dv->state, t->buf[p->output], ls, labels, 255, t->grad[p->output], &st->loss,
                          &st->valid_pixels, err, n);
}

bool trainer_step(Trainer *t, const float *images, Shape in, const unsigned char *labels, TrainStats *st, char *err,
                  size_t n) {
  const Plan *p = t->p;
  t->logits = NULL;
  if (!prepare(t, in, err, n) || !check_labels(t, labels, in, err, n)) return false;
  Shape o = t->shapes[p->output];
  if (!trainer_dev_begin_step(t, err, n)) return false;
  if (t->mix_dw) memset(t->mix_dw, 0, sizeof(float) * (size_t)p->nsb * t->maxc * t->mix_batch);
  BackendTrain bt = train_view(t);
  if (!forward(t, images, &bt, err, n)) return false;
  Shape ls = {in.n, o.c, o.h, o.w};
  if (!loss(t, labels, ls, st, err, n)) return false;
  if (t->data_parallel && !trainer_dist_loss(t, ls, st, err, n)) return false;
  if (!isfinite(st->loss)) return explain_nonfinite_forward(t, err, n);
  if ((t->keep_logits && !host_logits(t, true, err, n)) || !backward(t, &bt, err, n)) return false;
  if (t->data_parallel && !trainer_dist_grads_device(t, err, n)) return false;
  if (!trainer_dev_pull_grads(t, err, n)) return false;
  if (t->data_parallel) trainer_dist_grads_host(t);
  st->grad_norm = grad_norm(t);
  if (!isfinite(st->grad_norm)) return explain_nonfinite_grad(t, err, n);
  return true;
}

/* SGD over the update list, the architecture parameters too or not. */
static void sgd(Trainer *t, double lr, double momentum, double weight_decay, bool arch) {
  const Plan *p = t->p;
  float m = (float)momentum, wd = (float)weight_decay, a = (float)lr;
  for (int u = 0; u < p->grad.nupdate; u++) {
    int i = p->grad.update[u].param;
    if ((!arch && p->params[i].role == PLAN_PARAM_ARCH) || t->skip[p->params[i].node]) continue;
    trainer_dev_sgd(t, i, a, m, wd);
  }
}

void trainer_sgd(Trainer *t, double lr, double momentum, double weight_decay) { sgd(t, lr, momentum, weight_decay, true); }

void trainer_sgd_weights(Trainer *t, double lr, double momentum, double weight_decay) {
  sgd(t, lr, momentum, weight_decay, false);
}

void trainer_adam_arch(Trainer *t, const double *dtheta, double lr, double weight_decay) {
  const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
  t->adam_t++;
  double c1 = 1 - pow(b1, (double)t->adam_t), c2 = 1 - pow(b2, (double)t->adam_t);
  for (int s = 0; s < t->p->nsb; s++) {
    if (t->mix_node[s] < 0) continue;
    int i = t->p->nodes[t->mix_node[s]].param[0], nc = t->p->sb[s].ncand;
    if (!t->adam_m[i]) t->adam_m[i] = calloc((size_t)nc, sizeof(float)), t->adam_v[i] = calloc((size_t)nc, sizeof(float));
    if (!t->adam_m[i] || !t->adam_v[i]) continue;
    float *th = t->param[i], *m = t->adam_m[i], *v = t->adam_v[i];
    for (int k = 0; k < nc; k++) {
      double g = dtheta[s * t->maxc + k] + weight_decay * th[k];
      m[k] = (float)(b1 * m[k] + (1 - b1) * g);
      v[k] = (float)(b2 * v[k] + (1 - b2) * g * g);
      th[k] -= (float)(lr * (m[k] / c1) / (sqrt(v[k] / c2) + eps));
    }
    trainer_dev_push_param(t, i);
  }
}

float *trainer_theta(Trainer *t, int sb) {
  return t->mix_node[sb] < 0 ? NULL : t->param[t->p->nodes[t->mix_node[sb]].param[0]];
}

bool trainer_set_mix(Trainer *t, const float *w, int batch, char *err, size_t n) {
  size_t count = (size_t)t->p->nsb * t->maxc * batch;
  if (batch != t->mix_batch) {
    free(t->mix), free(t->mix_dw);
    t->mix = malloc(count * sizeof(float) + 1), t->mix_dw = calloc(count + 1, sizeof(float));
    t->mix_batch = t->mix && t->mix_dw ? batch : 0;
    if (!t->mix_batch) return snprintf(err, n, "out of memory"), false;
  }
  memcpy(t->mix, w, count * sizeof(float));
  for (int i = 0; i < t->p->nnodes; i++) { /* every width node of a width choice shares its weights */
    const PlanNode *nd = &t->p->nodes[i];
    if (nd->kind != OP_MIX && nd->kind != OP_WIDTH) continue;
    t->mix_w[i] = t->mix + (size_t)nd->superblock * t->maxc * batch;
    t->mix_dwp[i] = t->mix_dw + (size_t)nd->superblock * t->maxc * batch;
  }
  return true;
}

const float *trainer_mix_grad(const Trainer *t) { return t->mix_dw; }

/* Every node of a candidate that does not run is skipped. */
void trainer_set_active(Trainer *t, const bool *active, int max_cand) {
  for (int i = 0; i < t->p->nnodes; i++) {
    const PlanNode *nd = &t->p->nodes[i];
    t->skip[i] = active && nd->superblock >= 0 && nd->candidate >= 0 &&
                 !active[nd->superblock * max_cand + nd->candidate];
  }
}

TensorSet *trainer_weights(Trainer *t) {
  char why[512];
  if (!trainer_dev_pull_weights(t, why, sizeof why) && !t->dv->err[0]) /* reported by the next step */
    snprintf(t->dv->err, sizeof t->dv->err, "%s", why);
  return t->w;
}

static bool add_state(TensorSet *s, const char *prefix, const NamedTensor *w, const float *data) {
  char name[1024];
  snprintf(name, sizeof name, "%s%s", prefix, w->name);
  return !data || tensor_set_add(s, name, DT_F32, w->ndim, w->dims, data);
}

TensorSet *trainer_optimizer_state(Trainer *t) {
  if (!trainer_dev_pull_momentum(t)) return NULL;
  TensorSet *s = tensor_set_new();
  for (int i = 0; s && i < t->p->nparams; i++) {
    const NamedTensor *w = &t->w->t[i];
    if (!add_state(s, "momentum.", w, t->mom[i]) || !add_state(s, "adam_m.", w, t->adam_m[i]) ||
        !add_state(s, "adam_v.", w, t->adam_v[i]))
      tensor_set_free(s), s = NULL;
  }
  return s;
}

long trainer_adam_steps(const Trainer *t) { return t->adam_t; }
void trainer_set_adam_steps(Trainer *t, long steps) { t->adam_t = steps; }

/* Tensor prefix<name> of s in *m (NULL: absent, which is fine); false with a message when it does not match w. */
static bool saved_state(const TensorSet *s, const char *prefix, const NamedTensor *w, const NamedTensor **m, char *err,
                        size_t n) {
  char name[1024];
  snprintf(name, sizeof name, "%s%s", prefix, w->name);
  *m = tensor_set_find(s, name);
  if (*m && ((*m)->dtype != DT_F32 || (*m)->nbytes != w->nbytes))
    return snprintf(err, n, "optimizer state '%s' does not match the parameter's shape", name), false;
  return true;
}

/* Copies saved tensor m (NULL: none) into *buf, host memory allocated on first use (Adam's moments). */
static bool load_host(const NamedTensor *m, float **buf, char *err, size_t n) {
  if (!m) return true;
  if (!*buf && !(*buf = malloc(m->nbytes))) return snprintf(err, n, "out of memory"), false;
  memcpy(*buf, m->data, m->nbytes);
  return true;
}

bool trainer_load_optimizer_state(Trainer *t, const TensorSet *s, char *err, size_t n) {
  for (int i = 0; i < t->p->nparams; i++) {
    const NamedTensor *w = &t->w->t[i], *mom, *am, *av;
    if (!saved_state(s, "momentum.", w, &mom, err, n) || !saved_state(s, "adam_m.", w, &am, err, n) ||
        !saved_state(s, "adam_v.", w, &av, err, n))
      return false;
    float *to = mom ? trainer_dev_momentum(t, i, err, n) : NULL; /* the host copy of the device's buffer */
    if (mom && !to) return false;
    if (to) memcpy(to, mom->data, mom->nbytes);
    if (!load_host(am, &t->adam_m[i], err, n) || !load_host(av, &t->adam_v[i], err, n)) return false;
  }
  return trainer_dev_push_momentum(t, err, n);
}

const float *trainer_param_grad(const Trainer *t, int i) { return t->pgrad[i]; }

const float *trainer_logits(const Trainer *t, Shape *shape) {
  Shape o = t->shapes[t->p->output];
  if (shape) *shape = (Shape){t->batch, o.c, o.h, o.w};
  return t->logits;
}

void trainer_keep_logits(Trainer *t, bool keep) { t->keep_logits = keep; }
void trainer_profile(Trainer *t, double *fwd, double *bwd) { t->prof_fwd = fwd, t->prof_bwd = bwd; }

void trainer_freeze_bn(Trainer *t, bool frozen) { t->bn_eval = frozen; }
void trainer_keep_running_stats(Trainer *t, bool keep) { t->keep_running = keep; }

size_t trainer_bytes(const Trainer *t) {
  size_t b = t->arena_bytes + t->scratch_bytes + t->dv->grad_floats * sizeof(float);
  for (int i = 0; i < t->p->nparams; i++)
    b += (size_t)t->p->params[i].numel * sizeof(float) * (t->mom[i] ? 2 : 1);
  return b;
}

void trainer_free(Trainer *t) {
  if (!t) return;
  trainer_dev_free(t); /* device memory and its host copies: gradients, momentum buffers */
  for (int i = 0; t->adam_m && i < t->p->nparams; i++) free(t->adam_m[i]), free(t->adam_v[i]);
  free(t->bn_act), free(t->fused);
  free(t->adam_m), free(t->adam_v), free(t->mix_node), free(t->mix), free(t->mix_dw), free(t->mix_w), free(t->mix_dwp);
  free(t->skip), free(t->written), free(t->logits_copy), free(t->grad_ready), free(t->grad_order);
  tensor_set_free(t->w);
  free(t->param), free(t->pgrad), free(t->mom), free(t->buf), free(t->grad);
  free(t->slot_off), free(t->shapes);
  free(t);
}
