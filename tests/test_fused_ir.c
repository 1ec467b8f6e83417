/* test_fused_ir.c - cpu_fused_ir (the whole inverted residual in one pass) against the op-by-op path it replaces:
 * cpu_conv2d expand (+ bias, act), depthwise (+ bias, act), project (+ bias), then cpu_add of the input. Random
 * blocks over the strides, kernel sizes, dilations, groups, activations, odd sizes, batches and thread counts the
 * std library and the spaces use, plus the edge cases of the row ring: one-row outputs, bands shorter than a batch,
 * and inputs narrower than the padding; residual blocks also in place (y == x). Agreement within float32 rounding of sgemm (the expand and project gemms
 * cover other column ranges than cpu_conv2d's, so OpenBLAS may round differently): 2e-6 of the output's scale. */
#include "cpu_conv_internal.h"
#include "cpu_ops.h"
#include "test_util.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint32_t rng_u32(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (uint32_t)(rng >> 16);
}
static int rng_int(int lo, int hi) { return lo + (int)(rng_u32() % (uint32_t)(hi - lo + 1)); }
static float *rand_buf(size_t n, float scale) {
  float *p = malloc((n ? n : 1) * sizeof *p);
  if (!p) abort();
  for (size_t i = 0; i < n; i++) p[i] = ((float)rng_u32() / 4294967296.0f * 2.0f - 1.0f) * scale;
  return p;
}

typedef struct Case {
  int n, cin, h, w, e, cout, k, s, d, g, act;
  bool in_place; /* also run with y == x (residual blocks) */
} Case;

static int out_size(int in, int k, int s, int d) { return (in + 2 * (d * (k - 1) / 2) - d * (k - 1) - 1) / s + 1; }

/* The op-by-op result and the fused one for case c; returns the largest difference relative to max |y|. */
static double compare(const Case *c) {
  const int hid = c->cin * c->e, pad = c->d * (c->k - 1) / 2;
  const int oh = out_size(c->h, c->k, c->s, c->d), ow = out_size(c->w, c->k, c->s, c->d);
  Shape xs = {c->n, c->cin, c->h, c->w}, hs = {c->n, hid, c->h, c->w}, ds = {c->n, hid, oh, ow};
  Shape ys = {c->n, c->cout, oh, ow};
  FusedIr f = {.g1 = c->g, .act1 = c->act, .kh = c->k, .kw = c->k, .sh = c->s, .sw = c->s, .ph = pad, .pw = pad,
               .dh = c->d, .dw = c->d, .act2 = c->act, .g2 = c->g, .hidden = hid,
               .residual = c->s == 1 && c->cin == c->cout};
  float *x = rand_buf(shape_numel(xs), 1.0f);
  float *w1 = rand_buf((size_t)hid * c->cin / c->g, 0.5f), *b1 = rand_buf((size_t)hid, 0.2f);
  float *wd = rand_buf((size_t)hid * c->k * c->k, 0.4f), *bd = rand_buf((size_t)hid, 0.2f);
  float *w2 = rand_buf((size_t)c->cout * hid / c->g, 0.3f), *b2 = rand_buf((size_t)c->cout, 0.2f);
  f.w1 = w1, f.b1 = b1, f.wd = wd, f.bd = bd, f.w2 = w2, f.b2 = b2;
  float *h1 = malloc(shape_numel(hs) * sizeof(float)), *h2 = malloc(shape_numel(ds) * sizeof(float));
  float *ref = malloc(shape_numel(ys) * sizeof(float)), *got = malloc(shape_numel(ys) * sizeof(float));
  float *scratch = malloc((cpu_fused_ir_scratch(&f, xs, ys) + 1) * sizeof(float));
  if (!h1 || !h2 || !ref || !got || !scratch) abort();
  for (size_t i = 0; i <= cpu_fused_ir_scratch(&f, xs, ys); i++) scratch[i] = NAN; /* nothing may read it unwritten */
  ConvParams p1 = {1, 1, 1, 1, 0, 0, 1, 1, c->g, c->act};
  ConvParams pd = {c->k, c->k, c->s, c->s, pad, pad, c->d, c->d, hid, c->act};
  ConvParams p2 = {1, 1, 1, 1, 0, 0, 1, 1, c->g, CONV_ACT_NONE};
  cpu_conv2d(x, xs, w1, b1, &p1, h1, hs);
  cpu_conv2d(h1, hs, wd, bd, &pd, h2, ds);
  cpu_conv2d(h2, ds, w2, b2, &p2, ref, ys);
  if (f.residual) cpu_add(ref, ys, x, xs, ref, ys);
  for (size_t i = 0; i < shape_numel(ys); i++) got[i] = NAN;
  cpu_fused_ir(x, xs, &f, scratch, got, ys);
  double big = 0, worst = 0;
  for (size_t i = 0; i < shape_numel(ys); i++) big = fmax(big, fabs(ref[i]));
  for (size_t i = 0; i < shape_numel(ys); i++) {
    double d = fabs((double)got[i] - ref[i]);
    worst = d != d ? INFINITY : fmax(worst, d); /* NaN: an output the kernel never wrote */
  }
  if (f.residual && c->in_place) { /* over the input itself: the executor's in-place residual add */
    memcpy(got, x, shape_numel(xs) * sizeof(float));
    cpu_fused_ir(got, xs, &f, scratch, got, ys);
    for (size_t i = 0; i < shape_numel(ys); i++) {
      double d = fabs((double)got[i] - ref[i]);
      worst = d != d ? INFINITY : fmax(worst, d);
    }
  }
  free(x), free(w1), free(b1), free(wd), free(bd), free(w2), free(b2);
  free(h1), free(h2), free(ref), free(got), free(scratch);
  return worst / fmax(big, 1e-30);
}

