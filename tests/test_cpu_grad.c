/* test_cpu_grad.c - the CPU training kernels (runtime/cpu/cpu_grad.h). Every backward is checked against central
 * finite differences of a naive double-precision forward written here from PyTorch's definitions: the objective
 * is L = sum(r * f(x)) for a fixed random r, the kernel runs with dy = r, and the relative L2 error must stay
 * under a tolerance (<= 1e-3). Each input gradient is also run with acc=true onto random contents (it must add
 * the same), each parameter gradient twice (it must accumulate). Bigger shapes, which take the threaded and
 * blocked paths, are checked against naive double adjoints; BN's running statistics and a few boundary values by
 * hand. Run with --bench [threads] to time conv backward on MobileNet-like shapes at batch 2. */
#include "cpu_grad.h"
#include "spatial_ref.h"
#include "test_util.h"
#include "clock.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/* ---- helpers ---- */

static uint64_t rng_state = 0x2545f4914f6cdd1dull;
static uint32_t rng_u32(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t)(rng_state >> 16);
}
static float rng_uniform(float lo, float hi) { return lo + (hi - lo) * ((float)rng_u32() / 4294967296.0f); }

static float *fbuf(size_t n) {
  float *p = malloc((n ? n : 1) * sizeof(float));
  if (!p) abort();
  return p;
}
static float *rand_buf(size_t n, float lo, float hi) {
  float *p = fbuf(n);
  for (size_t i = 0; i < n; i++) p[i] = rng_uniform(lo, hi);
  return p;
}
static float *zero_buf(size_t n) {
  float *p = calloc(n ? n : 1, sizeof(float));
  if (!p) abort();
  return p;
}
static float *nan_buf(size_t n) { /* what an overwriting kernel must never read */
  float *p = fbuf(n);
  for (size_t i = 0; i < n; i++) p[i] = NAN;
  return p;
}
static float *copy_buf(const float *x, size_t n) {
  float *p = fbuf(n);
  memcpy(p, x, n * sizeof(float));
  return p;
}
static double *dbuf(size_t n) {
  double *p = calloc(n ? n : 1, sizeof(double));
  if (!p) abort();
  return p;
}
static double *to_double(const float *x, size_t n) {
  double *p = dbuf(n);
  for (size_t i = 0; i < n; i++) p[i] = x[i];
  return p;
}
static size_t idx4(Shape s, int n, int c, int h, int w) { return (((size_t)n * s.c + c) * s.h + h) * s.w + w; }
static int conv_out(int in, int k, int s, int pad, int d) { return (in + 2 * pad - d * (k - 1) - 1) / s + 1; }

static double worst_rel_err; /* the largest relative L2 error of a passing check, for the summary */

/* ||got - want|| / ||want|| (the absolute norm when want is 0) */
static double rel_err(const float *got, const double *want, size_t n) {
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < n; i++) {
    const double d = (double)got[i] - want[i];
    num += d * d;
    den += want[i] * want[i];
  }
  return den > 0.0 ? sqrt(num / den) : sqrt(num);
}

static void check_rel(const char *what, const float *got, const double *want, size_t n, double tol) {
  const double e = rel_err(got, want, n);
  if (e <= tol) {
    t_passed++;
    if (e > worst_rel_err) worst_rel_err = e;
  } else {
    t_failed++;
    fprintf(stderr, "%s: relative L2 error %.3g > %.3g\n", what, e, tol);
  }
}

/* sum == base + fresh up to float rounding (relative L2 error <= 1e-5: a parameter gradient may sum in
   another order when its threads share the work differently) */
static void check_acc(const char *what, const float *sum, const float *base, const float *fresh, size_t n) {
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < n; i++) {
    const double want = (double)base[i] + fresh[i], d = sum[i] - want;
    num += d * d;
    den += want * want;
  }
  const double e = den > 0.0 ? sqrt(num / den) : sqrt(num);
  if (e <= 1e-5) t_passed++;
  else {
    t_failed++;
    fprintf(stderr, "%s (acc): relative L2 error %.3g against dx + the fresh gradient\n", what, e);
  }
}

static void check_value(const char *what, double got, double want, double tol) {
  if (fabs(got - want) <= tol) t_passed++;
  else {
    t_failed++;
    fprintf(stderr, "%s: got %.9g, expected %.9g\n", what, got, want);
  }
}

typedef double (*Objective)(const void *ctx);

/* dL/dv by central differences; v is one of the double inputs the objective reads through ctx */
static double *fd_grad(Objective f, const void *ctx, double *v, size_t n, double eps) {
  double *g = dbuf(n);
  for (size_t i = 0; i < n; i++) {
    const double v0 = v[i];
    v[i] = v0 + eps;
    const double lp = f(ctx);
    v[i] = v0 - eps;
    const double lm = f(ctx);
    v[i] = v0;
    g[i] = (lp - lm) / (2 * eps);
  }
  return g;
}

/* An input gradient: CALL writes `dx` under flag `acc`. Run into NaNs with acc false and checked against
   `want` (relative L2 error <= tol), then onto random contents with acc true: it must add the same. */
#define CHECK_BACKWARD(what, count, want, tol, CALL)                                      \
  do {                                                                                    \
    const size_t n_ = (count);                                                            \
    float *fresh_ = nan_buf(n_), *base_ = rand_buf(n_, -1, 1), *sum_ = copy_buf(base_, n_); \
    {                                                                                     \
      float *dx = fresh_;                                                                 \
      bool acc = false;                                                                   \
      CALL;                                                                               \
    }                                                                                     \
    check_rel(what, fresh_, want, n_, tol);                                               \
    {                                                                                     \
      float *dx = sum_;                                                                   \
      bool acc = true;                                                                    \
      CALL;                                                                               \
    }                                                                                     \
    check_acc(what, sum_, base_, fresh_, n_);                                             \
    free(fresh_), free(base_), free(sum_);                                                \
  } while (0)

/* A parameter gradient: CALL adds into `dp`. Run onto zeros and checked against `want`, then onto random
   contents: it must add the same. */
#define CHECK_PARAM_GRAD(what, count, want, tol, CALL)                                     \
  do {                                                                                     \
    const size_t n_ = (count);                                                             \
    float *fresh_ = zero_buf(n_), *base_ = rand_buf(n_, -1, 1), *sum_ = copy_buf(base_, n_); \
    {                                                                                      \
      float *dp = fresh_;                                                                  \
      CALL;                                                                                \
    }                                                                                      \
    check_rel(what, fresh_, want, n_, tol);                                                \
    {                                                                                      \
      float *dp = sum_;                                                                    \
      CALL;                                                                                \
    }                                                                                      \
    check_acc(what, sum_, base_, fresh_, n_);                                              \
    free(fresh_), free(base_), free(sum_);                                                 \
  } while (0)

static const double LIN_TOL = 1e-4;  /* linear ops: float rounding only */
static const double NLIN_TOL = 1e-3; /* the rest: float rounding and the O(eps^2) of the differences */

/* ---- conv2d ---- */

typedef struct ConvRef {
  Shape xs, ys;
  ConvParams p;
  double *x, *w, *b, *r; /* b may be NULL */
} ConvRef;

static double conv_objective(const void *ctx) {
  const ConvRef *c = ctx;
  const ConvParams *p = &c->p;
  const int cin_g = c->xs.c / p->groups, cout_g = c->ys.c / p->groups;
  double L = 0.0;
  for (int n = 0; n < c->ys.n; n++)
    for (int co = 0; co < c->ys.c; co++)
      for (int oy = 0; oy < c->ys.h; oy++)
        for (int ox = 0; ox < c->ys.w; ox++) {
          double y = c->b ? c->b[co] : 0.0;
          for (int cl = 0; cl < cin_g; cl++)
            for (int ky = 0; ky < p->kh; ky++)
              for (int kx = 0; kx < p->kw; kx++) {
                const int iy = oy * p->sh - p->ph + ky * p->dh, ix = ox * p->sw - p->pw + kx * p->dw;
                if (iy < 0 || iy >= c->xs.h || ix < 0 || ix >= c->xs.w) continue;
                y += c->x[idx4(c->xs, n, co / cout_g * cin_g + cl, iy, ix)] *
                     c->w[(((size_t)co * cin_g + cl) * p->kh + ky) * p->kw + kx];
              }
          L += c->r[idx4(c->ys, n, co, oy, ox)] * y;
        }
  return L;
}

typedef struct ConvCase { int n, cin, h, w, cout; ConvParams p; int bias; const char *label; } ConvCase;
#define CP(kh, kw, sh, sw, ph, pw, dh, dw, g) {kh, kw, sh, sw, ph, pw, dh, dw, g, CONV_ACT_NONE}

static Shape conv_out_shape(const ConvCase *cc) {
  const ConvParams *p = &cc->p;
  return (Shape){cc->n, cc->cout, conv_out(cc->h, p->kh, p->sh, p->ph, p->dh), conv_out(cc->w, p->kw, p->sw, p->pw, p->dw)};
}

static void conv_fd_case(const ConvCase *cc) {
  const ConvParams p = cc->p;
  const Shape xs = {cc->n, cc->cin, cc->h, cc->w}, ys = conv_out_shape(cc);
  const size_t nx = shape_numel(xs), ny = shape_numel(ys), nw = (size_t)cc->cout * (cc->cin / p.groups) * p.kh * p.kw;
  float *x = rand_buf(nx, -1, 1), *w = rand_buf(nw, -1, 1), *b = rand_buf((size_t)cc->cout, -1, 1), *r = rand_buf(ny, -1, 1);
  ConvRef ref = {xs, ys, p, to_double(x, nx), to_double(w, nw), cc->bias ? to_double(b, (size_t)cc->cout) : NULL,
                 to_double(r, ny)};
  double *gx = fd_grad(conv_objective, &ref, ref.x, nx, 1e-3), *gw = fd_grad(conv_objective, &ref, ref.w, nw, 1e-3);
  char what[160];
  snprintf(what, sizeof what, "conv %s dx", cc->label);
  CHECK_BACKWARD(what, nx, gx, LIN_TOL, cpu_conv2d_backward_data(r, ys, w, &p, dx, xs, acc));
  snprintf(what, sizeof what, "conv %s dw", cc->label);
  CHECK_PARAM_GRAD(what, nw, gw, LIN_TOL, cpu_conv2d_backward_weight(x, xs, r, ys, &p, dp, NULL));
  if (cc->bias) {
    double *gb = fd_grad(conv_objective, &ref, ref.b, (size_t)cc->cout, 1e-3);
    float *junk = zero_buf(nw);
    snprintf(what, sizeof what, "conv %s db", cc->label);
    CHECK_PARAM_GRAD(what, (size_t)cc->cout, gb, LIN_TOL, cpu_conv2d_backward_weight(x, xs, r, ys, &p, junk, dp));
    free(gb), free(junk), free(ref.b);
  }
  free(x), free(w), free(b), free(r), free(ref.x), free(ref.w), free(ref.r), free(gx), free(gw);
}

