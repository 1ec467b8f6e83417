/* test_cpu_ops.c - the CPU op kernels (runtime/cpu/cpu_ops.h) against naive double-precision references written
 * here from the PyTorch definitions, on random shapes, plus a few values worked out by hand (and checked
 * once against PyTorch 1.13). Run with --bench to time the conv kinds of a segmentation net at 784x1568. */
#include "cpu_conv_internal.h"
#include "cpu_grad.h"
#include "cpu_ops.h"
#include "spatial_ref.h"
#include "test_util.h"
#include "clock.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/* ---- helpers ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rng_u32(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t)(rng_state >> 16);
}
static int rng_int(int lo, int hi) { return lo + (int)(rng_u32() % (uint32_t)(hi - lo + 1)); } /* [lo, hi] */
static float rng_float(void) { return (float)rng_u32() / 4294967296.0f * 2.0f - 1.0f; }      /* [-1, 1) */

static float *rand_buf(size_t n) {
  float *p = malloc((n ? n : 1) * sizeof(float));
  if (!p) abort();
  for (size_t i = 0; i < n; i++) p[i] = rng_float();
  return p;
}
static float *zero_buf(size_t n) {
  float *p = calloc(n ? n : 1, sizeof(float));
  if (!p) abort();
  return p;
}
static size_t idx4(Shape s, int n, int c, int h, int w) { return (((size_t)n * s.c + c) * s.h + h) * s.w + w; }

/* One check: every y[i] within atol + rtol * scale[i] (scale NULL: |ref[i]|) of ref[i]. */
static void check_close(const char *what, const float *y, const double *ref, const double *scale, size_t n, double atol,
                        double rtol) {
  for (size_t i = 0; i < n; i++) {
    const double s = scale ? scale[i] : fabs(ref[i]);
    const double err = fabs((double)y[i] - ref[i]);
    if (!(err <= atol + rtol * s)) {
      t_failed++;
      fprintf(stderr, "%s: element %zu is %.9g, expected %.9g (err %.3g, allowed %.3g)\n", what, i, (double)y[i], ref[i],
              err, atol + rtol * s);
      return;
    }
  }
  t_passed++;
}

static void check_value(const char *what, float got, double want, double tol) {
  if (fabs((double)got - want) <= tol) t_passed++;
  else {
    t_failed++;
    fprintf(stderr, "%s: got %.9g, expected %.9g\n", what, (double)got, want);
  }
}

/* ---- conv2d ---- */

typedef struct ConvCase { int n, cin, h, w, cout; ConvParams p; int bias; } ConvCase;

static int conv_out(int in, int k, int s, int pad, int d) { return (in + 2 * pad - d * (k - 1) - 1) / s + 1; }

static void run_conv_case(const ConvCase *cc, const char *label) {
  const ConvParams *p = &cc->p;
  const Shape xs = {cc->n, cc->cin, cc->h, cc->w};
  const Shape ys = {cc->n, cc->cout, conv_out(cc->h, p->kh, p->sh, p->ph, p->dh), conv_out(cc->w, p->kw, p->sw, p->pw, p->dw)};
  const int cin_g = cc->cin / p->groups, cout_g = cc->cout / p->groups;
  float *x = rand_buf(shape_numel(xs));
  float *w = rand_buf((size_t)cc->cout * cin_g * p->kh * p->kw);
  float *b = cc->bias ? rand_buf((size_t)cc->cout) : NULL;
  float *y = zero_buf(shape_numel(ys));
  double *ref = malloc(shape_numel(ys) * sizeof(double)), *mag = malloc(shape_numel(ys) * sizeof(double));
  if (!ref || !mag) abort();
  for (int n = 0; n < ys.n; n++)
    for (int co = 0; co < ys.c; co++) {
      const int g = co / cout_g;
      for (int oy = 0; oy < ys.h; oy++)
        for (int ox = 0; ox < ys.w; ox++) {
          double acc = b ? b[co] : 0.0, m = b ? fabs(b[co]) : 0.0;
          for (int ci = g * cin_g; ci < (g + 1) * cin_g; ci++)
            for (int ky = 0; ky < p->kh; ky++)
              for (int kx = 0; kx < p->kw; kx++) {
                const int iy = oy * p->sh - p->ph + ky * p->dh, ix = ox * p->sw - p->pw + kx * p->dw;
                if (iy < 0 || iy >= xs.h || ix < 0 || ix >= xs.w) continue;
                const double t = (double)x[idx4(xs, n, ci, iy, ix)] *
                                 w[(((size_t)co * cin_g + (ci - g * cin_g)) * p->kh + ky) * p->kw + kx];
                acc += t;
                m += fabs(t);
              }
          if (p->act != CONV_ACT_NONE && acc < 0) acc = 0;
          if (p->act == CONV_ACT_RELU6 && acc > 6) acc = 6;
          ref[idx4(ys, n, co, oy, ox)] = acc;
          mag[idx4(ys, n, co, oy, ox)] = m;
        }
    }
  cpu_conv2d(x, xs, w, b, p, y, ys);
  char what[256];
  snprintf(what, sizeof what,
           "conv %s [%d,%d,%d,%d]->[%d,%d,%d,%d] k%dx%d s%d,%d p%d,%d d%d,%d g%d%s act%d", label, xs.n, xs.c, xs.h, xs.w, ys.n,
           ys.c, ys.h, ys.w, p->kh, p->kw, p->sh, p->sw, p->ph, p->pw, p->dh, p->dw, p->groups, b ? " bias" : "", p->act);
  check_close(what, y, ref, mag, shape_numel(ys), 1e-6, 1e-5);
  free(x), free(w), free(b), free(y), free(ref), free(mag);
}

#define CP(kh, kw, sh, sw, ph, pw, dh, dw, g) {kh, kw, sh, sw, ph, pw, dh, dw, g, CONV_ACT_NONE}

/* The relu / relu6 epilogue on both paths (direct and sgemm), with and without bias. */
static void test_conv_epilogue(void) {
  for (int act = CONV_ACT_RELU; act <= CONV_ACT_RELU6; act++)
    for (int bias = 0; bias < 2; bias++) {
      ConvCase dw = {1, 8, 9, 11, 8, {3, 3, 1, 1, 1, 1, 1, 1, 8, act}, bias};
      ConvCase pw = {2, 16, 7, 9, 24, {1, 1, 1, 1, 0, 0, 1, 1, 1, act}, bias};
      ConvCase k3 = {1, 6, 10, 12, 10, {3, 3, 2, 2, 1, 1, 1, 1, 1, act}, bias};
      /* rows wide enough for cpu_dw_row's 128-, 64-, 32- and 16-column blocks and the edges after them */
      ConvCase dw_wide = {1, 3, 4, 256, 3, {3, 3, 1, 1, 1, 1, 1, 1, 3, act}, bias};
      ConvCase dw_wide2 = {1, 2, 5, 511, 2, {5, 5, 2, 2, 2, 2, 1, 1, 2, act}, bias};
      run_conv_case(&dw, "epilogue depthwise");
      run_conv_case(&dw_wide, "epilogue depthwise, wide rows");
      run_conv_case(&dw_wide2, "epilogue depthwise, wide rows, stride 2");
      if (act == CONV_ACT_RELU6 && bias) { /* a stem whose output (33 MiB) is streamed past the caches (cpu_conv_narrow.c) */
        ConvCase stem = {1, 3, 1040, 2080, 16, {3, 3, 2, 2, 1, 1, 1, 1, 1, act}, bias};
        run_conv_case(&stem, "epilogue stem, streamed output");
      }
      run_conv_case(&pw, "epilogue pointwise");
      run_conv_case(&k3, "epilogue im2col");
    }
}

