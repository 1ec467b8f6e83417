/* backend_device.c - what the callers of BackendDevice (the executor, the trainer) share: sizes checked
   against host memory, allocations with a message naming what ran out, and reading device memory on the
   host without a copy where it is host memory (backend.h). */
#include <stdio.h>
#include <stdlib.h>
#include "backend.h"
#include "host_memory.h"

bool backend_dev_fits(const BackendDevice *d, size_t bytes, const char *what, const char *hint, char *err, size_t n) {
  return !d->host || host_memory_check(bytes, what, hint, err, n);
}

void *backend_dev_alloc(const BackendDevice *d, void *state, size_t bytes, const char *what, char *err, size_t n) {
  char why[512] = "";
  void *p = d->alloc(state, bytes ? bytes : 64, why, sizeof why);
  if (p) return p;
  if (d->host) snprintf(err, n, "out of memory: %s need %.1f MiB", what, bytes / 1048576.0);
  else snprintf(err, n, "out of device memory: %s need %.1f MiB (%s)", what, bytes / 1048576.0, why);
  return NULL;
}

const void *backend_dev_read(const BackendDevice *d, void *state, const void *src, size_t bytes, bool copy, void **stage,
                             size_t *cap, char *err, size_t n) {
  if (d->host && !copy) return src;
  if (bytes > *cap) {
    free(*stage);
    *cap = (*stage = malloc(bytes ? bytes : 1)) ? bytes : 0;
    if (!*stage) return snprintf(err, n, "out of memory"), NULL;
  }
  return d->download(state, *stage, src, bytes, err, n) ? *stage : NULL;
}
