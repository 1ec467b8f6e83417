/* prune.c - dead-code elimination: ops whose value never reaches the network output are removed
   (they would cost MACs and parameters for nothing), with a warning where the user wrote one. */
#include <stdlib.h>
#include <string.h>
#include "prune.h"

static void mark_live(const IrGraph *g, bool *live) {
  live[0] = true; /* the input always stays */
  if (g->output >= 0) live[g->output] = true;
  for (int i = g->nnodes - 1; i >= 0; i--)
    if (live[i]) {
      for (int k = 0; k < g->nodes[i].ninputs; k++) live[g->nodes[i].inputs[k]] = true;
      if (g->nodes[i].like >= 0) live[g->nodes[i].like] = true; /* its shape sizes this resize */
    }
}

/* A dead op nobody consumes is where an unused value was written (the rest of its chain is dead too). */
static void warn_unused(const IrGraph *g, const bool *live, Diag *d) {
  size_t n = g->nnodes > 0 ? (size_t)g->nnodes : 1;
  int *uses = calloc(n, sizeof *uses);
  for (int i = 0; i < g->nnodes; i++)
    for (int k = 0; k < g->nodes[i].ninputs; k++) uses[g->nodes[i].inputs[k]]++;
  for (int i = 0; i < g->nnodes; i++) {
    const IrNode *n = &g->nodes[i];
    if (live[i] || uses[i] || n->kind == OP_ZERO) continue; /* Zero + residual = identity is expected */
    bool seen = false; /* a block instantiated many times: warn once per source location */
    for (int j = 0; j < i && !seen; j++)
      seen = !live[j] && !uses[j] && g->nodes[j].loc.file == n->loc.file && g->nodes[j].loc.line == n->loc.line &&
             g->nodes[j].loc.col == n->loc.col;
    if (seen) continue;
    diag_warning(d, n->loc, "use its value or delete it", "this %s is never used and is removed from the network",
                 op_name(n->kind));
  }
  free(uses);
}

static int remap(const int *map, int id) { return id < 0 ? -1 : map[id]; }

static void compact_params(IrGraph *g, const int *map) {
  int *pmap = malloc(sizeof(int) * (size_t)(g->nparams + 1));
  int np = 0;
  for (int i = 0; i < g->nparams; i++) {
    pmap[i] = map[g->params[i].node] < 0 ? -1 : np;
    if (pmap[i] < 0) continue;
    g->params[np] = g->params[i];
    g->params[np++].node = map[g->params[i].node];
  }
  g->nparams = np;
  for (int i = 0; i < g->nnodes; i++)
    for (int k = 0; k < g->nodes[i].nparams; k++) g->nodes[i].param[k] = pmap[g->nodes[i].param[k]];
  free(pmap);
}

static void compact_nodes(IrGraph *g, const bool *live, int *map) {
  int n = 0;
  for (int i = 0; i < g->nnodes; i++) {
    map[i] = live[i] ? n++ : -1;
    if (!live[i]) continue;
    IrNode node = g->nodes[i];
    node.id = map[i];
    for (int k = 0; k < node.ninputs; k++) node.inputs[k] = map[node.inputs[k]];
    node.like = node.like < 0 ? -1 : map[node.like];
    g->nodes[map[i]] = node;
  }
  g->nnodes = n;
}

int ir_prune_dead(IrGraph *g, Diag *d) {
  int total = g->nnodes;
  if (total <= 0 || g->output < 0) return 0;
  bool *live = calloc((size_t)total, sizeof *live);
  mark_live(g, live);
  if (g->encoder_output >= 0 && !live[g->encoder_output]) {
    diag_error(d, g->nodes[g->output].loc, "a decoder computes from `in`, the encoder output",
               "the decoder never uses the encoder output, so the network would not depend on it");
    free(live);
    return 0;
  }
  warn_unused(g, live, d);
  int *map = malloc(sizeof(int) * (size_t)total);
  compact_nodes(g, live, map);
  compact_params(g, map);
  for (int s = 0; s < g->nsb; s++) {
    IrSuperblock *sb = &g->sb[s];
    sb->input = remap(map, sb->input);
    sb->output = remap(map, sb->output);
    for (int k = 0; k < sb->ncand; k++) sb->cand[k].output = remap(map, sb->cand[k].output);
  }
  g->stem_output = remap(map, g->stem_output);
  g->encoder_output = remap(map, g->encoder_output);
  g->output = remap(map, g->output);
  free(live);
  free(map);
  return total - g->nnodes;
}
