/* kgen_core.c - builds the kernels' LLVM module: per kernel of kernel_abi.h, the shared per-work-item body
   `NAME_body(i64 i, params...)` (internal, alwaysinline; built by the family's builder) and one wrapper:
   the GPU kernel `void NAME(params...)` (a grid-stride loop over ctaid.x*ntid.x + tid.x, marked as a kernel
   in nvvm.annotations) or the host function `void NAME_host(void **args)` (parameters loaded from the
   cuLaunchKernel-style array, a loop over every work item). Target setup and emission are kgen_target.c's. */
#include <stdio.h>
#include <string.h>
#include "kgen_internal.h"

static const KgFamily families[KFAM__COUNT] = {
    [KFAM_ACT] = {"oil", false, kg_body_act},
    [KFAM_ACT_BWD] = {"miill", false, kg_body_act_bwd}, /* cpu_grad.h allows dx == dy */
    [KFAM_BINARY] = {"oiillllllllllll", true, kg_body_binary},
    [KFAM_AFFINE] = {"oiiill", false, kg_body_affine},
    [KFAM_DWCONV] = {"oiiillllllll", true, kg_body_dwconv},
    [KFAM_MIX_FWD] = {"oXilll", true, kg_body_mix_fwd},
    [KFAM_MIX_BWD_DX] = {"miillll", true, kg_body_mix_bwd_dx},
    [KFAM_MIX_BWD_DW] = {"miillll", true, kg_body_mix_bwd_dw},
    [KFAM_XENT] = {"ooiLllllf", true, kg_body_xent},
    [KFAM_BILINEAR] = {"oilllll", true, kg_body_bilinear},
    [KFAM_BILINEAR_BWD] = {"milllll", true, kg_body_bilinear_bwd},
    [KFAM_NEAREST] = {"oilllll", true, kg_body_nearest},
    [KFAM_NEAREST_BWD] = {"milllll", true, kg_body_nearest_bwd},
    [KFAM_AVGPOOL] = {"oilllllllllll", true, kg_body_avgpool},
    [KFAM_GAP] = {"oill", true, kg_body_gap},
    [KFAM_SGD] = {"mimlfffl", true, kg_body_sgd},
    [KFAM_SCALE] = {"milffl", false, kg_body_scale},
    [KFAM_LEAKY] = {"miilfl", false, kg_body_leaky},
    [KFAM_MAXPOOL] = {"oillllllllllll", true, kg_body_maxpool},
    [KFAM_MAXPOOL_BWD] = {"miillllllllllll", true, kg_body_maxpool_bwd},
    [KFAM_SOFTMAX] = {"mill", true, kg_body_softmax},
    [KFAM_SOFTMAX_BWD] = {"miilll", true, kg_body_softmax_bwd},
    [KFAM_PAD] = {"millllllfl", true, kg_body_pad},
    [KFAM_CHANNELS] = {"millllll", true, kg_body_channels},
};

const KgFamily *kg_family(KernelFamily f) { return f >= 0 && f < KFAM__COUNT ? &families[f] : NULL; }

static void init_types(Kg *kg, LLVMContextRef ctx, LLVMModuleRef mod) {
  memset(kg, 0, sizeof *kg);
  kg->ctx = ctx, kg->mod = mod;
  kg->f32 = LLVMFloatTypeInContext(ctx), kg->f64 = LLVMDoubleTypeInContext(ctx);
  kg->i1 = LLVMInt1TypeInContext(ctx), kg->i8 = LLVMInt8TypeInContext(ctx);
  kg->i32 = LLVMInt32TypeInContext(ctx), kg->i64 = LLVMInt64TypeInContext(ctx);
  kg->pf32 = LLVMPointerType(kg->f32, 0), kg->pi8 = LLVMPointerType(kg->i8, 0);
  kg->ppf32 = LLVMPointerType(kg->pf32, 0), kg->vd = LLVMVoidTypeInContext(ctx);
}

static LLVMTypeRef sig_type(const Kg *kg, char c) {
  switch (c) {
  case 'o': case 'm': case 'i': return kg->pf32;
  case 'X': return kg->ppf32;
  case 'L': return kg->pi8;
  case 'f': return kg->f32;
  default: return kg->i64;
  }
}

/* the kernel's parameter types (total first); returns the count */
static int param_types(const Kg *kg, const KgFamily *fam, LLVMTypeRef *t) {
  int n = 0;
  t[n++] = kg->i64;
  for (const char *s = fam->sig; *s; s++) t[n++] = sig_type(kg, *s);
  return n;
}

static void add_attr(Kg *kg, LLVMValueRef fn, unsigned idx, const char *name) {
  unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
  LLVMAddAttributeAtIndex(fn, idx, LLVMCreateEnumAttribute(kg->ctx, kind, 0));
}

