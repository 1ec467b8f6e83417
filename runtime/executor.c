/* executor.c - the forward program of a fixed network on the CPU backend (inference: BN uses its
   running statistics). Where the plan's fused kernels say so, BN is folded into the preceding conv
   (weights scaled once, at load). Activations live in one arena laid out from the buffer slots sqnc
   planned (compiler/memplan.c); elementwise ops the plan put in their input's slot run in place. */
#include "executor.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "shapes.h"
#include "weights_bind.h"

struct Executor {
  const Plan *p;
  const float **param;   /* per plan parameter */
  float **buf;           /* per node: its slot in the arena, for the current run */
  int *uses;             /* consumers per node */
  int *slot, nslots;     /* the plan's buffer slots (nodes without one get their own) */
  size_t *slot_off;      /* per slot: byte offset in the arena */
  float *arena;          /* every activation of a run */
  size_t arena_bytes;
  PlanShape *shapes;     /* per node, for the current input size */
  float **folded_w, **folded_b; /* per conv node with a folded BN: scaled weights and bias (owned) */
  bool *bn_folded;       /* per BN node: folded into its input conv, so it is the identity */
  bool *act_fused;       /* per relu/relu6 node: applied by its conv's epilogue, so it is the identity */
  int *conv_act;         /* per conv node: CONV_ACT_* epilogue */
  int batch;
  const float *output;
  double *times;         /* per-node profile accumulator, NULL when off */
  TShape out_shape;
};

/* conv -> BN inside one fused kernel that folds BN: y = conv(x, w * s) + (b - mean) * s + beta,
   s = gamma / sqrt(var + eps), the same arithmetic as BN applied to the conv's output. */
static void fold_one(Executor *x, const PlanNode *conv, const PlanNode *bn) {
  const float *w = x->param[conv->param[0]], *b = conv->bias ? x->param[conv->param[1]] : NULL;
  const float *g = x->param[bn->param[0]], *be = x->param[bn->param[1]];
  const float *m = x->param[bn->param[2]], *v = x->param[bn->param[3]];
  int cout = conv->out.c;
  size_t per = x->p->params[conv->param[0]].numel / cout;
  float *fw = malloc(sizeof *fw * per * cout), *fb = malloc(sizeof *fb * cout);
  for (int o = 0; o < cout; o++) {
    float s = g[o] / sqrtf(v[o] + 1e-5f);
    for (size_t k = 0; k < per; k++) fw[o * per + k] = w[o * per + k] * s;
    fb[o] = ((b ? b[o] : 0.0f) - m[o]) * s + be[o];
  }
  x->folded_w[conv->id] = fw, x->folded_b[conv->id] = fb;
  x->bn_folded[bn->id] = true;
}

static void fold_batchnorms(Executor *x) {
  const Plan *p = x->p;
  for (int i = 0; i < p->nnodes; i++) {
    const PlanNode *bn = &p->nodes[i];
    if (bn->kind != PLAN_OP_BN || bn->kernel < 0 || !p->kernels[bn->kernel].folds_bn) continue;
    const PlanNode *conv = &p->nodes[bn->inputs[0]];
    if (conv->kind == PLAN_OP_CONV && conv->kernel == bn->kernel && x->uses[conv->id] == 1) fold_one(x, conv, bn);
  }
}

/* relu/relu6 right after a conv (or a conv with its BN folded) in one fused kernel, as that conv's
   epilogue: the value before the activation has no other reader. */
static void fuse_activations(Executor *x) {
  const Plan *p = x->p;
  for (int i = 0; i < p->nnodes; i++) {
    const PlanNode *act = &p->nodes[i];
    if ((act->kind != PLAN_OP_RELU && act->kind != PLAN_OP_RELU6) || act->kernel < 0) continue;
    int pre = act->inputs[0], conv = x->bn_folded[pre] ? p->nodes[pre].inputs[0] : pre;
    if (p->nodes[conv].kind != PLAN_OP_CONV || p->nodes[conv].kernel != act->kernel || x->uses[pre] != 1) continue;
    x->conv_act[conv] = act->kind == PLAN_OP_RELU ? CONV_ACT_RELU : CONV_ACT_RELU6;
    x->act_fused[i] = true;
  }
}

