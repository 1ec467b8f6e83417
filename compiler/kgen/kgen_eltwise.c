/* kgen_eltwise.c - bodies of the elementwise kernels: ACT, ACT_BWD, BINARY (broadcast by strides), AFFINE
   (BN inference / bias epilogue), SCALE (the affine op), LEAKY (leaky_relu both ways) and SGD. One work item per output element; the arithmetic follows the CPU
   kernels (cpu_eltwise.c, cpu_grad_misc.c, trainer.c's sgd) operation by operation. */
#include "kgen_internal.h"

static LLVMValueRef fcmp0(Kg *kg, LLVMRealPredicate p, LLVMValueRef a, double c) {
  return LLVMBuildFCmp(kg->b, p, a, kg_f32c(kg, c), "");
}

/* ACT: y, x, n */
void kg_body_act(Kg *kg, const KernelSpec *k) {
  kg_store(kg, kg->a[1], kg->i, kg_act(kg, k->act, kg_load(kg, kg->a[2], kg->i)));
}

/* ACT_BWD: dx, dy, v, n, acc (PyTorch's threshold/hardtanh/sigmoid/hardswish backward; NaN in v passes dy
   for relu and relu6, as cpu_relu_backward's !(y <= 0)) */
void kg_body_act_bwd(Kg *kg, const KernelSpec *k) {
  LLVMBuilderRef b = kg->b;
  LLVMValueRef dy = kg_load(kg, kg->a[2], kg->i), v = kg_load(kg, kg->a[3], kg->i), zero = kg_f32c(kg, 0.0), g;
  switch (k->act) {
  case KACT_RELU: g = LLVMBuildSelect(b, fcmp0(kg, LLVMRealUGT, v, 0.0), dy, zero, ""); break;
  case KACT_RELU6:
    g = LLVMBuildSelect(b, LLVMBuildAnd(b, fcmp0(kg, LLVMRealUGT, v, 0.0), fcmp0(kg, LLVMRealULT, v, 6.0), ""), dy,
                        zero, "");
    break;
  case KACT_SIGMOID:
    g = LLVMBuildFMul(b, LLVMBuildFMul(b, dy, LLVMBuildFSub(b, kg_f32c(kg, 1.0), v, ""), ""), v, "");
    break;
  case KACT_TANH: g = LLVMBuildFMul(b, dy, LLVMBuildFSub(b, kg_f32c(kg, 1.0), LLVMBuildFMul(b, v, v, ""), ""), ""); break;
  case KACT_SILU: { /* s * (1 + x * (1 - s)), s = sigmoid(x) */
    LLVMValueRef s = kg_act(kg, KACT_SIGMOID, v), one = kg_f32c(kg, 1.0);
    LLVMValueRef t = LLVMBuildFAdd(b, one, LLVMBuildFMul(b, v, LLVMBuildFSub(b, one, s, ""), ""), "");
    g = LLVMBuildFMul(b, dy, LLVMBuildFMul(b, s, t, ""), "");
    break;
  }
  case KACT_HSIGMOID:
    g = LLVMBuildSelect(b, LLVMBuildAnd(b, fcmp0(kg, LLVMRealOGT, v, -3.0), fcmp0(kg, LLVMRealOLT, v, 3.0), ""),
                        LLVMBuildFDiv(b, dy, kg_f32c(kg, 6.0), ""), zero, "");
    break;
  default: { /* hswish: v is x */
    LLVMValueRef mid = LLVMBuildFMul(
        b, dy, LLVMBuildFAdd(b, LLVMBuildFDiv(b, v, kg_f32c(kg, 3.0), ""), kg_f32c(kg, 0.5), ""), "");
    g = LLVMBuildSelect(b, fcmp0(kg, LLVMRealOGE, v, 3.0), dy, mid, "");
    g = LLVMBuildSelect(b, fcmp0(kg, LLVMRealOLT, v, -3.0), zero, g, "");
  }
  }
  kg_store_acc(kg, kg->a[1], kg->i, g, kg->a[5]);
}

