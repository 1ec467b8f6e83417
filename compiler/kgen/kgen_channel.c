/* kgen_channel.c - bodies of the per-pixel and per-channel kernels: SOFTMAX and SOFTMAX_BWD over channels
   (one work item per pixel, as cpu_softmax: max with NaN propagating, exp, the sum in double), PAD (a
   window copy with a fill value, which is also pad's adjoint, a crop, with negative offsets and acc) and
   CHANNELS (cpu_channel_gather: slice, channel_shuffle and their adjoints). */
#include <math.h>
#include "kgen_internal.h"

/* Work item i is pixel q of sample n: the index of its channel-0 element, n * C * HW + q. */
static LLVMValueRef pixel_base(Kg *kg, LLVMValueRef C, LLVMValueRef HW) {
  LLVMValueRef n, q;
  kg_divrem(kg, kg->i, HW, &n, &q);
  return LLVMBuildAdd(kg->b, LLVMBuildMul(kg->b, LLVMBuildMul(kg->b, n, C, ""), HW, ""), q, "");
}

static LLVMValueRef at_channel(Kg *kg, LLVMValueRef base, LLVMValueRef c, LLVMValueRef HW) {
  return LLVMBuildAdd(kg->b, base, LLVMBuildMul(kg->b, c, HW, ""), "");
}

/* SOFTMAX: y, x, C, HW; total = N*HW */
void kg_body_softmax(Kg *kg, const KernelSpec *k) {
  (void)k;
  LLVMBuilderRef b = kg->b;
  LLVMValueRef *a = kg->a, base = pixel_base(kg, a[3], a[4]);
  LLVMValueRef m = kg_var(kg, kg->f32, kg_f32c(kg, -INFINITY)), s = kg_var(kg, kg->f64, kg_f64c(kg, 0.0));
  KgFor f;
  LLVMValueRef v = kg_load(kg, a[2], at_channel(kg, base, kg_for(kg, &f, kg_i64c(kg, 0), a[3]), a[4]));
  LLVMValueRef cur = kg_get(kg, kg->f32, m), win = LLVMBuildFCmp(b, LLVMRealOGT, v, cur, ""); /* v > m (ordered), or v NaN */
  win = LLVMBuildOr(b, win, LLVMBuildFCmp(b, LLVMRealUNO, v, v, ""), "");
  kg_set(kg, m, LLVMBuildSelect(b, win, v, cur, ""));
  kg_endfor(kg, &f);
  LLVMValueRef mx = kg_get(kg, kg->f32, m), c = kg_for(kg, &f, kg_i64c(kg, 0), a[3]);
  LLVMValueRef e = kg_exp(kg, LLVMBuildFSub(b, kg_load(kg, a[2], at_channel(kg, base, c, a[4])), mx, ""));
  kg_store(kg, a[1], at_channel(kg, base, c, a[4]), e);
  kg_set(kg, s, LLVMBuildFAdd(b, kg_get(kg, kg->f64, s), LLVMBuildFPExt(b, e, kg->f64, ""), ""));
  kg_endfor(kg, &f);
  LLVMValueRef inv = LLVMBuildFPTrunc(b, LLVMBuildFDiv(b, kg_f64c(kg, 1.0), kg_get(kg, kg->f64, s), ""), kg->f32, "");
  LLVMValueRef at = at_channel(kg, base, kg_for(kg, &f, kg_i64c(kg, 0), a[3]), a[4]);
  kg_store(kg, a[1], at, LLVMBuildFMul(b, kg_load(kg, a[1], at), inv, ""));
  kg_endfor(kg, &f);
}

