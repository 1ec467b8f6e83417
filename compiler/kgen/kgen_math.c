/* kgen_math.c - float math for the kernels, as IR that is the same on every target: LLVM 14's NVPTX back
   end cannot lower llvm.exp.f32 / llvm.log.f32 (no libm on the GPU), so exp and log are built here from
   fma, rint and bit operations (Cody-Waite range reduction and short polynomials, about 1 ulp); the host
   tests therefore check the very math the GPU runs. Also the activations (cpu_eltwise.c's semantics:
   comparisons written so that NaN propagates, as PyTorch's relu = clamp_min and relu6 = hardtanh). */
#include <math.h>
#include "kgen_internal.h"

LLVMValueRef kg_fma(Kg *kg, LLVMValueRef a, LLVMValueRef b, LLVMValueRef c) {
  LLVMValueRef args[3] = {a, b, c};
  return kg_call_intr(kg, "llvm.fma", kg->f32, args, 3);
}

static LLVMValueRef fcmp(Kg *kg, LLVMRealPredicate p, LLVMValueRef a, double c) {
  return LLVMBuildFCmp(kg->b, p, a, kg_f32c(kg, c), "");
}

static LLVMValueRef sel(Kg *kg, LLVMValueRef c, LLVMValueRef a, LLVMValueRef b) {
  return LLVMBuildSelect(kg->b, c, a, b, "");
}

static LLVMValueRef fmul(Kg *kg, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildFMul(kg->b, a, b, ""); }

/* 2^e for an i32 e in [-126, 127], built from its bits */
static LLVMValueRef pow2i(Kg *kg, LLVMValueRef e) {
  LLVMValueRef bits = LLVMBuildShl(kg->b, LLVMBuildAdd(kg->b, e, kg_i32c(kg, 127), ""), kg_i32c(kg, 23), "");
  return LLVMBuildBitCast(kg->b, bits, kg->f32, "");
}

/* exp(x) = 2^j * e^f, j = rint(x / ln2), f = x - j*ln2 (two-part ln2 through fma), e^f by Cephes' expf
   polynomial; 2^j applied as two exact power-of-two factors so that results near overflow and in the
   subnormal range round once. x > 88.8 gives inf, x < -104 gives 0, NaN gives NaN. */
LLVMValueRef kg_exp(Kg *kg, LLVMValueRef x) {
  LLVMValueRef t = fmul(kg, x, kg_f32c(kg, 1.44269504088896341)), j = kg_call_intr(kg, "llvm.rint", kg->f32, &t, 1);
  LLVMValueRef f = kg_fma(kg, j, kg_f32c(kg, -0.693145751953125), x);
  f = kg_fma(kg, j, kg_f32c(kg, -1.428606765330187045e-06), f);
  static const double P[6] = {1.9875691500E-4, 1.3981999507E-3, 8.3334519073E-3,
                              4.1665795894E-2, 1.6666665459E-1, 5.0000001201E-1};
  LLVMValueRef p = kg_f32c(kg, P[0]);
  for (int k = 1; k < 6; k++) p = kg_fma(kg, p, f, kg_f32c(kg, P[k]));
  LLVMValueRef e = kg_fma(kg, p, fmul(kg, f, f), f);
  e = LLVMBuildFAdd(kg->b, e, kg_f32c(kg, 1.0), "");
  /* j clamped into [-252, 254] (NaN -> -252, so fptosi never sees NaN) */
  LLVMValueRef jc = sel(kg, fcmp(kg, LLVMRealOGE, j, -252.0), j, kg_f32c(kg, -252.0));
  jc = sel(kg, fcmp(kg, LLVMRealOLE, jc, 254.0), jc, kg_f32c(kg, 254.0));
  LLVMValueRef ji = LLVMBuildFPToSI(kg->b, jc, kg->i32, "");
  LLVMValueRef j1 = LLVMBuildAShr(kg->b, ji, kg_i32c(kg, 1), ""), j2 = LLVMBuildSub(kg->b, ji, j1, "");
  LLVMValueRef r = fmul(kg, fmul(kg, e, pow2i(kg, j1)), pow2i(kg, j2));
  r = sel(kg, fcmp(kg, LLVMRealOGT, x, 88.8), kg_f32c(kg, INFINITY), r);
  return sel(kg, fcmp(kg, LLVMRealOLT, x, -104.0), kg_f32c(kg, 0.0), r);
}

/* log(x) = e*ln2 + log(m), m in [sqrt(1/2), sqrt(2)), log(m) = 2 atanh(s), s = (m-1)/(m+1), by its series
   to s^9 (|s| <= 0.1716). Subnormal x scaled by 2^23 first; 0 -> -inf, inf -> inf, x < 0 or NaN -> NaN. */
