/* backend_cpu_train.c - the CPU backend in training mode. Forward: convs without folding or
   epilogues, BN with batch statistics (updating the running ones), the superblock mixture with the
   step's mixing weights; every other op as in inference. Backward: one step of the plan's backward
   program, i.e. the gradient of one node's inputs and parameters from its output gradient, with the
   first-writer/accumulate decisions the compiler made (PlanGradStep.acc_dx). */
#include <string.h>
#include "backend_cpu_train.h"
#include "cpu_grad.h"
#include "cpu_ops.h"
#include "shapes.h"

static Shape shape_of(const BackendRun *r, int node) {
  Shape s = r->shapes[node];
  return (Shape){r->batch, s.c, s.h, s.w};
}

static ConvParams conv_params(const PlanNode *nd) {
  return (ConvParams){nd->kh, nd->kw, nd->sh, nd->sw, nd->ph, nd->pw, nd->dh, nd->dw, nd->groups, CONV_ACT_NONE};
}

/* The ReLU/ReLU6 node fused into BN node i (BackendTrain.bn_act), or -1. */
static int fused_act(const BackendTrain *t, int i) { return t->bn_act && !t->bn_eval ? t->bn_act[i] : -1; }

/* CONV_ACT_* of node j (-1: none) */
static int act_code(const Plan *p, int j) {
  if (j < 0) return CONV_ACT_NONE;
  return p->nodes[j].kind == OP_RELU6 ? CONV_ACT_RELU6 : CONV_ACT_RELU;
}

/* The candidates' outputs; NULL for the Zero op and for candidates that do not run. */
static void mix_inputs(const BackendTrain *t, const PlanNode *nd, const float **xs) {
  const BackendRun *r = &t->run;
  for (int k = 0; k < nd->ninputs; k++) {
    int in = nd->inputs[k];
    xs[k] = r->p->nodes[in].kind == OP_ZERO || (t->skip && t->skip[in]) ? NULL : r->buf[in];
  }
}

bool cpu_train_node(const BackendTrain *t, int i) {
  const BackendRun *r = &t->run;
  const PlanNode *nd = &r->p->nodes[i];
  Shape ys = shape_of(r, i);
  const float *x = nd->ninputs ? r->buf[nd->inputs[0]] : NULL;
  switch (nd->kind) {
  case OP_CONV: {
    ConvParams cp = conv_params(nd);
    cpu_conv2d(x, shape_of(r, nd->inputs[0]), r->param[nd->param[0]], nd->bias ? r->param[nd->param[1]] : NULL, &cp,
               r->buf[i], ys);
    return true;
  }
  case OP_BN: {
    if (t->bn_eval) return backend_cpu_forward_op(r, i);
    const int j = fused_act(t, i);
    float *rm = t->bn_keep_running ? NULL : t->param_rw[nd->param[2]];
    float *rv = t->bn_keep_running ? NULL : t->param_rw[nd->param[3]];
    if (t->bn_sum)
      return cpu_batchnorm_train_sync(x, ys, r->param[nd->param[0]], r->param[nd->param[1]], rm, rv, t->bn_momentum,
                                      1e-5f, act_code(r->p, j), r->buf[j >= 0 ? j : i], t->bn_save[i],
                                      t->bn_save[i] + ys.c, t->bn_sum);
    cpu_batchnorm_train_act(x, ys, r->param[nd->param[0]], r->param[nd->param[1]], rm, rv, t->bn_momentum, 1e-5f,
                            act_code(r->p, j), r->buf[j >= 0 ? j : i], t->bn_save[i], t->bn_save[i] + ys.c);
    return true;
  }
  case OP_MIX: {
    const float *xs[SQN_PLAN_MAX_INPUTS];
    mix_inputs(t, nd, xs);
    if (!t->mix_w || !t->mix_w[i]) return false;
    cpu_mix(xs, nd->ninputs, t->mix_w[i], ys, r->buf[i]);
    return true;
  }
  case OP_WIDTH: {
    int widths[SQN_PLAN_MAX_INPUTS], k = plan_widths(r->p, nd->superblock, widths);
    return t->mix_w && t->mix_w[i] && cpu_width_mask(x, ys, widths, k, t->mix_w[i], r->buf[i]);
  }
  default: return backend_cpu_forward_op(r, i);
  }
}

