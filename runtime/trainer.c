/* trainer.c - executes a plan's training program (plan.h PlanGrad, derived by compiler/autodiff.c):
   lays the training buffers out in one arena from the compiler's slots, runs the forward nodes in
   training mode and the backward steps on a backend, computes the loss between them, and applies
   the SGD update. Also checks labels and catches non-finite values, naming the first bad tensor. */
#include "trainer.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend.h"
#include "cpu_grad.h"
#include "shapes.h"
#include "weights_bind.h"
#include "weights_init.h"

struct Trainer {
  const Plan *p;
  const Backend *be;
  TensorSet *w;              /* live weights, plan order */
  float **param;             /* per parameter: its data in w */
  float **pgrad;             /* per parameter: gradient, NULL if not trainable */
  float *grad_block;         /* every gradient, contiguous */
  size_t grad_numel;
  float **mom;               /* per parameter: SGD momentum buffer, NULL until the first step */
  float **buf, **grad;       /* per node: forward value and gradient (NULL: none) in the arena */
  size_t *slot_off;
  float *arena;
  size_t arena_bytes;
  float **bn_save;           /* per BN node: mean and 1/std of the batch */
  float *scratch;
  size_t scratch_bytes;
  PlanShape *shapes;
  int batch;
  bool bn_eval;
};

static bool copy_weights(Trainer *t, const TensorSet *src, char *err, size_t n) {
  const Plan *p = t->p;
  const float **from = calloc((size_t)p->nparams + 1, sizeof *from);
  bool ok = weights_bind(p, src, from, err, n);
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
  return ok;
}

static bool alloc_gradients(Trainer *t, char *err, size_t n) {
  const Plan *p = t->p;
  t->grad_numel = 0;
  for (int i = 0; i < p->nparams; i++)
    if (p->params[i].trainable) t->grad_numel += (size_t)p->params[i].numel;
  t->grad_block = calloc(t->grad_numel ? t->grad_numel : 1, sizeof(float));
  if (!t->grad_block) return snprintf(err, n, "out of memory for the gradients"), false;
  size_t off = 0;
  for (int i = 0; i < p->nparams; i++)
    if (p->params[i].trainable) t->pgrad[i] = t->grad_block + off, off += (size_t)p->params[i].numel;
  return true;
}

Trainer *trainer_new(const Plan *p, const TensorSet *weights, uint64_t seed, const char *backend, char *err, size_t n) {
  const Backend *be = backend_get(backend, err, n);
  if (!be) return NULL;
  if (!be->train_node || !be->backward_step)
    return snprintf(err, n, "the %s backend cannot train", be->name), NULL;
  if (p->grad.nsteps == 0) return snprintf(err, n, "%s has nothing to train (no trainable parameters)", p->name), NULL;
  Trainer *t = calloc(1, sizeof *t);
  size_t np = (size_t)p->nparams + 1, nn = (size_t)p->nnodes;
  t->p = p, t->be = be;
  t->param = calloc(np, sizeof *t->param);
  t->pgrad = calloc(np, sizeof *t->pgrad);
  t->mom = calloc(np, sizeof *t->mom);
  t->buf = calloc(nn, sizeof *t->buf);
  t->grad = calloc(nn, sizeof *t->grad);
  t->bn_save = calloc(nn, sizeof *t->bn_save);
  t->shapes = calloc(nn, sizeof *t->shapes);
  t->slot_off = calloc((size_t)p->grad.nslots + 1, sizeof *t->slot_off);
  TensorSet *init = weights ? NULL : weights_init(p, seed);
  bool ok = t->param && t->pgrad && t->mom && t->buf && t->grad && t->bn_save && t->shapes && t->slot_off &&
            (weights || init);
  if (!ok) snprintf(err, n, "out of memory");
  ok = ok && copy_weights(t, weights ? weights : init, err, n) && alloc_gradients(t, err, n);
  for (int i = 0; ok && i < p->nnodes; i++)
    if (p->nodes[i].kind == PLAN_OP_BN && !(t->bn_save[i] = malloc(sizeof(float) * 2 * (size_t)p->nodes[i].out.c)))
      ok = snprintf(err, n, "out of memory") < 0;
  tensor_set_free(init);
  if (!ok) trainer_free(t), t = NULL;
  return t;
}