/* BINARY: y, a, b, N, C, H, W, as_n, as_c, as_h, as_w, bs_n, bs_c, bs_h, bs_w */
void kg_body_binary(Kg *kg, const KernelSpec *k) {
  LLVMBuilderRef b = kg->b;
  LLVMValueRef t, co[4]; /* n, c, h, w */
  kg_divrem(kg, kg->i, kg->a[7], &t, &co[3]);
  kg_divrem(kg, t, kg->a[6], &t, &co[2]);
  kg_divrem(kg, t, kg->a[5], &co[0], &co[1]);
  LLVMValueRef oa = kg_i64c(kg, 0), ob = kg_i64c(kg, 0);
  for (int d = 0; d < 4; d++) {
    oa = LLVMBuildAdd(b, oa, LLVMBuildMul(b, co[d], kg->a[8 + d], ""), "");
    ob = LLVMBuildAdd(b, ob, LLVMBuildMul(b, co[d], kg->a[12 + d], ""), "");
  }
  LLVMValueRef va = kg_load(kg, kg->a[2], oa), vb = kg_load(kg, kg->a[3], ob);
  LLVMValueRef y = k->op == KBIN_MUL   ? LLVMBuildFMul(b, va, vb, "")
                   : k->op == KBIN_SUB ? LLVMBuildFSub(b, va, vb, "")
                                       : LLVMBuildFAdd(b, va, vb, "");
  kg_store(kg, kg->a[1], kg->i, y);
}

/* AFFINE: y, x, scale, shift, hw, c: y = act(x * scale[ch] + shift[ch]) (one fma, as the CPU's contracted
   x * alpha + beta); with scale NULL x + shift exactly */
void kg_body_affine(Kg *kg, const KernelSpec *k) {
  LLVMValueRef q, ch;
  kg_divrem(kg, kg->i, kg->a[5], &q, NULL);
  kg_divrem(kg, q, kg->a[6], NULL, &ch);
  LLVMValueRef s = kg_load_or(kg, kg->a[3], ch, 1.0), sh = kg_load_or(kg, kg->a[4], ch, 0.0);
  LLVMValueRef y = kg_fma(kg, kg_load(kg, kg->a[2], kg->i), s, sh);
  kg_store(kg, kg->a[1], kg->i, kg_act(kg, k->act, y));
}

/* SCALE: y, x, n, a, b, acc: y (+)= a * x + b (two roundings, as cpu_affine) */
void kg_body_scale(Kg *kg, const KernelSpec *k) {
  (void)k;
  LLVMValueRef *a = kg->a, ax = LLVMBuildFMul(kg->b, a[4], kg_load(kg, a[2], kg->i), "");
  kg_store_acc(kg, a[1], kg->i, LLVMBuildFAdd(kg->b, ax, a[5], ""), a[6]);
}

/* LEAKY: y, x, g, n, slope, acc: y (+)= x > 0 ? g : g * slope (PyTorch's leaky_relu and its backward) */
void kg_body_leaky(Kg *kg, const KernelSpec *k) {
  (void)k;
  LLVMValueRef *a = kg->a, g = kg_load(kg, a[3], kg->i);
  LLVMValueRef pos = fcmp0(kg, LLVMRealOGT, kg_load(kg, a[2], kg->i), 0.0);
  kg_store_acc(kg, a[1], kg->i, LLVMBuildSelect(kg->b, pos, g, LLVMBuildFMul(kg->b, g, a[5], ""), ""), a[6]);
}

/* SGD: w, g, mom, n, lr, momentum, wd, first (separate multiplies and adds, as trainer.c's sgd) */
void kg_body_sgd(Kg *kg, const KernelSpec *k) {
  (void)k;
  LLVMBuilderRef b = kg->b;
  LLVMValueRef *a = kg->a, w = kg_load(kg, a[1], kg->i);
  LLVMValueRef d = LLVMBuildFAdd(b, kg_load(kg, a[2], kg->i), LLVMBuildFMul(b, a[7], w, ""), "");
  LLVMValueRef dv = kg_var(kg, kg->f32, d);
  LLVMBasicBlockRef join = kg_if(kg, LLVMBuildIsNotNull(b, a[3], ""));
  LLVMValueRef m = LLVMBuildFAdd(b, LLVMBuildFMul(b, a[6], kg_load(kg, a[3], kg->i), ""), d, "");
  LLVMValueRef first = LLVMBuildICmp(b, LLVMIntNE, a[8], kg_i64c(kg, 0), "");
  m = LLVMBuildSelect(b, first, d, m, "");
  kg_store(kg, a[3], kg->i, m);
  kg_set(kg, dv, m);
  kg_endif(kg, join);
  LLVMValueRef step = LLVMBuildFMul(b, a[5], kg_get(kg, kg->f32, dv), "");
  kg_store(kg, a[1], kg->i, LLVMBuildFSub(b, w, step, ""));
}
