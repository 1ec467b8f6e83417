/* kgen_conv.c - the body of DWCONV, the depthwise convolution (groups = C = cout) with its geometry (kh kw sh
   sw dh dw) baked in: one work item per output element, the kh*kw taps unrolled, each tap's bounds check a
   select (the load of an out-of-bounds tap reads the plane's first element instead, so the code is
   straight-line and every load is valid). Sums as cpu_conv2d's direct path: taps in (ky, kx) order from 0,
   each an fma, then + bias, then the activation. */
#include "kgen_internal.h"

/* DWCONV: y, x, w, bias, N, C, H, W, OH, OW, ph, pw */
void kg_body_dwconv(Kg *kg, const KernelSpec *k) {
  LLVMBuilderRef b = kg->b;
  LLVMValueRef *a = kg->a, t, pl, ox64, oy64, c;
  kg_divrem(kg, kg->i, a[10], &t, &ox64);
  kg_divrem(kg, t, a[9], &pl, &oy64);
  kg_divrem(kg, pl, a[6], NULL, &c);
  LLVMValueRef H = kg_trunc32(kg, a[7]), W = kg_trunc32(kg, a[8]);
  LLVMValueRef xp = kg_gep(kg, a[2], LLVMBuildMul(b, pl, LLVMBuildMul(b, a[7], a[8], ""), ""));
  LLVMValueRef wp = kg_gep(kg, a[3], LLVMBuildMul(b, c, kg_i64c(kg, (long long)k->kh * k->kw), ""));
  LLVMValueRef y0 = LLVMBuildMul(b, kg_trunc32(kg, oy64), kg_i32c(kg, k->sh), ""); /* oy*sh - ph */
  LLVMValueRef x0 = LLVMBuildMul(b, kg_trunc32(kg, ox64), kg_i32c(kg, k->sw), "");
  y0 = LLVMBuildSub(b, y0, kg_trunc32(kg, a[11]), "");
  x0 = LLVMBuildSub(b, x0, kg_trunc32(kg, a[12]), "");
  LLVMValueRef acc = kg_f32c(kg, 0.0);
  for (int ky = 0; ky < k->kh; ky++) {
    LLVMValueRef iy = LLVMBuildAdd(b, y0, kg_i32c(kg, ky * k->dh), "");
    LLVMValueRef rok = LLVMBuildICmp(b, LLVMIntULT, iy, H, ""); /* 0 <= iy < H */
    LLVMValueRef row = LLVMBuildMul(b, iy, W, "");
    for (int kx = 0; kx < k->kw; kx++) {
      LLVMValueRef ix = LLVMBuildAdd(b, x0, kg_i32c(kg, kx * k->dw), "");
      LLVMValueRef ok = LLVMBuildAnd(b, rok, LLVMBuildICmp(b, LLVMIntULT, ix, W, ""), "");
      LLVMValueRef off = LLVMBuildSelect(b, ok, LLVMBuildAdd(b, row, ix, ""), kg_i32c(kg, 0), "");
      LLVMValueRef xv = kg_load(kg, xp, kg_sext64(kg, off));
      LLVMValueRef wv = kg_load(kg, wp, kg_i64c(kg, ky * k->kw + kx));
      acc = LLVMBuildSelect(b, ok, kg_fma(kg, wv, xv, acc), acc, "");
    }
  }
  LLVMValueRef out = kg_var(kg, kg->f32, acc);
  LLVMBasicBlockRef join = kg_if(kg, LLVMBuildIsNotNull(b, a[4], ""));
  kg_set(kg, out, LLVMBuildFAdd(b, acc, kg_load(kg, a[4], c), ""));
  kg_endif(kg, join);
  kg_store(kg, a[1], kg->i, kg_act(kg, k->act, kg_get(kg, kg->f32, out)));
}
