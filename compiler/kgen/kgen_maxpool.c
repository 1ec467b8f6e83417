/* kgen_maxpool.c - bodies of MAXPOOL and MAXPOOL_BWD (PyTorch max_pool2d, ceil_mode=False, as cpu_maxpool):
   each work item scans its window in row-major order, a tap winning when `v > max || isnan(v)` (the first
   of equal maxima; NaN propagates); the backward finds the same argmax in x and adds dy there atomically.
   The geometry is run-time: parameters H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw follow the tensors. */
#include <math.h>
#include "kgen_internal.h"

/* The argmax (i64 index in the plane, -1 when no tap is inside) and the maximum of the window of output
   pixel (oy, ox) of plane xp; g[0..11]: H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw as i32. */
static void window_argmax(Kg *kg, LLVMValueRef xp, LLVMValueRef *g, LLVMValueRef oy, LLVMValueRef ox,
                          LLVMValueRef *best, LLVMValueRef *max) {
  LLVMBuilderRef b = kg->b;
  LLVMValueRef m = kg_var(kg, kg->f32, kg_f32c(kg, -INFINITY)), at = kg_var(kg, kg->i64, kg_i64c(kg, -1));
  LLVMValueRef y0 = LLVMBuildSub(b, LLVMBuildMul(b, oy, g[6], ""), g[8], "");
  LLVMValueRef x0 = LLVMBuildSub(b, LLVMBuildMul(b, ox, g[7], ""), g[9], "");
  KgFor fy, fx;
  LLVMValueRef iy = LLVMBuildAdd(b, y0, LLVMBuildMul(b, kg_for(kg, &fy, kg_i32c(kg, 0), g[4]), g[10], ""), "");
  LLVMValueRef ix = LLVMBuildAdd(b, x0, LLVMBuildMul(b, kg_for(kg, &fx, kg_i32c(kg, 0), g[5]), g[11], ""), "");
  LLVMValueRef in = LLVMBuildAnd(b, LLVMBuildICmp(b, LLVMIntULT, iy, g[0], ""), LLVMBuildICmp(b, LLVMIntULT, ix, g[1], ""), "");
  LLVMBasicBlockRef join = kg_if(kg, in);
  LLVMValueRef k = kg_sext64(kg, LLVMBuildAdd(b, LLVMBuildMul(b, iy, g[1], ""), ix, ""));
  LLVMValueRef v = kg_load(kg, xp, k);
  LLVMValueRef win = LLVMBuildFCmp(b, LLVMRealOGT, v, kg_get(kg, kg->f32, m), ""); /* v > max (ordered), or v NaN */
  win = LLVMBuildOr(b, win, LLVMBuildFCmp(b, LLVMRealUNO, v, v, ""), "");
  LLVMBasicBlockRef j2 = kg_if(kg, win);
  kg_set(kg, m, v);
  kg_set(kg, at, k);
  kg_endif(kg, j2);
  kg_endif(kg, join);
  kg_endfor(kg, &fx);
  kg_endfor(kg, &fy);
  *best = kg_get(kg, kg->i64, at);
  *max = kg_get(kg, kg->f32, m);
}

/* Work item i: plane pl, output pixel (oy, ox); xp: plane pl of the input; g as window_argmax. */
static void item(Kg *kg, int first, LLVMValueRef x, LLVMValueRef *g, LLVMValueRef *xp, LLVMValueRef *oy, LLVMValueRef *ox) {
  LLVMBuilderRef b = kg->b;
  for (int j = 0; j < 12; j++) g[j] = kg_trunc32(kg, kg->a[first + j]);
  LLVMValueRef t, pl, y, xx;
  kg_divrem(kg, kg->i, kg->a[first + 3], &t, &xx);
  kg_divrem(kg, t, kg->a[first + 2], &pl, &y);
  *xp = kg_gep(kg, x, LLVMBuildMul(b, pl, LLVMBuildMul(b, kg->a[first], kg->a[first + 1], ""), ""));
  *oy = kg_trunc32(kg, y), *ox = kg_trunc32(kg, xx);
}

/* MAXPOOL: y, x, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw; total = NC*OH*OW */
void kg_body_maxpool(Kg *kg, const KernelSpec *k) {
  (void)k;
  LLVMValueRef g[12], xp, oy, ox, best, max;
  item(kg, 3, kg->a[2], g, &xp, &oy, &ox);
  window_argmax(kg, xp, g, oy, ox, &best, &max);
  kg_store(kg, kg->a[1], kg->i, max);
}

/* MAXPOOL_BWD: dx, dy, x, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw; dx[argmax] += dy[i] (atomic) */
void kg_body_maxpool_bwd(Kg *kg, const KernelSpec *k) {
  (void)k;
  LLVMBuilderRef b = kg->b;
  LLVMValueRef g[12], xp, oy, ox, best, max;
  item(kg, 4, kg->a[3], g, &xp, &oy, &ox);
  window_argmax(kg, xp, g, oy, ox, &best, &max);
  LLVMValueRef plane = LLVMBuildMul(b, kg->a[4], kg->a[5], "");
  LLVMValueRef pl = LLVMBuildUDiv(b, kg->i, LLVMBuildMul(b, kg->a[6], kg->a[7], ""), "");
  LLVMBasicBlockRef join = kg_if(kg, LLVMBuildICmp(b, LLVMIntSGE, best, kg_i64c(kg, 0), ""));
  kg_atomic_add(kg, kg->a[1], LLVMBuildAdd(b, LLVMBuildMul(b, pl, plane, ""), best, ""), kg_load(kg, kg->a[2], kg->i));
  kg_endif(kg, join);
}
