/* cpu_grad_norm.c - batch norm for training (runtime/cpu/cpu_grad.h): the training-mode forward (batch statistics,
 * running-stat update) and the backward in training and in eval (frozen) mode, each optionally fused with the
 * ReLU/ReLU6 the BN feeds (one pass over memory instead of two or three); SyncBN variants sum the per-channel
 * statistics over the ranks of a data-parallel run. One task per channel; the
 * per-channel sums are accumulated in double (PyTorch's CPU kernels accumulate in double too). */
#include "cpu_dsum.h"
#include "cpu_grad.h"
#include "cpu_mask.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "omp_pragma.h"

enum { PAR_MIN = 1 << 15 }; /* elements below which a parallel region costs more than it saves */

/* the activation a BN feeds alone, applied in the same pass (CONV_ACT_NONE, _RELU, _RELU6 of cpu_ops.h) */
static inline float act_apply(float v, bool relu, bool six) {
  v = relu && v < 0.0f ? 0.0f : v; /* NaN passes, as in PyTorch */
  return six && v > 6.0f ? 6.0f : v;
}

/* the activation's backward from its input v: dz where ReLU passes (v > 0, and v < hi = 6 for ReLU6; hi is
   NaN for ReLU, which no comparison reaches) */
static inline float act_keep(float dz, float v, float hi) { return keep_if(!(v <= 0.0f) & !(v >= hi), dz); }

/* Per-channel sums are accumulated in double (cpu_dsum.h), as PyTorch's CPU kernels do: a data-parallel run's
   statistics then round to the same floats as one process's, which float sums do not (one ulp in a saved mean flips
   ReLU masks in the deep layers of a small batch; test_dist_threads and dist_mpi see it). */
typedef int32_t v8i __attribute__((vector_size(32)));

/* sum and sum of squares over the n planes of channel c of x, in double (one pass) */
static void channel_moments(const float *x, Shape s, int c, double *sum, double *sumsq) {
  const size_t hw = (size_t)s.h * s.w;
  Sum4 a = {{{0}}}, b = {{{0}}};
  double at = 0.0, bt = 0.0;
  for (int n = 0; n < s.n; n++) {
    const float *p = x + ((size_t)n * s.c + c) * hw;
    size_t i = 0;
    for (; i + 16 <= hw; i += 16) {
      v4d d[4];
      widen16(p + i, d);
      for (int k = 0; k < 4; k++) a.s[k] += d[k], b.s[k] += d[k] * d[k];
    }
    for (; i < hw; i++) {
      at += p[i];
      bt += (double)p[i] * p[i];
    }
  }
  *sum = at + sum4_total(&a), *sumsq = bt + sum4_total(&b);
}

/* Channel c's affine map y = x * alpha + shift from the saved statistics, as PyTorch writes it: alpha =
   invstd * gamma, shift = beta - mean * alpha. The one place these are computed, so that the forward, the
   recomputation and the backward's activation mask see the same floats bit for bit. */
static void bn_coeffs(int c, const float *gamma, const float *beta, const float *mean, const float *invstd,
                      float *alpha, float *shift) {
  *alpha = invstd[c] * (gamma ? gamma[c] : 1.0f);
  *shift = (beta ? beta[c] : 0.0f) - mean[c] * *alpha;
}

/* The ReLU/ReLU6 after the BN, seen from the BN's backward: dy = act_keep(dz, x * alpha + shift, hi), the
   pre-activation recomputed from x with the forward pass's own arithmetic (so no mask or output is read). */
typedef struct ActMask {
  bool on;
  float alpha, shift, hi;
} ActMask;

static ActMask act_mask(int act, int c, const float *gamma, const float *beta, const float *mean, const float *invstd) {
  ActMask m = {act != CONV_ACT_NONE, 0.0f, 0.0f, act == CONV_ACT_RELU6 ? 6.0f : NAN};
  if (m.on) bn_coeffs(c, gamma, beta, mean, invstd, &m.alpha, &m.shift);
  return m;
}

/* dz at p masked by the activation on sixteen lanes, as act_keep (the pre-activation x * alpha + shift rounded as the
   forward's channel_affine rounds it) */
static inline void act_keep16(const float *dz, const float *x, const ActMask *am, float *out) {
  for (int h = 0; h < 2; h++) {
    const v8 v = *(const v8u *)(x + 8 * h) * am->alpha + am->shift;
    const v8i pass = ~(v <= 0.0f) & ~(v >= am->hi);
    const v8 d = *(const v8u *)(dz + 8 * h);
    *(v8u *)(out + 8 * h) = (v8)((v8i)d & pass);
  }
}

