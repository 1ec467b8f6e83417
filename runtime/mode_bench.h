/* mode_bench.h - `sqnrun NET.plan --bench [--weights W] [--iters N] [--warmup N] [--threads N] [--json]`. */
#ifndef SQN_MODE_BENCH_H
#define SQN_MODE_BENCH_H
#include <stdbool.h>
#include "plan.h"

typedef struct BenchArgs {
  const char *weights;  /* NULL: Kaiming-initialized random weights */
  const char *input;    /* "CxHxW" to check against the plan, or NULL */
  int iters, warmup, threads;
  const char *backend;  /* "cpu" (default) */
  bool json;
  bool profile_ops;     /* also time every node and print where the time goes */
} BenchArgs;

int mode_bench(const Plan *p, const BenchArgs *a);
#endif
