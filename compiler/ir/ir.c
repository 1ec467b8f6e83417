/* ir.c - building the graph IR: nodes, parameters, parameter role names, default settings. */
#include "ir.h"
#include <stdlib.h>
#include <string.h>

const char *ir_param_role_name(ParamRole r) {
  static const char *const names[PARAM__COUNT] = {"weight", "bias", "weight", "bias", "running_mean",
                                                  "running_var", "gumble_arch_params"};
  return (r >= 0 && r < PARAM__COUNT) ? names[r] : "?";
}

IrGraph *ir_new(Arena *a) {
  IrGraph *g = ARENA_NEW(a, IrGraph);
  g->arena = a;
  g->stem_output = g->encoder_output = g->output = -1;
  ir_default_settings(g);
  return g;
}

/* Arrays grow by doubling; old blocks stay in the arena (compile-time data is small). */
static void *grow(Arena *a, void *old, int count, int *cap, size_t elem) {
  if (count < *cap) return old;
  int ncap = *cap ? *cap * 2 : 64;
  void *p = arena_alloc(a, elem * (size_t)ncap);
  if (old) memcpy(p, old, elem * (size_t)count);
  *cap = ncap;
  return p;
}

int ir_add_node(IrGraph *g, OpKind kind, const int *inputs, int ninputs) {
  g->nodes = grow(g->arena, g->nodes, g->nnodes, &g->cap_nodes, sizeof(IrNode));
  IrNode *n = &g->nodes[g->nnodes];
  memset(n, 0, sizeof *n);
  n->id = g->nnodes;
  n->kind = kind;
  n->ninputs = ninputs > IR_MAX_INPUTS ? IR_MAX_INPUTS : ninputs;
  for (int i = 0; i < n->ninputs; i++) n->inputs[i] = inputs[i];
  n->superblock = n->candidate = n->kernel = n->slot = -1;
  for (int i = 0; i < 4; i++) n->param[i] = -1;
  n->attr = op_attr_default();
  return g->nnodes++;
}

int ir_add_param(IrGraph *g, int node, ParamRole role, const char *name, int ndim, const int *dims) {
  g->params = grow(g->arena, g->params, g->nparams, &g->cap_params, sizeof(IrParam));
  IrParam *p = &g->params[g->nparams];
  memset(p, 0, sizeof *p);
  p->name = name;
  p->role = role;
  p->ndim = ndim;
  p->numel = 1;
  for (int i = 0; i < ndim; i++) {
    p->dims[i] = dims[i];
    p->numel *= dims[i];
  }
  p->trainable = role != PARAM_BN_MEAN && role != PARAM_BN_VAR;
  p->node = node;
  IrNode *n = &g->nodes[node];
  if (n->nparams < 4) n->param[n->nparams++] = g->nparams;
  return g->nparams++;
}

void ir_default_settings(IrGraph *g) {
  /* Defaults from the SqueezeNAS paper (sections 4, 5.3). */
  g->search = (SearchSettings){.objective = OBJ_MACS, .alpha = 0.2, .temp_start = 5.0, .temp_end = 1.0,
                               .prune_below = 0.005, .samples = 200, .warmup_epochs = 0,
                               .arch_lr = 0.001, .epochs = 50, .target_fraction = -1,
                               .budget_lr = 0.05, .skip_limit = 1.0};
  g->train = (TrainSettings){.lr = 0.05, .momentum = 0.9, .weight_decay = 1e-5, .schedule = SCHED_STEP,
                             .milestones = {0.5, 0.75}, .nmilestones = 2, .gamma = 0.1, .poly_power = 0.9,
                             .epochs = 100, .batch = 8, .crop_h = 768, .crop_w = 768};
}