/* pointer attributes on fn's parameters, the kernel's parameter 0 being fn's parameter `first` */
static void pointer_attrs(Kg *kg, LLVMValueRef fn, const KgFamily *fam, unsigned first) {
  for (unsigned k = 1; fam->sig[k - 1]; k++) {
    char c = fam->sig[k - 1];
    unsigned idx = first + k + 1; /* LLVMAttributeFirstArgIndex is 1 */
    if (c == 'l' || c == 'f') continue;
    add_attr(kg, fn, idx, "nocapture");
    if (fam->noalias) add_attr(kg, fn, idx, "noalias");
    if (c == 'i' || c == 'X' || c == 'L') add_attr(kg, fn, idx, "readonly");
  }
}

static LLVMValueRef build_body(Kg *kg, const KernelSpec *k, const KgFamily *fam, const char *name) {
  LLVMTypeRef t[KG_MAX_PARAMS + 1];
  t[0] = kg->i64;
  int n = param_types(kg, fam, t + 1) + 1;
  char bname[SQN_KERNEL_NAME_MAX + 8];
  snprintf(bname, sizeof bname, "%s_body", name);
  LLVMValueRef fn = LLVMAddFunction(kg->mod, bname, LLVMFunctionType(kg->vd, t, (unsigned)n, 0));
  LLVMSetLinkage(fn, LLVMInternalLinkage);
  add_attr(kg, fn, LLVMAttributeFunctionIndex, "alwaysinline");
  add_attr(kg, fn, LLVMAttributeFunctionIndex, "nounwind");
  pointer_attrs(kg, fn, fam, 1);
  kg->fn = fn;
  kg->entry = kg_block(kg, "entry");
  LLVMPositionBuilderAtEnd(kg->b, kg->entry);
  kg->i = LLVMGetParam(fn, 0);
  for (int j = 1; j < n; j++) kg->a[j - 1] = LLVMGetParam(fn, (unsigned)j);
  fam->body(kg, k);
  LLVMBuildRetVoid(kg->b);
  return fn;
}

/* for (i = start; i < total; i += step) body(i, params) in fn, whose entry block the builder is at */
static void item_loop(Kg *kg, LLVMValueRef fn, LLVMValueRef body, LLVMValueRef *params, int n, LLVMValueRef start,
                      LLVMValueRef step) {
  LLVMBuilderRef b = kg->b;
  LLVMBasicBlockRef pre = LLVMGetInsertBlock(b), loop = LLVMAppendBasicBlockInContext(kg->ctx, fn, "loop");
  LLVMBasicBlockRef exit = LLVMAppendBasicBlockInContext(kg->ctx, fn, "exit");
  LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntSLT, start, params[0], ""), loop, exit);
  LLVMPositionBuilderAtEnd(b, loop);
  LLVMValueRef i = LLVMBuildPhi(b, kg->i64, "i"), args[KG_MAX_PARAMS + 1];
  args[0] = i;
  for (int k = 0; k < n; k++) args[k + 1] = params[k];
  LLVMBuildCall2(b, LLVMGlobalGetValueType(body), body, args, (unsigned)n + 1, "");
  LLVMValueRef next = LLVMBuildNSWAdd(b, i, step, "");
  LLVMAddIncoming(i, (LLVMValueRef[]){start, next}, (LLVMBasicBlockRef[]){pre, loop}, 2);
  LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntSLT, next, params[0], ""), loop, exit);
  LLVMPositionBuilderAtEnd(b, exit);
  LLVMBuildRetVoid(b);
}

static LLVMValueRef sreg(Kg *kg, const char *name) {
  char full[64];
  snprintf(full, sizeof full, "llvm.nvvm.read.ptx.sreg.%s", name);
  return LLVMBuildZExt(kg->b, kg_call_intr(kg, full, NULL, NULL, 0), kg->i64, "");
}

