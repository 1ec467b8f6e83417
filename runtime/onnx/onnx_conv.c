/* onnx_conv.c - convolutions and batch norms. A conv becomes Conv (kernel, stride, symmetric padding,
   dilation, groups; weight and optional bias as initializers named as the plan's parameters). Where the
   CPU backend folds a BN into the conv before it (backend_fold.c; never with --keep-bn), the Conv gets
   the folded weight (under the conv weight's name) and bias (under the conv bias's name, or the BN
   bias's when the conv has none), and the BN adds no node: its value is the Conv's output. Any other BN
   becomes BatchNormalization with sqnrun's epsilon (1e-5) and its four parameters. */
#include <stdio.h>
#include <string.h>
#include "onnx_lower.h"

static const float BN_EPSILON = 1e-5f; /* as the CPU backend (backend_cpu.c, backend_fold.c) */

/* The BN folded into conv c (its single consumer), -1 if none. */
static int folded_bn(const Lower *L, const PlanNode *c) {
  for (int i = c->id + 1; i < L->p->nnodes; i++) {
    const PlanNode *b = &L->p->nodes[i];
    if (b->kind == OP_BN && b->inputs[0] == c->id && L->fold.bn_folded[i]) return i;
  }
  return -1;
}

/* An initializer named and shaped as plan parameter q, holding data (numel of q's floats). */
static const char *param_tensor(Lower *L, int q, const float *data) {
  const PlanParam *pp = &L->p->params[q];
  int64_t dims[SQN_PLAN_MAX_DIMS];
  for (int d = 0; d < pp->ndim; d++) dims[d] = pp->dims[d];
  return ox_init_tensor(L->g, pp->name, OX_FLOAT, pp->ndim, dims, data);
}

/* The folded values live in the fold, which is freed before the file is written: copy them. */
static const float *keep(OxGraph *g, const float *v, size_t numel) {
  float *c = ox_alloc(g, numel * sizeof *c);
  if (c) memcpy(c, v, numel * sizeof *c);
  return c;
}

static bool missing(const Lower *L, const PlanNode *nd, const char *what, char *err, size_t n) {
  char where[512];
  lower_where(L, nd, where, sizeof where);
  snprintf(err, n, "%s has no %s parameter in the plan", where, what);
  return false;
}

static void conv_attrs(OxNode *o, const PlanNode *nd) {
  ox_attr_ints(o, "kernel_shape", (int64_t[]){nd->kh, nd->kw}, 2);
  ox_attr_ints(o, "strides", (int64_t[]){nd->sh, nd->sw}, 2);
  ox_attr_ints(o, "pads", (int64_t[]){nd->ph, nd->pw, nd->ph, nd->pw}, 4);
  ox_attr_ints(o, "dilations", (int64_t[]){nd->dh, nd->dw}, 2);
  ox_attr_int(o, "group", nd->groups);
}

bool lower_conv(Lower *L, const PlanNode *nd, char *err, size_t n) {
  const Plan *p = L->p;
  int wq = lower_param(p, nd, PLAN_PARAM_CONV_WEIGHT), bq = nd->bias ? lower_param(p, nd, PLAN_PARAM_CONV_BIAS) : -1;
  if (wq < 0) return missing(L, nd, "weight", err, n);
  if (nd->bias && bq < 0) return missing(L, nd, "bias", err, n);
  int bn = folded_bn(L, nd);
  OxNode *o = lower_emit(L, nd, "Conv");
  ox_in(o, L->val[nd->inputs[0]]);
  if (bn < 0) {
    ox_in(o, param_tensor(L, wq, L->param[wq]));
    if (bq >= 0) ox_in(o, param_tensor(L, bq, L->param[bq]));
  } else {
    int nq = bq >= 0 ? bq : lower_param(p, &p->nodes[bn], PLAN_PARAM_BN_BIAS);
    if (nq < 0) return missing(L, &p->nodes[bn], "bias", err, n);
    ox_in(o, param_tensor(L, wq, keep(L->g, L->fold.folded_w[nd->id], (size_t)p->params[wq].numel)));
    int64_t cout = nd->out.c;
    ox_in(o, ox_init_tensor(L->g, p->params[nq].name, OX_FLOAT, 1, &cout,
                            keep(L->g, L->fold.folded_b[nd->id], (size_t)cout)));
  }
  conv_attrs(o, nd);
  return true;
}

bool lower_bn(Lower *L, const PlanNode *nd, char *err, size_t n) {
  int in = nd->inputs[0];
  if (L->fold.bn_folded[nd->id]) { /* the conv before it applies it */
    L->val[nd->id] = L->val[in], L->producer[nd->id] = L->producer[in];
    return true;
  }
  static const PlanParamRole roles[4] = {PLAN_PARAM_BN_WEIGHT, PLAN_PARAM_BN_BIAS, PLAN_PARAM_BN_MEAN, PLAN_PARAM_BN_VAR};
  static const char *const what[4] = {"weight", "bias", "running mean", "running variance"};
  int q[4];
  for (int k = 0; k < 4; k++)
    if ((q[k] = lower_param(L->p, nd, roles[k])) < 0) return missing(L, nd, what[k], err, n);
  OxNode *o = lower_emit(L, nd, "BatchNormalization");
  ox_in(o, L->val[in]);
  for (int k = 0; k < 4; k++) ox_in(o, param_tensor(L, q[k], L->param[q[k]]));
  ox_attr_float(o, "epsilon", BN_EPSILON);
  return true;
}
