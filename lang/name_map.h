/* name_map.h - a hash map from names (NUL-terminated strings) to pointers, in an arena: constant-time
   symbol lookups, so that a source of a million names compiles in linear time. */
#ifndef SQN_NAME_MAP_H
#define SQN_NAME_MAP_H
#include <stdbool.h>
#include <stddef.h>
#include "arena.h"

typedef struct NameMap {
  Arena *a;
  const char **keys; /* open addressing; NULL = empty slot */
  void **vals;
  size_t n, cap;     /* cap is 0 or a power of two */
} NameMap;

/* The value stored under name, or NULL. */
void *name_map_get(const NameMap *m, const char *name);
/* Stores val under name (replacing what was there); name must outlive the map. */
void name_map_put(NameMap *m, const char *name, void *val);
#endif
