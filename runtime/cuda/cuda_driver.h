/* cuda_driver.h - the GPU for the CUDA backend and the GPU tests: the CUDA driver API is loaded at run
   time (dlopen libcuda.so.1), so sqnrun does not link libcuda and the same binary runs CPU-only where
   there is no driver; memory, streams and events go through the CUDA runtime (linked), whose primary
   context the driver calls (modules, launches) then use. */
#ifndef SQN_CUDA_DRIVER_H
#define SQN_CUDA_DRIVER_H
#include <stdbool.h>
#include <stddef.h>
#include <cuda.h>
#include <cuda_runtime_api.h>

/* The driver functions sqn uses. */
typedef struct CudaDriver {
  CUresult (*Init)(unsigned flags);
  CUresult (*DeviceGetCount)(int *count);
  CUresult (*DeviceGet)(CUdevice *dev, int ordinal);
  CUresult (*DeviceGetAttribute)(int *value, CUdevice_attribute attr, CUdevice dev);
  CUresult (*CtxGetCurrent)(CUcontext *ctx);
  CUresult (*ModuleLoadDataEx)(CUmodule *mod, const void *image, unsigned n, CUjit_option *opts, void **values);
  CUresult (*ModuleGetFunction)(CUfunction *fn, CUmodule mod, const char *name);
  CUresult (*ModuleUnload)(CUmodule mod);
  CUresult (*LaunchKernel)(CUfunction fn, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                           unsigned shared_bytes, CUstream stream, void **params, void **extra);
  CUresult (*GetErrorString)(CUresult r, const char **s);
  CUresult (*GetErrorName)(CUresult r, const char **s);
} CudaDriver;

/* The driver, loaded and initialized (cuInit) once; NULL with "no NVIDIA GPU/driver found: ...". */
const CudaDriver *cuda_driver(char *err, size_t errlen);
/* "CUDA_ERROR_NAME (description)" for a driver result, in buf. */
const char *cuda_driver_error(CUresult r, char *buf, size_t n);
/* "cudaErrorName (description)" for a runtime result, in buf. */
const char *cuda_runtime_error(cudaError_t e, char *buf, size_t n);

/* Which of `count` GPUs this process runs on: SQN_CUDA_DEVICE if set, else its local rank (mpirun, srun) modulo
   count, else 0; -1 with a message for a bad SQN_CUDA_DEVICE. */
int cuda_device_pick(int count, char *err, size_t errlen);
/* The GPU the backend runs on (cuda_device_pick) made current with its primary context (cudaSetDevice +
   cudaFree(0)), the driver loaded; *cc = compute capability major * 10 + minor. False with
   "no NVIDIA GPU/driver found: ...; use --backend cpu" (or another clear reason). */
bool cuda_device_open(int *device, int *cc, char *err, size_t errlen);
/* Whether there is a usable GPU, asking only the driver (cuInit, device count): for test probes. */
bool cuda_gpu_present(char *why, size_t n);
#endif