static void test_conv(void) {
  static const ConvCase cases[] = {
      {2, 16, 7, 9, 24, CP(1, 1, 1, 1, 0, 0, 1, 1, 1), 1},    /* pointwise, sgemm on the input */
      {2, 16, 7, 9, 24, CP(1, 1, 1, 1, 0, 0, 1, 1, 2), 0},    /* grouped pointwise, sgemm per group */
      {2, 8, 5, 6, 16, CP(1, 1, 1, 1, 0, 0, 1, 1, 4), 1},     /* grouped pointwise, 4 outputs a group: direct */
      {1, 32, 40, 50, 48, CP(1, 1, 1, 1, 0, 0, 1, 1, 1), 1},  /* pointwise, several row blocks */
      {2, 12, 9, 11, 20, CP(1, 1, 2, 2, 0, 0, 1, 1, 1), 1},   /* 1x1 stride 2: im2col */
      {1, 7, 6, 6, 9, CP(1, 1, 1, 1, 1, 1, 1, 1, 1), 1},      /* 1x1 padded */
      {2, 3, 17, 23, 16, CP(3, 3, 2, 2, 1, 1, 1, 1, 1), 1},   /* the stem */
      {2, 8, 13, 11, 12, CP(3, 3, 1, 1, 1, 1, 1, 1, 1), 0},   /* dense 3x3, odd sizes */
      {1, 6, 12, 14, 8, CP(3, 3, 1, 1, 2, 2, 2, 2, 1), 1},    /* dilation 2 */
      {1, 64, 20, 70, 8, CP(3, 3, 1, 1, 1, 1, 1, 1, 1), 1},   /* big K: several im2col chunks */
      {2, 8, 10, 12, 8, CP(3, 3, 1, 1, 1, 1, 1, 1, 8), 1},    /* depthwise */
      {2, 8, 15, 17, 8, CP(3, 3, 2, 2, 1, 1, 1, 1, 8), 0},    /* depthwise stride 2, odd */
      {1, 6, 11, 13, 6, CP(5, 5, 1, 1, 2, 2, 1, 1, 6), 1},    /* depthwise 5x5 */
      {2, 6, 16, 15, 6, CP(5, 5, 2, 2, 2, 2, 1, 1, 6), 1},    /* depthwise 5x5 stride 2 */
      {1, 4, 12, 12, 4, CP(3, 3, 1, 1, 2, 2, 2, 2, 4), 1},    /* depthwise dilation 2 */
      {1, 2, 30, 30, 2, CP(3, 3, 1, 1, 1, 1, 1, 1, 2), 1},    /* depthwise, few planes: row blocks */
      {1, 4, 9, 9, 8, CP(3, 3, 1, 1, 1, 1, 1, 1, 4), 1},      /* channel multiplier 2 */
      {2, 16, 9, 10, 16, CP(3, 3, 1, 1, 2, 2, 2, 2, 8), 1},   /* ASPP: 2 channels a group, dilation 2 */
      {1, 16, 7, 9, 16, CP(3, 3, 1, 1, 6, 6, 6, 6, 8), 0},    /* ASPP: dilation 6 on a small map */
      {2, 8, 9, 9, 12, CP(3, 3, 1, 1, 1, 1, 1, 1, 2), 1},     /* groups 2, sgemm per group */
      {1, 4, 13, 15, 8, CP(5, 5, 2, 2, 2, 2, 1, 1, 1), 1},    /* dense 5x5 stride 2 */
      {1, 5, 8, 9, 6, CP(3, 3, 1, 1, 0, 0, 1, 1, 1), 1},      /* unpadded */
      {1, 5, 8, 9, 6, CP(3, 3, 1, 1, 2, 2, 1, 1, 1), 0},      /* padding past the kernel's half */
      {1, 6, 7, 10, 6, CP(1, 3, 1, 1, 0, 1, 1, 1, 1), 1},     /* 1x3 */
      {1, 6, 10, 7, 6, CP(3, 1, 2, 1, 1, 0, 1, 1, 1), 1},     /* 3x1, stride (2, 1) */
      {1, 3, 4, 40, 5, CP(1, 17, 1, 1, 0, 8, 1, 1, 1), 1},    /* wide kernel */
      {1, 3, 4, 40, 3, CP(1, 17, 1, 2, 0, 8, 1, 1, 3), 1},    /* wide depthwise kernel, stride 2 */
      {1, 2, 5, 5, 3, CP(3, 3, 3, 3, 0, 0, 1, 1, 1), 1},      /* stride 3 */
      {1, 1, 1, 1, 5, CP(1, 1, 1, 1, 0, 0, 1, 1, 1), 1},      /* 1x1 map */
      {1, 2, 3, 3, 6, CP(3, 3, 1, 1, 1, 1, 1, 1, 1), 1},      /* tiny */
      {1, 8, 3, 2, 8, CP(3, 3, 1, 1, 6, 6, 6, 6, 1), 1},      /* padding wider than the map: im2col */
      {2, 8, 3, 2, 8, CP(3, 3, 1, 1, 6, 6, 6, 6, 4), 1},      /* the same, direct */
      {1, 8, 2, 3, 8, CP(3, 3, 2, 2, 12, 12, 12, 12, 2), 0},  /* ... stride 2, dilation 12 */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_conv_case(&cases[i], "fixed");

  /* random configurations */
  for (int it = 0; it < 90; it++) {
    ConvCase cc = {0};
    const int kind = it % 4; /* 0 dense, 1 depthwise, 2 grouped, 3 pointwise */
    const int groups = kind == 0 || kind == 3 ? (rng_int(0, 3) == 0 ? 2 : 1) : (kind == 1 ? 0 : rng_int(2, 4));
    const int k = kind == 3 ? 1 : (rng_int(0, 2) == 0 ? 5 : 3);
    cc.n = rng_int(1, 2);
    if (kind == 1) {
      cc.cin = cc.cout = rng_int(1, 9);
      cc.p.groups = cc.cin;
    } else {
      cc.p.groups = groups;
      cc.cin = groups * rng_int(1, 6);
      cc.cout = groups * (kind == 2 ? rng_int(1, 3) : rng_int(1, 9));
    }
    cc.p.kh = cc.p.kw = k;
    cc.p.sh = cc.p.sw = rng_int(1, 2);
    if (rng_int(0, 4) == 0) cc.p.sw = 3 - cc.p.sh;
    cc.p.dh = cc.p.dw = k == 1 ? 1 : rng_int(1, 2);
    cc.p.ph = kind == 3 ? 0 : rng_int(0, cc.p.dh * (k / 2) + 2);
    cc.p.pw = kind == 3 ? 0 : rng_int(0, cc.p.dw * (k / 2) + 2);
    const int need = cc.p.dh * (k - 1) + 1;
    const int min_h = need > 2 * cc.p.ph ? need - 2 * cc.p.ph : 1, min_w = need > 2 * cc.p.pw ? need - 2 * cc.p.pw : 1;
    const int small = it % 3 == 0; /* every third map is tiny, often narrower than the padding */
    cc.h = rng_int(min_h, small ? (min_h > 4 ? min_h : 4) : min_h + 18);
    cc.w = rng_int(min_w, small ? (min_w > 4 ? min_w : 4) : min_w + 22);
    cc.bias = rng_int(0, 1);
    run_conv_case(&cc, "random");
  }
}

/* Convolutions with at most CPU_NARROW_K taps per output (the stem): cpu_conv2d's direct register-blocked path
   (cpu_conv_narrow.c). Every case must take it; widths cover whole, partial and two-block column runs, cout whole and
   partial blocks of 8 channels, padding beyond the kernel, stride (2, 1), dilation, and the activations. */
static void test_conv_narrow(void) {
  static const ConvCase cases[] = {
      {2, 3, 33, 70, 16, CP(3, 3, 2, 2, 1, 1, 1, 1, 1), 1},  /* the stem, odd height */
      {1, 3, 20, 64, 16, CP(3, 3, 2, 2, 1, 1, 1, 1, 1), 0},  /* OW 32: exactly two column blocks */
      {1, 3, 9, 97, 17, CP(3, 3, 1, 1, 1, 1, 1, 1, 1), 1},   /* stride 1, cout one past a block */
      {1, 2, 11, 50, 8, CP(5, 5, 2, 2, 2, 2, 1, 1, 1), 1},   /* K = 50: too many taps, must not fit (im2col) */
      {1, 3, 12, 40, 10, CP(3, 3, 1, 2, 3, 3, 2, 2, 1), 1},  /* stride (1, 2), dilation 2, padding past the kernel */
      {2, 1, 14, 45, 24, CP(5, 5, 2, 1, 4, 4, 2, 3, 1), 0},  /* stride (2, 1), dilation (2, 3) */
      {1, 32, 5, 35, 8, CP(1, 1, 2, 2, 0, 0, 1, 1, 1), 1},   /* 1x1 stride 2, K = 32 */
      {1, 3, 7, 33, 12, CP(3, 3, 2, 2, 0, 0, 1, 1, 1), 1},   /* unpadded, OW 16: one whole block */
      {1, 3, 6, 36, 9, CP(3, 3, 1, 1, 7, 7, 1, 1, 1), 1},    /* padding wider than the kernel reaches */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const ConvCase *cc = &cases[i];
    const ConvParams *p = &cc->p;
    const Shape xs = {cc->n, cc->cin, cc->h, cc->w};
    const Shape ys = {cc->n, cc->cout, conv_out(cc->h, p->kh, p->sh, p->ph, p->dh), conv_out(cc->w, p->kw, p->sw, p->pw, p->dw)};
    const bool fits = cpu_conv_narrow_fits(xs, p, ys);
    if (fits != (cc->cin * p->kh * p->kw <= CPU_NARROW_K))
      t_failed++, fprintf(stderr, "narrow conv case %zu: cpu_conv_narrow_fits says %d\n", i, fits);
    else
      t_passed++;
    for (int act = CONV_ACT_NONE; act <= CONV_ACT_RELU6; act++) {
      ConvCase c = *cc;
      c.p.act = act;
      run_conv_case(&c, fits ? "narrow" : "narrow (too many taps: im2col)");
    }
  }
}

/* ---- batchnorm and activations ---- */

static void test_batchnorm(void) {
  const Shape s = {2, 5, 7, 9};
  float *x = rand_buf(shape_numel(s)), *y = zero_buf(shape_numel(s));
  float g[5], b[5], m[5], v[5];
  for (int c = 0; c < 5; c++) g[c] = rng_float() * 2, b[c] = rng_float(), m[c] = rng_float(), v[c] = rng_float() + 1.5f;
  double *ref = malloc(shape_numel(s) * sizeof(double));
  for (size_t i = 0; i < shape_numel(s); i++) {
    const int c = (int)(i / (7 * 9) % 5);
    ref[i] = (x[i] - (double)m[c]) / sqrt((double)v[c] + 1e-5) * g[c] + b[c];
  }
  cpu_batchnorm_infer(x, s, g, b, m, v, 1e-5f, y);
  check_close("batchnorm", y, ref, NULL, shape_numel(s), 1e-6, 1e-5);
  cpu_batchnorm_infer(x, s, g, b, m, v, 1e-5f, x); /* in place */
  check_close("batchnorm in place", x, ref, NULL, shape_numel(s), 1e-6, 1e-5);
  free(x), free(y), free(ref);
}

static double relu6_ref(double v) { return fmin(fmax(v, 0.0), 6.0); }

/* silu, hsigmoid, tanh, leaky_relu, affine on x[0..n) (special values first) against double references */
static void test_eltwise_activations(const float *x, int n) {
  float *y = zero_buf((size_t)n);
  double *ref = malloc((size_t)n * sizeof *ref);
  cpu_silu(x, (size_t)n, y);
  for (int i = 0; i < n; i++) ref[i] = x[i] / (1.0 + exp(-(double)x[i]));
  check_close("silu", y, ref, NULL, (size_t)n, 1e-7, 1e-6);
  cpu_hsigmoid(x, (size_t)n, y);
  for (int i = 0; i < n; i++) ref[i] = relu6_ref(x[i] + 3.0) / 6.0;
  check_close("hsigmoid", y, ref, NULL, (size_t)n, 1e-7, 1e-6);
  check_value("hsigmoid(-3)", y[1], 0.0, 0);
  check_value("hsigmoid(3)", y[2], 1.0, 0);
  cpu_tanh(x, (size_t)n, y);
  for (int i = 0; i < n; i++) ref[i] = tanh((double)x[i]);
  check_close("tanh", y, ref, NULL, (size_t)n, 1e-7, 1e-6);
  check_value("tanh(100)", y[5], 1.0, 0);
  cpu_leaky_relu(x, (size_t)n, 0.1f, y);
  for (int i = 0; i < n; i++) ref[i] = x[i] > 0 ? x[i] : x[i] * (double)0.1f;
  check_close("leaky_relu", y, ref, NULL, (size_t)n, 1e-7, 1e-6);
  check_value("leaky_relu(-100)", y[4], -10.0, 1e-5);
  cpu_affine(x, (size_t)n, 1.0f / 6.0f, 0.5f, y);
  for (int i = 0; i < n; i++) ref[i] = x[i] / 6.0 + 0.5;
  check_close("affine", y, ref, NULL, (size_t)n, 1e-7, 1e-6);
  check_value("affine(-3) = -3/6 + 0.5", y[1], 0.0, 1e-7);
  float *t = malloc((size_t)n * sizeof *t);
  memcpy(t, x, (size_t)n * sizeof *t);
  cpu_affine(t, (size_t)n, -1.0f, 3.0f, t); /* in place: 3 - x */
  for (int i = 0; i < n; i++) ref[i] = 3.0 - x[i];
  check_close("affine in place", t, ref, NULL, (size_t)n, 1e-7, 1e-6);
  free(t), free(y), free(ref);
}

static void test_activations(void) {
  enum { N = 1000 };
  float x[N], y[N];
  double ref[N];
  for (int i = 0; i < N; i++) x[i] = rng_float() * 10.0f;
  x[0] = 0.0f, x[1] = -3.0f, x[2] = 3.0f, x[3] = 6.0f, x[4] = -100.0f, x[5] = 100.0f, x[6] = -0.5f;
  cpu_relu(x, N, y);
  for (int i = 0; i < N; i++) ref[i] = x[i] > 0 ? x[i] : 0.0;
  check_close("relu", y, ref, NULL, N, 0, 0);
  cpu_relu6(x, N, y);
  for (int i = 0; i < N; i++) ref[i] = fmin(fmax(x[i], 0.0), 6.0);
  check_close("relu6", y, ref, NULL, N, 0, 0);
  cpu_sigmoid(x, N, y);
  for (int i = 0; i < N; i++) ref[i] = 1.0 / (1.0 + exp(-(double)x[i]));
  check_close("sigmoid", y, ref, NULL, N, 1e-7, 1e-6);
  float sig4 = y[4], sig5 = y[5];
  cpu_hswish(x, N, y);
  for (int i = 0; i < N; i++) ref[i] = x[i] * fmin(fmax(x[i] + 3.0, 0.0), 6.0) / 6.0;
  check_close("hswish", y, ref, NULL, N, 1e-7, 1e-6);
  check_value("hswish(-3)", y[1], 0.0, 0);
  check_value("hswish(3)", y[2], 3.0, 0);
  check_value("sigmoid(-100)", sig4, 0.0, 1e-30);
  check_value("sigmoid(100)", sig5, 1.0, 0);
  test_eltwise_activations(x, N);
  float nan_in = NAN, out = 0.0f;
  cpu_relu(&nan_in, 1, &out);
  CHECK(isnan(out)); /* PyTorch's relu passes NaN through */
  cpu_relu6(&nan_in, 1, &out);
  CHECK(isnan(out));
  cpu_relu(x, N, x); /* in place */
  int ok = 1;
  for (int i = 0; i < N; i++) ok &= x[i] >= 0.0f;
  CHECK(ok);
}

/* ---- broadcast add / mul, concat, mix, crop ---- */

static void check_binop(Shape as, Shape bs, int op) { /* 0 add, 1 mul, 2 sub */
  const Shape ys = {as.n > bs.n ? as.n : bs.n, as.c > bs.c ? as.c : bs.c, as.h > bs.h ? as.h : bs.h, as.w > bs.w ? as.w : bs.w};
  float *a = rand_buf(shape_numel(as)), *b = rand_buf(shape_numel(bs)), *y = zero_buf(shape_numel(ys));
  double *ref = malloc(shape_numel(ys) * sizeof(double));
  for (int n = 0; n < ys.n; n++)
    for (int c = 0; c < ys.c; c++)
      for (int h = 0; h < ys.h; h++)
        for (int w = 0; w < ys.w; w++) {
          const double av = a[idx4(as, as.n == 1 ? 0 : n, as.c == 1 ? 0 : c, as.h == 1 ? 0 : h, as.w == 1 ? 0 : w)];
          const double bv = b[idx4(bs, bs.n == 1 ? 0 : n, bs.c == 1 ? 0 : c, bs.h == 1 ? 0 : h, bs.w == 1 ? 0 : w)];
          ref[idx4(ys, n, c, h, w)] = (double)(float)(op == 1 ? av * bv : op == 2 ? av - bv : av + bv);
        }
  (op == 1 ? cpu_mul : op == 2 ? cpu_sub : cpu_add)(a, as, b, bs, y, ys);
  char what[160];
  snprintf(what, sizeof what, "%s [%d,%d,%d,%d] [%d,%d,%d,%d]", op == 1 ? "mul" : op == 2 ? "sub" : "add", as.n, as.c, as.h, as.w, bs.n, bs.c,
           bs.h, bs.w);
  check_close(what, y, ref, NULL, shape_numel(ys), 0, 0); /* one float op: exact */
  free(a), free(b), free(y), free(ref);
}

static void test_binops(void) {
  static const Shape pairs[][2] = {
      {{2, 3, 4, 5}, {2, 3, 4, 5}}, {{2, 3, 4, 5}, {1, 3, 1, 1}}, {{2, 3, 4, 5}, {2, 3, 1, 1}}, {{2, 1, 4, 5}, {2, 3, 4, 5}},
      {{2, 3, 4, 1}, {1, 1, 1, 5}}, {{1, 3, 1, 5}, {2, 1, 4, 1}}, {{2, 3, 1, 1}, {2, 3, 4, 5}}, {{1, 1, 1, 1}, {2, 3, 4, 5}},
      {{2, 3, 4, 5}, {1, 1, 4, 5}}, {{2, 64, 40, 50}, {2, 64, 1, 1}}, {{2, 64, 40, 50}, {2, 64, 40, 50}},
  };
  for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
    for (int op = 0; op < 3; op++) check_binop(pairs[i][0], pairs[i][1], op);
  }
  /* in place: y == a */
  const Shape s = {2, 3, 4, 5}, sb = {2, 3, 1, 1};
  float *a = rand_buf(shape_numel(s)), *b = rand_buf(shape_numel(sb));
  double ref[120];
  for (int i = 0; i < 120; i++) ref[i] = (double)(float)((double)a[i] * b[i / 20]);
  cpu_mul(a, s, b, sb, a, s);
  check_close("mul in place", a, ref, NULL, 120, 0, 0);
  free(a), free(b);
}

