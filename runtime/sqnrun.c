/* sqnrun.c - the sqnrun command line: loads a compiled .plan file and runs one mode on it.
   For now the only mode is --info; the others are recognised and refused until they exist.
   Exit codes: 0 success, 1 the plan could not be used, 2 bad command line. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include "mode_infer.h"
#include "plan.h"

#ifndef SQN_VERSION
#define SQN_VERSION "0.1.0"
#endif

static const char *const options[] = {"--info", "--json", "--help", "--version", "--search", "--train",
                                      "--eval", "--infer", "--bench", "--profile", "--weights", "--logits",
                                      "--argmax", "--threads"};
static const char *const later_modes[] = {"--search", "--train", "--eval", "--bench", "--profile"};
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void usage(FILE *out) {
  fputs("usage: sqnrun FILE.plan --info [--json]\n"
        "       sqnrun NET.plan --weights W.pth|W.safetensors --infer IN.npy [--logits OUT.npy] [--argmax OUT.npy]\n"
        "              [--threads N]\n"
        "       sqnrun --help | --version\n"
        "\n"
        "Runs a plan compiled by sqnc (sqnc FILE.sqn -o FILE.plan).\n"
        "  --info      summarize the plan: network, superblocks, candidates, MAC range, settings\n"
        "  --json      with --info: print one JSON object instead\n"
        "  --help      show this help\n"
        "  --version   show the version and the plan format it reads\n"
        "  --infer IN.npy   run a fixed network on a normalized float32 N x C x H x W array\n"
        "  --weights FILE   PyTorch .pth (legacy or zip) or safetensors, upstream state_dict names\n"
        "  --logits OUT.npy write the float32 logits (N x classes x H x W)\n"
        "  --argmax OUT.npy write the per-pixel class (uint8, N x H x W)\n"
        "  --threads N      CPU threads (default: all cores)\n"
        "Not in this build yet: --search --train --eval --bench --profile (PNG/JPEG input for --infer too)\n",
        out);
}

/* Levenshtein distance, for "did you mean". */
static int edit_distance(const char *a, const char *b) {
  int la = (int)strlen(a), lb = (int)strlen(b), row[64];
  if (la > 62 || lb > 62) return 99;
  for (int j = 0; j <= lb; j++) row[j] = j;
  for (int i = 1; i <= la; i++) {
    int diag = row[0];
    row[0] = i;
    for (int j = 1; j <= lb; j++) {
      int up = row[j], best = diag + (a[i - 1] != b[j - 1]);
      if (up + 1 < best) best = up + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[lb];
}

static int unknown_option(const char *arg) {
  const char *best = NULL;
  int bestd = 4;
  for (int i = 0; i < COUNT(options); i++) {
    int d = edit_distance(arg, options[i]);
    if (d < bestd) bestd = d, best = options[i];
  }
  if (best) fprintf(stderr, "sqnrun: unknown option '%s' (did you mean '%s'?)\n", arg, best);
  else fprintf(stderr, "sqnrun: unknown option '%s' (see sqnrun --help)\n", arg);
  return 2;
}

typedef struct Args {
  const char *plan;
  bool info, json;
  InferArgs infer;
} Args;

/* Options that take a value: returns its slot, or NULL. */
static const char **value_slot(Args *a, const char *arg) {
  if (!strcmp(arg, "--weights")) return &a->infer.weights;
  if (!strcmp(arg, "--infer")) return &a->infer.input;
  if (!strcmp(arg, "--logits")) return &a->infer.logits;
  if (!strcmp(arg, "--argmax")) return &a->infer.argmax;
  return NULL;
}

/* Returns -1 to go on, or an exit code. */
static int parse_arg(Args *a, const char *arg) {
  if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) return usage(stdout), 0;
  if (!strcmp(arg, "--version"))
    return printf("sqnrun %s (plan format %u)\n", SQN_VERSION, SQN_PLAN_VERSION), 0;
  if (!strcmp(arg, "--info")) return a->info = true, -1;
  if (!strcmp(arg, "--json")) return a->json = true, -1;
  for (int i = 0; i < COUNT(later_modes); i++)
    if (!strcmp(arg, later_modes[i]))
      return fprintf(stderr, "sqnrun: %s is not implemented yet in this build\n", arg), 2;
  if (arg[0] == '-' && arg[1]) return unknown_option(arg);
  if (a->plan) return fprintf(stderr, "sqnrun: more than one plan given ('%s' and '%s')\n", a->plan, arg), 2;
  a->plan = arg;
  return -1;
}

static int check_args(const Args *a) {
  if (!a->plan) {
    fputs("sqnrun: no plan file given\n", stderr);
    usage(stderr);
    return 2;
  }
  if (a->info && a->infer.input) return fputs("sqnrun: choose one mode: --info or --infer\n", stderr), 2;
  if (!a->info && !a->infer.input) {
    fprintf(stderr, "sqnrun: what should I do with '%s'? (try --info)\n", a->plan);
    return 2;
  }
  if (a->infer.input && !a->infer.weights)
    return fputs("sqnrun: --infer needs --weights FILE (.pth or .safetensors)\n", stderr), 2;
  if (a->infer.input && !a->infer.logits && !a->infer.argmax)
    return fputs("sqnrun: --infer needs an output: --logits OUT.npy and/or --argmax OUT.npy\n", stderr), 2;
  return -1;
}

int main(int argc, char **argv) {
  Args a = {0};
  a.infer.threads = -1;
  for (int i = 1; i < argc; i++) {
    const char **slot = value_slot(&a, argv[i]);
    if (slot || !strcmp(argv[i], "--threads")) {
      if (i + 1 >= argc) return fprintf(stderr, "sqnrun: option '%s' needs a value\n", argv[i]), 2;
      if (slot) *slot = argv[++i];
      else if (sscanf(argv[++i], "%d", &a.infer.threads) != 1 || a.infer.threads < 0 || a.infer.threads > 1024)
        return fprintf(stderr, "sqnrun: bad --threads '%s' (0 = all cores)\n", argv[i]), 2;
      continue;
    }
    int rc = parse_arg(&a, argv[i]);
    if (rc >= 0) return rc;
  }
  int rc = check_args(&a);
  if (rc >= 0) return rc;
  char err[512];
  Plan *p = plan_read_file(a.plan, err, sizeof err);
  if (!p) {
    fprintf(stderr, "sqnrun: %s: %s\n", a.plan, err);
    return 1;
  }
  if (a.infer.input) {
    rc = mode_infer(p, a.plan, &a.infer);
    plan_free(p);
    return rc;
  }
  plan_print_info(p, stdout, a.json);
  plan_free(p);
  return fflush(stdout) == 0 ? 0 : 1;
}