/* sums over channel c: *sdy = sum(dy), *sdyxmu = sum(dy * (x - mean)), dy = dz masked by the activation (in double,
   four vector sums each as channel_moments) */
static void channel_dy_sums(const float *x, const float *dz, ActMask am, Shape s, int c, double mean, double *sdy,
                            double *sdyxmu) {
  const size_t hw = (size_t)s.h * s.w;
  Sum4 a = {{{0}}}, b = {{{0}}};
  double at = 0.0, bt = 0.0;
  for (int n = 0; n < s.n; n++) {
    const size_t off = ((size_t)n * s.c + c) * hw;
    const float *xp = x + off, *dp = dz + off;
    size_t i = 0;
    for (; i + 16 <= hw; i += 16) {
      float masked[16];
      if (am.on) act_keep16(dp + i, xp + i, &am, masked);
      v4d d[4], xd[4];
      widen16(am.on ? masked : dp + i, d);
      widen16(xp + i, xd);
      for (int k = 0; k < 4; k++) a.s[k] += d[k], b.s[k] += d[k] * (xd[k] - mean);
    }
    for (; i < hw; i++) {
      const float d = am.on ? act_keep(dp[i], xp[i] * am.alpha + am.shift, am.hi) : dp[i];
      at += d;
      bt += (double)d * ((double)xp[i] - mean);
    }
  }
  *sdy = at + sum4_total(&a);
  *sdyxmu = bt + sum4_total(&b);
}

/* channel c of out (+)= act(in * alpha + shift) for out = y or dx; in may equal out when !acc */
static void channel_affine(const float *in, Shape s, int c, float alpha, float shift, int act, float *out, bool acc) {
  const size_t hw = (size_t)s.h * s.w;
  const bool relu = act != CONV_ACT_NONE, six = act == CONV_ACT_RELU6;
  for (int n = 0; n < s.n; n++) {
    const size_t off = ((size_t)n * s.c + c) * hw;
    const float *ip = in + off;
    float *op = out + off;
    if (acc)
      for (size_t i = 0; i < hw; i++) op[i] += ip[i] * alpha + shift;
    else if (relu)
      for (size_t i = 0; i < hw; i++) op[i] = act_apply(ip[i] * alpha + shift, true, six);
    else
      for (size_t i = 0; i < hw; i++) op[i] = ip[i] * alpha + shift;
  }
}

/* Channel c's batch statistics from its sum and sum of squares over m values: the saved mean and 1/std, and the
   running statistics' update (each skipped where NULL). */
static void channel_stats(int c, double sum, double sumsq, double m, float momentum, float eps, float *running_mean,
                          float *running_var, float *save_mean, float *save_invstd) {
  const double mean = m > 0 ? sum / m : 0.0;
  const double sq = m > 0 ? sumsq / m - mean * mean : 0.0, var = sq > 0.0 ? sq : 0.0;
  const double invstd = 1.0 / sqrt(var + (double)eps);
  save_mean[c] = (float)mean;
  save_invstd[c] = (float)invstd;
  if (running_mean) running_mean[c] = (float)((1.0 - momentum) * running_mean[c] + (double)momentum * mean);
  if (running_var) {
    const double unbiased = m > 1 ? var * m / (m - 1) : var;
    running_var[c] = (float)((1.0 - momentum) * running_var[c] + (double)momentum * unbiased);
  }
}

void cpu_batchnorm_train_act(const float *x, Shape s, const float *gamma, const float *beta, float *running_mean,
                             float *running_var, float momentum, float eps, int act, float *y, float *save_mean,
                             float *save_invstd) {
  const size_t m = (size_t)s.n * s.h * s.w;
  OMP(omp parallel for schedule(dynamic, 1) if (shape_numel(s) > PAR_MIN))
  for (int c = 0; c < s.c; c++) {
    double sum = 0.0, sumsq = 0.0;
    if (m) channel_moments(x, s, c, &sum, &sumsq);
    channel_stats(c, sum, sumsq, (double)m, momentum, eps, running_mean, running_var, save_mean, save_invstd);
    float alpha, shift;
    bn_coeffs(c, gamma, beta, save_mean, save_invstd, &alpha, &shift);
    channel_affine(x, s, c, alpha, shift, act, y, false);
  }
}

