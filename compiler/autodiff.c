/* autodiff.c - reverse-mode differentiation at compile time. From the forward graph it derives:
   which nodes need gradients (those downstream of a trainable parameter, upstream of the loss),
   the backward program (one step per such node, in reverse order, naming the inputs that receive a
   gradient and whether that gradient is the first contribution or adds to earlier ones), the forward
   values each backward step reads (kept alive past the forward pass), and one buffer plan for the
   whole training program: forward values and gradients share slots wherever their lifetimes do not
   overlap. The runtime executes this program; it never differentiates anything itself. */
#include "autodiff.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint32_t autodiff_reads(const IrGraph *g, const IrNode *n) {
  (void)g;
  switch (n->kind) {
  case OP_CONV: case OP_BN: case OP_HSWISH: return 1u;            /* dW needs x; BN and hswish need x */
  case OP_RELU: case OP_RELU6: case OP_SIGMOID: return GRAD_READS_OUTPUT;
  case OP_MUL: return 3u;                                          /* each factor's gradient needs the other */
  case OP_MIX: return n->ninputs >= 32 ? 0xFFFFFFFFu >> 1 : (1u << n->ninputs) - 1; /* d mixing weights */
  default: return 0;                                               /* add, concat, pools, resizes, crop: shapes only */
  }
}

static bool has_trainable_param(const IrGraph *g, const IrNode *n) {
  for (int k = 0; k < n->nparams; k++)
    if (n->param[k] >= 0 && g->params[n->param[k]].trainable) return true;
  return false;
}

/* requires[i]: the node's value depends on a trainable parameter (so its gradient matters). */
static void find_requires(const IrGraph *g, bool *req) {
  for (int i = 0; i < g->nnodes; i++) {
    const IrNode *n = &g->nodes[i];
    req[i] = false;
    if (n->kind == OP_INPUT || n->kind == OP_ZERO) continue;
    req[i] = has_trainable_param(g, n);
    for (int k = 0; k < n->ninputs && !req[i]; k++) req[i] = req[n->inputs[k]];
  }
}

/* The backward program: reverse sweep from the loss, one step per node that receives a gradient. */
static void build_steps(IrGraph *g, const bool *req, bool *has, int *step_of) {
  IrGradInfo *gi = &g->grad;
  bool *written = calloc((size_t)g->nnodes, sizeof *written);
  gi->steps = arena_alloc(g->arena, sizeof *gi->steps * (size_t)(g->nnodes + 1));
  gi->nsteps = 0;
  for (int i = 0; i < g->nnodes; i++) has[i] = false, step_of[i] = -1;
  if (g->output >= 0 && req[g->output]) has[g->output] = written[g->output] = true; /* the loss writes it */
  for (int i = g->nnodes - 1; i >= 0; i--) {
    const IrNode *n = &g->nodes[i];
    if (!has[i] || !req[i]) continue;
    IrGradStep *s = &gi->steps[gi->nsteps];
    s->node = i, s->need_dx = s->acc_dx = 0;
    for (int k = 0; k < n->ninputs && k < 32; k++) {
      int in = n->inputs[k];
      if (!req[in]) continue;
      s->need_dx |= 1u << k;
      if (written[in]) s->acc_dx |= 1u << k;
      written[in] = has[in] = true;
    }
    step_of[i] = gi->nsteps++;
  }
  free(written);
}

/* Lifetimes on the training timeline: forward node i at time i, the loss at nnodes, backward step s
   at nnodes + 1 + s. Values: 2i = forward value of node i, 2i+1 = its gradient (start < 0: none). */
