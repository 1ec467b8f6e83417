/* backend_cpu.c - the CPU backend: every op of an inference program through the kernels of
   cpu_ops.h. At prepare time BN is folded into the preceding conv and relu/relu6 become conv
   epilogues wherever the plan's fused kernels group them (backend_fold.h), and the inverted residuals whose
   BN and activations all folded run as one kernel (cpu_fused_ir) when the executor asks (Backend.run_group). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend_cpu.h"
#include "backend_cpu_train.h"
#include "cpu_ops.h"
#include "shapes.h"

static Shape shape_of(const BackendRun *r, int node) {
  Shape s = r->shapes[node];
  return (Shape){r->batch, s.c, s.h, s.w};
}

static const float *in_buf(const BackendRun *r, const PlanNode *nd, int k) { return r->buf[nd->inputs[k]]; }
static Shape in_shape(const BackendRun *r, const PlanNode *nd, int k) { return shape_of(r, nd->inputs[k]); }
static const float *prm(const BackendRun *r, const PlanNode *nd, int k) { return r->param[nd->param[k]]; }

static void run_conv(const CpuState *x, const BackendRun *r, const PlanNode *nd, float *y) {
  ConvParams cp = {nd->kh, nd->kw, nd->sh, nd->sw, nd->ph, nd->pw, nd->dh, nd->dw, nd->groups, x->f.conv_act[nd->id]};
  const float *w = x->f.folded_w[nd->id] ? x->f.folded_w[nd->id] : prm(r, nd, 0);
  const float *b = x->f.folded_b[nd->id] ? x->f.folded_b[nd->id] : nd->bias ? prm(r, nd, 1) : NULL;
  cpu_conv2d(in_buf(r, nd, 0), in_shape(r, nd, 0), w, b, &cp, y, shape_of(r, nd->id));
}

static void run_concat(const BackendRun *r, const PlanNode *nd, float *y) {
  const float *xs[SQN_PLAN_MAX_INPUTS];
  Shape ss[SQN_PLAN_MAX_INPUTS];
  for (int k = 0; k < nd->ninputs; k++) xs[k] = in_buf(r, nd, k), ss[k] = in_shape(r, nd, k);
  cpu_concat(xs, ss, nd->ninputs, y, shape_of(r, nd->id));
}

/* The ops that compute the same in inference and training (everything but conv, BN, mix and the
   activations a conv may have absorbed); false for any other op. */
bool backend_cpu_forward_op(const BackendRun *r, int i) {
  const PlanNode *nd = &r->p->nodes[i];
  float *y = r->buf[i];
  Shape ys = shape_of(r, nd->id), s0 = nd->ninputs ? in_shape(r, nd, 0) : ys;
  const float *a = nd->ninputs ? in_buf(r, nd, 0) : NULL;
  size_t numel = shape_numel(ys);
  switch (nd->kind) {
  case OP_BN: /* inference: running statistics */
    cpu_batchnorm_infer(a, s0, prm(r, nd, 0), prm(r, nd, 1), prm(r, nd, 2), prm(r, nd, 3), 1e-5f, y); break;
  case OP_RELU: cpu_relu(a, numel, y); break;
  case OP_RELU6: cpu_relu6(a, numel, y); break;
  case OP_SIGMOID: cpu_sigmoid(a, numel, y); break;
  case OP_HSWISH: cpu_hswish(a, numel, y); break;
  case OP_SILU: cpu_silu(a, numel, y); break;
  case OP_HSIGMOID: cpu_hsigmoid(a, numel, y); break;
  case OP_TANH: cpu_tanh(a, numel, y); break;
  case OP_LEAKY_RELU: cpu_leaky_relu(a, numel, (float)nd->alpha, y); break;
  case OP_AFFINE: cpu_affine(a, numel, (float)nd->alpha, (float)nd->beta, y); break;
  case OP_SUB: cpu_sub(a, s0, in_buf(r, nd, 1), in_shape(r, nd, 1), y, ys); break;
  case OP_ADD: cpu_add(a, s0, in_buf(r, nd, 1), in_shape(r, nd, 1), y, ys); break;
  case OP_MUL: cpu_mul(a, s0, in_buf(r, nd, 1), in_shape(r, nd, 1), y, ys); break;
  case OP_CONCAT: run_concat(r, nd, y); break;
  case OP_AVGPOOL: {
    int kh, kw;
    plan_pool_window(nd, r->shapes[nd->inputs[0]], &kh, &kw);
    cpu_avgpool(a, s0, kh, kw, nd->sh, nd->sw, nd->ph, nd->pw, nd->count_include_pad, y, ys);
    break;
  }
  case OP_GAP: cpu_global_avgpool(a, s0, y); break;
  case OP_BILINEAR: cpu_bilinear(a, s0, y, ys, nd->align_corners); break;
  case OP_NEAREST: cpu_nearest(a, s0, y, ys); break;
  case OP_CROP: cpu_crop(a, s0, nd->crop[0], nd->crop[2], y, ys); break;
  case OP_MAXPOOL: {
    ConvParams cp = {nd->kh, nd->kw, nd->sh, nd->sw, nd->ph, nd->pw, nd->dh, nd->dw, 1, CONV_ACT_NONE};
    cpu_maxpool(a, s0, &cp, y, ys);
    break;
  }
  case OP_GMP: cpu_global_maxpool(a, s0, y); break;
  case OP_PAD: cpu_pad(a, s0, nd->crop[0], nd->crop[2], (float)nd->pad_value, y, ys); break;
  case OP_SOFTMAX: cpu_softmax(a, s0, y); break;
  case OP_SLICE: cpu_channel_gather(a, s0, nd->slice[0], 1, y, ys, false); break;
  case OP_CHANNEL_SHUFFLE: cpu_channel_gather(a, s0, 0, nd->groups, y, ys, false); break;
  case OP_INPUT: break; /* the executor copies the input in */
  case OP_ZERO: memset(y, 0, numel * sizeof *y); break;
  case OP_OUTPUT: if (y != a) memcpy(y, a, numel * sizeof *y); break;
  default: return false;
  }
  return true;
}

