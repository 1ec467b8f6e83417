/* lang_compile.h - helpers of the language tests: compile .sqn text with its diagnostics captured,
   a block body inside a small space, and diagnostic cases (message substrings that must appear). */
#ifndef SQN_LANG_COMPILE_H
#define SQN_LANG_COMPILE_H
#include <stdbool.h>
#include "compile.h"

extern char diag_buf[65536]; /* the diagnostics of the last compile */
/* A space `s` (stages of 8 and 16 channels over set c = [a = ir(k=3, e=1), b = ir(k=5, e=6), skip],
   decoder `tiny`) that a case appends to. */
extern const char *const prelude;

/* Compiles src; diagnostics go to diag_buf. */
IrGraph *compile_text(Arena *a, const char *src, const CompileOptions *opt);
/* Compiles body as the statements of block `t(p: int = 2, f: float = 0.5)`, the one candidate of a
   one-superblock space and network (8 channels, 32x64 input to the block). */
IrGraph *compile_block(Arena *a, const char *body);

typedef struct DiagCase {
  const char *body;     /* block body of `t` (see compile_block), or a whole file when starting with '!' */
  const char *expect[3];/* substrings that must all appear in the diagnostics */
} DiagCase;

/* Compiles the case; true when it fails with every expected message (else prints what it got). */
bool run_diag_case(const DiagCase *c);
#endif
