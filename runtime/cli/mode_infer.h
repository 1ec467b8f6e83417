/* mode_infer.h - `sqnrun NET.plan --weights W --infer IN.png|IN.jpg|IN.npy [-o OUT.png] [--labels IDS.png]
   [--logits OUT.npy] [--argmax OUT.npy]`. */
#ifndef SQN_MODE_INFER_H
#define SQN_MODE_INFER_H
#include "plan.h"

typedef struct InferArgs {
  const char *weights, *input, *logits, *argmax;
  const char *color_png, *labels_png; /* Cityscapes-palette prediction; train ids as gray PNG */
  int threads;
  const char *backend;  /* "cpu" (default) */
  const char *taps[8];  /* "OP_NAME=OUT.npy": also write that op's output (e.g. decoder.add) */
  int ntaps;
} InferArgs;

/* Returns the process exit code: 0 ok, 1 a file or the run failed. */
int mode_infer(const Plan *p, const char *plan_path, const InferArgs *a);
#endif
