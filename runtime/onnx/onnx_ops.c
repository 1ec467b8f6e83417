/* onnx_ops.c - the ops that map one-to-one (or nearly) onto ONNX operators: relu -> Relu, relu6 ->
   Clip(0, 6), sigmoid -> Sigmoid, hswish -> HardSwish (opset >= 14) or x * HardSigmoid(x; 1/6, 1/2)
   before, add/mul -> Add/Mul (sqn's broadcasting of 1-sized dimensions is ONNX's multidirectional
   broadcasting on these 4-D tensors), concat -> Concat on channels, avgpool -> AveragePool (the window
   at the export size, so `fit` windows are exact; count_include_pad kept), gap -> GlobalAveragePool,
   and a fixed network's mixing of its single candidate -> Identity. */
#include <stdio.h>
#include "onnx_lower.h"
#include "shapes.h"

static void unary(Lower *L, const PlanNode *nd, const char *op) {
  OxNode *o = lower_emit(L, nd, op);
  ox_in(o, L->val[nd->inputs[0]]);
}

static void relu6(Lower *L, const PlanNode *nd) {
  if (!L->clip_lo) L->clip_lo = ox_const_f32(L->g, "sqn.relu6.min", 0.0f);
  if (!L->clip_hi) L->clip_hi = ox_const_f32(L->g, "sqn.relu6.max", 6.0f);
  OxNode *o = lower_emit(L, nd, "Clip");
  ox_in(o, L->val[nd->inputs[0]]);
  ox_in(o, L->clip_lo);
  ox_in(o, L->clip_hi);
}

/* Before opset 14: x * HardSigmoid(x) with alpha 1/6, beta 1/2, which is x * relu6(x + 3) / 6. */
static void hswish(Lower *L, const PlanNode *nd) {
  const char *x = L->val[nd->inputs[0]];
  if (L->o->opset >= 14) {
    unary(L, nd, "HardSwish");
    return;
  }
  const char *gate = ox_fmt(L->g, "%s/hardsigmoid", L->name[nd->id]);
  OxNode *h = ox_node(L->g, "HardSigmoid", gate, gate);
  ox_in(h, x);
  ox_attr_float(h, "alpha", 1.0f / 6.0f);
  ox_attr_float(h, "beta", 0.5f);
  OxNode *o = lower_emit(L, nd, "Mul");
  ox_in(o, x);
  ox_in(o, gate);
}

bool lower_activation(Lower *L, const PlanNode *nd, char *err, size_t n) {
  (void)err, (void)n;
  switch (nd->kind) {
  case OP_RELU: unary(L, nd, "Relu"); break;
  case OP_RELU6: relu6(L, nd); break;
  case OP_SIGMOID: unary(L, nd, "Sigmoid"); break;
  default: hswish(L, nd); break;
  }
  return true;
}

bool lower_binary(Lower *L, const PlanNode *nd, char *err, size_t n) {
  (void)err, (void)n;
  OxNode *o = lower_emit(L, nd, nd->kind == OP_ADD ? "Add" : "Mul");
  ox_in(o, L->val[nd->inputs[0]]);
  ox_in(o, L->val[nd->inputs[1]]);
  return true;
}

bool lower_concat(Lower *L, const PlanNode *nd, char *err, size_t n) {
  (void)err, (void)n;
  OxNode *o = lower_emit(L, nd, "Concat");
  for (int k = 0; k < nd->ninputs; k++) ox_in(o, L->val[nd->inputs[k]]);
  ox_attr_int(o, "axis", 1);
  return true;
}

bool lower_pool(Lower *L, const PlanNode *nd, char *err, size_t n) {
  (void)err, (void)n;
  if (nd->kind == OP_GAP) return unary(L, nd, "GlobalAveragePool"), true;
  int kh, kw;
  plan_pool_window(nd, L->sh[nd->inputs[0]], &kh, &kw);
  OxNode *o = lower_emit(L, nd, "AveragePool");
  ox_in(o, L->val[nd->inputs[0]]);
  ox_attr_ints(o, "kernel_shape", (int64_t[]){kh, kw}, 2);
  ox_attr_ints(o, "strides", (int64_t[]){nd->sh, nd->sw}, 2);
  ox_attr_ints(o, "pads", (int64_t[]){nd->ph, nd->pw, nd->ph, nd->pw}, 4);
  ox_attr_int(o, "count_include_pad", nd->count_include_pad);
  return true;
}

bool lower_mix(Lower *L, const PlanNode *nd, char *err, size_t n) {
  if (nd->ninputs == 1) return unary(L, nd, "Identity"), true;
  char where[512];
  lower_where(L, nd, where, sizeof where);
  snprintf(err, n, "the ONNX exporter does not support op 'mix' of %d candidates (%s): a fixed network mixes "
           "one candidate; derive a network from the search first", nd->ninputs, where);
  return false;
}
