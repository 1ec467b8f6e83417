/* sgemm_peak.c [THREADS] - the machine's sgemm rate as sqn's convs use it: THREADS OpenMP threads, each running
   single-threaded sgemm (cpu_sgemm: OpenBLAS where built with it) on its own column blocks of a 256 x 4096 x 512 product
   (256 output channels x 4096 pixels x 512 inputs, a large 1x1 conv, in column blocks). Prints the best of 20 runs in GMAC/s, the
   figure bench/infer_cpu.sh divides the networks' rates by. A benchmark tool, not a test. */
#include <stdio.h>
#include <stdlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "clock.h"
#include "cpu_conv_internal.h"
#include "cpu_ops.h"

int main(int argc, char **argv) {
  cpu_set_threads(argc > 1 ? atoi(argv[1]) : 0);
  enum { M = 256, N = 4096, K = 512 };
  const int T = cpu_conv_threads();
  float *a = malloc(sizeof(float) * M * K), *b = malloc(sizeof(float) * K * N), *c = malloc(sizeof(float) * M * N);
  if (!a || !b || !c) return fprintf(stderr, "sgemm_peak: out of memory\n"), 1;
  for (size_t i = 0; i < (size_t)M * K; i++) a[i] = (float)(i % 7) * 0.1f;
  for (size_t i = 0; i < (size_t)K * N; i++) b[i] = (float)(i % 5) * 0.1f;
  double best = 1e30;
  cpu_blas_single_thread();
  for (int run = 0; run < 21; run++) {
    double t0 = now_s();
#ifdef _OPENMP
#pragma omp parallel for schedule(static)
#endif
    for (int j = 0; j < N; j += 512) cpu_sgemm(M, 512, K, a, K, b + j, N, c + j, N);
    double t = now_s() - t0;
    if (run > 0 && t < best) best = t; /* the first run warms up */
  }
  printf("sgemm %.1f GMAC/s (%d threads, %dx%dx%d in column blocks of 512)\n", (double)M * N * K / best / 1e9, T, M, N, K);
  free(a), free(b), free(c);
  return 0;
}
