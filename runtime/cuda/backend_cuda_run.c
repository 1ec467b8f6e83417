/* backend_cuda_run.c - the CUDA backend's run_node: each op of an inference program queued on the
   backend's stream (no host synchronization): convs through the plan's DWCONV kernels or cuDNN + AFFINE
   epilogue, BN as AFFINE, activations as ACT, add/mul as BINARY with broadcast strides, pools and resizes
   through their kernels, concat and crop as strided copies, zero as a memset; maxpool, gmp, pad, softmax,
   slice and channel_shuffle in backend_cuda_spatial.c. */
#include <stdio.h>
#include <string.h>
#include "backend_cuda.h"
#include "backend_cuda_train.h"
#include "shapes.h"

static int64_t numel(const BackendRun *r, int node) {
  Shape s = r->shapes[node];
  return (int64_t)r->batch * s.c * s.h * s.w;
}

static const float *in_buf(const BackendRun *r, const PlanNode *nd, int k) { return r->buf[nd->inputs[k]]; }
static Shape in_shape(const BackendRun *r, const PlanNode *nd, int k) { return r->shapes[nd->inputs[k]]; }

static bool launch(CudaState *x, int node, KArgs *a) {
  if (cuda_kernels_launch(x->k, x->fn[node], x->stream, a, x->error, sizeof x->error)) return true;
  return false;
}

static bool copy_if(CudaState *x, float *y, const float *a, int64_t count) {
  if (y == a) return true;
  return cuda_check(x, cudaMemcpyAsync(y, a, (size_t)count * sizeof *y, cudaMemcpyDeviceToDevice, x->stream), "cudaMemcpyAsync");
}

/* y = act(x * scale[c] + shift[c]) over node's output (scale/shift NULL = 1/0). */
static bool affine(CudaState *x, const BackendRun *r, int node, float *y, const float *a, const float *scale,
                   const float *shift) {
  Shape s = r->shapes[node];
  KArgs k;
  ka_init(&k, numel(r, node));
  ka_ptr(&k, y), ka_ptr(&k, a), ka_ptr(&k, scale), ka_ptr(&k, shift);
  ka_i64(&k, (int64_t)s.h * s.w), ka_i64(&k, s.c);
  return launch(x, node, &k);
}

static bool dwconv(CudaState *x, const BackendRun *r, const PlanNode *nd, float *y) {
  Shape is = in_shape(r, nd, 0), os = r->shapes[nd->id];
  KArgs k;
  ka_init(&k, numel(r, nd->id));
  ka_ptr(&k, y), ka_ptr(&k, in_buf(r, nd, 0)), ka_ptr(&k, x->conv_w[nd->id]), ka_ptr(&k, x->conv_b[nd->id]);
  ka_i64(&k, r->batch), ka_i64(&k, is.c), ka_i64(&k, is.h), ka_i64(&k, is.w), ka_i64(&k, os.h), ka_i64(&k, os.w);
  ka_i64(&k, nd->ph), ka_i64(&k, nd->pw);
  return launch(x, nd->id, &k);
}

static bool conv(CudaState *x, const BackendRun *r, const PlanNode *nd, float *y) {
  if (!x->conv[nd->id]) return dwconv(x, r, nd, y);
  Shape is = in_shape(r, nd, 0), os = r->shapes[nd->id];
  ConvDims xd = {r->batch, is.c, is.h, is.w}, yd = {r->batch, os.c, os.h, os.w};
  if (!cuda_conv_forward(x->dnn, x->conv[nd->id], in_buf(r, nd, 0), xd, x->conv_w[nd->id], y, yd, x->error,
                         sizeof x->error))
    return false;
  return !x->fn[nd->id] || affine(x, r, nd->id, y, y, NULL, x->conv_b[nd->id]); /* bias, relu/relu6 */
}

void cuda_push_strides(KArgs *k, int n, Shape s) {
  int64_t hw = (int64_t)s.h * s.w;
  ka_i64(k, n == 1 ? 0 : s.c * hw), ka_i64(k, s.c == 1 ? 0 : hw), ka_i64(k, s.h == 1 ? 0 : s.w), ka_i64(k, s.w == 1 ? 0 : 1);
}

static bool binary(CudaState *x, const BackendRun *r, const PlanNode *nd, float *y) {
  Shape os = r->shapes[nd->id];
  KArgs k;
  ka_init(&k, numel(r, nd->id));
  ka_ptr(&k, y), ka_ptr(&k, in_buf(r, nd, 0)), ka_ptr(&k, in_buf(r, nd, 1));
  ka_i64(&k, r->batch), ka_i64(&k, os.c), ka_i64(&k, os.h), ka_i64(&k, os.w);
  cuda_push_strides(&k, r->batch, in_shape(r, nd, 0));
  cuda_push_strides(&k, r->batch, in_shape(r, nd, 1));
  return launch(x, nd->id, &k);
}

static bool act(CudaState *x, const BackendRun *r, const PlanNode *nd, float *y) {
  KArgs k;
  ka_init(&k, numel(r, nd->id));
  ka_ptr(&k, y), ka_ptr(&k, in_buf(r, nd, 0)), ka_i64(&k, numel(r, nd->id));
  return launch(x, nd->id, &k);
}

/* affine: SCALE y, x, n, alpha, beta, 0; leaky_relu: LEAKY y, x, x, n, slope, 0 */
static bool alpha_beta(CudaState *x, const BackendRun *r, const PlanNode *nd, float *y) {
  KArgs k;
  int64_t n = numel(r, nd->id);
  ka_init(&k, n);
  ka_ptr(&k, y), ka_ptr(&k, in_buf(r, nd, 0));
  if (nd->kind == OP_LEAKY_RELU) ka_ptr(&k, in_buf(r, nd, 0));
  ka_i64(&k, n), ka_f32(&k, (float)nd->alpha);
  if (nd->kind == OP_AFFINE) ka_f32(&k, (float)nd->beta);
  ka_i64(&k, 0);
  return launch(x, nd->id, &k);
}

