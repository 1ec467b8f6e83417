/* backend_cuda_train.c - the CUDA backend in training mode (backend.h train_node, and the device hooks
   prepare_train, loss, sgd). The training state opens the GPU without parameters (the trainer owns them in
   device memory), folds nothing, and gives every conv cuDNN descriptors (depthwise ones too: cuDNN has their
   backward). Forward: convs through cuDNN plus an AFFINE bias epilogue, BN with batch statistics through
   cudnnBatchNormalizationForwardTraining (cuda_dnn.c says why that matches cpu_batchnorm_train), the
   superblock mixture through MIX_FWD with the step's mixing weights uploaded here (BackendTrain.mix_w is host
   memory), frozen BN (bn_eval) through cudnnBatchNormalizationForwardInference with the running statistics,
   everything else as inference (cuda_run_node). */
#include "backend_cuda_train.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool cuda_train_fail(CudaState *x, const char *msg) {
  snprintf(x->error, sizeof x->error, "%s", msg);
  return false;
}

bool cuda_train_launch(CudaState *x, KernelSpec s, KArgs *a) {
  if (a->n != kernel_family_nparams(s.family)) { /* a launcher out of step with kernel_abi.h */
    char name[SQN_KERNEL_NAME_MAX];
    kernel_spec_name(&s, name, sizeof name);
    snprintf(x->error, sizeof x->error, "internal error: %s launched with %d parameters, kernel_abi.h says %d", name, a->n,
             kernel_family_nparams(s.family));
    return false;
  }
  CUfunction fn = cuda_kernels_get(x->k, &s, x->error, sizeof x->error);
  return fn && cuda_kernels_launch(x->k, fn, x->stream, a, x->error, sizeof x->error);
}

ConvDims cuda_train_dims(const BackendRun *r, int node) {
  Shape s = r->shapes[node];
  return (ConvDims){r->batch, s.c, s.h, s.w};
}

void cuda_train_free(CudaTrain *t) {
  if (!t) return;
  cuda_dnn_free(t->dnn);
  for (int i = 0; t->mix && t->mix_host && i < t->nnodes; i++) {
    if (t->mix[i]) cudaFree(t->mix[i]);
    free(t->mix_host[i]);
  }
  if (t->dw) cudaFree(t->dw);
  if (t->chan) cudaFree(t->chan);
  if (t->labels) cudaFree(t->labels);
  if (t->px_loss) cudaFree(t->px_loss);
  if (t->sync) cudaFree(t->sync);
  free(t->sync_hf), free(t->sync_sum);
  free(t->mix), free(t->mix_host), free(t->mix_cap), free(t->dw_host), free(t->px_loss_host);
  free(t);
}

/* The per-channel buffer: 2m temporaries, m ones, m zeros, m for a frozen BN's 1/std. */
static bool alloc_chan(CudaState *x, int m, char *err, size_t n) {
  CudaTrain *t = x->train;
  size_t count = 5 * (size_t)m;
  float *h = calloc(count, sizeof *h);
  void *chan = NULL;
  if (!h) return snprintf(err, n, "out of memory"), false;
  for (int i = 0; i < m; i++) h[2 * m + i] = 1.0f;
  bool ok = cudaMalloc(&chan, count * sizeof *h) == cudaSuccess;
  if (ok) t->chan = chan, ok = cudaMemcpy(chan, h, count * sizeof *h, cudaMemcpyHostToDevice) == cudaSuccess;
  free(h);
  if (!ok) return snprintf(err, n, "cudaMalloc/cudaMemcpy: cannot set up the per-channel buffer"), false;
  t->ones = t->chan + 2 * m, t->zeros = t->ones + m, t->invstd = t->zeros + m;
  return true;
}

/* Every conv through cuDNN (weights are the trainer's), an AFFINE for its bias; other ops' kernels. */
static bool prepare_nodes(CudaState *x, char *err, size_t n) {
  const Plan *p = x->p;
  int maxc = 1;
  for (int i = 0; i < p->nnodes; i++) {
    const PlanNode *nd = &p->nodes[i];
    if (nd->kind == OP_BN && nd->out.c > maxc) maxc = nd->out.c;
    if (nd->kind != OP_CONV) {
      if (!cuda_op_kernel(x, nd, err, n)) return false;
      continue;
    }
    if (!(x->conv[i] = cuda_conv_new(x->dnn, nd, p->nodes[nd->inputs[0]].out.c, err, n))) return false;
    KernelSpec s = {.family = KFAM_AFFINE, .act = KACT_NONE};
    if (nd->bias && !(x->fn[i] = cuda_kernels_get(x->k, &s, err, n))) return false;
  }
  x->train->maxc = maxc;
  return alloc_chan(x, maxc, err, n);
}

