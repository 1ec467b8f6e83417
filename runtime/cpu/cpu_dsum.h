/* cpu_dsum.h - sums of floats in double, at near memory speed: sixteen floats at a time are widened into four vectors
   of four doubles, each with its own running sum, so that the adds' latency does not bound the loop (one vector
   accumulator, as `omp simd reduction` into a double gives, runs at a quarter of the speed). Shared by batch norm's
   per-channel statistics (cpu_grad_norm.c) and the mixing weights' gradient (cpu_mix.c). */
#ifndef SQN_CPU_DSUM_H
#define SQN_CPU_DSUM_H

#include "cpu_simd.h"
#ifdef __AVX__
#include <immintrin.h>
#endif

typedef double v4d __attribute__((vector_size(32)));

/* Four running double sums (vectors pass by pointer: by value they would change the ABI between ISA levels). */
typedef struct Sum4 {
  v4d s[4];
} Sum4;

/* the sixteen floats at p widened to doubles: d[0..3] */
static inline void widen16(const float *p, v4d d[4]) {
#ifdef __AVX__ /* one vcvtps2pd each (GCC lowers __builtin_convertvector to pairs of two-lane conversions) */
  for (int k = 0; k < 4; k++) d[k] = (v4d)_mm256_cvtps_pd(_mm_loadu_ps(p + 4 * k));
#else
  for (int k = 0; k < 4; k++) d[k] = __builtin_convertvector(*(const v4u *)(p + 4 * k), v4d);
#endif
}

static inline double sum4_total(const Sum4 *a) {
  const v4d v = (a->s[0] + a->s[1]) + (a->s[2] + a->s[3]);
  return (v[0] + v[1]) + (v[2] + v[3]);
}
#endif
