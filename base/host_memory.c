/* host_memory.c - the machine's memory size and the up-front size check (host_memory.h). */
#include "host_memory.h"
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

size_t host_memory_total(void) {
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  size_t total = pages > 0 && page > 0 ? (size_t)pages * (size_t)page : 0;
  const char *limit = getenv("SQN_MEMORY_LIMIT");
  double l = limit ? strtod(limit, NULL) : 0;
  if (l > 0 && (!total || l < (double)total)) total = (size_t)l;
  return total;
}

bool host_memory_check(size_t bytes, const char *what, const char *hint, char *err, size_t n) {
  size_t total = host_memory_total();
  if (!total || bytes <= total) return true;
  snprintf(err, n, "%s need %.1f GiB, more than this machine's %.1f GiB of memory; %s", what, bytes / 1073741824.0,
           total / 1073741824.0, hint);
  return false;
}
