/* backend.c - backend_get: the backends this build has, by name. */
#include <stdio.h>
#include <string.h>
#include "backend.h"

#if SQN_HAVE_CUDA
#define BACKENDS "cpu, cuda"
#else
#define BACKENDS "cpu"
#endif

const Backend *backend_get(const char *name, char *err, size_t n) {
  if (!name || !strcmp(name, "cpu")) return &backend_cpu;
#if SQN_HAVE_CUDA
  if (!strcmp(name, "cuda")) return &backend_cuda;
#else
  if (!strcmp(name, "cuda"))
    return snprintf(err, n, "this build has no CUDA backend (built without the CUDA toolkit/cuDNN); use --backend cpu"),
           NULL;
#endif
  snprintf(err, n, "unknown backend '%s' (this build has: %s)", name, BACKENDS);
  return NULL;
}
