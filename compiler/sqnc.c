/* sqnc.c - the compiler CLI: sqnc FILE.sqn [-o FILE.plan] [--stats [--json]] [--input CxHxW]
   [--name NAME] [-I DIR] [--dump-ir[=before|after]] [--dot] [--target sm_XY,...] [--emit-ptx DIR]. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "compile.h"
#include "dump.h"
#include "fuse.h"
#include "memplan.h"
#include "autodiff.h"
#include "plan_write.h"
#include "stats.h"
#ifdef SQN_HAVE_KGEN
#include "ptx_embed.h"
#endif

#define SQN_VERSION "0.1.0"

typedef struct Cli {
  const char *input_file, *output, *dump_ir;
  const char *targets, *ptx_dir; /* --target LIST, --emit-ptx DIR */
  bool stats, json, dot, quiet;
  IrRecompute recompute;
  CompileOptions opt;
} Cli;

static void usage(FILE *out) {
  fputs("usage: sqnc FILE.sqn [options]\n"
        "  -o FILE.plan          write the compiled plan\n"
        "  --stats               per-layer MACs/params table and totals\n"
        "  --json                with --stats: machine-readable JSON\n"
        "  --input CxHxW         override the input shape (e.g. 3x1024x2048)\n"
        "  --name NAME           which space or network to compile (default: the last one in FILE)\n"
        "  -I DIR                add DIR to the import search path\n"
        "  --dump-ir[=WHEN]      print the graph IR before and/or after passes (WHEN: before, after, both)\n"
        "  --dot                 print the fused graph in graphviz DOT format\n"
        "  --recompute LEVEL     what training recomputes in the backward pass instead of keeping:\n"
        "                        act (ReLUs of BNs), dw (also depthwise convs),\n"
        "                        all (also widening convs: least memory; the default)\n"
        "  --target LIST         embed GPU kernels (PTX) for these targets, e.g. sm_72,sm_75,sm_90\n"
        "  --emit-ptx DIR        write the GPU kernels' PTX: DIR/<target>.ptx (the module) and\n"
        "                        DIR/<target>/<kernel>.ptx (each kernel alone)\n"
        "                        (for --target's targets, default sm_75)\n"
        "  -q, --quiet           no summary line\n"
        "  --help, --version\n",
        out);
}

/* A plan written by sqnc -o starts with the magic "SQNPLAN\0" (docs/plan-format.md). */
static bool is_plan_file(const char *path) {
  FILE *f = fopen(path, "rb");
  char magic[8] = {0};
  bool plan = f && fread(magic, 1, sizeof magic, f) == sizeof magic && !memcmp(magic, "SQNPLAN", 8);
  if (f) fclose(f);
  return plan;
}

static int usage_error(const char *fmt, const char *arg, const char *hint) {
  fprintf(stderr, "sqnc: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\n");
  if (hint) fprintf(stderr, "  hint: %s\n", hint);
  fprintf(stderr, "run `sqnc --help` for usage\n");
  return 2;
}

static bool parse_shape(const char *s, Shape *out) {
  int c, h, w;
  char tail;
  if (sscanf(s, "%dx%dx%d%c", &c, &h, &w, &tail) != 3) return false;
  if (c < 1 || h < 1 || w < 1 || c > 4096 || h > 65536 || w > 65536) return false;
  *out = (Shape){0, c, h, w};
  return true;
}

static const char *known_flags[] = {"-o", "--stats", "--json", "--input", "--name", "-I", "--dump-ir", "--dot",
                                    "--quiet", "--help", "--version", "--target", "--emit-ptx", "--recompute"};

static int unknown_flag(const char *arg) {
  const char *best = diag_closest(arg, known_flags, (int)(sizeof known_flags / sizeof *known_flags));
  char hint[64];
  snprintf(hint, sizeof hint, "did you mean '%s'?", best ? best : "");
  return usage_error("unknown option '%s'", arg, best ? hint : NULL);
}