/* Sizes the training slots for the current shapes and points every value and gradient into one arena. */
static bool layout(Trainer *t, char *err, size_t n) {
  const Plan *p = t->p;
  const PlanGrad *g = &p->grad;
  size_t *need = calloc((size_t)g->nslots + 1, sizeof *need), total = 0, largest = 0;
  for (int i = 0; i < p->nnodes; i++) {
    size_t bytes = (size_t)t->batch * t->shapes[i].c * t->shapes[i].h * t->shapes[i].w * sizeof(float);
    largest = bytes > largest ? bytes : largest;
    if (bytes > need[g->node[i].train_slot]) need[g->node[i].train_slot] = bytes;
    if (g->node[i].grad_slot >= 0 && bytes > need[g->node[i].grad_slot]) need[g->node[i].grad_slot] = bytes;
  }
  for (int s = 0; s < g->nslots; s++) t->slot_off[s] = total, total += (need[s] + 63) & ~(size_t)63;
  free(need);
  if (total > t->arena_bytes) {
    free(t->arena);
    t->arena = aligned_alloc(64, total ? total : 64);
    t->arena_bytes = t->arena ? total : 0;
    if (!t->arena) return snprintf(err, n, "out of memory: the training buffers need %.1f MiB", total / 1048576.0), false;
  }
  if (largest > t->scratch_bytes) {
    free(t->scratch);
    t->scratch = malloc(largest);
    t->scratch_bytes = t->scratch ? largest : 0;
    if (!t->scratch) return snprintf(err, n, "out of memory"), false;
  }
  for (int i = 0; i < p->nnodes; i++) {
    t->buf[i] = (float *)((char *)t->arena + t->slot_off[g->node[i].train_slot]);
    t->grad[i] = g->node[i].grad_slot >= 0 ? (float *)((char *)t->arena + t->slot_off[g->node[i].grad_slot]) : NULL;
  }
  return true;
}

