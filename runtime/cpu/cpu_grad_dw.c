/* cpu_grad_dw.c - the data gradient of a stride-2 depthwise conv, one plane (cpu_grad_conv.c's direct path calls it).
   Scattering dy through the taps writes every other dx column with a stride of 2 and reads and writes dx once per tap.
   Here each dx row is gathered instead, in two halves: its even and its odd columns. A half is a stride-1
   correlation of the dy rows with the taps of matching parity (the rows ky with (iy + ph - ky*dh) even, the columns
   kx with (ix + pw - kx*dw) even), which cpu_dw_row computes with its register sums. The halves are then
   interleaved into the dx row. */
#include "cpu_conv_internal.h"

#include <string.h>

static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int imax(int a, int b) { return a > b ? a : b; }

/* The taps t in [0, k) with (parity + pad - t * dil) even, into list; their count. */
static int parity_taps(int k, int parity, int pad, int dil, int *list) {
  int n = 0;
  for (int t = 0; t < k; t++)
    if (((parity + pad - t * dil) & 1) == 0) list[n++] = t;
  return n;
}

/* Column half pc (dx columns 2j + pc, j < width) of taps kx: dy column j + colo[b] for tap b. */
static void half_cols(const int *kx, int nkx, int pc, int pw, int dw, int width, int OW, CpuDwCols *dc) {
  dc->step = 1, dc->L = 0, dc->H = width;
  for (int b = 0; b < nkx; b++) {
    dc->colo[b] = (pc + pw - kx[b] * dw) / 2; /* the numerator is even */
    dc->lo[b] = imin(width, imax(0, -dc->colo[b]));
    dc->hi[b] = imax(dc->lo[b], imin(width, OW - dc->colo[b]));
    dc->L = imax(dc->L, dc->lo[b]), dc->H = imin(dc->H, dc->hi[b]);
  }
  if (dc->H < dc->L) dc->H = dc->L;
}

bool cpu_dw_data_s2_plane(const float *dyp, int OH, int OW, const float *wc, int kh, int kw, int ph, int pw, int dh,
                          int dw, float *dxp, int H, int W, bool acc, float *scratch) {
  if (kh > CPU_FUSED_IR_MAX_K || kw > CPU_FUSED_IR_MAX_K) return false;
  int ky[2][CPU_FUSED_IR_MAX_K], kx[2][CPU_FUSED_IR_MAX_K], nky[2], nkx[2];
  float sub[2][2][CPU_FUSED_IR_MAX_K * CPU_FUSED_IR_MAX_K];
  CpuDwCols dc[2];
  const int width[2] = {(W + 1) / 2, W / 2};
  for (int p = 0; p < 2; p++) {
    nky[p] = parity_taps(kh, p, ph, dh, ky[p]);
    nkx[p] = parity_taps(kw, p, pw, dw, kx[p]);
    half_cols(kx[p], nkx[p], p, pw, dw, width[p], OW, &dc[p]);
  }
  for (int pr = 0; pr < 2; pr++)
    for (int pc = 0; pc < 2; pc++)
      for (int a = 0; a < nky[pr]; a++)
        for (int b = 0; b < nkx[pc]; b++) sub[pr][pc][a * nkx[pc] + b] = wc[ky[pr][a] * kw + kx[pc][b]];
  float *half[2] = {scratch, scratch + width[0]};
  const float *rows[CPU_FUSED_IR_MAX_K];
  for (int iy = 0; iy < H; iy++) {
    const int pr = iy & 1;
    for (int a = 0; a < nky[pr]; a++) {
      const int oy = (iy + ph - ky[pr][a] * dh) / 2; /* the numerator is even */
      rows[a] = oy >= 0 && oy < OH ? dyp + (size_t)oy * OW : NULL;
    }
    for (int pc = 0; pc < 2; pc++) {
      if (nky[pr] && nkx[pc])
        cpu_dw_row(half[pc], rows, sub[pr][pc], nky[pr], nkx[pc], width[pc], &dc[pc], NULL, CONV_ACT_NONE);
      else memset(half[pc], 0, (size_t)width[pc] * sizeof(float));
    }
    float *restrict dxr = dxp + (size_t)iy * W;
    const float *restrict ev = half[0], *restrict od = half[1];
    if (acc) {
      for (int j = 0; j < width[1]; j++) dxr[2 * j] += ev[j], dxr[2 * j + 1] += od[j];
      if (W & 1) dxr[W - 1] += ev[width[0] - 1];
    } else {
      for (int j = 0; j < width[1]; j++) dxr[2 * j] = ev[j], dxr[2 * j + 1] = od[j];
      if (W & 1) dxr[W - 1] = ev[width[0] - 1];
    }
  }
  return true;
}