/* Computes node i into its buffer; false for ops the CPU backend cannot run in inference mode. */
static bool cpu_run_node(void *state, const BackendRun *r, int i) {
  const CpuState *x = state;
  const PlanNode *nd = &r->p->nodes[i];
  float *y = r->buf[i];
  const float *a = nd->ninputs ? in_buf(r, nd, 0) : NULL;
  size_t numel = shape_numel(shape_of(r, i));
  switch (nd->kind) {
  case OP_CONV: run_conv(x, r, nd, y); return true;
  case OP_BN:
    if (!x->f.bn_folded[i]) break;
    if (y != a) memcpy(y, a, numel * sizeof *y); /* the identity: the conv already applied it */
    return true;
  case OP_RELU: case OP_RELU6:
    if (!x->f.act_fused[i]) break;
    if (y != a) memcpy(y, a, numel * sizeof *y); /* the conv's epilogue applied it */
    return true;
  default: break;
  }
  return backend_cpu_forward_op(r, i);
}

void cpu_release(void *state) {
  CpuState *x = state;
  if (!x) return;
  backend_fold_free(&x->f, x->p);
  free(x->marks);
  free(x->group);
  free(x->scratch);
  free(x);
}

static bool is_1x1(const PlanNode *c) {
  return c->kind == OP_CONV && c->kh == 1 && c->kw == 1 && c->sh == 1 && c->sw == 1 && c->ph == 0 && c->pw == 0;
}

/* Whether cpu_fused_ir computes plan kernel k: an inverted residual whose three BNs were folded and whose two
   activations became conv epilogues, with 1x1 convs of stride 1 around a depthwise one cpu_fused_ir takes. */
static bool fusable(const CpuState *x, const PlanKernel *k) {
  const Plan *p = x->p;
  if (k->kind != PLAN_KERNEL_INVERTED_RESIDUAL || (k->nnodes != 8 && k->nnodes != 9)) return false;
  const int *v = k->nodes;
  const PlanNode *dw = &p->nodes[v[3]];
  return is_1x1(&p->nodes[v[0]]) && is_1x1(&p->nodes[v[6]]) && dw->kind == OP_CONV && dw->groups == dw->out.c &&
         dw->kh <= CPU_FUSED_IR_MAX_K && dw->kw <= CPU_FUSED_IR_MAX_K &&
         x->f.bn_folded[v[1]] && x->f.bn_folded[v[4]] && x->f.bn_folded[v[7]] && x->f.act_fused[v[2]] &&
         x->f.act_fused[v[5]] && x->f.folded_w[v[0]] && x->f.folded_w[v[3]] && x->f.folded_w[v[6]] &&
         (k->nnodes == 8 || p->nodes[v[8]].kind == OP_ADD);
}

static int cpu_group_at(void *state, int i) {
  const CpuState *x = state;
  return x->group ? x->group[i] : -1;
}

static bool cpu_run_group(void *state, const BackendRun *r, int kernel) {
  CpuState *x = state;
  const PlanKernel *k = &x->p->kernels[kernel];
  const PlanNode *c1 = &r->p->nodes[k->nodes[0]], *dw = &r->p->nodes[k->nodes[3]], *c2 = &r->p->nodes[k->nodes[6]];
  const BackendFold *f = &x->f;
  FusedIr ir = {f->folded_w[c1->id], f->folded_b[c1->id], c1->groups, f->conv_act[c1->id],
                f->folded_w[dw->id], f->folded_b[dw->id], dw->kh, dw->kw, dw->sh, dw->sw, dw->ph, dw->pw, dw->dh, dw->dw,
                f->conv_act[dw->id], f->folded_w[c2->id], f->folded_b[c2->id], c2->groups, dw->out.c, k->nnodes == 9};
  const Shape xs = in_shape(r, c1, 0), ys = shape_of(r, k->output);
  const size_t need = cpu_fused_ir_scratch(&ir, xs, ys);
  if (need > x->scratch_floats) {
    free(x->scratch);
    if (!(x->scratch = malloc(need * sizeof(float)))) return x->scratch_floats = 0, false;
    x->scratch_floats = need;
  }
  cpu_fused_ir(in_buf(r, c1, 0), xs, &ir, x->scratch, r->buf[k->output], ys);
  return true;
}

static void *cpu_prepare(const Plan *p, const float *const *param, const int *uses, char *err, size_t n) {
  CpuState *x = calloc(1, sizeof *x);
  if (x) x->p = p, x->group = malloc(sizeof *x->group * (size_t)(p->nnodes + 1));
  if (!x || !x->group || !backend_fold(&x->f, p, param, uses))
    return cpu_release(x), snprintf(err, n, "out of memory"), NULL;
  for (int i = 0; i < p->nnodes; i++) x->group[i] = -1;
  for (int k = 0; k < p->nkernels; k++)
    if (fusable(x, &p->kernels[k])) x->group[p->kernels[k].nodes[0]] = k;
  return x;
}

const Backend backend_cpu = {.name = "cpu", .prepare = cpu_prepare, .run_node = cpu_run_node, .release = cpu_release,
                             .group_at = cpu_group_at, .run_group = cpu_run_group,
                             .train_node = cpu_train_node, .backward_step = cpu_backward_step, .dev = &backend_cpu_device,
                             .train_bn_act = true};
