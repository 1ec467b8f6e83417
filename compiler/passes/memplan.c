/* memplan.c - linear-scan buffer assignment over the node order (the execution order): a slot is
   freed after its value's last use and reused by the next value that fits best (smallest free slot
   at least as large, else the largest free one, which then grows). */
#include "memplan.h"
#include <stdlib.h>
#include <string.h>

static int64_t node_bytes(const IrNode *n) { return (int64_t)n->out.c * n->out.h * n->out.w * 4; }

static bool same_shape(Shape a, Shape b) { return a.c == b.c && a.h == b.h && a.w == b.w; }

/* Elementwise ops may write over their first input when it dies here and nothing broadcasts. */
static bool in_place_ok(const IrGraph *g, const IrNode *n, const int *last_use) {
  bool unary = n->kind == OP_BN || (op_info(n->kind)->flags & OPF_UNARY) || n->kind == OP_OUTPUT;
  bool binary = n->kind == OP_ADD || n->kind == OP_SUB || n->kind == OP_MUL;
  if (!unary && !binary) return false;
  int in = n->inputs[0];
  if (last_use[in] != n->id || in == 0) return false; /* the input image stays the caller's */
  for (int k = 0; k < n->ninputs; k++)
    if (!same_shape(g->nodes[n->inputs[k]].out, n->out) || (k && n->inputs[k] == in)) return false;
  return true;
}

static int pick_slot(const int64_t *size, const bool *free_slot, int nslots, int64_t need) {
  int best = -1;
  for (int s = 0; s < nslots; s++) {
    if (!free_slot[s]) continue;
    if (best < 0) { best = s; continue; }
    bool fits = size[s] >= need, best_fits = size[best] >= need;
    if (fits != best_fits ? fits : fits ? size[s] < size[best] : size[s] > size[best]) best = s;
  }
  return best;
}

void memplan(IrGraph *g) {
  int n = g->nnodes;
  int *last_use = malloc(sizeof(int) * (size_t)(n + 1));
  int64_t *size = calloc((size_t)n + 1, sizeof *size);
  bool *free_slot = calloc((size_t)n + 1, sizeof *free_slot);
  for (int i = 0; i < n; i++) last_use[i] = i == g->output ? n : i; /* the output lives to the end */
  for (int i = 0; i < n; i++)
    for (int k = 0; k < g->nodes[i].ninputs; k++)
      if (last_use[g->nodes[i].inputs[k]] < i) last_use[g->nodes[i].inputs[k]] = i;
  int nslots = 0;
  g->naive_bytes = 0;
  for (int i = 0; i < n; i++) {
    IrNode *nd = &g->nodes[i];
    int64_t need = node_bytes(nd);
    g->naive_bytes += need;
    int s = in_place_ok(g, nd, last_use) ? g->nodes[nd->inputs[0]].slot : pick_slot(size, free_slot, nslots, need);
    if (s < 0) s = nslots++;
    free_slot[s] = false;
    if (size[s] < need) size[s] = need;
    nd->slot = s;
    for (int k = 0; k < nd->ninputs; k++) { /* inputs whose last use is here free their slots */
      const IrNode *in = &g->nodes[nd->inputs[k]];
      if (last_use[in->id] == i && in->slot != s) free_slot[in->slot] = true;
    }
    if (last_use[i] == i && i != g->output) free_slot[s] = true; /* a value nobody reads */
  }
  g->nslots = nslots;
  g->slot_bytes = 0;
  for (int s = 0; s < nslots; s++) g->slot_bytes += size[s];
  free(last_use);
  free(size);
  free(free_slot);
}

/* Verifies a plan: two nodes share a slot only if one's value is dead before the other is written
   (or the other computes in place from it, as its first input, at its last use). */
int memplan_check(const IrGraph *g, char *err, size_t n) {
  int nn = g->nnodes;
  int *last_use = malloc(sizeof(int) * (size_t)(nn + 1));
  for (int i = 0; i < nn; i++) last_use[i] = i == g->output ? nn : i;
  for (int i = 0; i < nn; i++)
    for (int k = 0; k < g->nodes[i].ninputs; k++)
      if (last_use[g->nodes[i].inputs[k]] < i) last_use[g->nodes[i].inputs[k]] = i;
  int bad = 0;
  for (int j = 0; j < nn && !bad; j++) {
    const IrNode *b = &g->nodes[j];
    if (b->slot < 0 || b->slot >= g->nslots) bad = snprintf(err, n, "node %d has slot %d of %d", j, b->slot, g->nslots) > 0;
    for (int i = 0; i < j && !bad; i++) {
      const IrNode *a = &g->nodes[i];
      bool in_place = b->ninputs && b->inputs[0] == i && last_use[i] == j;
      if (a->slot == b->slot && last_use[i] >= j && !in_place)
        bad = snprintf(err, n, "nodes %d and %d share slot %d while %d is live until %d", i, j, a->slot, i, last_use[i]) > 0;
    }
  }
  free(last_use);
  return bad;
}
