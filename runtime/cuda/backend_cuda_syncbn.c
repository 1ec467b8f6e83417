/* backend_cuda_syncbn.c - SyncBN on the CUDA backend: in a data-parallel run (BackendTrain.bn_sum set) batch norm
   in training mode uses the statistics of the global batch, and its backward the global sums, as the CPU backend's
   cpu_batchnorm_train_sync / cpu_batchnorm_backward_sync do. cuDNN computes this rank's part: the per-channel mean
   and 1/std of its training forward (turned into the sums m*mean and m*(var + mean^2)), and the sums of dy and
   dy*xhat of its backward given the global statistics. Those few floats per channel come to the host, bn_sum adds
   them up over the ranks (doubles), and the result goes back as per-channel affine maps that cuDNN applies:
     forward   y  = gamma * (x - mean) / sqrt(var + eps) + beta        (cudnnBatchNormalizationForwardInference)
     backward  dx = A * dy + B * x + C, A = gamma * invstd, B = -A * k, C = A * (k * mean - sum(dy) / M),
               k = sum(dy * xhat) * invstd / M                          (cudnnOpTensor, cudnnAddTensor)
   M being the global number of values per channel. Each rank adds only its own dgamma, dbeta to the parameter
   gradients: the gradient all-reduce adds the others'. Each BN layer waits for the device twice or three times
   (the small transfers); that is the price of SyncBN here. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "backend_cuda_train.h"

/* The device and host buffers, allocated on first use: device [6m] (var, A, B, C, dgamma, dbeta), host [5m] floats
   and [2m + 1] doubles. */
static bool buffers(CudaState *x) {
  CudaTrain *c = x->train;
  if (c->sync) return true;
  const size_t m = (size_t)c->maxc;
  void *dev = NULL;
  if (!cuda_check(x, cudaMalloc(&dev, 6 * m * sizeof(float)), "cudaMalloc (SyncBN's per-channel buffers)")) return false;
  c->sync = dev;
  c->sync_hf = malloc(5 * m * sizeof *c->sync_hf);
  c->sync_sum = malloc((2 * m + 1) * sizeof *c->sync_sum);
  return (c->sync_hf && c->sync_sum) || cuda_train_fail(x, "out of memory for SyncBN's per-channel buffers");
}

static bool down(CudaState *x, float *host, const float *dev, size_t floats) {
  return cuda_check(x, cudaMemcpyAsync(host, dev, floats * sizeof *host, cudaMemcpyDeviceToHost, x->stream),
                    "SyncBN: copying statistics from the GPU") &&
         cuda_check(x, cudaStreamSynchronize(x->stream), "SyncBN: the GPU failed");
}

static bool up(CudaState *x, float *dev, const float *host, size_t floats) {
  return cuda_check(x, cudaMemcpyAsync(dev, host, floats * sizeof *host, cudaMemcpyHostToDevice, x->stream),
                    "SyncBN: copying statistics to the GPU");
}

/* The running statistics moved towards the global batch's (hf: [mean | invstd | var], C each; rm, rv staged after). */
static bool update_running(CudaState *x, const BackendTrain *t, const PlanNode *nd, int C, double M) {
  float *hf = x->train->sync_hf, *rm = t->param_rw[nd->param[2]], *rv = t->param_rw[nd->param[3]];
  float *hm = hf + 3 * (size_t)C, *hv = hf + 4 * (size_t)C;
  if (!down(x, hm, rm, (size_t)C) || !down(x, hv, rv, (size_t)C)) return false;
  const double mom = t->bn_momentum;
  for (int c = 0; c < C; c++) {
    const double var = hf[2 * C + c], unbiased = M > 1 ? var * M / (M - 1) : var;
    hm[c] = (float)((1.0 - mom) * hm[c] + mom * hf[c]);
    hv[c] = (float)((1.0 - mom) * hv[c] + mom * unbiased);
  }
  return up(x, rm, hm, (size_t)C) && up(x, rv, hv, (size_t)C);
}

bool cuda_syncbn_forward(CudaState *x, const BackendTrain *t, const PlanNode *nd, const float *in, float *out) {
  const BackendRun *r = &t->run;
  const ConvDims s = cuda_train_dims(r, nd->id);
  const int C = s.c;
  CudaTrain *ct = x->train;
  float *save = t->bn_save[nd->id];
  const float *g = r->param[nd->param[0]], *b = r->param[nd->param[1]];
  /* this rank's moments (its output is replaced below; the running statistics are left alone) */
  if (!buffers(x) || !cuda_dnn_bn_train(ct->dnn, in, s, g, b, NULL, NULL, 0.0, out, save, save + C, x->error,
                                        sizeof x->error) ||
      !down(x, ct->sync_hf, save, 2 * (size_t)C))
    return false;
  float *hf = ct->sync_hf;
  double *sum = ct->sync_sum;
  const double m = (double)s.n * s.h * s.w;
  for (int c = 0; c < C; c++) {
    const double mean = hf[c], is = hf[C + c], v = is > 0 ? 1.0 / (is * is) - CUDA_DNN_BN_EPS : 0.0;
    sum[2 * c] = m * mean, sum[2 * c + 1] = m * ((v > 0 ? v : 0.0) + mean * mean);
  }
  sum[2 * C] = m;
  t->bn_sum(sum, 2 * (size_t)C + 1);
  const double M = sum[2 * C];
  for (int c = 0; c < C; c++) { /* cpu_grad_norm.c channel_stats */
    const double mean = M > 0 ? sum[2 * c] / M : 0.0, sq = M > 0 ? sum[2 * c + 1] / M - mean * mean : 0.0;
    const double var = sq > 0 ? sq : 0.0;
    hf[c] = (float)mean, hf[C + c] = (float)(1.0 / sqrt(var + CUDA_DNN_BN_EPS)), hf[2 * C + c] = (float)var;
  }
  if (!t->bn_keep_running && !update_running(x, t, nd, C, M)) return false;
  return up(x, save, hf, 2 * (size_t)C) && up(x, ct->sync, hf + 2 * (size_t)C, (size_t)C) &&
         cuda_dnn_bn_infer(ct->dnn, in, s, g, b, save, ct->sync, out, false, x->error, sizeof x->error);
}

