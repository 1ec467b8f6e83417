/* onnx_eltwise.c - the elementwise ops of plan version 3 as ONNX operators: silu -> x * Sigmoid(x)
   (ONNX has no SiLU before opset 22, and OpenCV reads this pair), hsigmoid -> HardSigmoid(1/6, 1/2)
   (= relu6(x + 3) / 6), tanh -> Tanh, leaky_relu -> LeakyRelu(slope), sub -> Sub (broadcast as Add),
   affine -> Mul by the scalar a then Add the scalar b (either left out where it changes nothing). */
#include "onnx_lower.h"

/* An intermediate value of node nd: "NAME/what". */
static const char *part(Lower *L, const PlanNode *nd, const char *what) {
  return ox_fmt(L->g, "%s/%s", L->name[nd->id], what);
}

static void silu(Lower *L, const PlanNode *nd) {
  const char *x = L->val[nd->inputs[0]], *s = part(L, nd, "sigmoid");
  ox_in(ox_node(L->g, "Sigmoid", s, s), x);
  OxNode *o = lower_emit(L, nd, "Mul");
  ox_in(o, x);
  ox_in(o, s);
}

static void affine(Lower *L, const PlanNode *nd) {
  const char *x = L->val[nd->inputs[0]];
  bool mul = nd->alpha != 1.0, add = nd->beta != 0.0;
  if (!mul && !add) {
    ox_in(lower_emit(L, nd, "Identity"), x);
    return;
  }
  if (mul) {
    const char *ax = part(L, nd, "mul");
    OxNode *m = add ? ox_node(L->g, "Mul", ax, ax) : lower_emit(L, nd, "Mul");
    ox_in(m, x);
    ox_in(m, ox_const_f32(L->g, part(L, nd, "a"), (float)nd->alpha));
    x = ax;
  }
  if (add) {
    OxNode *o = lower_emit(L, nd, "Add");
    ox_in(o, x);
    ox_in(o, ox_const_f32(L->g, part(L, nd, "b"), (float)nd->beta));
  }
}

bool lower_eltwise(Lower *L, const PlanNode *nd, char *err, size_t n) {
  (void)err, (void)n;
  OxNode *o;
  switch (nd->kind) {
  case OP_SILU: silu(L, nd); return true;
  case OP_AFFINE: affine(L, nd); return true;
  case OP_TANH: o = lower_emit(L, nd, "Tanh"); break;
  case OP_HSIGMOID:
    o = lower_emit(L, nd, "HardSigmoid");
    ox_attr_float(o, "alpha", 1.0f / 6.0f);
    ox_attr_float(o, "beta", 0.5f);
    break;
  case OP_LEAKY_RELU:
    o = lower_emit(L, nd, "LeakyRelu");
    ox_attr_float(o, "alpha", (float)nd->alpha);
    break;
  default: /* sub */
    o = lower_emit(L, nd, "Sub");
    ox_in(o, L->val[nd->inputs[0]]);
    ox_in(o, L->val[nd->inputs[1]]);
    return true;
  }
  ox_in(o, L->val[nd->inputs[0]]);
  return true;
}
