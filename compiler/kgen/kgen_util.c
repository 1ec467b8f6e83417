/* kgen_util.c - small IR-building helpers for the kernel bodies: constants, float addressing, loads and
   stores (plain, accumulating, atomic, NULL-defaulted), integer helpers, and structured control flow (if,
   counted for) written through allocas that mem2reg/SROA turn back into registers. */
#include <string.h>
#include "kgen_internal.h"

LLVMValueRef kg_i64c(Kg *kg, long long v) { return LLVMConstInt(kg->i64, (unsigned long long)v, 1); }
LLVMValueRef kg_i32c(Kg *kg, int v) { return LLVMConstInt(kg->i32, (unsigned long long)(long long)v, 1); }
LLVMValueRef kg_f32c(Kg *kg, double v) { return LLVMConstReal(kg->f32, v); }
LLVMValueRef kg_f64c(Kg *kg, double v) { return LLVMConstReal(kg->f64, v); }
LLVMValueRef kg_trunc32(Kg *kg, LLVMValueRef v) { return LLVMBuildTrunc(kg->b, v, kg->i32, ""); }
LLVMValueRef kg_sext64(Kg *kg, LLVMValueRef v) { return LLVMBuildSExt(kg->b, v, kg->i64, ""); }

LLVMValueRef kg_gep(Kg *kg, LLVMValueRef p, LLVMValueRef idx) {
  return LLVMBuildInBoundsGEP2(kg->b, kg->f32, p, &idx, 1, "");
}

LLVMValueRef kg_load(Kg *kg, LLVMValueRef p, LLVMValueRef idx) {
  LLVMValueRef v = LLVMBuildLoad2(kg->b, kg->f32, kg_gep(kg, p, idx), "");
  LLVMSetAlignment(v, 4);
  return v;
}

void kg_store(Kg *kg, LLVMValueRef p, LLVMValueRef idx, LLVMValueRef v) {
  LLVMSetAlignment(LLVMBuildStore(kg->b, v, kg_gep(kg, p, idx)), 4);
}

/* p[idx] = v, or p[idx] += v when acc != 0 (a uniform branch: p is not read when overwriting). */
void kg_store_acc(Kg *kg, LLVMValueRef p, LLVMValueRef idx, LLVMValueRef v, LLVMValueRef acc) {
  LLVMValueRef out = kg_var(kg, kg->f32, v);
  LLVMBasicBlockRef join = kg_if(kg, LLVMBuildICmp(kg->b, LLVMIntNE, acc, kg_i64c(kg, 0), ""));
  kg_set(kg, out, LLVMBuildFAdd(kg->b, kg_load(kg, p, idx), v, ""));
  kg_endif(kg, join);
  kg_store(kg, p, idx, kg_get(kg, kg->f32, out));
}

void kg_atomic_add(Kg *kg, LLVMValueRef p, LLVMValueRef idx, LLVMValueRef v) {
  LLVMBuildAtomicRMW(kg->b, LLVMAtomicRMWBinOpFAdd, kg_gep(kg, p, idx), v, LLVMAtomicOrderingMonotonic, 0);
}

LLVMValueRef kg_is_null(Kg *kg, LLVMValueRef p) { return LLVMBuildIsNull(kg->b, p, ""); }

LLVMValueRef kg_load_or(Kg *kg, LLVMValueRef p, LLVMValueRef idx, double dflt) {
  LLVMValueRef out = kg_var(kg, kg->f32, kg_f32c(kg, dflt));
  LLVMBasicBlockRef join = kg_if(kg, LLVMBuildIsNotNull(kg->b, p, ""));
  kg_set(kg, out, kg_load(kg, p, idx));
  kg_endif(kg, join);
  return kg_get(kg, kg->f32, out);
}

void kg_divrem(Kg *kg, LLVMValueRef a, LLVMValueRef d, LLVMValueRef *q, LLVMValueRef *r) {
  LLVMValueRef qq = LLVMBuildUDiv(kg->b, a, d, "");
  if (q) *q = qq;
  if (r) *r = LLVMBuildSub(kg->b, a, LLVMBuildMul(kg->b, qq, d, ""), "");
}

