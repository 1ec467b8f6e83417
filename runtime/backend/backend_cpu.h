/* backend_cpu.h - what the CPU backend's files share: its state (backend_cpu.c prepares it for inference,
   backend_cpu_device.c for training) and its device, host memory (backend_cpu_device.c). */
#ifndef SQN_BACKEND_CPU_H
#define SQN_BACKEND_CPU_H
#include "backend.h"
#include "backend_fold.h"

typedef struct CpuState {
  const Plan *p;
  BackendFold f;  /* folded BN, conv epilogues (inference; none in training) */
  double *marks;  /* BackendDevice.mark's timestamps, 2 per node, allocated on first use */
  int *group;     /* per node: the inverted-residual kernel it heads that cpu_fused_ir can run, or -1 (inference) */
  float *scratch; /* cpu_fused_ir's rings, grown as needed */
  size_t scratch_floats;
} CpuState;

/* Backend.release: frees a state of either kind. */
void cpu_release(void *state);
extern const BackendDevice backend_cpu_device;
#endif
