/* onnx_spatial.c - maxpool -> MaxPool (pads, strides, dilations; ceil_mode 0), gmp -> GlobalMaxPool, pad ->
   Pad (mode constant, the value as constant_value), softmax -> Softmax(axis=1) (opset >= 13: over channels
   alone), slice -> Slice on axis 1, channel_shuffle -> Reshape [N, g, C/g, H, W] (0 keeps the batch),
   Transpose (0, 2, 1, 3, 4), Reshape [N, C, H, W]. */
#include "onnx_lower.h"

static void maxpool(Lower *L, const PlanNode *nd) {
  OxNode *o = lower_emit(L, nd, "MaxPool");
  ox_in(o, L->val[nd->inputs[0]]);
  ox_attr_ints(o, "kernel_shape", (int64_t[]){nd->kh, nd->kw}, 2);
  ox_attr_ints(o, "strides", (int64_t[]){nd->sh, nd->sw}, 2);
  ox_attr_ints(o, "pads", (int64_t[]){nd->ph, nd->pw, nd->ph, nd->pw}, 4);
  ox_attr_ints(o, "dilations", (int64_t[]){nd->dh, nd->dw}, 2);
}

static void pad(Lower *L, const PlanNode *nd) {
  const char *base = L->name[nd->id];
  const int *m = nd->crop; /* top, bottom, left, right */
  const char *pads = ox_const_i64(L->g, ox_fmt(L->g, "%s/pads", base), (int64_t[]){0, 0, m[0], m[2], 0, 0, m[1], m[3]}, 8);
  const char *value = ox_const_f32(L->g, ox_fmt(L->g, "%s/value", base), (float)nd->pad_value);
  OxNode *o = lower_emit(L, nd, "Pad");
  ox_in(o, L->val[nd->inputs[0]]);
  ox_in(o, pads);
  ox_in(o, value);
}

static void slice(Lower *L, const PlanNode *nd) {
  const char *base = L->name[nd->id];
  const char *starts = ox_const_i64(L->g, ox_fmt(L->g, "%s/starts", base), (int64_t[]){nd->slice[0]}, 1);
  const char *ends = ox_const_i64(L->g, ox_fmt(L->g, "%s/ends", base), (int64_t[]){nd->slice[1]}, 1);
  const char *axes = ox_const_i64(L->g, ox_fmt(L->g, "%s/axes", base), (int64_t[]){1}, 1);
  OxNode *o = lower_emit(L, nd, "Slice");
  ox_in(o, L->val[nd->inputs[0]]);
  ox_in(o, starts);
  ox_in(o, ends);
  ox_in(o, axes);
}

static void channel_shuffle(Lower *L, const PlanNode *nd) {
  const char *base = L->name[nd->id];
  Shape x = L->sh[nd->inputs[0]];
  int64_t g = nd->groups;
  const char *split = ox_const_i64(L->g, ox_fmt(L->g, "%s/split_shape", base), (int64_t[]){0, g, x.c / g, x.h, x.w}, 5);
  const char *flat = ox_const_i64(L->g, ox_fmt(L->g, "%s/flat_shape", base), (int64_t[]){0, x.c, x.h, x.w}, 4);
  const char *grouped = ox_fmt(L->g, "%s/grouped", base), *swapped = ox_fmt(L->g, "%s/transposed", base);
  OxNode *r = ox_node(L->g, "Reshape", grouped, grouped);
  ox_in(r, L->val[nd->inputs[0]]);
  ox_in(r, split);
  OxNode *t = ox_node(L->g, "Transpose", swapped, swapped);
  ox_in(t, grouped);
  ox_attr_ints(t, "perm", (int64_t[]){0, 2, 1, 3, 4}, 5);
  OxNode *o = lower_emit(L, nd, "Reshape");
  ox_in(o, swapped);
  ox_in(o, flat);
}

bool lower_spatial(Lower *L, const PlanNode *nd, char *err, size_t n) {
  (void)err, (void)n;
  switch (nd->kind) {
  case OP_MAXPOOL: maxpool(L, nd); break;
  case OP_GMP: ox_in(lower_emit(L, nd, "GlobalMaxPool"), L->val[nd->inputs[0]]); break;
  case OP_PAD: pad(L, nd); break;
  case OP_SOFTMAX: {
    OxNode *o = lower_emit(L, nd, "Softmax");
    ox_in(o, L->val[nd->inputs[0]]);
    ox_attr_int(o, "axis", 1);
    break;
  }
  case OP_SLICE: slice(L, nd); break;
  default: channel_shuffle(L, nd); break;
  }
  return true;
}
