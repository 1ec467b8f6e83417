/* fuzz_frontend.c - libFuzzer target for the .sqn front end: compiles the input bytes as a .sqn
   file (lexer, parser, elaborator, shape checks), and when a graph comes back runs the cost model
   and the fusion pass (inference and training groupings) and checks the fusion invariants.
   Imports are limited to std/... (CompileOptions.no_stdlib_fs). Diagnostics go to /dev/null unless
   SQN_FUZZ_DIAG is set in the environment (then to stderr, for triaging a reproducer).
   Aborts (a finding) when fuse_check fails, when a compile fails without reporting an error, or
   when a graph comes back with errors reported or without its output node. Every compile's memory
   is released with arena_free.
   Built as `fuzz_frontend` with -fsanitize=fuzzer (tests/fuzz.cmake) and, with tests/fuzz_replay.c,
   as `fuzz_replay`, which runs the seed corpus in every build. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "compile.h"
#include "fuse.h"
#include "autodiff.h"
#include "ir.h"

#define FUZZ_MAX_INPUT (2 * 1024 * 1024) /* inputs up to 2 MiB: long lines and tokens must be fuzzed too */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *diag_sink(void) {
  static FILE *sink;
  if (!sink) {
    const char *v = getenv("SQN_FUZZ_DIAG");
    sink = v && *v && *v != '0' ? stderr : fopen("/dev/null", "w");
    if (!sink) sink = stderr;
  }
  return sink;
}

static void finding(const char *what) {
  fprintf(stderr, "fuzz_frontend: %s\n", what);
  abort();
}

static void check_fusion(IrGraph *g, bool inference) {
  char err[512];
  fuse_graph(g, inference);
  if (fuse_check(g, err, sizeof err)) {
    fprintf(stderr, "fuzz_frontend: fuse_check failed (%s grouping) on `%s`: %s\n",
            inference ? "inference" : "training", g->name ? g->name : "?", err);
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > FUZZ_MAX_INPUT) return 0;
  Arena arena = {0};
  Diag diag;
  diag_init(&diag, diag_sink());
  CompileOptions opt = {0};
  opt.no_stdlib_fs = true;
  IrGraph *g = compile_source(&arena, &diag, "fuzz.sqn", (const char *)data, size, &opt);
  if (!g && diag.errors == 0) finding("compile_source returned no graph but reported no error");
  if (g && diag.errors) finding("compile_source returned a graph although it reported errors");
  if (g && (g->output < 0 || g->output >= g->nnodes || g->nodes[g->output].kind != OP_OUTPUT))
    finding("compile_source returned a graph without its output node");
  if (g) {
    IrCostTotals totals;
    ir_compute_costs(g, &totals);
    check_fusion(g, true);
    check_fusion(g, false); /* fuse_graph may be called again: regroups from scratch */
    autodiff(g);
    char err[256];
    if (g->nnodes < 600 && autodiff_check(g, err, sizeof err)) finding(err);
  }
  arena_free(&arena);
  return 0;
}
