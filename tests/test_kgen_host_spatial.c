/* test_kgen_host_spatial.c - host-kernel tests of the spatial kernels: DWCONV variants (baked geometry,
   bias or NULL, every epilogue) against cpu_conv2d with groups = C; BILINEAR / BILINEAR_BWD (both
   align_corners, up, down, same, 2x, to and from 1x1; a sweep of axis sizes) against cpu_bilinear and its
   adjoint; NEAREST / NEAREST_BWD; AVGPOOL (both count_include_pad) and GAP; MAXPOOL(_BWD), SOFTMAX(_BWD), PAD
   and CHANNELS on spatial_ref.h's cases (maxpool, gmp, pad, softmax, slice, channel_shuffle), forward and
   backward, against the CPU kernels. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "kgen_test_util.h"
#include "spatial_ref.h"

/* ---- DWCONV ---- */

typedef struct DwCase { int kh, kw, sh, sw, dh, dw, ph, pw, H, W; } DwCase;
static const DwCase dw_cases[] = {
    {3, 3, 1, 1, 1, 1, 1, 1, 7, 5},  {3, 3, 2, 2, 1, 1, 1, 1, 7, 5},  {5, 5, 1, 1, 2, 2, 4, 4, 9, 8},
    {3, 3, 1, 1, 2, 2, 2, 1, 7, 5},  {1, 1, 1, 1, 1, 1, 0, 0, 7, 5},  {7, 7, 2, 2, 1, 1, 3, 3, 13, 11},
    {3, 5, 1, 2, 1, 1, 1, 2, 6, 9},  {5, 5, 2, 2, 1, 1, 2, 2, 7, 5},  {3, 3, 1, 1, 1, 1, 0, 0, 7, 5},
};
enum { NDW = sizeof dw_cases / sizeof *dw_cases };

KernelSpec *kt_dwconv_specs(int *n) {
  KernelSpec *v = kt_alloc(sizeof *v * NDW * KACT__COUNT);
  int m = 0;
  for (int c = 0; c < NDW; c++)
    for (int act = KACT_NONE; act < KACT__COUNT; act++) {
      const DwCase *d = &dw_cases[c];
      KernelSpec k = {.family = KFAM_DWCONV, .act = act, .kh = d->kh, .kw = d->kw, .sh = d->sh, .sw = d->sw,
                      .dh = d->dh, .dw = d->dw};
      int j = 0;
      while (j < m && !kernel_spec_equal(&v[j], &k)) j++;
      if (j == m) v[m++] = k;
    }
  *n = m;
  return v;
}

static void test_dwconv_case(const DwCase *d, int act, bool bias) {
  Shape xs = {2, 3, d->H, d->W}, ys = xs;
  ys.h = (d->H + 2 * d->ph - d->dh * (d->kh - 1) - 1) / d->sh + 1;
  ys.w = (d->W + 2 * d->pw - d->dw * (d->kw - 1) - 1) / d->sw + 1;
  size_t n = shape_numel(ys);
  float *x = kt_rand(shape_numel(xs), -2, 2), *w = kt_rand((size_t)3 * d->kh * d->kw, -1, 1);
  float *b = bias ? kt_rand(3, -1, 1) : NULL, *y = kt_zeros(n), *want = kt_zeros(n);
  ConvParams p = {d->kh, d->kw, d->sh, d->sw, d->ph, d->pw, d->dh, d->dw, 3, act <= KACT_RELU6 ? act : 0};
  cpu_conv2d(x, xs, w, b, &p, want, ys);
  if (act > KACT_RELU6) kt_cpu_act(act, want, n, want); /* relu, relu6: the conv's own epilogue */
  KernelSpec s = {.family = KFAM_DWCONV, .act = act, .kh = d->kh, .kw = d->kw, .sh = d->sh, .sw = d->sw,
                  .dh = d->dh, .dw = d->dw};
  KtArgs A = {0};
  kt_l(&A, (int64_t)n), kt_p(&A, y), kt_p(&A, x), kt_p(&A, w), kt_p(&A, b);
  kt_l(&A, xs.n), kt_l(&A, xs.c), kt_l(&A, xs.h), kt_l(&A, xs.w), kt_l(&A, ys.h), kt_l(&A, ys.w);
  kt_l(&A, d->ph), kt_l(&A, d->pw);
  kt_run(&s, &A);
  char what[64];
  snprintf(what, sizeof what, "dwconv k%dx%d s%dx%d d%dx%d p%dx%d%s", d->kh, d->kw, d->sh, d->sw, d->dh, d->dw, d->ph,
           d->pw, act == KACT_SIGMOID ? " sigmoid" : "");
  /* the CPU's tap order and fmas: exact on this build's AVX2+FMA CPU kernels; builds without FMA contraction
     (unoptimized, sanitizers, no AVX2) round each of the kh*kw products: up to ~taps * 2 eps apart;
     sigmoid: kgen's exp vs libm's */
  const double taps = (double)d->kh * d->kw;
  kt_compare(what, y, want, n, act == KACT_SIGMOID ? 4e-7 : fmax(1e-6, taps * 2 * FLT_EPSILON));
}

