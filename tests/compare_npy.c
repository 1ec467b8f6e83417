/* compare_npy.c - golden comparison of sqnrun outputs with upstream PyTorch arrays.
   compare_npy logits OURS.npy REF.npy STRIDE ATOL   ours[:, :, ::STRIDE, ::STRIDE] vs REF, max |diff| <= ATOL
   compare_npy argmax OURS.npy REF.npy MIN_MATCH     fraction of equal uint8 pixels >= MIN_MATCH
   Exit 0 pass, 1 fail, 77 skipped (REF missing). Prints the measured figures. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "npy.h"

static int compare_logits(const NamedTensor *a, const NamedTensor *r, int stride, double atol) {
  if (a->ndim != 4 || r->ndim != 4 || a->dtype != DT_F32 || r->dtype != DT_F32) return puts("FAIL: need float32 NCHW"), 1;
  int64_t n = r->dims[0], c = r->dims[1], h = r->dims[2], w = r->dims[3];
  if (a->dims[0] != n || a->dims[1] != c || (a->dims[2] + stride - 1) / stride != h || (a->dims[3] + stride - 1) / stride != w)
    return printf("FAIL: shapes differ (ours %lldx%lldx%lldx%lld)\n", (long long)a->dims[0], (long long)a->dims[1],
                  (long long)a->dims[2], (long long)a->dims[3]), 1;
  const float *x = a->data, *y = r->data;
  double maxd = 0, sum = 0;
  for (int64_t i = 0; i < n * c; i++)
    for (int64_t yy = 0; yy < h; yy++)
      for (int64_t xx = 0; xx < w; xx++) {
        double d = fabs((double)x[(i * a->dims[2] + yy * stride) * a->dims[3] + xx * stride] - y[(i * h + yy) * w + xx]);
        if (!(d <= maxd)) maxd = d; /* NaN propagates */
        sum += d;
      }
  printf("logits: max |diff| %.3g, mean |diff| %.3g over %lld values (tolerance %.3g)\n", maxd, sum / (double)(n * c * h * w),
         (long long)(n * c * h * w), atol);
  return maxd <= atol ? 0 : 1;
}

static int compare_argmax(const NamedTensor *a, const NamedTensor *r, double min_match) {
  if (a->nbytes != r->nbytes || a->dtype != DT_U8 || r->dtype != DT_U8) return puts("FAIL: argmax arrays differ in size or type"), 1;
  const unsigned char *x = a->data, *y = r->data;
  size_t same = 0;
  for (size_t i = 0; i < a->nbytes; i++) same += x[i] == y[i];
  double frac = (double)same / (double)a->nbytes;
  printf("argmax: %zu of %zu pixels equal (%.6f%%; %zu differ), need >= %.4f%%\n", same, a->nbytes, 100 * frac,
         a->nbytes - same, 100 * min_match);
  return frac >= min_match ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc < 5) return fprintf(stderr, "usage: see the comment in compare_npy.c\n"), 2;
  if (access(argv[3], R_OK)) return printf("SKIPPED: %s not found (no shared reference data)\n", argv[3]), 77;
  NamedTensor a, r;
  char err[512];
  if (!npy_read(argv[2], &a, err, sizeof err)) return printf("FAIL: %s: %s\n", argv[2], err), 1;
  if (!npy_read(argv[3], &r, err, sizeof err)) return printf("FAIL: %s: %s\n", argv[3], err), 1;
  int rc = !strcmp(argv[1], "logits") && argc == 6 ? compare_logits(&a, &r, atoi(argv[4]), atof(argv[5]))
           : !strcmp(argv[1], "argmax") ? compare_argmax(&a, &r, atof(argv[4]))
                                        : (fprintf(stderr, "unknown comparison %s\n", argv[1]), 2);
  npy_free(&a);
  npy_free(&r);
  return rc;
}
