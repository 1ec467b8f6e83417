/* kgen_target.c - the kernel generator's targets (kgen.h): which GPU names are accepted and which NVPTX
   processor each gets, building + verifying + optimizing the module (new pass manager, default<O3>, with the
   target's TargetMachine so its cost model guides unrolling), and the three outputs: PTX text (NVPTX back
   end), host code (MCJIT, for the tests) and textual IR. */
#include <llvm-c/Analysis.h>
#include <llvm-c/ExecutionEngine.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kgen.h"
#include "kgen_internal.h"

#define PTX_TRIPLE "nvptx64-nvidia-cuda"

/* The NVPTX processors LLVM 14 knows (from sm_50), oldest first. */
static const struct { int sm; const char *cpu; } known_sms[] = {
    {50, "sm_50"}, {52, "sm_52"}, {53, "sm_53"}, {60, "sm_60"}, {61, "sm_61"}, {62, "sm_62"},
    {70, "sm_70"}, {72, "sm_72"}, {75, "sm_75"}, {80, "sm_80"}, {86, "sm_86"},
};

bool kgen_target_cpu(const char *target, const char **ptx_cpu, char *err, size_t errlen) {
  size_t nd = target && !strncmp(target, "sm_", 3) ? strspn(target + 3, "0123456789") : 0;
  int sm = nd >= 2 && nd <= 3 && target[3 + nd] == 0 && target[3] != '0' ? atoi(target + 3) : 0;
  if (sm < 50) {
    snprintf(err, errlen,
             "unknown GPU target '%s': expected sm_XY, an NVIDIA GPU's compute capability X.Y (5.0 or newer), "
             "e.g. sm_72, sm_75, sm_80, sm_86, sm_89, sm_90",
             target ? target : "(null)");
    return false;
  }
  const char *cpu = known_sms[0].cpu;
  for (size_t k = 0; k < sizeof known_sms / sizeof *known_sms; k++)
    if (known_sms[k].sm <= sm) cpu = known_sms[k].cpu;
  if (ptx_cpu) *ptx_cpu = cpu;
  return true;
}

static void init_llvm(bool gpu) {
  static bool nvptx_done, host_done;
  if (gpu && !nvptx_done) {
    LLVMInitializeNVPTXTargetInfo();
    LLVMInitializeNVPTXTarget();
    LLVMInitializeNVPTXTargetMC();
    LLVMInitializeNVPTXAsmPrinter();
    nvptx_done = true;
  }
  if (!gpu && !host_done) {
    LLVMLinkInMCJIT();
    LLVMInitializeNativeTarget();
    LLVMInitializeNativeAsmPrinter();
    host_done = true;
  }
}

typedef struct Built { LLVMContextRef ctx; LLVMModuleRef mod; LLVMTargetMachineRef tm; } Built;

static void built_free(Built *b) {
  if (b->tm) LLVMDisposeTargetMachine(b->tm);
  if (b->mod) LLVMDisposeModule(b->mod);
  if (b->ctx) LLVMContextDispose(b->ctx);
  memset(b, 0, sizeof *b);
}

static bool fail(Built *b, char *err, size_t errlen, const char *what, char *msg) {
  snprintf(err, errlen, "kernel generator: %s%s%s", what, msg ? ": " : "", msg ? msg : "");
  if (msg) LLVMDisposeMessage(msg);
  built_free(b);
  return false;
}

/* the TargetMachine for target (NULL: this machine) */
static LLVMTargetMachineRef make_tm(const char *target, char *err, size_t errlen) {
  const char *cpu = NULL;
  if (target && !kgen_target_cpu(target, &cpu, err, errlen)) return NULL;
  char *triple = target ? NULL : LLVMGetDefaultTargetTriple(), *msg = NULL;
  char *hcpu = target ? NULL : LLVMGetHostCPUName(), *hfeat = target ? NULL : LLVMGetHostCPUFeatures();
  LLVMTargetRef t;
  LLVMTargetMachineRef tm = NULL;
  if (LLVMGetTargetFromTriple(target ? PTX_TRIPLE : triple, &t, &msg))
    snprintf(err, errlen, "kernel generator: no LLVM target for %s: %s", target ? PTX_TRIPLE : triple, msg ? msg : "");
  else
    tm = LLVMCreateTargetMachine(t, target ? PTX_TRIPLE : triple, target ? cpu : hcpu, target ? "" : hfeat,
                                 LLVMCodeGenLevelAggressive, LLVMRelocDefault, LLVMCodeModelDefault);
  if (msg) LLVMDisposeMessage(msg);
  if (triple) LLVMDisposeMessage(triple);
  if (hcpu) LLVMDisposeMessage(hcpu);
  if (hfeat) LLVMDisposeMessage(hfeat);
  if (!tm && !err[0]) snprintf(err, errlen, "kernel generator: cannot create the target machine");
  return tm;
}