/* Returns -1 to continue, or an exit code. */
static int parse_args(int argc, char **argv, Cli *c) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    bool has_next = i + 1 < argc;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) return usage(stdout), 0;
    if (!strcmp(a, "--version")) return printf("sqnc %s\n", SQN_VERSION), 0;
    if (!strcmp(a, "-o") || !strcmp(a, "--input") || !strcmp(a, "--name") || !strcmp(a, "-I") ||
        !strcmp(a, "--target") || !strcmp(a, "--emit-ptx") || !strcmp(a, "--recompute")) {
      if (!has_next) return usage_error("option '%s' needs a value", a, NULL);
      const char *v = argv[++i];
      if (!strcmp(a, "-o")) c->output = v;
      else if (!strcmp(a, "--target")) c->targets = v;
      else if (!strcmp(a, "--emit-ptx")) c->ptx_dir = v;
      else if (!strcmp(a, "--recompute")) {
        if (!strcmp(v, "act")) c->recompute = IR_RECOMPUTE_ACT;
        else if (!strcmp(v, "dw")) c->recompute = IR_RECOMPUTE_DW;
        else if (!strcmp(v, "all")) c->recompute = IR_RECOMPUTE_ALL;
        else return usage_error("bad --recompute '%s'", v, "use act, dw or all");
      }
      else if (!strcmp(a, "--name")) c->opt.select = v;
      else if (!strcmp(a, "-I")) {
        if (c->opt.ninclude == 8) return usage_error("too many -I folders (at most %s)", "8", NULL);
        c->opt.include_dirs[c->opt.ninclude++] = v;
      } else if (!parse_shape(v, &c->opt.input)) {
        return usage_error("bad --input '%s'", v, "write it as CxHxW, e.g. 3x1024x2048");
      } else {
        c->opt.has_input = true;
      }
    } else if (!strcmp(a, "--stats")) c->stats = true;
    else if (!strcmp(a, "--json")) c->json = true;
    else if (!strcmp(a, "--dot")) c->dot = true;
    else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) c->quiet = true;
    else if (!strcmp(a, "--dump-ir")) c->dump_ir = "both";
    else if (!strncmp(a, "--dump-ir=", 10)) {
      c->dump_ir = a + 10;
      if (strcmp(c->dump_ir, "before") && strcmp(c->dump_ir, "after") && strcmp(c->dump_ir, "both"))
        return usage_error("bad --dump-ir value '%s'", c->dump_ir, "use before, after or both");
    } else if (a[0] == '-' && a[1]) return unknown_flag(a);
    else if (c->input_file) return usage_error("more than one input file ('%s')", a, "compile one .sqn file at a time");
    else c->input_file = a;
  }
  if (!c->input_file) {
    usage(stderr);
    return 2;
  }
  if (is_plan_file(c->input_file))
    return usage_error("'%s' is a compiled plan, not .sqn source", c->input_file,
                       "sqnc compiles .sqn files; look inside a plan with `sqnrun PLAN --info`");
  if (c->json && !c->stats) return usage_error("%s needs --stats", "--json", NULL);
#ifdef SQN_HAVE_KGEN
  char why[256];
  if (c->targets && !ptx_check_targets(c->targets, why, sizeof why)) {
    fprintf(stderr, "sqnc: --target %s: %s\nrun `sqnc --help` for usage\n", c->targets, why);
    return 2;
  }
#else
  if (c->targets || c->ptx_dir)
    return usage_error("%s: this sqnc was built without LLVM, so it cannot emit GPU kernels",
                       c->targets ? "--target" : "--emit-ptx",
                       "install LLVM's development files (Debian: llvm-dev) and rebuild");
#endif
  return -1;
}

