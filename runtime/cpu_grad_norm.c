/* cpu_grad_norm.c - batch norm for training (runtime/cpu_grad.h): the training-mode forward (batch statistics,
 * running-stat update) and the backward in training and in eval (frozen) mode. One task per channel; the
 * per-channel sums are accumulated in double (PyTorch's CPU kernels accumulate in double too). */
#include "cpu_grad.h"

#include <math.h>
#include <string.h>
#ifdef _OPENMP
#define OMP(directive) _Pragma(#directive)
#else
#define OMP(directive)
#endif

enum { PAR_MIN = 1 << 15 }; /* elements below which a parallel region costs more than it saves */

/* sum over the n planes of channel c of x */
static double channel_sum(const float *x, TShape s, int c) {
  const size_t hw = (size_t)s.h * s.w;
  double sum = 0.0;
  for (int n = 0; n < s.n; n++) {
    const float *p = x + ((size_t)n * s.c + c) * hw;
    OMP(omp simd reduction(+ : sum))
    for (size_t i = 0; i < hw; i++) sum += p[i];
  }
  return sum;
}

/* sum over the n planes of channel c of (x - mean)^2 */
static double channel_sqdev(const float *x, TShape s, int c, double mean) {
  const size_t hw = (size_t)s.h * s.w;
  double sum = 0.0;
  for (int n = 0; n < s.n; n++) {
    const float *p = x + ((size_t)n * s.c + c) * hw;
    OMP(omp simd reduction(+ : sum))
    for (size_t i = 0; i < hw; i++) sum += ((double)p[i] - mean) * ((double)p[i] - mean);
  }
  return sum;
}

/* sums over channel c: *sdy = sum(dy), *sdyxmu = sum(dy * (x - mean)) */
static void channel_dy_sums(const float *x, const float *dy, TShape s, int c, double mean, double *sdy, double *sdyxmu) {
  const size_t hw = (size_t)s.h * s.w;
  double a = 0.0, b = 0.0;
  for (int n = 0; n < s.n; n++) {
    const size_t off = ((size_t)n * s.c + c) * hw;
    const float *xp = x + off, *dp = dy + off;
    OMP(omp simd reduction(+ : a, b))
    for (size_t i = 0; i < hw; i++) {
      a += dp[i];
      b += (double)dp[i] * ((double)xp[i] - mean);
    }
  }
  *sdy = a;
  *sdyxmu = b;
}

/* channel c of out (+)= (in * alpha + shift) for out = y or dx; in may equal out when !acc */
static void channel_affine(const float *in, TShape s, int c, float alpha, float shift, float *out, bool acc) {
  const size_t hw = (size_t)s.h * s.w;
  for (int n = 0; n < s.n; n++) {
    const size_t off = ((size_t)n * s.c + c) * hw;
    const float *ip = in + off;
    float *op = out + off;
    if (acc)
      for (size_t i = 0; i < hw; i++) op[i] += ip[i] * alpha + shift;
    else
      for (size_t i = 0; i < hw; i++) op[i] = ip[i] * alpha + shift;
  }
}

void cpu_batchnorm_train(const float *x, TShape s, const float *gamma, const float *beta, float *running_mean,
                         float *running_var, float momentum, float eps, float *y, float *save_mean, float *save_invstd) {
  const size_t m = (size_t)s.n * s.h * s.w;
  OMP(omp parallel for schedule(dynamic, 1) if (tshape_numel(s) > PAR_MIN))
  for (int c = 0; c < s.c; c++) {
    const double mean = m ? channel_sum(x, s, c) / (double)m : 0.0;
    const double var = m ? channel_sqdev(x, s, c, mean) / (double)m : 0.0;
    const double invstd = 1.0 / sqrt(var + (double)eps);
    save_mean[c] = (float)mean;
    save_invstd[c] = (float)invstd;
    if (running_mean) running_mean[c] = (float)((1.0 - momentum) * running_mean[c] + (double)momentum * mean);
    if (running_var) {
      const double unbiased = m > 1 ? var * (double)m / (double)(m - 1) : var;
      running_var[c] = (float)((1.0 - momentum) * running_var[c] + (double)momentum * unbiased);
    }
    /* as PyTorch: y = x * alpha + (beta - mean * alpha), alpha = invstd * gamma */
    const float alpha = (float)invstd * (gamma ? gamma[c] : 1.0f);
    const float shift = (beta ? beta[c] : 0.0f) - (float)mean * alpha;
    channel_affine(x, s, c, alpha, shift, y, false);
  }
}

