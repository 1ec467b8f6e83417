/* backend_cpu.c - the CPU backend: every op of an inference program through the kernels of
   cpu_ops.h. At prepare time BN is folded into the preceding conv and relu/relu6 become conv
   epilogues wherever the plan's fused kernels group them (KERNEL_CONV, KERNEL_INVERTED_RESIDUAL). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend.h"
#include "cpu_ops.h"
#include "shapes.h"
#include "backend_cpu_train.h"

typedef struct CpuState {
  const Plan *p;
  const float *const *param;
  const int *uses;
  float **folded_w, **folded_b; /* per conv node with a folded BN: scaled weights and bias (owned) */
  bool *bn_folded;              /* per BN node: folded into its input conv, so it is the identity */
  bool *act_fused;              /* per relu/relu6 node: applied by its conv's epilogue */
  int *conv_act;                /* per conv node: CONV_ACT_* epilogue */
} CpuState;

/* conv -> BN inside one fused kernel that folds BN: y = conv(x, w * s) + (b - mean) * s + beta,
   s = gamma / sqrt(var + eps), the same arithmetic as BN applied to the conv's output. */
static void fold_one(CpuState *x, const PlanNode *conv, const PlanNode *bn) {
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

static void fold_batchnorms(CpuState *x) {
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
static void fuse_activations(CpuState *x) {
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

static TShape shape_of(const BackendRun *r, int node) {
  PlanShape s = r->shapes[node];
  return (TShape){r->batch, s.c, s.h, s.w};
}

static const float *in_buf(const BackendRun *r, const PlanNode *nd, int k) { return r->buf[nd->inputs[k]]; }
static TShape in_shape(const BackendRun *r, const PlanNode *nd, int k) { return shape_of(r, nd->inputs[k]); }
static const float *prm(const BackendRun *r, const PlanNode *nd, int k) { return r->param[nd->param[k]]; }

static void run_conv(const CpuState *x, const BackendRun *r, const PlanNode *nd, float *y) {
  ConvParams cp = {nd->kh, nd->kw, nd->sh, nd->sw, nd->ph, nd->pw, nd->dh, nd->dw, nd->groups, x->conv_act[nd->id]};
  const float *w = x->folded_w[nd->id] ? x->folded_w[nd->id] : prm(r, nd, 0);
  const float *b = x->folded_b[nd->id] ? x->folded_b[nd->id] : nd->bias ? prm(r, nd, 1) : NULL;
  cpu_conv2d(in_buf(r, nd, 0), in_shape(r, nd, 0), w, b, &cp, y, shape_of(r, nd->id));
}

static void run_concat(const BackendRun *r, const PlanNode *nd, float *y) {
  const float *xs[SQN_PLAN_MAX_INPUTS];
  TShape ss[SQN_PLAN_MAX_INPUTS];
  for (int k = 0; k < nd->ninputs; k++) xs[k] = in_buf(r, nd, k), ss[k] = in_shape(r, nd, k);
  cpu_concat(xs, ss, nd->ninputs, y, shape_of(r, nd->id));
}

/* The ops that compute the same in inference and training (everything but conv, BN, mix and the
   activations a conv may have absorbed); false for any other op. */
bool backend_cpu_forward_op(const BackendRun *r, int i) {
  const PlanNode *nd = &r->p->nodes[i];
  float *y = r->buf[i];
  TShape ys = shape_of(r, nd->id), s0 = nd->ninputs ? in_shape(r, nd, 0) : ys;
  const float *a = nd->ninputs ? in_buf(r, nd, 0) : NULL;
  size_t numel = tshape_numel(ys);
  switch (nd->kind) {
  case PLAN_OP_BN: /* inference: running statistics */
    cpu_batchnorm_infer(a, s0, prm(r, nd, 0), prm(r, nd, 1), prm(r, nd, 2), prm(r, nd, 3), 1e-5f, y); break;
  case PLAN_OP_RELU: cpu_relu(a, numel, y); break;
  case PLAN_OP_RELU6: cpu_relu6(a, numel, y); break;
  case PLAN_OP_SIGMOID: cpu_sigmoid(a, numel, y); break;
  case PLAN_OP_HSWISH: cpu_hswish(a, numel, y); break;
  case PLAN_OP_ADD: cpu_add(a, s0, in_buf(r, nd, 1), in_shape(r, nd, 1), y, ys); break;
  case PLAN_OP_MUL: cpu_mul(a, s0, in_buf(r, nd, 1), in_shape(r, nd, 1), y, ys); break;
  case PLAN_OP_CONCAT: run_concat(r, nd, y); break;
  case PLAN_OP_AVGPOOL: {
    int kh, kw;
    plan_pool_window(nd, r->shapes[nd->inputs[0]], &kh, &kw);
    cpu_avgpool(a, s0, kh, kw, nd->sh, nd->sw, nd->ph, nd->pw, nd->count_include_pad, y, ys);
    break;
  }
  case PLAN_OP_GAP: cpu_global_avgpool(a, s0, y); break;
  case PLAN_OP_BILINEAR: cpu_bilinear(a, s0, y, ys, nd->align_corners); break;
  case PLAN_OP_NEAREST: cpu_nearest(a, s0, y, ys); break;
  case PLAN_OP_CROP: cpu_crop(a, s0, nd->crop[0], nd->crop[2], y, ys); break;
  case PLAN_OP_INPUT: break; /* the executor copies the input in */
  case PLAN_OP_ZERO: memset(y, 0, numel * sizeof *y); break;
  case PLAN_OP_OUTPUT: if (y != a) memcpy(y, a, numel * sizeof *y); break;
  default: return false;
  }
  return true;
}

/* Computes node i into its buffer; false for ops the CPU backend cannot run in inference mode. */
static bool cpu_run_node(void *state, const BackendRun *r, int i) {
  const CpuState *x = state;
  const PlanNode *nd = &r->p->nodes[i];
  float *y = r->buf[i];
  const float *a = nd->ninputs ? in_buf(r, nd, 0) : NULL;
  size_t numel = tshape_numel(shape_of(r, i));
  switch (nd->kind) {
  case PLAN_OP_CONV: run_conv(x, r, nd, y); return true;
  case PLAN_OP_BN:
    if (!x->bn_folded[i]) break;
    if (y != a) memcpy(y, a, numel * sizeof *y); /* the identity: the conv already applied it */
    return true;
  case PLAN_OP_RELU: case PLAN_OP_RELU6:
    if (!x->act_fused[i]) break;
    if (y != a) memcpy(y, a, numel * sizeof *y); /* the conv's epilogue applied it */
    return true;
  default: break;
  }
  return backend_cpu_forward_op(r, i);
}


static void cpu_release(void *state) {
  CpuState *x = state;
  if (!x) return;
  for (int i = 0; x->folded_w && i < x->p->nnodes; i++) free(x->folded_w[i]), free(x->folded_b[i]);
  free(x->folded_w);
  free(x->folded_b);
  free(x->bn_folded);
  free(x->act_fused);
  free(x->conv_act);
  free(x);
}

static void *cpu_prepare(const Plan *p, const float *const *param, const int *uses, char *err, size_t n) {
  (void)err, (void)n;
  CpuState *x = calloc(1, sizeof *x);
  size_t nn = (size_t)p->nnodes;
  x->p = p, x->param = param, x->uses = uses;
  x->folded_w = calloc(nn, sizeof *x->folded_w);
  x->folded_b = calloc(nn, sizeof *x->folded_b);
  x->bn_folded = calloc(nn, sizeof *x->bn_folded);
  x->act_fused = calloc(nn, sizeof *x->act_fused);
  x->conv_act = calloc(nn, sizeof *x->conv_act);
  fold_batchnorms(x);
  fuse_activations(x);
  return x;
}

const Backend backend_cpu = {"cpu", cpu_prepare, cpu_run_node, cpu_release, cpu_train_node, cpu_backward_step};

const Backend *backend_get(const char *name, char *err, size_t n) {
  if (!name || !strcmp(name, "cpu")) return &backend_cpu;
  if (!strcmp(name, "cuda"))
    snprintf(err, n, "this build has no CUDA backend (it arrives with the CUDA issue); use --backend cpu");
  else
    snprintf(err, n, "unknown backend '%s' (this build has: cpu)", name);
  return NULL;
}
