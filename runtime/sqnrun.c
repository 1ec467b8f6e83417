/* sqnrun.c - the sqnrun command line: loads a compiled .plan file and runs one mode on it
   (--info, --infer, --bench); the modes of later issues are recognised and refused.
   Exit codes: 0 success, 1 the plan, a file or the run failed, 2 bad command line. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mode_bench.h"
#include "mode_infer.h"
#include "plan.h"

#ifndef SQN_VERSION
#define SQN_VERSION "0.1.0"
#endif

static const char *const options[] = {"--info", "--json", "--help", "--version", "--search", "--train", "--eval",
                                      "--infer", "--bench", "--profile", "--weights", "--logits", "--argmax",
                                      "--threads", "--iters", "--warmup", "--input", "--labels", "--profile-ops", "--backend", "--tap"};
static const char *const later_modes[] = {"--search", "--train", "--eval", "--profile"};
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void usage(FILE *out) {
  fputs("usage: sqnrun FILE.plan --info [--json]\n"
        "       sqnrun NET.plan --weights W.pth|W.safetensors --infer IN.png|IN.jpg|IN.npy [-o OUT.png] [--labels IDS.png]\n"
        "              [--logits OUT.npy] [--argmax OUT.npy]\n"
        "       sqnrun NET.plan --bench [--weights W] [--input CxHxW] [--iters N] [--warmup N] [--json]\n"
        "       sqnrun --help | --version\n"
        "\n"
        "Runs a plan compiled by sqnc (sqnc FILE.sqn -o FILE.plan).\n"
        "  --info           summarize the plan: network, superblocks, candidates, MAC range, settings\n"
        "  --json           with --info or --bench: print one JSON object instead\n"
        "  --infer IN       run a fixed network on a PNG/JPEG image (normalized as upstream: ImageNet\n"
        "                   mean/std) or a normalized float32 N x C x H x W NumPy array\n"
        "  -o OUT.png       the prediction in the Cityscapes palette; --labels IDS.png: train ids (gray)\n"
        "  --weights FILE   PyTorch .pth (legacy or zip) or safetensors, upstream state_dict names\n"
        "  --logits OUT.npy write the float32 logits (N x classes x H x W)\n"
        "  --argmax OUT.npy write the per-pixel class (uint8, N x H x W)\n"
        "  --tap OP=OUT.npy also write the output of the op named OP (e.g. decoder.add; up to 8)\n"
        "  --bench          batch-1 latency: warm-up, then min/median/mean/p90/p99, throughput, GMAC/s, memory\n"
        "  --iters N        timed runs for --bench (default 20); --warmup N (default 3)\n"
        "  --input CxHxW    with --bench: the input size (default: the compiled one)\n"
        "  --profile-ops    with --bench: also time every op and show where the time goes\n"
        "  --threads N      CPU threads (default: all cores)\n"
        "  --backend NAME   cpu (default; the CUDA backend arrives with its issue)\n"
        "  --help, --version\n"
        "Not in this build yet: --search --train --eval --profile\n",
        out);
}

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
  bool info, bench, json;
  InferArgs infer;
  BenchArgs b;
} Args;

static const char **string_slot(Args *a, const char *arg) {
  if (!strcmp(arg, "--weights")) return &a->infer.weights;
  if (!strcmp(arg, "--infer")) return &a->infer.input;
  if (!strcmp(arg, "--logits")) return &a->infer.logits;
  if (!strcmp(arg, "--argmax")) return &a->infer.argmax;
  if (!strcmp(arg, "-o")) return &a->infer.color_png;
  if (!strcmp(arg, "--labels")) return &a->infer.labels_png;
  if (!strcmp(arg, "--input")) return &a->b.input;
  if (!strcmp(arg, "--backend")) return &a->infer.backend;
  return NULL;
}

static int *int_slot(Args *a, const char *arg, int *max) {
  *max = 1000000;
  if (!strcmp(arg, "--threads")) return *max = 1024, &a->infer.threads;
  if (!strcmp(arg, "--iters")) return &a->b.iters;
  if (!strcmp(arg, "--warmup")) return &a->b.warmup;
  return NULL;
}

/* Options with a value; returns -1 to go on (consuming argv[*i + 1]), 0 when not one, or an exit code. */
static int parse_value(Args *a, int argc, char **argv, int *i) {
  if (!strcmp(argv[*i], "--tap")) {
    if (*i + 1 >= argc) return fprintf(stderr, "sqnrun: option '--tap' needs a value (OP_NAME=OUT.npy)\n"), 2;
    if (a->infer.ntaps == 8) return fputs("sqnrun: at most 8 --tap options\n", stderr), 2;
    a->infer.taps[a->infer.ntaps++] = argv[++*i];
    return -1;
  }
  int max, *iv = int_slot(a, argv[*i], &max);
  const char **sv = string_slot(a, argv[*i]);
  if (!iv && !sv) return 0;
  if (*i + 1 >= argc) return fprintf(stderr, "sqnrun: option '%s' needs a value\n", argv[*i]), 2;
  const char *v = argv[++*i];
  if (sv) return *sv = v, -1;
  char tail;
  if (sscanf(v, "%d%c", iv, &tail) != 1 || *iv < (iv == &a->b.iters) || *iv > max)
    return fprintf(stderr, "sqnrun: bad %s '%s' (an integer from %d to %d)\n", argv[*i - 1], v, iv == &a->b.iters, max), 2;
  return -1;
}