void cpu_batchnorm_apply_saved(const float *x, TShape s, const float *gamma, const float *beta, const float *save_mean,
                               const float *save_invstd, float *y) {
  OMP(omp parallel for schedule(static) if (tshape_numel(s) > PAR_MIN))
  for (int c = 0; c < s.c; c++) {
    const float alpha = save_invstd[c] * (gamma ? gamma[c] : 1.0f);
    const float shift = (beta ? beta[c] : 0.0f) - save_mean[c] * alpha;
    channel_affine(x, s, c, alpha, shift, y, false);
  }
}

/* dx (+)= (dy - mean_dy - (x - mean) * k) * invstd * gamma per element of channel c; in may alias dx when !acc */
static void channel_bn_dx(const float *x, const float *dy, TShape s, int c, float mean, float mean_dy, float k,
                          float scale, float *dx, bool acc) {
  const size_t hw = (size_t)s.h * s.w;
  for (int n = 0; n < s.n; n++) {
    const size_t off = ((size_t)n * s.c + c) * hw;
    const float *xp = x + off, *dp = dy + off;
    float *op = dx + off;
    if (acc)
      for (size_t i = 0; i < hw; i++) op[i] += (dp[i] - mean_dy - (xp[i] - mean) * k) * scale;
    else
      for (size_t i = 0; i < hw; i++) op[i] = (dp[i] - mean_dy - (xp[i] - mean) * k) * scale;
  }
}

void cpu_batchnorm_backward(const float *x, const float *dy, TShape s, const float *gamma, const float *save_mean,
                            const float *save_invstd, float *dx, bool acc, float *dgamma, float *dbeta) {
  const size_t m = (size_t)s.n * s.h * s.w;
  OMP(omp parallel for schedule(dynamic, 1) if (tshape_numel(s) > PAR_MIN))
  for (int c = 0; c < s.c; c++) {
    const double mean = save_mean[c], invstd = save_invstd[c];
    double sdy, sdyxmu;
    channel_dy_sums(x, dy, s, c, mean, &sdy, &sdyxmu);
    if (dgamma) dgamma[c] += (float)(sdyxmu * invstd); /* sum(dy * xhat) */
    if (dbeta) dbeta[c] += (float)sdy;
    if (!dx || !m) continue;
    /* dx = gamma*invstd * (dy - sum(dy)/m - xhat * sum(dy*xhat)/m), as PyTorch's CPU kernel writes it */
    const float k = (float)(sdyxmu * invstd * invstd / (double)m), mean_dy = (float)(sdy / (double)m);
    const float scale = (float)invstd * (gamma ? gamma[c] : 1.0f);
    channel_bn_dx(x, dy, s, c, (float)mean, mean_dy, k, scale, dx, acc);
  }
}

void cpu_batchnorm_backward_eval(const float *x, const float *dy, TShape s, const float *gamma, const float *running_mean,
                                 const float *running_var, float eps, float *dx, bool acc, float *dgamma, float *dbeta) {
  OMP(omp parallel for schedule(dynamic, 1) if (tshape_numel(s) > PAR_MIN))
  for (int c = 0; c < s.c; c++) {
    const double invstd = 1.0 / sqrt((double)running_var[c] + (double)eps);
    if (dgamma || dbeta) {
      double sdy, sdyxmu;
      channel_dy_sums(x, dy, s, c, running_mean[c], &sdy, &sdyxmu);
      if (dgamma) dgamma[c] += (float)(sdyxmu * invstd);
      if (dbeta) dbeta[c] += (float)sdy;
    }
    if (dx) channel_affine(dy, s, c, (float)invstd * (gamma ? gamma[c] : 1.0f), 0.0f, dx, acc);
  }
}