Executor *executor_new(const Plan *p, const TensorSet *weights, char *err, size_t n) {
  if (p->is_space) {
    snprintf(err, n, "%s is a search space: inference needs a fixed network (sqnc a `network` file)", p->name);
    return NULL;
  }
  Executor *x = calloc(1, sizeof *x);
  x->p = p;
  x->param = calloc((size_t)p->nparams + 1, sizeof *x->param);
  x->buf = calloc((size_t)p->nnodes, sizeof *x->buf);
  x->uses = calloc((size_t)p->nnodes, sizeof *x->uses);
  x->slot = malloc(sizeof *x->slot * (size_t)p->nnodes);
  for (int i = 0; i < p->nnodes; i++) x->nslots = p->nodes[i].slot >= x->nslots ? p->nodes[i].slot + 1 : x->nslots;
  for (int i = 0; i < p->nnodes; i++) x->slot[i] = p->nodes[i].slot >= 0 ? p->nodes[i].slot : x->nslots + i;
  x->nslots += p->nnodes;
  x->slot_off = calloc((size_t)x->nslots + 1, sizeof *x->slot_off);
  x->shapes = calloc((size_t)p->nnodes, sizeof *x->shapes);
  x->folded_w = calloc((size_t)p->nnodes, sizeof *x->folded_w);
  x->folded_b = calloc((size_t)p->nnodes, sizeof *x->folded_b);
  x->bn_folded = calloc((size_t)p->nnodes, sizeof *x->bn_folded);
  x->act_fused = calloc((size_t)p->nnodes, sizeof *x->act_fused);
  x->conv_act = calloc((size_t)p->nnodes, sizeof *x->conv_act);
  for (int i = 0; i < p->nnodes; i++)
    for (int k = 0; k < p->nodes[i].ninputs; k++) x->uses[p->nodes[i].inputs[k]]++;
  if (!weights_bind(p, weights, x->param, err, n)) {
    executor_free(x);
    return NULL;
  }
  fold_batchnorms(x);
  fuse_activations(x);
  return x;
}

static TShape shape_of(const Executor *x, int node) {
  PlanShape s = x->shapes[node];
  return (TShape){x->batch, s.c, s.h, s.w};
}

static const float *in_buf(const Executor *x, const PlanNode *nd, int k) { return x->buf[nd->inputs[k]]; }
static TShape in_shape(const Executor *x, const PlanNode *nd, int k) { return shape_of(x, nd->inputs[k]); }
static const float *prm(const Executor *x, const PlanNode *nd, int k) { return x->param[nd->param[k]]; }

static void run_conv(const Executor *x, const PlanNode *nd, float *y) {
  ConvParams cp = {nd->kh, nd->kw, nd->sh, nd->sw, nd->ph, nd->pw, nd->dh, nd->dw, nd->groups, x->conv_act[nd->id]};
  const float *w = x->folded_w[nd->id] ? x->folded_w[nd->id] : prm(x, nd, 0);
  const float *b = x->folded_b[nd->id] ? x->folded_b[nd->id] : nd->bias ? prm(x, nd, 1) : NULL;
  cpu_conv2d(in_buf(x, nd, 0), in_shape(x, nd, 0), w, b, &cp, y, shape_of(x, nd->id));
}

static void run_concat(const Executor *x, const PlanNode *nd, float *y) {
  const float *xs[SQN_PLAN_MAX_INPUTS];
  TShape ss[SQN_PLAN_MAX_INPUTS];
  for (int k = 0; k < nd->ninputs; k++) xs[k] = in_buf(x, nd, k), ss[k] = in_shape(x, nd, k);
  cpu_concat(xs, ss, nd->ninputs, y, shape_of(x, nd->id));
}

/* Computes node nd into y; false for ops this mode cannot run. */
static bool run_node(const Executor *x, const PlanNode *nd, float *y) {
  TShape ys = shape_of(x, nd->id), s0 = nd->ninputs ? in_shape(x, nd, 0) : ys;
  const float *a = nd->ninputs ? in_buf(x, nd, 0) : NULL;
  size_t numel = tshape_numel(ys);
  switch (nd->kind) {
  case PLAN_OP_CONV: run_conv(x, nd, y); break;
  case PLAN_OP_BN:
    if (x->bn_folded[nd->id]) { /* the identity: the conv already applied it */
      if (y != a) memcpy(y, a, numel * sizeof *y);
      break;
    }
    cpu_batchnorm_infer(a, s0, prm(x, nd, 0), prm(x, nd, 1), prm(x, nd, 2), prm(x, nd, 3), 1e-5f, y); break;
  case PLAN_OP_RELU: case PLAN_OP_RELU6:
    if (x->act_fused[nd->id]) { /* the conv's epilogue applied it */
      if (y != a) memcpy(y, a, numel * sizeof *y);
    } else if (nd->kind == PLAN_OP_RELU) {
      cpu_relu(a, numel, y);
    } else {
      cpu_relu6(a, numel, y);
    }
    break;
  case PLAN_OP_SIGMOID: cpu_sigmoid(a, numel, y); break;
  case PLAN_OP_HSWISH: cpu_hswish(a, numel, y); break;
  case PLAN_OP_ADD: cpu_add(a, s0, in_buf(x, nd, 1), in_shape(x, nd, 1), y, ys); break;
  case PLAN_OP_MUL: cpu_mul(a, s0, in_buf(x, nd, 1), in_shape(x, nd, 1), y, ys); break;
  case PLAN_OP_CONCAT: run_concat(x, nd, y); break;
  case PLAN_OP_AVGPOOL:
    cpu_avgpool(a, s0, nd->kh, nd->kw, nd->sh, nd->sw, nd->ph, nd->pw, nd->count_include_pad, y, ys);
    break;
  case PLAN_OP_GAP: cpu_global_avgpool(a, s0, y); break;
  case PLAN_OP_BILINEAR: cpu_bilinear(a, s0, y, ys, nd->align_corners); break;
  case PLAN_OP_NEAREST: cpu_nearest(a, s0, y, ys); break;
  case PLAN_OP_CROP: cpu_crop(a, s0, nd->crop[0], nd->crop[2], y, ys); break;
  case PLAN_OP_ZERO: memset(y, 0, numel * sizeof *y); break;
  case PLAN_OP_OUTPUT: memcpy(y, a, numel * sizeof *y); break;
  default: return false;
  }
  return true;
}

