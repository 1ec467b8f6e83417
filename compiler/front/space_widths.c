/* space_widths.c - stage width choices (`stage [16, 24, 32] repeat 4 ...`), searched by channel masking as in
   FBNetV2: the supernet builds the stage at its widest and masks each of its superblock outputs to the chosen
   width (an OP_WIDTH node mixing the prefix masks of the widths by their Gumbel-softmax weights), so the
   supernet does not grow with the number of widths. The width choice of each stage is a superblock of its own
   (after the encoder's, before the decoder's choice) whose candidates are the widths. Every candidate of the
   superblocks it touches is also built at each width it may have, to give the search its exact costs there.
   A network gives the widths it took with `widths W1 W2 ...` (one per stage). */
#include <stdlib.h>
#include <string.h>
#include "space.h"
#include "space_internal.h"

static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

static bool width_value(Elab *e, const Arg *g, int *out) {
  Scope s = {0};
  int64_t i;
  if (!value_as_int(e, eval_expr(e, &s, g->value), g->loc, "width", &i)) return false;
  if (i < 1 || i > 100000) {
    elab_error(e, g->loc, NULL, "a width must be between 1 and 100000 channels, got %lld", (long long)i);
    return false;
  }
  *out = (int)i;
  return true;
}

bool widths_parse(Elab *e, const Setting *st, const Arg *g, StageSpec *out) {
  int n = 0;
  for (const Arg *it = g->value->args; it; it = it->next) {
    if (n == IR_MAX_INPUTS) {
      elab_error(e, it->loc, NULL, "a stage may choose among at most %d widths", IR_MAX_INPUTS);
      return false;
    }
    if (!width_value(e, it, &out->widths[n])) return false;
    for (int j = 0; j < n; j++)
      if (out->widths[j] == out->widths[n]) {
        elab_error(e, it->loc, "list each width once", "width %d is listed twice", out->widths[n]);
        return false;
      }
    n++;
  }
  if (n < 2) {
    elab_error(e, g->loc, "write `stage 24 ...` for a fixed width, or e.g. `stage [16, 24] ...` for a choice",
               "a width choice needs at least two widths");
    return false;
  }
  (void)st;
  qsort(out->widths, (size_t)n, sizeof *out->widths, cmp_int);
  out->nwidths = n;
  out->channels = out->widths[n - 1];
  return true;
}

/* A network's `widths W1 W2 ...` (or `widths [W1, W2, ...]`): each stage's channels. */
static bool network_widths(Elab *e, SpaceSpec *sp) {
  const Setting *st = sp->widths;
  const Arg *items = st->values;
  int n = st->nvalues;
  if (n == 1 && items->value->kind == EX_LIST) {
    items = items->value->args;
    n = 0;
    for (const Arg *it = items; it; it = it->next) n++;
  }
  if (n != sp->nstages) {
    elab_error(e, st->loc, "give one width per stage, in order", "`widths` gives %d widths but space `%s` has %d stages",
               n, sp->space->name, sp->nstages);
    return false;
  }
  const Arg *it = items;
  for (int i = 0; i < n; i++, it = it->next) {
    StageSpec *stg = &sp->stages[i];
    int w;
    if (!width_value(e, it, &w)) return false;
    bool ok = !stg->nwidths && w == stg->channels;
    for (int j = 0; j < stg->nwidths; j++) ok = ok || stg->widths[j] == w;
    if (!ok) {
      const char *allowed = stg->nwidths ? "" : arena_printf(e->a, "%d", stg->channels);
      for (int j = 0; j < stg->nwidths; j++) allowed = arena_printf(e->a, "%s%s%d", allowed, j ? ", " : "", stg->widths[j]);
      elab_error(e, it->loc, arena_printf(e->a, "stage %d allows %s", i + 1, allowed), "stage %d cannot have width %d", i + 1, w);
      return false;
    }
    stg->channels = w;
  }
  return true;
}

bool widths_prepare(Elab *e, SpaceSpec *sp) {
  sp->nwidth_stages = 0;
  for (int i = 0; i < sp->nstages; i++) {
    StageSpec *stg = &sp->stages[i];
    stg->width_sb = -1;
    if (stg->nwidths && !sp->network) stg->width_sb = sp->nblocks + sp->nwidth_stages++;
  }
  return !sp->network || !sp->widths || network_widths(e, sp);
}

