/* kgen_internal.h - what the kernel generator's files share: the IR-building context (one kernel body being
   built), small IR helpers (kgen_util.c), the portable math (kgen_math.c), the per-family body builders
   (kgen_eltwise.c, kgen_conv.c, kgen_mix.c, kgen_resize.c, kgen_pool.c, kgen_maxpool.c, kgen_channel.c) and the module builder (kgen_core.c)
   that the emitters (kgen_target.c) call. Index arithmetic is i64 (udiv/urem on non-negative values: NVPTX's
   CodeGenPrepare bypasses them to 32-bit divisions at run time when the operands fit); coordinates within a
   plane (h, w, window taps) are i32, so one plane (H*W, OH*OW) must hold fewer than 2^31 elements. */
#ifndef SQN_KGEN_INTERNAL_H
#define SQN_KGEN_INTERNAL_H
#include <llvm-c/Core.h>
#include <stdbool.h>
#include "kernel_abi.h"

#define KG_MAX_PARAMS 16

/* The body being built: `void NAME_body(i64 i, <the kernel's parameters, total included>)`. */
typedef struct Kg {
  LLVMContextRef ctx;
  LLVMModuleRef mod;
  LLVMBuilderRef b;
  LLVMTypeRef f32, f64, i1, i8, i32, i64, pf32, pi8, ppf32, vd;
  LLVMValueRef fn;              /* the body function */
  LLVMBasicBlockRef entry;      /* holds the allocas (kg_var) */
  LLVMValueRef i;               /* the work item */
  LLVMValueRef a[KG_MAX_PARAMS]; /* a[k]: kernel parameter k (a[0] = total) */
} Kg;

/* One family: its parameters after `total` and the builder of its body.
   sig letters: 'o' written f32*, 'm' read and written f32*, 'i' read-only f32*, 'X' read-only f32**,
   'L' read-only u8* (i8*), 'l' i64, 'f' f32. noalias: the ABI guarantees no pointer overlaps another. */
typedef struct KgFamily {
  const char *sig;
  bool noalias;
  void (*body)(Kg *kg, const KernelSpec *k);
} KgFamily;
const KgFamily *kg_family(KernelFamily f); /* kgen_core.c */

/* kgen_core.c: a module in ctx holding every kernel of specs (duplicates once), each with its GPU wrapper
   (gpu) or host wrapper (!gpu); no triple or data layout yet; NULL with a message on a bad spec. */
LLVMModuleRef kg_build_module(LLVMContextRef ctx, const KernelSpec *specs, int n, bool gpu, char *err, size_t errlen);

