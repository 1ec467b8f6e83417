/* onnx_graph.c - plan -> ONNX nodes: gives every plan op a unique ONNX name (its own, suffixed with
   ":ID" only where two ops share a name or one clashes with a parameter or the graph's "input" and
   "logits"), decides the BN folding (the CPU backend's, backend_fold.c, so the export computes what
   sqnrun computes), walks the nodes in their (topological) order dispatching each op to its lowering,
   and names the network's output "logits". An op without a lowering is an error naming the node and
   the .sqn line it came from. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "onnx_lower.h"

int lower_param(const Plan *p, const PlanNode *nd, PlanParamRole role) {
  for (int k = 0; k < nd->nparams; k++)
    if (p->params[nd->param[k]].role == role) return nd->param[k];
  return -1;
}

void lower_where(const Lower *L, const PlanNode *nd, char *buf, size_t n) {
  const char *name = nd->name ? nd->name : L->name[nd->id];
  if (nd->loc.file && nd->loc.line > 0)
    snprintf(buf, n, "node %d '%s' (%s:%d:%d)", nd->id, name, nd->loc.file, nd->loc.line, nd->loc.col);
  else snprintf(buf, n, "node %d '%s' (no source location in the plan)", nd->id, name);
}

OxNode *lower_emit(Lower *L, const PlanNode *nd, const char *op) {
  L->val[nd->id] = L->name[nd->id];
  L->producer[nd->id] = L->g->nnodes;
  return ox_node(L->g, op, L->name[nd->id], L->val[nd->id]);
}

/* True when some other node or a parameter already uses `base`, or it is a graph input/output name. */
static bool name_taken(const Plan *p, int self, const char *base) {
  if (!strcmp(base, "input") || !strcmp(base, "logits")) return true;
  for (int i = 0; i < p->nnodes; i++)
    if (i != self && p->nodes[i].kind != OP_INPUT && p->nodes[i].name && !strcmp(p->nodes[i].name, base)) return true;
  for (int i = 0; i < p->nparams; i++)
    if (!strcmp(p->params[i].name, base)) return true;
  return false;
}

static void name_nodes(Lower *L) {
  for (int i = 0; i < L->p->nnodes; i++) {
    const PlanNode *nd = &L->p->nodes[i];
    const char *base = nd->name ? nd->name : op_name(nd->kind);
    L->name[i] = nd->name && !name_taken(L->p, i, base) ? base : ox_fmt(L->g, "%s:%d", base, i);
  }
}

/* The output op: the value it reads becomes "logits" (renaming its producer's output when no other
   node reads that tensor), else an Identity node. */
static bool lower_output(Lower *L, const PlanNode *nd) {
  int in = nd->inputs[0], pr = L->producer[in];
  bool shared = pr < 0;
  for (int i = 0; i < L->g->nnodes && !shared; i++)
    for (int k = 0; k < L->g->nodes[i].nin; k++) shared |= !strcmp(L->g->nodes[i].in[k], L->val[in]);
  if (!shared) {
    L->g->nodes[pr].out = "logits";
    L->val[nd->id] = "logits", L->producer[nd->id] = pr;
    return true;
  }
  OxNode *o = ox_node(L->g, "Identity", L->name[nd->id], "logits");
  ox_in(o, L->val[in]);
  L->val[nd->id] = "logits", L->producer[nd->id] = L->g->nnodes - 1;
  return true;
}

static bool unsupported(const Lower *L, const PlanNode *nd, char *err, size_t n) {
  char where[512];
  lower_where(L, nd, where, sizeof where);
  snprintf(err, n, "the ONNX exporter does not support op '%s' (%s)", op_name(nd->kind), where);
  return false;
}

static bool lower_node(Lower *L, const PlanNode *nd, char *err, size_t n) {
  switch (nd->kind) {
  case OP_INPUT:
    L->val[nd->id] = "input", L->producer[nd->id] = -1;
    return true;
  case OP_CONV: return lower_conv(L, nd, err, n);
  case OP_BN: return lower_bn(L, nd, err, n);
  case OP_RELU: case OP_RELU6: case OP_SIGMOID: case OP_HSWISH: return lower_activation(L, nd, err, n);
  case OP_ADD: case OP_MUL: return lower_binary(L, nd, err, n);
  case OP_SILU: case OP_HSIGMOID: case OP_TANH: case OP_LEAKY_RELU: case OP_SUB: case OP_AFFINE:
    return lower_eltwise(L, nd, err, n);
  case OP_CONCAT: return lower_concat(L, nd, err, n);
  case OP_AVGPOOL: case OP_GAP: return lower_pool(L, nd, err, n);
  case OP_BILINEAR: case OP_NEAREST: return lower_resize(L, nd, err, n);
  case OP_CROP: return lower_crop(L, nd, err, n);
  case OP_ZERO: return lower_zero(L, nd, err, n);
  case OP_MAXPOOL: case OP_GMP: case OP_PAD: case OP_SOFTMAX: case OP_SLICE: case OP_CHANNEL_SHUFFLE:
    return lower_spatial(L, nd, err, n);
  case OP_MIX: return lower_mix(L, nd, err, n);
  case OP_OUTPUT: return lower_output(L, nd);
  default: return unsupported(L, nd, err, n);
  }
}

static bool setup(Lower *L) {
  const Plan *p = L->p;
  size_t nn = (size_t)p->nnodes;
  L->uses = calloc(nn, sizeof *L->uses);
  L->name = calloc(nn, sizeof *L->name);
  L->val = calloc(nn, sizeof *L->val);
  L->producer = calloc(nn, sizeof *L->producer);
  if (!L->uses || !L->name || !L->val || !L->producer) return false;
  for (int i = 0; i < p->nnodes; i++)
    for (int k = 0; k < p->nodes[i].ninputs; k++) L->uses[p->nodes[i].inputs[k]]++;
  name_nodes(L);
  return L->o->keep_bn ? backend_fold_none(&L->fold, p) : backend_fold(&L->fold, p, L->param, L->uses);
}

static void teardown(Lower *L) {
  backend_fold_free(&L->fold, L->p); /* safe on a zeroed or partly allocated fold */
  free(L->uses);
  free(L->name);
  free(L->val);
  free(L->producer);
}

bool onnx_build_graph(OxGraph *g, const Plan *p, const Shape *sh, const float *const *param,
                      const OnnxExportOptions *o, char *err, size_t n) {
  Lower L = {.p = p, .sh = sh, .param = param, .o = o, .g = g};
  bool ok = setup(&L);
  if (!ok) snprintf(err, n, "out of memory");
  for (int i = 0; ok && i < p->nnodes; i++) ok = lower_node(&L, &p->nodes[i], err, n);
  if (ok && p->output < 0) ok = (snprintf(err, n, "network %s has no output", p->name), false);
  if (ok && g->oom) ok = (snprintf(err, n, "out of memory"), false);
  if (ok) {
    for (int i = 0; i < p->nnodes; i++)
      if (p->nodes[i].kind == OP_INPUT) g->input = sh[i];
    g->output = sh[p->output];
    g->dynamic_batch = true;
  }
  teardown(&L);
  return ok;
}