static void test_concat_mix_crop(void) {
  const Shape s0 = {2, 2, 3, 4}, s1 = {2, 3, 3, 4}, s2 = {2, 1, 3, 4}, ys = {2, 6, 3, 4};
  float *x0 = rand_buf(shape_numel(s0)), *x1 = rand_buf(shape_numel(s1)), *x2 = rand_buf(shape_numel(s2));
  float *y = zero_buf(shape_numel(ys));
  const float *xs[3] = {x0, x1, x2};
  const Shape shapes[3] = {s0, s1, s2};
  cpu_concat(xs, shapes, 3, y, ys);
  int ok = 1;
  for (int n = 0; n < 2; n++)
    for (int c = 0; c < 6; c++)
      for (int h = 0; h < 3; h++)
        for (int w = 0; w < 4; w++) {
          const float want = c < 2 ? x0[idx4(s0, n, c, h, w)] : c < 5 ? x1[idx4(s1, n, c - 2, h, w)] : x2[idx4(s2, n, 0, h, w)];
          ok &= y[idx4(ys, n, c, h, w)] == want;
        }
  CHECK(ok);

  /* mix: k = 3, the middle candidate is the Zero op (NULL); weights w[k * n + b] */
  const Shape ms = {2, 3, 5, 7};
  float *a = rand_buf(shape_numel(ms)), *c = rand_buf(shape_numel(ms)), *my = zero_buf(shape_numel(ms));
  const float wts[6] = {0.25f, 0.5f, 0.6f, 0.125f, 0.15f, 0.375f};
  const float *cand[3] = {a, NULL, c};
  double *ref = malloc(shape_numel(ms) * sizeof(double));
  const size_t per = (size_t)3 * 5 * 7;
  for (size_t i = 0; i < shape_numel(ms); i++) {
    const size_t b = i / per;
    ref[i] = (double)wts[0 * 2 + b] * a[i] + (double)wts[2 * 2 + b] * c[i];
  }
  cpu_mix(cand, 3, wts, ms, my);
  check_close("mix with a Zero candidate", my, ref, NULL, shape_numel(ms), 1e-7, 1e-6);
  const float *none[2] = {NULL, NULL};
  cpu_mix(none, 2, wts, ms, my);
  ok = 1;
  for (size_t i = 0; i < shape_numel(ms); i++) ok &= my[i] == 0.0f;
  CHECK(ok);

  /* crop */
  const Shape cs = {2, 3, 9, 11}, co = {2, 3, 4, 5};
  float *cx = rand_buf(shape_numel(cs)), *cy = zero_buf(shape_numel(co));
  cpu_crop(cx, cs, 3, 2, cy, co);
  ok = 1;
  for (int n = 0; n < 2; n++)
    for (int ch = 0; ch < 3; ch++)
      for (int h = 0; h < 4; h++)
        for (int w = 0; w < 5; w++) ok &= cy[idx4(co, n, ch, h, w)] == cx[idx4(cs, n, ch, h + 3, w + 2)];
  CHECK(ok);
  free(x0), free(x1), free(x2), free(y), free(a), free(c), free(my), free(ref), free(cx), free(cy);
}