void *cuda_prepare_train(const Plan *p, char *err, size_t n) {
  CudaState *x = cuda_state_open(p, err, n);
  if (!x) return NULL;
  size_t nn = (size_t)p->nnodes;
  CudaTrain *t = x->train = calloc(1, sizeof *t);
  x->train_free = cuda_train_free;
  bool ok = t && backend_fold_none(&x->f, p);
  if (ok) {
    t->nnodes = p->nnodes;
    t->mix = calloc(nn, sizeof *t->mix), t->mix_host = calloc(nn, sizeof *t->mix_host);
    t->mix_cap = calloc(nn, sizeof *t->mix_cap);
    ok = t->mix && t->mix_host && t->mix_cap;
  }
  if (!ok) snprintf(err, n, "out of memory");
  ok = ok && (t->dnn = cuda_dnn_new(x->dnn, err, n)) && prepare_nodes(x, err, n);
  if (!ok) return cuda_release(x), NULL;
  return x;
}

static bool conv_forward(CudaState *x, const BackendRun *r, const PlanNode *nd) {
  int id = nd->id;
  float *y = r->buf[id];
  ConvDims yd = cuda_train_dims(r, id);
  if (!cuda_conv_forward(x->dnn, x->conv[id], r->buf[nd->inputs[0]], cuda_train_dims(r, nd->inputs[0]),
                         r->param[nd->param[0]], y, yd, x->error, sizeof x->error))
    return false;
  if (!nd->bias) return true;
  KArgs k;
  ka_init(&k, (int64_t)yd.n * yd.c * yd.h * yd.w);
  ka_ptr(&k, y), ka_ptr(&k, y), ka_ptr(&k, NULL), ka_ptr(&k, r->param[nd->param[1]]);
  ka_i64(&k, (int64_t)yd.h * yd.w), ka_i64(&k, yd.c);
  return cuda_kernels_launch(x->k, x->fn[id], x->stream, &k, x->error, sizeof x->error);
}

/* Frozen BN (bn_eval) with its running statistics, else with the batch's. */
static bool bn_forward(CudaState *x, const BackendTrain *t, const PlanNode *nd) {
  const BackendRun *r = &t->run;
  ConvDims s = cuda_train_dims(r, nd->id);
  float *rm = t->bn_keep_running ? NULL : t->param_rw[nd->param[2]];
  float *rv = t->bn_keep_running ? NULL : t->param_rw[nd->param[3]];
  const float *in = r->buf[nd->inputs[0]];
  float *y = r->buf[nd->id], *out = y == in ? t->scratch : y; /* in place (the plan may alias them): via scratch */
  size_t bytes = sizeof(float) * (size_t)s.n * s.c * s.h * s.w;
  const float *g = r->param[nd->param[0]], *b = r->param[nd->param[1]];
  bool ok = t->bn_eval  ? cuda_dnn_bn_infer(x->train->dnn, in, s, g, b, r->param[nd->param[2]], r->param[nd->param[3]], out,
                                            false, x->error, sizeof x->error)
            : t->bn_sum ? cuda_syncbn_forward(x, t, nd, in, out)
                        : cuda_dnn_bn_train(x->train->dnn, in, s, g, b, rm, rv, t->bn_momentum, out, t->bn_save[nd->id],
                                           t->bn_save[nd->id] + s.c, x->error, sizeof x->error);
  return ok && (out == y || cuda_check(x, cudaMemcpyAsync(y, out, bytes, cudaMemcpyDeviceToDevice, x->stream), "cudaMemcpyAsync"));
}

void cuda_train_mix_inputs(const BackendTrain *t, const PlanNode *nd, const float **xs) {
  const BackendRun *r = &t->run;
  for (int k = 0; k < nd->ninputs; k++) {
    int in = nd->inputs[k];
    xs[k] = r->p->nodes[in].kind == OP_ZERO || (t->skip && t->skip[in]) ? NULL : r->buf[in];
  }
}

const float *cuda_train_mix_w(const CudaState *x, const PlanNode *nd) {
  return (const float *)((const char *)x->train->mix[nd->id] + sizeof(void *) * (size_t)nd->ninputs);
}

/* The candidates' pointers and the mixing weights in one upload, into the node's buffer (grown as needed). */
static bool upload_mix(CudaState *x, const BackendTrain *t, const PlanNode *nd, const float **xs) {
  CudaTrain *c = x->train;
  int id = nd->id, k = nd->ninputs;
  size_t ptrs = sizeof(void *) * (size_t)k, bytes = ptrs + sizeof(float) * (size_t)k * t->run.batch;
  if (bytes > c->mix_cap[id]) {
    if (c->mix[id]) cudaFree(c->mix[id]);
    free(c->mix_host[id]);
    c->mix[id] = NULL, c->mix_cap[id] = 0;
    if (!(c->mix_host[id] = malloc(bytes))) return cuda_train_fail(x, "out of memory");
    if (!cuda_check(x, cudaMalloc(&c->mix[id], bytes), "cudaMalloc (mixing weights)")) return c->mix[id] = NULL, false;
    c->mix_cap[id] = bytes;
  }
  memcpy(c->mix_host[id], xs, ptrs);
  memcpy((char *)c->mix_host[id] + ptrs, t->mix_w[id], bytes - ptrs);
  return cuda_check(x, cudaMemcpyAsync(c->mix[id], c->mix_host[id], bytes, cudaMemcpyHostToDevice, x->stream),
                    "uploading the mixing weights");
}