/* ---- BILINEAR, NEAREST and their adjoints ---- */

typedef struct Rs { int H, W, OH, OW; } Rs;
static const Rs rs_cases[] = {{7, 5, 13, 11}, {7, 5, 3, 2}, {7, 5, 7, 5}, {7, 5, 14, 10}, {1, 1, 4, 3},
                              {5, 6, 1, 1},   {4, 4, 16, 16}, {33, 17, 8, 9}, {6, 9, 12, 5}};

static void resize_args(KtArgs *A, size_t total, float *out, const float *in, const Rs *r) {
  kt_l(A, (int64_t)total), kt_p(A, out), kt_p(A, in), kt_l(A, 6), kt_l(A, r->H), kt_l(A, r->W);
  kt_l(A, r->OH), kt_l(A, r->OW);
}

static void test_resize_case(const Rs *r, int family, int align) {
  Shape xs = {2, 3, r->H, r->W}, ys = {2, 3, r->OH, r->OW};
  size_t nx = shape_numel(xs), ny = shape_numel(ys);
  float *x = kt_rand(nx, -2, 2), *y = kt_zeros(ny), *want = kt_zeros(ny);
  KernelSpec s = {.family = family, .flag = align};
  KtArgs A = {0};
  resize_args(&A, ny, y, x, r);
  kt_run(&s, &A);
  if (family == KFAM_BILINEAR) cpu_bilinear(x, xs, want, ys, align);
  else cpu_nearest(x, xs, want, ys);
  char what[64];
  snprintf(what, sizeof what, family == KFAM_BILINEAR ? "bilinear_ac%d" : "nearest", align);
  kt_compare(what, y, want, ny, family == KFAM_BILINEAR ? 1e-6 : 0.0);
  /* the adjoint: onto zeros (the caller zeroes dx), then accumulating onto random contents */
  float *dy = kt_rand(ny, -1, 1);
  for (int acc = 0; acc < 2; acc++) {
    float *dx = acc ? kt_rand(nx, -1, 1) : kt_zeros(nx), *wdx = kt_copy(dx, nx);
    s.family = family == KFAM_BILINEAR ? KFAM_BILINEAR_BWD : KFAM_NEAREST_BWD;
    A = (KtArgs){0};
    resize_args(&A, ny, dx, dy, r);
    kt_run(&s, &A);
    if (family == KFAM_BILINEAR) cpu_bilinear_backward(dy, ys, wdx, xs, align, acc);
    else cpu_nearest_backward(dy, ys, wdx, xs, acc);
    if (family == KFAM_BILINEAR) snprintf(what, sizeof what, "bilinear_bwd_ac%d acc=%d", align, acc);
    else snprintf(what, sizeof what, "nearest_bwd acc=%d", acc);
    kt_compare(what, dx, wdx, nx, 1e-6); /* sequential adds in the CPU's order; fma contraction may differ */
  }
}

/* resizing along w for (in, out) pairs of axis sizes: every pair up to 24 -> 70, and large ones (the float
   source-index arithmetic at segmentation sizes); h resizes too, between small sizes */
static void resize_sweep_case(int fam, int align, int in, int out) {
  Rs r = {out % 3 + 1, in, in % 4 + 1, out}; /* H, W, OH, OW */
  Shape xs = {1, 6, r.H, r.W}, ys = {1, 6, r.OH, r.OW};
  size_t ny = shape_numel(ys);
  float *x = kt_rand(shape_numel(xs), -2, 2), *y = kt_zeros(ny), *want = kt_zeros(ny);
  KernelSpec s = {.family = fam ? KFAM_NEAREST : KFAM_BILINEAR, .flag = fam ? 0 : align};
  KtArgs A = {0};
  resize_args(&A, ny, y, x, &r);
  kt_run(&s, &A);
  if (fam) cpu_nearest(x, xs, want, ys);
  else cpu_bilinear(x, xs, want, ys, align);
  kt_compare(fam ? "nearest (size sweep)" : "bilinear (size sweep)", y, want, ny, fam ? 0.0 : 1e-6);
}