/* The widths a superblock may take in and out: lists of one where they are fixed. */
typedef struct WidthLists {
  int in[IR_MAX_INPUTS], out[IR_MAX_INPUTS], nin, nout;
} WidthLists;

static void width_lists(const SpaceSpec *sp, int stage, int rep, const IrSuperblock *sb, WidthLists *w) {
  const StageSpec *stg = &sp->stages[stage], *prev = stage > 0 ? &sp->stages[stage - 1] : NULL;
  const StageSpec *from = rep > 0 ? stg : prev; /* past the stage's first superblock: the stage's own width */
  if (from && !from->nwidths) from = NULL;
  w->nout = stg->nwidths ? stg->nwidths : 1, w->nin = from ? from->nwidths : 1;
  for (int i = 0; i < w->nout; i++) w->out[i] = stg->nwidths ? stg->widths[i] : sb->cout;
  for (int i = 0; i < w->nin; i++) w->in[i] = from ? from->widths[i] : sb->cin;
}

bool widths_check_residual(Elab *e, SpaceSpec *sp, int stage, int rep, const IrSuperblock *sb) {
  WidthLists w;
  width_lists(sp, stage, rep, sb, &w);
  const int *in = w.in, *out = w.out, nin = w.nin, nout = w.nout;
  if (nin == 1 && nout == 1) return true;
  for (int a = 0; a < nin; a++)
    for (int b = 0; b < nout; b++) {
      if (rep > 0 && a != b) continue; /* within a stage, input and output have the stage's one width */
      int errors = e->d->errors;
      bool r = space_residual_rule(e, sp, sb->stride, in[a], out[b]);
      if (e->d->errors > errors) return false;
      if (r == sb->residual) continue;
      elab_error(e, sp->stages[stage].st->loc,
                 "a searched width must not change where the residual add goes: give adjacent stages widths that "
                 "cannot be equal, or a stride of 2 where the width changes",
                 "superblock %d is %sresidual at %d -> %d channels but %sresidual at %d -> %d", sb->index,
                 sb->residual ? "" : "not ", sb->cin, sb->cout, r ? "" : "not ", in[a], out[b]);
      return false;
    }
  return true;
}

Value widths_mask(Elab *e, SpaceSpec *sp, int stage, const IrSuperblock *sb, Value out) {
  IrGraph *g = e->g;
  const StageSpec *stg = &sp->stages[stage];
  int m = elab_add_node(e, OP_WIDTH, &out.node, 1, sb->loc, arena_printf(e->a, "encoder.residuals.%d.width", sb->index));
  IrNode *n = &g->nodes[m];
  n->out = g->nodes[out.node].out;
  n->superblock = stg->width_sb;
  n->candidate = -1;
  if (sb->index == 0 || g->sb[sb->index - 1].stage != stage) { /* the stage's first: it holds the theta */
    int theta[2] = {stg->nwidths, 1};
    ir_add_param(g, m, PARAM_ARCH, arena_printf(e->a, "encoder.stages.%d.width.gumble_arch_params", stage), 2, theta);
  }
  return v_tensor(m);
}

/* The cost of candidate c built alone on a cin x H x W input with cout channels. */
static bool cost_at(Elab *e, Scope *s, const IrSuperblock *sb, const Choice *c, int cin, int cout, int64_t *macs,
                    int64_t *params) {
  IrGraph *saved = e->g;
  int ssb = e->superblock, scand = e->candidate;
  IrGraph *g = ir_new(e->a);
  g->input = (Shape){0, cin, sb->in_shape.h, sb->in_shape.w};
  g->classes = saved->classes;
  e->g = g, e->superblock = e->candidate = -1;
  int id = elab_add_node(e, OP_INPUT, NULL, 0, sb->loc, "input");
  g->nodes[id].out = g->input;
  BlockCtx ctx = {.input = v_tensor(id), .cout = cout, .stride = sb->stride, .prefix = "w."};
  Value out = space_instantiate(e, s, c->expr, "candidate", &ctx);
  bool ok = out.kind == V_TENSOR;
  if (ok && g->nodes[out.node].out.c != cout) {
    elab_error(e, c->expr->loc, "a candidate must produce the stage's channel count (use `cout` in the block)",
               "candidate `%s` (superblock %d) produces %d channels at width %d", c->display, sb->index,
               g->nodes[out.node].out.c, cout);
    ok = false;
  }
  if (ok) {
    IrCostTotals t;
    ir_compute_costs(g, &t);
    *macs = t.fixed_macs, *params = t.fixed_params;
  }
  e->g = saved, e->superblock = ssb, e->candidate = scand;
  return ok;
}

