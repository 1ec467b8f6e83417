/* test_kgen_host_mix.c - host-kernel tests of the superblock mixture (MIX_FWD with a NULL Zero candidate,
   MIX_BWD_DX with acc 0/1, MIX_BWD_DW accumulating) against cpu_mix / cpu_mix_backward, and of XENT
   (per-pixel loss, its mean, dlogits or NULL, the ignore label) against cpu_softmax_xent. */
#include <stdio.h>
#include <string.h>
#include "kgen_test_util.h"

enum { K = 4 };
static const Shape ms = {2, 3, 7, 5};

static void test_mix_fwd(float *const *xs, const float *w) {
  size_t n = shape_numel(ms), per = n / (size_t)ms.n;
  float *y = kt_zeros(n), *want = kt_zeros(n);
  KernelSpec s = {.family = KFAM_MIX_FWD};
  KtArgs A = {0};
  kt_l(&A, (int64_t)n), kt_p(&A, y), kt_p(&A, xs), kt_p(&A, w), kt_l(&A, K), kt_l(&A, ms.n), kt_l(&A, (int64_t)per);
  kt_run(&s, &A);
  cpu_mix((const float *const *)xs, K, w, ms, want);
  kt_compare("mix_fwd (xs[2] = NULL)", y, want, n, 2e-7);
}

static void test_mix_bwd_dx(const float *dy, const float *w, int j, int acc) {
  size_t n = shape_numel(ms), per = n / (size_t)ms.n;
  float *dx = kt_rand(n, -1, 1), *want = kt_copy(dx, n);
  float *dxs[K] = {0};
  const float *xs[K] = {0};
  dxs[j] = want;
  cpu_mix_backward(dy, ms, xs, K, w, dxs, acc ? 1u << j : 0u, NULL);
  KernelSpec s = {.family = KFAM_MIX_BWD_DX};
  KtArgs A = {0};
  kt_l(&A, (int64_t)n), kt_p(&A, dx), kt_p(&A, dy), kt_p(&A, w), kt_l(&A, j), kt_l(&A, ms.n), kt_l(&A, (int64_t)per);
  kt_l(&A, acc);
  kt_run(&s, &A);
  kt_compare(acc ? "mix_bwd_dx acc=1" : "mix_bwd_dx acc=0", dx, want, n, 2e-7);
}

/* One chunk per sample: bit for bit cpu_mix_backward; smaller chunks (atomic adds of partial sums): close. */
static void test_mix_bwd_dw(float *const *xs, const float *dy, const float *w, int64_t chunk) {
  size_t n = shape_numel(ms), per = n / (size_t)ms.n;
  int64_t nchunks = ((int64_t)per + chunk - 1) / chunk;
  float *dw = kt_rand(K * ms.n, -1, 1), *want = kt_copy(dw, K * ms.n);
  float *dxs[K] = {0};
  cpu_mix_backward(dy, ms, (const float *const *)xs, K, w, dxs, 0u, want);
  for (int j = 0; j < K; j++) {
    if (!xs[j]) continue;
    KernelSpec s = {.family = KFAM_MIX_BWD_DW};
    KtArgs A = {0};
    kt_l(&A, ms.n * nchunks), kt_p(&A, dw), kt_p(&A, xs[j]), kt_p(&A, dy), kt_l(&A, j), kt_l(&A, ms.n);
    kt_l(&A, (int64_t)per), kt_l(&A, chunk);
    kt_run(&s, &A);
  }
  char what[64];
  snprintf(what, sizeof what, "mix_bwd_dw (+=, chunk %lld)", (long long)chunk);
  kt_compare(what, dw, want, K * ms.n, chunk >= (int64_t)per ? 0.0 : 1e-6);
}