/* ---- pools ---- */

static void naive_avgpool(const float *x, Shape xs, int kh, int kw, int sh, int sw, int ph, int pw, bool cip, double *ref,
                          Shape ys) {
  for (int n = 0; n < ys.n; n++)
    for (int c = 0; c < ys.c; c++)
      for (int oy = 0; oy < ys.h; oy++)
        for (int ox = 0; ox < ys.w; ox++) {
          double sum = 0;
          int in_padded = 0, in_input = 0;
          for (int ky = 0; ky < kh; ky++)
            for (int kx = 0; kx < kw; kx++) {
              const int iy = oy * sh - ph + ky, ix = ox * sw - pw + kx;
              if (iy >= -ph && iy < xs.h + ph && ix >= -pw && ix < xs.w + pw) in_padded++;
              if (iy >= 0 && iy < xs.h && ix >= 0 && ix < xs.w) {
                in_input++;
                sum += x[idx4(xs, n, c, iy, ix)];
              }
            }
          ref[idx4(ys, n, c, oy, ox)] = in_input ? sum / (cip ? in_padded : in_input) : 0.0;
        }
}

static void check_avgpool(Shape xs, int kh, int kw, int sh, int sw, int ph, int pw, bool cip, int want_h, int want_w) {
  const Shape ys = {xs.n, xs.c, (xs.h + 2 * ph - kh) / sh + 1, (xs.w + 2 * pw - kw) / sw + 1};
  if (want_h) CHECK_EQ_I64(ys.h, want_h);
  if (want_w) CHECK_EQ_I64(ys.w, want_w);
  float *x = rand_buf(shape_numel(xs)), *y = zero_buf(shape_numel(ys));
  double *ref = malloc(shape_numel(ys) * sizeof(double));
  naive_avgpool(x, xs, kh, kw, sh, sw, ph, pw, cip, ref, ys);
  cpu_avgpool(x, xs, kh, kw, sh, sw, ph, pw, cip, y, ys);
  char what[160];
  snprintf(what, sizeof what, "avgpool [%d,%d,%d,%d] k%dx%d s%d,%d p%d,%d cip=%d", xs.n, xs.c, xs.h, xs.w, kh, kw, sh, sw,
           ph, pw, cip);
  check_close(what, y, ref, NULL, shape_numel(ys), 1e-6, 1e-5);
  free(x), free(y), free(ref);
}

