/* cost.c - the cost model: MACs (convolutions only, out_elems * kh * kw * cin / groups, as upstream's
   countmacs) and trainable parameters (conv weight/bias, BN weight/bias) per node, candidate and graph.
   Elementwise ops (activations, add, sub, mul, affine, width masks), pools, resizes and concat cost nothing.
   In a space with width choices, the bounds also range over every width a candidate may have (a bound: widths
   of neighbouring superblocks are not tied together). */
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

static void cost_bounds(int64_t v, int64_t *lo, int64_t *hi) {
  if (v < *lo) *lo = v;
  if (v > *hi) *hi = v;
}

int ir_width_count(const IrGraph *g, int width_sb) { return width_sb < 0 ? 1 : g->sb[width_sb].ncand; }

int ir_width_pairs(const IrGraph *g, const IrCandidate *c) {
  return c->wmacs ? ir_width_count(g, c->cost_in) * ir_width_count(g, c->cost_out) : 0;
}

void ir_superblock_bounds(const IrGraph *g, const IrSuperblock *sb, int64_t b[4]) {
  int64_t mlo = INT64_MAX, mhi = 0, plo = INT64_MAX, phi = 0;
  for (int k = 0; k < sb->ncand; k++) {
    const IrCandidate *c = &sb->cand[k];
    cost_bounds(c->macs, &mlo, &mhi);
    cost_bounds(c->params, &plo, &phi);
    for (int w = 0; w < ir_width_pairs(g, c); w++) /* at every width it may have */
      if (c->wmacs[w] >= 0) cost_bounds(c->wmacs[w], &mlo, &mhi), cost_bounds(c->wparams[w], &plo, &phi);
  }
  if (!sb->ncand) mlo = plo = 0;
  b[0] = mlo, b[1] = mhi, b[2] = plo, b[3] = phi;
}

void ir_width_shift(const IrGraph *g, int64_t shift[2]) {
  shift[0] = shift[1] = 0;
  for (int s = 0; s < g->nsb; s++) /* the nodes are built at the widest width, the last candidate */
    if (g->sb[s].is_width && g->sb[s].ncand)
      shift[0] += g->sb[s].cand[g->sb[s].ncand - 1].tail_macs, shift[1] += g->sb[s].cand[g->sb[s].ncand - 1].tail_params;
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
  for (int s = 0; s < g->nsb; s++) /* width choices: the head and decoder's part that depends on them */
    for (int k = 0; g->sb[s].is_width && k < g->sb[s].ncand; k++)
      g->sb[s].cand[k].macs = g->sb[s].cand[k].tail_macs, g->sb[s].cand[k].params = g->sb[s].cand[k].tail_params;
  int64_t shift[2];
  ir_width_shift(g, shift);
  t->fixed_macs -= shift[0], t->fixed_params -= shift[1];
  for (int i = 0; i < g->nparams; i++)
    if (g->params[i].role == PARAM_ARCH) t->arch_params += g->params[i].numel;
  t->macs_min = t->macs_max = t->fixed_macs;
  t->params_min = t->params_max = t->fixed_params;
  for (int s = 0; s < g->nsb; s++) {
    int64_t b[4];
    ir_superblock_bounds(g, &g->sb[s], b);
    t->macs_min += b[0], t->macs_max += b[1], t->params_min += b[2], t->params_max += b[3];
  }
  /* a fixed network has one architecture: min = max = its cost */
  t->macs = g->is_space ? t->macs_min : t->macs_max;
  t->params = g->is_space ? t->params_min : t->all_params;
}
