/* sqnrun.c - the sqnrun command line: loads a compiled .plan file and runs one mode on it
   (--info, --infer, --bench, --train, --eval, --search, --profile, --make-synthetic).
   Exit codes: 0 success, 1 the plan, a file or the run failed, 2 bad command line. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mode_bench.h"
#include "mode_infer.h"
#include "mode_check_step.h"
#include "mode_profile.h"
#include "mode_search.h"
#include "mode_synth.h"
#include "mode_train.h"
#include "plan.h"

#ifndef SQN_VERSION
#define SQN_VERSION "0.1.0"
#endif

static const char *const options[] = {
    "--info", "--json", "--help", "--version", "--search", "--train", "--eval", "--infer", "--bench", "--profile",
    "--weights", "--logits", "--argmax", "--threads", "--iters", "--warmup", "--input", "--labels", "--profile-ops",
    "--backend", "--tap", "--data", "--out", "--epochs", "--batch", "--crop", "--lr", "--seed", "--resume",
    "--freeze-bn", "--workers", "--synthetic-size", "--synthetic-train", "--synthetic-val", "--max-steps",
    "--val-limit", "--make-synthetic", "--stop-after", "--lut", "--alpha", "--arch-lr", "--warmup-epochs", "--samples",
    "--target-macs", "--target-ms", "--derive-val", "--check-step", "--dump", "--objective"};
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void usage(FILE *out) {
  fputs("usage: sqnrun FILE.plan --info [--json]\n"
        "       sqnrun NET.plan --weights W.pth|W.safetensors --infer IN.png|IN.jpg|IN.npy [-o OUT.png] [--labels IDS.png]\n"
        "              [--logits OUT.npy] [--argmax OUT.npy]\n"
        "       sqnrun NET.plan --bench [--weights W] [--input CxHxW] [--iters N] [--warmup N] [--json]\n"
        "       sqnrun NET.plan --bench --train [--batch B] [--input CxHxW] [--iters N] [--json]\n"
        "       sqnrun NET.plan --train --data DIR|synthetic [--epochs N] [--batch B] [--crop HxW] [--lr X]\n"
        "              [--weights W] [--out RUNDIR] [--resume] [--seed S]\n"
        "       sqnrun NET.plan --eval --weights W --data DIR|synthetic [--json]\n"
        "       sqnrun --make-synthetic DIR [--train N] [--val M] [--size HxW] [--seed S]\n"
        "       sqnrun SPACE.plan --search --data DIR|synthetic [--epochs N] [--batch B] [--crop HxW] [--lut lut.json]\n"
        "              [--target-macs G | --target-ms M] [--out RUNDIR] [--resume]\n"
        "       sqnrun SPACE.plan --profile [--input CxHxW] [--iters N] -o lut.json\n"
        "       sqnrun PLAN --check-step DIR --dump OUTDIR [--weights W]\n"
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
        "  --backend NAME   cpu (default) or cuda (--infer, --bench, --eval, --profile on an NVIDIA GPU;\n"
        "                   the plan must carry GPU kernels: sqnc --target sm_XY)\n"
        "  --help, --version\n"
        "  --train          train a fixed network (SGD, momentum and weight decay from the plan's train block);\n"
        "                   evaluates after every epoch; RUNDIR (default run-NETWORK) gets last/best checkpoints\n"
        "                   (.safetensors + .json run state) and log.jsonl\n"
        "  --data DIR       Cityscapes layout (leftImg8bit/, gtFine/ with *_labelIds.png), or 'synthetic': street\n"
        "                   scenes generated on the fly (--synthetic-size HxW, default the network's input size;\n"
        "                   --synthetic-train N, default 400; --synthetic-val M, default 40)\n"
        "  --epochs N --batch B --crop HxW --lr X   override the plan's train settings\n"
        "  --resume         continue the run in --out RUNDIR from its last checkpoint (same result as never stopping)\n"
        "  --seed S         initialization, shuffling and augmentation (default 1)\n"
        "  --freeze-bn      batch norm uses and keeps its running statistics (fine-tuning with small batches)\n"
        "  --max-steps N    at most N steps per epoch; --val-limit N: evaluate at most N validation images\n"
        "  --stop-after N   end after N epochs of this invocation (continue later with --resume)\n"
        "  --workers N      data loader threads (default 2)\n"
        "  --eval           per-class IoU, mIoU, category mIoU and pixel accuracy on the val split (cityscapesScripts' definitions)\n"
        "  --make-synthetic DIR  write the synthetic dataset in the Cityscapes layout (default 200 train, 50 val, 256x512)\n"
        "  --search         resource-aware supernet search: weights by SGD, architecture parameters by Adam, Gumbel-\n"
        "                   softmax mixing with the temperature annealed as the plan's search block says, resource\n"
        "                   loss alpha * expected cost, pruning; then samples --samples architectures, scores them on\n"
        "                   --derive-val val images (default 20), writes pareto.csv/.json/.svg, arch.svg, derived.sqn\n"
        "  --alpha X --arch-lr X --warmup-epochs N --samples N   override the plan's search settings\n"
        "  --objective O    macs, params or latency (needs --lut): override the plan's search objective\n"
        "  --target-macs G  pick the best derived network under G GMACs; --target-ms M: under M ms (needs --lut)\n"
        "  --lut lut.json   latency table for objective latency, measured by --profile\n"
        "  --profile        measure every candidate of a space (batch 1, inference) into a latency table (-o)\n"
        "  --check-step DIR one training step on DIR/input.npy, labels.npy (and mix_weights.npy for a supernet);\n"
        "                   --dump OUTDIR gets loss, logits and every gradient as .npy under state_dict names\n",
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
  bool info, bench, json, train, eval, search, profile;
  const char *check_step, *dump; /* --check-step DIR --dump OUTDIR */
  InferArgs infer;
  BenchArgs b;
  TrainArgs t;
  SearchArgs s;           /* its TrainArgs part is filled from t */
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
  if (!strcmp(arg, "--data")) return &a->t.data;
  if (!strcmp(arg, "--out")) return &a->t.out;
  if (!strcmp(arg, "--crop")) return &a->t.crop;
  if (!strcmp(arg, "--synthetic-size")) return &a->t.synth_size;
  if (!strcmp(arg, "--lut")) return &a->s.lut;
  if (!strcmp(arg, "--objective")) return &a->s.objective;
  if (!strcmp(arg, "--check-step")) return &a->check_step;
  if (!strcmp(arg, "--dump")) return &a->dump;
  return NULL;
}

