/* cost.c - the cost model: MACs (convolutions only, out_elems * kh * kw * cin / groups, as upstream's
   countmacs) and trainable parameters (conv weight/bias, BN weight/bias) per node, candidate and graph.
   Elementwise ops (activations, add, sub, mul, affine), pools, resizes and concat cost nothing. */
#include <string.h>
#include "ir.h"

static void node_cost(IrGraph *g, IrNode *n) {
  n->macs = 0;
  n->params = 0;
  if (n->kind == OP_CONV) {
    int cin = g->nodes[n->inputs[0]].out.c;
    n->macs = (int64_t)n->out.c * n->out.h * n->out.w * n->kh * n->kw * (cin / n->groups);
  }
  for (int i = 0; i < n->nparams; i++) {
    const IrParam *p = &g->params[n->param[i]];
    if (p->trainable && p->role != PARAM_ARCH) n->params += p->numel;
  }
}

void ir_compute_costs(IrGraph *g, IrCostTotals *t) {
  memset(t, 0, sizeof *t);
  for (int s = 0; s < g->nsb; s++)
    for (int k = 0; k < g->sb[s].ncand; k++) g->sb[s].cand[k].macs = g->sb[s].cand[k].params = 0;
  for (int i = 0; i < g->nnodes; i++) {
    IrNode *n = &g->nodes[i];
    node_cost(g, n);
    t->all_params += n->params;
    if (n->superblock < 0 || n->candidate < 0) {
      t->fixed_macs += n->macs;
      t->fixed_params += n->params;
    } else {
      IrCandidate *c = &g->sb[n->superblock].cand[n->candidate];
      c->macs += n->macs;
      c->params += n->params;
    }
  }
  for (int i = 0; i < g->nparams; i++)
    if (g->params[i].role == PARAM_ARCH) t->arch_params += g->params[i].numel;
  t->macs_min = t->macs_max = t->fixed_macs;
  t->params_min = t->params_max = t->fixed_params;
  for (int s = 0; s < g->nsb; s++) {
    const IrSuperblock *sb = &g->sb[s];
    int64_t mlo = INT64_MAX, mhi = 0, plo = INT64_MAX, phi = 0;
    for (int k = 0; k < sb->ncand; k++) {
      const IrCandidate *c = &sb->cand[k];
      if (c->macs < mlo) mlo = c->macs;
      if (c->macs > mhi) mhi = c->macs;
      if (c->params < plo) plo = c->params;
      if (c->params > phi) phi = c->params;
    }
    if (!sb->ncand) mlo = plo = 0;
    t->macs_min += mlo, t->macs_max += mhi, t->params_min += plo, t->params_max += phi;
  }
  /* a fixed network has one architecture: min = max = its cost */
  t->macs = g->is_space ? t->macs_min : t->macs_max;
  t->params = g->is_space ? t->params_min : t->all_params;
}
