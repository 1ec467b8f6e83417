/* executor.c - the forward program of a fixed network on the CPU backend (inference: BN uses its
   running statistics). Activations live from their op to their last consumer. */
#include "executor.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "shapes.h"
#include "weights_bind.h"

struct Executor {
  const Plan *p;
  const float **param;   /* per plan parameter */
  float **buf;           /* per node, NULL when not live */
  int *uses, *left;      /* consumers per node; consumers still to run */
  PlanShape *shapes;     /* per node, for the current input size */
  int batch;
  size_t live_bytes, peak_bytes;
  const float *output;
  TShape out_shape;
};

Executor *executor_new(const Plan *p, const TensorSet *weights, char *err, size_t n) {
  if (p->is_space) {
    snprintf(err, n, "%s is a search space: inference needs a fixed network (sqnc a `network` file)", p->name);
    return NULL;
  }
  Executor *x = calloc(1, sizeof *x);
  x->p = p;
  x->param = calloc((size_t)p->nparams + 1, sizeof *x->param);
  x->buf = calloc((size_t)p->nnodes, sizeof *x->buf);
  x->uses = calloc((size_t)p->nnodes, sizeof *x->uses);
  x->left = calloc((size_t)p->nnodes, sizeof *x->left);
  x->shapes = calloc((size_t)p->nnodes, sizeof *x->shapes);
  for (int i = 0; i < p->nnodes; i++)
    for (int k = 0; k < p->nodes[i].ninputs; k++) x->uses[p->nodes[i].inputs[k]]++;
  if (!weights_bind(p, weights, x->param, err, n)) {
    executor_free(x);
    return NULL;
  }
  return x;
}

static TShape shape_of(const Executor *x, int node) {
  PlanShape s = x->shapes[node];
  return (TShape){x->batch, s.c, s.h, s.w};
}

static const float *in_buf(const Executor *x, const PlanNode *nd, int k) { return x->buf[nd->inputs[k]]; }
static TShape in_shape(const Executor *x, const PlanNode *nd, int k) { return shape_of(x, nd->inputs[k]); }
static const float *prm(const Executor *x, const PlanNode *nd, int k) { return x->param[nd->param[k]]; }

static void run_conv(const Executor *x, const PlanNode *nd, float *y) {
  ConvParams cp = {nd->kh, nd->kw, nd->sh, nd->sw, nd->ph, nd->pw, nd->dh, nd->dw, nd->groups};
  cpu_conv2d(in_buf(x, nd, 0), in_shape(x, nd, 0), prm(x, nd, 0), nd->bias ? prm(x, nd, 1) : NULL, &cp, y,
             shape_of(x, nd->id));
}

static void run_concat(const Executor *x, const PlanNode *nd, float *y) {
  const float *xs[SQN_PLAN_MAX_INPUTS];
  TShape ss[SQN_PLAN_MAX_INPUTS];
  for (int k = 0; k < nd->ninputs; k++) xs[k] = in_buf(x, nd, k), ss[k] = in_shape(x, nd, k);
  cpu_concat(xs, ss, nd->ninputs, y, shape_of(x, nd->id));
}

