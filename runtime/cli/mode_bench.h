/* mode_bench.h - `sqnrun NET.plan --bench [--weights W] [--iters N] [--warmup N] [--threads N] [--json]`. */
#ifndef SQN_MODE_BENCH_H
#define SQN_MODE_BENCH_H
#include <stdbool.h>
#include "cpu_ops.h"
#include "plan.h"

typedef struct BenchArgs {
  const char *weights;  /* NULL: Kaiming-initialized random weights */
  const char *input;    /* "CxHxW" to check against the plan, or NULL */
  int iters, warmup, threads;
  const char *backend;  /* "cpu" (default) */
  bool json;
  bool profile_ops;     /* also time every node and print where the time goes */
  bool train;           /* --bench --train: time training steps (forward, loss, backward, SGD) */
  int batch;            /* --batch for --bench --train (default 2) */
} BenchArgs;

int mode_bench(const Plan *p, const BenchArgs *a);
/* mode_bench_train.c: `sqnrun NET.plan --bench --train [--batch B] [--input CxHxW]`. */
int mode_bench_train(const Plan *p, const BenchArgs *a, Shape in);
#endif
