/* sqnrun.c - the sqnrun command line: loads a compiled .plan file and runs one mode on it.
   For now the only mode is --info; the others are recognised and refused until they exist.
   Exit codes: 0 success, 1 the plan could not be used, 2 bad command line. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "plan.h"

#ifndef SQN_VERSION
#define SQN_VERSION "0.1.0"
#endif

static const char *const options[] = {"--info", "--json", "--help", "--version", "--search", "--train",
                                      "--eval", "--infer", "--bench", "--profile"};
static const char *const later_modes[] = {"--search", "--train", "--eval", "--infer", "--bench", "--profile"};
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void usage(FILE *out) {
  fputs("usage: sqnrun FILE.plan --info [--json]\n"
        "       sqnrun --help | --version\n"
        "\n"
        "Runs a plan compiled by sqnc (sqnc FILE.sqn -o FILE.plan).\n"
        "  --info      summarize the plan: network, superblocks, candidates, MAC range, settings\n"
        "  --json      with --info: print one JSON object instead\n"
        "  --help      show this help\n"
        "  --version   show the version and the plan format it reads\n"
        "Not in this build yet: --search --train --eval --infer --bench --profile\n",
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
} Args;

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
  if (!a->info) {
    fprintf(stderr, "sqnrun: what should I do with '%s'? (try --info)\n", a->plan);
    return 2;
  }
  return -1;
}

int main(int argc, char **argv) {
  Args a = {0};
  for (int i = 1; i < argc; i++) {
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
  plan_print_info(p, stdout, a.json);
  plan_free(p);
  return fflush(stdout) == 0 ? 0 : 1;
}