/* Computes node nd into y; false for ops this mode cannot run. */
static bool run_node(const Executor *x, const PlanNode *nd, float *y) {
  TShape ys = shape_of(x, nd->id), s0 = nd->ninputs ? in_shape(x, nd, 0) : ys;
  const float *a = nd->ninputs ? in_buf(x, nd, 0) : NULL;
  size_t numel = tshape_numel(ys);
  switch (nd->kind) {
  case PLAN_OP_CONV: run_conv(x, nd, y); break;
  case PLAN_OP_BN: cpu_batchnorm_infer(a, s0, prm(x, nd, 0), prm(x, nd, 1), prm(x, nd, 2), prm(x, nd, 3), 1e-5f, y); break;
  case PLAN_OP_RELU: cpu_relu(a, numel, y); break;
  case PLAN_OP_RELU6: cpu_relu6(a, numel, y); break;
  case PLAN_OP_SIGMOID: cpu_sigmoid(a, numel, y); break;
  case PLAN_OP_HSWISH: cpu_hswish(a, numel, y); break;
  case PLAN_OP_ADD: cpu_add(a, s0, in_buf(x, nd, 1), in_shape(x, nd, 1), y, ys); break;
  case PLAN_OP_MUL: cpu_mul(a, s0, in_buf(x, nd, 1), in_shape(x, nd, 1), y, ys); break;
  case PLAN_OP_CONCAT: run_concat(x, nd, y); break;
  case PLAN_OP_AVGPOOL:
    cpu_avgpool(a, s0, nd->kh, nd->kw, nd->sh, nd->sw, nd->ph, nd->pw, nd->count_include_pad, y, ys);
    break;
  case PLAN_OP_GAP: cpu_global_avgpool(a, s0, y); break;
  case PLAN_OP_BILINEAR: cpu_bilinear(a, s0, y, ys, nd->align_corners); break;
  case PLAN_OP_NEAREST: cpu_nearest(a, s0, y, ys); break;
  case PLAN_OP_CROP: cpu_crop(a, s0, nd->crop[0], nd->crop[2], y, ys); break;
  case PLAN_OP_ZERO: memset(y, 0, numel * sizeof *y); break;
  case PLAN_OP_OUTPUT: memcpy(y, a, numel * sizeof *y); break;
  default: return false;
  }
  return true;
}

static void release_inputs(Executor *x, const PlanNode *nd) {
  for (int k = 0; k < nd->ninputs; k++) {
    int in = nd->inputs[k];
    if (--x->left[in] == 0 && in != x->p->output) {
      x->live_bytes -= tshape_numel(shape_of(x, in)) * sizeof(float);
      free(x->buf[in]);
      x->buf[in] = NULL;
    }
  }
}

static void reset(Executor *x) {
  for (int i = 0; i < x->p->nnodes; i++) {
    free(x->buf[i]);
    x->buf[i] = NULL;
    x->left[i] = x->uses[i];
  }
  x->live_bytes = x->peak_bytes = 0;
  x->output = NULL;
}

bool executor_run(Executor *x, const float *input, TShape in, char *err, size_t n) {
  if (in.n < 1) return snprintf(err, n, "batch must be at least 1"), false;
  if (!plan_shapes(x->p, (PlanShape){in.c, in.h, in.w}, x->shapes, err, n)) return false;
  x->batch = in.n;
  reset(x);
  for (int i = 0; i < x->p->nnodes; i++) {
    const PlanNode *nd = &x->p->nodes[i];
    size_t bytes = tshape_numel(shape_of(x, i)) * sizeof(float);
    float *y = malloc(bytes ? bytes : 1);
    if (!y) return snprintf(err, n, "out of memory at node %d (%s, %zu bytes)", i, nd->name ? nd->name : "?", bytes), false;
    x->buf[i] = y;
    x->live_bytes += bytes;
    if (x->live_bytes > x->peak_bytes) x->peak_bytes = x->live_bytes;
    if (nd->kind == PLAN_OP_INPUT) memcpy(y, input, bytes);
    else if (!run_node(x, nd, y))
      return snprintf(err, n, "op %s (node %d) cannot run in inference mode", plan_op_name(nd->kind), i), false;
    release_inputs(x, nd);
  }
  x->output = x->buf[x->p->output];
  x->out_shape = shape_of(x, x->p->output);
  return true;
}

const float *executor_output(const Executor *x, TShape *shape) {
  if (shape) *shape = x->out_shape;
  return x->output;
}

size_t executor_peak_bytes(const Executor *x) { return x->peak_bytes; }

void executor_free(Executor *x) {
  if (!x) return;
  if (x->buf)
    for (int i = 0; i < x->p->nnodes; i++) free(x->buf[i]);
  free(x->buf);
  free(x->param);
  free(x->uses);
  free(x->left);
  free(x->shapes);
  free(x);
}
