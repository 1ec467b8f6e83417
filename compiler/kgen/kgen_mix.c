/* kgen_mix.c - bodies of the superblock mixture (MIX_FWD, MIX_BWD_DX, MIX_BWD_DW; cpu_mix and
   cpu_mix_backward) and of the pixel-wise softmax cross-entropy XENT (cpu_softmax_xent, per pixel). */
#include <math.h>
#include "kgen_internal.h"

/* w[j*batch + i/per_sample] */
static LLVMValueRef mix_weight(Kg *kg, LLVMValueRef w, LLVMValueRef j, LLVMValueRef batch, LLVMValueRef per) {
  LLVMValueRef bi;
  kg_divrem(kg, kg->i, per, &bi, NULL);
  return kg_load(kg, w, LLVMBuildAdd(kg->b, LLVMBuildMul(kg->b, j, batch, ""), bi, ""));
}

/* MIX_FWD: y, xs, w, k, batch, per_sample: y = sum over the non-NULL xs[j] of w * xs[j][i] (fma each) */
void kg_body_mix_fwd(Kg *kg, const KernelSpec *k) {
  (void)k;
  LLVMBuilderRef b = kg->b;
  LLVMValueRef *a = kg->a, acc = kg_var(kg, kg->f32, kg_f32c(kg, 0.0));
  KgFor f;
  LLVMValueRef j = kg_for(kg, &f, kg_i64c(kg, 0), a[4]);
  LLVMValueRef xj = LLVMBuildLoad2(b, kg->pf32, LLVMBuildInBoundsGEP2(b, kg->pf32, a[2], &j, 1, ""), "");
  LLVMBasicBlockRef join = kg_if(kg, LLVMBuildIsNotNull(b, xj, ""));
  LLVMValueRef wv = mix_weight(kg, a[3], j, a[5], a[6]);
  kg_set(kg, acc, kg_fma(kg, wv, kg_load(kg, xj, kg->i), kg_get(kg, kg->f32, acc)));
  kg_endif(kg, join);
  kg_endfor(kg, &f);
  kg_store(kg, a[1], kg->i, kg_get(kg, kg->f32, acc));
}

/* MIX_BWD_DX: dx, dy, w, j, batch, per_sample, acc: dx = w*dy, or dx = fma(w, dy, dx) accumulating */
void kg_body_mix_bwd_dx(Kg *kg, const KernelSpec *k) {
  (void)k;
  LLVMValueRef *a = kg->a, wv = mix_weight(kg, a[3], a[4], a[5], a[6]), dy = kg_load(kg, a[2], kg->i);
  LLVMValueRef out = kg_var(kg, kg->f32, LLVMBuildFMul(kg->b, wv, dy, ""));
  LLVMBasicBlockRef join = kg_if(kg, LLVMBuildICmp(kg->b, LLVMIntNE, a[7], kg_i64c(kg, 0), ""));
  kg_set(kg, out, kg_fma(kg, wv, dy, kg_load(kg, a[1], kg->i)));
  kg_endif(kg, join);
  kg_store(kg, a[1], kg->i, kg_get(kg, kg->f32, out));
}

/* MIX_BWD_DW: dw, x, dy, j, batch, per_sample, chunk; work item = one chunk of sample b: the chunk's sum of
   x*dy (products and sum in double, in element order, as cpu_mix_backward), then an atomic add to
   dw[j*batch+b] (with one chunk per sample: exactly cpu_mix_backward's single float add) */
void kg_body_mix_bwd_dw(Kg *kg, const KernelSpec *k) {
  (void)k;
  LLVMBuilderRef b = kg->b;
  LLVMValueRef *a = kg->a, per = a[6], chunk = a[7], one = kg_i64c(kg, 1), smp, c;
  LLVMValueRef nchunks = LLVMBuildUDiv(b, LLVMBuildSub(b, LLVMBuildAdd(b, per, chunk, ""), one, ""), chunk, "");
  kg_divrem(kg, kg->i, nchunks, &smp, &c);
  LLVMValueRef lo = LLVMBuildMul(b, c, chunk, ""), hi = LLVMBuildAdd(b, lo, chunk, "");
  hi = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntULT, hi, per, ""), hi, per, "");
  LLVMValueRef base = LLVMBuildMul(b, smp, per, ""), s = kg_var(kg, kg->f64, kg_f64c(kg, 0.0));
  KgFor f;
  LLVMValueRef e = LLVMBuildAdd(b, base, kg_for(kg, &f, lo, hi), "");
  LLVMValueRef dy = LLVMBuildFPExt(b, kg_load(kg, a[3], e), kg->f64, "");
  LLVMValueRef x = LLVMBuildFPExt(b, kg_load(kg, a[2], e), kg->f64, "");
  kg_set(kg, s, LLVMBuildFAdd(b, kg_get(kg, kg->f64, s), LLVMBuildFMul(b, dy, x, ""), ""));
  kg_endfor(kg, &f);
  LLVMValueRef wi = LLVMBuildAdd(b, LLVMBuildMul(b, a[4], a[5], ""), smp, "");
  kg_atomic_add(kg, a[1], wi, LLVMBuildFPTrunc(b, kg_get(kg, kg->f64, s), kg->f32, ""));
}