/* --target: PTX modules into the graph (plan_write embeds them); --emit-ptx: one file per kernel. */
static bool emit_gpu_kernels(const Cli *c, IrGraph *g) {
#ifdef SQN_HAVE_KGEN
  char err[512];
  if (c->targets && !ptx_embed(g, c->targets, err, sizeof err)) {
    fprintf(stderr, "sqnc: --target %s: %s\n", c->targets, err);
    return false;
  }
  if (c->ptx_dir) {
    int n = ptx_write_dir(g, c->targets ? c->targets : "sm_75", c->ptx_dir, err, sizeof err);
    if (n < 0) return fprintf(stderr, "sqnc: --emit-ptx %s: %s\n", c->ptx_dir, err), false;
    if (!c->quiet) fprintf(stderr, "sqnc: wrote %d PTX files under %s\n", n, c->ptx_dir);
  }
#else
  (void)c, (void)g;
#endif
  return true;
}

static int emit(Cli *c, IrGraph *g, const IrCostTotals *t) {
  bool both = c->dump_ir && !strcmp(c->dump_ir, "both");
  if (c->dump_ir && (both || !strcmp(c->dump_ir, "before"))) {
    if (both) printf("== IR before passes ==\n");
    dump_ir(g, stdout);
  }
  fuse_graph(g, true);
  memplan(g);
  g->recompute = c->recompute;
  autodiff(g);
  if (c->dump_ir && (both || !strcmp(c->dump_ir, "after"))) {
    if (both) printf("\n== IR after fusion ==\n");
    dump_ir(g, stdout);
  }
  if (c->dot) dump_dot(g, stdout);
  if (c->stats) (c->json ? stats_print_json : stats_print_table)(g, t, stdout);
  if (!emit_gpu_kernels(c, g)) return 3;
  if (c->output) {
    char err[512];
    if (!plan_write(g, c->output, err, sizeof err)) {
      fprintf(stderr, "sqnc: cannot write %s: %s\n", c->output, err);
      return 3;
    }
    if (!c->quiet && !c->json)
      fprintf(stderr, "sqnc: wrote %s (%s %s: %d nodes, %d superblocks, %d fused kernels%s%s)\n", c->output,
              g->is_space ? "space" : "network", g->name, g->nnodes, g->nsb, g->nkernels,
              g->nptx ? ", GPU kernels for " : "", g->nptx ? c->targets : "");
  }
  return 0;
}

int main(int argc, char **argv) {
  Cli c;
  memset(&c, 0, sizeof c);
  int rc = parse_args(argc, argv, &c);
  if (rc >= 0) return rc;
  Arena arena = {0};
  Diag diag;
  diag_init(&diag, stderr);
  c.opt.allow_library = !c.output && !c.stats && !c.dump_ir && !c.dot;
  IrGraph *g = compile_file(&arena, &diag, c.input_file, &c.opt);
  if (!g) {
    fprintf(stderr, "sqnc: %d error%s in %s\n", diag.errors, diag.errors == 1 ? "" : "s", c.input_file);
    arena_free(&arena);
    return 1;
  }
  if (!g->name) {
    if (!c.quiet)
      fprintf(stderr, "sqnc: %s checked: its blocks resolve; it declares no space or network to compile\n",
              c.input_file);
    arena_free(&arena);
    return 0;
  }
  IrCostTotals totals;
  ir_compute_costs(g, &totals);
  char abs[PATH_MAX];
  if (g->nsb > 0 && g->sb[0].loc.file && realpath(g->sb[0].loc.file->path, abs)) g->space_file = arena_strdup(&arena, abs);
  rc = emit(&c, g, &totals);
  if (rc == 0 && !c.output && !c.stats && !c.dump_ir && !c.dot && !c.quiet)
    fprintf(stderr, "sqnc: %s %s is valid (%d superblock%s); use -o FILE.plan to write a plan\n",
            g->is_space ? "space" : "network", g->name, g->nsb, g->nsb == 1 ? "" : "s");
  arena_free(&arena);
  return rc;
}
