/* mode_train.h - `sqnrun NET.plan --train --data DIR|synthetic [...]` (training with per-epoch
   evaluation, checkpoints and resume) and `sqnrun NET.plan --weights W --eval --data DIR|synthetic`. */
#ifndef SQN_MODE_TRAIN_H
#define SQN_MODE_TRAIN_H
#include <stdbool.h>
#include "plan.h"

typedef struct TrainArgs {
  const char *data;         /* a Cityscapes-layout folder, or "synthetic" */
  const char *weights;      /* start from these weights (else the reference initialization) */
  const char *out;          /* run folder (default run-<network>) */
  const char *backend;
  const char *crop;         /* "HxW"; default: the plan's train settings */
  const char *synth_size;   /* "HxW" of on-the-fly synthetic images (default 256x512) */
  int epochs, batch;        /* 0: from the plan */
  double lr;                /* < 0: from the plan */
  long seed;
  bool resume, json, freeze_bn;
  int threads, workers;
  int synth_train, synth_val;
  int max_steps;            /* stop each epoch after this many steps (0: the whole epoch) */
  int val_limit;            /* evaluate at most this many validation images (0: all) */
  int stop_after;           /* end this invocation after this many epochs (0: run to --epochs); --resume continues */
} TrainArgs;

void train_args_defaults(TrainArgs *a);
int mode_train(const Plan *p, const TrainArgs *a);
int mode_eval(const Plan *p, const TrainArgs *a);
#endif