static void test_resize_sweep(void) {
  static const int big[][2] = {{64, 512},   {128, 1024}, {97, 769},  {1023, 2048}, {2048, 1023}, {33, 1025},
                               {512, 64},   {1024, 2047}, {257, 2049}, {4095, 4096}, {3, 4097},    {719, 1280}};
  for (int fam = 0; fam < 2; fam++)
    for (int align = 0; align < 2; align++) {
      for (size_t k = 0; k < sizeof big / sizeof *big; k++) resize_sweep_case(fam, align, big[k][0], big[k][1]);
      for (int in = 1; in <= 24; in++)
        for (int out = 1; out <= 70; out += (out < 30 ? 1 : 7)) resize_sweep_case(fam, align, in, out);
    }
}

/* ---- AVGPOOL and GAP ---- */

typedef struct Pool { int kh, kw, sh, sw, ph, pw; } Pool;
static const Pool pools[] = {
    {3, 3, 1, 1, 1, 1}, {3, 3, 2, 2, 1, 1}, {2, 2, 2, 2, 0, 0}, {5, 5, 3, 3, 2, 2}, {3, 2, 2, 1, 1, 0}};

static void test_avgpool_case(const Pool *p, int cip) {
  Shape xs = {2, 3, 7, 5}, ys = {2, 3, (7 + 2 * p->ph - p->kh) / p->sh + 1, (5 + 2 * p->pw - p->kw) / p->sw + 1};
  size_t ny = shape_numel(ys);
  float *x = kt_rand(shape_numel(xs), -2, 2), *y = kt_zeros(ny), *want = kt_zeros(ny);
  cpu_avgpool(x, xs, p->kh, p->kw, p->sh, p->sw, p->ph, p->pw, cip, want, ys);
  KernelSpec s = {.family = KFAM_AVGPOOL, .flag = cip};
  KtArgs A = {0};
  kt_l(&A, (int64_t)ny), kt_p(&A, y), kt_p(&A, x), kt_l(&A, 6), kt_l(&A, 7), kt_l(&A, 5);
  kt_l(&A, ys.h), kt_l(&A, ys.w);
  kt_l(&A, p->kh), kt_l(&A, p->kw), kt_l(&A, p->sh), kt_l(&A, p->sw), kt_l(&A, p->ph), kt_l(&A, p->pw);
  kt_run(&s, &A);
  kt_compare(cip ? "avgpool_cip1" : "avgpool_cip0", y, want, ny, 0.0);
}

static void test_gap(Shape xs) {
  size_t nc = (size_t)xs.n * xs.c;
  float *x = kt_rand(shape_numel(xs), -2, 2), *y = kt_zeros(nc), *want = kt_zeros(nc);
  cpu_global_avgpool(x, xs, want);
  KernelSpec s = {.family = KFAM_GAP};
  KtArgs A = {0};
  kt_l(&A, (int64_t)nc), kt_p(&A, y), kt_p(&A, x), kt_l(&A, (int64_t)nc), kt_l(&A, (int64_t)xs.h * xs.w);
  kt_run(&s, &A);
  kt_compare("gap", y, want, nc, 0.0);
}

/* ---- MAXPOOL, SOFTMAX, PAD, CHANNELS and their adjoints ---- */

/* The kernel computing case c forward (bwd false: into out from in) or backward (bwd: out (+)= adjoint of dy
   = in; v: x for the max pools, y for softmax), with the arguments the CUDA backend passes. */