bool widths_costs(Elab *e, SpaceSpec *sp, Scope *s, int stage, int rep, IrSuperblock *sb, const Choice *ch) {
  if (sb->width_in < 0 && sb->width_out < 0) return true;
  WidthLists w;
  width_lists(sp, stage, rep, sb, &w);
  const int *in = w.in, *out = w.out, nin = w.nin, nout = w.nout;
  for (int k = 0; k < sb->ncand; k++) {
    IrCandidate *c = &sb->cand[k];
    c->wmacs = ARENA_ARRAY(e->a, int64_t, nin * nout);
    c->wparams = ARENA_ARRAY(e->a, int64_t, nin * nout);
    c->cost_in = sb->width_in, c->cost_out = sb->width_out;
    for (int a = 0; a < nin * nout; a++) c->wmacs[a] = c->wparams[a] = -1; /* -1: not a width pair it can have */
    for (int a = 0; a < nin; a++)
      for (int b = 0; b < nout; b++) {
        if (rep > 0 && a != b) continue;
        if (!ch[k].expr || c->is_zero || c->is_identity) { /* skips cost nothing at any width */
          c->wmacs[a * nout + b] = c->wparams[a * nout + b] = 0;
          continue;
        }
        e->candidate = k;
        if (!cost_at(e, s, sb, &ch[k], in[a], out[b], &c->wmacs[a * nout + b], &c->wparams[a * nout + b])) return false;
      }
  }
  e->candidate = -1;
  return true;
}

void widths_add_choices(Elab *e, SpaceSpec *sp) {
  IrGraph *g = e->g;
  for (int i = 0; i < sp->nstages; i++) {
    const StageSpec *stg = &sp->stages[i];
    if (stg->width_sb < 0) continue;
    IrSuperblock *sb = &g->sb[stg->width_sb];
    int first = -1; /* the stage's first OP_WIDTH node: its theta, and the node the plan names */
    for (int n = 0; n < g->nnodes && first < 0; n++)
      if (g->nodes[n].kind == OP_WIDTH && g->nodes[n].superblock == stg->width_sb) first = n;
    *sb = (IrSuperblock){.index = stg->width_sb, .stage = i, .is_width = true, .cin = stg->channels,
                         .cout = stg->channels, .stride = 1, .in_shape = g->nodes[first].out,
                         .out_shape = g->nodes[first].out, .input = first, .output = first, .loc = stg->st->loc,
                         .width_in = -1, .width_out = -1, .ncand = stg->nwidths};
    sb->cand = ARENA_ARRAY(e->a, IrCandidate, stg->nwidths);
    for (int k = 0; k < stg->nwidths; k++) {
      IrCandidate *c = &sb->cand[k];
      memset(c, 0, sizeof *c);
      c->name = arena_printf(e->a, "w%d", stg->widths[k]);
      c->display = arena_printf(e->a, "%d", stg->widths[k]);
      c->block = "width";
      c->output = first;
      c->width = stg->widths[k];
    }
  }
  g->nsb = sp->nblocks + sp->nwidth_stages;
}

/* Candidate c of chosen part k (head or decoder)'s cost with stage s1 at width a and s2 at b (-1: as built). */
static bool part_cost_at(Elab *e, SpaceSpec *sp, PartKind k, int c, int s1, int a, int s2, int b, int64_t cost[2]) {
  int widths[MAX_STAGES] = {0};
  if (s1 >= 0) widths[s1] = a;
  if (s2 >= 0) widths[s2] = b;
  int64_t part[PART__COUNT][2];
  if (!space_tail_cost(e, sp, widths, k == PART_HEAD ? c : 0, k == PART_DECODER ? c : 0, part)) return false;
  cost[0] = part[k][0], cost[1] = part[k][1];
  return true;
}