static void build_gpu_wrapper(Kg *kg, const KgFamily *fam, LLVMValueRef body, const char *name) {
  LLVMTypeRef t[KG_MAX_PARAMS];
  int n = param_types(kg, fam, t);
  LLVMValueRef fn = LLVMAddFunction(kg->mod, name, LLVMFunctionType(kg->vd, t, (unsigned)n, 0)), p[KG_MAX_PARAMS];
  add_attr(kg, fn, LLVMAttributeFunctionIndex, "nounwind");
  pointer_attrs(kg, fn, fam, 0);
  for (int k = 0; k < n; k++) p[k] = LLVMGetParam(fn, (unsigned)k);
  LLVMPositionBuilderAtEnd(kg->b, LLVMAppendBasicBlockInContext(kg->ctx, fn, "entry"));
  kg->fn = fn;
  LLVMValueRef ntid = sreg(kg, "ntid.x");
  LLVMValueRef start = LLVMBuildNUWMul(kg->b, sreg(kg, "ctaid.x"), ntid, "");
  start = LLVMBuildAdd(kg->b, start, sreg(kg, "tid.x"), "");
  LLVMValueRef step = LLVMBuildNUWMul(kg->b, sreg(kg, "nctaid.x"), ntid, "");
  item_loop(kg, fn, body, p, n, start, step);
  LLVMValueRef md[3] = {fn, LLVMMDStringInContext(kg->ctx, "kernel", 6), kg_i32c(kg, 1)};
  LLVMAddNamedMetadataOperand(kg->mod, "nvvm.annotations", LLVMMDNodeInContext(kg->ctx, md, 3));
}

static void build_host_wrapper(Kg *kg, const KgFamily *fam, LLVMValueRef body, const char *name) {
  LLVMTypeRef t[KG_MAX_PARAMS], ppi8 = LLVMPointerType(kg->pi8, 0);
  int n = param_types(kg, fam, t);
  char hname[SQN_KERNEL_NAME_MAX + 8];
  snprintf(hname, sizeof hname, "%s_host", name);
  LLVMValueRef fn = LLVMAddFunction(kg->mod, hname, LLVMFunctionType(kg->vd, &ppi8, 1, 0)), p[KG_MAX_PARAMS];
  LLVMPositionBuilderAtEnd(kg->b, LLVMAppendBasicBlockInContext(kg->ctx, fn, "entry"));
  kg->fn = fn;
  for (int k = 0; k < n; k++) {
    LLVMValueRef idx = kg_i64c(kg, k);
    LLVMValueRef slot = LLVMBuildInBoundsGEP2(kg->b, kg->pi8, LLVMGetParam(fn, 0), &idx, 1, "");
    LLVMValueRef vp = LLVMBuildBitCast(kg->b, LLVMBuildLoad2(kg->b, kg->pi8, slot, ""), LLVMPointerType(t[k], 0), "");
    p[k] = LLVMBuildLoad2(kg->b, t[k], vp, "");
  }
  item_loop(kg, fn, body, p, n, kg_i64c(kg, 0), kg_i64c(kg, 1));
}

/* why spec k cannot be built, or NULL */
static const char *spec_problem(const KernelSpec *k) {
  const KgFamily *fam = kg_family(k->family);
  if (!fam || !fam->body) return "unknown kernel family";
  if ((int)strlen(fam->sig) + 1 != kernel_family_nparams(k->family)) return "parameter count mismatch (kernel_abi.c)";
  if (k->act < 0 || k->act >= KACT__COUNT) return "unknown activation";
  if ((k->family == KFAM_ACT || k->family == KFAM_ACT_BWD) && k->act == KACT_NONE) return "activation none";
  if (k->family == KFAM_BINARY && (k->op < 0 || k->op >= KBIN__COUNT)) return "unknown binary op";
  if (k->family == KFAM_DWCONV) {
    if (k->kh < 1 || k->kw < 1 || k->kh * k->kw > 256) return "kernel size out of range (1..256 taps)";
    if (k->sh < 1 || k->sw < 1 || k->dh < 1 || k->dw < 1) return "stride or dilation below 1";
  }
  return NULL;
}

LLVMModuleRef kg_build_module(LLVMContextRef ctx, const KernelSpec *specs, int n, bool gpu, char *err, size_t errlen) {
  Kg kg;
  LLVMModuleRef mod = LLVMModuleCreateWithNameInContext("sqn_kernels", ctx);
  init_types(&kg, ctx, mod);
  kg.b = LLVMCreateBuilderInContext(ctx);
  char name[SQN_KERNEL_NAME_MAX];
  for (int j = 0; j < n; j++) {
    kernel_spec_name(&specs[j], name, sizeof name);
    const char *why = spec_problem(&specs[j]);
    if (why) {
      snprintf(err, errlen, "kernel %s: %s", name, why);
      LLVMDisposeBuilder(kg.b);
      LLVMDisposeModule(mod);
      return NULL;
    }
    char bname[SQN_KERNEL_NAME_MAX + 8];
    snprintf(bname, sizeof bname, "%s_body", name);
    if (LLVMGetNamedFunction(mod, bname)) continue; /* the same variant twice */
    const KgFamily *fam = kg_family(specs[j].family);
    LLVMValueRef body = build_body(&kg, &specs[j], fam, name);
    if (gpu) build_gpu_wrapper(&kg, fam, body, name);
    else build_host_wrapper(&kg, fam, body, name);
  }
  LLVMDisposeBuilder(kg.b);
  return mod;
}
