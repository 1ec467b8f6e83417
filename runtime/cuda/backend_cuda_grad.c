/* backend_cuda_grad.c - the CUDA backend's backward_step: one step of the plan's backward program on the
   stream, with the compiler's first-writer/accumulate choice (PlanGradStep.acc_dx: overwrite or add) and
   parameter gradients that always accumulate. Convs: cuDNN backward data / filter / bias; BN:
   cudnnBatchNormalizationBackward (dgamma, dbeta accumulate through betaParamDiff = 1, dx through
   betaDataDiff = acc; frozen BN: bn_backward_eval); activations: ACT_BWD; add, output: cuDNN reductions to the operand's shape; mul: the
   product with the other operand (BINARY) then that reduction; concat, crop: strided cuDNN copies; avgpool:
   cudnnPoolingBackward; global pool: dy / HW broadcast (cudnnAddTensor); bilinear, nearest: their *_BWD
   kernels (atomic adds into a zeroed dx unless accumulating); mix: MIX_BWD_DX and MIX_BWD_DW, the mixing
   weights' gradient downloaded and added into the host BackendTrain.mix_dw. RECOMPUTE (a ReLU/ReLU6 of a
   BN, recomputed from the BN's input and saved statistics): AFFINE with per-channel scale and shift. The
   scratch buffer takes what nobody keeps and in-place results (cuDNN's batch norm is not documented to
   allow them). */
#include <stdio.h>
#include <string.h>
#include "backend_cuda_train.h"
#include "shapes.h"

static float *dx_of(const BackendTrain *t, const PlanNode *nd, const PlanGradStep *s, int k) {
  return (s->need_dx >> k) & 1 ? t->grad[nd->inputs[k]] : NULL;
}

static bool acc_of(const PlanGradStep *s, int k) { return (s->acc_dx >> k) & 1; }

static int64_t count(ConvDims d) { return (int64_t)d.n * d.c * d.h * d.w; }

static CudaDnn *dnn(const CudaState *x) { return x->train->dnn; }

static bool conv_backward(CudaState *x, const BackendTrain *t, const PlanNode *nd, const PlanGradStep *s) {
  const BackendRun *r = &t->run;
  ConvDims xd = cuda_train_dims(r, nd->inputs[0]), yd = cuda_train_dims(r, nd->id);
  const float *dy = t->grad[nd->id];
  float *dx = dx_of(t, nd, s, 0), *dw = t->param_grad[nd->param[0]];
  float *db = nd->bias ? t->param_grad[nd->param[1]] : NULL;
  CudaConv *c = x->conv[nd->id];
  if (dx && !cuda_conv_backward_data(x->dnn, c, dy, yd, r->param[nd->param[0]], dx, xd, acc_of(s, 0), x->error,
                                     sizeof x->error))
    return false;
  return !dw || cuda_conv_backward_filter(x->dnn, c, r->buf[nd->inputs[0]], xd, dy, yd, dw, db, x->error, sizeof x->error);
}

static bool copy_back(CudaState *x, float *dx, const float *out, ConvDims d) {
  return out == dx ||
         cuda_check(x, cudaMemcpyAsync(dx, out, (size_t)count(d) * sizeof *dx, cudaMemcpyDeviceToDevice, x->stream),
                    "cudaMemcpyAsync");
}

/* Frozen BN (cpu_batchnorm_backward_eval), with cuDNN's batch norm calls and the running statistics:
   invstd = 1/sqrt(rv + eps) as BN inference of ones (gamma 1, mean 0); dgamma, dbeta from the training
   backward given mean = rm and invstd as the saved statistics (its dx, which would subtract the batch means,
   goes to the scratch buffer); dx = dy * gamma * invstd as BN inference of dy with mean 0 and beta 0. */
static bool bn_backward_eval(CudaState *x, const BackendTrain *t, const PlanNode *nd, float *dx, bool acc, float *dg,
                             float *db) {
  const BackendRun *r = &t->run;
  CudaTrain *c = x->train;
  ConvDims d = cuda_train_dims(r, nd->id), ch = {1, d.c, 1, 1};
  const float *dy = t->grad[nd->id], *gamma = r->param[nd->param[0]], *rm = r->param[nd->param[2]];
  const float *rv = r->param[nd->param[3]];
  if (!cuda_dnn_bn_infer(dnn(x), c->ones, ch, c->ones, c->zeros, c->zeros, rv, c->invstd, false, x->error, sizeof x->error) ||
      !cuda_dnn_bn_backward(dnn(x), r->buf[nd->inputs[0]], dy, d, gamma, rm, c->invstd, t->scratch, false, dg, db, x->error,
                            sizeof x->error))
    return false;
  if (!dx) return true;
  float *out = dx == dy ? t->scratch : dx;
  return cuda_dnn_bn_infer(dnn(x), dy, d, gamma, c->zeros, c->zeros, rv, out, acc, x->error, sizeof x->error) &&
         copy_back(x, dx, out, d);
}

