/* cpu_dw_row.c - one output row of a depthwise conv with its sums in registers (cpu_dw_row), and where its taps read
   (cpu_dw_cols): shared by the fused inverted residual (cpu_fused_ir.c, from its ring of expanded rows) and cpu_conv2d's
   depthwise path (cpu_conv.c, from the input planes). Stride-2 rows are read deinterleaved (even columns, then odd),
   so that every tap is a contiguous load. */
#include "cpu_conv_internal.h"
#include "cpu_ops.h"
#include "cpu_simd.h"

#include <stddef.h>

static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int imax(int a, int b) { return a > b ? a : b; }

/* 32 columns at a time through two shuffles (vpermt2ps where there is AVX-512), the rest one by one. */
SQN_ISA_CLONES
void cpu_deinterleave(const float *restrict row, int W, float *restrict out) {
  const int half = (W + 1) / 2;
  int i = 0;
  for (; 2 * i + 32 <= W; i += 16) {
    const v16 a = *(const v16u *)(row + 2 * i), b = *(const v16u *)(row + 2 * i + 16);
    *(v16u *)(out + i) = __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    *(v16u *)(out + half + i) =
        __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  }
  for (int j = i; j < half; j++) out[j] = row[2 * j];
  for (int j = i; j < W / 2; j++) out[half + j] = row[2 * j + 1];
}

bool cpu_dw_cols(int kw, int sw, int dw, int pw, int W, int OW, CpuDwCols *dc) {
  if (kw > CPU_FUSED_IR_MAX_K) return false;
  dc->step = sw == 2 ? 1 : sw;
  dc->L = 0, dc->H = OW;
  for (int kx = 0; kx < kw; kx++) {
    const int off = kx * dw - pw;
    cpu_conv_valid_cols(off, sw, W, OW, &dc->lo[kx], &dc->hi[kx]);
    dc->colo[kx] = sw != 2 ? off : (off & 1) ? (W + 1) / 2 + (off - 1) / 2 : off / 2;
    dc->L = imax(dc->L, dc->lo[kx]), dc->H = imin(dc->H, dc->hi[kx]);
  }
  if (dc->H < dc->L) dc->H = dc->L;
  return true;
}

/* *dst = act(*v + *bias) on sixteen lanes, as cpu_conv_epilogue (bias may be NULL). */
__attribute__((always_inline)) static inline void store_epilogue16(float *dst, const v16 *v, const float *bias,
                                                                   int act) {
  v16 r = *v;
  if (bias) r += *bias;
  cpu_act16(&r, act);
  *(v16u *)dst = r;
}

/* Columns [ox, ox + 16 * NV) where every tap is in bounds, NV independent sums in registers: one sum's taps are a
   chain of dependent FMAs, so several columns' chains are interleaved to keep the FMA units busy. */
__attribute__((always_inline)) static inline void dw_block(float *restrict yr, const float *const *rows,
                                                           const float *restrict wc, int kh, int kw, const int *colo,
                                                           int ox, int NV, const float *bias, int act) {
  v16 a[8];
#pragma GCC unroll 8
  for (int v = 0; v < NV; v++) a[v] = (v16){0};
  for (int ky = 0; ky < kh; ky++) {
    if (!rows[ky]) continue;
    const float *base = rows[ky] + ox;
    for (int kx = 0; kx < kw; kx++) {
      const float wv = wc[ky * kw + kx];
      const float *p = base + colo[kx];
#pragma GCC unroll 8
      for (int v = 0; v < NV; v++) a[v] += wv * *(const v16u *)(p + 16 * v);
    }
  }
#pragma GCC unroll 8
  for (int v = 0; v < NV; v++) store_epilogue16(yr + ox + 16 * v, &a[v], bias, act);
}

/* dw_block with n (1..8) sums in flight. */
__attribute__((always_inline)) static inline void dw_blocks(float *restrict yr, const float *const *rows, const float *restrict wc, int kh, int kw,
                             const int *colo, int ox, int n, const float *bias, int act) {
  switch (n) {
  case 8: dw_block(yr, rows, wc, kh, kw, colo, ox, 8, bias, act); break;
  case 7: dw_block(yr, rows, wc, kh, kw, colo, ox, 7, bias, act); break;
  case 6: dw_block(yr, rows, wc, kh, kw, colo, ox, 6, bias, act); break;
  case 5: dw_block(yr, rows, wc, kh, kw, colo, ox, 5, bias, act); break;
  case 4: dw_block(yr, rows, wc, kh, kw, colo, ox, 4, bias, act); break;
  case 3: dw_block(yr, rows, wc, kh, kw, colo, ox, 3, bias, act); break;
  case 2: dw_block(yr, rows, wc, kh, kw, colo, ox, 2, bias, act); break;
  default: dw_block(yr, rows, wc, kh, kw, colo, ox, 1, bias, act); break;
  }
}