static void check_case(const Case *c, int threads) {
  double r = compare(c);
  if (r <= 2e-6) t_passed++;
  else {
    t_failed++;
    fprintf(stderr, "fused IR n%d cin%d %dx%d e%d cout%d k%d s%d d%d g%d act%d, %d threads: relative error %.3g\n", c->n,
            c->cin, c->h, c->w, c->e, c->cout, c->k, c->s, c->d, c->g, c->act, threads, r);
  }
}

static void set_threads(int t) {
#ifdef _OPENMP
  omp_set_num_threads(t);
#else
  (void)t;
#endif
}

/* cpu_gemm_smallk against a double-precision product: every m, n tail, k up to 32, bias or none, each activation;
   NaN inputs give NaN outputs through relu and relu6 (PyTorch's). */
static void test_gemm_smallk(void) {
  for (int i = 0; i < 40; i++) {
    const int m = rng_int(1, 13), n = rng_int(1, 70), k = rng_int(1, 32), act = i % 3, ldb = n + rng_int(0, 5);
    float *a = rand_buf((size_t)m * k, 1.0f), *b = rand_buf((size_t)k * ldb, 1.0f), *bias = rand_buf((size_t)m, 1.0f);
    float *c = malloc(sizeof(float) * (size_t)m * n);
    if (!c) abort();
    if (i % 5 == 0) b[0] = NAN; /* column 0 of every row */
    const bool with_bias = i % 2;
    cpu_gemm_smallk(m, n, k, a, k, b, ldb, c, n, with_bias ? bias : NULL, act);
    int bad = 0;
    for (int r = 0; r < m; r++)
      for (int j = 0; j < n; j++) {
        double s = with_bias ? bias[r] : 0;
        for (int q = 0; q < k; q++) s += (double)a[r * k + q] * b[(size_t)q * ldb + j];
        if (act && s < 0) s = 0;
        if (act == CONV_ACT_RELU6 && s > 6) s = 6;
        const float got = c[(size_t)r * n + j];
        if (s != s ? got == got : !(fabs(got - s) <= 1e-5 * (1 + fabs(s)))) bad++;
      }
    if (bad) fprintf(stderr, "gemm_smallk m%d n%d k%d act%d: %d wrong\n", m, n, k, act, bad);
    CHECK(bad == 0);
    free(a), free(b), free(bias), free(c);
  }
}

/* cpu_gemm_wide (AVX-512) against a double-precision product: the 8-, 4- and 1-row blocks, the 32- and 16-column
   panels (packed one at a time and several together) and the scalar tail, k over several passes of 256, B's rows
   close or far apart (packed), ldc wider than n, bias or none, each activation. */
