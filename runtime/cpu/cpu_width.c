/* cpu_width.c - a stage's width choice (OP_WIDTH, FBNetV2's channel masking): each sample's channels are
   scaled by the mixture of the widths' prefix masks, m[b][c] = sum over widths k with widths[k] > c of
   w[k * n + b], so channels past every chosen width become 0 and the mixing weights get their gradient. */
#include <stdlib.h>
#include "cpu_grad.h"
#include "cpu_ops.h"
#include "omp_pragma.h"

/* m[c] for sample b: the weights of the widths that keep channel c. */
static void channel_mask(const int *widths, int k, const float *w, int n, int b, int C, float *m) {
  for (int c = 0; c < C; c++) m[c] = 0.0f;
  for (int j = 0; j < k; j++)
    for (int c = 0; c < widths[j] && c < C; c++) m[c] += w[(size_t)j * n + b];
}

bool cpu_width_mask(const float *x, Shape s, const int *widths, int k, const float *w, float *y) {
  float *m = malloc(sizeof *m * (size_t)s.c + 1);
  if (!m) return false;
  const size_t hw = (size_t)s.h * s.w;
  for (int b = 0; b < s.n; b++) {
    channel_mask(widths, k, w, s.n, b, s.c, m);
    OMP(omp parallel for schedule(static) if (hw * s.c > 65536))
    for (int c = 0; c < s.c; c++) {
      const size_t at = ((size_t)b * s.c + c) * hw;
      for (size_t i = 0; i < hw; i++) y[at + i] = x[at + i] * m[c];
    }
  }
  free(m);
  return true;
}

bool cpu_width_mask_backward(const float *x, const float *dy, Shape s, const int *widths, int k, const float *w,
                             float *dx, bool acc, float *dw) {
  float *m = malloc(sizeof *m * (size_t)s.c + 1);
  double *dm = malloc(sizeof *dm * (size_t)s.c + 1);
  if (!m || !dm) return free(m), free(dm), false;
  const size_t hw = (size_t)s.h * s.w;
  for (int b = 0; b < s.n; b++) {
    channel_mask(widths, k, w, s.n, b, s.c, m);
    OMP(omp parallel for schedule(static) if (hw * s.c > 65536))
    for (int c = 0; c < s.c; c++) {
      const size_t at = ((size_t)b * s.c + c) * hw;
      double sum = 0;
      for (size_t i = 0; i < hw; i++) {
        sum += (double)x[at + i] * dy[at + i];
        if (dx) dx[at + i] = (acc ? dx[at + i] : 0.0f) + dy[at + i] * m[c];
      }
      dm[c] = sum;
    }
    for (int j = 0; dw && j < k; j++) { /* d loss / d w[j][b]: the channels width j keeps */
      double sum = 0;
      for (int c = 0; c < widths[j] && c < s.c; c++) sum += dm[c];
      dw[(size_t)j * s.n + b] += (float)sum;
    }
  }
  free(m), free(dm);
  return true;
}