/* The columns [L, H) where every tap is in bounds, when there are at least 16 of them: blocks of 128 columns (with
   AVX-512; 64 otherwise), then what is left as one block that ends at H and may overlap columns already written
   (recomputed from the same inputs: the same values), so that no row ends in narrow blocks. */
__attribute__((always_inline)) static inline void dw_interior(float *restrict yr, const float *const *rows, const float *restrict wc, int kh, int kw,
                               const CpuDwCols *dc, const float *bias, int act) {
  const int nv = cpu_has_avx512() ? 8 : 4, L = dc->L, H = dc->H; /* 32 registers hold 8 sums; fewer would spill */
  int ox = L;
  for (; ox + 16 * nv <= H; ox += 16 * nv) dw_blocks(yr, rows, wc, kh, kw, dc->colo, ox, nv, bias, act);
  while (ox < H) {
    const int rest = (H - ox + 15) / 16, start = H - 16 * rest;
    if (start >= L) {
      dw_blocks(yr, rows, wc, kh, kw, dc->colo, start, rest, bias, act);
      break;
    }
    const int n = (H - ox) / 16; /* at least 1: H - L >= 16 */
    dw_blocks(yr, rows, wc, kh, kw, dc->colo, ox, n, bias, act);
    ox += 16 * n;
  }
}

/* Output column x summed over the taps in bounds there, in a register and in the order dw_block adds them (rows, then
   columns): the columns next to the edges, where a row's loop over the taps would add into memory instead, a chain of
   store-to-load forwards per tap that cost about as much as the whole vector interior of a 392-wide row. */
static inline float edge_col(const float *const *rows, const float *restrict wc, int kh, int kw, const CpuDwCols *dc,
                             int x) {
  int k0 = 0, k1 = kw; /* the taps in bounds at x, wherever the offsets grow or shrink with kx: [k0, k1) */
  while (k0 < kw && !(x >= dc->lo[k0] && x < dc->hi[k0])) k0++;
  while (k1 > k0 && !(x >= dc->lo[k1 - 1] && x < dc->hi[k1 - 1])) k1--;
  float a = 0.0f;
  for (int ky = 0; ky < kh; ky++) {
    if (!rows[ky]) continue;
    const float *r = rows[ky] + (ptrdiff_t)x * dc->step;
    for (int kx = k0; kx < k1; kx++)
      if (x >= dc->lo[kx] && x < dc->hi[kx]) a += wc[ky * kw + kx] * r[dc->colo[kx]];
  }
  return a;
}

/* The columns where every tap is in bounds in blocks of sixteen with the sums in registers (compiled for AVX-512,
   AVX2+FMA and baseline x86-64, chosen at run time); rows with fewer such columns 8 and 4 at a time; the edges one
   by one (edge_col), and bias and activation over them at the end. */
SQN_ISA_CLONES
void cpu_dw_row(float *restrict yr, const float *const *rows, const float *restrict wc, int kh, int kw, int OW,
                const CpuDwCols *dc, const float *bias, int act) {
  const int step = dc->step;
  int ox = step == 1 ? dc->L : 0;
  if (step == 1 && dc->H - dc->L >= 16) {
    dw_interior(yr, rows, wc, kh, kw, dc, bias, act);
    ox = dc->H;
  }
  const int vec_hi = ox; /* [L, vec_hi) is final */
  for (; step == 1 && ox + 8 <= dc->H; ox += 8) {
    v8 a = {0};
    for (int ky = 0; ky < kh; ky++)
      for (int kx = 0; rows[ky] && kx < kw; kx++) a += wc[ky * kw + kx] * *(const v8u *)(rows[ky] + ox + dc->colo[kx]);
    *(v8u *)(yr + ox) = a;
  }
  for (; step == 1 && ox + 4 <= dc->H; ox += 4) {
    v4 a = {0};
    for (int ky = 0; ky < kh; ky++)
      for (int kx = 0; rows[ky] && kx < kw; kx++) a += wc[ky * kw + kx] * *(const v4u *)(rows[ky] + ox + dc->colo[kx]);
    *(v4u *)(yr + ox) = a;
  }
  const int done_lo = step == 1 ? dc->L : 0, done_hi = step == 1 ? ox : 0; /* [done_lo, done_hi) is written */
  for (int x = 0; x < done_lo; x++) yr[x] = edge_col(rows, wc, kh, kw, dc, x);
  for (int x = done_hi; x < OW; x++) yr[x] = edge_col(rows, wc, kh, kw, dc, x);
  const int lo = step == 1 ? done_lo : 0, hi = step == 1 ? vec_hi : 0; /* [lo, hi) has its bias and act */
  cpu_conv_epilogue(yr, (size_t)lo, bias, 0, act);
  cpu_conv_epilogue(yr + hi, (size_t)(OW - hi), bias, 0, act);
}