/* Flags and the plan path; returns -1 to go on, or an exit code. */
static int parse_arg(Args *a, const char *arg) {
  if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) return usage(stdout), 0;
  if (!strcmp(arg, "--version")) return printf("sqnrun %s (plan format %u)\n", SQN_VERSION, SQN_PLAN_VERSION), 0;
  if (!strcmp(arg, "--info")) return a->info = true, -1;
  if (!strcmp(arg, "--bench")) return a->bench = true, -1;
  if (!strcmp(arg, "--profile-ops")) return a->b.profile_ops = true, -1;
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
  if (!a->plan) return fputs("sqnrun: no plan file given\n", stderr), usage(stderr), 2;
  int modes = a->info + a->bench + (a->infer.input != NULL);
  if (modes > 1) return fputs("sqnrun: choose one mode: --info, --infer or --bench\n", stderr), 2;
  if (!modes) return fprintf(stderr, "sqnrun: what should I do with '%s'? (try --info)\n", a->plan), 2;
  if (a->infer.input && !a->infer.weights)
    return fputs("sqnrun: --infer needs --weights FILE (.pth or .safetensors)\n", stderr), 2;
  if (a->infer.input && !a->infer.logits && !a->infer.argmax && !a->infer.color_png && !a->infer.labels_png)
    return fputs("sqnrun: --infer needs an output: -o OUT.png, --labels IDS.png, --logits OUT.npy or --argmax OUT.npy\n",
                 stderr), 2;
  return -1;
}

static int run_mode(Args *a, const Plan *p) {
  if (a->infer.input) return mode_infer(p, a->plan, &a->infer);
  if (a->bench) {
    a->b.weights = a->infer.weights, a->b.threads = a->infer.threads, a->b.json = a->json;
    a->b.backend = a->infer.backend;
    return mode_bench(p, &a->b);
  }
  plan_print_info(p, stdout, a->json);
  return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  Args a = {.infer.threads = -1, .b.iters = 20, .b.warmup = 3};
  for (int i = 1; i < argc; i++) {
    int rc = parse_value(&a, argc, argv, &i);
    if (rc == 0) rc = parse_arg(&a, argv[i]);
    if (rc >= 0) return rc;
  }
  int rc = check_args(&a);
  if (rc >= 0) return rc;
  char err[512];
  Plan *p = plan_read_file(a.plan, err, sizeof err);
  if (!p) return fprintf(stderr, "sqnrun: %s: %s\n", a.plan, err), 1;
  rc = run_mode(&a, p);
  plan_free(p);
  return rc;
}
