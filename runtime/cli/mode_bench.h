/* mode_bench.h - `sqnrun NET.plan --bench [--weights W] [--input CxHxW] [--iters N] [--warmup N] [--threads N]
   [--json]` and `sqnrun NET.plan --bench --train [--batch B] [--input CxHxW]`. */
#ifndef SQN_MODE_BENCH_H
#define SQN_MODE_BENCH_H
#include "cli_args.h"
#include "plan.h"

int mode_bench(const Plan *p, const CliArgs *a);
/* mode_bench_train.c: the time of a training step. */
int mode_bench_train(const Plan *p, const CliArgs *a);
/* The benchmark input, batch 1: --input, or the size the plan was compiled for. */
Shape bench_input(const Plan *p, const CliArgs *a);
#endif