/* cuDNN writes every output it has: gradients nobody keeps go to the scratch buffer (dx) and to x's
   per-channel temporaries (dgamma, dbeta of parameters that are not trained). */
static bool bn_backward(CudaState *x, const BackendTrain *t, const PlanNode *nd, const PlanGradStep *s) {
  const BackendRun *r = &t->run;
  ConvDims d = cuda_train_dims(r, nd->id);
  float *dx = dx_of(t, nd, s, 0), *dg = t->param_grad[nd->param[0]], *db = t->param_grad[nd->param[1]];
  bool acc = acc_of(s, 0);
  if (!dg) dg = x->train->chan;
  if (!db) db = x->train->chan + d.c;
  if (t->bn_eval) return bn_backward_eval(x, t, nd, dx, acc, dg, db);
  if (t->bn_sum) return cuda_syncbn_backward(x, t, nd, dx, acc, dg, db);
  if (!dx) dx = t->scratch, acc = false;
  const float *save = t->bn_save[nd->id], *dy = t->grad[nd->id];
  float *out = dx == dy ? t->scratch : dx; /* in place (the plan may alias them when not accumulating): via scratch */
  return cuda_dnn_bn_backward(dnn(x), r->buf[nd->inputs[0]], dy, d, r->param[nd->param[0]], save, save + d.c, out, acc,
                              dg, db, x->error, sizeof x->error) &&
         copy_back(x, dx, out, d);
}

/* d(a * b)/da = reduce_to(dy * b): the product over the output's shape (into dx directly where no reduction
   or accumulation follows, else into the scratch buffer), then the reduction. */
static bool mul_backward(CudaState *x, const BackendTrain *t, const PlanNode *nd, int k, float *dx, bool acc) {
  const BackendRun *r = &t->run;
  ConvDims ys = cuda_train_dims(r, nd->id), xs = cuda_train_dims(r, nd->inputs[k]);
  bool direct = !acc && count(xs) == count(ys);
  float *prod = direct ? dx : t->scratch;
  Shape o = r->shapes[nd->id];
  KArgs a;
  ka_init(&a, count(ys));
  ka_ptr(&a, prod), ka_ptr(&a, t->grad[nd->id]), ka_ptr(&a, r->buf[nd->inputs[1 - k]]);
  ka_i64(&a, r->batch), ka_i64(&a, o.c), ka_i64(&a, o.h), ka_i64(&a, o.w);
  cuda_push_strides(&a, r->batch, o);
  cuda_push_strides(&a, r->batch, r->shapes[nd->inputs[1 - k]]);
  if (!cuda_train_launch(x, (KernelSpec){.family = KFAM_BINARY, .op = KBIN_MUL}, &a)) return false;
  return direct || cuda_dnn_reduce_to(dnn(x), prod, ys, dx, xs, acc, 1.0f, x->error, sizeof x->error);
}

static bool binary_backward(CudaState *x, const BackendTrain *t, const PlanNode *nd, const PlanGradStep *s) {
  const BackendRun *r = &t->run;
  for (int k = 0; k < 2; k++) {
    float *dx = dx_of(t, nd, s, k);
    if (!dx) continue;
    float sign = nd->kind == OP_SUB && k == 1 ? -1.0f : 1.0f; /* d(a - b)/db = -1 */
    bool ok = nd->kind != OP_MUL
                  ? cuda_dnn_reduce_to(dnn(x), t->grad[nd->id], cuda_train_dims(r, nd->id), dx,
                                       cuda_train_dims(r, nd->inputs[k]), acc_of(s, k), sign, x->error, sizeof x->error)
                  : mul_backward(x, t, nd, k, dx, acc_of(s, k));
    if (!ok) return false;
  }
  return true;
}

static void packed_strides(ConvDims d, int64_t st[4]) {
  st[3] = 1, st[2] = d.w, st[1] = (int64_t)d.h * d.w, st[0] = st[1] * d.c;
}