/* dx = (acc: dx +) A * dy + B * x + C (per channel, on the device at ct->sync + C, 2C, 3C). */
static bool apply_dx(CudaState *x, const BackendTrain *t, const PlanNode *nd, float *dx, bool acc) {
  const BackendRun *r = &t->run;
  const ConvDims d = cuda_train_dims(r, nd->id), ch = {1, d.c, 1, 1};
  const float *dy = t->grad[nd->id], *in = r->buf[nd->inputs[0]], *abc = x->train->sync + d.c;
  float *out = dx == dy ? t->scratch : dx; /* in place (never when accumulating): via scratch */
  CudaDnn *dnn = x->train->dnn;
  if (!cuda_dnn_mul_channels(dnn, dy, d, abc, out, acc, x->error, sizeof x->error) ||
      !cuda_dnn_mul_channels(dnn, in, d, abc + d.c, out, true, x->error, sizeof x->error) ||
      !cuda_dnn_broadcast(dnn, abc + 2 * (size_t)d.c, ch, out, d, true, 1.0f, x->error, sizeof x->error))
    return false;
  const size_t bytes = sizeof(float) * (size_t)d.n * d.c * d.h * d.w;
  return out == dx || cuda_check(x, cudaMemcpyAsync(dx, out, bytes, cudaMemcpyDeviceToDevice, x->stream), "cudaMemcpyAsync");
}

bool cuda_syncbn_backward(CudaState *x, const BackendTrain *t, const PlanNode *nd, float *dx, bool acc, float *dg,
                          float *db) {
  const BackendRun *r = &t->run;
  const ConvDims d = cuda_train_dims(r, nd->id), ch = {1, d.c, 1, 1};
  const int C = d.c;
  CudaTrain *ct = x->train;
  const float *save = t->bn_save[nd->id], *dy = t->grad[nd->id], *gamma = r->param[nd->param[0]];
  if (!buffers(x)) return false;
  float *ldg = ct->sync + 4 * (size_t)C, *ldb = ct->sync + 5 * (size_t)C;
  /* this rank's sum(dy * xhat), sum(dy) with the global statistics (cuDNN's dx, which would use this rank's sums,
     goes to the scratch buffer), and into the parameter gradients */
  if (!cuda_check(x, cudaMemsetAsync(ldg, 0, 2 * (size_t)C * sizeof *ldg, x->stream), "cudaMemsetAsync") ||
      !cuda_dnn_bn_backward(ct->dnn, r->buf[nd->inputs[0]], dy, d, gamma, save, save + C, t->scratch, false, ldg, ldb,
                            x->error, sizeof x->error) ||
      !cuda_dnn_broadcast(ct->dnn, ldg, ch, dg, ch, true, 1.0f, x->error, sizeof x->error) ||
      !cuda_dnn_broadcast(ct->dnn, ldb, ch, db, ch, true, 1.0f, x->error, sizeof x->error))
    return false;
  if (!dx) return true;
  float *hf = ct->sync_hf; /* [dgamma | dbeta | mean | invstd | gamma] */
  double *sum = ct->sync_sum;
  if (!down(x, hf, ldg, 2 * (size_t)C) || !down(x, hf + 2 * (size_t)C, save, 2 * (size_t)C) ||
      !down(x, hf + 4 * (size_t)C, gamma, (size_t)C))
    return false;
  for (int c = 0; c < C; c++) sum[2 * c] = hf[c], sum[2 * c + 1] = hf[C + c];
  sum[2 * C] = (double)d.n * d.h * d.w;
  t->bn_sum(sum, 2 * (size_t)C + 1);
  const double M = sum[2 * C];
  float *abc = hf; /* A, B, C over the host copies already read */
  for (int c = 0; c < C; c++) {
    const double is = hf[3 * C + c], mean = hf[2 * C + c], a = is * hf[4 * C + c];
    const double k = M > 0 ? sum[2 * c] * is / M : 0.0, mean_dy = M > 0 ? sum[2 * c + 1] / M : 0.0;
    abc[c] = (float)a, abc[C + c] = (float)(-a * k), abc[2 * C + c] = (float)(a * (k * mean - mean_dy));
  }
  return up(x, ct->sync + C, abc, 3 * (size_t)C) && apply_dx(x, t, nd, dx, acc);
}