static int *int_slot(Args *a, const char *arg, int *max) {
  *max = 1000000;
  if (!strcmp(arg, "--threads")) return *max = 1024, &a->infer.threads;
  if (!strcmp(arg, "--iters")) return &a->b.iters;
  if (!strcmp(arg, "--warmup")) return &a->b.warmup;
  if (!strcmp(arg, "--epochs")) return &a->t.epochs;
  if (!strcmp(arg, "--batch")) return *max = 4096, &a->t.batch;
  if (!strcmp(arg, "--workers")) return *max = 64, &a->t.workers;
  if (!strcmp(arg, "--synthetic-train")) return &a->t.synth_train;
  if (!strcmp(arg, "--synthetic-val")) return &a->t.synth_val;
  if (!strcmp(arg, "--max-steps")) return &a->t.max_steps;
  if (!strcmp(arg, "--val-limit")) return &a->t.val_limit;
  if (!strcmp(arg, "--stop-after")) return &a->t.stop_after;
  if (!strcmp(arg, "--warmup-epochs")) return &a->s.warmup;
  if (!strcmp(arg, "--samples")) return &a->s.samples;
  if (!strcmp(arg, "--derive-val")) return &a->s.derive_val;
  return NULL;
}

static double *double_slot(Args *a, const char *opt) {
  if (!strcmp(opt, "--lr")) return &a->t.lr;
  if (!strcmp(opt, "--alpha")) return &a->s.alpha;
  if (!strcmp(opt, "--arch-lr")) return &a->s.arch_lr;
  if (!strcmp(opt, "--target-macs")) return &a->s.target_macs;
  if (!strcmp(opt, "--target-ms")) return &a->s.target_ms;
  return NULL;
}

/* --lr X, --alpha X, ... (non-negative numbers) and --seed S (a non-negative integer). */
static int parse_number(Args *a, int argc, char **argv, int *i) {
  const char *opt = argv[*i];
  if (*i + 1 >= argc) return fprintf(stderr, "sqnrun: option '%s' needs a value\n", opt), 2;
  const char *v = argv[++*i];
  char *end;
  errno = 0;
  double *dv = double_slot(a, opt);
  if (dv) {
    double d = strtod(v, &end);
    if (*end || end == v || errno || !(d >= 0 && d < 1e6))
      return fprintf(stderr, "sqnrun: bad %s '%s' (a non-negative number, e.g. 0.05)\n", opt, v), 2;
    *dv = d;
  } else {
    long s = strtol(v, &end, 10);
    if (*end || end == v || errno || s < 0) return fprintf(stderr, "sqnrun: bad --seed '%s' (a non-negative integer)\n", v), 2;
    a->t.seed = s;
  }
  return -1;
}

