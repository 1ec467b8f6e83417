/* kgen_pool.c - bodies of the pools: AVGPOOL (PyTorch AvgPool2d, ceil_mode=False, as cpu_avgpool: the window
   clipped to the padded input gives count_include_pad's divisor, clipped to the input the summed elements;
   window size and strides are run-time parameters) and GAP (one work item per plane, summed in double in
   element order as cpu_global_avgpool). */
#include "kgen_internal.h"

/* AVGPOOL: y, x, NC, H, W, OH, OW, kh, kw, sh, sw, ph, pw */
void kg_body_avgpool(Kg *kg, const KernelSpec *k) {
  LLVMBuilderRef b = kg->b;
  LLVMValueRef a32[14], t, pl, oy, ox;
  for (int j = 3; j < 14; j++) a32[j] = kg_trunc32(kg, kg->a[j]);
  kg_divrem(kg, kg->i, kg->a[7], &t, &ox);
  kg_divrem(kg, t, kg->a[6], &pl, &oy);
  LLVMValueRef H = a32[4], W = a32[5];
  LLVMValueRef y0 = LLVMBuildSub(b, LLVMBuildMul(b, kg_trunc32(kg, oy), a32[10], ""), a32[12], "");
  LLVMValueRef x0 = LLVMBuildSub(b, LLVMBuildMul(b, kg_trunc32(kg, ox), a32[11], ""), a32[13], "");
  LLVMValueRef y1 = kg_imin(kg, LLVMBuildAdd(b, y0, a32[8], ""), LLVMBuildAdd(b, H, a32[12], ""));
  LLVMValueRef x1 = kg_imin(kg, LLVMBuildAdd(b, x0, a32[9], ""), LLVMBuildAdd(b, W, a32[13], ""));
  LLVMValueRef pool = LLVMBuildMul(b, LLVMBuildSub(b, y1, y0, ""), LLVMBuildSub(b, x1, x0, ""), "");
  y0 = kg_imax(kg, y0, kg_i32c(kg, 0));
  x0 = kg_imax(kg, x0, kg_i32c(kg, 0));
  y1 = kg_imin(kg, y1, H);
  x1 = kg_imin(kg, x1, W);
  LLVMValueRef xp = kg_gep(kg, kg->a[2], LLVMBuildMul(b, pl, LLVMBuildMul(b, kg->a[4], kg->a[5], ""), ""));
  LLVMValueRef sum = kg_var(kg, kg->f32, kg_f32c(kg, 0.0));
  KgFor fy, fx;
  LLVMValueRef iy = kg_for(kg, &fy, y0, y1);
  LLVMValueRef ix = kg_for(kg, &fx, x0, x1);
  LLVMValueRef v = kg_load(kg, xp, kg_sext64(kg, LLVMBuildAdd(b, LLVMBuildMul(b, iy, W, ""), ix, "")));
  kg_set(kg, sum, LLVMBuildFAdd(b, kg_get(kg, kg->f32, sum), v, ""));
  kg_endfor(kg, &fx);
  kg_endfor(kg, &fy);
  LLVMValueRef inside = LLVMBuildMul(b, LLVMBuildSub(b, y1, y0, ""), LLVMBuildSub(b, x1, x0, ""), "");
  LLVMValueRef div = LLVMBuildSIToFP(b, k->flag ? pool : inside, kg->f32, "");
  LLVMValueRef empty = LLVMBuildOr(b, LLVMBuildICmp(b, LLVMIntSGE, y0, y1, ""),
                                   LLVMBuildICmp(b, LLVMIntSGE, x0, x1, ""), "");
  LLVMValueRef y = LLVMBuildFDiv(b, kg_get(kg, kg->f32, sum), div, "");
  kg_store(kg, kg->a[1], kg->i, LLVMBuildSelect(b, empty, kg_f32c(kg, 0.0), y, ""));
}

/* GAP: y, x, NC, HW */
void kg_body_gap(Kg *kg, const KernelSpec *k) {
  (void)k;
  LLVMBuilderRef b = kg->b;
  LLVMValueRef hw = kg->a[4], xp = kg_gep(kg, kg->a[2], LLVMBuildMul(b, kg->i, hw, ""));
  LLVMValueRef sum = kg_var(kg, kg->f64, kg_f64c(kg, 0.0));
  KgFor f;
  LLVMValueRef v = LLVMBuildFPExt(b, kg_load(kg, xp, kg_for(kg, &f, kg_i64c(kg, 0), hw)), kg->f64, "");
  kg_set(kg, sum, LLVMBuildFAdd(b, kg_get(kg, kg->f64, sum), v, ""));
  kg_endfor(kg, &f);
  LLVMValueRef mean = LLVMBuildFDiv(b, kg_get(kg, kg->f64, sum), LLVMBuildSIToFP(b, hw, kg->f64, ""), "");
  LLVMValueRef zero = LLVMBuildICmp(b, LLVMIntEQ, hw, kg_i64c(kg, 0), "");
  kg_store(kg, kg->a[1], kg->i, LLVMBuildSelect(b, zero, kg_f32c(kg, 0.0), LLVMBuildFPTrunc(b, mean, kg->f32, ""), ""));
}