static void test_pools(void) {
  /* the global-context pools of the segmentation head: known PyTorch output shapes 1x3 and 1x4 */
  check_avgpool((Shape){2, 3, 49, 98}, 49, 49, 16, 20, 0, 0, false, 1, 3);
  check_avgpool((Shape){1, 2, 64, 128}, 49, 49, 16, 20, 0, 0, false, 1, 4);
  check_avgpool((Shape){1, 2, 64, 128}, 49, 49, 16, 20, 0, 0, true, 1, 4);
  check_avgpool((Shape){2, 3, 7, 9}, 3, 3, 2, 2, 1, 1, false, 0, 0);
  check_avgpool((Shape){2, 3, 7, 9}, 3, 3, 2, 2, 1, 1, true, 0, 0);
  check_avgpool((Shape){1, 2, 8, 8}, 2, 2, 2, 2, 0, 0, true, 4, 4);
  check_avgpool((Shape){1, 2, 10, 11}, 5, 3, 3, 1, 2, 1, false, 0, 0);
  check_avgpool((Shape){1, 2, 10, 11}, 5, 3, 3, 1, 2, 1, true, 0, 0);
  check_avgpool((Shape){1, 1, 5, 6}, 3, 3, 1, 1, 1, 1, false, 5, 6);

  /* by hand: x = 1..16 as 4x4, k3 s2 p1 (PyTorch: [[3.5, 5], [9.5, 11]] and [[14/9, 30/9], [57/9, 11]]) */
  float x[16], y[4];
  for (int i = 0; i < 16; i++) x[i] = (float)(i + 1);
  cpu_avgpool(x, (Shape){1, 1, 4, 4}, 3, 3, 2, 2, 1, 1, false, y, (Shape){1, 1, 2, 2});
  check_value("avgpool hand cip=false [0,0]", y[0], 3.5, 1e-6);
  check_value("avgpool hand cip=false [1,1]", y[3], 11.0, 1e-6);
  check_value("avgpool hand cip=false [1,0]", y[2], 9.5, 1e-6);
  cpu_avgpool(x, (Shape){1, 1, 4, 4}, 3, 3, 2, 2, 1, 1, true, y, (Shape){1, 1, 2, 2});
  check_value("avgpool hand cip=true [0,0]", y[0], 14.0 / 9, 1e-6);
  check_value("avgpool hand cip=true [0,1]", y[1], 30.0 / 9, 1e-6);
  check_value("avgpool hand cip=true [1,0]", y[2], 57.0 / 9, 1e-6);

  /* global */
  const Shape gs = {2, 5, 49, 98};
  float *gx = rand_buf(shape_numel(gs)), gy[10];
  double gref[10] = {0};
  for (size_t i = 0; i < shape_numel(gs); i++) gref[i / (49 * 98)] += gx[i];
  for (int i = 0; i < 10; i++) gref[i] /= 49 * 98;
  cpu_global_avgpool(gx, gs, gy);
  check_close("global avgpool", gy, gref, NULL, 10, 1e-7, 1e-5);
  free(gx);
}

