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
  case OP_SILU: case OP_HSIGMOID: case OP_LEAKY_RELU: return 1u;  /* their derivatives are functions of x */
  case OP_MAXPOOL: case OP_GMP: return 1u;                         /* the argmax is found in x again */
  case OP_RELU: case OP_RELU6: case OP_SIGMOID: case OP_TANH: return GRAD_READS_OUTPUT;
  case OP_SOFTMAX: return GRAD_READS_OUTPUT;                       /* dx = y * (dy - sum(dy * y)) */
  case OP_MUL: return 3u;                                          /* each factor's gradient needs the other */
  case OP_MIX: return n->ninputs >= 32 ? 0xFFFFFFFFu >> 1 : (1u << n->ninputs) - 1; /* d mixing weights */
  case OP_WIDTH: return 1u;                                        /* d mixing weights: sums of x * dy per channel */
  default: return 0; /* add, sub, affine, concat, avg pools, resizes, crop, pad, slice, channel_shuffle: shapes only */
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
static void build_steps(IrGraph *g, const bool *req, bool *has) {
  IrGradInfo *gi = &g->grad;
  bool *written = calloc((size_t)g->nnodes, sizeof *written);
  gi->steps = arena_alloc(g->arena, sizeof *gi->steps * (size_t)(2 * g->nnodes + 1));
  gi->nsteps = 0;
  for (int i = 0; i < g->nnodes; i++) has[i] = false;
  if (g->output >= 0 && req[g->output]) has[g->output] = written[g->output] = true; /* the loss writes it */
  for (int i = g->nnodes - 1; i >= 0; i--) {
    const IrNode *n = &g->nodes[i];
    if (!has[i] || !req[i]) continue;
    IrGradStep *s = &gi->steps[gi->nsteps++];
    s->kind = GRAD_STEP_BACKWARD, s->node = i, s->need_dx = s->acc_dx = 0;
    for (int k = 0; k < n->ninputs && k < 32; k++) {
      int in = n->inputs[k];
      if (!req[in]) continue;
      s->need_dx |= 1u << k;
      if (written[in]) s->acc_dx |= 1u << k;
      written[in] = has[in] = true;
    }
  }
  free(written);
}

/* Calls fn(node) for every forward value backward step s reads. */
static void for_reads(const IrGraph *g, const IrGradStep *s, void (*fn)(void *ctx, int v), void *ctx) {
  const IrNode *nd = &g->nodes[s->node];
  if (s->kind == GRAD_STEP_RECOMPUTE) { /* a ReLU: the BN's input; a conv: its input */
    fn(ctx, nd->kind == OP_CONV ? nd->inputs[0] : g->nodes[nd->inputs[0]].inputs[0]);
    return;
  }
  uint32_t reads = autodiff_reads(g, nd);
  if (reads & GRAD_READS_OUTPUT) fn(ctx, s->node);
  for (int k = 0; k < nd->ninputs && k < 31; k++)
    if ((reads >> k) & 1) fn(ctx, nd->inputs[k]);
}

static void count_read(void *ctx, int v) { ((bool *)ctx)[v] = true; }

/* A conv whose output only a BN reads and that is cheap to run again for the memory it holds: a depthwise
   conv (unless g->recompute is IR_RECOMPUTE_ACT), or with IR_RECOMPUTE_ALL one that widens (1x1 expansions,
   the stem: they cost a second run of their MACs). Its input must be there in the backward pass anyway
   (read by a backward step, its own dW in particular, or itself recomputed). */
static bool recompute_conv(const IrGraph *g, const IrNode *n, const int *uses, const bool *read, const bool *rec) {
  if (n->kind != OP_CONV || n->ninputs != 1 || n->id == g->output || !read[n->id] || uses[n->id] != 1) return false;
  const IrNode *in = &g->nodes[n->inputs[0]];
  bool consumer_bn = false;
  for (int j = n->id + 1; j < g->nnodes && !consumer_bn; j++)
    consumer_bn = g->nodes[j].kind == OP_BN && g->nodes[j].ninputs == 1 && g->nodes[j].inputs[0] == n->id;
  if (!consumer_bn || in->kind == OP_INPUT || !(read[in->id] || rec[in->id])) return false;
  bool depthwise = n->groups == in->out.c && n->out.c == in->out.c;
  return depthwise ? g->recompute != IR_RECOMPUTE_ACT : g->recompute == IR_RECOMPUTE_ALL && n->out.c > in->out.c;
}

