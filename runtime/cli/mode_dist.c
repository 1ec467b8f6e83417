/* mode_dist.c - the data-parallel parts of --train and --search (mode_dist.h). */
#include "mode_dist.h"
#include <stdio.h>
#include "dist.h"

bool dist_writer(void) { return dist_rank() == 0; }

bool dist_run_start(Loader *l, int batch, Trainer *t, char *err, size_t n) {
  const int ranks = dist_size();
  if (ranks < 2) return true;
  if (batch < ranks)
    return snprintf(err, n, "the global batch %d is smaller than the %d processes of the job: every process needs a "
                            "sample of each batch; give --batch %d or more (process r takes positions [batch*r/%d, "
                            "batch*(r+1)/%d) of every batch)",
                    batch, ranks, ranks, ranks, ranks), false;
  if (!loader_set_shard(l, dist_rank(), ranks)) return snprintf(err, n, "cannot shard the training data"), false;
  if (!trainer_set_data_parallel(t, true, err, n)) return false;
  if (dist_writer() && trainer_data_parallel_how(t)[0])
    fprintf(stderr, "sqnrun: %d ranks: gradients summed %s\n", ranks, trainer_data_parallel_how(t));
  return true;
}

bool dist_run_dir_open(RunDir *d, const char *path, RunDirUse use, char *err, size_t n) {
  if (dist_writer()) return run_dir_open(d, path, use, err, n);
  *d = (RunDir){.lock_fd = -1};
  return true;
}

FILE *dist_run_log_open(const RunDir *d, bool resume, int epoch, char *err, size_t n) {
  if (dist_writer()) return run_log_open(d, resume, epoch, err, n);
  FILE *f = fopen("/dev/null", "w");
  if (!f) snprintf(err, n, "cannot open /dev/null");
  return f;
}
