/* cpu_gemm_smallk.c - cpu_gemm_smallk: C = act(A * B + bias) for the short inner dimensions (k <= 32) of the
   inverted residuals' 1x1 convs on few channels (16 -> 96 expands, grouped 8 -> 8), where OpenBLAS spends more time
   packing than multiplying (18 GMAC/s at 96 x 2048 x 16 against 45 at 256 x 2048 x 256, one core). Blocks of 4 rows x
   16 columns keep their 8 sums in registers across k, then bias and activation are applied before the one store. */
#include "cpu_conv_internal.h"
#include "cpu_ops.h"
#include "cpu_simd.h"

static inline float act_scalar(float v, int act) {
  if (act == CONV_ACT_RELU) return v < 0.0f ? 0.0f : v;
  if (act == CONV_ACT_RELU6) return v < 0.0f ? 0.0f : v > 6.0f ? 6.0f : v;
  return v;
}

typedef int v8i __attribute__((vector_size(32)));

/* act_scalar on eight lanes with compare masks: a lane below 0 (above 6) is replaced; NaN compares false and
   passes, as in PyTorch. */
__attribute__((always_inline)) static inline v8 act_vec(v8 v, int act) {
  const v8 zero = {0}, six = zero + 6.0f;
  if (act == CONV_ACT_NONE) return v;
  v = (v8)((v8i)v & ~(v < zero));
  if (act != CONV_ACT_RELU6) return v;
  const v8i over = v > six;
  return (v8)(((v8i)v & ~over) | ((v8i)six & over));
}

/* Rows [m0, m0 + 4) x columns [j, j + 16). */
__attribute__((always_inline)) static inline void block4x16(int k, const float *A, int lda, const float *B, int ldb, float *C, int ldc,
                             const float *bias, int act, int m0, int j) {
  v8 c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0}, c30 = {0}, c31 = {0};
  const float *a = A + (size_t)m0 * lda;
  for (int kk = 0; kk < k; kk++) {
    const float *b = B + (size_t)kk * ldb + j;
    const v8 b0 = *(const v8u *)b, b1 = *(const v8u *)(b + 8);
    const float a0 = a[kk], a1 = a[lda + kk], a2 = a[2 * lda + kk], a3 = a[3 * lda + kk];
    c00 += a0 * b0, c01 += a0 * b1, c10 += a1 * b0, c11 += a1 * b1;
    c20 += a2 * b0, c21 += a2 * b1, c30 += a3 * b0, c31 += a3 * b1;
  }
  v8 *rows[4][2] = {{&c00, &c01}, {&c10, &c11}, {&c20, &c21}, {&c30, &c31}};
  for (int r = 0; r < 4; r++) {
    const float bv = bias ? bias[m0 + r] : 0.0f;
    float *c = C + (size_t)(m0 + r) * ldc + j;
    *(v8u *)c = act_vec(*rows[r][0] + bv, act);
    *(v8u *)(c + 8) = act_vec(*rows[r][1] + bv, act);
  }
}

/* Row m, columns [j0, n), one at a time. */
static void row_tail(int k, const float *A, int lda, const float *B, int ldb, float *C, int ldc, const float *bias,
                     int act, int m, int j0, int n) {
  for (int j = j0; j < n; j++) {
    float s = 0.0f;
    for (int kk = 0; kk < k; kk++) s += A[(size_t)m * lda + kk] * B[(size_t)kk * ldb + j];
    C[(size_t)m * ldc + j] = act_scalar(s + (bias ? bias[m] : 0.0f), act);
  }
}

SQN_ISA_CLONES
void cpu_gemm_smallk(int m, int n, int k, const float *A, int lda, const float *B, int ldb, float *C, int ldc,
                     const float *bias, int act) {
  const int n16 = n / 16 * 16, m4 = m / 4 * 4;
  for (int m0 = 0; m0 < m4; m0 += 4) {
    for (int j = 0; j < n16; j += 16) block4x16(k, A, lda, B, ldb, C, ldc, bias, act, m0, j);
    for (int r = 0; r < 4; r++) row_tail(k, A, lda, B, ldb, C, ldc, bias, act, m0 + r, n16, n);
  }
  for (int r = m4; r < m; r++) row_tail(k, A, lda, B, ldb, C, ldc, bias, act, r, 0, n);
}