/* Values recomputed in the backward pass instead of being kept from the forward pass to it:
   - a ReLU/ReLU6 of a BN that only it reads, from the BN's input (kept for the BN's backward anyway) and the
     BN's saved statistics;
   - the convs recompute_conv picks: by default the depthwise ones, so an inverted residual keeps one of its
     two expanded tensors to the backward pass; with IR_RECOMPUTE_ALL it keeps only its input and its
     projection's output, and its expanded tensors exist only while its backward runs. */
static void choose_recompute(const IrGraph *g, bool *rec) {
  int *uses = calloc((size_t)g->nnodes + 1, sizeof *uses);
  bool *read = calloc((size_t)g->nnodes + 1, sizeof *read);
  for (int i = 0; i < g->nnodes; i++)
    for (int k = 0; k < g->nodes[i].ninputs; k++) uses[g->nodes[i].inputs[k]]++;
  for (int s = 0; s < g->grad.nsteps; s++) for_reads(g, &g->grad.steps[s], count_read, read);
  for (int i = 0; i < g->nnodes; i++) {
    const IrNode *n = &g->nodes[i];
    rec[i] = false;
    if (recompute_conv(g, n, uses, read, rec)) {
      rec[i] = true;
      continue;
    }
    if ((n->kind != OP_RELU && n->kind != OP_RELU6) || i == g->output || !read[i]) continue;
    const IrNode *bn = &g->nodes[n->inputs[0]];
    rec[i] = bn->kind == OP_BN && uses[bn->id] == 1 && bn->id != g->output;
  }
  free(uses), free(read);
}

typedef struct Insert { IrGraph *g; const bool *rec; bool *done; IrGradStep *out; int n; } Insert;

static void recompute_before(void *ctx, int v) {
  Insert *x = ctx;
  if (!x->rec[v] || x->done[v]) return;
  x->done[v] = true;
  IrGradStep step = {GRAD_STEP_RECOMPUTE, v, 0, 0};
  for_reads(x->g, &step, recompute_before, x); /* what it is computed from, when that is recomputed too */
  x->out[x->n++] = step;
}

/* A recompute step right before the first step that reads each recomputed value. */
static void insert_recomputes(IrGraph *g, const bool *rec) {
  IrGradInfo *gi = &g->grad;
  Insert x = {g, rec, calloc((size_t)g->nnodes + 1, sizeof(bool)), arena_alloc(g->arena, sizeof(IrGradStep) * (size_t)(2 * g->nnodes + 1)), 0};
  for (int s = 0; s < gi->nsteps; s++) {
    if (gi->steps[s].kind == GRAD_STEP_BACKWARD) for_reads(g, &gi->steps[s], recompute_before, &x);
    x.out[x.n++] = gi->steps[s];
  }
  gi->steps = x.out, gi->nsteps = x.n;
  free(x.done);
}

/* Lifetimes on the training timeline: forward node i at time i, the loss at nnodes, step s at
   nnodes + 1 + s. Values: 3i = node i's forward value, 3i+1 its gradient, 3i+2 its recomputed value
   (start < 0: the value does not exist). */
typedef struct Life { const IrGraph *g; int *start, *end; const bool *rec; int t; } Life;

static void extend_read(void *ctx, int v) {
  Life *l = ctx;
  int at = l->rec && l->rec[v] ? 3 * v + 2 : 3 * v;
  if (l->end[at] < l->t) l->end[at] = l->t;
}

static void lifetimes(const IrGraph *g, const bool *rec, int *start, int *end) {
  int n = g->nnodes;
  for (int i = 0; i < 3 * n; i++) start[i] = end[i] = -1;
  for (int i = 0; i < n; i++) start[3 * i] = end[3 * i] = i;
  if (g->output >= 0) end[3 * g->output] = n;
  for (int s = 0; g->output >= 0 && s < g->grad.nsteps; s++) /* the loss writes the output's gradient */
    if (g->grad.steps[s].kind == GRAD_STEP_BACKWARD && g->grad.steps[s].node == g->output) start[3 * g->output + 1] = -2;
  for (int i = 0; i < n; i++)
    for (int k = 0; k < g->nodes[i].ninputs; k++)
      if (end[3 * g->nodes[i].inputs[k]] < i) end[3 * g->nodes[i].inputs[k]] = i;
  Life l = {g, start, end, rec, 0};
  for (int s = 0; s < g->grad.nsteps; s++) {
    const IrGradStep *st = &g->grad.steps[s];
    const IrNode *nd = &g->nodes[st->node];
    l.t = n + 1 + s;
    if (st->kind == GRAD_STEP_RECOMPUTE) {
      start[3 * st->node + 2] = end[3 * st->node + 2] = l.t;
      for_reads(g, st, extend_read, &l); /* a forward value, or one recomputed before */
      continue;
    }
    for_reads(g, st, extend_read, &l);
    end[3 * st->node + 1] = l.t; /* the step reads its node's gradient */
    for (int k = 0; k < nd->ninputs && k < 32; k++) {
      int in = nd->inputs[k];
      if (!((st->need_dx >> k) & 1)) continue;
      if (start[3 * in + 1] < 0) start[3 * in + 1] = l.t;
      if (end[3 * in + 1] < l.t) end[3 * in + 1] = l.t;
    }
  }
  if (g->output >= 0 && start[3 * g->output + 1] == -2) start[3 * g->output + 1] = n;
}

