/* cuda_kernels.h - the plan's generated GPU kernels (kernel_abi.h) on the device: picks the embedded PTX
   module for the GPU, loads it through the driver (ptxas errors shown), looks kernels up by their
   kernel_spec_name (cached per spec) and launches them on a 1-D grid. */
#ifndef SQN_CUDA_KERNELS_H
#define SQN_CUDA_KERNELS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cuda_driver.h"
#include "kernel_abi.h"
#include "plan.h"

typedef struct CudaKernels CudaKernels;

/* A kernel's arguments as cuLaunchKernel takes them: ptr[k] points at parameter k's value. Parameter 0
   (total) is added by ka_init; push the rest in kernel_abi.h's order. Not to be copied (ptr points into val). */
#define KARGS_MAX 16
typedef union KArg { int64_t i; float f; const void *p; } KArg;
typedef struct KArgs {
  KArg val[KARGS_MAX];
  void *ptr[KARGS_MAX];
  int n;
} KArgs;
void ka_init(KArgs *a, int64_t total);
void ka_ptr(KArgs *a, const void *device_ptr);
void ka_i64(KArgs *a, int64_t v);
void ka_f32(KArgs *a, float v);
/* The KernelAct of an activation op (relu ... hswish, silu, hsigmoid, tanh); KACT_NONE for any other op. */
int cuda_act_of(OpKind k);

/* The module for a GPU of compute capability cc (major * 10 + minor): the embedded target with the
   highest sm number <= cc. NULL with a message (no module fits: recompile with sqnc --target sm_XY). */
CudaKernels *cuda_kernels_load(const Plan *p, int cc, char *err, size_t errlen);
/* The target of the module loaded ("sm_75"). */
const char *cuda_kernels_target(const CudaKernels *k);
/* The kernel for a spec (looked up once, then cached); NULL with a message when the module lacks it. */
CUfunction cuda_kernels_get(CudaKernels *k, const KernelSpec *s, char *err, size_t errlen);
/* Launches fn over a->val[0].i work items (256 threads per block) on stream; false with a message. An
   empty launch (total 0) does nothing. */
bool cuda_kernels_launch(CudaKernels *k, CUfunction fn, CUstream stream, KArgs *a, char *err, size_t errlen);
void cuda_kernels_free(CudaKernels *k);
#endif
