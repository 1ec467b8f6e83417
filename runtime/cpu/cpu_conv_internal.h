/* cpu_conv_internal.h - the pieces of cpu_conv.c that the fused kernels (cpu_fused_ir.c) share: the
   thread count, sgemm in the calling thread (and its small-k variant, cpu_gemm_smallk.c), the bias/activation epilogue and the valid-column bounds. */
#ifndef SQN_CPU_CONV_INTERNAL_H
#define SQN_CPU_CONV_INTERNAL_H
#include <stdbool.h>
#include <stddef.h>
#include "cpu_ops.h"
#include "cpu_simd.h"

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
/* C[m x n] (+= where acc) = A^T * B with A stored k x m (lda): the same AVX-512 kernel for the data gradient of 1x1
   convs (dx = W^T dy; cpu_grad_conv.c); false (nothing done) where cpu_gemm_wide would be. */
bool cpu_gemm_wide_tn(int m, int n, int k, const float *A, int lda, const float *B, int ldb, float *C, int ldc,
                      bool acc);
/* C[m x n] += A[m x k] * B[n x k]^T (lda, ldb, ldc) with AVX-512 registers, for the weight gradient of 1x1 convs
   (cpu_gemm_nt.c); false (nothing done) where cpu_gemm_wide would be. */
bool cpu_gemm_wide_nt(int m, int n, int k, const float *A, int lda, const float *B, int ldb, float *C, int ldc);
/* Whether the cpu_gemm_wide kernels run here: the CPU has AVX-512 and SQN_CPU_GEMM is not "blas" (asked once). */
bool cpu_gemm_wide_on(void);
/* C = act(A * B + bias[row]) (bias may be NULL) by the fastest of the three above the CPU allows (cpu_conv.c). */
void cpu_gemm_bias_act(int m, int n, int k, const float *A, int lda, const float *B, int ldb, float *C, int ldc,
                       const float *bias, int act);
/* r[j] += bias[co] (bias may be NULL), then the CONV_ACT_* act, over n outputs of channel co. */
void cpu_conv_epilogue(float *restrict r, size_t n, const float *bias, int co, int act);
typedef int v16i __attribute__((vector_size(64)));
/* The CONV_ACT_* act on sixteen lanes in place, as cpu_conv_epilogue: with compare masks; NaN compares false and
   passes, as in PyTorch. */
__attribute__((always_inline)) static inline void cpu_act16(v16 *v, int act) {
  const v16 zero = {0}, six = zero + 6.0f;
  if (act == CONV_ACT_NONE) return;
  *v = (v16)((v16i)*v & ~(*v < zero));
  if (act != CONV_ACT_RELU6) return;
  const v16i over = *v > six;
  *v = (v16)(((v16i)*v & ~over) | ((v16i)six & over));
}
/* The data gradient of a stride-2 depthwise conv, one plane: dxp [H x W] (+= where acc) from dyp [OH x OW] through the
   kernel wc [kh x kw] (padding ph, pw; dilation dh, dw), gathered row by row with cpu_dw_row (cpu_grad_dw.c); scratch
   holds W + 1 floats. False (nothing done) where a kernel side exceeds CPU_FUSED_IR_MAX_K. */
bool cpu_dw_data_s2_plane(const float *dyp, int OH, int OW, const float *wc, int kh, int kw, int ph, int pw, int dh,
                          int dw, float *dxp, int H, int W, bool acc, float *scratch);
/* Whether the CPU has AVX-512 (F, VL, BW and DQ; cpu_gemm_avx512.c), asked once. */
bool cpu_has_avx512(void);
/* Output columns ox whose input column ox*sw + off lies in [0, W): [*lo, *hi) (may be empty). */
void cpu_conv_valid_cols(int off, int sw, int W, int OW, int *lo, int *hi);
/* Where tap column kx of a depthwise conv reads in an input row (cpu_dw_row.c): row[colo[kx] + ox * step] for output columns ox in [lo[kx], hi[kx]).
   Stride 1: colo = the offset, step 1; stride 2 (deinterleaved rows): into the even or odd half, step 1; other
   strides: the offset, step = stride. */
typedef struct CpuDwCols {
  int colo[CPU_FUSED_IR_MAX_K], lo[CPU_FUSED_IR_MAX_K], hi[CPU_FUSED_IR_MAX_K];
  int step, L, H; /* [L, H): the columns every tap reads in bounds */
} CpuDwCols;

/* The columns of a depthwise conv with kernel width kw, stride sw, dilation dw and padding pw from width W to OW;
   false where kw > CPU_FUSED_IR_MAX_K. */
bool cpu_dw_cols(int kw, int sw, int dw, int pw, int W, int OW, CpuDwCols *dc);
/* yr[ox] = sum over ky, kx (in that order) of wc[ky * kw + kx] * rows[ky][colo[kx] + ox * step] over the taps in bounds,
   then + *bias (bias may be NULL) and the CONV_ACT_* act, as cpu_conv_epilogue; rows[ky] NULL: a padding row. Stride 2:
   rows deinterleaved (cpu_deinterleave). */
void cpu_dw_row(float *restrict yr, const float *const *rows, const float *restrict wc, int kh, int kw, int OW,
                const CpuDwCols *dc, const float *bias, int act);
/* Convolutions whose outputs each read at most CPU_NARROW_K inputs (the stem; not 1x1 stride-1 ones, which need no
   im2col), at least 8 output channels and 16 output columns, groups 1, computed directly with the sums in
   registers (cpu_conv_narrow.c): whether cpu_conv_narrow takes these shapes, and the conv itself (cpu_conv2d's
   semantics; the sums run over the taps in weight order). */
enum { CPU_NARROW_K = 32 };
bool cpu_conv_narrow_fits(Shape xs, const ConvParams *p, Shape ys);
void cpu_conv_narrow(const float *x, Shape xs, const float *w, const float *bias, const ConvParams *p, float *y,
                     Shape ys);
/* out = row's even columns, then its odd ones (W floats; out must not overlap row). */
void cpu_deinterleave(const float *restrict row, int W, float *restrict out);
#endif
