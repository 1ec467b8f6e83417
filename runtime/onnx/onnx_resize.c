/* onnx_resize.c - the ops whose ONNX form depends on the shapes at the export size. bilinear and
   nearest become Resize with explicit output `sizes` ([N, C, H, W]: the batch read from the input with
   Shape + Slice, so it stays symbolic, then C, H, W as constants) and the coordinate transformation
   that reproduces sqnrun's kernels (cpu_resize.c, which follow PyTorch): bilinear with align_corners ->
   "align_corners" (src = dst * (in - 1) / (out - 1)), bilinear otherwise -> "half_pixel" (src = (dst +
   0.5) * in / out - 0.5, clamped at 0, which linear interpolation's edge handling gives), nearest ->
   "asymmetric" with nearest_mode "floor" (src = floor(dst * in / out), PyTorch's legacy nearest). crop
   becomes Slice on H and W; zero becomes ConstantOfShape (float 0) of its output shape. */
#include <stdio.h>
#include "onnx_lower.h"

/* The 1-D int64 tensor [N], the graph input's batch: Slice(Shape(input), [0], [1]), made once. */
static const char *batch(Lower *L) {
  if (L->batch) return L->batch;
  OxGraph *g = L->g;
  const char *start = ox_const_i64(g, "sqn.batch.start", (int64_t[]){0}, 1);
  const char *end = ox_const_i64(g, "sqn.batch.end", (int64_t[]){1}, 1);
  OxNode *s = ox_node(g, "Shape", "sqn.input_shape", "sqn.input_shape");
  ox_in(s, "input");
  OxNode *b = ox_node(g, "Slice", "sqn.batch", "sqn.batch");
  ox_in(b, "sqn.input_shape");
  ox_in(b, start);
  ox_in(b, end);
  return L->batch = "sqn.batch";
}

/* The 1-D int64 tensor [N, C, H, W] of node nd's output at the export size. */
static const char *output_dims(Lower *L, const PlanNode *nd) {
  Shape s = L->sh[nd->id];
  const char *n = batch(L), *base = L->name[nd->id];
  const char *chw = ox_const_i64(L->g, ox_fmt(L->g, "%s/chw", base), (int64_t[]){s.c, s.h, s.w}, 3);
  const char *out = ox_fmt(L->g, "%s/sizes", base);
  OxNode *c = ox_node(L->g, "Concat", out, out);
  ox_in(c, n);
  ox_in(c, chw);
  ox_attr_int(c, "axis", 0);
  return out;
}

bool lower_resize(Lower *L, const PlanNode *nd, char *err, size_t n) {
  (void)err, (void)n;
  const char *sizes = output_dims(L, nd);
  OxNode *o = lower_emit(L, nd, "Resize");
  ox_in(o, L->val[nd->inputs[0]]);
  ox_in(o, ""); /* roi: only for tf_crop_and_resize */
  ox_in(o, ""); /* scales: sizes are given instead */
  ox_in(o, sizes);
  if (nd->kind == OP_BILINEAR) {
    ox_attr_str(o, "mode", "linear");
    ox_attr_str(o, "coordinate_transformation_mode", nd->align_corners ? "align_corners" : "half_pixel");
  } else {
    ox_attr_str(o, "mode", "nearest");
    ox_attr_str(o, "coordinate_transformation_mode", "asymmetric");
    ox_attr_str(o, "nearest_mode", "floor");
  }
  return true;
}

bool lower_crop(Lower *L, const PlanNode *nd, char *err, size_t n) {
  (void)err, (void)n;
  Shape x = L->sh[nd->inputs[0]];
  const char *base = L->name[nd->id];
  const char *starts = ox_const_i64(L->g, ox_fmt(L->g, "%s/starts", base), (int64_t[]){nd->crop[0], nd->crop[2]}, 2);
  const char *ends = ox_const_i64(L->g, ox_fmt(L->g, "%s/ends", base),
                                  (int64_t[]){x.h - nd->crop[1], x.w - nd->crop[3]}, 2);
  const char *axes = ox_const_i64(L->g, ox_fmt(L->g, "%s/axes", base), (int64_t[]){2, 3}, 2);
  OxNode *o = lower_emit(L, nd, "Slice");
  ox_in(o, L->val[nd->inputs[0]]);
  ox_in(o, starts);
  ox_in(o, ends);
  ox_in(o, axes);
  return true;
}

bool lower_zero(Lower *L, const PlanNode *nd, char *err, size_t n) {
  (void)err, (void)n;
  const char *dims = output_dims(L, nd);
  OxNode *o = lower_emit(L, nd, "ConstantOfShape"); /* value: float 0, the operator's default */
  ox_in(o, dims);
  return true;
}