static int64_t value_bytes(const IrGraph *g, int v) {
  Shape s = g->nodes[v / 3].out;
  return (int64_t)s.c * s.h * s.w * 4;
}

/* Linear scan over the timeline: a slot frees after its value's end and goes to the next value that
   fits best (as memplan.c does for inference). */
static void assign_slots(IrGraph *g, const int *start, const int *end, int *slot) {
  int nv = 3 * g->nnodes, T = g->nnodes + 1 + g->grad.nsteps + 1;
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
  int64_t live = 0, peak = 0;
  si = ei = 0;
  for (int t = 0; t < T; t++) { /* the least any plan could use: the most bytes live at once */
    while (ei < nlive && end[by_end[ei]] < t) live -= value_bytes(g, by_end[ei++]);
    while (si < nlive && start[by_start[si]] == t) live += value_bytes(g, by_start[si++]);
    peak = live > peak ? live : peak;
  }
  g->grad.peak_bytes = peak;
  g->grad.nslots = nslots;
  g->grad.slot_bytes = 0;
  for (int s = 0; s < nslots; s++) g->grad.slot_bytes += size[s];
  free(size), free(busy), free(by_start), free(by_end), free(cnt), free(cnt2);
}

/* A slot's values as time intervals, sorted by start (they never overlap). */
typedef struct SlotTimes { int *start, *end; int n, cap; } SlotTimes;

static bool slot_free_during(const SlotTimes *st, int s, int e) {
  int lo = 0, hi = st->n; /* first interval starting after s */
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (st->start[mid] <= s) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && st->end[lo - 1] >= s) return false;
  return lo == st->n || st->start[lo] > e;
}

static void slot_take(SlotTimes *st, int s, int e) {
  if (st->n == st->cap) {
    st->cap = st->cap ? 2 * st->cap : 8;
    st->start = realloc(st->start, sizeof(int) * (size_t)st->cap);
    st->end = realloc(st->end, sizeof(int) * (size_t)st->cap);
    if (!st->start || !st->end) abort();
  }
  int at = st->n;
  while (at > 0 && st->start[at - 1] > s) at--;
  memmove(st->start + at + 1, st->start + at, sizeof(int) * (size_t)(st->n - at));
  memmove(st->end + at + 1, st->end + at, sizeof(int) * (size_t)(st->n - at));
  st->start[at] = s, st->end[at] = e, st->n++;
}

static const IrGraph *sort_graph;
static int cmp_value_size(const void *a, const void *b) {
  int va = *(const int *)a, vb = *(const int *)b;
  int64_t sa = value_bytes(sort_graph, va), sb = value_bytes(sort_graph, vb);
  return sa != sb ? (sa < sb ? 1 : -1) : (va > vb) - (va < vb);
}
/* Greedy by size: the largest values first, each into the smallest slot that is free for its whole lifetime
   (every slot is then as large as its first value). Long-lived saved values of the same size pack into few
   slots, where the linear scan leaves gaps; the caller keeps whichever plan is smaller. Returns its bytes. */
static int64_t assign_slots_by_size(const IrGraph *g, const int *start, const int *end, int *slot, int *nslots_out) {
  int nv = 3 * g->nnodes, n = 0, nslots = 0;
  int *order = malloc(sizeof(int) * (size_t)(nv + 1));
  for (int v = 0; v < nv; v++) if (start[v] >= 0) order[n++] = v;
  sort_graph = g;
  qsort(order, (size_t)n, sizeof(int), cmp_value_size);
  SlotTimes *st = calloc((size_t)n + 1, sizeof *st);
  int64_t *size = calloc((size_t)n + 1, sizeof *size), total = 0;
  for (int i = 0; i < n; i++) {
    int v = order[i], best = -1;
    for (int s = 0; s < nslots; s++)
      if ((best < 0 || size[s] < size[best]) && slot_free_during(&st[s], start[v], end[v])) best = s;
    if (best < 0) best = nslots++, size[best] = value_bytes(g, v), total += size[best];
    slot_take(&st[best], start[v], end[v]);
    slot[v] = best;
  }
  for (int s = 0; s < nslots; s++) free(st[s].start), free(st[s].end);
  free(st), free(size), free(order);
  *nslots_out = nslots;
  return total;
}

