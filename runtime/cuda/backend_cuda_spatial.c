/* backend_cuda_spatial.c - maxpool, gmp, pad, softmax, slice and channel_shuffle on the CUDA backend, forward
   and backward, through the generated library kernels MAXPOOL(_BWD) (gmp as a max pool whose window is the
   plane), PAD (pad's adjoint is the same window copy the other way), SOFTMAX(_BWD) and CHANNELS. */
#include "backend_cuda_train.h"

static int64_t count(ConvDims d) { return (int64_t)d.n * d.c * d.h * d.w; }

/* The max pool's geometry after the plane sizes: kh, kw, sh, sw, ph, pw, dh, dw (gmp: the whole plane). */
static void pool_geometry(KArgs *a, const PlanNode *nd, ConvDims xs) {
  if (nd->kind == OP_GMP) {
    int64_t g[8] = {xs.h, xs.w, 1, 1, 0, 0, 1, 1};
    for (int k = 0; k < 8; k++) ka_i64(a, g[k]);
    return;
  }
  int64_t g[8] = {nd->kh, nd->kw, nd->sh, nd->sw, nd->ph, nd->pw, nd->dh, nd->dw};
  for (int k = 0; k < 8; k++) ka_i64(a, g[k]);
}

static void planes(KArgs *a, ConvDims xs, ConvDims ys) {
  ka_i64(a, xs.h), ka_i64(a, xs.w), ka_i64(a, ys.h), ka_i64(a, ys.w);
}

/* CHANNELS: out (+)= gather of in (cpu_channel_gather). */
static bool channels(CudaState *x, float *out, ConvDims os, const float *in, ConvDims is, int c0, int groups, bool acc) {
  KArgs a;
  ka_init(&a, count(os));
  ka_ptr(&a, out), ka_ptr(&a, in), ka_i64(&a, os.c), ka_i64(&a, is.c), ka_i64(&a, (int64_t)os.h * os.w);
  ka_i64(&a, c0), ka_i64(&a, groups), ka_i64(&a, acc);
  return cuda_train_launch(x, (KernelSpec){.family = KFAM_CHANNELS}, &a);
}

/* PAD: out[p, oy, ox] (+)= in[p, oy - top, ox - left] inside in, else value. */
static bool window(CudaState *x, float *out, ConvDims os, const float *in, ConvDims is, int top, int left, float value,
                   bool acc) {
  KArgs a;
  ka_init(&a, count(os));
  ka_ptr(&a, out), ka_ptr(&a, in), planes(&a, is, os);
  ka_i64(&a, top), ka_i64(&a, left), ka_f32(&a, value), ka_i64(&a, acc);
  return cuda_train_launch(x, (KernelSpec){.family = KFAM_PAD}, &a);
}

bool cuda_spatial_forward(CudaState *x, const BackendRun *r, const PlanNode *nd, float *y) {
  ConvDims xs = cuda_train_dims(r, nd->inputs[0]), ys = cuda_train_dims(r, nd->id);
  const float *in = r->buf[nd->inputs[0]];
  KArgs a;
  switch (nd->kind) {
  case OP_MAXPOOL: case OP_GMP:
    ka_init(&a, count(ys));
    ka_ptr(&a, y), ka_ptr(&a, in), planes(&a, xs, ys), pool_geometry(&a, nd, xs);
    return cuda_train_launch(x, (KernelSpec){.family = KFAM_MAXPOOL}, &a);
  case OP_SOFTMAX:
    ka_init(&a, (int64_t)ys.n * ys.h * ys.w);
    ka_ptr(&a, y), ka_ptr(&a, in), ka_i64(&a, ys.c), ka_i64(&a, (int64_t)ys.h * ys.w);
    return cuda_train_launch(x, (KernelSpec){.family = KFAM_SOFTMAX}, &a);
  case OP_PAD: return window(x, y, ys, in, xs, nd->crop[0], nd->crop[2], (float)nd->pad_value, false);
  case OP_SLICE: return channels(x, y, ys, in, xs, nd->slice[0], 1, false);
  case OP_CHANNEL_SHUFFLE: return channels(x, y, ys, in, xs, 0, nd->groups, false);
  default: return false;
  }
}

/* MAXPOOL_BWD adds into dx: zeroed first unless accumulating. */
static bool maxpool_backward(CudaState *x, const BackendTrain *t, const PlanNode *nd, float *dx, bool acc) {
  const BackendRun *r = &t->run;
  ConvDims xs = cuda_train_dims(r, nd->inputs[0]), ys = cuda_train_dims(r, nd->id);
  if (!acc && !cuda_check(x, cudaMemsetAsync(dx, 0, (size_t)count(xs) * sizeof *dx, x->stream), "cudaMemsetAsync"))
    return false;
  KArgs a;
  ka_init(&a, count(ys));
  ka_ptr(&a, dx), ka_ptr(&a, t->grad[nd->id]), ka_ptr(&a, r->buf[nd->inputs[0]]);
  planes(&a, xs, ys), pool_geometry(&a, nd, xs);
  return cuda_train_launch(x, (KernelSpec){.family = KFAM_MAXPOOL_BWD}, &a);
}

bool cuda_spatial_backward(CudaState *x, const BackendTrain *t, const PlanNode *nd, float *dx, bool acc) {
  const BackendRun *r = &t->run;
  ConvDims xs = cuda_train_dims(r, nd->inputs[0]), ys = cuda_train_dims(r, nd->id);
  const float *dy = t->grad[nd->id];
  KArgs a;
  switch (nd->kind) {
  case OP_MAXPOOL: case OP_GMP: return maxpool_backward(x, t, nd, dx, acc);
  case OP_SOFTMAX:
    ka_init(&a, (int64_t)ys.n * ys.h * ys.w);
    ka_ptr(&a, dx), ka_ptr(&a, dy), ka_ptr(&a, r->buf[nd->id]), ka_i64(&a, ys.c), ka_i64(&a, (int64_t)ys.h * ys.w);
    ka_i64(&a, acc);
    return cuda_train_launch(x, (KernelSpec){.family = KFAM_SOFTMAX_BWD}, &a);
  case OP_PAD: return window(x, dx, xs, dy, ys, -nd->crop[0], -nd->crop[2], 0.0f, acc);
  case OP_SLICE: return channels(x, dx, xs, dy, ys, -nd->slice[0], 1, acc);
  case OP_CHANNEL_SHUFFLE: return channels(x, dx, xs, dy, ys, 0, xs.c / nd->groups, acc);
  default: return false;
  }
}