/* dx = the channel slice [c0, c0 + C_k) of dy. */
static bool concat_backward(CudaState *x, const BackendTrain *t, const PlanNode *nd, const PlanGradStep *s) {
  const BackendRun *r = &t->run;
  ConvDims ys = cuda_train_dims(r, nd->id);
  int64_t src[4], dst[4], c0 = 0;
  packed_strides(ys, src);
  for (int k = 0; k < nd->ninputs; k++) {
    ConvDims xs = cuda_train_dims(r, nd->inputs[k]);
    float *dx = dx_of(t, nd, s, k);
    packed_strides(xs, dst);
    if (dx && !cuda_dnn_copy_strided(dnn(x), t->grad[nd->id] + c0 * src[1], src, dx, dst, xs, acc_of(s, k), x->error,
                                     sizeof x->error))
      return false;
    c0 += xs.c;
  }
  return true;
}

/* dx = 0 outside the window, dy inside it. */
static bool crop_backward(CudaState *x, const BackendTrain *t, const PlanNode *nd, float *dx, bool acc) {
  const BackendRun *r = &t->run;
  ConvDims ys = cuda_train_dims(r, nd->id), xs = cuda_train_dims(r, nd->inputs[0]);
  int64_t src[4], dst[4];
  packed_strides(ys, src), packed_strides(xs, dst);
  if (!acc && !cuda_check(x, cudaMemsetAsync(dx, 0, (size_t)count(xs) * sizeof *dx, x->stream), "cudaMemsetAsync"))
    return false;
  float *window = dx + (int64_t)nd->crop[0] * xs.w + nd->crop[2];
  return cuda_dnn_copy_strided(dnn(x), t->grad[nd->id], src, window, dst, ys, acc, x->error, sizeof x->error);
}

/* BILINEAR_BWD / NEAREST_BWD add into dx: zeroed first unless accumulating. */
static bool resize_backward(CudaState *x, const BackendTrain *t, const PlanNode *nd, float *dx, bool acc) {
  const BackendRun *r = &t->run;
  ConvDims ys = cuda_train_dims(r, nd->id), xs = cuda_train_dims(r, nd->inputs[0]);
  if (!acc && !cuda_check(x, cudaMemsetAsync(dx, 0, (size_t)count(xs) * sizeof *dx, x->stream), "cudaMemsetAsync"))
    return false;
  KernelSpec spec = {.family = nd->kind == OP_BILINEAR ? KFAM_BILINEAR_BWD : KFAM_NEAREST_BWD,
                     .flag = nd->kind == OP_BILINEAR ? nd->align_corners : 0};
  KArgs a;
  ka_init(&a, count(ys));
  ka_ptr(&a, dx), ka_ptr(&a, t->grad[nd->id]);
  ka_i64(&a, (int64_t)xs.n * xs.c), ka_i64(&a, xs.h), ka_i64(&a, xs.w), ka_i64(&a, ys.h), ka_i64(&a, ys.w);
  return cuda_train_launch(x, spec, &a);
}

static bool act_backward(CudaState *x, const BackendTrain *t, const PlanNode *nd, float *dx, bool acc) {
  const BackendRun *r = &t->run;
  int64_t n = count(cuda_train_dims(r, nd->id));
  bool reads_x = nd->kind == OP_HSWISH || nd->kind == OP_SILU || nd->kind == OP_HSIGMOID; /* else the output */
  const float *v = reads_x ? r->buf[nd->inputs[0]] : r->buf[nd->id];
  KArgs a;
  ka_init(&a, n);
  ka_ptr(&a, dx), ka_ptr(&a, t->grad[nd->id]), ka_ptr(&a, v), ka_i64(&a, n), ka_i64(&a, acc);
  return cuda_train_launch(x, (KernelSpec){.family = KFAM_ACT_BWD, .act = cuda_act_of(nd->kind)}, &a);
}

/* affine: SCALE dx, dy, n, alpha, 0, acc; leaky_relu: LEAKY dx, x, dy, n, slope, acc */
static bool alpha_beta_backward(CudaState *x, const BackendTrain *t, const PlanNode *nd, float *dx, bool acc) {
  const BackendRun *r = &t->run;
  int64_t n = count(cuda_train_dims(r, nd->id));
  bool leaky = nd->kind == OP_LEAKY_RELU;
  KArgs a;
  ka_init(&a, n);
  ka_ptr(&a, dx);
  if (leaky) ka_ptr(&a, r->buf[nd->inputs[0]]);
  ka_ptr(&a, t->grad[nd->id]), ka_i64(&a, n), ka_f32(&a, (float)nd->alpha);
  if (!leaky) ka_f32(&a, 0.0f);
  ka_i64(&a, acc);
  return cuda_train_launch(x, (KernelSpec){.family = leaky ? KFAM_LEAKY : KFAM_SCALE}, &a);
}

