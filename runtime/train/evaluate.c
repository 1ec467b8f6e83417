/* evaluate.c - runs a fixed network over a dataset split (full images, batch 1) and accumulates the
   confusion matrix of its argmax predictions against the labels. In a data-parallel run (dist.h) each rank
   evaluates every size-th image and the confusion matrices are summed, so every rank gets the whole split's. */
#include "evaluate.h"
#include <stdio.h>
#include <stdlib.h>
#include "cpu_grad.h"
#include "dist.h"
#include "executor.h"
#include "loader.h"

/* Adds the prediction for batch b to c. */
static bool evaluate_batch(Executor *x, const Dataset *d, const Batch *b, unsigned char **pred, size_t *cap, Confusion *c,
                           char *err, size_t n) {
  Shape in = {b->n, 3, b->h, b->w}, out;
  if (!executor_run(x, b->image, in, err, n)) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s: %s", dataset_name(d, b->first_index), err);
    snprintf(err, n, "%s", msg);
    return false;
  }
  const float *logits = executor_output(x, &out);
  size_t px = (size_t)out.n * out.h * out.w;
  if (px > *cap) {
    free(*pred);
    *cap = (*pred = malloc(px)) ? px : 0;
    if (!*pred) return snprintf(err, n, "out of memory"), false;
  }
  cpu_argmax_channels(logits, out, *pred);
  confusion_add(c, b->labels, *pred, px, 255);
  return true;
}

/* The sum of every rank's counts into c. */
static void merge_ranks(Confusion *c, Confusion *mine) {
  size_t k = (size_t)mine->classes;
  dist_allreduce_u64(mine->m, k * k + k); /* other follows m in the same allocation (metrics.h) */
  dist_allreduce_u64(&mine->ignored, 1);
  confusion_merge(c, mine);
}

bool evaluate_dataset(const Plan *p, const TensorSet *weights, const char *backend, Dataset *d, int limit,
                      int workers, Confusion *c, char *err, size_t n) {
  const int ranks = dist_size(), rank = dist_rank();
  Confusion mine = {0};
  if (!confusion_init(&mine, c->classes)) return snprintf(err, n, "out of memory"), false;
  Executor *x = executor_new(p, weights, backend, err, n);
  AugmentOptions none = {0, 0, 1.0, 1.0, false};
  /* batches of `ranks` images, one per rank: image i is rank i % ranks's */
  Loader *l = x ? loader_new(d, ranks, &none, false, false, 0, workers, err, n) : NULL;
  bool ok = l && loader_set_shard(l, rank, ranks) && loader_start_epoch(l, 0, err, n);
  unsigned char *pred = NULL;
  size_t cap = 0;
  Batch b;
  for (int i = 0; ok && (limit <= 0 || (long)i * ranks < limit); i++) {
    err[0] = 0;
    if (!loader_next(l, &b, err, n)) {
      ok = err[0] == 0;
      break;
    }
    if (b.n > 0 && (limit <= 0 || (long)i * ranks + rank < limit))
      ok = evaluate_batch(x, d, &b, &pred, &cap, &mine, err, n);
  }
  if (ok) merge_ranks(c, &mine);
  free(pred);
  loader_free(l);
  executor_free(x);
  confusion_free(&mine);
  return ok;
}