static void test_conv_fd(void) {
  static const ConvCase cases[] = {
      {2, 5, 7, 8, 6, CP(3, 3, 1, 1, 1, 1, 1, 1, 1), 1, "dense 3x3 s1 (sgemm)"},
      {2, 6, 9, 7, 5, CP(3, 3, 2, 2, 1, 1, 1, 1, 1), 0, "dense 3x3 s2 (sgemm)"},
      {2, 3, 9, 10, 8, CP(3, 3, 2, 2, 1, 1, 1, 1, 1), 1, "stem 3x3 s2 3->8"},
      {2, 8, 5, 6, 6, CP(1, 1, 1, 1, 0, 0, 1, 1, 1), 1, "1x1 (pointwise sgemm)"},
      {2, 6, 7, 7, 7, CP(1, 1, 2, 2, 0, 0, 1, 1, 1), 0, "1x1 s2"},
      {2, 6, 5, 6, 2, CP(1, 1, 1, 1, 0, 0, 1, 1, 1), 1, "1x1 6->2 (direct)"},
      {2, 5, 8, 9, 6, CP(3, 3, 1, 1, 2, 2, 2, 2, 1), 1, "dilated 3x3 d2"},
      {2, 10, 6, 7, 12, CP(3, 3, 1, 1, 1, 1, 1, 1, 2), 0, "grouped g2 (sgemm per group)"},
      {2, 10, 6, 5, 12, CP(1, 1, 1, 1, 0, 0, 1, 1, 2), 1, "grouped 1x1 g2 (pointwise)"},
      {2, 8, 7, 6, 8, CP(3, 3, 1, 1, 2, 2, 2, 2, 4), 1, "grouped g4 d2 (direct)"},
      {2, 6, 8, 9, 6, CP(3, 3, 1, 1, 1, 1, 1, 1, 6), 1, "depthwise 3x3 s1"},
      {2, 6, 9, 8, 6, CP(3, 3, 2, 2, 1, 1, 1, 1, 6), 0, "depthwise 3x3 s2"},
      {2, 5, 11, 10, 5, CP(5, 5, 2, 2, 2, 2, 1, 1, 5), 0, "depthwise 5x5 s2"},
      {2, 5, 11, 12, 5, CP(5, 5, 2, 2, 2, 2, 1, 1, 5), 1, "depthwise 5x5 s2 bias"},
      {2, 5, 6, 9, 5, CP(1, 3, 1, 1, 0, 1, 1, 1, 1), 1, "1x3 asymmetric"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) conv_fd_case(&cases[i]);
}

/* naive double adjoints: gx[x] = sum of r[y]*w over the taps reading x; gw[w] = sum of r[y]*x over the outputs */
static void conv_adjoint_ref(const ConvRef *c, double *gx, double *gw) {
  const ConvParams *p = &c->p;
  const int cin_g = c->xs.c / p->groups, cout_g = c->ys.c / p->groups;
  for (int n = 0; n < c->ys.n; n++)
    for (int co = 0; co < c->ys.c; co++)
      for (int oy = 0; oy < c->ys.h; oy++)
        for (int ox = 0; ox < c->ys.w; ox++) {
          const double r = c->r[idx4(c->ys, n, co, oy, ox)];
          for (int cl = 0; cl < cin_g; cl++)
            for (int ky = 0; ky < p->kh; ky++)
              for (int kx = 0; kx < p->kw; kx++) {
                const int iy = oy * p->sh - p->ph + ky * p->dh, ix = ox * p->sw - p->pw + kx * p->dw;
                if (iy < 0 || iy >= c->xs.h || ix < 0 || ix >= c->xs.w) continue;
                const size_t xi = idx4(c->xs, n, co / cout_g * cin_g + cl, iy, ix);
                const size_t wi = (((size_t)co * cin_g + cl) * p->kh + ky) * p->kw + kx;
                gx[xi] += r * c->w[wi];
                gw[wi] += r * c->x[xi];
              }
        }
}

/* shapes big enough for the threads, several row / channel / column blocks and ragged ends */
static void test_conv_big(void) {
  static const ConvCase cases[] = {
      {2, 32, 30, 70, 24, CP(3, 3, 1, 1, 1, 1, 1, 1, 1), 1, "big dense 3x3"},
      {2, 48, 33, 37, 40, CP(1, 1, 1, 1, 0, 0, 1, 1, 1), 1, "big 1x1"},
      {2, 32, 41, 39, 32, CP(3, 3, 2, 2, 1, 1, 1, 1, 32), 1, "big depthwise s2"},
      {2, 24, 37, 53, 24, CP(5, 5, 1, 1, 2, 2, 1, 1, 24), 1, "big depthwise 5x5 s1"},
      {2, 16, 29, 45, 16, CP(3, 3, 1, 1, 2, 2, 2, 2, 16), 0, "big depthwise 3x3 d2"},
      {1, 8, 20, 35, 8, CP(3, 3, 1, 1, 0, 0, 1, 1, 8), 0, "big depthwise 3x3 unpadded"},
      {1, 8, 12, 19, 8, CP(3, 3, 1, 1, 3, 3, 1, 1, 8), 0, "big depthwise over-padded (direct)"},
      {2, 24, 37, 51, 24, CP(5, 5, 2, 2, 2, 2, 1, 1, 24), 1, "big depthwise 5x5 s2"},
      {1, 8, 30, 67, 8, CP(3, 3, 2, 2, 0, 0, 1, 1, 8), 0, "big depthwise 3x3 s2 unpadded"},
      {2, 32, 20, 25, 48, CP(3, 3, 1, 1, 1, 1, 1, 1, 2), 0, "big grouped g2"},
      {2, 32, 24, 24, 32, CP(3, 3, 1, 1, 3, 3, 3, 3, 16), 1, "big ASPP-like d3 g16"},
      {2, 3, 64, 66, 16, CP(3, 3, 2, 2, 1, 1, 1, 1, 1), 1, "big stem"},
      {1, 24, 18, 20, 20, CP(3, 3, 2, 2, 1, 1, 1, 1, 1), 0, "big dense s2 n1"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const ConvCase *cc = &cases[i];
    const ConvParams p = cc->p;
    const Shape xs = {cc->n, cc->cin, cc->h, cc->w}, ys = conv_out_shape(cc);
    const size_t nx = shape_numel(xs), ny = shape_numel(ys), nw = (size_t)cc->cout * (cc->cin / p.groups) * p.kh * p.kw;
    float *x = rand_buf(nx, -1, 1), *w = rand_buf(nw, -1, 1), *r = rand_buf(ny, -1, 1);
    ConvRef ref = {xs, ys, p, to_double(x, nx), to_double(w, nw), NULL, to_double(r, ny)};
    double *gx = dbuf(nx), *gw = dbuf(nw), *gb = dbuf((size_t)cc->cout);
    conv_adjoint_ref(&ref, gx, gw);
    for (size_t j = 0; j < ny; j++) gb[j / ((size_t)ys.h * ys.w) % ys.c] += ref.r[j];
    char what[160];
    snprintf(what, sizeof what, "conv %s dx", cc->label);
    CHECK_BACKWARD(what, nx, gx, LIN_TOL, cpu_conv2d_backward_data(r, ys, w, &p, dx, xs, acc));
    snprintf(what, sizeof what, "conv %s dw", cc->label);
    CHECK_PARAM_GRAD(what, nw, gw, LIN_TOL, cpu_conv2d_backward_weight(x, xs, r, ys, &p, dp, NULL));
    float *junk = zero_buf(nw);
    snprintf(what, sizeof what, "conv %s db", cc->label);
    CHECK_PARAM_GRAD(what, (size_t)cc->cout, gb, LIN_TOL, cpu_conv2d_backward_weight(x, xs, r, ys, &p, junk, dp));
    free(x), free(w), free(r), free(ref.x), free(ref.w), free(ref.r), free(gx), free(gw), free(gb), free(junk);
  }
}

/* ---- batch norm ---- */

typedef struct BnRef {
  Shape s;
  double *x, *gamma, *beta, *r, eps;
  const double *rm, *rv; /* eval mode when set */
} BnRef;

/* per channel: the batch (or running) mean and biased variance */
static void bn_stats_ref(const BnRef *b, int c, double *mean, double *var) {
  if (b->rm) {
    *mean = b->rm[c], *var = b->rv[c];
    return;
  }
  const Shape s = b->s;
  const double m = (double)s.n * s.h * s.w;
  double sum = 0.0, sq = 0.0;
  for (int n = 0; n < s.n; n++)
    for (int i = 0; i < s.h * s.w; i++) sum += b->x[idx4(s, n, c, 0, 0) + i];
  *mean = sum / m;
  for (int n = 0; n < s.n; n++)
    for (int i = 0; i < s.h * s.w; i++) sq += pow(b->x[idx4(s, n, c, 0, 0) + i] - *mean, 2);
  *var = sq / m;
}

static void bn_forward_ref(const BnRef *b, double *y) {
  const Shape s = b->s;
  for (int c = 0; c < s.c; c++) {
    double mean, var;
    bn_stats_ref(b, c, &mean, &var);
    const double invstd = 1.0 / sqrt(var + b->eps);
    for (int n = 0; n < s.n; n++)
      for (int i = 0; i < s.h * s.w; i++) {
        const size_t k = idx4(s, n, c, 0, 0) + i;
        y[k] = (b->x[k] - mean) * invstd * b->gamma[c] + b->beta[c];
      }
  }
}

static double bn_objective(const void *ctx) {
  const BnRef *b = ctx;
  const size_t n = shape_numel(b->s);
  double *y = dbuf(n), L = 0.0;
  bn_forward_ref(b, y);
  for (size_t i = 0; i < n; i++) L += b->r[i] * y[i];
  free(y);
  return L;
}

static void test_bn_train(void) {
  const Shape s = {2, 3, 4, 5};
  const size_t n = shape_numel(s), C = (size_t)s.c;
  float *x = rand_buf(n, -2, 3), *gamma = rand_buf(C, 0.5f, 1.5f), *beta = rand_buf(C, -1, 1), *r = rand_buf(n, -1, 1);
  float *y = nan_buf(n), *mean = nan_buf(C), *invstd = nan_buf(C);
  BnRef ref = {s, to_double(x, n), to_double(gamma, C), to_double(beta, C), to_double(r, n), 1e-5, NULL, NULL};
  cpu_batchnorm_train(x, s, gamma, beta, NULL, NULL, 0.1f, 1e-5f, y, mean, invstd);
  double *yref = dbuf(n);
  bn_forward_ref(&ref, yref);
  check_rel("bn train forward y", y, yref, n, 1e-6);
  double *gx = fd_grad(bn_objective, &ref, ref.x, n, 1e-4), *gg = fd_grad(bn_objective, &ref, ref.gamma, C, 1e-4);
  double *gb = fd_grad(bn_objective, &ref, ref.beta, C, 1e-4);
  CHECK_BACKWARD("bn train dx", n, gx, NLIN_TOL, cpu_batchnorm_backward(x, r, s, gamma, mean, invstd, dx, acc, NULL, NULL));
  CHECK_PARAM_GRAD("bn train dgamma", C, gg, NLIN_TOL,
                   cpu_batchnorm_backward(x, r, s, gamma, mean, invstd, NULL, false, dp, NULL));
  CHECK_PARAM_GRAD("bn train dbeta", C, gb, NLIN_TOL,
                   cpu_batchnorm_backward(x, r, s, gamma, mean, invstd, NULL, false, NULL, dp));
  free(x), free(gamma), free(beta), free(r), free(y), free(mean), free(invstd), free(yref), free(gx), free(gg), free(gb);
  free(ref.x), free(ref.gamma), free(ref.beta), free(ref.r);
}

/* BN fused with the ReLU/ReLU6 it feeds (forward, recomputation, backward) against the separate kernels,
   each of which the checks above test against finite differences; dz may alias dx. The backward takes the
   mask from BN(x) recomputed: it must pass exactly where the forward's output is nonzero (and below 6). */
static void check_bn_act(int act) {
  const Shape s = {2, 3, 6, 7};
  const size_t n = shape_numel(s), C = (size_t)s.c;
  const char *name = act == CONV_ACT_RELU ? "relu" : "relu6";
  char what[96];
  float *x = rand_buf(n, -2, 3), *gamma = rand_buf(C, 0.5f, 3.0f), *beta = rand_buf(C, -1, 6), *dz = rand_buf(n, -1, 1);
  float *mean = nan_buf(C), *invstd = nan_buf(C), *mean2 = nan_buf(C), *invstd2 = nan_buf(C);
  float *z = nan_buf(n), *zref = nan_buf(n), *rz = nan_buf(n);
  cpu_batchnorm_train_act(x, s, gamma, beta, NULL, NULL, 0.1f, 1e-5f, act, z, mean, invstd);
  cpu_batchnorm_train(x, s, gamma, beta, NULL, NULL, 0.1f, 1e-5f, zref, mean2, invstd2);
  (act == CONV_ACT_RELU ? cpu_relu : cpu_relu6)(zref, n, zref);
  double *want = to_double(zref, n);
  snprintf(what, sizeof what, "bn+%s train forward", name);
  check_rel(what, z, want, n, 1e-6);
  cpu_batchnorm_apply_saved_act(x, s, gamma, beta, mean, invstd, act, rz);
  snprintf(what, sizeof what, "bn+%s recomputed", name);
  check_rel(what, rz, want, n, 1e-6);
  size_t clipped = 0;
  for (size_t i = 0; i < n; i++) clipped += z[i] == 0.0f || (act == CONV_ACT_RELU6 && z[i] == 6.0f);
  snprintf(what, sizeof what, "bn+%s clips some and passes some", name);
  check_value(what, clipped > n / 10 && clipped < n * 9 / 10, 1, 0);
  /* backward: the activation's backward, then BN's */
  float *dy = nan_buf(n), *dxref = nan_buf(n);
  float *dg = zero_buf(C), *db = zero_buf(C), *dgref = zero_buf(C), *dbref = zero_buf(C);
  (act == CONV_ACT_RELU ? cpu_relu_backward : cpu_relu6_backward)(z, dz, n, dy, false);
  cpu_batchnorm_backward(x, dy, s, gamma, mean, invstd, dxref, false, dgref, dbref);
  double *wdx = to_double(dxref, n), *wdg = to_double(dgref, C), *wdb = to_double(dbref, C);
  snprintf(what, sizeof what, "bn+%s backward dx", name);
  CHECK_BACKWARD(what, n, wdx, 1e-6,
                 cpu_batchnorm_backward_act(x, dz, act, s, gamma, beta, mean, invstd, dx, acc, NULL, NULL));
  cpu_batchnorm_backward_act(x, dz, act, s, gamma, beta, mean, invstd, NULL, false, dg, db);
  snprintf(what, sizeof what, "bn+%s backward dgamma", name);
  check_rel(what, dg, wdg, C, 1e-6);
  snprintf(what, sizeof what, "bn+%s backward dbeta", name);
  check_rel(what, db, wdb, C, 1e-6);
  float *inplace = copy_buf(x, n); /* the forward written over its input (train_fusion.c lets the ReLU take
                                       the slot of a BN input that dies at the BN) */
  cpu_batchnorm_train_act(inplace, s, gamma, beta, NULL, NULL, 0.1f, 1e-5f, act, inplace, mean2, invstd2);
  snprintf(what, sizeof what, "bn+%s train forward in place", name);
  check_rel(what, inplace, want, n, 1e-6);
  free(inplace);
  float *alias = copy_buf(dz, n); /* dx written over dz */
  cpu_batchnorm_backward_act(x, alias, act, s, gamma, beta, mean, invstd, alias, false, NULL, NULL);
  snprintf(what, sizeof what, "bn+%s backward dx over dz", name);
  check_rel(what, alias, wdx, n, 1e-6);
  free(x), free(gamma), free(beta), free(dz), free(mean), free(invstd), free(mean2), free(invstd2), free(z), free(zref);
  free(rz), free(want), free(dy), free(dxref), free(dg), free(db), free(dgref), free(dbref), free(wdx), free(wdg);
  free(wdb), free(alias);
}

static void test_bn_act_fused(void) {
  check_bn_act(CONV_ACT_RELU);
  check_bn_act(CONV_ACT_RELU6);
}

/* the statistics and the running-stat update on numbers worked out by hand */
static void test_bn_running_stats(void) {
  /* one channel, m = 4: x = {1, 2, 3, 6}: mean 3, biased var 14/4 = 3.5, unbiased 14/3 */
  const Shape s = {2, 1, 1, 2};
  const float x[4] = {1, 2, 3, 6}, gamma[1] = {2}, beta[1] = {0.5f};
  float y[4], mean[1], invstd[1], rm[1] = {0.5f}, rv[1] = {2.0f};
  cpu_batchnorm_train(x, s, gamma, beta, rm, rv, 0.1f, 1e-5f, y, mean, invstd);
  check_value("bn save_mean", mean[0], 3.0, 1e-6);
  check_value("bn save_invstd", invstd[0], 1.0 / sqrt(3.5 + 1e-5), 1e-6);
  check_value("bn running_mean", rm[0], 0.9 * 0.5 + 0.1 * 3.0, 1e-6);        /* 0.75 */
  check_value("bn running_var", rv[0], 0.9 * 2.0 + 0.1 * 14.0 / 3.0, 1e-6);  /* 2.2666667 */
  check_value("bn y[0]", y[0], (1 - 3) / sqrt(3.5 + 1e-5) * 2 + 0.5, 1e-5); /* -1.638... */
  check_value("bn y[3]", y[3], (6 - 3) / sqrt(3.5 + 1e-5) * 2 + 0.5, 1e-5);
  /* m = 1: the running variance takes the biased variance (0) */
  const Shape s1 = {1, 2, 1, 1};
  const float x1[2] = {4, -1};
  float y1[2], mean1[2], invstd1[2], rm1[2] = {1, 1}, rv1[2] = {1, 3};
  cpu_batchnorm_train(x1, s1, NULL, NULL, rm1, rv1, 0.25f, 1e-3f, y1, mean1, invstd1);
  check_value("bn m=1 running_mean", rm1[0], 0.75 + 0.25 * 4, 1e-6);
  check_value("bn m=1 running_var", rv1[1], 0.75 * 3, 1e-6);
  check_value("bn m=1 y", y1[1], 0.0, 0.0);
  check_value("bn m=1 invstd", invstd1[0], 1.0 / sqrt(1e-3), 1e-3);
}

static void test_bn_eval(void) {
  const Shape s = {2, 4, 3, 5};
  const size_t n = shape_numel(s), C = (size_t)s.c;
  float *x = rand_buf(n, -2, 2), *gamma = rand_buf(C, 0.5f, 1.5f), *beta = rand_buf(C, -1, 1), *r = rand_buf(n, -1, 1);
  float *rm = rand_buf(C, -0.5f, 0.5f), *rv = rand_buf(C, 0.2f, 2.0f);
  double *drm = to_double(rm, C), *drv = to_double(rv, C);
  BnRef ref = {s, to_double(x, n), to_double(gamma, C), to_double(beta, C), to_double(r, n), 1e-5, drm, drv};
  /* eps as the kernel sees it: the float 1e-5f */
  ref.eps = (double)1e-5f;
  double *gx = fd_grad(bn_objective, &ref, ref.x, n, 1e-4), *gg = fd_grad(bn_objective, &ref, ref.gamma, C, 1e-4);
  double *gb = fd_grad(bn_objective, &ref, ref.beta, C, 1e-4);
  CHECK_BACKWARD("bn eval dx", n, gx, LIN_TOL, cpu_batchnorm_backward_eval(x, r, s, gamma, rm, rv, 1e-5f, dx, acc, NULL, NULL));
  CHECK_PARAM_GRAD("bn eval dgamma", C, gg, LIN_TOL,
                   cpu_batchnorm_backward_eval(x, r, s, gamma, rm, rv, 1e-5f, NULL, false, dp, NULL));
  CHECK_PARAM_GRAD("bn eval dbeta", C, gb, LIN_TOL,
                   cpu_batchnorm_backward_eval(x, r, s, gamma, rm, rv, 1e-5f, NULL, false, NULL, dp));
  free(x), free(gamma), free(beta), free(r), free(rm), free(rv), free(drm), free(drv), free(gx), free(gg), free(gb);
  free(ref.x), free(ref.gamma), free(ref.beta), free(ref.r);
}

/* a big BN (threads): forward against the double forward, backward against the closed form in double */
static void test_bn_big(void) {
  const Shape s = {4, 8, 32, 33};
  const size_t n = shape_numel(s), C = (size_t)s.c, hw = (size_t)s.h * s.w, m = (size_t)s.n * hw;
  float *x = rand_buf(n, -1, 4), *gamma = rand_buf(C, 0.5f, 1.5f), *beta = rand_buf(C, -1, 1), *r = rand_buf(n, -1, 1);
  float *y = nan_buf(n), *mean = nan_buf(C), *invstd = nan_buf(C);
  BnRef ref = {s, to_double(x, n), to_double(gamma, C), to_double(beta, C), to_double(r, n), (double)1e-5f, NULL, NULL};
  double *yref = dbuf(n), *gx = dbuf(n), *gg = dbuf(C), *gb = dbuf(C);
  bn_forward_ref(&ref, yref);
  cpu_batchnorm_train(x, s, gamma, beta, NULL, NULL, 0.1f, 1e-5f, y, mean, invstd);
  check_rel("bn big forward", y, yref, n, 1e-6);
  for (size_t c = 0; c < C; c++) {
    double mu, var, sdy = 0.0, sdyxhat = 0.0;
    bn_stats_ref(&ref, (int)c, &mu, &var);
    const double is = 1.0 / sqrt(var + ref.eps);
    for (size_t b = 0; b < (size_t)s.n; b++)
      for (size_t i = 0; i < hw; i++) {
        const size_t k = (b * C + c) * hw + i;
        sdy += ref.r[k], sdyxhat += ref.r[k] * (ref.x[k] - mu) * is;
      }
    gg[c] = sdyxhat, gb[c] = sdy;
    for (size_t b = 0; b < (size_t)s.n; b++)
      for (size_t i = 0; i < hw; i++) {
        const size_t k = (b * C + c) * hw + i;
        gx[k] = ref.gamma[c] * is / (double)m * ((double)m * ref.r[k] - sdy - (ref.x[k] - mu) * is * sdyxhat);
      }
  }
  CHECK_BACKWARD("bn big dx", n, gx, 1e-4, cpu_batchnorm_backward(x, r, s, gamma, mean, invstd, dx, acc, NULL, NULL));
  CHECK_PARAM_GRAD("bn big dgamma", C, gg, 1e-5, cpu_batchnorm_backward(x, r, s, gamma, mean, invstd, NULL, false, dp, NULL));
  CHECK_PARAM_GRAD("bn big dbeta", C, gb, 1e-5, cpu_batchnorm_backward(x, r, s, gamma, mean, invstd, NULL, false, NULL, dp));
  free(x), free(gamma), free(beta), free(r), free(y), free(mean), free(invstd), free(yref), free(gx), free(gg), free(gb);
  free(ref.x), free(ref.gamma), free(ref.beta), free(ref.r);
}

/* ---- activations ---- */

static double relu_d(double v) { return v < 0 ? 0 : v; }
static double relu6_d(double v) { return v < 0 ? 0 : (v > 6 ? 6 : v); }
static double sigmoid_d(double v) { return 1.0 / (1.0 + exp(-v)); }
static double hswish_d(double v) { return v * relu6_d(v + 3) / 6; }
static double silu_d(double v) { return v / (1.0 + exp(-v)); }
static double hsigmoid_d(double v) { return relu6_d(v + 3) / 6; }
static double leaky_d(double v) { return v > 0 ? v : v * (double)0.1f; }
static double affine_d(double v) { return (double)-0.75f * v + 2; }

/* dL/dx of L = sum(r * f(x)): L is a sum of one-element terms, so the central differences go element by element */
static double *act_fd_grad(double (*f)(double), const float *x, const float *r, size_t n, double eps) {
  double *g = dbuf(n);
  for (size_t i = 0; i < n; i++) g[i] = r[i] * (f((double)x[i] + eps) - f((double)x[i] - eps)) / (2 * eps);
  return g;
}

/* silu, hsigmoid, tanh (through its output), leaky_relu (slope 0.1) and affine (-0.75 x + 2) on x away from kinks */
static void test_eltwise_activations(const float *x, const float *r, float *y, size_t n) {
  double (*const fs[5])(double) = {silu_d, hsigmoid_d, tanh, leaky_d, affine_d};
  const char *names[5] = {"silu backward", "hsigmoid backward", "tanh backward", "leaky_relu backward",
                          "affine backward"};
  for (int k = 0; k < 5; k++) {
    double *g = act_fd_grad(fs[k], x, r, n, 1e-5);
    for (size_t i = 0; i < n; i++) y[i] = (float)fs[k](x[i]);
    if (k == 0) CHECK_BACKWARD(names[k], n, g, NLIN_TOL, cpu_silu_backward(x, r, n, dx, acc));
    if (k == 1) CHECK_BACKWARD(names[k], n, g, LIN_TOL, cpu_hsigmoid_backward(x, r, n, dx, acc));
    if (k == 2) CHECK_BACKWARD(names[k], n, g, NLIN_TOL, cpu_tanh_backward(y, r, n, dx, acc));
    if (k == 3) CHECK_BACKWARD(names[k], n, g, LIN_TOL, cpu_leaky_relu_backward(x, r, n, 0.1f, dx, acc));
    if (k == 4) CHECK_BACKWARD(names[k], n, g, LIN_TOL, cpu_affine_backward(r, n, -0.75f, dx, acc));
    free(g);
  }
}

static void test_activations(size_t n) {
  float *x = fbuf(n), *r = rand_buf(n, -1, 1), *y = fbuf(n);
  for (size_t i = 0; i < n; i++) { /* in [-8, 8], at least 0.05 away from the kinks -3, 0, 3, 6 */
    float v = rng_uniform(-8, 8);
    for (int k = -3; k <= 6; k += 3)
      if (fabsf(v - (float)k) < 0.05f) v = (float)k + (v < (float)k ? -0.05f : 0.05f);
    x[i] = v;
  }
  double (*const fs[4])(double) = {relu_d, relu6_d, sigmoid_d, hswish_d};
  const char *names[4] = {"relu backward", "relu6 backward", "sigmoid backward", "hswish backward"};
  for (int k = 0; k < 4; k++) {
    for (size_t i = 0; i < n; i++) y[i] = (float)fs[k](x[i]);
    double *g = act_fd_grad(fs[k], x, r, n, 1e-5);
    const double tol = k == 2 ? NLIN_TOL : LIN_TOL;
    if (k == 0) CHECK_BACKWARD(names[k], n, g, tol, cpu_relu_backward(y, r, n, dx, acc));
    if (k == 1) CHECK_BACKWARD(names[k], n, g, tol, cpu_relu6_backward(y, r, n, dx, acc));
    if (k == 2) CHECK_BACKWARD(names[k], n, g, tol, cpu_sigmoid_backward(y, r, n, dx, acc));
    if (k == 3) CHECK_BACKWARD(names[k], n, g, NLIN_TOL, cpu_hswish_backward(x, r, n, dx, acc));
    free(g);
  }
  test_eltwise_activations(x, r, y, n);
  free(x), free(r), free(y);
}

/* PyTorch's values at the kinks (threshold_backward, hardtanh_backward, vectorized hardswish_backward) */
static void test_activation_kinks(void) {
  const float dy[6] = {2, 2, 2, 2, 2, 2};
  const float yk[6] = {0, 6, 1e-7f, 5.9999995f, NAN, -0.0f};
  float d[6];
  cpu_relu_backward(yk, dy, 6, d, false);
  check_value("relu' at y=0", d[0], 0, 0);
  check_value("relu' at y=tiny", d[2], 2, 0);
  check_value("relu' at NaN passes", d[4], 2, 0);
  check_value("relu' at -0", d[5], 0, 0);
  cpu_relu6_backward(yk, dy, 6, d, false);
  check_value("relu6' at y=0", d[0], 0, 0);
  check_value("relu6' at y=6", d[1], 0, 0);
  check_value("relu6' just under 6", d[3], 2, 0);
  check_value("relu6' at NaN passes", d[4], 2, 0);
  const float xh[6] = {-3, 3, -3.5f, 3.5f, 0, 1.5f};
  cpu_hswish_backward(xh, dy, 6, d, false);
  check_value("hswish' at -3", d[0], -1, 1e-6); /* 2 * (-3/3 + 0.5) */
  check_value("hswish' at 3", d[1], 2, 0);
  check_value("hswish' at -3.5", d[2], 0, 0);
  check_value("hswish' at 3.5", d[3], 2, 0);
  check_value("hswish' at 0", d[4], 1, 1e-6);
  check_value("hswish' at 1.5", d[5], 2, 1e-6);
}

/* ---- broadcast add / mul ---- */

typedef struct BcastRef { Shape as, bs, ys; double *a, *b, *r; int op; } BcastRef; /* op: 0 add, 1 mul, 2 sub */

static size_t bcast_idx(Shape s, int n, int c, int h, int w) {
  return idx4(s, s.n == 1 ? 0 : n, s.c == 1 ? 0 : c, s.h == 1 ? 0 : h, s.w == 1 ? 0 : w);
}

static double bcast_objective(const void *ctx) {
  const BcastRef *b = ctx;
  const Shape ys = b->ys;
  double L = 0.0;
  for (int n = 0; n < ys.n; n++)
    for (int c = 0; c < ys.c; c++)
      for (int h = 0; h < ys.h; h++)
        for (int w = 0; w < ys.w; w++) {
          const double av = b->a[bcast_idx(b->as, n, c, h, w)], bv = b->b[bcast_idx(b->bs, n, c, h, w)];
          L += b->r[idx4(ys, n, c, h, w)] * (b->op == 1 ? av * bv : b->op == 2 ? av - bv : av + bv);
        }
  return L;
}

static Shape bcast_shape(Shape a, Shape b) {
  return (Shape){a.n > b.n ? a.n : b.n, a.c > b.c ? a.c : b.c, a.h > b.h ? a.h : b.h, a.w > b.w ? a.w : b.w};
}

static void test_broadcast(void) {
  static const Shape pairs[][2] = {
      {{2, 4, 1, 1}, {1, 4, 5, 6}}, {{2, 1, 5, 1}, {1, 1, 1, 6}}, {{2, 4, 5, 6}, {1, 1, 1, 1}},
      {{2, 4, 5, 6}, {2, 4, 5, 6}}, {{1, 4, 5, 1}, {2, 1, 1, 6}}, {{2, 4, 1, 6}, {2, 4, 5, 1}},
  };
  for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++)
    for (int op = 0; op < 3; op++) { /* add, mul, sub */
      const Shape as = pairs[k][0], bs = pairs[k][1], ys = bcast_shape(as, bs);
      const size_t na = shape_numel(as), nb = shape_numel(bs), ny = shape_numel(ys);
      float *a = rand_buf(na, -1, 1), *b = rand_buf(nb, -1, 1), *r = rand_buf(ny, -1, 1);
      BcastRef ref = {as, bs, ys, to_double(a, na), to_double(b, nb), to_double(r, ny), op};
      double *ga = fd_grad(bcast_objective, &ref, ref.a, na, 1e-3), *gb = fd_grad(bcast_objective, &ref, ref.b, nb, 1e-3);
      char what[160];
      snprintf(what, sizeof what, "%s backward [%d,%d,%d,%d] (x) [%d,%d,%d,%d]: a", op == 1 ? "mul" : op == 2 ? "sub" : "add", as.n, as.c, as.h,
               as.w, bs.n, bs.c, bs.h, bs.w);
      if (op == 1) {
        CHECK_BACKWARD(what, na, ga, LIN_TOL, cpu_mul_backward(r, ys, b, bs, dx, as, acc));
        what[strlen(what) - 1] = 'b';
        CHECK_BACKWARD(what, nb, gb, LIN_TOL, cpu_mul_backward(r, ys, a, as, dx, bs, acc));
      } else if (op == 2) {
        CHECK_BACKWARD(what, na, ga, LIN_TOL, cpu_reduce_to(r, ys, dx, as, acc));
        what[strlen(what) - 1] = 'b';
        CHECK_BACKWARD(what, nb, gb, LIN_TOL, cpu_sub_backward_b(r, ys, dx, bs, acc));
      } else {
        CHECK_BACKWARD(what, na, ga, LIN_TOL, cpu_reduce_to(r, ys, dx, as, acc));
        what[strlen(what) - 1] = 'b';
        CHECK_BACKWARD(what, nb, gb, LIN_TOL, cpu_reduce_to(r, ys, dx, bs, acc));
      }
      free(a), free(b), free(r), free(ref.a), free(ref.b), free(ref.r), free(ga), free(gb);
    }
}

/* big reductions (threads) against direct double sums */
static void test_reduce_big(void) {
  const Shape ys = {4, 16, 48, 50};
  static const Shape targets[] = {{4, 16, 1, 1}, {1, 16, 48, 50}, {1, 1, 1, 1}, {4, 1, 48, 1}, {4, 16, 48, 50}};
  const size_t ny = shape_numel(ys);
  float *r = rand_buf(ny, -1, 1), *m = rand_buf(ny, -1, 1);
  for (size_t k = 0; k < sizeof targets / sizeof targets[0]; k++) {
    const Shape xs = targets[k];
    const size_t nx = shape_numel(xs);
    double *g = dbuf(nx), *gm = dbuf(nx);
    for (int n = 0; n < ys.n; n++)
      for (int c = 0; c < ys.c; c++)
        for (int h = 0; h < ys.h; h++)
          for (int w = 0; w < ys.w; w++) {
            const size_t yi = idx4(ys, n, c, h, w), xi = bcast_idx(xs, n, c, h, w);
            g[xi] += r[yi];
            gm[xi] += (double)r[yi] * m[yi];
          }
    char what[96];
    snprintf(what, sizeof what, "reduce_to big -> [%d,%d,%d,%d]", xs.n, xs.c, xs.h, xs.w);
    CHECK_BACKWARD(what, nx, g, 1e-6, cpu_reduce_to(r, ys, dx, xs, acc));
    snprintf(what, sizeof what, "mul_backward big -> [%d,%d,%d,%d]", xs.n, xs.c, xs.h, xs.w);
    CHECK_BACKWARD(what, nx, gm, 1e-6, cpu_mul_backward(r, ys, m, ys, dx, xs, acc));
    free(g), free(gm);
  }
  free(r), free(m);
}

/* ---- concat, crop, global pool (adjoints written out directly: they are copies and sums) ---- */

static void test_concat(void) {
  const Shape parts[3] = {{2, 3, 4, 5}, {2, 2, 4, 5}, {2, 4, 4, 5}}, ys = {2, 9, 4, 5};
  float *r = rand_buf(shape_numel(ys), -1, 1);
  int c0 = 0;
  for (int k = 0; k < 3; k++) {
    const Shape xs = parts[k];
    const size_t nx = shape_numel(xs);
    double *g = dbuf(nx);
    for (int n = 0; n < xs.n; n++)
      for (int c = 0; c < xs.c; c++)
        for (int i = 0; i < xs.h * xs.w; i++) g[idx4(xs, n, c, 0, 0) + i] = r[idx4(ys, n, c0 + c, 0, 0) + i];
    CHECK_BACKWARD("concat backward", nx, g, 0.0, cpu_concat_backward(r, ys, c0, dx, xs, acc));
    c0 += xs.c;
    free(g);
  }
  free(r);
}

static void test_crop(void) {
  const Shape xs = {2, 3, 8, 9}, ys = {2, 3, 4, 5};
  const int top = 2, left = 3;
  float *r = rand_buf(shape_numel(ys), -1, 1);
  double *g = dbuf(shape_numel(xs));
  for (int n = 0; n < ys.n; n++)
    for (int c = 0; c < ys.c; c++)
      for (int h = 0; h < ys.h; h++)
        for (int w = 0; w < ys.w; w++) g[idx4(xs, n, c, top + h, left + w)] = r[idx4(ys, n, c, h, w)];
  CHECK_BACKWARD("crop backward", shape_numel(xs), g, 0.0, cpu_crop_backward(r, ys, top, left, dx, xs, acc));
  free(r), free(g);
}

static void test_global_avgpool(void) {
  const Shape xs = {2, 3, 4, 5};
  float *r = rand_buf((size_t)xs.n * xs.c, -1, 1);
  double *g = dbuf(shape_numel(xs));
  for (size_t i = 0; i < shape_numel(xs); i++) g[i] = r[i / 20] / 20.0;
  CHECK_BACKWARD("global avgpool backward", shape_numel(xs), g, 1e-6, cpu_global_avgpool_backward(r, dx, xs, acc));
  free(r), free(g);
}

/* ---- avgpool ---- */

typedef struct PoolRef { Shape xs, ys; int kh, kw, sh, sw, ph, pw; bool cip; double *x, *r; } PoolRef;

/* PyTorch AvgPool2d (ceil_mode=False): window clipped to the padded input, divisor by count_include_pad */
static double avgpool_ref_at(const PoolRef *p, int n, int c, int oy, int ox) {
  const int H = p->xs.h, W = p->xs.w;
  int y0 = oy * p->sh - p->ph, x0 = ox * p->sw - p->pw;
  int y1 = y0 + p->kh < H + p->ph ? y0 + p->kh : H + p->ph, x1 = x0 + p->kw < W + p->pw ? x0 + p->kw : W + p->pw;
  const int pool = (y1 - y0) * (x1 - x0);
  y0 = y0 < 0 ? 0 : y0, x0 = x0 < 0 ? 0 : x0, y1 = y1 > H ? H : y1, x1 = x1 > W ? W : x1;
  if (y0 >= y1 || x0 >= x1) return 0.0;
  double s = 0.0;
  for (int iy = y0; iy < y1; iy++)
    for (int ix = x0; ix < x1; ix++) s += p->x[idx4(p->xs, n, c, iy, ix)];
  return s / (p->cip ? pool : (y1 - y0) * (x1 - x0));
}

static double avgpool_objective(const void *ctx) {
  const PoolRef *p = ctx;
  double L = 0.0;
  for (int n = 0; n < p->ys.n; n++)
    for (int c = 0; c < p->ys.c; c++)
      for (int oy = 0; oy < p->ys.h; oy++)
        for (int ox = 0; ox < p->ys.w; ox++) L += p->r[idx4(p->ys, n, c, oy, ox)] * avgpool_ref_at(p, n, c, oy, ox);
  return L;
}

static void test_avgpool(void) {
  static const struct { Shape xs; int kh, kw, sh, sw, ph, pw; } cases[] = {
      {{2, 3, 9, 10}, 3, 3, 2, 2, 1, 1},  {{2, 2, 11, 13}, 5, 5, 3, 4, 0, 0}, {{1, 2, 11, 13}, 5, 5, 3, 4, 2, 2},
      {{2, 2, 12, 10}, 7, 5, 4, 3, 3, 2}, {{1, 3, 7, 7}, 7, 7, 7, 7, 0, 0},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
    for (int cip = 0; cip < 2; cip++) {
      PoolRef p = {cases[k].xs, {0}, cases[k].kh, cases[k].kw, cases[k].sh, cases[k].sw, cases[k].ph, cases[k].pw, cip, NULL, NULL};
      p.ys = (Shape){p.xs.n, p.xs.c, (p.xs.h + 2 * p.ph - p.kh) / p.sh + 1, (p.xs.w + 2 * p.pw - p.kw) / p.sw + 1};
      const size_t nx = shape_numel(p.xs), ny = shape_numel(p.ys);
      float *x = rand_buf(nx, -1, 1), *r = rand_buf(ny, -1, 1), *y = nan_buf(ny);
      p.x = to_double(x, nx), p.r = to_double(r, ny);
      double *yref = dbuf(ny);
      for (size_t i = 0; i < ny; i++) {
        const int ox = (int)(i % p.ys.w), oy = (int)(i / p.ys.w % p.ys.h), c = (int)(i / p.ys.w / p.ys.h % p.ys.c);
        yref[i] = avgpool_ref_at(&p, (int)(i / p.ys.w / p.ys.h / p.ys.c), c, oy, ox);
      }
      char what[128];
      snprintf(what, sizeof what, "avgpool k%dx%d s%d,%d p%d,%d cip%d", p.kh, p.kw, p.sh, p.sw, p.ph, p.pw, cip);
      cpu_avgpool(x, p.xs, p.kh, p.kw, p.sh, p.sw, p.ph, p.pw, cip, y, p.ys);
      check_rel(what, y, yref, ny, 1e-6); /* the reference is cpu_avgpool's forward */
      double *g = fd_grad(avgpool_objective, &p, p.x, nx, 1e-3);
      CHECK_BACKWARD(what, nx, g, LIN_TOL,
                     cpu_avgpool_backward(r, p.ys, p.kh, p.kw, p.sh, p.sw, p.ph, p.pw, cip, dx, p.xs, acc));
      free(x), free(r), free(y), free(p.x), free(p.r), free(yref), free(g);
    }
}

/* ---- bilinear and nearest ---- */

typedef struct ResizeRef { Shape xs, ys; bool ac, nearest; double *x, *r; } ResizeRef;

/* F.interpolate bilinear along one axis, from the formula in cpu_ops.h (in double) */
static void linear_ref(int in, int out, bool ac, int d, int *i0, int *i1, double *l1) {
  double src;
  if (ac) src = out > 1 ? (double)(in - 1) / (out - 1) * d : 0.0;
  else src = fmax(((double)d + 0.5) * in / out - 0.5, 0.0);
  *i0 = (int)src;
  *i1 = *i0 + (*i0 < in - 1 ? 1 : 0);
  *l1 = fmin(fmax(src - *i0, 0.0), 1.0);
}

/* F.interpolate nearest: floor(dst * scale) in float (scale = (float)in/out), clamped */
static int nearest_ref(int in, int out, int d) {
  const int s = (int)floorf((float)d * ((float)in / (float)out));
  return s < in - 1 ? s : in - 1;
}

static double resize_ref_at(const ResizeRef *z, int n, int c, int oy, int ox) {
  if (z->nearest)
    return z->x[idx4(z->xs, n, c, nearest_ref(z->xs.h, z->ys.h, oy), nearest_ref(z->xs.w, z->ys.w, ox))];
  int y0, y1, x0, x1;
  double ly, lx;
  linear_ref(z->xs.h, z->ys.h, z->ac, oy, &y0, &y1, &ly);
  linear_ref(z->xs.w, z->ys.w, z->ac, ox, &x0, &x1, &lx);
  const double t0 = z->x[idx4(z->xs, n, c, y0, x0)] * (1 - lx) + z->x[idx4(z->xs, n, c, y0, x1)] * lx;
  const double t1 = z->x[idx4(z->xs, n, c, y1, x0)] * (1 - lx) + z->x[idx4(z->xs, n, c, y1, x1)] * lx;
  return t0 * (1 - ly) + t1 * ly;
}

static double resize_objective(const void *ctx) {
  const ResizeRef *z = ctx;
  double L = 0.0;
  for (int n = 0; n < z->ys.n; n++)
    for (int c = 0; c < z->ys.c; c++)
      for (int oy = 0; oy < z->ys.h; oy++)
        for (int ox = 0; ox < z->ys.w; ox++) L += z->r[idx4(z->ys, n, c, oy, ox)] * resize_ref_at(z, n, c, oy, ox);
  return L;
}

static void resize_case(Shape xs, int oh, int ow, bool ac, bool nearest) {
  ResizeRef z = {xs, {xs.n, xs.c, oh, ow}, ac, nearest, NULL, NULL};
  const size_t nx = shape_numel(xs), ny = shape_numel(z.ys);
  float *x = rand_buf(nx, -1, 1), *r = rand_buf(ny, -1, 1), *y = nan_buf(ny);
  z.x = to_double(x, nx), z.r = to_double(r, ny);
  double *yref = dbuf(ny);
  for (size_t i = 0; i < ny; i++)
    yref[i] = resize_ref_at(&z, (int)(i / ow / oh / xs.c), (int)(i / ow / oh % xs.c), (int)(i / ow % oh), (int)(i % ow));
  char what[128];
  snprintf(what, sizeof what, "%s%s %dx%d -> %dx%d", nearest ? "nearest" : "bilinear",
           nearest ? "" : (ac ? " align_corners" : " half-pixel"), xs.h, xs.w, oh, ow);
  if (nearest) cpu_nearest(x, xs, y, z.ys);
  else cpu_bilinear(x, xs, y, z.ys, ac);
  check_rel(what, y, yref, ny, 1e-5); /* the reference is the forward kernel's */
  double *g = fd_grad(resize_objective, &z, z.x, nx, 1e-3);
  if (nearest) CHECK_BACKWARD(what, nx, g, LIN_TOL, cpu_nearest_backward(r, z.ys, dx, xs, acc));
  else CHECK_BACKWARD(what, nx, g, LIN_TOL, cpu_bilinear_backward(r, z.ys, dx, xs, ac, acc));
  free(x), free(r), free(y), free(z.x), free(z.r), free(yref), free(g);
}

static void test_resize(void) {
  for (int ac = 0; ac < 2; ac++) {
    resize_case((Shape){2, 2, 5, 6}, 10, 12, ac, false); /* x2 */
    resize_case((Shape){1, 2, 3, 4}, 24, 32, ac, false); /* x8 */
    resize_case((Shape){2, 2, 7, 9}, 12, 20, ac, false); /* non-integer */
    resize_case((Shape){2, 2, 12, 10}, 5, 7, ac, false); /* down */
    resize_case((Shape){1, 2, 6, 6}, 6, 6, ac, false);   /* identity */
    resize_case((Shape){1, 2, 4, 5}, 1, 1, ac, false);   /* to 1x1 */
    resize_case((Shape){1, 2, 1, 1}, 3, 4, ac, false);   /* from 1x1 */
    resize_case((Shape){1, 1, 2, 3}, 9, 1, ac, false);   /* mixed */
  }
  resize_case((Shape){2, 2, 5, 6}, 10, 12, false, true);
  resize_case((Shape){2, 2, 4, 5}, 7, 13, false, true);
  resize_case((Shape){2, 2, 9, 8}, 4, 3, false, true);
  resize_case((Shape){1, 1, 1, 2}, 3, 82, false, true); /* PyTorch's float quirk at 2 -> 82 */
  resize_case((Shape){1, 2, 6, 7}, 6, 7, false, true);
}

/* a big resize (threads): the adjoint against one built from the reference weights in double */
static void test_resize_big(void) {
  for (int kind = 0; kind < 3; kind++) {
    const Shape xs = {2, 8, 24, 30}, ys = {2, 8, 97, 121};
    ResizeRef z = {xs, ys, kind == 1, kind == 2, NULL, NULL};
    const size_t nx = shape_numel(xs), ny = shape_numel(ys);
    float *r = rand_buf(ny, -1, 1);
    double *g = dbuf(nx);
    for (int n = 0; n < ys.n; n++)
      for (int c = 0; c < ys.c; c++)
        for (int oy = 0; oy < ys.h; oy++)
          for (int ox = 0; ox < ys.w; ox++) {
            const double rv = r[idx4(ys, n, c, oy, ox)];
            if (z.nearest) {
              g[idx4(xs, n, c, nearest_ref(xs.h, ys.h, oy), nearest_ref(xs.w, ys.w, ox))] += rv;
              continue;
            }
            int y0, y1, x0, x1;
            double ly, lx;
            linear_ref(xs.h, ys.h, z.ac, oy, &y0, &y1, &ly);
            linear_ref(xs.w, ys.w, z.ac, ox, &x0, &x1, &lx);
            g[idx4(xs, n, c, y0, x0)] += rv * (1 - ly) * (1 - lx);
            g[idx4(xs, n, c, y0, x1)] += rv * (1 - ly) * lx;
            g[idx4(xs, n, c, y1, x0)] += rv * ly * (1 - lx);
            g[idx4(xs, n, c, y1, x1)] += rv * ly * lx;
          }
    const char *what = kind == 0 ? "bilinear big" : kind == 1 ? "bilinear big align_corners" : "nearest big";
    if (z.nearest) CHECK_BACKWARD(what, nx, g, 1e-5, cpu_nearest_backward(r, ys, dx, xs, acc));
    else CHECK_BACKWARD(what, nx, g, 1e-5, cpu_bilinear_backward(r, ys, dx, xs, z.ac, acc));
    free(r), free(g);
  }
}

/* ---- mixture ---- */

typedef struct MixRef { Shape s; int k; double *x[4], *w, *r; } MixRef; /* x[j] NULL: the Zero op */

static double mix_objective(const void *ctx) {
  const MixRef *m = ctx;
  const size_t per = (size_t)m->s.c * m->s.h * m->s.w;
  double L = 0.0;
  for (int b = 0; b < m->s.n; b++)
    for (size_t i = 0; i < per; i++) {
      double y = 0.0;
      for (int j = 0; j < m->k; j++)
        if (m->x[j]) y += m->w[(size_t)j * m->s.n + b] * m->x[j][b * per + i];
      L += m->r[b * per + i] * y;
    }
  return L;
}

static void mix_case(Shape s, bool fd) {
  enum { K = 3 };
  const size_t n = shape_numel(s), nw = (size_t)K * s.n;
  float *x[K] = {rand_buf(n, -1, 1), NULL, rand_buf(n, -1, 1)}, *w = rand_buf(nw, 0, 1), *r = rand_buf(n, -1, 1);
  MixRef m = {s, K, {to_double(x[0], n), NULL, to_double(x[2], n), NULL}, to_double(w, nw), to_double(r, n)};
  double *gx0, *gw;
  if (fd) {
    gx0 = fd_grad(mix_objective, &m, m.x[0], n, 1e-3);
    gw = fd_grad(mix_objective, &m, m.w, nw, 1e-3);
  } else { /* the closed form in double */
    gx0 = dbuf(n), gw = dbuf(nw);
    const size_t per = n / (size_t)s.n;
    for (size_t i = 0; i < n; i++) {
      const size_t b = i / per;
      gx0[i] = m.r[i] * m.w[b];
      gw[b] += m.r[i] * m.x[0][i];
      gw[2 * (size_t)s.n + b] += m.r[i] * m.x[2][i];
    }
  }
  const float *const xs[K] = {x[0], x[1], x[2]};
  float *junk = zero_buf(n);
  /* dx for candidate 0 only (2 has an input but no gradient wanted, 1 is the Zero op; acc_mask bit 0: candidate 0) */
  CHECK_BACKWARD(fd ? "mix dx" : "mix big dx", n, gx0, LIN_TOL,
                 cpu_mix_backward(r, s, xs, K, w, (float *const[K]){dx, NULL, NULL}, acc ? 1u : 0u, junk));
  CHECK_PARAM_GRAD(fd ? "mix dw" : "mix big dw", nw, gw, LIN_TOL,
                   cpu_mix_backward(r, s, xs, K, w, (float *const[K]){NULL, junk, NULL}, 0u, dp));
  free(x[0]), free(x[2]), free(w), free(r), free(m.x[0]), free(m.x[2]), free(m.w), free(m.r), free(gx0), free(gw), free(junk);
}

/* ---- width mask (a stage's width choice) ---- */

typedef struct WidthRef { Shape s; int k; const int *widths; double *x, *w, *r; } WidthRef;

/* y[b, c] = x[b, c] * sum over j with widths[j] > c of w[j * n + b]: the definition, in double. */
static double width_objective(const void *ctx) {
  const WidthRef *m = ctx;
  const size_t hw = (size_t)m->s.h * m->s.w;
  double L = 0.0;
  for (int b = 0; b < m->s.n; b++)
    for (int c = 0; c < m->s.c; c++) {
      double mask = 0.0;
      for (int j = 0; j < m->k; j++) mask += c < m->widths[j] ? m->w[(size_t)j * m->s.n + b] : 0.0;
      for (size_t i = 0; i < hw; i++) {
        const size_t at = ((size_t)b * m->s.c + c) * hw + i;
        L += m->r[at] * m->x[at] * mask;
      }
    }
  return L;
}

static void width_case(Shape s, const int *widths, int k) {
  const size_t n = shape_numel(s), nw = (size_t)k * s.n;
  float *x = rand_buf(n, -1, 1), *w = rand_buf(nw, 0, 1), *r = rand_buf(n, -1, 1), *y = nan_buf(n);
  WidthRef m = {s, k, widths, to_double(x, n), to_double(w, nw), to_double(r, n)};
  double *gx = fd_grad(width_objective, &m, m.x, n, 1e-3), *gw = fd_grad(width_objective, &m, m.w, nw, 1e-3);
  /* forward: sum(r * y) is the objective */
  CHECK(cpu_width_mask(x, s, widths, k, w, y));
  double L = 0.0, want = width_objective(&m);
  for (size_t i = 0; i < n; i++) L += (double)r[i] * y[i];
  CHECK(fabs(L - want) <= 1e-4 * (1 + fabs(want)));
  CHECK_BACKWARD("width dx", n, gx, LIN_TOL, CHECK(cpu_width_mask_backward(x, r, s, widths, k, w, dx, acc, NULL)));
  CHECK_PARAM_GRAD("width dw", nw, gw, LIN_TOL, CHECK(cpu_width_mask_backward(x, r, s, widths, k, w, NULL, false, dp)));
  free(x), free(w), free(r), free(y), free(m.x), free(m.w), free(m.r), free(gx), free(gw);
}

/* ---- softmax cross-entropy and argmax ---- */

typedef struct XentRef { Shape s; double *z; const unsigned char *lab; int ignore; } XentRef;

static double xent_objective(const void *ctx) {
  const XentRef *x = ctx;
  const size_t hw = (size_t)x->s.h * x->s.w;
  double loss = 0.0;
  long nv = 0;
  for (int n = 0; n < x->s.n; n++)
    for (size_t p = 0; p < hw; p++) {
      const int l = x->lab[n * hw + p];
      if (l == x->ignore) continue;
      double mx = -INFINITY, se = 0.0;
      for (int c = 0; c < x->s.c; c++) mx = fmax(mx, x->z[((size_t)n * x->s.c + c) * hw + p]);
      for (int c = 0; c < x->s.c; c++) se += exp(x->z[((size_t)n * x->s.c + c) * hw + p] - mx);
      loss += mx + log(se) - x->z[((size_t)n * x->s.c + l) * hw + p];
      nv++;
    }
  return nv ? loss / (double)nv : 0.0;
}

static unsigned char *rand_labels(size_t n, int C, int ignore, int ignore_pct) {
  unsigned char *l = malloc(n ? n : 1);
  if (!l) abort();
  for (size_t i = 0; i < n; i++)
    l[i] = (int)(rng_u32() % 100) < ignore_pct ? (unsigned char)ignore : (unsigned char)(rng_u32() % (uint32_t)C);
  return l;
}

static void xent_case(Shape s, float scale, int ignore_pct, bool fd) {
  const size_t n = shape_numel(s), npix = (size_t)s.n * s.h * s.w;
  float *z = rand_buf(n, -scale, scale), *d = nan_buf(n);
  unsigned char *lab = rand_labels(npix, s.c, 255, ignore_pct);
  XentRef ref = {s, to_double(z, n), lab, 255};
  long nv_ref = 0, nv = -1;
  for (size_t i = 0; i < npix; i++) nv_ref += lab[i] != 255;
  const double want = xent_objective(&ref);
  char what[128];
  snprintf(what, sizeof what, "softmax xent [%d,%d,%d,%d] scale %g ignore %d%%", s.n, s.c, s.h, s.w, scale, ignore_pct);
  const double loss = cpu_softmax_xent(z, s, lab, 255, d, &nv);
  CHECK_EQ_I64(nv, nv_ref);
  check_value(what, loss, want, 1e-6 * fabs(want) + 1e-7);
  check_value("xent loss without dlogits", cpu_softmax_xent(z, s, lab, 255, NULL, NULL), loss, 1e-12 * fabs(loss));
  double *g;
  if (fd) g = fd_grad(xent_objective, &ref, ref.z, n, 1e-4);
  else { /* the closed form in double */
    g = dbuf(n);
    const size_t hw = (size_t)s.h * s.w;
    for (size_t p = 0; p < npix; p++) {
      if (lab[p] == 255) continue;
      const size_t b = p / hw, q = p % hw;
      double mx = -INFINITY, se = 0.0;
      for (int c = 0; c < s.c; c++) mx = fmax(mx, ref.z[(b * s.c + c) * hw + q]);
      for (int c = 0; c < s.c; c++) se += exp(ref.z[(b * s.c + c) * hw + q] - mx);
      for (int c = 0; c < s.c; c++)
        g[(b * s.c + c) * hw + q] = (exp(ref.z[(b * s.c + c) * hw + q] - mx) / se - (c == lab[p])) / (double)nv_ref;
    }
  }
  check_rel(what, d, g, n, fd ? NLIN_TOL : 1e-5);
  free(z), free(d), free(lab), free(ref.z), free(g);
}

static void test_xent(void) {
  xent_case((Shape){2, 5, 3, 4}, 3, 25, true);
  xent_case((Shape){1, 3, 2, 2}, 2, 0, true);
  xent_case((Shape){2, 4, 5, 7}, 200, 20, false);   /* large logits: log-sum-exp must not overflow */
  /* every pixel ignored: loss 0, gradient 0 */
  const Shape s = {1, 3, 2, 3};
  float z[18], d[18];
  unsigned char lab[6];
  for (int i = 0; i < 18; i++) z[i] = (float)i, d[i] = NAN;
  memset(lab, 255, sizeof lab);
  long nv = -1;
  check_value("xent all ignored: loss", cpu_softmax_xent(z, s, lab, 255, d, &nv), 0.0, 0.0);
  CHECK_EQ_I64(nv, 0);
  int zeros = 0;
  for (int i = 0; i < 18; i++) zeros += d[i] == 0.0f;
  CHECK_EQ_I64(zeros, 18);
  /* a hand value: 2 classes, logits (0, ln 3) at one pixel, label 1: loss = ln(4/3); grad = (1/4, 3/4 - 1) */
  const float z2[2] = {0.0f, (float)log(3.0)};
  const unsigned char l2[1] = {1};
  float d2[2];
  check_value("xent hand loss", cpu_softmax_xent(z2, (Shape){1, 2, 1, 1}, l2, 255, d2, NULL), log(4.0 / 3.0), 1e-6);
  check_value("xent hand d0", d2[0], 0.25, 1e-6);
  check_value("xent hand d1", d2[1], -0.25, 1e-6);
}

static void test_argmax(void) {
  const Shape s = {2, 6, 5, 7};
  const size_t hw = 35, n = shape_numel(s);
  float *z = rand_buf(n, -1, 1);
  for (size_t p = 0; p < hw; p += 3) /* ties: channels 1 and 4 both at the max: the first (1) wins */
    for (size_t b = 0; b < 2; b++) z[(b * 6 + 1) * hw + p] = z[(b * 6 + 4) * hw + p] = 2.0f;
  z[(0 * 6 + 5) * hw + 1] = NAN; /* NaN counts as the max, as in torch.argmax */
  z[(1 * 6 + 2) * hw + 3] = NAN; /* also against a tie that follows it */
  unsigned char out[70];
  cpu_argmax_channels(z, s, out);
  int ok = 1;
  for (size_t b = 0; b < 2; b++)
    for (size_t p = 0; p < hw; p++) {
      int best = 0;
      for (int c = 1; c < 6; c++) {
        const float v = z[(b * 6 + c) * hw + p], bv = z[(b * 6 + best) * hw + p];
        if (!isnan(bv) && (isnan(v) || v > bv)) best = c;
      }
      ok &= out[b * hw + p] == best;
    }
  CHECK(ok);
  CHECK_EQ_I64(out[0 * hw + 3], 1);
  CHECK_EQ_I64(out[0 * hw + 1], 5);
  CHECK_EQ_I64(out[1 * hw + 3], 2);
  free(z);
}

/* ---- bench ---- */

/* the best of a few runs of fn, in ms */
#define BEST_MS(out, CALL)                    \
  do {                                        \
    CALL;                                     \
    out = 1e30;                               \
    for (int rep_ = 0; rep_ < 5; rep_++) {    \
      const double t0_ = now_s();             \
      CALL;                                   \
      const double t_ = (now_s() - t0_) * 1e3; \
      if (t_ < out) out = t_;                 \
    }                                         \
  } while (0)

static void bench_conv(const char *name, Shape xs, int cout, ConvParams p) {
  const Shape ys = {xs.n, cout, conv_out(xs.h, p.kh, p.sh, p.ph, p.dh), conv_out(xs.w, p.kw, p.sw, p.pw, p.dw)};
  const size_t nw = (size_t)cout * (xs.c / p.groups) * p.kh * p.kw;
  float *x = rand_buf(shape_numel(xs), -1, 1), *w = rand_buf(nw, -1, 1), *dy = rand_buf(shape_numel(ys), -1, 1);
  float *y = fbuf(shape_numel(ys)), *dx = fbuf(shape_numel(xs)), *dw = zero_buf(nw), *db = zero_buf((size_t)cout);
  const double gmac = (double)shape_numel(ys) * (xs.c / p.groups) * p.kh * p.kw * 1e-9;
  double fwd, data, weight;
  BEST_MS(fwd, cpu_conv2d(x, xs, w, NULL, &p, y, ys));
  BEST_MS(data, cpu_conv2d_backward_data(dy, ys, w, &p, dx, xs, false));
  BEST_MS(weight, cpu_conv2d_backward_weight(x, xs, dy, ys, &p, dw, db));
  printf("%-34s fwd %7.2f ms | data %7.2f ms  weight %7.2f ms  (%.3f GMAC each; data+weight %.1f GFLOP/s)\n", name, fwd,
         data, weight, gmac, 4 * gmac / ((data + weight) * 1e-3));
  free(x), free(w), free(dy), free(y), free(dx), free(dw), free(db);
}

static void bench(void) {
  bench_conv("1x1 96->16 @96x96 n2", (Shape){2, 96, 96, 96}, 16, (ConvParams)CP(1, 1, 1, 1, 0, 0, 1, 1, 1));
  bench_conv("1x1 16->96 @96x96 n2", (Shape){2, 16, 96, 96}, 96, (ConvParams)CP(1, 1, 1, 1, 0, 0, 1, 1, 1));
  bench_conv("1x1 24->144 @196x196 n2", (Shape){2, 24, 196, 196}, 144, (ConvParams)CP(1, 1, 1, 1, 0, 0, 1, 1, 1));
  bench_conv("1x1 144->24 @196x196 n2", (Shape){2, 144, 196, 196}, 24, (ConvParams)CP(1, 1, 1, 1, 0, 0, 1, 1, 1));
  bench_conv("dw 3x3 s1 96 @96x96 n2", (Shape){2, 96, 96, 96}, 96, (ConvParams)CP(3, 3, 1, 1, 1, 1, 1, 1, 96));
  bench_conv("dw 3x3 s2 96 @96x96 n2", (Shape){2, 96, 96, 96}, 96, (ConvParams)CP(3, 3, 2, 2, 1, 1, 1, 1, 96));
  bench_conv("dw 5x5 s1 144 @48x48 n2", (Shape){2, 144, 48, 48}, 144, (ConvParams)CP(5, 5, 1, 1, 2, 2, 1, 1, 144));
  bench_conv("dw 3x3 s1 48 @392x392 n2", (Shape){2, 48, 392, 392}, 48, (ConvParams)CP(3, 3, 1, 1, 1, 1, 1, 1, 48));
  bench_conv("dw 5x5 s1 96 @196x196 n2", (Shape){2, 96, 196, 196}, 96, (ConvParams)CP(5, 5, 1, 1, 2, 2, 1, 1, 96));
  bench_conv("dw 3x3 d2 s1 96 @98x98 n2", (Shape){2, 96, 98, 98}, 96, (ConvParams)CP(3, 3, 1, 1, 2, 2, 2, 2, 96));
  bench_conv("dw 3x3 s2 96 @392x392 n2", (Shape){2, 96, 392, 392}, 96, (ConvParams)CP(3, 3, 2, 2, 1, 1, 1, 1, 96));
  bench_conv("dw 5x5 s2 144 @196x196 n2", (Shape){2, 144, 196, 196}, 144, (ConvParams)CP(5, 5, 2, 2, 2, 2, 1, 1, 144));
  bench_conv("stem 3x3 s2 3->16 @384x384 n2", (Shape){2, 3, 384, 384}, 16, (ConvParams)CP(3, 3, 2, 2, 1, 1, 1, 1, 1));
  bench_conv("dense 3x3 32->32 @96x96 n2", (Shape){2, 32, 96, 96}, 32, (ConvParams)CP(3, 3, 1, 1, 1, 1, 1, 1, 1));
  bench_conv("ASPP 3x3 d6 g128 256->256 @24x24 n2", (Shape){2, 256, 24, 24}, 256, (ConvParams)CP(3, 3, 1, 1, 6, 6, 6, 6, 128));
}

/* ---- maxpool, gmp, pad, softmax, slice, channel_shuffle (spatial_ref.h) ---- */

typedef struct SpRef { const SpCase *c; double *x; const float *r; size_t ny; } SpRef;

static double sp_objective(const void *ctx) { /* sum(r * op(x)) */
  const SpRef *s = ctx;
  double *y = dbuf(s->ny), l = 0;
  sp_ref(s->c, s->x, y);
  for (size_t i = 0; i < s->ny; i++) l += s->r[i] * y[i];
  free(y);
  return l;
}

/* Inputs without ties (a shuffled ramp with steps of 0.01, far above eps), so the argmax never moves. */
static void test_spatial_fd(const SpCase *c) {
  const size_t nx = shape_numel(c->xs), ny = shape_numel(sp_out_shape(c));
  float *x = fbuf(nx), *y = fbuf(ny), *r = rand_buf(ny, -1, 1);
  for (size_t i = 0; i < nx; i++) x[i] = (float)((double)i * 0.01 - 0.3);
  for (size_t i = nx; i > 1; i--) {
    size_t j = rng_u32() % i;
    float t = x[i - 1];
    x[i - 1] = x[j], x[j] = t;
  }
  sp_run(c, x, y);
  SpRef ref = {c, to_double(x, nx), r, ny};
  double *g = fd_grad(sp_objective, &ref, ref.x, nx, 1e-3);
  char what[64];
  snprintf(what, sizeof what, "%s backward", sp_name(c));
  CHECK_BACKWARD(what, nx, g, c->kind == SP_SOFTMAX ? NLIN_TOL : LIN_TOL, sp_run_backward(c, x, y, r, dx, acc));
  free(x), free(y), free(r), free(g), free(ref.x);
}

/* Ties: PyTorch's CPU max_pool2d_backward sends each window's gradient to its first maximum in row-major
   order (`v > max || isnan(v)`); a constant input gives every window's gradient to its top-left tap. */
static void test_maxpool_ties(void) {
  const Shape xs = {1, 1, 4, 4}, ys = {1, 1, 2, 2};
  const ConvParams p = {3, 3, 2, 2, 1, 1, 1, 1, 1, 0}; /* windows start at -1: first taps (0,0), (0,1), (1,0), (1,1) */
  float x[16], dy[4] = {1, 2, 3, 4};
  for (int i = 0; i < 16; i++) x[i] = 0.5f;
  double want[16] = {0};
  want[0] = 1, want[1] = 2, want[4] = 3, want[5] = 4;
  CHECK_BACKWARD("maxpool backward, ties", 16, want, 0.0, cpu_maxpool_backward(x, xs, dy, ys, &p, dx, acc));
  x[10] = NAN; /* NaN wins its windows: the bottom-right one (taps (1..3, 1..3)) */
  double want_nan[16] = {0};
  want_nan[0] = 1, want_nan[1] = 2, want_nan[4] = 3, want_nan[10] = 4;
  CHECK_BACKWARD("maxpool backward, NaN", 16, want_nan, 0.0, cpu_maxpool_backward(x, xs, dy, ys, &p, dx, acc));
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--bench")) {
    if (argc > 2) cpu_set_threads(atoi(argv[2]));
    bench();
    return 0;
  }
  /* the finite-difference checks: small shapes, below the kernels' parallel thresholds */
  cpu_set_threads(1);
  test_conv_fd();
  test_bn_train();
  test_bn_running_stats();
  test_bn_eval();
  test_bn_act_fused();
  test_activations(1000);
  test_activation_kinks();
  test_broadcast();
  test_concat();
  test_crop();
  test_global_avgpool();
  test_avgpool();
  test_resize();
  mix_case((Shape){2, 3, 4, 5}, true);
  width_case((Shape){2, 6, 3, 4}, (const int[]){2, 4, 6}, 3);
  width_case((Shape){3, 5, 2, 3}, (const int[]){1, 5}, 2); /* the widest keeps every channel */
  test_xent();
  test_argmax();
  for (int i = 0; i < SP_NCASES; i++) test_spatial_fd(&sp_cases[i]);
  test_maxpool_ties();
  /* the big shapes: one thread, all cores, and 7 threads (other task splits; oversubscribed on small machines) */
  static const int thread_counts[] = {1, 0, 7};
  for (size_t t = 0; t < sizeof thread_counts / sizeof thread_counts[0]; t++) {
    cpu_set_threads(thread_counts[t]);
    test_conv_big();
    test_bn_big();
    test_activations(1 << 17);
    test_reduce_big();
    test_resize_big();
    mix_case((Shape){2, 16, 48, 50}, false);
    xent_case((Shape){2, 19, 40, 50}, 5, 10, false);
  }
  printf("worst relative L2 error of a passing gradient check: %.3g\n", worst_rel_err);
  return test_summary();
}