static void lifetimes(const IrGraph *g, const bool *has, const int *step_of, int *start, int *end) {
  int n = g->nnodes;
  for (int i = 0; i < n; i++) {
    start[2 * i] = end[2 * i] = i;
    start[2 * i + 1] = has[i] ? -2 : -1; /* -2: to be set by the first writer */
    end[2 * i + 1] = has[i] && step_of[i] >= 0 ? n + 1 + step_of[i] : -1;
  }
  if (g->output >= 0) {
    end[2 * g->output] = n;
    if (has[g->output]) start[2 * g->output + 1] = n;
  }
  for (int i = 0; i < n; i++)
    for (int k = 0; k < g->nodes[i].ninputs; k++)
      if (end[2 * g->nodes[i].inputs[k]] < i) end[2 * g->nodes[i].inputs[k]] = i;
  for (int s = 0; s < g->grad.nsteps; s++) {
    const IrGradStep *st = &g->grad.steps[s];
    const IrNode *nd = &g->nodes[st->node];
    int t = n + 1 + s;
    uint32_t reads = autodiff_reads(g, nd);
    if (reads & GRAD_READS_OUTPUT) end[2 * st->node] = t;
    for (int k = 0; k < nd->ninputs && k < 31; k++) {
      int in = nd->inputs[k];
      if ((reads >> k) & 1) end[2 * in] = t;
      if ((st->need_dx >> k) & 1 && start[2 * in + 1] == -2) start[2 * in + 1] = t;
    }
  }
  for (int i = 0; i < n; i++) /* a gradient nobody writes (cannot happen) or nobody reads: keep it consistent */
    if (start[2 * i + 1] == -2) start[2 * i + 1] = end[2 * i + 1] >= 0 ? end[2 * i + 1] : -1;
}

static int64_t value_bytes(const IrGraph *g, int v) {
  Shape s = g->nodes[v / 2].out;
  return (int64_t)s.c * s.h * s.w * 4;
}

/* Linear scan over the timeline: a slot frees after its value's end and goes to the next value that
   fits best (as memplan.c does for inference). */
static void assign_slots(IrGraph *g, const int *start, const int *end, int *slot) {
  int nv = 2 * g->nnodes, T = g->nnodes + 1 + g->grad.nsteps + 1;
  int64_t *size = calloc((size_t)nv + 1, sizeof *size);
  bool *busy = calloc((size_t)nv + 1, sizeof *busy);
  int *by_start = malloc(sizeof(int) * (size_t)(nv + 1)), *by_end = malloc(sizeof(int) * (size_t)(nv + 1));
  int *cnt = calloc((size_t)T + 2, sizeof *cnt), *cnt2 = calloc((size_t)T + 2, sizeof *cnt2);
  for (int v = 0; v < nv; v++) if (start[v] >= 0) cnt[start[v] + 1]++, cnt2[end[v] + 1]++;
  for (int t = 0; t <= T; t++) cnt[t + 1] += cnt[t], cnt2[t + 1] += cnt2[t];
  for (int v = 0; v < nv; v++) if (start[v] >= 0) by_start[cnt[start[v]]++] = v, by_end[cnt2[end[v]]++] = v;
  int nslots = 0, si = 0, ei = 0, nlive = cnt[T];
  for (int t = 0; t < T; t++) {
    while (ei < nlive && end[by_end[ei]] < t) busy[slot[by_end[ei++]]] = false;
    while (si < nlive && start[by_start[si]] == t) {
      int v = by_start[si++], best = -1;
      int64_t need = value_bytes(g, v);
      for (int s = 0; s < nslots; s++) {
        if (busy[s]) continue;
        bool fits = size[s] >= need, best_fits = best >= 0 && size[best] >= need;
        if (best < 0 || (fits != best_fits ? fits : fits ? size[s] < size[best] : size[s] > size[best])) best = s;
      }
      if (best < 0) best = nslots++;
      busy[best] = true;
      if (size[best] < need) size[best] = need;
      slot[v] = best;
    }
  }
  g->grad.nslots = nslots;
  g->grad.slot_bytes = 0;
  for (int s = 0; s < nslots; s++) g->grad.slot_bytes += size[s];
  free(size), free(busy), free(by_start), free(by_end), free(cnt), free(cnt2);
}