LLVMValueRef kg_log(Kg *kg, LLVMValueRef x) {
  LLVMBuilderRef b = kg->b;
  LLVMValueRef tiny = fcmp(kg, LLVMRealOLT, x, 1.17549435e-38);
  LLVMValueRef xs = sel(kg, tiny, fmul(kg, x, kg_f32c(kg, 8388608.0)), x);
  LLVMValueRef bits = LLVMBuildBitCast(b, xs, kg->i32, "");
  LLVMValueRef e = LLVMBuildSub(b, LLVMBuildLShr(b, bits, kg_i32c(kg, 23), ""), kg_i32c(kg, 127), "");
  e = sel(kg, tiny, LLVMBuildSub(b, e, kg_i32c(kg, 23), ""), e);
  LLVMValueRef mb = LLVMBuildOr(b, LLVMBuildAnd(b, bits, kg_i32c(kg, 0x7fffff), ""), kg_i32c(kg, 0x3f800000), "");
  LLVMValueRef m = LLVMBuildBitCast(b, mb, kg->f32, "");
  LLVMValueRef big = fcmp(kg, LLVMRealOGT, m, 1.41421356237309505);
  m = sel(kg, big, fmul(kg, m, kg_f32c(kg, 0.5)), m);
  e = sel(kg, big, LLVMBuildAdd(b, e, kg_i32c(kg, 1), ""), e);
  LLVMValueRef s = LLVMBuildFDiv(b, LLVMBuildFSub(b, m, kg_f32c(kg, 1.0), ""),
                                 LLVMBuildFAdd(b, m, kg_f32c(kg, 1.0), ""), "");
  LLVMValueRef z = fmul(kg, s, s), s2 = LLVMBuildFAdd(b, s, s, "");
  LLVMValueRef r = kg_f32c(kg, 1.0 / 9.0);
  r = kg_fma(kg, r, z, kg_f32c(kg, 1.0 / 7.0));
  r = kg_fma(kg, r, z, kg_f32c(kg, 1.0 / 5.0));
  r = kg_fma(kg, r, z, kg_f32c(kg, 1.0 / 3.0));
  LLVMValueRef lm = kg_fma(kg, fmul(kg, s2, z), r, s2);
  LLVMValueRef ef = LLVMBuildSIToFP(b, e, kg->f32, "");
  LLVMValueRef res = kg_fma(kg, ef, kg_f32c(kg, 0.693145751953125),
                            kg_fma(kg, ef, kg_f32c(kg, 1.428606765330187045e-06), lm));
  res = sel(kg, fcmp(kg, LLVMRealOEQ, x, INFINITY), x, res);
  res = sel(kg, fcmp(kg, LLVMRealOEQ, x, 0.0), kg_f32c(kg, -INFINITY), res);
  return sel(kg, fcmp(kg, LLVMRealUGE, x, 0.0), res, kg_f32c(kg, NAN));
}

/* v < lo ? lo : (v > hi ? hi : v): NaN passes through */
static LLVMValueRef clamp(Kg *kg, LLVMValueRef v, double lo, double hi) {
  LLVMValueRef t = sel(kg, fcmp(kg, LLVMRealOGT, v, hi), kg_f32c(kg, hi), v);
  return sel(kg, fcmp(kg, LLVMRealOLT, v, lo), kg_f32c(kg, lo), t);
}

/* tanh(x) = sign(x) * (1 - t) / (1 + t), t = exp(-2|x|): no overflow, within a few ulp of 1 in absolute
   terms (tiny |x| gives 0 where tanhf gives x); NaN propagates */
static LLVMValueRef kg_tanh(Kg *kg, LLVMValueRef x) {
  LLVMValueRef ax = kg_call_intr(kg, "llvm.fabs", kg->f32, &x, 1), one = kg_f32c(kg, 1.0);
  LLVMValueRef t = kg_exp(kg, fmul(kg, ax, kg_f32c(kg, -2.0)));
  LLVMValueRef r = LLVMBuildFDiv(kg->b, LLVMBuildFSub(kg->b, one, t, ""), LLVMBuildFAdd(kg->b, one, t, ""), "");
  LLVMValueRef args[2] = {r, x};
  return kg_call_intr(kg, "llvm.copysign", kg->f32, args, 2);
}

LLVMValueRef kg_act(Kg *kg, int act, LLVMValueRef x) {
  switch (act) {
  case KACT_RELU: return sel(kg, fcmp(kg, LLVMRealOLT, x, 0.0), kg_f32c(kg, 0.0), x);
  case KACT_RELU6: return clamp(kg, x, 0.0, 6.0);
  case KACT_SIGMOID: {
    LLVMValueRef e = kg_exp(kg, LLVMBuildFNeg(kg->b, x, ""));
    return LLVMBuildFDiv(kg->b, kg_f32c(kg, 1.0), LLVMBuildFAdd(kg->b, kg_f32c(kg, 1.0), e, ""), "");
  }
  case KACT_HSWISH: {
    LLVMValueRef t = clamp(kg, LLVMBuildFAdd(kg->b, x, kg_f32c(kg, 3.0), ""), 0.0, 6.0);
    return LLVMBuildFDiv(kg->b, fmul(kg, x, t), kg_f32c(kg, 6.0), "");
  }
  case KACT_SILU: { /* x / (1 + exp(-x)), as cpu_silu */
    LLVMValueRef e = kg_exp(kg, LLVMBuildFNeg(kg->b, x, ""));
    return LLVMBuildFDiv(kg->b, x, LLVMBuildFAdd(kg->b, kg_f32c(kg, 1.0), e, ""), "");
  }
  case KACT_HSIGMOID:
    return LLVMBuildFDiv(kg->b, clamp(kg, LLVMBuildFAdd(kg->b, x, kg_f32c(kg, 3.0), ""), 0.0, 6.0), kg_f32c(kg, 6.0), "");
  case KACT_TANH: return kg_tanh(kg, x);
  default: return x;
  }
}