/* kgen_util.c: constants, addressing, control flow through allocas (mem2reg/SROA cleans them up). */
LLVMValueRef kg_i64c(Kg *kg, long long v);
LLVMValueRef kg_i32c(Kg *kg, int v);
LLVMValueRef kg_f32c(Kg *kg, double v);
LLVMValueRef kg_f64c(Kg *kg, double v);
LLVMValueRef kg_trunc32(Kg *kg, LLVMValueRef v);  /* i64 -> i32 */
LLVMValueRef kg_sext64(Kg *kg, LLVMValueRef v);   /* i32 -> i64 */
LLVMValueRef kg_gep(Kg *kg, LLVMValueRef p, LLVMValueRef idx); /* &p[idx], p f32*, idx i64 or i32 */
LLVMValueRef kg_load(Kg *kg, LLVMValueRef p, LLVMValueRef idx);
void kg_store(Kg *kg, LLVMValueRef p, LLVMValueRef idx, LLVMValueRef v);
void kg_store_acc(Kg *kg, LLVMValueRef p, LLVMValueRef idx, LLVMValueRef v, LLVMValueRef acc); /* acc: i64 */
void kg_atomic_add(Kg *kg, LLVMValueRef p, LLVMValueRef idx, LLVMValueRef v);
LLVMValueRef kg_load_or(Kg *kg, LLVMValueRef p, LLVMValueRef idx, double dflt); /* p NULL: dflt */
LLVMValueRef kg_is_null(Kg *kg, LLVMValueRef p);
void kg_divrem(Kg *kg, LLVMValueRef a, LLVMValueRef d, LLVMValueRef *q, LLVMValueRef *r); /* unsigned */
LLVMValueRef kg_var(Kg *kg, LLVMTypeRef t, LLVMValueRef init); /* an alloca in the entry block */
LLVMValueRef kg_get(Kg *kg, LLVMTypeRef t, LLVMValueRef var);
void kg_set(Kg *kg, LLVMValueRef var, LLVMValueRef v);
LLVMBasicBlockRef kg_block(Kg *kg, const char *name);
LLVMBasicBlockRef kg_if(Kg *kg, LLVMValueRef cond); /* positions in the then-block; returns the join block */
void kg_endif(Kg *kg, LLVMBasicBlockRef join);
typedef struct KgFor { LLVMValueRef var, hi; LLVMBasicBlockRef cond, exit; } KgFor;
LLVMValueRef kg_for(Kg *kg, KgFor *f, LLVMValueRef lo, LLVMValueRef hi); /* for (v = lo; v < hi; v++): v */
void kg_endfor(Kg *kg, KgFor *f);
LLVMValueRef kg_call_intr(Kg *kg, const char *name, LLVMTypeRef overload, LLVMValueRef *args, unsigned n);
LLVMValueRef kg_imin(Kg *kg, LLVMValueRef a, LLVMValueRef b); /* signed */
LLVMValueRef kg_imax(Kg *kg, LLVMValueRef a, LLVMValueRef b);

/* kgen_math.c: float math with the same IR on every target (tested on the host, run on the GPU). */
LLVMValueRef kg_fma(Kg *kg, LLVMValueRef a, LLVMValueRef b, LLVMValueRef c);
LLVMValueRef kg_exp(Kg *kg, LLVMValueRef x); /* expf, within 2 ulp over the normal range */
LLVMValueRef kg_log(Kg *kg, LLVMValueRef x); /* logf, within 2 ulp */
LLVMValueRef kg_act(Kg *kg, int act, LLVMValueRef x); /* y = act(x) as cpu_relu & co (NaN propagates) */

/* the family bodies */
void kg_body_act(Kg *kg, const KernelSpec *k);
void kg_body_act_bwd(Kg *kg, const KernelSpec *k);
void kg_body_binary(Kg *kg, const KernelSpec *k);
void kg_body_affine(Kg *kg, const KernelSpec *k);
void kg_body_sgd(Kg *kg, const KernelSpec *k);
void kg_body_scale(Kg *kg, const KernelSpec *k);
void kg_body_leaky(Kg *kg, const KernelSpec *k);
void kg_body_dwconv(Kg *kg, const KernelSpec *k);
void kg_body_mix_fwd(Kg *kg, const KernelSpec *k);
void kg_body_mix_bwd_dx(Kg *kg, const KernelSpec *k);
void kg_body_mix_bwd_dw(Kg *kg, const KernelSpec *k);
void kg_body_xent(Kg *kg, const KernelSpec *k);
void kg_body_bilinear(Kg *kg, const KernelSpec *k);
void kg_body_bilinear_bwd(Kg *kg, const KernelSpec *k);
void kg_body_nearest(Kg *kg, const KernelSpec *k);
void kg_body_nearest_bwd(Kg *kg, const KernelSpec *k);
void kg_body_avgpool(Kg *kg, const KernelSpec *k);
void kg_body_gap(Kg *kg, const KernelSpec *k);
void kg_body_maxpool(Kg *kg, const KernelSpec *k);     /* kgen_maxpool.c */
void kg_body_maxpool_bwd(Kg *kg, const KernelSpec *k);
void kg_body_softmax(Kg *kg, const KernelSpec *k);     /* kgen_channel.c */
void kg_body_softmax_bwd(Kg *kg, const KernelSpec *k);
void kg_body_pad(Kg *kg, const KernelSpec *k);
void kg_body_channels(Kg *kg, const KernelSpec *k);
#endif
