/* backend_cuda.c - the CUDA backend (inference; training: backend_cuda_train.c): prepare opens the GPU, loads the plan's PTX kernels, puts
   the parameters on the device once (BN folded into convs as backend_fold.h decides, the other BNs as a
   per-channel scale and shift) and picks each node's kernel: depthwise convs through the plan's DWCONV
   variants, other convs through cuDNN plus an AFFINE epilogue (bias, relu/relu6). run_node:
   backend_cuda_run.c; the device memory hooks and the Backend table: backend_cuda_device.c. */
#include "backend_cuda.h"
#include "cuda_nccl.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cpu_ops.h"

bool cuda_rt(cudaError_t e, const char *what, char *err, size_t n) {
  if (e == cudaSuccess) return true;
  char why[256];
  snprintf(err, n, "%s: %s", what, cuda_runtime_error(e, why, sizeof why));
  return false;
}

bool cuda_check(CudaState *x, cudaError_t e, const char *what) { return cuda_rt(e, what, x->error, sizeof x->error); }

/* A device copy of `count` host floats, owned by the state; NULL with a message. */
static float *upload_new(CudaState *x, const float *host, size_t count, char *err, size_t n) {
  void *d = NULL;
  if (x->nowned == x->cap_owned) {
    int cap = x->cap_owned ? 2 * x->cap_owned : 64;
    void **o = realloc(x->owned, sizeof *o * (size_t)cap);
    if (!o) return snprintf(err, n, "out of memory"), NULL;
    x->owned = o, x->cap_owned = cap;
  }
  if (!cuda_rt(cudaMalloc(&d, count * sizeof(float) + (count == 0)), "cudaMalloc (parameters)", err, n)) return NULL;
  x->owned[x->nowned++] = d;
  if (!cuda_rt(cudaMemcpy(d, host, count * sizeof(float), cudaMemcpyHostToDevice), "uploading the parameters", err, n))
    return NULL;
  return d;
}

static bool is_depthwise(const Plan *p, const PlanNode *nd) {
  return nd->groups > 1 && nd->groups == nd->out.c && nd->groups == p->nodes[nd->inputs[0]].out.c;
}

static int kernel_act(int conv_act) {
  return conv_act == CONV_ACT_RELU ? KACT_RELU : conv_act == CONV_ACT_RELU6 ? KACT_RELU6 : KACT_NONE;
}

static bool get_fn(CudaState *x, int node, KernelSpec s, char *err, size_t n) {
  return (x->fn[node] = cuda_kernels_get(x->k, &s, err, n)) != NULL;
}

/* Weights and bias on the device; the plan's DWCONV variant for depthwise convs, else cuDNN + epilogue. */
static bool prepare_conv(CudaState *x, const float *const *param, const PlanNode *nd, char *err, size_t n) {
  const Plan *p = x->p;
  int id = nd->id, cout = nd->out.c, act = kernel_act(x->f.conv_act[id]);
  const float *w = x->f.folded_w[id] ? x->f.folded_w[id] : param[nd->param[0]];
  const float *b = x->f.folded_b[id] ? x->f.folded_b[id] : nd->bias ? param[nd->param[1]] : NULL;
  if (!(x->conv_w[id] = upload_new(x, w, (size_t)p->params[nd->param[0]].numel, err, n))) return false;
  if (b && !(x->conv_b[id] = upload_new(x, b, (size_t)cout, err, n))) return false;
  if (is_depthwise(p, nd)) {
    char e2[512];
    KernelSpec s = {.family = KFAM_DWCONV, .act = act, .kh = nd->kh, .kw = nd->kw, .sh = nd->sh, .sw = nd->sw,
                    .dh = nd->dh, .dw = nd->dw};
    if (get_fn(x, id, s, e2, sizeof e2)) return true; /* else cuDNN runs it */
  }
  if (!(x->conv[id] = cuda_conv_new(x->dnn, nd, p->nodes[nd->inputs[0]].out.c, err, n))) return false;
  if (!b && act == KACT_NONE) return true;
  return get_fn(x, id, (KernelSpec){.family = KFAM_AFFINE, .act = act}, err, n);
}

/* A BN of its own: scale = gamma / sqrt(var + eps), shift = beta - mean * scale (cpu_batchnorm_infer). */
static bool prepare_bn(CudaState *x, const float *const *param, const PlanNode *nd, char *err, size_t n) {
  if (x->f.bn_folded[nd->id]) return true;
  int c = nd->out.c;
  const float *g = param[nd->param[0]], *be = param[nd->param[1]], *m = param[nd->param[2]], *v = param[nd->param[3]];
  float *sc = malloc(sizeof *sc * (size_t)c * 2), *sh = sc + c;
  if (!sc) return snprintf(err, n, "out of memory"), false;
  for (int k = 0; k < c; k++) {
    float invstd = 1.0f / sqrtf(v[k] + 1e-5f);
    sc[k] = invstd * (g ? g[k] : 1.0f);
    sh[k] = (be ? be[k] : 0.0f) - m[k] * sc[k];
  }
  bool ok = (x->bn_scale[nd->id] = upload_new(x, sc, (size_t)c, err, n)) &&
            (x->bn_shift[nd->id] = upload_new(x, sh, (size_t)c, err, n));
  free(sc);
  return ok && get_fn(x, nd->id, (KernelSpec){.family = KFAM_AFFINE, .act = KACT_NONE}, err, n);
}

