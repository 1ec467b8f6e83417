/* cpu_eltwise.c - elementwise CPU ops: inference batchnorm, the activations, affine (a*x + b), broadcast add/sub/mul,
 * channel concat, the superblock mixture, and the thread count. y may equal x (in place) for all of them
 * except concat. Float arithmetic in PyTorch's order (BN: x * alpha + beta with alpha = gamma / sqrt(var + eps)). */
#include "cpu_ops.h"

#include <math.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "omp_pragma.h"
#if defined(SQN_HAVE_CBLAS) && defined(SQN_HAVE_OPENBLAS_THREADS)
#include <cblas.h>
#endif

enum { PAR_MIN = 1 << 15 }; /* elements below which a parallel region costs more than it saves */

void cpu_set_threads(int n) {
#ifdef _OPENMP
  omp_set_num_threads(n > 0 ? n : omp_get_num_procs());
#elif defined(SQN_HAVE_CBLAS) && defined(SQN_HAVE_OPENBLAS_THREADS)
  if (n > 0) openblas_set_num_threads(n); /* no OpenMP: sgemm is the only parallel part */
#else
  (void)n;
#endif
}

void cpu_batchnorm_infer(const float *x, Shape s, const float *gamma, const float *beta, const float *mean,
                         const float *var, float eps, float *y) {
  const size_t hw = (size_t)s.h * s.w;
  OMP(omp parallel for schedule(static) if (shape_numel(s) > PAR_MIN))
  for (long pl = 0; pl < (long)s.n * s.c; pl++) {
    const int c = (int)(pl % s.c);
    const float invstd = 1.0f / sqrtf(var[c] + eps);
    const float alpha = invstd * (gamma ? gamma[c] : 1.0f);
    const float b = (beta ? beta[c] : 0.0f) - mean[c] * alpha;
    const float *xp = x + (size_t)pl * hw;
    float *yp = y + (size_t)pl * hw;
    for (size_t i = 0; i < hw; i++) yp[i] = xp[i] * alpha + b;
  }
}

/* NaN passes through all of these, as in PyTorch (relu is clamp_min, relu6 is hardtanh). */
void cpu_relu(const float *x, size_t n, float *y) {
  OMP(omp parallel for schedule(static) if (n > PAR_MIN))
  for (size_t i = 0; i < n; i++) y[i] = x[i] < 0.0f ? 0.0f : x[i];
}

void cpu_relu6(const float *x, size_t n, float *y) {
  OMP(omp parallel for schedule(static) if (n > PAR_MIN))
  for (size_t i = 0; i < n; i++) {
    const float v = x[i];
    y[i] = v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v);
  }
}

void cpu_sigmoid(const float *x, size_t n, float *y) {
  OMP(omp parallel for schedule(static) if (n > PAR_MIN / 4))
  for (size_t i = 0; i < n; i++) y[i] = 1.0f / (1.0f + expf(-x[i]));
}

void cpu_hswish(const float *x, size_t n, float *y) {
  OMP(omp parallel for schedule(static) if (n > PAR_MIN))
  for (size_t i = 0; i < n; i++) {
    const float v = x[i], t = v + 3.0f;
    y[i] = v * (t < 0.0f ? 0.0f : (t > 6.0f ? 6.0f : t)) / 6.0f;
  }
}

void cpu_silu(const float *x, size_t n, float *y) {
  OMP(omp parallel for schedule(static) if (n > PAR_MIN / 4))
  for (size_t i = 0; i < n; i++) y[i] = x[i] / (1.0f + expf(-x[i]));
}

void cpu_hsigmoid(const float *x, size_t n, float *y) {
  OMP(omp parallel for schedule(static) if (n > PAR_MIN))
  for (size_t i = 0; i < n; i++) {
    const float t = x[i] + 3.0f;
    y[i] = (t < 0.0f ? 0.0f : (t > 6.0f ? 6.0f : t)) / 6.0f;
  }
}

void cpu_tanh(const float *x, size_t n, float *y) {
  OMP(omp parallel for schedule(static) if (n > PAR_MIN / 4))
  for (size_t i = 0; i < n; i++) y[i] = tanhf(x[i]);
}

void cpu_leaky_relu(const float *x, size_t n, float slope, float *y) {
  OMP(omp parallel for schedule(static) if (n > PAR_MIN))
  for (size_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : x[i] * slope;
}

void cpu_affine(const float *x, size_t n, float a, float b, float *y) {
  OMP(omp parallel for schedule(static) if (n > PAR_MIN))
  for (size_t i = 0; i < n; i++) y[i] = a * x[i] + b;
}

enum { BIN_ADD, BIN_SUB, BIN_MUL };
/* the compiler unswitches the loops below on the constant op */
static inline float apply(int op, float a, float b) { return op == BIN_MUL ? a * b : op == BIN_SUB ? a - b : a + b; }

static void binop(const float *a, Shape as, const float *b, Shape bs, float *y, Shape ys, int op) {
  const size_t total = shape_numel(ys);
  if (as.n == ys.n && as.c == ys.c && as.h == ys.h && as.w == ys.w && bs.n == ys.n && bs.c == ys.c &&
      bs.h == ys.h && bs.w == ys.w) {
    OMP(omp parallel for schedule(static) if (total > PAR_MIN))
    for (size_t i = 0; i < total; i++) y[i] = apply(op, a[i], b[i]);
    return;
  }
  /* broadcast: a size-1 dim of an input is read at index 0 for every output index */
  const int W = ys.w;
  const size_t asw = as.w == 1 ? 0 : 1, bsw = bs.w == 1 ? 0 : 1;
  OMP(omp parallel for schedule(static) if (total > PAR_MIN))
  for (long pl = 0; pl < (long)ys.n * ys.c; pl++) {
    const int n = (int)(pl / ys.c), c = (int)(pl % ys.c);
    const float *ap = a + ((size_t)(as.n == 1 ? 0 : n) * as.c + (as.c == 1 ? 0 : c)) * as.h * as.w;
    const float *bp = b + ((size_t)(bs.n == 1 ? 0 : n) * bs.c + (bs.c == 1 ? 0 : c)) * bs.h * bs.w;
    for (int h = 0; h < ys.h; h++) {
      const float *ar = ap + (size_t)(as.h == 1 ? 0 : h) * as.w;
      const float *br = bp + (size_t)(bs.h == 1 ? 0 : h) * bs.w;
      float *yr = y + ((size_t)pl * ys.h + h) * W;
      for (int i = 0; i < W; i++) yr[i] = apply(op, ar[(size_t)i * asw], br[(size_t)i * bsw]);
    }
  }
}

void cpu_add(const float *a, Shape as, const float *b, Shape bs, float *y, Shape ys) { binop(a, as, b, bs, y, ys, BIN_ADD); }
void cpu_sub(const float *a, Shape as, const float *b, Shape bs, float *y, Shape ys) { binop(a, as, b, bs, y, ys, BIN_SUB); }
void cpu_mul(const float *a, Shape as, const float *b, Shape bs, float *y, Shape ys) { binop(a, as, b, bs, y, ys, BIN_MUL); }

void cpu_concat(const float *const *xs, const Shape *shapes, int n, float *y, Shape ys) {
  const size_t hw = (size_t)ys.h * ys.w;
  for (int b = 0; b < ys.n; b++) {
    size_t coff = 0;
    for (int i = 0; i < n; i++) {
      const size_t len = (size_t)shapes[i].c * hw;
      if (len) memcpy(y + ((size_t)b * ys.c + coff) * hw, xs[i] + (size_t)b * len, len * sizeof(float));
      coff += (size_t)shapes[i].c;
    }
  }
}

