/* plan_write.h - serializes a graph IR into the binary plan format (docs/plan-format.md). */
#ifndef SQN_PLAN_WRITE_H
#define SQN_PLAN_WRITE_H
#include <stdbool.h>
#include <stddef.h>
#include "ir.h"

/* Encode g into a malloc'ed buffer (*buf, *len); the caller frees *buf. False (and *buf = NULL)
   when memory runs out or the graph does not fit the format's 32-bit counts. Deterministic: the
   same graph always gives the same bytes. */
bool plan_write_mem(const IrGraph *g, unsigned char **buf, size_t *len);

/* Encode g, check the result with the runtime's reader, and write it to path atomically (a
   temporary file in the same folder, fsync, rename). On failure no file is left behind, path is
   untouched and err holds a one-line reason. */
bool plan_write(const IrGraph *g, const char *path, char *err, size_t errlen);

#endif