/* The library kernel of the other ops; false when the op needs none. */
static bool op_spec(const CudaState *x, const PlanNode *nd, KernelSpec *s) {
  *s = (KernelSpec){0};
  switch (nd->kind) {
  case OP_RELU: case OP_RELU6: case OP_SIGMOID: case OP_HSWISH: case OP_SILU: case OP_HSIGMOID: case OP_TANH:
    if (x->f.act_fused[nd->id]) return false;
    return s->family = KFAM_ACT, s->act = cuda_act_of(nd->kind), true;
  case OP_ADD: case OP_SUB: case OP_MUL:
    return s->family = KFAM_BINARY, s->op = nd->kind == OP_MUL ? KBIN_MUL : nd->kind == OP_SUB ? KBIN_SUB : KBIN_ADD, true;
  case OP_AFFINE: return s->family = KFAM_SCALE, true;
  case OP_LEAKY_RELU: return s->family = KFAM_LEAKY, true;
  case OP_AVGPOOL: return s->family = KFAM_AVGPOOL, s->flag = nd->count_include_pad, true;
  case OP_GAP: return s->family = KFAM_GAP, true;
  case OP_BILINEAR: return s->family = KFAM_BILINEAR, s->flag = nd->align_corners, true;
  case OP_NEAREST: return s->family = KFAM_NEAREST, true;
  case OP_MAXPOOL: case OP_GMP: return s->family = KFAM_MAXPOOL, true;
  case OP_PAD: return s->family = KFAM_PAD, true;
  case OP_SOFTMAX: return s->family = KFAM_SOFTMAX, true;
  case OP_SLICE: case OP_CHANNEL_SHUFFLE: return s->family = KFAM_CHANNELS, true;
  default: return false;
  }
}

bool cuda_op_kernel(CudaState *x, const PlanNode *nd, char *err, size_t n) {
  KernelSpec s;
  return !op_spec(x, nd, &s) || get_fn(x, nd->id, s, err, n);
}

static bool prepare_node(CudaState *x, const float *const *param, const PlanNode *nd, char *err, size_t n) {
  if (nd->kind == OP_CONV) return prepare_conv(x, param, nd, err, n);
  if (nd->kind == OP_BN) return prepare_bn(x, param, nd, err, n);
  return cuda_op_kernel(x, nd, err, n);
}

void cuda_release(void *state) {
  CudaState *x = state;
  if (!x) return;
  if (x->stream) cudaStreamSynchronize(x->stream);
  for (int i = 0; x->conv && i < x->p->nnodes; i++) cuda_conv_free(x->conv[i]);
  for (int i = 0; i < x->nev; i++)
    if (x->ev[i]) cudaEventDestroy(x->ev[i]);
  for (int i = 0; i < x->nowned; i++) cudaFree(x->owned[i]);
  if (x->train_free) x->train_free(x->train);
  cuda_nccl_close(x->nccl, x->error[0] != 0); /* after a failure: aborted, so that no peer waits on this rank */
  cuda_conv_lib_free(x->dnn);
  cuda_kernels_free(x->k);
  if (x->stream) cudaStreamDestroy(x->stream);
  backend_fold_free(&x->f, x->p);
  free(x->conv), free(x->fn), free(x->conv_w), free(x->conv_b), free(x->bn_scale), free(x->bn_shift);
  free(x->owned), free(x->ev), free(x->dist_stage);
  free(x);
}

static bool alloc_tables(CudaState *x) {
  size_t nn = (size_t)x->p->nnodes;
  x->conv = calloc(nn, sizeof *x->conv), x->fn = calloc(nn, sizeof *x->fn);
  x->conv_w = calloc(nn, sizeof *x->conv_w), x->conv_b = calloc(nn, sizeof *x->conv_b);
  x->bn_scale = calloc(nn, sizeof *x->bn_scale), x->bn_shift = calloc(nn, sizeof *x->bn_shift);
  return x->conv && x->fn && x->conv_w && x->conv_b && x->bn_scale && x->bn_shift;
}

CudaState *cuda_state_open(const Plan *p, char *err, size_t n) {
  CudaState *x = calloc(1, sizeof *x);
  if (!x) return snprintf(err, n, "out of memory"), NULL;
  x->p = p;
  const char *tf32 = getenv("SQN_CUDA_TF32");
  bool ok = cuda_device_open(&x->device, &x->cc, err, n) &&
            cuda_rt(cudaStreamCreateWithFlags(&x->stream, cudaStreamNonBlocking), "cudaStreamCreate", err, n) &&
            (x->k = cuda_kernels_load(p, x->cc, err, n)) &&
            (x->dnn = cuda_conv_lib_new(x->stream, tf32 && !strcmp(tf32, "1"), err, n));
  if (ok && !alloc_tables(x)) ok = snprintf(err, n, "out of memory") < 0;
  if (!ok) return cuda_release(x), NULL;
  return x;
}

void *cuda_prepare(const Plan *p, const float *const *param, const int *uses, char *err, size_t n) {
  CudaState *x = cuda_state_open(p, err, n);
  if (!x) return NULL;
  bool ok = true;
  if (!backend_fold(&x->f, p, param, uses)) ok = snprintf(err, n, "out of memory") < 0;
  for (int i = 0; ok && i < p->nnodes; i++) ok = prepare_node(x, param, &p->nodes[i], err, n);
  if (!ok) return cuda_release(x), NULL;
  backend_fold_drop_values(&x->f, p); /* the folded values are on the device */
  return x;
}
