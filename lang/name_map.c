/* name_map.c - open-addressing hash map from names to pointers (FNV-1a, linear probing, grown at
   half full). Memory comes from the map's arena and is released with it. */
#include "name_map.h"
#include <stdint.h>
#include <string.h>

static size_t hash(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return (size_t)h;
}

/* The slot holding name, or the empty slot where it would go. */
static size_t slot_of(const NameMap *m, const char *name) {
  size_t i = hash(name) & (m->cap - 1);
  while (m->keys[i] && strcmp(m->keys[i], name)) i = (i + 1) & (m->cap - 1);
  return i;
}

void *name_map_get(const NameMap *m, const char *name) {
  if (!m->cap) return NULL;
  size_t i = slot_of(m, name);
  return m->keys[i] ? m->vals[i] : NULL;
}

static void grow(NameMap *m) {
  NameMap bigger = {m->a, NULL, NULL, 0, m->cap ? m->cap * 2 : 16};
  bigger.keys = ARENA_ARRAY(m->a, const char *, bigger.cap);
  bigger.vals = ARENA_ARRAY(m->a, void *, bigger.cap);
  for (size_t i = 0; i < m->cap; i++)
    if (m->keys[i]) name_map_put(&bigger, m->keys[i], m->vals[i]);
  *m = bigger;
}

void name_map_put(NameMap *m, const char *name, void *val) {
  if (2 * (m->n + 1) > m->cap) grow(m);
  size_t i = slot_of(m, name);
  if (!m->keys[i]) m->n++;
  m->keys[i] = name;
  m->vals[i] = val;
}
