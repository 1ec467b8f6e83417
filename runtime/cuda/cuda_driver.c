/* cuda_driver.c - loads the CUDA driver API at run time and opens the GPU (cuda_driver.h). */
#include "cuda_driver.h"
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NO_GPU "no NVIDIA GPU/driver found: "
#define USE_CPU "; use --backend cpu"

static CudaDriver drv;
static bool loaded;
static char load_error[512];

/* dlsym into a function pointer without the object-to-function pointer cast ISO C warns about. */
static bool sym(void *lib, const char *name, void *fn_slot) {
  void *p = dlsym(lib, name);
  if (p) memcpy(fn_slot, &p, sizeof p);
  else snprintf(load_error, sizeof load_error, NO_GPU "libcuda.so.1 has no %s (driver too old?)" USE_CPU, name);
  return p != NULL;
}

static bool load(void) {
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    snprintf(load_error, sizeof load_error, NO_GPU "cannot load the driver library libcuda.so.1 (%s)" USE_CPU, dlerror());
    return false;
  }
  bool ok = sym(lib, "cuInit", &drv.Init) && sym(lib, "cuDeviceGetCount", &drv.DeviceGetCount) &&
            sym(lib, "cuDeviceGet", &drv.DeviceGet) && sym(lib, "cuDeviceGetAttribute", &drv.DeviceGetAttribute) &&
            sym(lib, "cuCtxGetCurrent", &drv.CtxGetCurrent) && sym(lib, "cuModuleLoadDataEx", &drv.ModuleLoadDataEx) &&
            sym(lib, "cuModuleGetFunction", &drv.ModuleGetFunction) && sym(lib, "cuModuleUnload", &drv.ModuleUnload) &&
            sym(lib, "cuLaunchKernel", &drv.LaunchKernel) && sym(lib, "cuGetErrorString", &drv.GetErrorString) &&
            sym(lib, "cuGetErrorName", &drv.GetErrorName);
  if (!ok) return dlclose(lib), false;
  CUresult r = drv.Init(0);
  if (r != CUDA_SUCCESS) {
    char why[256];
    snprintf(load_error, sizeof load_error, NO_GPU "cuInit failed: %s" USE_CPU, cuda_driver_error(r, why, sizeof why));
    return false; /* the library stays loaded: its functions may still name errors */
  }
  return true;
}

const CudaDriver *cuda_driver(char *err, size_t n) {
  static bool tried;
  if (!tried) tried = true, loaded = load();
  if (!loaded) snprintf(err, n, "%s", load_error);
  return loaded ? &drv : NULL;
}

const char *cuda_driver_error(CUresult r, char *buf, size_t n) {
  const char *name = NULL, *text = NULL;
  if (drv.GetErrorName) drv.GetErrorName(r, &name);
  if (drv.GetErrorString) drv.GetErrorString(r, &text);
  if (name) snprintf(buf, n, "%s (%s)", name, text ? text : "no description");
  else if (r == CUDA_ERROR_STUB_LIBRARY) snprintf(buf, n, "CUDA_ERROR_STUB_LIBRARY (the toolkit's stub libcuda, not a driver)");
  else snprintf(buf, n, "CUDA driver error %d", (int)r);
  return buf;
}

const char *cuda_runtime_error(cudaError_t e, char *buf, size_t n) {
  snprintf(buf, n, "%s (%s)", cudaGetErrorName(e), cudaGetErrorString(e));
  return buf;
}

static bool no_device(cudaError_t e) {
  return e == cudaErrorInsufficientDriver || e == cudaErrorNoDevice || e == cudaErrorInitializationError ||
         e == cudaErrorCompatNotSupportedOnDevice || e == cudaErrorSystemDriverMismatch ||
         e == cudaErrorDevicesUnavailable;
}

/* A failed runtime call while opening the GPU: the no-GPU message where that is what it means. */
static bool open_failed(const char *what, cudaError_t e, char *err, size_t n) {
  char why[256];
  cuda_runtime_error(e, why, sizeof why);
  if (no_device(e)) snprintf(err, n, NO_GPU "%s: %s" USE_CPU, what, why);
  else snprintf(err, n, "cannot open the GPU: %s: %s", what, why);
  return false;
}

/* This process's rank among those of the job on this host, as the launcher says (Open MPI, Slurm, MPICH/Hydra,
   PMIx), or -1. */
static int local_rank(void) {
  static const char *const vars[] = {"OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID", "MPI_LOCALRANKID", "PMI_LOCAL_RANK",
                                     "PMIX_LOCAL_RANK"};
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
    const char *v = getenv(vars[i]);
    char *end;
    long r = v ? strtol(v, &end, 10) : -1;
    if (v && *v && !*end && r >= 0 && r < 1 << 20) return (int)r;
  }
  return -1;
}

int cuda_device_pick(int count, char *err, size_t n) {
  const char *v = getenv("SQN_CUDA_DEVICE");
  if (v && *v) {
    char *end;
    long d = strtol(v, &end, 10);
    if (*end || d < 0 || d >= count)
      return snprintf(err, n, "SQN_CUDA_DEVICE=%s: not a device of this machine (it has %d: 0 to %d)", v, count, count - 1),
             -1;
    return (int)d;
  }
  const int r = local_rank();
  return r < 0 ? 0 : r % count; /* ranks on one host take its GPUs in turn (each its own with CUDA_VISIBLE_DEVICES) */
}

bool cuda_device_open(int *device, int *cc, char *err, size_t n) {
  if (!cuda_driver(err, n)) return false;
  int count = 0, major = 0, minor = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) return open_failed("cudaGetDeviceCount", e, err, n);
  if (count < 1) return snprintf(err, n, NO_GPU "the driver sees no device" USE_CPU), false;
  if ((*device = cuda_device_pick(count, err, n)) < 0) return false;
  if ((e = cudaSetDevice(*device)) != cudaSuccess) return open_failed("cudaSetDevice", e, err, n);
  if ((e = cudaFree(NULL)) != cudaSuccess) return open_failed("creating the primary context", e, err, n);
  if ((e = cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, *device)) != cudaSuccess ||
      (e = cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, *device)) != cudaSuccess)
    return open_failed("cudaDeviceGetAttribute", e, err, n);
  *cc = major * 10 + minor;
  CUcontext ctx = NULL;
  if (drv.CtxGetCurrent(&ctx) != CUDA_SUCCESS || !ctx)
    return snprintf(err, n, "the CUDA runtime made no context current for the driver API (runtime and driver mismatch?)"), false;
  return true;
}

bool cuda_gpu_present(char *why, size_t n) {
  const CudaDriver *d = cuda_driver(why, n);
  int count = 0;
  CUresult r = d ? d->DeviceGetCount(&count) : CUDA_ERROR_NOT_INITIALIZED;
  if (d && r != CUDA_SUCCESS) {
    char e[256];
    snprintf(why, n, NO_GPU "cuDeviceGetCount: %s", cuda_driver_error(r, e, sizeof e));
  } else if (d && count < 1) {
    snprintf(why, n, NO_GPU "the driver sees no device");
  }
  return d && r == CUDA_SUCCESS && count > 0;
}
