/* fuse.c - the fusion pass (DESIGN principle 3): groups the graph's nodes into fused kernels, the
   unit that backends implement.

   Nodes are visited in id (topological) order; the lowest node not yet in a kernel starts a new
   kernel, grown greedily along sole consumers, trying in turn:
     inverted_residual  1x1 conv -> BN -> act -> depthwise kxk conv -> BN -> act -> 1x1 conv -> BN
                        [-> ADD(chain input, BN)]   (the residual)
     conv               conv [-> BN] [-> act] [-> ADD(x, other)]
     elementwise        two or more elementwise ops (add, sub, mul, and the OPF_UNARY ones: activations, affine)
     single             anything else, including OP_INPUT and OP_OUTPUT and lone elementwise ops.
   A node joins the kernel only if the kernel's current last node has exactly one use (that node),
   is not a structural output (graph/stem/encoder/superblock output or input, or a search-space
   candidate output: those must be materialised), the node shares the head's superblock and
   candidate (a trailing ADD may sit outside the candidate, as a fixed network's residual add does),
   its other inputs already belong to earlier kernels (so the kernel list is an execution order),
   and an ADD/elementwise epilogue keeps the tensor shape (no broadcast epilogues). */
#include "fuse.h"
#include "err.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Fuser {
  IrGraph *g;
  int *uses;     /* consumers of each node (one per input slot), +1 if structurally pinned */
  int *consumer; /* a consumer of each node (meaningful when uses == 1), -1 if none */
  bool inference;
} Fuser;

const char *fuse_kernel_kind_name(KernelKind k) {
  static const char *const names[KERNEL__COUNT] = {"single", "conv", "inverted_residual",
                                                   "elementwise"};
  return (k >= 0 && k < KERNEL__COUNT) ? names[k] : "?";
}

static bool valid_id(const IrGraph *g, int id) { return id >= 0 && id < g->nnodes; }

/* Nodes whose values the rest of the compiler or runtime refers to directly. */
static void mark_pinned(const IrGraph *g, bool *pinned) {
  int fixed[3] = {g->stem_output, g->encoder_output, g->output};
  for (int i = 0; i < 3; i++)
    if (valid_id(g, fixed[i])) pinned[fixed[i]] = true;
  for (int s = 0; s < g->nsb; s++) {
    const IrSuperblock *sb = &g->sb[s];
    if (valid_id(g, sb->input)) pinned[sb->input] = true;
    if (valid_id(g, sb->output)) pinned[sb->output] = true;
    for (int c = 0; g->is_space && c < sb->ncand; c++)
      if (valid_id(g, sb->cand[c].output)) pinned[sb->cand[c].output] = true;
  }
}

static void count_uses(const IrGraph *g, const bool *pinned, int *uses, int *consumer) {
  for (int i = 0; i < g->nnodes; i++) {
    uses[i] = pinned[i] ? 1 : 0;
    consumer[i] = -1;
  }
  for (int i = 0; i < g->nnodes; i++) {
    const IrNode *n = &g->nodes[i];
    for (int j = 0; j < n->ninputs; j++)
      if (valid_id(g, n->inputs[j])) {
        uses[n->inputs[j]]++;
        consumer[n->inputs[j]] = i;
      }
  }
}

static bool is_act(OpKind k) { return op_info(k) && (op_info(k)->flags & OPF_UNARY); }

static bool is_elementwise(OpKind k) { return is_act(k) || k == OP_ADD || k == OP_SUB || k == OP_MUL; }

static bool same_shape(Shape a, Shape b) { return a.c == b.c && a.h == b.h && a.w == b.w; }

static bool is_pointwise(const IrNode *n) { return n->kind == OP_CONV && n->kh == 1 && n->kw == 1; }

static bool is_depthwise(const IrGraph *g, const IrNode *n) {
  if (n->kind != OP_CONV || n->ninputs < 1 || !valid_id(g, n->inputs[0])) return false;
  int cin = g->nodes[n->inputs[0]].out.c;
  return n->groups == cin && n->groups == n->out.c;
}

/* The sole consumer of k's last node if it may join k, else -1 (see the rules at the top). */
static int next_member(const Fuser *f, const IrKernel *k) {
  const IrGraph *g = f->g;
  int last = k->nodes[k->nnodes - 1];
  int c = f->consumer[last];
  if (k->nnodes >= IR_KERNEL_MAX_NODES || f->uses[last] != 1 || c < 0 || g->nodes[c].kernel >= 0)
    return -1;
  const IrNode *head = &g->nodes[k->nodes[0]], *n = &g->nodes[c];
  bool trailing_add = n->kind == OP_ADD && n->candidate < 0;
  if (n->superblock != head->superblock || (n->candidate != head->candidate && !trailing_add))
    return -1;
  for (int i = 0; i < n->ninputs; i++) {
    int in = n->inputs[i];
    if (in != last && (!valid_id(g, in) || g->nodes[in].kernel < 0)) return -1;
  }
  if (is_elementwise(n->kind) && !same_shape(n->out, g->nodes[last].out)) return -1;
  return c;
}

