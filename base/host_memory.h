/* host_memory.h - refusing buffer sizes that can never fit in this machine's memory, before they
   are allocated: with overcommit an allocation far beyond it may succeed and end, pages later, in
   the kernel's OOM killer instead of a message. */
#ifndef SQN_HOST_MEMORY_H
#define SQN_HOST_MEMORY_H
#include <stdbool.h>
#include <stddef.h>

/* Physical memory in bytes (0 when unknown). SQN_MEMORY_LIMIT (bytes, e.g. 2e9) lowers it, for
   tests and for sharing a machine. */
size_t host_memory_total(void);
/* False with "WHAT need X GiB, more than this machine's Y GiB of memory; HINT" when bytes exceed it. */
bool host_memory_check(size_t bytes, const char *what, const char *hint, char *err, size_t n);
#endif