static void test_gemm_wide(void) {
  float one = 0;
  if (!cpu_gemm_wide(1, 1, 1, &one, 1, &one, 1, &one, 1, NULL, CONV_ACT_NONE)) {
    fprintf(stderr, "gemm_wide: skipped (no AVX-512 on this CPU, or SQN_CPU_GEMM=blas)\n");
    return;
  }
  for (int i = 0; i < 60; i++) {
    /* n up to 300 in some: several groups of panels packed together (PACK_PANELS) and what is left after them */
    const int m = rng_int(1, 21), n = i % 4 == 3 ? rng_int(100, 300) : rng_int(1, 100);
    const int k = i < 6 ? rng_int(257, 700) : rng_int(1, 120), act = i % 3;
    const int ldb = n + (i % 3 == 2 ? 1024 + rng_int(0, 40) : rng_int(0, 5)), ldc = n + rng_int(0, 3); /* far: packed */
    float *a = rand_buf((size_t)m * k, 1.0f), *b = rand_buf((size_t)k * ldb, 1.0f), *bias = rand_buf((size_t)m, 1.0f);
    float *c = rand_buf((size_t)m * ldc, 1.0f);
    if (i % 5 == 0) b[0] = NAN; /* column 0 of every row */
    const bool with_bias = i % 2;
    CHECK(cpu_gemm_wide(m, n, k, a, k, b, ldb, c, ldc, with_bias ? bias : NULL, act));
    int bad = 0;
    for (int r = 0; r < m; r++)
      for (int j = 0; j < n; j++) {
        double s = with_bias ? bias[r] : 0, mag = 1;
        for (int q = 0; q < k; q++) s += (double)a[r * k + q] * b[(size_t)q * ldb + j], mag += fabs((double)a[r * k + q] * b[(size_t)q * ldb + j]);
        if (act && s < 0) s = 0;
        if (act == CONV_ACT_RELU6 && s > 6) s = 6;
        const float got = c[(size_t)r * ldc + j];
        if (s != s ? got == got : !(fabs(got - s) <= 1e-6 * mag)) bad++;
      }
    if (bad) fprintf(stderr, "gemm_wide m%d n%d k%d act%d: %d wrong\n", m, n, k, act, bad);
    CHECK(bad == 0);
    free(a), free(b), free(bias), free(c);
  }
}

/* cpu_gemm_wide_tn: C (+)= A^T * B with A stored k x m (lda wider than m in some), against a double-precision
   product; the same blocks, panels and tails as test_gemm_wide, written and accumulated. */
static void test_gemm_wide_tn(void) {
  float one = 0;
  if (!cpu_gemm_wide_tn(1, 1, 1, &one, 1, &one, 1, &one, 1, false)) {
    fprintf(stderr, "gemm_wide_tn: skipped (no AVX-512 on this CPU, or SQN_CPU_GEMM=blas)\n");
    return;
  }
  for (int i = 0; i < 40; i++) {
    const int m = rng_int(1, 21), n = i % 4 == 3 ? rng_int(100, 300) : rng_int(1, 100);
    const int k = i < 5 ? rng_int(257, 600) : rng_int(1, 120), lda = m + rng_int(0, 4);
    const int ldb = n + (i % 3 == 2 ? 1024 + rng_int(0, 40) : rng_int(0, 5)), ldc = n + rng_int(0, 3);
    const bool acc = i % 2;
    float *a = rand_buf((size_t)k * lda, 1.0f), *b = rand_buf((size_t)k * ldb, 1.0f);
    float *c = rand_buf((size_t)m * ldc, 1.0f);
    double *c0 = malloc(sizeof *c0 * (size_t)m * ldc);
    for (size_t q = 0; q < (size_t)m * ldc; q++) c0[q] = c[q];
    CHECK(cpu_gemm_wide_tn(m, n, k, a, lda, b, ldb, c, ldc, acc));
    int bad = 0;
    for (int r = 0; r < m; r++)
      for (int j = 0; j < n; j++) {
        double s = acc ? c0[(size_t)r * ldc + j] : 0, mag = 1 + fabs(s);
        for (int q = 0; q < k; q++) {
          const double t = (double)a[(size_t)q * lda + r] * b[(size_t)q * ldb + j];
          s += t, mag += fabs(t);
        }
        if (!(fabs(c[(size_t)r * ldc + j] - s) <= 1e-6 * mag)) bad++;
      }
    if (bad) fprintf(stderr, "gemm_wide_tn m%d n%d k%d lda%d acc%d: %d wrong\n", m, n, k, lda, acc, bad);
    CHECK(bad == 0);
    free(a), free(b), free(c), free(c0);
  }
}

/* cpu_gemm_wide_nt: C += A * B^T (both k long, row strides wider than k in some), against a double-precision
   product: 4 x 4 tiles and the single rows and columns after them, k over several blocks of 4096 and a ragged end. */
