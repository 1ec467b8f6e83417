/* cpu_conv_internal.h - the pieces of cpu_conv.c that the fused kernels (cpu_fused_ir.c) share: the
   thread count, sgemm in the calling thread (and its small-k variant, cpu_gemm_smallk.c), the bias/activation epilogue and the valid-column bounds. */
#ifndef SQN_CPU_CONV_INTERNAL_H
#define SQN_CPU_CONV_INTERNAL_H
#include <stdbool.h>
#include <stddef.h>

/* The OpenMP thread count (1 without OpenMP). */
int cpu_conv_threads(void);
/* Keeps OpenBLAS's own pthread pool out of our parallel regions (see cpu_conv.c). */
void cpu_blas_single_thread(void);
/* C[m x n] (ldc) = A[m x k] (lda) * B[k x n] (ldb), row-major, in the calling thread. */
void cpu_sgemm(int m, int n, int k, const float *A, int lda, const float *B, int ldb, float *C, int ldc);
/* C[m x n] (ldc) = act(A[m x k] (lda) * B[k x n] (ldb) + bias[row]) for small k (<= 32; bias may be NULL; act a
   CONV_ACT_*), with the sums in registers: faster than sgemm's packing there (cpu_gemm_smallk.c). */
enum { CPU_SMALL_K = 32 }; /* the longest k cpu_gemm_smallk is for */
void cpu_gemm_smallk(int m, int n, int k, const float *A, int lda, const float *B, int ldb, float *C, int ldc,
                     const float *bias, int act);
/* The same with AVX-512 registers and no packing, for any k (cpu_gemm_avx512.c); false (nothing done) where the CPU
   has no AVX-512 or SQN_CPU_GEMM=blas: then the caller uses cpu_gemm_smallk or sgemm. */
bool cpu_gemm_wide(int m, int n, int k, const float *A, int lda, const float *B, int ldb, float *C, int ldc,
                   const float *bias, int act);
/* r[j] += bias[co] (bias may be NULL), then the CONV_ACT_* act, over n outputs of channel co. */
void cpu_conv_epilogue(float *restrict r, size_t n, const float *bias, int co, int act);
/* Output columns ox whose input column ox*sw + off lies in [0, W): [*lo, *hi) (may be empty). */
void cpu_conv_valid_cols(int off, int sw, int W, int OW, int *lo, int *hi);
#endif
