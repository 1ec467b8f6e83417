/* cpu_mix.c - the superblock mixture and its backward (cpu_mix of cpu_ops.h, cpu_mix_backward of cpu_grad.h):
   y = sum_j w_j x_j per sample over a superblock's candidates. Both run over blocks of MIX_BLOCK elements, all the
   candidates in turn on one block, so that y (forward) or dy (backward) is read from memory once and from L1 once per
   candidate, in vector loops. The mixing weights' gradient, sum(dy * x_j), is summed in double per block (cpu_dsum.h)
   and the blocks' sums are then added in block order: the same result for every thread count. */
#include <stdlib.h>
#include <string.h>
#include "cpu_dsum.h"
#include "cpu_grad.h"
#include "cpu_ops.h"
#include "omp_pragma.h"

enum { MIX_BLOCK = 4096 };    /* elements of each tensor per block (16 KiB; a multiple of 16) */
enum { PAR_MIN = 1 << 15 };   /* elements below which a parallel region costs more than it saves */

/* A block: sample b, elements [i0, i0 + len) of that sample's per = C*H*W. */
typedef struct MixBlock {
  int b;
  size_t off, len; /* off = b * per + i0 */
} MixBlock;

static size_t blocks_per_sample(size_t per) { return (per + MIX_BLOCK - 1) / MIX_BLOCK; }

static MixBlock mix_block(long t, size_t nb, size_t per) {
  const size_t i0 = (size_t)(t % (long)nb) * MIX_BLOCK;
  const int b = (int)(t / (long)nb);
  return (MixBlock){b, (size_t)b * per + i0, per - i0 < MIX_BLOCK ? per - i0 : MIX_BLOCK};
}

void cpu_mix(const float *const *xs, int k, const float *w, Shape s, float *y) {
  const size_t per = (size_t)s.c * s.h * s.w, nb = blocks_per_sample(per);
  const long total = (long)((size_t)s.n * nb);
  OMP(omp parallel for schedule(static) if (shape_numel(s) > PAR_MIN))
  for (long t = 0; t < total; t++) {
    const MixBlock bl = mix_block(t, nb, per);
    float *restrict yp = y + bl.off;
    memset(yp, 0, bl.len * sizeof *yp); /* then y += w_j * x_j for each j: the arithmetic of one running sum */
    for (int j = 0; j < k; j++) {
      if (!xs[j]) continue;
      const float wj = w[(size_t)j * s.n + bl.b];
      const float *restrict xp = xs[j] + bl.off;
      for (size_t i = 0; i < bl.len; i++) yp[i] += wj * xp[i];
    }
  }
}

/* sum(p[i] * q[i]) over n values, in double */
static double dot_double(const float *p, const float *q, size_t n) {
  Sum4 a = {{{0}}};
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    v4d pd[4], qd[4];
    widen16(p + i, pd);
    widen16(q + i, qd);
    for (int r = 0; r < 4; r++) a.s[r] += pd[r] * qd[r];
  }
  double tail = 0.0;
  for (; i < n; i++) tail += (double)p[i] * q[i];
  return tail + sum4_total(&a);
}

/* dst (+)= wj * dy over n values */
static void scaled_copy(const float *restrict dy, float wj, float *restrict dst, size_t n, bool acc) {
  if (acc)
    for (size_t i = 0; i < n; i++) dst[i] += wj * dy[i];
  else
    for (size_t i = 0; i < n; i++) dst[i] = wj * dy[i];
}

bool cpu_mix_backward(const float *dy, Shape s, const float *const *xs, int k, const float *w, float *const *dxs,
                      unsigned acc_mask, float *dw) {
  const size_t per = (size_t)s.c * s.h * s.w, nb = blocks_per_sample(per);
  const long total = (long)((size_t)s.n * nb);
  double *part = dw ? malloc(sizeof *part * (size_t)(total > 0 ? total : 1) * (size_t)(k > 0 ? k : 1)) : NULL;
  if (dw && !part) return false;
  OMP(omp parallel for schedule(static) if (shape_numel(s) > PAR_MIN))
  for (long t = 0; t < total; t++) {
    const MixBlock bl = mix_block(t, nb, per);
    for (int j = 0; j < k; j++) {
      if (dxs[j]) scaled_copy(dy + bl.off, w[(size_t)j * s.n + bl.b], dxs[j] + bl.off, bl.len, (acc_mask >> j) & 1);
      if (part) part[(size_t)t * k + j] = xs[j] ? dot_double(dy + bl.off, xs[j] + bl.off, bl.len) : 0.0;
    }
  }
  for (int b = 0; part && b < s.n; b++)
    for (int j = 0; j < k; j++) {
      if (!xs[j]) continue;
      double sum = 0.0;
      for (size_t q = 0; q < nb; q++) sum += part[((size_t)b * nb + q) * k + j];
      dw[(size_t)j * s.n + b] += (float)sum;
    }
  free(part);
  return true;
}
