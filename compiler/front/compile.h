/* compile.h - the compiler's entry point: .sqn source -> elaborated, shape-checked graph IR. */
#ifndef SQN_COMPILE_H
#define SQN_COMPILE_H
#include "ir.h"

typedef struct CompileOptions {
  const char *select;        /* name of the space or network to compile; NULL = the last one in the file */
  bool has_input;            /* override the input shape */
  Shape input;
  const char *include_dirs[8];
  int ninclude;
  bool allow_library;        /* a file without space/network is checked and returned as an empty graph */
  bool no_stdlib_fs;         /* fuzzing: resolve imports only from the embedded search path, never disk */
} CompileOptions;

/* Returns NULL when errors were reported to diag. */
IrGraph *compile_file(Arena *a, Diag *d, const char *path, const CompileOptions *opt);
IrGraph *compile_source(Arena *a, Diag *d, const char *name, const char *text, size_t len,
                        const CompileOptions *opt);
#endif