/* ---- resize ---- */

/* the definition, with the source index from a float scale as PyTorch 1.13 computes it (see cpu_resize.c) */
static double src_index(int d, int in, int out, bool ac) {
  if (in == out) return d;
  if (ac) return out > 1 ? (double)((float)(in - 1) / (float)(out - 1)) * d : 0.0;
  const double s = (double)((float)in / (float)out) * (d + 0.5) - 0.5;
  return s < 0 ? 0.0 : s;
}

static void naive_bilinear(const float *x, Shape xs, double *ref, Shape ys, bool ac) {
  for (int pl = 0; pl < xs.n * xs.c; pl++)
    for (int oy = 0; oy < ys.h; oy++)
      for (int ox = 0; ox < ys.w; ox++) {
        const double sy = src_index(oy, xs.h, ys.h, ac), sx = src_index(ox, xs.w, ys.w, ac);
        const int y0 = (int)sy, x0 = (int)sx, y1 = y0 + (y0 < xs.h - 1), x1 = x0 + (x0 < xs.w - 1);
        const double ly = sy - y0, lx = sx - x0;
        const float *p = x + (size_t)pl * xs.h * xs.w;
        const double top = p[y0 * xs.w + x0] * (1 - lx) + p[y0 * xs.w + x1] * lx;
        const double bot = p[y1 * xs.w + x0] * (1 - lx) + p[y1 * xs.w + x1] * lx;
        ref[((size_t)pl * ys.h + oy) * ys.w + ox] = top * (1 - ly) + bot * ly;
      }
}

static void check_bilinear_random(Shape xs, int oh, int ow, bool ac) {
  const Shape ys = {xs.n, xs.c, oh, ow};
  float *x = rand_buf(shape_numel(xs)), *y = zero_buf(shape_numel(ys));
  double *ref = malloc(shape_numel(ys) * sizeof(double));
  naive_bilinear(x, xs, ref, ys, ac);
  cpu_bilinear(x, xs, y, ys, ac);
  char what[160];
  snprintf(what, sizeof what, "bilinear [%d,%d,%d,%d] -> %dx%d align_corners=%d", xs.n, xs.c, xs.h, xs.w, oh, ow, ac);
  check_close(what, y, ref, NULL, shape_numel(ys), 1e-6, 1e-5);
  free(x), free(y), free(ref);
}

/* cpu_bilinear_argmax = cpu_bilinear then cpu_argmax_channels, pixel for pixel (the same arithmetic), including
   exact ties (quantized inputs: the first maximum wins) and NaN (it counts as the largest, as in torch.argmax). */
static void check_bilinear_argmax(Shape xs, int oh, int ow, bool ac, bool ties, bool nan) {
  const Shape ys = {xs.n, xs.c, oh, ow};
  float *x = rand_buf(shape_numel(xs)), *y = zero_buf(shape_numel(ys));
  if (ties)
    for (size_t i = 0; i < shape_numel(xs); i++) x[i] = floorf(x[i] * 2) / 2;
  if (nan) x[shape_numel(xs) / 2] = NAN;
  unsigned char *want = malloc((size_t)xs.n * oh * ow), *got = malloc((size_t)xs.n * oh * ow);
  cpu_bilinear(x, xs, y, ys, ac);
  cpu_argmax_channels(y, ys, want);
  cpu_bilinear_argmax(x, xs, got, oh, ow, ac);
  size_t differ = 0;
  for (size_t i = 0; i < (size_t)xs.n * oh * ow; i++) differ += want[i] != got[i];
  if (differ) fprintf(stderr, "bilinear_argmax [%d,%d,%d,%d] -> %dx%d ac=%d ties=%d nan=%d: %zu pixels differ\n", xs.n,
                      xs.c, xs.h, xs.w, oh, ow, ac, ties, nan, differ);
  CHECK(differ == 0);
  free(x), free(y), free(want), free(got);
}

static void test_bilinear_argmax(void) {
  const Shape shapes[] = {{2, 19, 7, 9}, {1, 19, 49, 98}, {1, 1, 5, 7}, {2, 3, 1, 1}, {1, 256, 4, 5}, {1, 19, 13, 1}};
  const int outs[][2] = {{56, 72}, {392, 784}, {11, 13}, {3, 2}, {31, 37}, {104, 8}};
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
    for (int ac = 0; ac < 2; ac++)
      for (int v = 0; v < 3; v++) check_bilinear_argmax(shapes[i], outs[i][0], outs[i][1], ac, v == 1, v == 2);
  /* Outputs of 32 MiB and more are written with streaming stores (cpu_resize.c): 19 x 505 x 1021 floats (37 MiB),
     an odd width, so that rows start at every alignment; the same labels as the argmax of the streamed logits. */
  check_bilinear_argmax((Shape){1, 19, 63, 127}, 505, 1021, false, false, false);
}

/* x = arange(h * w) as [1, 1, h, w] is linear, so bilinear gives w_in * src_y + src_x wherever no edge clamps */
static float bilinear_arange(int h, int w, int oh, int ow, bool ac, int oy, int ox) {
  float *x = malloc((size_t)h * w * sizeof(float)), *y = malloc((size_t)oh * ow * sizeof(float));
  for (int i = 0; i < h * w; i++) x[i] = (float)i;
  cpu_bilinear(x, (Shape){1, 1, h, w}, y, (Shape){1, 1, oh, ow}, ac);
  const float v = y[oy * ow + ox];
  free(x), free(y);
  return v;
}

