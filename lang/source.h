/* source.h - loading .sqn source files (from disk or memory). */
#ifndef SQN_SOURCE_H
#define SQN_SOURCE_H
#include "arena.h"
#include "diag.h"

/* Returns NULL and sets *err (static text) on failure. */
SourceFile *source_load(Arena *a, const char *path, const char **err);
SourceFile *source_from_memory(Arena *a, const char *name, const char *text, size_t len);
#endif