/* Sizes the slots for the current shapes (each its largest member) and lays them out in one arena. */
static bool layout_arena(Executor *x, char *err, size_t n) {
  size_t *need = calloc((size_t)x->nslots, sizeof *need);
  for (int i = 0; i < x->p->nnodes; i++) {
    size_t bytes = tshape_numel(shape_of(x, i)) * sizeof(float);
    if (bytes > need[x->slot[i]]) need[x->slot[i]] = bytes;
  }
  size_t total = 0;
  for (int s = 0; s < x->nslots; s++) x->slot_off[s] = total, total += (need[s] + 63) & ~(size_t)63;
  free(need);
  if (total > x->arena_bytes) {
    free(x->arena);
    x->arena = aligned_alloc(64, total ? total : 64);
    x->arena_bytes = x->arena ? total : 0;
    if (!x->arena) return snprintf(err, n, "out of memory: activations need %.1f MiB", total / 1048576.0), false;
  }
  for (int i = 0; i < x->p->nnodes; i++) x->buf[i] = (float *)((char *)x->arena + x->slot_off[x->slot[i]]);
  return true;
}

/* In place is only right where the shapes agree at this input size (the plan checked the compiled one). */
static bool in_place_ok(const Executor *x, const PlanNode *nd) {
  if (!nd->ninputs || x->slot[nd->inputs[0]] != x->slot[nd->id]) return true;
  PlanShape a = x->shapes[nd->inputs[0]], o = x->shapes[nd->id];
  return a.c == o.c && a.h == o.h && a.w == o.w;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void executor_profile(Executor *x, double *times) { x->times = times; }

bool executor_run(Executor *x, const float *input, TShape in, char *err, size_t n) {
  if (in.n < 1) return snprintf(err, n, "batch must be at least 1"), false;
  if (!plan_shapes(x->p, (PlanShape){in.c, in.h, in.w}, x->shapes, err, n)) return false;
  x->batch = in.n;
  x->output = NULL;
  if (!layout_arena(x, err, n)) return false;
  for (int i = 0; i < x->p->nnodes; i++) {
    const PlanNode *nd = &x->p->nodes[i];
    float *y = x->buf[i];
    if (!in_place_ok(x, nd))
      return snprintf(err, n, "the buffer plan does not hold at this input size (node %d); recompile the plan for it", i), false;
    double t0 = x->times ? now_s() : 0;
    if (nd->kind == PLAN_OP_INPUT) memcpy(y, input, tshape_numel(shape_of(x, i)) * sizeof *y);
    else if (!run_node(x, nd, y))
      return snprintf(err, n, "op %s (node %d) cannot run in inference mode", plan_op_name(nd->kind), i), false;
    if (x->times) x->times[i] += now_s() - t0;
  }
  x->output = x->buf[x->p->output];
  x->out_shape = shape_of(x, x->p->output);
  return true;
}

const float *executor_output(const Executor *x, TShape *shape) {
  if (shape) *shape = x->out_shape;
  return x->output;
}

size_t executor_peak_bytes(const Executor *x) { return x->arena_bytes; }

void executor_free(Executor *x) {
  if (!x) return;
  free(x->buf);
  free(x->arena);
  free(x->slot);
  free(x->slot_off);
  free(x->param);
  free(x->uses);
  free(x->shapes);
  for (int i = 0; x->folded_w && i < x->p->nnodes; i++) free(x->folded_w[i]), free(x->folded_b[i]);
  free(x->folded_w);
  free(x->folded_b);
  free(x->bn_folded);
  free(x->act_fused);
  free(x->conv_act);
  free(x);
}