static void test_bilinear(void) {
  const Shape shapes[] = {{2, 3, 3, 4}, {1, 2, 7, 9}, {1, 1, 5, 7}, {2, 2, 49, 98}, {1, 1, 1, 1}, {1, 1, 1, 6}};
  const int outs[][2] = {{6, 8}, {24, 32}, {3, 4}, {11, 13}, {1, 1}, {2, 1}, {49, 98}, {392, 784}, {17, 5}};
  for (int ac = 0; ac < 2; ac++)
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
      for (size_t j = 0; j < sizeof outs / sizeof outs[0]; j++) {
        if (shapes[i].h == 49 && j != 7 && j != 1 && j != 2) continue; /* keep the big ones few */
        if (shapes[i].h != 49 && j == 7) continue;
        check_bilinear_random(shapes[i], outs[j][0], outs[j][1], ac);
      }
  /* streamed (at least 32 MiB of output), odd width: against the double-precision reference */
  check_bilinear_random((Shape){1, 17, 63, 127}, 505, 1021, false);
  /* by hand, on arange (PyTorch 1.13 printed the same values) */
  /* x2, align_corners=false: src = (d + 0.5) / 2 - 0.5 -> (1,1): 4 * 0.25 + 0.25 */
  check_value("bilinear 3x4->6x8 ac0 (1,1)", bilinear_arange(3, 4, 6, 8, false, 1, 1), 1.25, 1e-6);
  check_value("bilinear 3x4->6x8 ac0 (3,2)", bilinear_arange(3, 4, 6, 8, false, 3, 2), 4 * 1.25 + 0.75, 1e-6);
  check_value("bilinear 3x4->6x8 ac0 (0,0) clamped", bilinear_arange(3, 4, 6, 8, false, 0, 0), 0.0, 0);
  check_value("bilinear 3x4->6x8 ac0 (5,7) clamped", bilinear_arange(3, 4, 6, 8, false, 5, 7), 11.0, 0);
  /* x2, align_corners=true: src = d * (in - 1) / (out - 1) -> (1,1): 4 * 2/5 + 3/7 */
  check_value("bilinear 3x4->6x8 ac1 (1,1)", bilinear_arange(3, 4, 6, 8, true, 1, 1), 4 * 0.4 + 3.0 / 7, 2e-6);
  check_value("bilinear 3x4->6x8 ac1 (3,2)", bilinear_arange(3, 4, 6, 8, true, 3, 2), 4 * 1.2 + 6.0 / 7, 2e-6);
  check_value("bilinear 3x4->6x8 ac1 (5,7)", bilinear_arange(3, 4, 6, 8, true, 5, 7), 11.0, 2e-6);
  /* x8: (12,10) -> src (1.0625, 0.8125) / (24/23, 30/31); (1,1) is clamped to 0 with align_corners=false */
  check_value("bilinear 3x4->24x32 ac0 (12,10)", bilinear_arange(3, 4, 24, 32, false, 12, 10), 5.0625, 1e-6);
  check_value("bilinear 3x4->24x32 ac0 (1,1)", bilinear_arange(3, 4, 24, 32, false, 1, 1), 0.0, 0);
  check_value("bilinear 3x4->24x32 ac0 (22,1)", bilinear_arange(3, 4, 24, 32, false, 22, 1), 8.0, 0);
  check_value("bilinear 3x4->24x32 ac1 (12,10)", bilinear_arange(3, 4, 24, 32, true, 12, 10), 4 * 24.0 / 23 + 30.0 / 31, 2e-6);
  check_value("bilinear 3x4->24x32 ac1 (22,1)", bilinear_arange(3, 4, 24, 32, true, 22, 1), 4 * 44.0 / 23 + 3.0 / 31, 2e-6);
  /* downsampling 7x9 -> 3x4: src = (d + 0.5) * 7/3 - 0.5, (d + 0.5) * 9/4 - 0.5 */
  check_value("bilinear 7x9->3x4 ac0 (0,0)", bilinear_arange(7, 9, 3, 4, false, 0, 0), 9 * (2.0 / 3) + 0.625, 2e-6);
  check_value("bilinear 7x9->3x4 ac0 (2,3)", bilinear_arange(7, 9, 3, 4, false, 2, 3), 9 * (16.0 / 3) + 7.375, 4e-6);
  check_value("bilinear 7x9->3x4 ac1 (1,1)", bilinear_arange(7, 9, 3, 4, true, 1, 1), 9 * 3 + 8.0 / 3, 4e-6);
  /* odd sizes 5x7 -> 11x13 */
  check_value("bilinear 5x7->11x13 ac1 (9,1)", bilinear_arange(5, 7, 11, 13, true, 9, 1), 7 * 3.6 + 0.5, 4e-6);
  check_value("bilinear 5x7->11x13 ac1 (5,4)", bilinear_arange(5, 7, 11, 13, true, 5, 4), 16.0, 4e-6);
  check_value("bilinear 5x7->11x13 ac0 (5,4)", bilinear_arange(5, 7, 11, 13, false, 5, 4), 7 * (5.5 * 5 / 11 - 0.5) + (4.5 * 7 / 13 - 0.5), 4e-6);
  /* to 1x1: align_corners=true takes x[0,0]; false the centre (1, 1.5) */
  check_value("bilinear 3x4->1x1 ac1", bilinear_arange(3, 4, 1, 1, true, 0, 0), 0.0, 0);
  check_value("bilinear 3x4->1x1 ac0", bilinear_arange(3, 4, 1, 1, false, 0, 0), 5.5, 1e-6);
  check_value("bilinear 3x4->2x1 ac0 (1,0)", bilinear_arange(3, 4, 2, 1, false, 1, 0), 8.5, 1e-6);
}

static void test_nearest(void) {
  const Shape shapes[] = {{2, 3, 3, 4}, {1, 2, 7, 9}, {1, 1, 1, 2}, {1, 1, 49, 98}};
  const int outs[][2] = {{6, 8}, {24, 32}, {3, 4}, {11, 13}, {1, 1}, {7, 5}, {1, 82}, {98, 196}};
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
    for (size_t j = 0; j < sizeof outs / sizeof outs[0]; j++) {
      const Shape xs = shapes[i], ys = {xs.n, xs.c, outs[j][0], outs[j][1]};
      float *x = rand_buf(shape_numel(xs)), *y = zero_buf(shape_numel(ys));
      double *ref = malloc(shape_numel(ys) * sizeof(double));
      const float shf = (float)xs.h / (float)ys.h, swf = (float)xs.w / (float)ys.w;
      for (int pl = 0; pl < xs.n * xs.c; pl++)
        for (int oy = 0; oy < ys.h; oy++)
          for (int ox = 0; ox < ys.w; ox++) {
            int sy = (int)floorf((float)oy * shf), sx = (int)floorf((float)ox * swf);
            if (ys.h == 2 * xs.h) sy = oy / 2; /* PyTorch's exact 2x special case */
            if (ys.w == 2 * xs.w) sx = ox / 2;
            sy = sy < xs.h - 1 ? sy : xs.h - 1;
            sx = sx < xs.w - 1 ? sx : xs.w - 1;
            ref[((size_t)pl * ys.h + oy) * ys.w + ox] = x[((size_t)pl * xs.h + sy) * xs.w + sx];
          }
      cpu_nearest(x, xs, y, ys);
      char what[160];
      snprintf(what, sizeof what, "nearest [%d,%d,%d,%d] -> %dx%d", xs.n, xs.c, xs.h, xs.w, ys.h, ys.w);
      check_close(what, y, ref, NULL, shape_numel(ys), 0, 0);
      free(x), free(y), free(ref);
    }
  /* by hand: 3x4 -> 7x5 (PyTorch: rows 0,0,0,1,1,2,2; cols 0,0,1,2,3) */
  float x[12], y[35];
  for (int i = 0; i < 12; i++) x[i] = (float)i;
  cpu_nearest(x, (Shape){1, 1, 3, 4}, y, (Shape){1, 1, 7, 5});
  static const float want_row3[5] = {4, 4, 5, 6, 7};
  int ok = 1;
  for (int i = 0; i < 5; i++) ok &= y[3 * 5 + i] == want_row3[i] && y[2 * 5 + i] == want_row3[i] - 4;
  CHECK(ok);
  check_value("nearest 3x4->7x5 (6,4)", y[34], 11, 0);
  /* float quirk PyTorch has: 2 -> 82 maps dst 41 to floor(41 * 0.024390243f) = 0, not 1 */
  float x2[2] = {0, 1}, y2[82];
  cpu_nearest(x2, (Shape){1, 1, 1, 2}, y2, (Shape){1, 1, 1, 82});
  check_value("nearest 2->82 dst 41", y2[41], 0, 0);
  check_value("nearest 2->82 dst 42", y2[42], 1, 0);
}

