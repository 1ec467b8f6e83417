/* cli_args.h - what sqnrun's command line says, in one struct: the option table (cli_options.c) fills it,
   every mode (mode_*.c) reads it. An option that several modes take is one field, read by each of them.
   Unset numbers hold the table's defaults; unset strings are NULL; unset shapes are all 0. */
#ifndef SQN_CLI_ARGS_H
#define SQN_CLI_ARGS_H
#include <stdbool.h>
#include "run_dir.h"
#include "tensor.h"

enum { CLI_LIST_MAX = 8 };

typedef struct CliList {  /* a repeatable option, e.g. --tap */
  const char *v[CLI_LIST_MAX];
  int n;
} CliList;

typedef struct CliArgs {
  const char *plan;
  /* every mode that runs a network */
  const char *weights;      /* --weights: .pth or safetensors; NULL: the reference initialization */
  const char *backend;      /* --backend: NULL is "cpu" */
  int threads;              /* --threads: -1 all cores */
  bool json;                /* --json: --info, --bench, --eval */
  const char *output;       /* -o: --infer's Cityscapes-palette PNG, --profile's lut.json */
  /* --infer IN */
  const char *input, *logits, *argmax, *labels_png;
  CliList taps;             /* --tap OP_NAME=OUT.npy: also write that op's output (e.g. decoder.add) */
  /* --bench, --profile */
  Shape input_shape;        /* --input CxHxW (n = 0); c = 0: the plan's input */
  int iters, warmup;
  bool profile_ops;
  bool classes;
  bool no_fuse;             /* --no-fuse: --infer/--bench without run-time fusions (for comparisons) */             /* --bench --classes: time the class-id output (the final upsampling fused with the argmax) */
  /* --train, --eval, --search */
  const char *data;         /* a Cityscapes-layout folder, or "synthetic" */
  const char *run_dir;      /* --out (default run-<network>, search-<space>) */
  Shape crop, synth_size;   /* --crop, --synthetic-size HxW; h = 0: the plan's train crop, its input size */
  int epochs, batch;        /* 0: from the plan (--bench --train: batch 2) */
  double lr;                /* < 0: from the plan */
  long seed;
  bool resume, overwrite, freeze_bn; /* --overwrite: replace the run already in --out */
  int workers, synth_train, synth_val;
  int max_steps;            /* stop each epoch after this many steps (0: the whole epoch) */
  int val_limit;            /* evaluate at most this many validation images (0: all) */
  int stop_after;           /* end this invocation after this many epochs (0: run to --epochs); --resume continues */
  /* --search */
  double alpha, arch_lr;    /* < 0: the plan's */
  int warmup_epochs, samples; /* < 0: the plan's */
  const char *lut;          /* latency table (lut.json) for objective latency */
  const char *objective;    /* macs|params|latency; NULL: the plan's */
  double target_macs, target_ms;
  int derive_val;           /* validation images to score architectures on */
  /* --export-onnx OUT.onnx [--opset N] [--keep-bn], --export-pth OUT.pth */
  const char *export_onnx, *export_pth;
  int opset;
  bool keep_bn;             /* BatchNormalization nodes instead of BN folded into the convs */
  /* --report RUNDIR */
  const char *report_dir;
  /* --check-step DIR --dump OUTDIR */
  const char *check_step, *dump;
  /* --make-synthetic DIR [--train N] [--val M] [--size HxW] [--seed S] */
  const char *make_dir;
  int make_train, make_val, make_seed;
  Shape make_size;          /* h = 0: 256x512 */
} CliArgs;
/* How --train and --search treat a run folder that already holds a run. */
static inline RunDirUse cli_run_dir_use(const CliArgs *a) {
  return a->resume ? RUN_DIR_RESUME : a->overwrite ? RUN_DIR_OVERWRITE : RUN_DIR_NEW;
}
#endif
