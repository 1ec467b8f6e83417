/* kgen_resize.c - bodies of the resampling kernels: BILINEAR and its adjoint BILINEAR_BWD, NEAREST and
   NEAREST_BWD (the adjoints scatter with atomicrmw fadd: one work item per dy element), AVGPOOL and GAP.
   Source indices and weights are computed per work item to the bit as cpu_resize.c does (PyTorch 1.13's CPU
   upsample: a float scale, a double source index, the weight rounded to float), in float arithmetic only
   (FP64 is slow on most GPUs), so results match. */
#include "kgen_internal.h"

typedef struct Axis { LLVMValueRef i0, i1, l0, l1; } Axis; /* i32 indices, f32 weights */

static LLVMValueRef sitofp(Kg *kg, LLVMValueRef v, LLVMTypeRef t) { return LLVMBuildSIToFP(kg->b, v, t, ""); }

/* cpu_linear_weights for output index d (all i32), without doubles: the CPU's double source index
   src = scale*t - off (t = d or d + 0.5, off = 0 or 0.5; scale a float) is exact in double, so it is carried
   here exactly as hi + lo (lo = fma(scale, t, -hi), hi - 0.5 exact), floored exactly and its fraction
   rounded once to float: the same h0 and weights bit for bit while sizes stay below 2^22. */
static Axis linear_axis(Kg *kg, LLVMValueRef d, LLVMValueRef in, LLVMValueRef out, bool align) {
  LLVMBuilderRef b = kg->b;
  LLVMValueRef one = kg_i32c(kg, 1), zero = kg_f32c(kg, 0.0), scale, t = sitofp(kg, d, kg->f32);
  if (align) {
    LLVMValueRef q = LLVMBuildFDiv(b, sitofp(kg, LLVMBuildSub(b, in, one, ""), kg->f32),
                                   sitofp(kg, LLVMBuildSub(b, out, one, ""), kg->f32), "");
    scale = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntSGT, out, one, ""), q, zero, "");
  } else {
    scale = LLVMBuildFDiv(b, sitofp(kg, in, kg->f32), sitofp(kg, out, kg->f32), "");
    t = LLVMBuildFAdd(b, t, kg_f32c(kg, 0.5), "");
  }
  LLVMValueRef hi = LLVMBuildFMul(b, scale, t, ""), lo = kg_fma(kg, scale, t, LLVMBuildFNeg(b, hi, ""));
  if (!align) { /* src - 0.5, clamped at 0 */
    hi = LLVMBuildFSub(b, hi, kg_f32c(kg, 0.5), "");
    LLVMValueRef neg = LLVMBuildOr(b, LLVMBuildFCmp(b, LLVMRealOLT, hi, zero, ""),
                                   LLVMBuildAnd(b, LLVMBuildFCmp(b, LLVMRealOEQ, hi, zero, ""),
                                                LLVMBuildFCmp(b, LLVMRealOLT, lo, zero, ""), ""), "");
    hi = LLVMBuildSelect(b, neg, zero, hi, "");
    lo = LLVMBuildSelect(b, neg, zero, lo, "");
  }
  LLVMValueRef fl = kg_call_intr(kg, "llvm.floor", kg->f32, &hi, 1); /* floor(hi + lo) */
  LLVMValueRef down = LLVMBuildAnd(b, LLVMBuildFCmp(b, LLVMRealOEQ, fl, hi, ""),
                                   LLVMBuildFCmp(b, LLVMRealOLT, lo, zero, ""), "");
  fl = LLVMBuildSelect(b, down, LLVMBuildFSub(b, fl, kg_f32c(kg, 1.0), ""), fl, "");
  LLVMValueRef h0 = LLVMBuildFPToSI(b, fl, kg->i32, "");
  LLVMValueRef l1 = LLVMBuildFAdd(b, LLVMBuildFSub(b, hi, fl, ""), lo, "");
  LLVMValueRef step = LLVMBuildZExt(b, LLVMBuildICmp(b, LLVMIntSLT, h0, LLVMBuildSub(b, in, one, ""), ""), kg->i32, "");
  LLVMValueRef same = LLVMBuildICmp(b, LLVMIntEQ, out, in, ""); /* PyTorch copies */
  Axis ax;
  ax.i0 = LLVMBuildSelect(b, same, d, h0, "");
  ax.i1 = LLVMBuildSelect(b, same, d, LLVMBuildAdd(b, h0, step, ""), "");
  ax.l1 = LLVMBuildSelect(b, same, zero, l1, "");
  ax.l0 = LLVMBuildFSub(b, kg_f32c(kg, 1.0), ax.l1, "");
  return ax;
}

/* i -> (plane, oy, ox) for the resize families (NC, H, W, OH, OW at a[3..7]); the plane's input offset */
static void out_coords(Kg *kg, LLVMValueRef *xoff, LLVMValueRef *oy, LLVMValueRef *ox) {
  LLVMValueRef t, pl, y, x;
  kg_divrem(kg, kg->i, kg->a[7], &t, &x);
  kg_divrem(kg, t, kg->a[6], &pl, &y);
  *xoff = LLVMBuildMul(kg->b, pl, LLVMBuildMul(kg->b, kg->a[4], kg->a[5], ""), "");
  *oy = kg_trunc32(kg, y);
  *ox = kg_trunc32(kg, x);
}