static bool optimize(Built *b, char *err, size_t errlen) {
  LLVMPassBuilderOptionsRef opt = LLVMCreatePassBuilderOptions();
  LLVMPassBuilderOptionsSetLoopVectorization(opt, 0); /* the host runs what the GPU runs: scalar code */
  LLVMPassBuilderOptionsSetSLPVectorization(opt, 0);
  LLVMErrorRef e = LLVMRunPasses(b->mod, "default<O3>", b->tm, opt);
  LLVMDisposePassBuilderOptions(opt);
  if (!e) return true;
  return fail(b, err, errlen, "optimizing", LLVMGetErrorMessage(e));
}

/* the kernels' module for target (NULL: host), verified and optimized */
static bool build(Built *b, const KernelSpec *specs, int n, const char *target, char *err, size_t errlen) {
  memset(b, 0, sizeof *b);
  if (err && errlen) err[0] = 0;
  init_llvm(target != NULL);
  if (!(b->tm = make_tm(target, err, errlen))) return false;
  b->ctx = LLVMContextCreate();
  if (!(b->mod = kg_build_module(b->ctx, specs, n, target != NULL, err, errlen))) return built_free(b), false;
  char *triple = LLVMGetTargetMachineTriple(b->tm);
  LLVMSetTarget(b->mod, triple);
  LLVMDisposeMessage(triple);
  LLVMTargetDataRef dl = LLVMCreateTargetDataLayout(b->tm);
  LLVMSetModuleDataLayout(b->mod, dl);
  LLVMDisposeTargetData(dl);
  char *msg = NULL;
  if (LLVMVerifyModule(b->mod, LLVMReturnStatusAction, &msg)) return fail(b, err, errlen, "invalid IR", msg);
  if (msg) LLVMDisposeMessage(msg);
  return optimize(b, err, errlen);
}

static char *dup_mem(const char *p, size_t n) {
  char *s = malloc(n + 1);
  if (s) memcpy(s, p, n), s[n] = 0;
  return s;
}

char *kgen_emit_ptx(const KernelSpec *specs, int n, const char *target, char *err, size_t errlen) {
  Built b;
  if (!target) return snprintf(err, errlen, "no GPU target given"), NULL;
  if (!build(&b, specs, n, target, err, errlen)) return NULL;
  LLVMMemoryBufferRef buf = NULL;
  char *msg = NULL, *text = NULL;
  if (LLVMTargetMachineEmitToMemoryBuffer(b.tm, b.mod, LLVMAssemblyFile, &msg, &buf))
    return fail(&b, err, errlen, "PTX emission", msg), NULL;
  if (msg) LLVMDisposeMessage(msg);
  text = dup_mem(LLVMGetBufferStart(buf), LLVMGetBufferSize(buf));
  LLVMDisposeMemoryBuffer(buf);
  built_free(&b);
  if (!text) snprintf(err, errlen, "out of memory");
  return text;
}

char *kgen_emit_llvm_ir(const KernelSpec *specs, int n, const char *target, char *err, size_t errlen) {
  Built b;
  if (!build(&b, specs, n, target && strcmp(target, "host") ? target : NULL, err, errlen)) return NULL;
  char *ir = LLVMPrintModuleToString(b.mod), *text = dup_mem(ir, strlen(ir));
  LLVMDisposeMessage(ir);
  built_free(&b);
  if (!text) snprintf(err, errlen, "out of memory");
  return text;
}

struct KgenHost { LLVMContextRef ctx; LLVMExecutionEngineRef ee; };

KgenHost *kgen_host_new(const KernelSpec *specs, int n, char *err, size_t errlen) {
  Built b;
  if (!build(&b, specs, n, NULL, err, errlen)) return NULL;
  KgenHost *h = calloc(1, sizeof *h);
  struct LLVMMCJITCompilerOptions o;
  LLVMInitializeMCJITCompilerOptions(&o, sizeof o);
  o.OptLevel = 2;
  char *msg = NULL;
  if (!h) return fail(&b, err, errlen, "out of memory", NULL), NULL;
  if (LLVMCreateMCJITCompilerForModule(&h->ee, b.mod, &o, sizeof o, &msg)) {
    free(h);
    return fail(&b, err, errlen, "host JIT", msg), NULL;
  }
  b.mod = NULL; /* the engine owns it now */
  h->ctx = b.ctx;
  b.ctx = NULL;
  built_free(&b);
  return h;
}

KgenHostFn kgen_host_lookup(KgenHost *h, const char *name) {
  char hname[SQN_KERNEL_NAME_MAX + 8];
  snprintf(hname, sizeof hname, "%s_host", name);
  uint64_t addr = h ? LLVMGetFunctionAddress(h->ee, hname) : 0;
  return addr ? (KgenHostFn)(uintptr_t)addr : NULL;
}

void kgen_host_free(KgenHost *h) {
  if (!h) return;
  LLVMDisposeExecutionEngine(h->ee);
  LLVMContextDispose(h->ctx);
  free(h);
}
