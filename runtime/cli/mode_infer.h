/* mode_infer.h - `sqnrun NET.plan --weights W --infer IN.png|IN.jpg|IN.npy [-o OUT.png] [--labels IDS.png]
   [--logits OUT.npy] [--argmax OUT.npy] [--tap OP_NAME=OUT.npy]`. */
#ifndef SQN_MODE_INFER_H
#define SQN_MODE_INFER_H
#include "cli_args.h"
#include "plan.h"

/* Returns the process exit code: 0 ok, 1 a file or the run failed. */
int mode_infer(const Plan *p, const CliArgs *a);
#endif