/* The gradient buffer of input k, or NULL when the step gives it none. */
static float *dx_of(const BackendTrain *t, const PlanNode *nd, const PlanGradStep *s, int k) {
  return (s->need_dx >> k) & 1 ? t->grad[nd->inputs[k]] : NULL;
}

static bool acc_of(const PlanGradStep *s, int k) { return (s->acc_dx >> k) & 1; }

static void conv_backward(const BackendTrain *t, const PlanNode *nd, const PlanGradStep *s) {
  const BackendRun *r = &t->run;
  ConvParams cp = conv_params(nd);
  Shape xs = shape_of(r, nd->inputs[0]), ys = shape_of(r, nd->id);
  const float *dy = t->grad[nd->id];
  float *dx = dx_of(t, nd, s, 0);
  if (dx) cpu_conv2d_backward_data(dy, ys, r->param[nd->param[0]], &cp, dx, xs, acc_of(s, 0));
  cpu_conv2d_backward_weight(r->buf[nd->inputs[0]], xs, dy, ys, &cp, t->param_grad[nd->param[0]],
                             nd->bias ? t->param_grad[nd->param[1]] : NULL);
}

static bool bn_backward(const BackendTrain *t, const PlanNode *nd, const PlanGradStep *s) {
  const BackendRun *r = &t->run;
  Shape ys = shape_of(r, nd->id);
  float *dx = dx_of(t, nd, s, 0);
  bool acc = acc_of(s, 0);
  if (!dx) dx = t->scratch, acc = false; /* parameter gradients only */
  const float *x = r->buf[nd->inputs[0]], *dy = t->grad[nd->id], *gamma = r->param[nd->param[0]];
  float *dg = t->param_grad[nd->param[0]], *db = t->param_grad[nd->param[1]];
  const int j = fused_act(t, nd->id); /* then dy is the ReLU's output gradient, masked by BN(x) > 0 */
  if (t->bn_eval)
    cpu_batchnorm_backward_eval(x, dy, ys, gamma, r->param[nd->param[2]], r->param[nd->param[3]], 1e-5f, dx, acc, dg, db);
  else if (t->bn_sum)
    return cpu_batchnorm_backward_sync(x, j >= 0 ? t->grad[j] : dy, act_code(r->p, j), ys, gamma, r->param[nd->param[1]],
                                       t->bn_save[nd->id], t->bn_save[nd->id] + ys.c, dx, acc, dg, db, t->bn_sum);
  else if (j >= 0)
    cpu_batchnorm_backward_act(x, t->grad[j], act_code(r->p, j), ys, gamma, r->param[nd->param[1]], t->bn_save[nd->id],
                               t->bn_save[nd->id] + ys.c, dx, acc, dg, db);
  else
    cpu_batchnorm_backward(x, dy, ys, gamma, t->bn_save[nd->id], t->bn_save[nd->id] + ys.c, dx, acc, dg, db);
  return true;
}

static void binary_backward(const BackendTrain *t, const PlanNode *nd, const PlanGradStep *s) {
  const BackendRun *r = &t->run;
  Shape ys = shape_of(r, nd->id);
  for (int k = 0; k < 2; k++) {
    float *dx = dx_of(t, nd, s, k);
    if (!dx) continue;
    Shape xs = shape_of(r, nd->inputs[k]);
    if (nd->kind == OP_ADD || (nd->kind == OP_SUB && k == 0))
      cpu_reduce_to(t->grad[nd->id], ys, dx, xs, acc_of(s, k));
    else if (nd->kind == OP_SUB)
      cpu_sub_backward_b(t->grad[nd->id], ys, dx, xs, acc_of(s, k));
    else
      cpu_mul_backward(t->grad[nd->id], ys, r->buf[nd->inputs[1 - k]], shape_of(r, nd->inputs[1 - k]), dx, xs,
                       acc_of(s, k));
  }
}