void cpu_batchnorm_train(const float *x, Shape s, const float *gamma, const float *beta, float *running_mean,
                         float *running_var, float momentum, float eps, float *y, float *save_mean, float *save_invstd) {
  cpu_batchnorm_train_act(x, s, gamma, beta, running_mean, running_var, momentum, eps, CONV_ACT_NONE, y, save_mean,
                          save_invstd);
}

void cpu_batchnorm_apply_saved_act(const float *x, Shape s, const float *gamma, const float *beta,
                                   const float *save_mean, const float *save_invstd, int act, float *y) {
  OMP(omp parallel for schedule(static) if (shape_numel(s) > PAR_MIN))
  for (int c = 0; c < s.c; c++) {
    float alpha, shift;
    bn_coeffs(c, gamma, beta, save_mean, save_invstd, &alpha, &shift);
    channel_affine(x, s, c, alpha, shift, act, y, false);
  }
}

void cpu_batchnorm_apply_saved(const float *x, Shape s, const float *gamma, const float *beta, const float *save_mean,
                               const float *save_invstd, float *y) {
  cpu_batchnorm_apply_saved_act(x, s, gamma, beta, save_mean, save_invstd, CONV_ACT_NONE, y);
}

/* dx (+)= (dy - mean_dy - (x - mean) * k) * scale per element of channel c, dy = dz masked by the activation;
   dz may alias dx when !acc (each element is read before it is written) */
static void channel_bn_dx(const float *x, const float *dz, ActMask am, Shape s, int c, float mean, float mean_dy,
                          float k, float scale, float *dx, bool acc) {
  const size_t hw = (size_t)s.h * s.w;
  const float al = am.alpha, sh = am.shift, hi = am.hi;
  for (int n = 0; n < s.n; n++) {
    const size_t off = ((size_t)n * s.c + c) * hw;
    const float *xp = x + off, *dp = dz + off;
    float *op = dx + off;
    if (am.on && acc)
      for (size_t i = 0; i < hw; i++) op[i] += (act_keep(dp[i], xp[i] * al + sh, hi) - mean_dy - (xp[i] - mean) * k) * scale;
    else if (am.on)
      for (size_t i = 0; i < hw; i++) op[i] = (act_keep(dp[i], xp[i] * al + sh, hi) - mean_dy - (xp[i] - mean) * k) * scale;
    else if (acc)
      for (size_t i = 0; i < hw; i++) op[i] += (dp[i] - mean_dy - (xp[i] - mean) * k) * scale;
    else
      for (size_t i = 0; i < hw; i++) op[i] = (dp[i] - mean_dy - (xp[i] - mean) * k) * scale;
  }
}

/* channel c of dx from the sums over its m values (batch-wide, over every rank with SyncBN):
   dx = gamma*invstd * (dy - sum(dy)/m - xhat * sum(dy*xhat)/m), as PyTorch's CPU kernel writes it */
static void channel_dx(const float *x, const float *dz, ActMask am, Shape s, int c, const float *gamma,
                       const float *save_mean, const float *save_invstd, double sdy, double sdyxmu, double m, float *dx,
                       bool acc) {
  const double invstd = save_invstd[c];
  const float k = (float)(sdyxmu * invstd * invstd / m), mean_dy = (float)(sdy / m);
  const float scale = (float)invstd * (gamma ? gamma[c] : 1.0f);
  channel_bn_dx(x, dz, am, s, c, save_mean[c], mean_dy, k, scale, dx, acc);
}

void cpu_batchnorm_backward_act(const float *x, const float *dz, int act, Shape s, const float *gamma, const float *beta,
                                const float *save_mean, const float *save_invstd, float *dx, bool acc, float *dgamma,
                                float *dbeta) {
  const size_t m = (size_t)s.n * s.h * s.w;
  OMP(omp parallel for schedule(dynamic, 1) if (shape_numel(s) > PAR_MIN))
  for (int c = 0; c < s.c; c++) {
    const double mean = save_mean[c], invstd = save_invstd[c];
    const ActMask am = act_mask(act, c, gamma, beta, save_mean, save_invstd);
    double sdy, sdyxmu;
    channel_dy_sums(x, dz, am, s, c, mean, &sdy, &sdyxmu);
    if (dgamma) dgamma[c] += (float)(sdyxmu * invstd); /* sum(dy * xhat) */
    if (dbeta) dbeta[c] += (float)sdy;
    if (dx && m) channel_dx(x, dz, am, s, c, gamma, save_mean, save_invstd, sdy, sdyxmu, (double)m, dx, acc);
  }
}

