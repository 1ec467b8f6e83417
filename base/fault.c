/* fault.c - SQN_FAULT=POINT:N crash injection (fault.h). */
#include "fault.h"
#include <signal.h>
#include <stdlib.h>
#include <string.h>

void fault_point(const char *name) {
  static long hits;
  const char *spec = getenv("SQN_FAULT");
  size_t len = strlen(name);
  if (!spec || strncmp(spec, name, len) != 0 || spec[len] != ':') return;
  if (__atomic_add_fetch(&hits, 1, __ATOMIC_SEQ_CST) == atol(spec + len + 1)) raise(SIGKILL);
}