static void test_gemm_wide_nt(void) {
  float one = 0;
  if (!cpu_gemm_wide_nt(1, 1, 1, &one, 1, &one, 1, &one, 1)) {
    fprintf(stderr, "gemm_wide_nt: skipped (no AVX-512 on this CPU, or SQN_CPU_GEMM=blas)\n");
    return;
  }
  for (int i = 0; i < 30; i++) {
    const int m = rng_int(1, 19), n = rng_int(1, 19), k = i < 4 ? rng_int(4097, 9000) : rng_int(1, 300);
    const int lda = k + rng_int(0, 5), ldb = k + rng_int(0, 5), ldc = n + rng_int(0, 3);
    float *a = rand_buf((size_t)m * lda, 1.0f), *b = rand_buf((size_t)n * ldb, 1.0f);
    float *c = rand_buf((size_t)m * ldc, 1.0f);
    double *c0 = malloc(sizeof *c0 * (size_t)m * ldc);
    for (size_t q = 0; q < (size_t)m * ldc; q++) c0[q] = c[q];
    CHECK(cpu_gemm_wide_nt(m, n, k, a, lda, b, ldb, c, ldc));
    int bad = 0;
    for (int r = 0; r < m; r++)
      for (int j = 0; j < ldc; j++) {
        double s = c0[(size_t)r * ldc + j], mag = 1 + fabs(s);
        for (int q = 0; j < n && q < k; q++) {
          const double t = (double)a[(size_t)r * lda + q] * b[(size_t)j * ldb + q];
          s += t, mag += fabs(t);
        }
        if (!(fabs(c[(size_t)r * ldc + j] - s) <= 1e-6 * mag)) bad++; /* columns past n unchanged */
      }
    if (bad) fprintf(stderr, "gemm_wide_nt m%d n%d k%d: %d wrong\n", m, n, k, bad);
    CHECK(bad == 0);
    free(a), free(b), free(c), free(c0);
  }
}

int main(void) {
  test_gemm_smallk();
  test_gemm_wide();
  test_gemm_wide_tn();
  test_gemm_wide_nt();
  static const Case fixed[] = {
      {1, 16, 64, 128, 6, 24, 5, 2, 1, 1, CONV_ACT_RELU, false}, /* squeezenas: stride-2 5x5 */
      {2, 24, 33, 47, 3, 24, 3, 1, 1, 1, CONV_ACT_RELU6, true}, /* residual, odd sizes, batch 2, in place */
      {1, 16, 64, 96, 6, 16, 5, 1, 2, 1, CONV_ACT_RELU, true},  /* in place with a halo of 8 rows */
      {1, 48, 17, 19, 6, 48, 3, 1, 2, 2, CONV_ACT_RELU, true},/* dilated, grouped 1x1s */
      {1, 8, 1, 1, 2, 8, 3, 1, 1, 1, CONV_ACT_NONE, true},  /* one pixel: every tap but the centre is padding */
      {1, 8, 2, 300, 4, 16, 7, 2, 1, 1, CONV_ACT_RELU, false}, /* input shorter than the kernel */
      {3, 4, 9, 3, 1, 4, 5, 1, 2, 1, CONV_ACT_RELU6, true}, /* padding wider than the input */
      {1, 32, 5, 700, 6, 40, 3, 2, 1, 2, CONV_ACT_RELU, false}, /* one output row per batch */
      {1, 8, 9, 301, 3, 8, 3, 1, 2, 1, CONV_ACT_RELU6, true},  /* stride 1, dilated: 128-column blocks, odd edges */
      {1, 8, 6, 260, 2, 16, 5, 1, 1, 1, CONV_ACT_NONE, false},  /* 5x5 over 128 + 64 + 32 + 16 + 8 + 4 + 4 columns */
  };
  for (int t = 1; t <= 3; t++) {
    set_threads(t);
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) check_case(&fixed[i], t);
  }
  static const int ks[] = {1, 3, 5, 7};
  for (int i = 0; i < 60; i++) {
    const int g = rng_int(1, 3) == 1 ? 2 : 1;
    Case c = {rng_int(1, 2), g * rng_int(1, 12), rng_int(1, 40), rng_int(1, 70), rng_int(1, 6), 0,
              ks[rng_int(0, 3)], rng_int(1, 2), rng_int(1, 2), g, rng_int(0, 2), true};
    c.cout = rng_int(0, 1) ? c.cin : g * rng_int(1, 12);
    const int t = rng_int(1, 3);
    set_threads(t);
    check_case(&c, t);
  }
  return test_summary();
}
