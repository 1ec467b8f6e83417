/* epoch.c - the epoch loop shared by --train and --search (epoch.h). */
#include "epoch.h"
#include <math.h>
#include "clock.h"

int epoch_steps(const Loader *l, int max_steps) {
  int nb = loader_batches_per_epoch(l);
  return max_steps > 0 && max_steps < nb ? max_steps : nb;
}

bool epoch_run(Loader *l, int epoch, int steps, Progress *pg, const EpochStep *s, double *mean_loss, char *err, size_t n) {
  *mean_loss = NAN;
  if (!loader_start_epoch(l, epoch, err, n)) return false;
  double sum = 0;
  int done = 0;
  Batch b;
  for (int i = 0; i < steps; i++) {
    err[0] = 0;
    if (!loader_next(l, &b, err, n)) {
      if (!err[0]) break; /* the data ended early */
      return false;
    }
    double t0 = now_s(), loss;
    if (!s->run(s->ctx, &b, &loss, err, n)) return false;
    double rate = b.n / (now_s() - t0);
    sum += loss, done++;
    progress_step(pg, epoch, i + 1, steps, loss, rate);
    if (s->done) s->done(s->ctx, &b, loss, rate);
  }
  if (done) *mean_loss = sum / done;
  return true;
}