/* The stages with a width choice whose width changes the candidate's cost (at most cap, into out); -1 on errors. */
static int part_depends(Elab *e, SpaceSpec *sp, PartKind k, int c, int *out, int cap) {
  int n = 0;
  for (int i = 0; i < sp->nstages; i++) {
    const StageSpec *stg = &sp->stages[i];
    if (stg->width_sb < 0) continue;
    int64_t first[2] = {0, 0}, cost[2];
    bool varies = false;
    for (int a = 0; a < stg->nwidths && !varies; a++) {
      if (!part_cost_at(e, sp, k, c, i, stg->widths[a], -1, 0, cost)) return -1;
      if (a == 0) first[0] = cost[0], first[1] = cost[1];
      varies = cost[0] != first[0] || cost[1] != first[1];
    }
    if (varies && n < cap) out[n] = i;
    n += varies;
  }
  return n;
}

/* A head or decoder the search chooses: each candidate's cost at the widths of the (at most two) width choices
   it depends on. One that depends on more is costed at their widest (with a warning). */
static bool part_width_costs(Elab *e, SpaceSpec *sp, PartKind k) {
  IrSuperblock *part = &e->g->sb[sp->part_sb[k]];
  for (int c = 0; c < part->ncand; c++) {
    IrCandidate *cd = &part->cand[c];
    int st[2] = {-1, -1}, n = part_depends(e, sp, k, c, st, 2);
    if (n < 0) return false;
    if (n > 2)
      elab_warning(e, sp->part[k].st->loc, NULL, "`%s` reads the outputs of %d stages with a width choice: the search "
                   "costs it at their widest widths", cd->display, n);
    if (n == 0 || n > 2) continue;
    const StageSpec *s1 = &sp->stages[st[0]], *s2 = st[1] >= 0 ? &sp->stages[st[1]] : NULL;
    int na = s1->nwidths, nb = s2 ? s2->nwidths : 1;
    cd->cost_in = s1->width_sb, cd->cost_out = s2 ? s2->width_sb : -1;
    cd->wmacs = ARENA_ARRAY(e->a, int64_t, na * nb);
    cd->wparams = ARENA_ARRAY(e->a, int64_t, na * nb);
    for (int a = 0; a < na; a++)
      for (int b = 0; b < nb; b++) {
        int64_t cost[2];
        if (!part_cost_at(e, sp, k, c, st[0], s1->widths[a], st[1], s2 ? s2->widths[b] : 0, cost)) return false;
        cd->wmacs[a * nb + b] = cost[0], cd->wparams[a * nb + b] = cost[1];
      }
  }
  return true;
}

bool widths_tail_costs(Elab *e, SpaceSpec *sp) {
  IrGraph *g = e->g;
  for (int k = PART_HEAD; k <= PART_DECODER; k++)
    if (sp->part[k].nchoices && !part_width_costs(e, sp, (PartKind)k)) return false;
  for (int i = 0; i < sp->nstages; i++) {
    const StageSpec *stg = &sp->stages[i];
    if (stg->width_sb < 0) continue;
    IrSuperblock *sb = &g->sb[stg->width_sb];
    int64_t lo_m = INT64_MAX, lo_p = INT64_MAX;
    for (int k = 0; k < sb->ncand; k++) { /* the head and decoder where they are fixed parts */
      IrCandidate *c = &sb->cand[k];
      int widths[MAX_STAGES] = {0};
      int64_t part[PART__COUNT][2];
      widths[i] = c->width;
      if (!space_tail_cost(e, sp, widths, 0, 0, part)) return false;
      c->tail_macs = c->tail_params = 0;
      for (int p = PART_HEAD; p <= PART_DECODER; p++)
        if (!sp->part[p].nchoices) c->tail_macs += part[p][0], c->tail_params += part[p][1];
      if (c->tail_macs < lo_m) lo_m = c->tail_macs;
      if (c->tail_params < lo_p) lo_p = c->tail_params;
    }
    for (int k = 0; k < sb->ncand; k++) sb->cand[k].tail_macs -= lo_m, sb->cand[k].tail_params -= lo_p;
  }
  return true;
}