LLVMValueRef kg_var(Kg *kg, LLVMTypeRef t, LLVMValueRef init) {
  LLVMBuilderRef eb = LLVMCreateBuilderInContext(kg->ctx);
  LLVMValueRef first = LLVMGetFirstInstruction(kg->entry);
  if (first) LLVMPositionBuilderBefore(eb, first);
  else LLVMPositionBuilderAtEnd(eb, kg->entry);
  LLVMValueRef v = LLVMBuildAlloca(eb, t, "");
  LLVMDisposeBuilder(eb);
  if (init) LLVMBuildStore(kg->b, init, v);
  return v;
}

LLVMValueRef kg_get(Kg *kg, LLVMTypeRef t, LLVMValueRef var) { return LLVMBuildLoad2(kg->b, t, var, ""); }
void kg_set(Kg *kg, LLVMValueRef var, LLVMValueRef v) { LLVMBuildStore(kg->b, v, var); }

LLVMBasicBlockRef kg_block(Kg *kg, const char *name) { return LLVMAppendBasicBlockInContext(kg->ctx, kg->fn, name); }

LLVMBasicBlockRef kg_if(Kg *kg, LLVMValueRef cond) {
  LLVMBasicBlockRef then = kg_block(kg, "then"), join = kg_block(kg, "join");
  LLVMBuildCondBr(kg->b, cond, then, join);
  LLVMPositionBuilderAtEnd(kg->b, then);
  return join;
}

void kg_endif(Kg *kg, LLVMBasicBlockRef join) {
  LLVMBuildBr(kg->b, join);
  LLVMPositionBuilderAtEnd(kg->b, join);
}

/* lo and hi of the same integer type; the loop variable lives in an alloca. */
LLVMValueRef kg_for(Kg *kg, KgFor *f, LLVMValueRef lo, LLVMValueRef hi) {
  LLVMTypeRef t = LLVMTypeOf(lo);
  f->var = kg_var(kg, t, lo);
  f->hi = hi;
  f->cond = kg_block(kg, "for.cond");
  f->exit = kg_block(kg, "for.exit");
  LLVMBasicBlockRef body = kg_block(kg, "for.body");
  LLVMBuildBr(kg->b, f->cond);
  LLVMPositionBuilderAtEnd(kg->b, f->cond);
  LLVMValueRef v = kg_get(kg, t, f->var);
  LLVMBuildCondBr(kg->b, LLVMBuildICmp(kg->b, LLVMIntSLT, v, hi, ""), body, f->exit);
  LLVMPositionBuilderAtEnd(kg->b, body);
  return kg_get(kg, t, f->var);
}

void kg_endfor(Kg *kg, KgFor *f) {
  LLVMTypeRef t = LLVMTypeOf(f->hi);
  LLVMValueRef v = kg_get(kg, t, f->var);
  kg_set(kg, f->var, LLVMBuildNSWAdd(kg->b, v, LLVMConstInt(t, 1, 0), ""));
  LLVMBuildBr(kg->b, f->cond);
  LLVMPositionBuilderAtEnd(kg->b, f->exit);
}

LLVMValueRef kg_call_intr(Kg *kg, const char *name, LLVMTypeRef overload, LLVMValueRef *args, unsigned n) {
  unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
  LLVMTypeRef ov[1] = {overload};
  LLVMValueRef fn = LLVMGetIntrinsicDeclaration(kg->mod, id, ov, overload ? 1 : 0);
  LLVMTypeRef fty = LLVMIntrinsicGetType(kg->ctx, id, ov, overload ? 1 : 0);
  return LLVMBuildCall2(kg->b, fty, fn, args, n, "");
}

LLVMValueRef kg_imin(Kg *kg, LLVMValueRef a, LLVMValueRef b) {
  return LLVMBuildSelect(kg->b, LLVMBuildICmp(kg->b, LLVMIntSLT, a, b, ""), a, b, "");
}

LLVMValueRef kg_imax(Kg *kg, LLVMValueRef a, LLVMValueRef b) {
  return LLVMBuildSelect(kg->b, LLVMBuildICmp(kg->b, LLVMIntSGT, a, b, ""), a, b, "");
}
