/* cpu_gemm_nt.c - cpu_gemm_wide_nt: C[m x n] += A[m x k] * B[n x k]^T with AVX-512 registers, for the weight gradient
   of 1x1 convs in training (dW += dy * x^T: k is the pixels, m and n the channels, 16..576). OpenBLAS packs both
   operands for every call and may be held to its AVX2 kernels (OPENBLAS_CORETYPE=Haswell). Here nothing is packed:
   tiles of 4 rows of A by 4 rows of B keep their 16 sums (each over 16 lanes of k) in registers over blocks of k
   columns (B's block of rows kept in L2), with each loaded vector used four times; a block's sums are then reduced
   and added to C. Elsewhere (no AVX-512, another architecture, SQN_CPU_GEMM=blas) it returns false and the caller
   uses sgemm. */
#include "cpu_conv_internal.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>
#define T512 __attribute__((target("arch=x86-64-v4")))

/* k columns a tile sums in registers before adding to C: as many as keep the block's rows of B (every tile of A's
   rows sweeps them) in 512 KiB of L2, 512 to 4096 (16 KiB a row) */
enum { KB_MIN = 512, KB_MAX = 4096, KB_FLOATS = 128 << 10 };

/* C[i0 + r][j0 + c] += the dot product of A's row i0 + r and B's row j0 + c over k in [k0, k1), for r < MR, c < NR
   (constants at each call, so the sums stay in registers). */
T512 __attribute__((always_inline)) static inline void tile(const float *A, int lda, const float *B, int ldb, float *C,
                                                           int ldc, int i0, int j0, int k0, int k1, int MR, int NR) {
  __m512 acc[4][4];
#pragma GCC unroll 4
  for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
    for (int c = 0; c < NR; c++) acc[r][c] = _mm512_setzero_ps();
  int q = k0;
  for (; q + 16 <= k1; q += 16) {
    __m512 a[4], b[4];
#pragma GCC unroll 4
    for (int r = 0; r < MR; r++) a[r] = _mm512_loadu_ps(A + (size_t)(i0 + r) * lda + q);
#pragma GCC unroll 4
    for (int c = 0; c < NR; c++) b[c] = _mm512_loadu_ps(B + (size_t)(j0 + c) * ldb + q);
#pragma GCC unroll 4
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
      for (int c = 0; c < NR; c++) acc[r][c] = _mm512_fmadd_ps(a[r], b[c], acc[r][c]);
  }
  for (int r = 0; r < MR; r++)
    for (int c = 0; c < NR; c++) {
      const float *ar = A + (size_t)(i0 + r) * lda, *br = B + (size_t)(j0 + c) * ldb;
      float s = _mm512_reduce_add_ps(acc[r][c]);
      for (int t = q; t < k1; t++) s += ar[t] * br[t];
      C[(size_t)(i0 + r) * ldc + j0 + c] += s;
    }
}

/* Rows [i0, i0 + MR) of C, every column, over k in [k0, k1): 4-column tiles, then one column at a time. */
T512 __attribute__((always_inline)) static inline void row_block(const float *A, int lda, const float *B, int ldb,
                                                                float *C, int ldc, int n, int i0, int k0, int k1,
                                                                int MR) {
  int j = 0;
  for (; j + 4 <= n; j += 4) tile(A, lda, B, ldb, C, ldc, i0, j, k0, k1, MR, 4);
  for (; j < n; j++) tile(A, lda, B, ldb, C, ldc, i0, j, k0, k1, MR, 1);
}

T512 static void gemm_nt512(int m, int n, int k, const float *A, int lda, const float *B, int ldb, float *C, int ldc) {
  int kb = KB_FLOATS / n / 16 * 16;
  kb = kb < KB_MIN ? KB_MIN : kb > KB_MAX ? KB_MAX : kb;
  for (int k0 = 0; k0 < k; k0 += kb) {
    const int k1 = k - k0 > kb ? k0 + kb : k;
    int i = 0;
    for (; i + 4 <= m; i += 4) row_block(A, lda, B, ldb, C, ldc, n, i, k0, k1, 4);
    for (; i < m; i++) row_block(A, lda, B, ldb, C, ldc, n, i, k0, k1, 1);
  }
}

bool cpu_gemm_wide_nt(int m, int n, int k, const float *A, int lda, const float *B, int ldb, float *C, int ldc) {
  if (!cpu_gemm_wide_on()) return false;
  gemm_nt512(m, n, k, A, lda, B, ldb, C, ldc);
  return true;
}
#else
bool cpu_gemm_wide_nt(int m, int n, int k, const float *A, int lda, const float *B, int ldb, float *C, int ldc) {
  (void)m, (void)n, (void)k, (void)A, (void)lda, (void)B, (void)ldb, (void)C, (void)ldc;
  return false;
}
#endif