static void concat_backward(const BackendTrain *t, const PlanNode *nd, const PlanGradStep *s) {
  const BackendRun *r = &t->run;
  int c0 = 0;
  for (int k = 0; k < nd->ninputs; k++) {
    Shape xs = shape_of(r, nd->inputs[k]);
    float *dx = dx_of(t, nd, s, k);
    if (dx) cpu_concat_backward(t->grad[nd->id], shape_of(r, nd->id), c0, dx, xs, acc_of(s, k));
    c0 += xs.c;
  }
}

/* The candidates' gradients (first written here or added to, as the step says) and the mixing weights' gradient, in
   one pass over the mixture's output gradient. */
static bool mix_backward(const BackendTrain *t, const PlanNode *nd, const PlanGradStep *s) {
  const BackendRun *r = &t->run;
  if (!t->mix_w || !t->mix_w[nd->id]) return false;
  const float *xs[SQN_PLAN_MAX_INPUTS], *none[SQN_PLAN_MAX_INPUTS] = {0};
  float *dxs[SQN_PLAN_MAX_INPUTS];
  mix_inputs(t, nd, xs);
  for (int k = 0; k < nd->ninputs; k++)
    dxs[k] = xs[k] || r->p->nodes[nd->inputs[k]].kind == OP_ZERO ? dx_of(t, nd, s, k) : NULL;
  float *dw = t->mix_dw ? t->mix_dw[nd->id] : NULL;
  return cpu_mix_backward(t->grad[nd->id], shape_of(r, nd->id), dw ? xs : none, nd->ninputs, t->mix_w[nd->id], dxs,
                          s->acc_dx, dw);
}

static bool width_backward(const BackendTrain *t, const PlanNode *nd, const PlanGradStep *s) {
  const BackendRun *r = &t->run;
  if (!t->mix_w || !t->mix_w[nd->id]) return false;
  int widths[SQN_PLAN_MAX_INPUTS], k = plan_widths(r->p, nd->superblock, widths);
  return cpu_width_mask_backward(r->buf[nd->inputs[0]], t->grad[nd->id], shape_of(r, nd->id), widths, k,
                                 t->mix_w[nd->id], dx_of(t, nd, s, 0), acc_of(s, 0), t->mix_dw ? t->mix_dw[nd->id] : NULL);
}

/* maxpool, gmp, pad, softmax, slice, channel_shuffle; false for any other op. */
static bool spatial_backward(const PlanNode *nd, const float *x, Shape xs, const float *y, const float *dy, Shape ys,
                             float *dx, bool acc) {
  switch (nd->kind) {
  case OP_MAXPOOL: {
    ConvParams cp = {nd->kh, nd->kw, nd->sh, nd->sw, nd->ph, nd->pw, nd->dh, nd->dw, 1, CONV_ACT_NONE};
    cpu_maxpool_backward(x, xs, dy, ys, &cp, dx, acc);
    break;
  }
  case OP_GMP: cpu_global_maxpool_backward(x, xs, dy, dx, acc); break;
  case OP_PAD: cpu_pad_backward(dy, ys, nd->crop[0], nd->crop[2], dx, xs, acc); break;
  case OP_SOFTMAX: cpu_softmax_backward(y, dy, ys, dx, acc); break;
  case OP_SLICE: cpu_channel_gather(dy, ys, -nd->slice[0], 1, dx, xs, acc); break;
  case OP_CHANNEL_SHUFFLE: cpu_channel_gather(dy, ys, 0, xs.c / nd->groups, dx, xs, acc); break;
  default: return false;
  }
  return true;
}

