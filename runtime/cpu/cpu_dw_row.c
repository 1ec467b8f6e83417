/* cpu_dw_row.c - one output row of a depthwise conv with its sums in registers (cpu_dw_row), and where its taps read
   (cpu_dw_cols): shared by the fused inverted residual (cpu_fused_ir.c, from its ring of expanded rows) and cpu_conv2d's
   depthwise path (cpu_conv.c, from the input planes). Stride-2 rows are read deinterleaved (even columns, then odd),
   so that every tap is a contiguous load. */
#include "cpu_conv_internal.h"
#include "cpu_ops.h"
#include "cpu_simd.h"

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

/* The columns where every tap is in bounds go 32, 16, 8, then 4 at a time with the sums in registers (AVX-512 where
   the CPU has it: compiled for AVX-512, AVX2+FMA and baseline x86-64, chosen at run time); the edges one by one. */
SQN_ISA_CLONES
void cpu_dw_row(float *restrict yr, const float *const *rows, const float *restrict wc, int kh, int kw, int OW,
                const CpuDwCols *dc) {
  enum { B = 16 };
  const int step = dc->step;
  int ox = 0;
  for (; step == 1 && ox < dc->L; ox++) yr[ox] = 0.0f;
  for (; step == 1 && ox + 2 * B <= dc->H; ox += 2 * B) { /* 32 columns: two AVX-512 registers where there are */
    v16 a0 = {0}, a1 = {0};
    for (int ky = 0; ky < kh; ky++) {
      if (!rows[ky]) continue;
      const float *base = rows[ky] + ox;
      for (int kx = 0; kx < kw; kx++) {
        const float wv = wc[ky * kw + kx];
        const float *p = base + dc->colo[kx];
        a0 += wv * *(const v16u *)p;
        a1 += wv * *(const v16u *)(p + 16);
      }
    }
    *(v16u *)(yr + ox) = a0;
    *(v16u *)(yr + ox + 16) = a1;
  }
  for (; step == 1 && ox + B <= dc->H; ox += B) { /* the row's last in-bounds columns: 16, 8, then 4 at a time */
    v16 a = {0};
    for (int ky = 0; ky < kh; ky++)
      for (int kx = 0; rows[ky] && kx < kw; kx++) a += wc[ky * kw + kx] * *(const v16u *)(rows[ky] + ox + dc->colo[kx]);
    *(v16u *)(yr + ox) = a;
  }
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
  for (int x = done_hi; x < OW; x++) yr[x] = 0.0f;
  for (int ky = 0; ky < kh; ky++) {
    if (!rows[ky]) continue;
    for (int kx = 0; kx < kw; kx++) {
      const float wv = wc[ky * kw + kx];
      const float *restrict xr = rows[ky] + dc->colo[kx];
      const int l = imax(dc->lo[kx], done_hi), h = dc->hi[kx];
      if (step == 1) {
        for (int x = dc->lo[kx]; x < imin(h, done_lo); x++) yr[x] += wv * xr[x];
        for (int x = l; x < h; x++) yr[x] += wv * xr[x];
      } else {
        for (int x = dc->lo[kx]; x < h; x++) yr[x] += wv * xr[(size_t)x * step];
      }
    }
  }
}