/* ---- bench ---- */

static void bench_conv(const char *name, Shape xs, int cout, ConvParams p) {
  const Shape ys = {xs.n, cout, conv_out(xs.h, p.kh, p.sh, p.ph, p.dh), conv_out(xs.w, p.kw, p.sw, p.pw, p.dw)};
  float *x = rand_buf(shape_numel(xs)), *w = rand_buf((size_t)cout * (xs.c / p.groups) * p.kh * p.kw);
  float *b = rand_buf((size_t)cout), *y = zero_buf(shape_numel(ys));
  const double macs = (double)shape_numel(ys) * (xs.c / p.groups) * p.kh * p.kw;
  cpu_conv2d(x, xs, w, b, &p, y, ys); /* warm up */
  int reps = 0;
  const double t0 = now_s();
  double t;
  do {
    cpu_conv2d(x, xs, w, b, &p, y, ys);
    reps++;
    t = now_s() - t0;
  } while (t < 1.0 && reps < 1000);
  printf("%-44s %8.2f ms %8.2f GFLOP/s (%.3f GMAC)\n", name, t / reps * 1e3, 2 * macs * reps / t * 1e-9, macs * 1e-9);
  free(x), free(w), free(b), free(y);
}

static void bench(void) {
  /* a MobileNetV2-like segmentation net at 784x1568 */
  bench_conv("stem 3x3 s2 3->16 @784x1568", (Shape){1, 3, 784, 1568}, 16, (ConvParams)CP(3, 3, 2, 2, 1, 1, 1, 1, 1));
  bench_conv("1x1 16->96 @392x784", (Shape){1, 16, 392, 784}, 96, (ConvParams)CP(1, 1, 1, 1, 0, 0, 1, 1, 1));
  bench_conv("1x1 144->24 @196x392", (Shape){1, 144, 196, 392}, 24, (ConvParams)CP(1, 1, 1, 1, 0, 0, 1, 1, 1));
  bench_conv("1x1 64->384 @49x98", (Shape){1, 64, 49, 98}, 384, (ConvParams)CP(1, 1, 1, 1, 0, 0, 1, 1, 1));
  bench_conv("1x1 grouped g2 96->24 @196x392", (Shape){1, 96, 196, 392}, 24, (ConvParams)CP(1, 1, 1, 1, 0, 0, 1, 1, 2));
  bench_conv("dw 3x3 s1 96 @392x784", (Shape){1, 96, 392, 784}, 96, (ConvParams)CP(3, 3, 1, 1, 1, 1, 1, 1, 96));
  bench_conv("dw 3x3 s2 96 @392x784", (Shape){1, 96, 392, 784}, 96, (ConvParams)CP(3, 3, 2, 2, 1, 1, 1, 1, 96));
  bench_conv("dw 5x5 s1 144 @196x392", (Shape){1, 144, 196, 392}, 144, (ConvParams)CP(5, 5, 1, 1, 2, 2, 1, 1, 144));
  bench_conv("dw 3x3 d2 384 @49x98", (Shape){1, 384, 49, 98}, 384, (ConvParams)CP(3, 3, 1, 1, 2, 2, 2, 2, 384));
  bench_conv("ASPP 3x3 d6 g128 256->256 @49x98", (Shape){1, 256, 49, 98}, 256, (ConvParams)CP(3, 3, 1, 1, 6, 6, 6, 6, 128));
  bench_conv("dense 3x3 32->32 @196x392", (Shape){1, 32, 196, 392}, 32, (ConvParams)CP(3, 3, 1, 1, 1, 1, 1, 1, 1));
  bench_conv("dense 3x3 g2 64->64 @98x196", (Shape){1, 64, 98, 196}, 64, (ConvParams)CP(3, 3, 1, 1, 1, 1, 1, 1, 2));
}

/* ---- maxpool, gmp, pad, softmax, slice, channel_shuffle (spatial_ref.h) ---- */

static void test_spatial_case(const SpCase *c, const float *x) {
  const size_t nx = shape_numel(c->xs), ny = shape_numel(sp_out_shape(c));
  double *xd = malloc(nx * sizeof *xd), *ref = malloc(ny * sizeof *ref);
  float *y = zero_buf(ny);
  for (size_t i = 0; i < nx; i++) xd[i] = x[i];
  sp_ref(c, xd, ref);
  sp_run(c, x, y);
  check_close(sp_name(c), y, ref, NULL, ny, c->kind == SP_SOFTMAX ? 1e-7 : 0.0, c->kind == SP_SOFTMAX ? 1e-6 : 0.0);
  free(xd), free(ref), free(y);
}

/* Ties go to the first maximum, NaN propagates (PyTorch's `v > max || isnan(v)`); -inf padding never wins. */
static void test_maxpool_ties_nan(void) {
  const SpCase c = {SP_MAXPOOL, {1, 1, 4, 4}, {3, 3, 1, 1, 1, 1, 1, 1, 1, 0}, {0}, 0, 0, 0};
  float x[16], y[16];
  for (int i = 0; i < 16; i++) x[i] = -1e30f; /* below any padding but -inf: the window's max is an element */
  cpu_maxpool(x, c.xs, &c.p, y, c.xs);
  check_value("maxpool of huge negatives ignores the padding", y[5], (double)-1e30f, 0);
  x[5] = NAN;
  cpu_maxpool(x, c.xs, &c.p, y, c.xs);
  CHECK(isnan(y[0]) && isnan(y[10]) && !isnan(y[15]));
  float g[1], one[1] = {NAN};
  cpu_global_maxpool(one, (Shape){1, 1, 1, 1}, g);
  CHECK(isnan(g[0]));
  for (int i = 0; i < SP_NCASES; i++) { /* integer inputs: many ties */
    float *t = zero_buf(shape_numel(sp_cases[i].xs));
    for (size_t k = 0; k < shape_numel(sp_cases[i].xs); k++) t[k] = (float)rng_int(0, 2);
    test_spatial_case(&sp_cases[i], t);
    free(t);
  }
}

static void test_spatial(void) {
  for (int i = 0; i < SP_NCASES; i++) {
    float *x = rand_buf(shape_numel(sp_cases[i].xs));
    test_spatial_case(&sp_cases[i], x);
    free(x);
  }
  test_maxpool_ties_nan();
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--bench")) {
    if (argc > 2) cpu_set_threads(atoi(argv[2]));
    bench();
    return 0;
  }
  for (int threads = 1; threads >= 0; threads--) { /* one thread, then all cores */
    cpu_set_threads(threads);
    test_conv();
  test_conv_epilogue();
  test_conv_narrow();
    test_batchnorm();
    test_activations();
    test_binops();
    test_concat_mix_crop();
    test_pools();
    test_bilinear();
    test_bilinear_argmax();
    test_nearest();
    test_spatial();
  }
  return test_summary();
}