static LLVMValueRef at(Kg *kg, LLVMValueRef plane, LLVMValueRef row, LLVMValueRef col) { /* plane + row*W + col */
  LLVMValueRef o = LLVMBuildAdd(kg->b, LLVMBuildMul(kg->b, row, kg_trunc32(kg, kg->a[5]), ""), col, "");
  return LLVMBuildAdd(kg->b, plane, kg_sext64(kg, o), "");
}

static void bilinear_axes(Kg *kg, const KernelSpec *k, LLVMValueRef *xoff, Axis *ay, Axis *ax) {
  LLVMValueRef oy, ox;
  out_coords(kg, xoff, &oy, &ox);
  *ay = linear_axis(kg, oy, kg_trunc32(kg, kg->a[4]), kg_trunc32(kg, kg->a[6]), k->flag);
  *ax = linear_axis(kg, ox, kg_trunc32(kg, kg->a[5]), kg_trunc32(kg, kg->a[7]), k->flag);
}

/* BILINEAR: y, x, NC, H, W, OH, OW: along w within the two rows, then along h (PyTorch's Interpolate<2>) */
void kg_body_bilinear(Kg *kg, const KernelSpec *k) {
  LLVMBuilderRef b = kg->b;
  LLVMValueRef xo, x = kg->a[2], r[2];
  Axis ay, ax;
  bilinear_axes(kg, k, &xo, &ay, &ax);
  LLVMValueRef rows[2] = {ay.i0, ay.i1};
  for (int j = 0; j < 2; j++) {
    LLVMValueRef p1 = LLVMBuildFMul(b, kg_load(kg, x, at(kg, xo, rows[j], ax.i1)), ax.l1, "");
    r[j] = kg_fma(kg, kg_load(kg, x, at(kg, xo, rows[j], ax.i0)), ax.l0, p1);
  }
  LLVMValueRef y = kg_fma(kg, r[0], ay.l0, LLVMBuildFMul(b, r[1], ay.l1, ""));
  kg_store(kg, kg->a[1], kg->i, y);
}

/* BILINEAR_BWD: dx, dy, NC, H, W, OH, OW: the transpose, four atomic adds per dy element */
void kg_body_bilinear_bwd(Kg *kg, const KernelSpec *k) {
  LLVMBuilderRef b = kg->b;
  LLVMValueRef xo, g = kg_load(kg, kg->a[2], kg->i);
  Axis ay, ax;
  bilinear_axes(kg, k, &xo, &ay, &ax);
  LLVMValueRef rows[2] = {ay.i0, ay.i1}, wy[2] = {ay.l0, ay.l1};
  for (int j = 0; j < 2; j++) {
    LLVMValueRef t = LLVMBuildFMul(b, g, wy[j], "");
    kg_atomic_add(kg, kg->a[1], at(kg, xo, rows[j], ax.i0), LLVMBuildFMul(b, t, ax.l0, ""));
    kg_atomic_add(kg, kg->a[1], at(kg, xo, rows[j], ax.i1), LLVMBuildFMul(b, t, ax.l1, ""));
  }
}

/* cpu_nearest_src: d for out == in, d >> 1 for out == 2 in, else min(floor(d * (float)in/out), in - 1) */
static LLVMValueRef nearest_src(Kg *kg, LLVMValueRef d, LLVMValueRef in, LLVMValueRef out) {
  LLVMBuilderRef b = kg->b;
  LLVMValueRef scale = LLVMBuildFDiv(b, sitofp(kg, in, kg->f32), sitofp(kg, out, kg->f32), "");
  LLVMValueRef f = LLVMBuildFMul(b, sitofp(kg, d, kg->f32), scale, "");
  LLVMValueRef s = LLVMBuildFPToSI(b, kg_call_intr(kg, "llvm.floor", kg->f32, &f, 1), kg->i32, "");
  s = kg_imin(kg, s, LLVMBuildSub(b, in, kg_i32c(kg, 1), ""));
  LLVMValueRef dbl = LLVMBuildICmp(b, LLVMIntEQ, out, LLVMBuildShl(b, in, kg_i32c(kg, 1), ""), "");
  s = LLVMBuildSelect(b, dbl, LLVMBuildAShr(b, d, kg_i32c(kg, 1), ""), s, "");
  return LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntEQ, out, in, ""), d, s, "");
}

/* the input element of output element i */
static LLVMValueRef nearest_index(Kg *kg) {
  LLVMValueRef xo, oy, ox;
  out_coords(kg, &xo, &oy, &ox);
  LLVMValueRef sy = nearest_src(kg, oy, kg_trunc32(kg, kg->a[4]), kg_trunc32(kg, kg->a[6]));
  LLVMValueRef sx = nearest_src(kg, ox, kg_trunc32(kg, kg->a[5]), kg_trunc32(kg, kg->a[7]));
  return at(kg, xo, sy, sx);
}

void kg_body_nearest(Kg *kg, const KernelSpec *k) {
  (void)k;
  kg_store(kg, kg->a[1], kg->i, kg_load(kg, kg->a[2], nearest_index(kg)));
}

void kg_body_nearest_bwd(Kg *kg, const KernelSpec *k) {
  (void)k;
  kg_atomic_add(kg, kg->a[1], nearest_index(kg), kg_load(kg, kg->a[2], kg->i));
}