static bool mix_forward(CudaState *x, const BackendTrain *t, const PlanNode *nd) {
  const float *xs[SQN_PLAN_MAX_INPUTS];
  if (!t->mix_w || !t->mix_w[nd->id]) return false;
  cuda_train_mix_inputs(t, nd, xs);
  if (!upload_mix(x, t, nd, xs)) return false;
  ConvDims s = cuda_train_dims(&t->run, nd->id);
  int64_t per = (int64_t)s.c * s.h * s.w;
  KArgs k;
  ka_init(&k, per * s.n);
  ka_ptr(&k, t->run.buf[nd->id]), ka_ptr(&k, x->train->mix[nd->id]), ka_ptr(&k, cuda_train_mix_w(x, nd));
  ka_i64(&k, nd->ninputs), ka_i64(&k, s.n), ka_i64(&k, per);
  return cuda_train_launch(x, (KernelSpec){.family = KFAM_MIX_FWD}, &k);
}

bool cuda_train_node(const BackendTrain *t, int i) {
  CudaState *x = t->state;
  const PlanNode *nd = &t->run.p->nodes[i];
  x->error[0] = 0;
  switch (nd->kind) {
  case OP_CONV: return conv_forward(x, &t->run, nd);
  case OP_BN: return bn_forward(x, t, nd);
  case OP_MIX: return mix_forward(x, t, nd);
  default: return cuda_run_node(x, &t->run, i);
  }
}

/* The labels and per-pixel losses of `px` pixels (grown as needed). */
static bool grow_pixels(CudaTrain *t, size_t px, char *err, size_t n) {
  if (px <= t->px_cap) return true;
  if (t->labels) cudaFree(t->labels);
  if (t->px_loss) cudaFree(t->px_loss);
  if (t->sync) cudaFree(t->sync);
  free(t->sync_hf), free(t->sync_sum);
  free(t->px_loss_host);
  t->labels = NULL, t->px_loss = t->px_loss_host = NULL, t->px_cap = 0;
  if (!cuda_rt(cudaMalloc((void **)&t->labels, px), "cudaMalloc", err, n) ||
      !cuda_rt(cudaMalloc((void **)&t->px_loss, px * sizeof(float)), "cudaMalloc", err, n))
    return false;
  if (!(t->px_loss_host = malloc(px * sizeof(float)))) return snprintf(err, n, "out of memory"), false;
  t->px_cap = px;
  return true;
}

/* The XENT kernel's per-pixel losses (kernel_abi.h), summed on the host in double; nvalid counted on the host as
   cpu_softmax_xent counts it. */
bool cuda_loss(void *state, const float *logits, Shape s, const unsigned char *labels, int ignore, float *dlogits,
               double *loss, long *nvalid, char *err, size_t errlen) {
  CudaState *x = state;
  CudaTrain *t = x->train;
  size_t hw = (size_t)s.h * s.w, px = hw * (size_t)s.n;
  long valid = 0;
  for (size_t i = 0; i < px; i++) valid += labels[i] != ignore;
  if (!grow_pixels(t, px, err, errlen) ||
      !cuda_rt(cudaMemcpyAsync(t->labels, labels, px, cudaMemcpyHostToDevice, x->stream), "copying the labels to the GPU",
               err, errlen))
    return false;
  KArgs k;
  ka_init(&k, (int64_t)px);
  ka_ptr(&k, t->px_loss), ka_ptr(&k, dlogits), ka_ptr(&k, logits), ka_ptr(&k, t->labels);
  ka_i64(&k, s.n), ka_i64(&k, s.c), ka_i64(&k, (int64_t)hw), ka_i64(&k, ignore);
  ka_f32(&k, valid ? 1.0f / (float)valid : 0.0f);
  if (!cuda_train_launch(x, (KernelSpec){.family = KFAM_XENT}, &k))
    return snprintf(err, errlen, "the loss on the GPU: %s", x->error), false;
  if (!cuda_rt(cudaMemcpyAsync(t->px_loss_host, t->px_loss, px * sizeof(float), cudaMemcpyDeviceToHost, x->stream),
               "copying a result from the GPU", err, errlen) ||
      !cuda_rt(cudaStreamSynchronize(x->stream), "the GPU failed while running the network", err, errlen))
    return false;
  double sum = 0;
  for (size_t i = 0; i < px; i++) sum += t->px_loss_host[i];
  *nvalid = valid;
  *loss = valid ? sum / (double)valid : 0.0;
  return true;
}

bool cuda_sgd(void *state, float *w, const float *g, float *mom, size_t n, float lr, float momentum, float wd, bool first,
              char *err, size_t errlen) {
  CudaState *x = state;
  KArgs k;
  ka_init(&k, (int64_t)n);
  ka_ptr(&k, w), ka_ptr(&k, g), ka_ptr(&k, mom), ka_i64(&k, (int64_t)n);
  ka_f32(&k, lr), ka_f32(&k, momentum), ka_f32(&k, wd), ka_i64(&k, first);
  if (cuda_train_launch(x, (KernelSpec){.family = KFAM_SGD}, &k)) return true;
  return snprintf(err, errlen, "the SGD update on the GPU: %s", x->error), false;
}