static void append(IrKernel *k, int id) { k->nodes[k->nnodes++] = id; }

/* Whether node id fits step i of the inverted-residual pattern. */
static bool ir_step_ok(const IrGraph *g, int step, int id) {
  const IrNode *n = &g->nodes[id];
  switch (step) {
  case 0: case 6: return is_pointwise(n);
  case 1: case 4: case 7: return n->kind == OP_BN;
  case 2: case 5: return is_act(n->kind);
  case 3: return is_depthwise(g, n);
  default: return false;
  }
}

static bool try_inverted_residual(const Fuser *f, IrKernel *k, int head) {
  const IrGraph *g = f->g;
  k->nnodes = 0;
  append(k, head);
  if (!ir_step_ok(g, 0, head) || g->nodes[head].ninputs != 1) return false;
  for (int step = 1; step < 8; step++) {
    int c = next_member(f, k);
    if (c < 0 || !ir_step_ok(g, step, c)) return false;
    append(k, c);
  }
  int c = next_member(f, k);
  if (c >= 0 && g->nodes[c].kind == OP_ADD && g->nodes[c].ninputs == 2) {
    const IrNode *add = &g->nodes[c];
    int other = add->inputs[0] == k->nodes[7] ? add->inputs[1] : add->inputs[0];
    if (other == g->nodes[head].inputs[0]) append(k, c);
  }
  k->kind = KERNEL_INVERTED_RESIDUAL;
  return true;
}

/* conv [-> BN] [-> act] [-> ADD]: each stage optional, in this order. */
static bool try_conv(const Fuser *f, IrKernel *k, int head) {
  const IrGraph *g = f->g;
  k->nnodes = 0;
  append(k, head);
  if (g->nodes[head].kind != OP_CONV) return false;
  int stage = 0; /* 0: after conv, 1: after BN, 2: after act, 3: after add */
  for (int c; stage < 3 && (c = next_member(f, k)) >= 0;) {
    OpKind kind = g->nodes[c].kind;
    if (kind == OP_BN && stage < 1) stage = 1;
    else if (is_act(kind) && stage < 2) stage = 2;
    else if (kind == OP_ADD && g->nodes[c].ninputs == 2) stage = 3;
    else break;
    append(k, c);
  }
  k->kind = KERNEL_CONV;
  return true;
}

static bool try_elementwise(const Fuser *f, IrKernel *k, int head) {
  const IrGraph *g = f->g;
  k->nnodes = 0;
  append(k, head);
  if (!is_elementwise(g->nodes[head].kind)) return false;
  for (int c; (c = next_member(f, k)) >= 0 && is_elementwise(g->nodes[c].kind);) append(k, c);
  k->kind = KERNEL_ELEMENTWISE;
  return k->nnodes > 1;
}

/* Fills in the derived fields of k and assigns its nodes; k becomes kernel number g->nkernels. */
static void commit(Fuser *f, IrKernel *k) {
  IrGraph *g = f->g;
  bool has_bn = false;
  for (int i = 0; i < k->nnodes; i++) {
    g->nodes[k->nodes[i]].kernel = g->nkernels;
    has_bn |= g->nodes[k->nodes[i]].kind == OP_BN;
  }
  const IrNode *head = &g->nodes[k->nodes[0]];
  k->output = k->nodes[k->nnodes - 1];
  k->folds_bn = f->inference && has_bn && k->kind != KERNEL_SINGLE && k->kind != KERNEL_ELEMENTWISE;
  k->superblock = head->superblock;
  k->candidate = head->candidate;
  g->nkernels++;
}

static void fuse_from(Fuser *f, int head) {
  IrKernel *k = &f->g->kernels[f->g->nkernels];
  memset(k, 0, sizeof *k);
  if (!try_inverted_residual(f, k, head) && !try_conv(f, k, head) && !try_elementwise(f, k, head)) {
    k->nnodes = 0;
    append(k, head);
    k->kind = KERNEL_SINGLE;
  }
  commit(f, k);
}

