/* checkpoint.h - training checkpoints: one safetensors file holding the weights (state_dict names),
   the optimizer state ("momentum.<name>") and the run state in its __metadata__ (epoch, step, LR,
   seed, best mIoU), written atomically (temporary file, fsync, rename), plus a JSON copy of the
   run state next to it for people and scripts. */
#ifndef SQN_CHECKPOINT_H
#define SQN_CHECKPOINT_H
#include <stdbool.h>
#include <stdint.h>
#include "tensor_set.h"

typedef struct RunState {
  int epoch;             /* epochs completed */
  long step;             /* optimizer steps taken */
  double lr;             /* the LR of the last step */
  uint64_t seed;
  double best_miou;      /* -1 before any evaluation */
  int best_epoch;
  double last_loss;
  /* searches only */
  long adam_steps;       /* Adam's step count for the architecture parameters */
  double budget_lambda;  /* the budget's and the skip limit's Lagrange multipliers (search.h Budget) */
  double skip_mu;
  char pruned[8192];     /* "sb:k,sb:k,..." of pruned candidates ("" none) */
} RunState;

/* weights and optimizer (may be NULL) into path; the run state also as path-with-.json. */
bool checkpoint_save(const char *path, const TensorSet *weights, const TensorSet *optimizer, const RunState *s,
                     char *err, size_t n);
/* Reads a checkpoint: *weights gets the parameters, *optimizer the momentum.* / adam_m.* / adam_v.* ones
   (both owned by the caller), and the run state. */
bool checkpoint_load(const char *path, TensorSet **weights, TensorSet **optimizer, RunState *s, char *err, size_t n);
/* The run state as one JSON object (malloc'd). */
char *run_state_json(const RunState *s);
#endif