/* AVGPOOL, GAP, BILINEAR, NEAREST: y, x, NC, then the plane sizes (and the window for the pool). */
static bool plane_op(CudaState *x, const BackendRun *r, const PlanNode *nd, float *y) {
  Shape is = in_shape(r, nd, 0), os = r->shapes[nd->id];
  int64_t nc = (int64_t)r->batch * is.c;
  KArgs k;
  ka_init(&k, nd->kind == OP_GAP ? nc : numel(r, nd->id));
  ka_ptr(&k, y), ka_ptr(&k, in_buf(r, nd, 0)), ka_i64(&k, nc);
  if (nd->kind == OP_GAP) return ka_i64(&k, (int64_t)is.h * is.w), launch(x, nd->id, &k);
  ka_i64(&k, is.h), ka_i64(&k, is.w), ka_i64(&k, os.h), ka_i64(&k, os.w);
  if (nd->kind == OP_AVGPOOL) {
    int kh, kw;
    plan_pool_window(nd, is, &kh, &kw);
    ka_i64(&k, kh), ka_i64(&k, kw), ka_i64(&k, nd->sh), ka_i64(&k, nd->sw), ka_i64(&k, nd->ph), ka_i64(&k, nd->pw);
  }
  return launch(x, nd->id, &k);
}

/* Along channels: input k is N rows of C_k*H*W floats, placed at channel offset c0 of each output row. */
static bool concat(CudaState *x, const BackendRun *r, const PlanNode *nd, float *y) {
  Shape os = r->shapes[nd->id];
  size_t hw = (size_t)os.h * os.w, c0 = 0;
  for (int k = 0; k < nd->ninputs; k++) {
    size_t row = (size_t)in_shape(r, nd, k).c * hw * sizeof(float);
    if (!cuda_check(x, cudaMemcpy2DAsync(y + c0 * hw, (size_t)os.c * hw * sizeof(float), in_buf(r, nd, k), row, row,
                                         (size_t)r->batch, cudaMemcpyDeviceToDevice, x->stream), "cudaMemcpy2DAsync (concat)"))
      return false;
    c0 += (size_t)in_shape(r, nd, k).c;
  }
  return true;
}

/* y = x[:, :, top:top+OH, left:left+OW]: one 3-D copy (rows of OW floats, OH rows per plane, N*C planes). */
static bool crop(CudaState *x, const BackendRun *r, const PlanNode *nd, float *y) {
  Shape is = in_shape(r, nd, 0), os = r->shapes[nd->id];
  struct cudaMemcpy3DParms m;
  memset(&m, 0, sizeof m);
  m.srcPtr = (struct cudaPitchedPtr){(void *)in_buf(r, nd, 0), (size_t)is.w * sizeof(float), (size_t)is.w, (size_t)is.h};
  m.srcPos = (struct cudaPos){(size_t)nd->crop[2] * sizeof(float), (size_t)nd->crop[0], 0};
  m.dstPtr = (struct cudaPitchedPtr){y, (size_t)os.w * sizeof(float), (size_t)os.w, (size_t)os.h};
  m.extent = (struct cudaExtent){(size_t)os.w * sizeof(float), (size_t)os.h, (size_t)r->batch * os.c};
  m.kind = cudaMemcpyDeviceToDevice;
  return cuda_check(x, cudaMemcpy3DAsync(&m, x->stream), "cudaMemcpy3DAsync (crop)");
}

bool cuda_run_node(void *state, const BackendRun *r, int i) {
  CudaState *x = state;
  const PlanNode *nd = &r->p->nodes[i];
  float *y = r->buf[i];
  const float *a = nd->ninputs ? in_buf(r, nd, 0) : NULL;
  x->error[0] = 0;
  switch (nd->kind) {
  case OP_CONV: return conv(x, r, nd, y);
  case OP_BN:
    if (x->f.bn_folded[i]) return copy_if(x, y, a, numel(r, i)); /* the conv applied it */
    return affine(x, r, i, y, a, x->bn_scale[i], x->bn_shift[i]);
  case OP_RELU: case OP_RELU6: case OP_SIGMOID: case OP_HSWISH: case OP_SILU: case OP_HSIGMOID: case OP_TANH:
    return x->fn[i] ? act(x, r, nd, y) : copy_if(x, y, a, numel(r, i)); /* no kernel: the conv's epilogue */
  case OP_AFFINE: case OP_LEAKY_RELU: return alpha_beta(x, r, nd, y);
  case OP_ADD: case OP_SUB: case OP_MUL: return binary(x, r, nd, y);
  case OP_CONCAT: return concat(x, r, nd, y);
  case OP_AVGPOOL: case OP_GAP: case OP_BILINEAR: case OP_NEAREST: return plane_op(x, r, nd, y);
  case OP_CROP: return crop(x, r, nd, y);
  case OP_INPUT: return true; /* the executor uploads the input */
  case OP_ZERO: return cuda_check(x, cudaMemsetAsync(y, 0, (size_t)numel(r, i) * sizeof *y, x->stream), "cudaMemsetAsync");
  case OP_OUTPUT: return copy_if(x, y, a, numel(r, i));
  case OP_MAXPOOL: case OP_GMP: case OP_PAD: case OP_SOFTMAX: case OP_SLICE: case OP_CHANNEL_SHUFFLE:
    return cuda_spatial_forward(x, r, nd, y);
  default: return false; /* mix without a chosen candidate: the executor's business */
  }
}
