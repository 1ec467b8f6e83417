/* mode_train.h - `sqnrun NET.plan --train --data DIR|synthetic [...]` (training with per-epoch
   evaluation, checkpoints and resume) and `sqnrun NET.plan --weights W --eval --data DIR|synthetic`. */
#ifndef SQN_MODE_TRAIN_H
#define SQN_MODE_TRAIN_H
#include "cli_args.h"
#include "plan.h"

int mode_train(const Plan *p, const CliArgs *a);
int mode_eval(const Plan *p, const CliArgs *a);
#endif