void fuse_graph(IrGraph *g, bool inference) {
  Fuser f = {.g = g, .inference = inference};
  bool *pinned = ARENA_ARRAY(g->arena, bool, g->nnodes + 1);
  f.uses = ARENA_ARRAY(g->arena, int, g->nnodes + 1);
  f.consumer = ARENA_ARRAY(g->arena, int, g->nnodes + 1);
  mark_pinned(g, pinned);
  count_uses(g, pinned, f.uses, f.consumer);
  g->kernels = ARENA_ARRAY(g->arena, IrKernel, g->nnodes + 1);
  g->nkernels = 0;
  for (int i = 0; i < g->nnodes; i++) g->nodes[i].kernel = -1;
  for (int i = 0; i < g->nnodes; i++)
    if (g->nodes[i].kernel < 0) fuse_from(&f, i);
}

/* ---- invariant checks ---- */

/* An invariant that does not hold: the message, and 1. */
#define fail(...) (err_set(__VA_ARGS__), 1)

/* Every listed node is valid and lists this kernel; output is the last member; each node once. */
static int check_membership(const IrGraph *g, int *seen, char *err, size_t n) {
  for (int k = 0; k < g->nkernels; k++) {
    const IrKernel *kn = &g->kernels[k];
    if (kn->nnodes < 1 || kn->nnodes > IR_KERNEL_MAX_NODES)
      return fail(err, n, "kernel k%d has %d nodes", k, kn->nnodes);
    if (kn->output != kn->nodes[kn->nnodes - 1])
      return fail(err, n, "kernel k%d: output %%%d is not its last node", k, kn->output);
    for (int i = 0; i < kn->nnodes; i++) {
      int id = kn->nodes[i];
      if (!valid_id(g, id)) return fail(err, n, "kernel k%d lists bad node %d", k, id);
      if (seen[id]++) return fail(err, n, "node %%%d is in more than one kernel", id);
      if (g->nodes[id].kernel != k)
        return fail(err, n, "node %%%d is listed in k%d but says k%d", id, k, g->nodes[id].kernel);
    }
  }
  for (int i = 0; i < g->nnodes; i++)
    if (!seen[i]) return fail(err, n, "node %%%d (%s) is in no kernel", i, op_name(g->nodes[i].kind));
  return 0;
}

/* Position of node id inside kernel k, or -1. */
static int member_pos(const IrKernel *k, int id) {
  for (int i = 0; i < k->nnodes; i++)
    if (k->nodes[i] == id) return i;
  return -1;
}

/* Inputs come from earlier members or earlier kernels; internal values do not leak out. */
static int check_order(const IrGraph *g, char *err, size_t n) {
  for (int k = 0; k < g->nkernels; k++) {
    const IrKernel *kn = &g->kernels[k];
    for (int i = 0; i < kn->nnodes; i++) {
      const IrNode *nd = &g->nodes[kn->nodes[i]];
      for (int j = 0; j < nd->ninputs; j++) {
        int in = nd->inputs[j];
        if (!valid_id(g, in)) return fail(err, n, "node %%%d has bad input %d", nd->id, in);
        int ik = g->nodes[in].kernel;
        if (ik == k && member_pos(kn, in) >= i)
          return fail(err, n, "k%d: node %%%d uses later member %%%d", k, nd->id, in);
        if (ik > k) return fail(err, n, "k%d: node %%%d uses %%%d of later kernel k%d", k, nd->id, in, ik);
        if (ik != k && g->kernels[ik].output != in)
          return fail(err, n, "node %%%d uses %%%d, internal to k%d", nd->id, in, ik);
      }
    }
  }
  return 0;
}

static int check_pinned(const IrGraph *g, const bool *pinned, char *err, size_t n) {
  for (int i = 0; i < g->nnodes; i++)
    if (pinned[i] && g->kernels[g->nodes[i].kernel].output != i)
      return fail(err, n, "structural output %%%d is internal to k%d", i, g->nodes[i].kernel);
  return 0;
}

int fuse_check(const IrGraph *g, char *err, size_t n) {
  if (err && n) err[0] = 0;
  if (g->nnodes > 0 && (!g->kernels || g->nkernels <= 0)) return fail(err, n, "graph is not fused");
  int *seen = calloc((size_t)g->nnodes + 1, sizeof *seen);
  bool *pinned = calloc((size_t)g->nnodes + 1, sizeof *pinned);
  int rc = (!seen || !pinned) ? fail(err, n, "out of memory") : 0;
  if (!rc) mark_pinned(g, pinned);
  if (!rc) rc = check_membership(g, seen, err, n);
  if (!rc) rc = check_order(g, err, n);
  if (!rc) rc = check_pinned(g, pinned, err, n);
  free(seen);
  free(pinned);
  return rc;
}