static bool pool_backward(CudaState *x, const BackendTrain *t, const PlanNode *nd, float *dx, bool acc) {
  const BackendRun *r = &t->run;
  ConvDims ys = cuda_train_dims(r, nd->id), xs = cuda_train_dims(r, nd->inputs[0]);
  if (nd->kind == OP_GAP)
    return cuda_dnn_broadcast(dnn(x), t->grad[nd->id], ys, dx, xs, acc, 1.0f / ((float)xs.h * xs.w), x->error,
                              sizeof x->error);
  int win[6];
  plan_pool_window(nd, r->shapes[nd->inputs[0]], &win[0], &win[1]);
  win[2] = nd->ph, win[3] = nd->pw, win[4] = nd->sh, win[5] = nd->sw;
  return cuda_dnn_avgpool_backward(dnn(x), r->buf[nd->id], t->grad[nd->id], ys, r->buf[nd->inputs[0]], dx, xs, win,
                                   nd->count_include_pad, acc, x->error, sizeof x->error);
}

static bool unary_backward(CudaState *x, const BackendTrain *t, const PlanNode *nd, const PlanGradStep *s) {
  float *dx = dx_of(t, nd, s, 0);
  if (!dx) return true;
  bool acc = acc_of(s, 0);
  const BackendRun *r = &t->run;
  switch (nd->kind) {
  case OP_RELU: case OP_RELU6: case OP_SIGMOID: case OP_HSWISH: case OP_SILU: case OP_HSIGMOID: case OP_TANH:
    return act_backward(x, t, nd, dx, acc);
  case OP_AFFINE: case OP_LEAKY_RELU: return alpha_beta_backward(x, t, nd, dx, acc);
  case OP_AVGPOOL: case OP_GAP: return pool_backward(x, t, nd, dx, acc);
  case OP_BILINEAR: case OP_NEAREST: return resize_backward(x, t, nd, dx, acc);
  case OP_CROP: return crop_backward(x, t, nd, dx, acc);
  case OP_MAXPOOL: case OP_GMP: case OP_PAD: case OP_SOFTMAX: case OP_SLICE: case OP_CHANNEL_SHUFFLE:
    return cuda_spatial_backward(x, t, nd, dx, acc);
  case OP_OUTPUT:
    return cuda_dnn_reduce_to(dnn(x), t->grad[nd->id], cuda_train_dims(r, nd->id), dx, cuda_train_dims(r, nd->inputs[0]),
                              acc, 1.0f, x->error, sizeof x->error);
  default: return false;
  }
}

#define DW_CHUNK 4096 /* elements each MIX_BWD_DW work item sums (then one atomic add per chunk) */

/* d loss / d mixing weights of the node: summed per sample on the device (zeroed first: the chunks add
   atomically), added into the host's. */
static bool mix_dw(CudaState *x, const BackendTrain *t, const PlanNode *nd, const float *const *xs) {
  CudaTrain *c = x->train;
  ConvDims d = cuda_train_dims(&t->run, nd->id);
  size_t nw = (size_t)nd->ninputs * d.n;
  if (nw > c->dw_cap) {
    if (c->dw) cudaFree(c->dw);
    free(c->dw_host);
    c->dw = NULL, c->dw_cap = 0;
    if (!(c->dw_host = malloc(nw * sizeof(float)))) return cuda_train_fail(x, "out of memory");
    if (!cuda_check(x, cudaMalloc((void **)&c->dw, nw * sizeof(float)), "cudaMalloc")) return c->dw = NULL, false;
    c->dw_cap = nw;
  }
  if (!cuda_check(x, cudaMemsetAsync(c->dw, 0, nw * sizeof(float), x->stream), "cudaMemsetAsync")) return false;
  int64_t per = (int64_t)d.c * d.h * d.w, nchunks = (per + DW_CHUNK - 1) / DW_CHUNK;
  for (int j = 0; j < nd->ninputs; j++) {
    if (!xs[j]) continue;
    KArgs a;
    ka_init(&a, d.n * nchunks);
    ka_ptr(&a, c->dw), ka_ptr(&a, xs[j]), ka_ptr(&a, t->grad[nd->id]);
    ka_i64(&a, j), ka_i64(&a, d.n), ka_i64(&a, per), ka_i64(&a, DW_CHUNK);
    if (!cuda_train_launch(x, (KernelSpec){.family = KFAM_MIX_BWD_DW}, &a)) return false;
  }
  if (!cuda_check(x, cudaMemcpyAsync(c->dw_host, c->dw, nw * sizeof(float), cudaMemcpyDeviceToHost, x->stream),
                  "downloading the mixing weights' gradient") ||
      !cuda_check(x, cudaStreamSynchronize(x->stream), "the GPU failed in the backward pass"))
    return false;
  float *host = t->mix_dw[nd->id];
  for (size_t i = 0; i < nw; i++) host[i] += c->dw_host[i];
  return true;
}