static void build_update(IrGraph *g) {
  IrGradInfo *gi = &g->grad;
  gi->update_params = arena_alloc(g->arena, sizeof(int) * (size_t)(g->nparams + 1));
  gi->nupdate = 0;
  for (int p = 0; p < g->nparams; p++)
    if (g->params[p].trainable) gi->update_params[gi->nupdate++] = p;
}

static int slot_of(const IrGraph *g, int v) {
  const IrGradInfo *gi = &g->grad;
  return v % 3 == 0 ? gi->train_slot[v / 3] : v % 3 == 1 ? gi->grad_slot[v / 3] : gi->recompute_slot[v / 3];
}

static const char *const value_kind[3] = {"value", "gradient", "recomputed value"};

static bool *recomputed(const IrGraph *g) {
  bool *rec = calloc((size_t)g->nnodes + 1, sizeof *rec);
  for (int s = 0; s < g->grad.nsteps; s++)
    if (g->grad.steps[s].kind == GRAD_STEP_RECOMPUTE) rec[g->grad.steps[s].node] = true;
  return rec;
}

int autodiff_check(const IrGraph *g, char *err, size_t errlen) {
  int n = g->nnodes, nv = 3 * n, bad = 0;
  bool *rec = recomputed(g);
  int *start = malloc(sizeof(int) * (size_t)(nv + 1)), *end = malloc(sizeof(int) * (size_t)(nv + 1));
  lifetimes(g, rec, start, end);
  for (int a = 0; a < nv && !bad; a++) {
    int sa = slot_of(g, a);
    if (start[a] < 0 || sa < 0) continue;
    for (int b = a + 1; b < nv && !bad; b++) {
      if (start[b] < 0 || slot_of(g, b) != sa) continue;
      if (start[a] <= end[b] && start[b] <= end[a])
        bad = snprintf(err, errlen, "%s %d [%d,%d] and %s %d [%d,%d] share training slot %d", value_kind[a % 3], a / 3,
                       start[a], end[a], value_kind[b % 3], b / 3, start[b], end[b], sa) > 0;
    }
  }
  free(rec), free(start), free(end);
  return bad;
}

void autodiff(IrGraph *g) {
  int n = g->nnodes, nv = 3 * n;
  IrGradInfo *gi = &g->grad;
  bool *req = calloc((size_t)n + 1, sizeof *req), *has = calloc((size_t)n + 1, sizeof *has);
  bool *rec = calloc((size_t)n + 1, sizeof *rec);
  int *start = malloc(sizeof(int) * (size_t)(nv + 1)), *end = malloc(sizeof(int) * (size_t)(nv + 1));
  int *slot = malloc(sizeof(int) * (size_t)(nv + 1));
  find_requires(g, req);
  build_steps(g, req, has);
  choose_recompute(g, rec);
  insert_recomputes(g, rec);
  lifetimes(g, rec, start, end);
  for (int v = 0; v < nv; v++) slot[v] = -1;
  assign_slots(g, start, end, slot);
  int *slot2 = malloc(sizeof(int) * (size_t)(nv + 1)), nslots2 = 0;
  for (int v = 0; v < nv; v++) slot2[v] = -1;
  int64_t bytes2 = assign_slots_by_size(g, start, end, slot2, &nslots2);
  if (bytes2 < gi->slot_bytes) {
    memcpy(slot, slot2, sizeof(int) * (size_t)nv);
    gi->slot_bytes = bytes2, gi->nslots = nslots2;
  }
  free(slot2);
  gi->train_slot = arena_alloc(g->arena, sizeof(int) * (size_t)(n + 1));
  gi->grad_slot = arena_alloc(g->arena, sizeof(int) * (size_t)(n + 1));
  gi->recompute_slot = arena_alloc(g->arena, sizeof(int) * (size_t)(n + 1));
  gi->saved = arena_alloc(g->arena, sizeof(bool) * (size_t)(n + 1));
  gi->naive_bytes = 0;
  for (int i = 0; i < n; i++) {
    gi->train_slot[i] = slot[3 * i];
    gi->grad_slot[i] = start[3 * i + 1] >= 0 ? slot[3 * i + 1] : -1;
    gi->recompute_slot[i] = rec[i] ? slot[3 * i + 2] : -1;
    gi->saved[i] = end[3 * i] > n;
    gi->naive_bytes += value_bytes(g, 3 * i) * (gi->grad_slot[i] >= 0 ? 2 : 1);
  }
  build_update(g);
  free(req), free(has), free(rec), free(start), free(end), free(slot);
}