static bool check_labels(const Trainer *t, const unsigned char *labels, TShape in, char *err, size_t n) {
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

static const char *node_label(const PlanNode *nd, char *buf, size_t n) {
  if (nd->loc.file) snprintf(buf, n, "%s `%s` (node %d, %s:%d:%d)", plan_op_name(nd->kind), nd->name ? nd->name : "",
                             nd->id, nd->loc.file, nd->loc.line, nd->loc.col);
  else snprintf(buf, n, "%s `%s` (node %d)", plan_op_name(nd->kind), nd->name ? nd->name : "", nd->id);
  return buf;
}

/* The loss is not finite: the first parameter, then the first forward value, that is not. */
static bool explain_nonfinite_forward(const Trainer *t, char *err, size_t n) {
  char lab[300];
  for (int pass = 0; pass < 2; pass++) /* trainable parameters first: running statistics follow them */
    for (int i = 0; i < t->p->nparams; i++)
      if (t->p->params[i].trainable == !pass && !all_finite(t->param[i], (size_t)t->p->params[i].numel))
        return snprintf(err, n, "the loss is not finite: parameter '%s' holds NaN or Inf (lower the learning rate?)",
                        t->p->params[i].name), false;
  for (int i = 0; i < t->p->nnodes; i++)
    if (!all_finite(t->buf[i], node_numel(t, i)))
      return snprintf(err, n, "the loss is not finite: the first non-finite value is the output of %s%s",
                      node_label(&t->p->nodes[i], lab, sizeof lab),
                      i == 0 ? " (the input batch holds NaN or Inf)" : ""), false;
  return snprintf(err, n, "the loss is not finite"), false;
}

static bool forward(Trainer *t, const float *images, BackendTrain *bt, char *err, size_t n) {
  for (int i = 0; i < t->p->nnodes; i++) {
    if (t->p->nodes[i].kind == PLAN_OP_INPUT) {
      memcpy(t->buf[i], images, node_numel(t, i) * sizeof(float));
      continue;
    }
    if (!t->be->train_node(bt, i)) {
      char lab[300];
      return snprintf(err, n, "%s cannot run in training mode on the %s backend",
                      node_label(&t->p->nodes[i], lab, sizeof lab), t->be->name), false;
    }
  }
  return true;
}

static bool backward(Trainer *t, BackendTrain *bt, char *err, size_t n) {
  for (int s = 0; s < t->p->grad.nsteps; s++) {
    if (!t->be->backward_step(bt, &t->p->grad.steps[s])) {
      char lab[300];
      return snprintf(err, n, "the backward of %s is not available on the %s backend",
                      node_label(&t->p->nodes[t->p->grad.steps[s].node], lab, sizeof lab), t->be->name), false;
    }
  }
  return true;
}

static double grad_norm(const Trainer *t) {
  double s = 0;
  for (size_t i = 0; i < t->grad_numel; i++) s += (double)t->grad_block[i] * t->grad_block[i];
  return sqrt(s);
}

static bool explain_nonfinite_grad(const Trainer *t, char *err, size_t n) {
  for (int i = 0; i < t->p->nparams; i++)
    if (t->pgrad[i] && !all_finite(t->pgrad[i], (size_t)t->p->params[i].numel))
      return snprintf(err, n, "the gradient of '%s' is not finite (the loss was finite; lower the learning rate?)",
                      t->p->params[i].name), false;
  return snprintf(err, n, "the gradient norm is not finite"), false;
}

static BackendTrain train_view(Trainer *t) {
  BackendTrain bt = {0};
  bt.run = (BackendRun){t->p, (const float *const *)t->param, t->buf, t->shapes, t->batch};
  bt.grad = t->grad;
  bt.param_grad = t->pgrad;
  bt.param_rw = t->param;
  bt.bn_save = t->bn_save;
  bt.bn_momentum = 0.1f;
  bt.bn_eval = t->bn_eval;
  bt.scratch = t->scratch;
  return bt;
}

bool trainer_step(Trainer *t, const float *images, TShape in, const unsigned char *labels, TrainStats *st, char *err,
                  size_t n) {
  const Plan *p = t->p;
  if (in.n < 1) return snprintf(err, n, "batch must be at least 1"), false;
  if (!plan_shapes(p, (PlanShape){in.c, in.h, in.w}, t->shapes, err, n)) return false;
  PlanShape o = t->shapes[p->output];
  if (o.h != in.h || o.w != in.w || o.c != p->classes)
    return snprintf(err, n, "the network output is %dx%dx%d, the labels are %dx%d", o.c, o.h, o.w, in.h, in.w), false;
  t->batch = in.n;
  if (!check_labels(t, labels, in, err, n) || !layout(t, err, n)) return false;
  memset(t->grad_block, 0, t->grad_numel * sizeof(float));
  BackendTrain bt = train_view(t);
  if (!forward(t, images, &bt, err, n)) return false;
  TShape ls = {in.n, o.c, o.h, o.w};
  st->loss = cpu_softmax_xent(t->buf[p->output], ls, labels, 255, t->grad[p->output], &st->valid_pixels);
  if (!isfinite(st->loss)) return explain_nonfinite_forward(t, err, n);
  if (!backward(t, &bt, err, n)) return false;
  st->grad_norm = grad_norm(t);
  if (!isfinite(st->grad_norm)) return explain_nonfinite_grad(t, err, n);
  return true;
}

void trainer_sgd(Trainer *t, double lr, double momentum, double weight_decay) {
  const Plan *p = t->p;
  float m = (float)momentum, wd = (float)weight_decay, a = (float)lr;
  for (int u = 0; u < p->grad.nupdate; u++) {
    int i = p->grad.update[u].param;
    size_t numel = (size_t)p->params[i].numel;
    float *w = t->param[i], *g = t->pgrad[i];
    bool first = !t->mom[i];
    if (first && momentum != 0 && !(t->mom[i] = malloc(numel * sizeof(float)))) first = false, m = 0;
    float *b = t->mom[i];
    for (size_t k = 0; k < numel; k++) {
      float d = g[k] + wd * w[k];
      if (b) b[k] = first ? d : m * b[k] + d, d = b[k];
      w[k] -= a * d;
    }
  }
}

TensorSet *trainer_weights(Trainer *t) { return t->w; }

TensorSet *trainer_optimizer_state(const Trainer *t) {
  TensorSet *s = tensor_set_new();
  char name[1024];
  for (int i = 0; s && i < t->p->nparams; i++) {
    if (!t->mom[i]) continue;
    const NamedTensor *w = &t->w->t[i];
    snprintf(name, sizeof name, "momentum.%s", w->name);
    if (!tensor_set_add(s, name, DT_F32, w->ndim, w->dims, t->mom[i])) tensor_set_free(s), s = NULL;
  }
  return s;
}

bool trainer_load_optimizer_state(Trainer *t, const TensorSet *s, char *err, size_t n) {
  char name[1024];
  for (int i = 0; i < t->p->nparams; i++) {
    const NamedTensor *w = &t->w->t[i];
    snprintf(name, sizeof name, "momentum.%s", w->name);
    const NamedTensor *m = tensor_set_find(s, name);
    if (!m) continue;
    if (m->dtype != DT_F32 || m->nbytes != w->nbytes)
      return snprintf(err, n, "optimizer state '%s' does not match the parameter's shape", name), false;
    if (!t->mom[i] && !(t->mom[i] = malloc(m->nbytes))) return snprintf(err, n, "out of memory"), false;
    memcpy(t->mom[i], m->data, m->nbytes);
  }
  return true;
}

const float *trainer_param_grad(const Trainer *t, int i) { return t->pgrad[i]; }

const float *trainer_logits(const Trainer *t, TShape *shape) {
  PlanShape o = t->shapes[t->p->output];
  if (shape) *shape = (TShape){t->batch, o.c, o.h, o.w};
  return t->buf ? t->buf[t->p->output] : NULL;
}

void trainer_freeze_bn(Trainer *t, bool frozen) { t->bn_eval = frozen; }

size_t trainer_bytes(const Trainer *t) {
  size_t b = t->arena_bytes + t->scratch_bytes + t->grad_numel * sizeof(float);
  for (int i = 0; i < t->p->nparams; i++)
    b += (size_t)t->p->params[i].numel * sizeof(float) * (t->mom[i] ? 2 : 1);
  return b;
}

void trainer_free(Trainer *t) {
  if (!t) return;
  for (int i = 0; t->mom && i < t->p->nparams; i++) free(t->mom[i]);
  for (int i = 0; t->bn_save && i < t->p->nnodes; i++) free(t->bn_save[i]);
  tensor_set_free(t->w);
  free(t->param), free(t->pgrad), free(t->grad_block), free(t->mom), free(t->buf), free(t->grad);
  free(t->slot_off), free(t->arena), free(t->bn_save), free(t->scratch), free(t->shapes);
  free(t);
}
