/* evaluate.c - runs a fixed network over a dataset split (full images, batch 1) and accumulates the
   confusion matrix of its argmax predictions against the labels. */
#include "evaluate.h"
#include <stdio.h>
#include <stdlib.h>
#include "cpu_grad.h"
#include "executor.h"
#include "loader.h"

bool evaluate_dataset(const Plan *p, const TensorSet *weights, const char *backend, Dataset *d, int limit,
                      int workers, Confusion *c, char *err, size_t n) {
  Executor *x = executor_new(p, weights, backend, err, n);
  if (!x) return false;
  AugmentOptions none = {0, 0, 1.0, 1.0, false};
  Loader *l = loader_new(d, 1, &none, false, false, 0, workers, err, n);
  bool ok = l && loader_start_epoch(l, 0, err, n);
  unsigned char *pred = NULL;
  size_t cap = 0;
  Batch b;
  for (int i = 0; ok && (limit <= 0 || i < limit); i++) {
    err[0] = 0;
    if (!loader_next(l, &b, err, n)) {
      ok = err[0] == 0;
      break;
    }
    Shape in = {b.n, 3, b.h, b.w}, out;
    if (!executor_run(x, b.image, in, err, n)) {
      char msg[512];
      snprintf(msg, sizeof msg, "%s: %s", dataset_name(d, b.first_index), err);
      snprintf(err, n, "%s", msg);
      ok = false;
      break;
    }
    const float *logits = executor_output(x, &out);
    size_t px = (size_t)out.n * out.h * out.w;
    if (px > cap) {
      free(pred);
      cap = (pred = malloc(px)) ? px : 0;
      if (!pred) ok = snprintf(err, n, "out of memory") < 0;
    }
    if (!ok) break;
    cpu_argmax_channels(logits, out, pred);
    confusion_add(c, b.labels, pred, px, 255);
  }
  free(pred);
  loader_free(l);
  executor_free(x);
  return ok;
}