/* SOFTMAX_BWD: dx, dy, y, C, HW, acc; dx (+)= y * (dy - sum_c dy*y), the sum in double */
void kg_body_softmax_bwd(Kg *kg, const KernelSpec *k) {
  (void)k;
  LLVMBuilderRef b = kg->b;
  LLVMValueRef *a = kg->a, base = pixel_base(kg, a[4], a[5]), s = kg_var(kg, kg->f64, kg_f64c(kg, 0.0));
  KgFor f;
  LLVMValueRef at = at_channel(kg, base, kg_for(kg, &f, kg_i64c(kg, 0), a[4]), a[5]);
  LLVMValueRef p = LLVMBuildFMul(b, LLVMBuildFPExt(b, kg_load(kg, a[2], at), kg->f64, ""),
                                 LLVMBuildFPExt(b, kg_load(kg, a[3], at), kg->f64, ""), "");
  kg_set(kg, s, LLVMBuildFAdd(b, kg_get(kg, kg->f64, s), p, ""));
  kg_endfor(kg, &f);
  LLVMValueRef dot = LLVMBuildFPTrunc(b, kg_get(kg, kg->f64, s), kg->f32, "");
  at = at_channel(kg, base, kg_for(kg, &f, kg_i64c(kg, 0), a[4]), a[5]);
  LLVMValueRef g = LLVMBuildFMul(b, kg_load(kg, a[3], at), LLVMBuildFSub(b, kg_load(kg, a[2], at), dot, ""), "");
  kg_store_acc(kg, a[1], at, g, a[6]);
  kg_endfor(kg, &f);
}

/* PAD: y, x, H, W, OH, OW, top, left, value(f32), acc; total = NC*OH*OW:
   y[p, oy, ox] (+)= x[p, oy - top, ox - left] where that is inside x, else value */
void kg_body_pad(Kg *kg, const KernelSpec *k) {
  (void)k;
  LLVMBuilderRef b = kg->b;
  LLVMValueRef *a = kg->a, t, pl, oy, ox;
  kg_divrem(kg, kg->i, a[6], &t, &ox);
  kg_divrem(kg, t, a[5], &pl, &oy);
  LLVMValueRef iy = LLVMBuildSub(b, oy, a[7], ""), ix = LLVMBuildSub(b, ox, a[8], "");
  LLVMValueRef in = LLVMBuildAnd(b, LLVMBuildICmp(b, LLVMIntULT, iy, a[3], ""), LLVMBuildICmp(b, LLVMIntULT, ix, a[4], ""), "");
  LLVMValueRef v = kg_var(kg, kg->f32, a[9]);
  LLVMBasicBlockRef join = kg_if(kg, in);
  LLVMValueRef src = LLVMBuildAdd(b, LLVMBuildMul(b, LLVMBuildAdd(b, LLVMBuildMul(b, pl, a[3], ""), iy, ""), a[4], ""), ix, "");
  kg_set(kg, v, kg_load(kg, a[2], src));
  kg_endif(kg, join);
  kg_store_acc(kg, a[1], kg->i, kg_get(kg, kg->f32, v), a[10]);
}

/* CHANNELS: y, x, Cy, Cx, HW, c0, groups, acc; total = N*Cy*HW:
   y[n, j, q] (+)= x[n, src, q] (0 outside 0..Cx-1), src = c0 + (j % groups) * (Cy / groups) + j / groups */
void kg_body_channels(Kg *kg, const KernelSpec *k) {
  (void)k;
  LLVMBuilderRef b = kg->b;
  LLVMValueRef *a = kg->a, row, q, n, j, jg, jr;
  kg_divrem(kg, kg->i, a[5], &row, &q);
  kg_divrem(kg, row, a[3], &n, &j);
  kg_divrem(kg, j, a[7], &jg, &jr);
  LLVMValueRef src = LLVMBuildAdd(b, LLVMBuildMul(b, jr, LLVMBuildUDiv(b, a[3], a[7], ""), ""), jg, "");
  src = LLVMBuildAdd(b, src, a[6], "");
  LLVMValueRef v = kg_var(kg, kg->f32, kg_f32c(kg, 0.0));
  LLVMBasicBlockRef join = kg_if(kg, LLVMBuildICmp(b, LLVMIntULT, src, a[4], ""));
  LLVMValueRef at = LLVMBuildAdd(b, LLVMBuildMul(b, LLVMBuildAdd(b, LLVMBuildMul(b, n, a[4], ""), src, ""), a[5], ""), q, "");
  kg_set(kg, v, kg_load(kg, a[2], at));
  kg_endif(kg, join);
  kg_store_acc(kg, a[1], kg->i, kg_get(kg, kg->f32, v), a[8]);
}