static void sp_kernel(const SpCase *c, bool bwd, float *out, const float *in, const float *v, bool acc) {
  const Shape xs = c->xs, ys = sp_out_shape(c), os = bwd ? xs : ys, is = bwd ? ys : xs;
  const ConvParams p = sp_pool(c);
  KtArgs A = {0};
  KernelSpec s = {0};
  if (c->kind == SP_MAXPOOL || c->kind == SP_GMP) {
    s.family = bwd ? KFAM_MAXPOOL_BWD : KFAM_MAXPOOL;
    kt_l(&A, (int64_t)shape_numel(ys)), kt_p(&A, out), kt_p(&A, in);
    if (bwd) kt_p(&A, v);
    const int64_t g[12] = {xs.h, xs.w, ys.h, ys.w, p.kh, p.kw, p.sh, p.sw, p.ph, p.pw, p.dh, p.dw};
    for (int k = 0; k < 12; k++) kt_l(&A, g[k]);
  } else if (c->kind == SP_SOFTMAX) {
    s.family = bwd ? KFAM_SOFTMAX_BWD : KFAM_SOFTMAX;
    kt_l(&A, (int64_t)xs.n * xs.h * xs.w), kt_p(&A, out), kt_p(&A, in);
    if (bwd) kt_p(&A, v);
    kt_l(&A, xs.c), kt_l(&A, (int64_t)xs.h * xs.w);
    if (bwd) kt_l(&A, acc);
  } else if (c->kind == SP_PAD) {
    s.family = KFAM_PAD;
    const int sign = bwd ? -1 : 1;
    kt_l(&A, (int64_t)shape_numel(os)), kt_p(&A, out), kt_p(&A, in);
    kt_l(&A, is.h), kt_l(&A, is.w), kt_l(&A, os.h), kt_l(&A, os.w), kt_l(&A, sign * c->m[0]), kt_l(&A, sign * c->m[2]);
    kt_f(&A, bwd ? 0.0f : c->value), kt_l(&A, acc);
  } else {
    s.family = KFAM_CHANNELS;
    int c0 = c->kind == SP_SLICE ? (bwd ? -c->a : c->a) : 0;
    int groups = c->kind == SP_SLICE ? 1 : bwd ? xs.c / c->a : c->a;
    kt_l(&A, (int64_t)shape_numel(os)), kt_p(&A, out), kt_p(&A, in), kt_l(&A, os.c), kt_l(&A, is.c);
    kt_l(&A, (int64_t)os.h * os.w), kt_l(&A, c0), kt_l(&A, groups), kt_l(&A, acc);
  }
  kt_run(&s, &A);
}

static void test_sp_case(const SpCase *c, float lo, float hi) {
  const size_t nx = shape_numel(c->xs), ny = shape_numel(sp_out_shape(c));
  float *x = kt_rand(nx, lo, hi), *y = kt_zeros(ny), *want = kt_zeros(ny), *dy = kt_rand(ny, -1, 1);
  if (lo == hi) for (size_t i = 0; i < nx; i++) x[i] = (float)(kt_u32() % 3); /* ties */
  sp_run(c, x, want);
  sp_kernel(c, false, y, x, NULL, false);
  char what[64];
  snprintf(what, sizeof what, "%s", sp_name(c));
  kt_compare(what, y, want, ny, c->kind == SP_SOFTMAX ? 1e-6 : 0.0);
  bool zeroed = c->kind == SP_MAXPOOL || c->kind == SP_GMP; /* the atomic adjoint: the caller zeroes dx */
  for (int acc = 0; acc < 2; acc++) {
    float *dx = acc || !zeroed ? kt_rand(nx, -1, 1) : kt_zeros(nx), *wdx = kt_copy(dx, nx);
    sp_kernel(c, true, dx, dy, c->kind == SP_SOFTMAX ? want : x, acc || zeroed);
    sp_run_backward(c, x, want, dy, wdx, acc || zeroed);
    snprintf(what, sizeof what, "%s backward acc=%d", sp_name(c), acc);
    kt_compare(what, dx, wdx, nx, c->kind == SP_SOFTMAX ? 1e-6 : 0.0);
  }
}

static void test_sp(void) {
  for (int i = 0; i < SP_NCASES; i++) {
    test_sp_case(&sp_cases[i], -2, 2);
    test_sp_case(&sp_cases[i], 0, 0);
  }
  const SpCase nan_case = {SP_MAXPOOL, {1, 1, 3, 3}, {2, 2, 1, 1, 0, 0, 1, 1, 1, 0}, {0}, 0, 0, 0};
  float x[9] = {0, 1, 2, 3, NAN, 5, 6, 7, 8}, y[4], want[4];
  cpu_maxpool(x, nan_case.xs, &nan_case.p, want, (Shape){1, 1, 2, 2});
  sp_kernel(&nan_case, false, y, x, NULL, false);
  kt_compare("maxpool NaN", y, want, 4, 0.0);
  KT_CHECK(isnan(y[0]) && isnan(y[3]));
}

void kt_test_spatial(void) {
  for (int c = 0; c < NDW; c++)
    for (int act = KACT_NONE; act < KACT__COUNT; act++)
      for (int bias = 0; bias < 2; bias++) test_dwconv_case(&dw_cases[c], act, bias);
  for (size_t c = 0; c < sizeof rs_cases / sizeof *rs_cases; c++) {
    for (int align = 0; align < 2; align++) test_resize_case(&rs_cases[c], KFAM_BILINEAR, align);
    test_resize_case(&rs_cases[c], KFAM_NEAREST, 0);
  }
  test_resize_sweep();
  for (size_t c = 0; c < sizeof pools / sizeof *pools; c++)
    for (int cip = 0; cip < 2; cip++) test_avgpool_case(&pools[c], cip);
  test_gap((Shape){2, 3, 7, 5});
  test_gap((Shape){1, 2, 123, 77});
  test_sp();
}
