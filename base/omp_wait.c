/* omp_wait.c - choosing the OpenMP wait policy by re-executing once (omp_wait.h). */
#define _GNU_SOURCE
#include "omp_wait.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void omp_wait_choose(char **argv) {
  if (getenv("OMP_WAIT_POLICY")) return;
  const char *want = getenv("SQN_OMP_WAIT");
  if (!want || !*want) want = SQN_OMP_WAIT_DEFAULT;
  if (strcmp(want, "active") && strcmp(want, "passive")) {
    fprintf(stderr, "sqnrun: warning: SQN_OMP_WAIT=%s is neither active nor passive; using OpenMP's default\n", want);
    return;
  }
  if (setenv("OMP_WAIT_POLICY", want, 1) != 0) return;
  execv("/proc/self/exe", argv); /* returns only on failure: go on with libgomp's default */
  unsetenv("OMP_WAIT_POLICY");
}
