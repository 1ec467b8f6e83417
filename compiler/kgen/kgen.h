/* kgen.h - sqnc's kernel generator: builds the kernels of kernel_abi.h as LLVM IR through the LLVM C API,
   then emits them as PTX for an NVIDIA target (the NVPTX back end) or compiles them for the host (x86-64,
   through LLVM's JIT: the host-kernel tests run the very IR the GPU runs). One IR builder per family
   (kgen_*.c); each kernel's per-work-item body is shared by the GPU wrapper (grid-stride loop over the
   thread index) and the host wrapper (a loop over every work item, arguments from a void** array). */
#ifndef SQN_KGEN_H
#define SQN_KGEN_H
#include <stdbool.h>
#include <stddef.h>
#include "kernel_abi.h"

/* A target name sqnc accepts ("sm_72", "sm_75", "sm_80", "sm_86", "sm_89", "sm_90", ...): true when PTX can
   be emitted for it; *ptx_cpu is the NVPTX processor the PTX targets (the newest LLVM knows that is not
   newer than the GPU: PTX runs on later GPUs through the driver's JIT), e.g. sm_90 -> "sm_86" with LLVM 14. */
bool kgen_target_cpu(const char *target, const char **ptx_cpu, char *err, size_t errlen);

/* PTX text (malloc'd, NUL-terminated) holding every kernel of `specs` for `target`; NULL with a message. */
char *kgen_emit_ptx(const KernelSpec *specs, int n, const char *target, char *err, size_t errlen);

/* Host versions (tests): every kernel of `specs` compiled for this machine; look each up by its name. */
typedef struct KgenHost KgenHost;
typedef void (*KgenHostFn)(void **args);
KgenHost *kgen_host_new(const KernelSpec *specs, int n, char *err, size_t errlen);
KgenHostFn kgen_host_lookup(KgenHost *h, const char *name); /* the kernel's name from kernel_spec_name */
void kgen_host_free(KgenHost *h);

/* The textual LLVM IR of the kernels' module for `target` ("host" or an sm_XX), for people and tests. */
char *kgen_emit_llvm_ir(const KernelSpec *specs, int n, const char *target, char *err, size_t errlen);
#endif
