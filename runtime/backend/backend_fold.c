/* backend_fold.c - BN folding and activation epilogues for inference (backend_fold.h), shared by the
   CPU and CUDA backends so both compute the same network. */
#include "backend_fold.h"
#include <math.h>
#include <stdlib.h>
#include "cpu_ops.h"

/* conv -> BN inside one fused kernel that folds BN: y = conv(x, w * s) + (b - mean) * s + beta,
   s = gamma / sqrt(var + eps), the same arithmetic as BN applied to the conv's output. */
static void fold_one(BackendFold *f, const Plan *p, const float *const *param, const PlanNode *conv,
                     const PlanNode *bn) {
  const float *w = param[conv->param[0]], *b = conv->bias ? param[conv->param[1]] : NULL;
  const float *g = param[bn->param[0]], *be = param[bn->param[1]];
  const float *m = param[bn->param[2]], *v = param[bn->param[3]];
  int cout = conv->out.c;
  size_t per = p->params[conv->param[0]].numel / cout;
  float *fw = malloc(sizeof *fw * per * cout), *fb = malloc(sizeof *fb * cout);
  for (int o = 0; o < cout; o++) {
    float s = g[o] / sqrtf(v[o] + 1e-5f);
    for (size_t k = 0; k < per; k++) fw[o * per + k] = w[o * per + k] * s;
    fb[o] = ((b ? b[o] : 0.0f) - m[o]) * s + be[o];
  }
  f->folded_w[conv->id] = fw, f->folded_b[conv->id] = fb;
  f->bn_folded[bn->id] = true;
}

static void fold_batchnorms(BackendFold *f, const Plan *p, const float *const *param, const int *uses) {
  for (int i = 0; i < p->nnodes; i++) {
    const PlanNode *bn = &p->nodes[i];
    if (bn->kind != OP_BN || bn->kernel < 0 || !p->kernels[bn->kernel].folds_bn) continue;
    const PlanNode *conv = &p->nodes[bn->inputs[0]];
    if (conv->kind == OP_CONV && conv->kernel == bn->kernel && uses[conv->id] == 1) fold_one(f, p, param, conv, bn);
  }
}

/* relu/relu6 right after a conv (or a conv with its BN folded) in one fused kernel, as that conv's
   epilogue: the value before the activation has no other reader. */
static void fuse_activations(BackendFold *f, const Plan *p, const int *uses) {
  for (int i = 0; i < p->nnodes; i++) {
    const PlanNode *act = &p->nodes[i];
    if ((act->kind != OP_RELU && act->kind != OP_RELU6) || act->kernel < 0) continue;
    int pre = act->inputs[0], conv = f->bn_folded[pre] ? p->nodes[pre].inputs[0] : pre;
    if (p->nodes[conv].kind != OP_CONV || p->nodes[conv].kernel != act->kernel || uses[pre] != 1) continue;
    f->conv_act[conv] = act->kind == OP_RELU ? CONV_ACT_RELU : CONV_ACT_RELU6;
    f->act_fused[i] = true;
  }
}

bool backend_fold_none(BackendFold *f, const Plan *p) {
  size_t nn = (size_t)p->nnodes;
  f->folded_w = calloc(nn, sizeof *f->folded_w);
  f->folded_b = calloc(nn, sizeof *f->folded_b);
  f->bn_folded = calloc(nn, sizeof *f->bn_folded);
  f->act_fused = calloc(nn, sizeof *f->act_fused);
  f->conv_act = calloc(nn, sizeof *f->conv_act);
  return f->folded_w && f->folded_b && f->bn_folded && f->act_fused && f->conv_act;
}

bool backend_fold(BackendFold *f, const Plan *p, const float *const *param, const int *uses) {
  if (!backend_fold_none(f, p)) return false;
  fold_batchnorms(f, p, param, uses);
  fuse_activations(f, p, uses);
  return true;
}

void backend_fold_drop_values(BackendFold *f, const Plan *p) {
  for (int i = 0; f->folded_w && f->folded_b && i < p->nnodes; i++) {
    free(f->folded_w[i]), free(f->folded_b[i]);
    f->folded_w[i] = f->folded_b[i] = NULL;
  }
}

void backend_fold_free(BackendFold *f, const Plan *p) {
  backend_fold_drop_values(f, p);
  free(f->folded_w);
  free(f->folded_b);
  free(f->bn_folded);
  free(f->act_fused);
  free(f->conv_act);
  *f = (BackendFold){0};
}
