/* epoch.h - one epoch of a training run or a search: the loader's batches in order, a step on each,
   the progress line, a clean stop at the end of the data. The step itself is the caller's. */
#ifndef SQN_EPOCH_H
#define SQN_EPOCH_H
#include <stdbool.h>
#include <stddef.h>
#include "loader.h"
#include "train_progress.h"

typedef struct EpochStep {
  /* One step on batch b; its loss into *loss. False with a message stops the epoch. */
  bool (*run)(void *ctx, const Batch *b, double *loss, char *err, size_t n);
  /* After a step (may be NULL): e.g. its log line, with the step's throughput. */
  void (*done)(void *ctx, const Batch *b, double loss, double images_per_s);
  void *ctx;
} EpochStep;

/* Steps per epoch: the loader's batches, at most max_steps when that is positive. */
int epoch_steps(const Loader *l, int max_steps);
/* Runs epoch `epoch` (0-based) of `steps` steps; *mean_loss is the mean of the steps' losses (NaN when
   none ran). False with err set when the loader or a step fails. */
bool epoch_run(Loader *l, int epoch, int steps, Progress *pg, const EpochStep *s, double *mean_loss, char *err, size_t n);
#endif