/* XENT helpers: logit of class c (i64) at the pixel whose class-0 logit is at base */
static LLVMValueRef logit(Kg *kg, LLVMValueRef base, LLVMValueRef c) {
  return kg_load(kg, kg->a[3], LLVMBuildAdd(kg->b, base, LLVMBuildMul(kg->b, c, kg->a[7], ""), ""));
}

/* max over the classes (the first logit, then `v > max ? v : max`) and the sum of exp(z - max) */
static void xent_max_sum(Kg *kg, LLVMValueRef base, LLVMValueRef *mx, LLVMValueRef *sm) {
  LLVMBuilderRef b = kg->b;
  LLVMValueRef m = kg_var(kg, kg->f32, logit(kg, base, kg_i64c(kg, 0))), s = kg_var(kg, kg->f32, kg_f32c(kg, 0.0));
  KgFor f;
  LLVMValueRef v = logit(kg, base, kg_for(kg, &f, kg_i64c(kg, 1), kg->a[6])), cur = kg_get(kg, kg->f32, m);
  kg_set(kg, m, LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOGT, v, cur, ""), v, cur, ""));
  kg_endfor(kg, &f);
  *mx = kg_get(kg, kg->f32, m);
  LLVMValueRef e = kg_exp(kg, LLVMBuildFSub(b, logit(kg, base, kg_for(kg, &f, kg_i64c(kg, 0), kg->a[6])), *mx, ""));
  kg_set(kg, s, LLVMBuildFAdd(b, kg_get(kg, kg->f32, s), e, ""));
  kg_endfor(kg, &f);
  *sm = kg_get(kg, kg->f32, s);
}

/* dlogits at the pixel: exp(z - max) * (inv / sum), minus inv at the label; 0 where not ok */
static void xent_grad(Kg *kg, LLVMValueRef base, LLVMValueRef mx, LLVMValueRef sm, LLVMValueRef lab, LLVMValueRef ok) {
  LLVMBuilderRef b = kg->b;
  LLVMValueRef inv = kg->a[9], zero = kg_f32c(kg, 0.0);
  LLVMValueRef fac = LLVMBuildSelect(b, ok, LLVMBuildFDiv(b, inv, sm, ""), zero, "");
  KgFor f;
  LLVMValueRef c = kg_for(kg, &f, kg_i64c(kg, 0), kg->a[6]);
  LLVMValueRef d = LLVMBuildFMul(b, kg_exp(kg, LLVMBuildFSub(b, logit(kg, base, c), mx, "")), fac, "");
  LLVMValueRef at = LLVMBuildAnd(b, ok, LLVMBuildICmp(b, LLVMIntEQ, c, lab, ""), "");
  d = LLVMBuildSelect(b, at, LLVMBuildFSub(b, d, inv, ""), d, "");
  kg_store(kg, kg->a[2], LLVMBuildAdd(b, base, LLVMBuildMul(b, c, kg->a[7], ""), ""), d);
  kg_endfor(kg, &f);
}

/* XENT: loss, dlogits, logits, labels, N, C, HW, ignore, inv_nvalid; a label neither < C nor ignore (which
   cpu_softmax_xent aborts on) gives loss NaN and a zero gradient, without reading out of bounds */
void kg_body_xent(Kg *kg, const KernelSpec *k) {
  (void)k;
  LLVMBuilderRef b = kg->b;
  LLVMValueRef *a = kg->a, n, s, mx, sm;
  kg_divrem(kg, kg->i, a[7], &n, &s);
  LLVMValueRef base = LLVMBuildAdd(b, LLVMBuildMul(b, LLVMBuildMul(b, n, a[6], ""), a[7], ""), s, "");
  LLVMValueRef lp = LLVMBuildInBoundsGEP2(b, kg->i8, a[4], &kg->i, 1, "");
  LLVMValueRef lab = LLVMBuildZExt(b, LLVMBuildLoad2(b, kg->i8, lp, ""), kg->i64, "");
  LLVMValueRef valid = LLVMBuildICmp(b, LLVMIntNE, lab, a[8], "");
  LLVMValueRef ok = LLVMBuildAnd(b, valid, LLVMBuildICmp(b, LLVMIntULT, lab, a[6], ""), "");
  xent_max_sum(kg, base, &mx, &sm);
  LLVMValueRef loss = kg_var(kg, kg->f32, LLVMBuildSelect(b, valid, kg_f32c(kg, NAN), kg_f32c(kg, 0.0), ""));
  LLVMBasicBlockRef join = kg_if(kg, ok);
  LLVMValueRef l = LLVMBuildFPExt(b, kg_log(kg, sm), kg->f64, "");
  l = LLVMBuildFAdd(b, l, LLVMBuildFPExt(b, mx, kg->f64, ""), "");
  l = LLVMBuildFSub(b, l, LLVMBuildFPExt(b, logit(kg, base, lab), kg->f64, ""), "");
  kg_set(kg, loss, LLVMBuildFPTrunc(b, l, kg->f32, ""));
  kg_endif(kg, join);
  kg_store(kg, a[1], kg->i, kg_get(kg, kg->f32, loss));
  join = kg_if(kg, LLVMBuildIsNotNull(b, a[2], ""));
  xent_grad(kg, base, mx, sm, lab, ok);
  kg_endif(kg, join);
}
