/* mode_dist.h - what --train and --search do differently in a data-parallel run (docs/distributed.md): every rank
   trains on its shard of each global batch; rank 0 alone holds the run folder, writes the log, checkpoints and
   report, and prints. In one process these are the plain calls. */
#ifndef SQN_MODE_DIST_H
#define SQN_MODE_DIST_H
#include <stdbool.h>
#include <stdio.h>
#include "loader.h"
#include "run_dir.h"
#include "trainer.h"

/* Whether this process writes and prints for the run (rank 0). */
bool dist_writer(void);
/* Shards the loader's global batches of `batch` over the ranks and turns on the trainer's data-parallel steps;
   false with a message when batch does not divide by the number of ranks or the backend cannot. */
bool dist_run_start(Loader *l, int batch, Trainer *t, char *err, size_t n);
/* run_dir_open and run_log_open on rank 0; on the other ranks no folder and a log that goes nowhere. */
bool dist_run_dir_open(RunDir *d, const char *path, RunDirUse use, char *err, size_t n);
FILE *dist_run_log_open(const RunDir *d, bool resume, int epoch, char *err, size_t n);
#endif
