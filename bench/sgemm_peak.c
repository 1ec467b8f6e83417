/* sgemm_peak.c [THREADS] - the machine's sgemm rate as sqn's convs use it: THREADS OpenMP threads, each running
   single-threaded sgemm (cpu_sgemm: OpenBLAS where built with it) on its own column blocks of a 256 x 4096 x 512 product
   (256 output channels x 4096 pixels x 512 inputs, a large 1x1 conv, in column blocks), and the same with
   cpu_gemm_wide where the CPU has AVX-512. Prints the faster one's best of 20 runs in GMAC/s (both in brackets), the
   figure bench/infer_cpu.sh divides the networks' rates by. A benchmark tool, not a test. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "clock.h"
#include "cpu_conv_internal.h"
#include "cpu_ops.h"

enum { M = 256, N = 4096, K = 512 };

/* GMAC/s of the best of 20 runs (after one to warm up); wide: cpu_gemm_wide, 0 where it is not available. */
static double rate(const float *a, const float *b, float *c, bool wide) {
  if (wide && !cpu_gemm_wide(1, 1, 1, a, 1, b, 1, c, 1, NULL, CONV_ACT_NONE)) return 0;
  double best = 1e30;
  for (int run = 0; run < 21; run++) {
    double t0 = now_s();
#ifdef _OPENMP
#pragma omp parallel for schedule(static)
#endif
    for (int j = 0; j < N; j += 512) {
      if (wide) cpu_gemm_wide(M, 512, K, a, K, b + j, N, c + j, N, NULL, CONV_ACT_NONE);
      else cpu_sgemm(M, 512, K, a, K, b + j, N, c + j, N);
    }
    double t = now_s() - t0;
    if (run > 0 && t < best) best = t;
  }
  return (double)M * N * K / best / 1e9;
}

int main(int argc, char **argv) {
  cpu_set_threads(argc > 1 ? atoi(argv[1]) : 0);
  const int T = cpu_conv_threads();
  float *a = malloc(sizeof(float) * M * K), *b = malloc(sizeof(float) * K * N), *c = malloc(sizeof(float) * M * N);
  if (!a || !b || !c) return fprintf(stderr, "sgemm_peak: out of memory\n"), 1;
  for (size_t i = 0; i < (size_t)M * K; i++) a[i] = (float)(i % 7) * 0.1f;
  for (size_t i = 0; i < (size_t)K * N; i++) b[i] = (float)(i % 5) * 0.1f;
  cpu_blas_single_thread();
  const double blas = rate(a, b, c, false), wide = rate(a, b, c, true);
  char how[96] = "";
  if (wide > 0) snprintf(how, sizeof how, "; sgemm %.1f, cpu_gemm_wide (AVX-512) %.1f", blas, wide);
  printf("sgemm %.1f GMAC/s (%d threads, %dx%dx%d in column blocks of 512%s)\n", blas > wide ? blas : wide, T, M, N, K, how);
  free(a), free(b), free(c);
  return 0;
}