/* Ops with one input whose backward needs only shapes and, for activations, a saved value. */
static bool unary_backward(const BackendTrain *t, const PlanNode *nd, const PlanGradStep *s) {
  const BackendRun *r = &t->run;
  float *dx = dx_of(t, nd, s, 0);
  if (!dx) return true;
  bool acc = acc_of(s, 0);
  Shape ys = shape_of(r, nd->id), xs = shape_of(r, nd->inputs[0]);
  const float *dy = t->grad[nd->id], *y = r->buf[nd->id], *x = r->buf[nd->inputs[0]];
  size_t n = shape_numel(ys);
  switch (nd->kind) {
  case OP_RELU: cpu_relu_backward(y, dy, n, dx, acc); break;
  case OP_RELU6: cpu_relu6_backward(y, dy, n, dx, acc); break;
  case OP_SIGMOID: cpu_sigmoid_backward(y, dy, n, dx, acc); break;
  case OP_HSWISH: cpu_hswish_backward(x, dy, n, dx, acc); break;
  case OP_SILU: cpu_silu_backward(x, dy, n, dx, acc); break;
  case OP_HSIGMOID: cpu_hsigmoid_backward(x, dy, n, dx, acc); break;
  case OP_TANH: cpu_tanh_backward(y, dy, n, dx, acc); break;
  case OP_LEAKY_RELU: cpu_leaky_relu_backward(x, dy, n, (float)nd->alpha, dx, acc); break;
  case OP_AFFINE: cpu_affine_backward(dy, n, (float)nd->alpha, dx, acc); break;
  case OP_AVGPOOL: {
    int kh, kw;
    plan_pool_window(nd, r->shapes[nd->inputs[0]], &kh, &kw);
    cpu_avgpool_backward(dy, ys, kh, kw, nd->sh, nd->sw, nd->ph, nd->pw, nd->count_include_pad, dx, xs, acc);
    break;
  }
  case OP_GAP: cpu_global_avgpool_backward(dy, dx, xs, acc); break;
  case OP_BILINEAR: cpu_bilinear_backward(dy, ys, dx, xs, nd->align_corners, acc); break;
  case OP_NEAREST: cpu_nearest_backward(dy, ys, dx, xs, acc); break;
  case OP_CROP: cpu_crop_backward(dy, ys, nd->crop[0], nd->crop[2], dx, xs, acc); break;
  case OP_OUTPUT: cpu_reduce_to(dy, ys, dx, xs, acc); break;
  default: return spatial_backward(nd, x, xs, y, dy, ys, dx, acc);
  }
  return true;
}

/* A ReLU/ReLU6 of a BN, recomputed into the node's buffer from the BN's input and its saved statistics
   (the running ones when BN is frozen), exactly as the forward pass computed it. */
static bool recompute(const BackendTrain *t, const PlanNode *nd) {
  const BackendRun *r = &t->run;
  const PlanNode *bn = &r->p->nodes[nd->inputs[0]];
  Shape s = shape_of(r, nd->id);
  const float *x = r->buf[bn->inputs[0]], *gamma = r->param[bn->param[0]], *beta = r->param[bn->param[1]];
  float *y = r->buf[nd->id];
  if (!t->bn_eval)
    return cpu_batchnorm_apply_saved_act(x, s, gamma, beta, t->bn_save[bn->id], t->bn_save[bn->id] + s.c,
                                         act_code(r->p, nd->id), y), true;
  cpu_batchnorm_infer(x, s, gamma, beta, r->param[bn->param[2]], r->param[bn->param[3]], 1e-5f, y);
  if (nd->kind == OP_RELU) cpu_relu(y, shape_numel(s), y);
  else cpu_relu6(y, shape_numel(s), y);
  return true;
}

bool cpu_backward_step(const BackendTrain *t, const PlanGradStep *s) {
  const PlanNode *nd = &t->run.p->nodes[s->node];
  if (s->kind == PLAN_STEP_RECOMPUTE) return recompute(t, nd);
  switch (nd->kind) {
  case OP_CONV: conv_backward(t, nd, s); return true;
  case OP_BN: return bn_backward(t, nd, s);
  case OP_ADD: case OP_SUB: case OP_MUL: binary_backward(t, nd, s); return true;
  case OP_CONCAT: concat_backward(t, nd, s); return true;
  case OP_MIX: return mix_backward(t, nd, s);
  case OP_WIDTH: return width_backward(t, nd, s);
  default: return unary_backward(t, nd, s);
  }
}
