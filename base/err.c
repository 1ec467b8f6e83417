/* err.c - err_set (err.h). */
#include "err.h"
#include <stdarg.h>
#include <stdio.h>

bool err_set(char *err, size_t n, const char *fmt, ...) {
  if (!err || !n) return false;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, n, fmt, ap);
  va_end(ap);
  return false;
}