static void test_mix(void) {
  size_t n = shape_numel(ms);
  float *xs[K], *w = kt_rand(K * ms.n, 0, 1), *dy = kt_rand(n, -1, 1);
  for (int j = 0; j < K; j++) xs[j] = j == 2 ? NULL : kt_rand(n, -2, 2);
  test_mix_fwd(xs, w);
  for (int j = 0; j < K; j++)
    for (int acc = 0; acc < 2; acc++) test_mix_bwd_dx(dy, w, j, acc);
  test_mix_bwd_dw(xs, dy, w, (int64_t)(n / (size_t)ms.n));
  test_mix_bwd_dw(xs, dy, w, 7);
  test_mix_bwd_dw(xs, dy, w, 1);
}

/* ---- XENT ---- */

/* -log softmax(z)[label] in double, the reference per pixel */
static double pixel_loss(const float *z, size_t chw_stride, int C, int label) {
  double mx = z[0], s = 0.0;
  for (int c = 1; c < C; c++) mx = fmax(mx, z[(size_t)c * chw_stride]);
  for (int c = 0; c < C; c++) s += exp(z[(size_t)c * chw_stride] - mx);
  return log(s) + mx - z[(size_t)label * chw_stride];
}

static void run_xent(const float *logits, const unsigned char *lab, Shape s, int ignore, float inv, float *loss,
                     float *d) {
  KernelSpec sp = {.family = KFAM_XENT};
  KtArgs A = {0};
  int64_t hw = (int64_t)s.h * s.w;
  kt_l(&A, s.n * hw), kt_p(&A, loss), kt_p(&A, d), kt_p(&A, logits), kt_p(&A, lab), kt_l(&A, s.n), kt_l(&A, s.c);
  kt_l(&A, hw), kt_l(&A, ignore), kt_f(&A, inv);
  kt_run(&sp, &A);
}

static void test_xent_case(Shape s, int ignore, int all_ignored) {
  size_t hw = (size_t)s.h * s.w, npix = s.n * hw, n = shape_numel(s);
  float *z = kt_rand(n, -6, 6), *loss = kt_rand(npix, -1, 1), *d = kt_rand(n, -1, 1), *want_d = kt_zeros(n);
  unsigned char *lab = kt_alloc(npix);
  for (size_t p = 0; p < npix; p++) lab[p] = all_ignored || kt_u32() % 5 == 0 ? (unsigned char)ignore : kt_u32() % s.c;
  long nv = 0;
  double want_mean = cpu_softmax_xent(z, s, lab, ignore, want_d, &nv);
  float inv = nv ? 1.0f / (float)nv : 0.0f;
  run_xent(z, lab, s, ignore, inv, loss, d);
  double sum = 0.0, worst = 0.0;
  float *want_loss = kt_zeros(npix);
  for (size_t p = 0; p < npix; p++) {
    sum += loss[p];
    size_t b = p / hw, q = p % hw;
    if (lab[p] != ignore) want_loss[p] = (float)pixel_loss(z + b * s.c * hw + q, hw, s.c, lab[p]);
  }
  kt_compare("xent loss per pixel (0 at ignored)", loss, want_loss, npix, 1e-6);
  double mean = nv ? sum / (double)nv : 0.0;
  worst = fabs(mean - want_mean) / fmax(1.0, fabs(want_mean));
  printf("xent mean loss %.9g vs cpu_softmax_xent %.9g (%ld valid pixels, rel. err %.3g)\n", mean, want_mean, nv,
         worst);
  KT_CHECK(worst < 1e-6);
  kt_compare("xent dlogits", d, want_d, n, 1e-7); /* |d| <= 1/nvalid: an absolute bound here */
  float *loss2 = kt_zeros(npix);
  run_xent(z, lab, s, ignore, inv, loss2, NULL); /* dlogits NULL: the loss alone */
  kt_compare("xent loss with dlogits=NULL", loss2, loss, npix, 0.0);
}

void kt_test_mix_xent(void) {
  test_mix();
  test_xent_case((Shape){2, 5, 7, 5}, 255, 0);
  test_xent_case((Shape){1, 19, 9, 13}, 255, 0);
  test_xent_case((Shape){2, 3, 4, 3}, 1, 0); /* ignore is a class index */
  test_xent_case((Shape){1, 4, 3, 3}, 255, 1);
}