void cpu_batchnorm_backward(const float *x, const float *dy, Shape s, const float *gamma, const float *save_mean,
                            const float *save_invstd, float *dx, bool acc, float *dgamma, float *dbeta) {
  cpu_batchnorm_backward_act(x, dy, CONV_ACT_NONE, s, gamma, NULL, save_mean, save_invstd, dx, acc, dgamma, dbeta);
}

void cpu_batchnorm_backward_eval(const float *x, const float *dy, Shape s, const float *gamma, const float *running_mean,
                                 const float *running_var, float eps, float *dx, bool acc, float *dgamma, float *dbeta) {
  OMP(omp parallel for schedule(dynamic, 1) if (shape_numel(s) > PAR_MIN))
  for (int c = 0; c < s.c; c++) {
    const double invstd = 1.0 / sqrt((double)running_var[c] + (double)eps);
    if (dgamma || dbeta) {
      double sdy, sdyxmu;
      channel_dy_sums(x, dy, (ActMask){0}, s, c, running_mean[c], &sdy, &sdyxmu);
      if (dgamma) dgamma[c] += (float)(sdyxmu * invstd);
      if (dbeta) dbeta[c] += (float)sdy;
    }
    if (dx) channel_affine(dy, s, c, (float)invstd * (gamma ? gamma[c] : 1.0f), 0.0f, CONV_ACT_NONE, dx, acc);
  }
}

/* ---- SyncBN: the same with the per-channel sums added up over every rank by `sum` (cpu_grad.h) ---- */

bool cpu_batchnorm_train_sync(const float *x, Shape s, const float *gamma, const float *beta, float *running_mean,
                              float *running_var, float momentum, float eps, int act, float *y, float *save_mean,
                              float *save_invstd, CpuSum sum) {
  double *acc = malloc(sizeof *acc * (2 * (size_t)s.c + 1));
  if (!acc) return false;
  OMP(omp parallel for schedule(dynamic, 1) if (shape_numel(s) > PAR_MIN))
  for (int c = 0; c < s.c; c++) channel_moments(x, s, c, &acc[2 * c], &acc[2 * c + 1]);
  acc[2 * s.c] = (double)s.n * s.h * s.w;
  sum(acc, 2 * (size_t)s.c + 1);
  OMP(omp parallel for schedule(dynamic, 1) if (shape_numel(s) > PAR_MIN))
  for (int c = 0; c < s.c; c++) {
    channel_stats(c, acc[2 * c], acc[2 * c + 1], acc[2 * s.c], momentum, eps, running_mean, running_var, save_mean,
                  save_invstd);
    float alpha, shift;
    bn_coeffs(c, gamma, beta, save_mean, save_invstd, &alpha, &shift);
    channel_affine(x, s, c, alpha, shift, act, y, false);
  }
  free(acc);
  return true;
}

bool cpu_batchnorm_backward_sync(const float *x, const float *dz, int act, Shape s, const float *gamma, const float *beta,
                                 const float *save_mean, const float *save_invstd, float *dx, bool acc, float *dgamma,
                                 float *dbeta, CpuSum sum) {
  double *t = malloc(sizeof *t * (2 * (size_t)s.c + 1));
  if (!t) return false;
  OMP(omp parallel for schedule(dynamic, 1) if (shape_numel(s) > PAR_MIN))
  for (int c = 0; c < s.c; c++) {
    const ActMask am = act_mask(act, c, gamma, beta, save_mean, save_invstd);
    channel_dy_sums(x, dz, am, s, c, save_mean[c], &t[2 * c], &t[2 * c + 1]);
    if (dgamma) dgamma[c] += (float)(t[2 * c + 1] * save_invstd[c]); /* this rank's part: summed with the others' */
    if (dbeta) dbeta[c] += (float)t[2 * c];
  }
  t[2 * s.c] = (double)s.n * s.h * s.w;
  sum(t, 2 * (size_t)s.c + 1);
  OMP(omp parallel for schedule(dynamic, 1) if (shape_numel(s) > PAR_MIN))
  for (int c = 0; c < s.c; c++) {
    const ActMask am = act_mask(act, c, gamma, beta, save_mean, save_invstd);
    if (dx && t[2 * s.c] > 0) channel_dx(x, dz, am, s, c, gamma, save_mean, save_invstd, t[2 * c], t[2 * c + 1], t[2 * s.c], dx, acc);
  }
  free(t);
  return true;
}