/* Options with a value; returns -1 to go on (consuming argv[*i + 1]), 0 when not one, or an exit code. */
static int parse_value(Args *a, int argc, char **argv, int *i) {
  if (!strcmp(argv[*i], "--tap")) {
    if (*i + 1 >= argc) return fprintf(stderr, "sqnrun: option '--tap' needs a value (OP_NAME=OUT.npy)\n"), 2;
    if (a->infer.ntaps == 8) return fputs("sqnrun: at most 8 --tap options\n", stderr), 2;
    a->infer.taps[a->infer.ntaps++] = argv[++*i];
    return -1;
  }
  if (double_slot(a, argv[*i]) || !strcmp(argv[*i], "--seed")) return parse_number(a, argc, argv, i);
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
  if (!strcmp(arg, "--train")) return a->train = true, -1;
  if (!strcmp(arg, "--eval")) return a->eval = true, -1;
  if (!strcmp(arg, "--search")) return a->search = true, -1;
  if (!strcmp(arg, "--profile")) return a->profile = true, -1;
  if (!strcmp(arg, "--resume")) return a->t.resume = true, -1;
  if (!strcmp(arg, "--freeze-bn")) return a->t.freeze_bn = true, -1;
  if (arg[0] == '-' && arg[1]) return unknown_option(arg);
  if (a->plan) return fprintf(stderr, "sqnrun: more than one plan given ('%s' and '%s')\n", a->plan, arg), 2;
  a->plan = arg;
  return -1;
}

static int check_args(const Args *a) {
  if (!a->plan) return fputs("sqnrun: no plan file given\n", stderr), usage(stderr), 2;
  int modes = a->info + a->bench + (a->infer.input != NULL) + (a->train && !a->bench) + a->eval + a->search + a->profile +
              (a->check_step != NULL);
  if (modes > 1)
    return fputs("sqnrun: choose one mode: --info, --infer, --bench, --train, --eval, --search or --profile\n", stderr), 2;
  if (((a->train && !a->bench) || a->eval || a->search) && !a->t.data)
    return fputs("sqnrun: --train, --eval and --search need --data DIR (Cityscapes layout) or --data synthetic\n", stderr), 2;
  if (!modes) return fprintf(stderr, "sqnrun: what should I do with '%s'? (try --info)\n", a->plan), 2;
  if (a->s.objective && strcmp(a->s.objective, "macs") && strcmp(a->s.objective, "params") && strcmp(a->s.objective, "latency"))
    return fprintf(stderr, "sqnrun: bad --objective '%s' (macs, params or latency)\n", a->s.objective), 2;
  if (a->infer.input && !a->infer.weights)
    return fputs("sqnrun: --infer needs --weights FILE (.pth or .safetensors)\n", stderr), 2;
  if (a->infer.input && !a->infer.logits && !a->infer.argmax && !a->infer.color_png && !a->infer.labels_png)
    return fputs("sqnrun: --infer needs an output: -o OUT.png, --labels IDS.png, --logits OUT.npy or --argmax OUT.npy\n",
                 stderr), 2;
  return -1;
}

static int run_mode(Args *a, const Plan *p) {
  if (a->infer.input) return mode_infer(p, a->plan, &a->infer);
  if (a->check_step) return mode_check_step(p, a->infer.weights, a->infer.backend, a->check_step, a->dump);
  if (a->search) {
    a->t.weights = a->infer.weights, a->t.backend = a->infer.backend, a->t.json = a->json;
    a->t.threads = a->infer.threads > 0 ? a->infer.threads : 0;
    a->s.t = a->t;
    return mode_search(p, a->plan, &a->s);
  }
  if (a->profile) {
    a->b.weights = a->infer.weights, a->b.threads = a->infer.threads, a->b.backend = a->infer.backend;
    return mode_profile(p, &a->b, a->infer.color_png);
  }
  if ((a->train && !a->bench) || a->eval) {
    a->t.weights = a->infer.weights, a->t.backend = a->infer.backend, a->t.json = a->json;
    a->t.threads = a->infer.threads > 0 ? a->infer.threads : 0;
    return a->train ? mode_train(p, &a->t) : mode_eval(p, &a->t);
  }
  if (a->bench) {
    a->b.weights = a->infer.weights, a->b.threads = a->infer.threads, a->b.json = a->json;
    a->b.backend = a->infer.backend;
    a->b.train = a->train, a->b.batch = a->t.batch ? a->t.batch : 2;
    return mode_bench(p, &a->b);
  }
  plan_print_info(p, stdout, a->json);
  return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++)
    if (!strcmp(argv[i], "--make-synthetic")) return mode_make_synthetic(argc, argv);
  Args a = {.infer.threads = -1, .b.iters = 20, .b.warmup = 3};
  train_args_defaults(&a.t);
  search_args_defaults(&a.s);
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