static void build_update(IrGraph *g) {
  IrGradInfo *gi = &g->grad;
  gi->update_params = arena_alloc(g->arena, sizeof(int) * (size_t)(g->nparams + 1));
  gi->nupdate = 0;
  for (int p = 0; p < g->nparams; p++)
    if (g->params[p].trainable) gi->update_params[gi->nupdate++] = p;
}

/* Rebuilds has/step_of from the backward program: a node has a gradient exactly when it has a step. */
static void steps_index(const IrGraph *g, bool *has, int *step_of) {
  for (int i = 0; i < g->nnodes; i++) has[i] = false, step_of[i] = -1;
  for (int s = 0; s < g->grad.nsteps; s++) has[g->grad.steps[s].node] = true, step_of[g->grad.steps[s].node] = s;
}

int autodiff_check(const IrGraph *g, char *err, size_t errlen) {
  int n = g->nnodes, nv = 2 * n, bad = 0;
  bool *has = calloc((size_t)n + 1, sizeof *has);
  int *step_of = malloc(sizeof(int) * (size_t)(n + 1));
  int *start = malloc(sizeof(int) * (size_t)(nv + 1)), *end = malloc(sizeof(int) * (size_t)(nv + 1));
  steps_index(g, has, step_of);
  lifetimes(g, has, step_of, start, end);
  for (int a = 0; a < nv && !bad; a++) {
    int sa = a & 1 ? g->grad.grad_slot[a / 2] : g->grad.train_slot[a / 2];
    if (start[a] < 0 || sa < 0) continue;
    for (int b = a + 1; b < nv && !bad; b++) {
      int sb = b & 1 ? g->grad.grad_slot[b / 2] : g->grad.train_slot[b / 2];
      if (start[b] < 0 || sb != sa) continue;
      if (start[a] <= end[b] && start[b] <= end[a])
        bad = snprintf(err, errlen, "%s %d [%d,%d] and %s %d [%d,%d] share training slot %d", a & 1 ? "gradient" : "value",
                       a / 2, start[a], end[a], b & 1 ? "gradient" : "value", b / 2, start[b], end[b], sa) > 0;
    }
  }
  free(has), free(step_of), free(start), free(end);
  return bad;
}

void autodiff(IrGraph *g) {
  int n = g->nnodes, nv = 2 * n;
  IrGradInfo *gi = &g->grad;
  bool *req = calloc((size_t)n + 1, sizeof *req), *has = calloc((size_t)n + 1, sizeof *has);
  int *step_of = malloc(sizeof(int) * (size_t)(n + 1));
  int *start = malloc(sizeof(int) * (size_t)(nv + 1)), *end = malloc(sizeof(int) * (size_t)(nv + 1));
  int *slot = malloc(sizeof(int) * (size_t)(nv + 1));
  find_requires(g, req);
  build_steps(g, req, has, step_of);
  lifetimes(g, has, step_of, start, end);
  for (int v = 0; v < nv; v++) slot[v] = -1;
  assign_slots(g, start, end, slot);
  gi->train_slot = arena_alloc(g->arena, sizeof(int) * (size_t)(n + 1));
  gi->grad_slot = arena_alloc(g->arena, sizeof(int) * (size_t)(n + 1));
  gi->saved = arena_alloc(g->arena, sizeof(bool) * (size_t)(n + 1));
  gi->naive_bytes = 0;
  for (int i = 0; i < n; i++) {
    gi->train_slot[i] = slot[2 * i];
    gi->grad_slot[i] = start[2 * i + 1] >= 0 ? slot[2 * i + 1] : -1;
    gi->saved[i] = end[2 * i] > n;
    gi->naive_bytes += value_bytes(g, 2 * i) * (gi->grad_slot[i] >= 0 ? 2 : 1);
  }
  build_update(g);
  free(req), free(has), free(step_of), free(start), free(end), free(slot);
}