static bool mix_backward(CudaState *x, const BackendTrain *t, const PlanNode *nd, const PlanGradStep *s) {
  const float *xs[SQN_PLAN_MAX_INPUTS];
  if (!t->mix_w || !t->mix_w[nd->id] || !x->train->mix[nd->id]) return false;
  cuda_train_mix_inputs(t, nd, xs);
  ConvDims d = cuda_train_dims(&t->run, nd->id);
  for (int j = 0; j < nd->ninputs; j++) {
    float *dx = xs[j] || t->run.p->nodes[nd->inputs[j]].kind == OP_ZERO ? dx_of(t, nd, s, j) : NULL;
    if (!dx) continue;
    KArgs a;
    ka_init(&a, count(d));
    ka_ptr(&a, dx), ka_ptr(&a, t->grad[nd->id]), ka_ptr(&a, cuda_train_mix_w(x, nd));
    ka_i64(&a, j), ka_i64(&a, d.n), ka_i64(&a, (int64_t)d.c * d.h * d.w), ka_i64(&a, acc_of(s, j));
    if (!cuda_train_launch(x, (KernelSpec){.family = KFAM_MIX_BWD_DX}, &a)) return false;
  }
  return !t->mix_dw || !t->mix_dw[nd->id] || mix_dw(x, t, nd, xs);
}

/* act(BN(x)) as the forward computed it: from the BN's input and saved statistics (scale = gamma * invstd,
   shift = beta - mean * scale, then AFFINE with the activation), or for a frozen BN, BN inference then ACT. */
static bool recompute(CudaState *x, const BackendTrain *t, const PlanNode *nd) {
  const BackendRun *r = &t->run;
  const PlanNode *bn = &r->p->nodes[nd->inputs[0]];
  if (bn->kind != OP_BN || (nd->kind != OP_RELU && nd->kind != OP_RELU6)) return false;
  ConvDims d = cuda_train_dims(r, nd->id);
  const float *in = r->buf[bn->inputs[0]], *g = r->param[bn->param[0]], *b = r->param[bn->param[1]];
  float *y = r->buf[nd->id], *scale = x->train->chan, *shift = scale + d.c;
  int act = nd->kind == OP_RELU ? KACT_RELU : KACT_RELU6;
  KArgs a;
  ka_init(&a, count(d));
  if (t->bn_eval) {
    if (!cuda_dnn_bn_infer(dnn(x), in, d, g, b, r->param[bn->param[2]], r->param[bn->param[3]], y, false, x->error,
                           sizeof x->error))
      return false;
    ka_ptr(&a, y), ka_ptr(&a, y), ka_i64(&a, count(d));
    return cuda_train_launch(x, (KernelSpec){.family = KFAM_ACT, .act = act}, &a);
  }
  const float *save = t->bn_save[bn->id];
  if (!cuda_dnn_bn_scale_shift(dnn(x), d.c, g, b, save, save + d.c, scale, shift, x->error, sizeof x->error)) return false;
  ka_ptr(&a, y), ka_ptr(&a, in), ka_ptr(&a, scale), ka_ptr(&a, shift);
  ka_i64(&a, (int64_t)d.h * d.w), ka_i64(&a, d.c);
  return cuda_train_launch(x, (KernelSpec){.family = KFAM_AFFINE, .act = act}, &a);
}

bool cuda_backward_step(const BackendTrain *t, const PlanGradStep *s) {
  CudaState *x = t->state;
  const PlanNode *nd = &t->run.p->nodes[s->node];
  x->error[0] = 0;
  if (s->kind == PLAN_STEP_RECOMPUTE) return recompute(x, t, nd);
  switch (nd->kind) {
  case OP_CONV: return conv_backward(x, t, nd, s);
  case OP_BN: return bn_backward(x, t, nd, s);
  case OP_ADD: case OP_SUB: case OP_MUL: return binary_backward(x, t, nd, s);
  case OP_CONCAT: return concat_backward(x, t, nd, s);
  case OP_MIX: return mix_backward(x, t, nd, s);
  default: return unary_backward(x, t, nd, s);
  }
}
