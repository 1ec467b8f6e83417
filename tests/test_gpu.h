/* test_gpu.h - helpers shared by the GPU tests (test_gpu.c: CPU vs CUDA backend on whole networks;
   test_gpu_kernels.c: each PTX kernel against the CPU kernels; test_gpu_train.c: a training step). */
#ifndef SQN_TEST_GPU_H
#define SQN_TEST_GPU_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "plan.h"

/* Uniform floats in [lo, hi) from a fixed-seed generator (deterministic per call sequence). */
void rnd_fill(float *v, size_t n, float lo, float hi);
/* got vs ref: |got - ref| <= tol * max(1, max |ref|) everywhere, NaN only where ref is NaN; prints the
   worst element either way. Counts a check (test_util.h's counters live in test_gpu.c). */
bool gpu_compare(const char *what, const float *got, const float *ref, size_t n, double tol);
/* A named check counted with the others. */
void gpu_check(bool ok, const char *what);
/* Each kernel of the plan's PTX module for this GPU against the CPU kernels on small shapes. */
void gpu_kernel_tests(const Plan *p, int cc);
/* One training step (a network's, or a space's with mixing weights) on the CUDA and the CPU backend. */
void gpu_train_tests(const Plan *p);
#endif
