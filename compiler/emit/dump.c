/* dump.c - human-readable views of the graph IR (`sqnc --dump-ir`, `--dot`): a text listing of
   nodes, superblocks and fused kernels, and a graphviz digraph with superblock/candidate clusters
   and fused kernels shown as fill colours. */
#include "dump.h"
#include "fuse.h"
#include <inttypes.h>

static void print_shape(FILE *out, Shape s) { fprintf(out, "%dx%dx%d", s.c, s.h, s.w); }

/* " key=a" when both agree, else " key=axb". */
static void print_pair(FILE *out, const char *key, int a, int b) {
  if (a == b) fprintf(out, " %s=%d", key, a);
  else fprintf(out, " %s=%dx%d", key, a, b);
}

/* The attributes that matter for n's kind, each preceded by a space. */
static void print_attrs(FILE *out, const IrNode *n) {
  switch (n->kind) {
  case OP_CONV:
    fprintf(out, " k=%dx%d", n->kh, n->kw);
    print_pair(out, "s", n->sh, n->sw);
    print_pair(out, "p", n->ph, n->pw);
    print_pair(out, "d", n->dh, n->dw);
    fprintf(out, " g=%d%s", n->groups, n->bias ? " bias" : "");
    break;
  case OP_AVGPOOL:
    fprintf(out, " k=%dx%d", n->kh, n->kw);
    print_pair(out, "s", n->sh, n->sw);
    print_pair(out, "p", n->ph, n->pw);
    if (n->count_include_pad) fprintf(out, " count_include_pad");
    if (n->pool_fit) fprintf(out, " fit");
    break;
  case OP_BILINEAR: fprintf(out, " align_corners=%s", n->align_corners ? "true" : "false"); break;
  case OP_CROP:
    fprintf(out, " crop=%d,%d,%d,%d", n->crop[0], n->crop[1], n->crop[2], n->crop[3]);
    break;
  case OP_LEAKY_RELU: fprintf(out, " slope=%g", n->alpha); break;
  case OP_AFFINE: fprintf(out, " a=%g b=%g", n->alpha, n->beta); break;
  case OP_MAXPOOL:
    fprintf(out, " k=%dx%d", n->kh, n->kw);
    print_pair(out, "s", n->sh, n->sw);
    print_pair(out, "p", n->ph, n->pw);
    print_pair(out, "d", n->dh, n->dw);
    break;
  case OP_PAD:
    fprintf(out, " pad=%d,%d,%d,%d", n->crop[0], n->crop[1], n->crop[2], n->crop[3]);
    if (n->pad_value != 0) fprintf(out, " value=%g", n->pad_value);
    break;
  case OP_SLICE: fprintf(out, " channels=%d:%d", n->slice[0], n->slice[1]); break;
  case OP_CHANNEL_SHUFFLE: fprintf(out, " groups=%d", n->groups); break;
  default: break;
  }
}

static void dump_node(const IrGraph *g, const IrNode *n, FILE *out) {
  fprintf(out, "%%%d = %s", n->id, op_name(n->kind));
  if (n->ninputs) {
    for (int i = 0; i < n->ninputs; i++) fprintf(out, "%s%%%d", i ? ", " : "(", n->inputs[i]);
    fputc(')', out);
  }
  print_attrs(out, n);
  fputs(" -> ", out);
  print_shape(out, n->out);
  if (n->name && n->name[0]) fprintf(out, "  name=%s", n->name);
  if (n->superblock >= 0) fprintf(out, "  sb=%d", n->superblock);
  if (n->candidate >= 0) fprintf(out, " cand=%d", n->candidate);
  if (n->macs || n->params) fprintf(out, "  macs=%" PRId64 "  params=%" PRId64, n->macs, n->params);
  if (g->nkernels && n->kernel >= 0) fprintf(out, "  [k%d]", n->kernel);
  fputc('\n', out);
}

static void dump_candidate(const IrCandidate *c, int index, FILE *out) {
  fprintf(out, "    c%d %s", index, c->name ? c->name : "?");
  if (c->display) fprintf(out, "  %s", c->display);
  if (c->output >= 0) fprintf(out, "  out=%%%d", c->output);
  fprintf(out, "  macs=%" PRId64 "  params=%" PRId64, c->macs, c->params);
  fprintf(out, "%s%s\n", c->is_zero ? "  zero" : "", c->is_identity ? "  identity" : "");
}

static void dump_superblocks(const IrGraph *g, FILE *out) {
  fprintf(out, "superblocks: %d\n", g->nsb);
  for (int s = 0; s < g->nsb; s++) {
    const IrSuperblock *sb = &g->sb[s];
    fprintf(out, "  sb%d stage=%d %d->%d stride=%d%s in=%%%d out=%%%d ", s, sb->stage, sb->cin,
            sb->cout, sb->stride, sb->residual ? " residual" : "", sb->input, sb->output);
    print_shape(out, sb->in_shape);
    fputs(" -> ", out);
    print_shape(out, sb->out_shape);
    fprintf(out, " candidates=%d\n", sb->ncand);
    for (int c = 0; c < sb->ncand; c++) dump_candidate(&sb->cand[c], c, out);
  }
}

/* "%3..%9" when the members are consecutive ids, else "%3,%5,%9". */
static void print_members(FILE *out, const IrKernel *k) {
  bool consecutive = true;
  for (int i = 1; i < k->nnodes; i++) consecutive &= k->nodes[i] == k->nodes[i - 1] + 1;
  if (k->nnodes > 1 && consecutive) {
    fprintf(out, "%%%d..%%%d", k->nodes[0], k->nodes[k->nnodes - 1]);
    return;
  }
  for (int i = 0; i < k->nnodes; i++) fprintf(out, "%s%%%d", i ? "," : "", k->nodes[i]);
}

static void dump_kernels(const IrGraph *g, FILE *out) {
  fprintf(out, "kernels: %d\n", g->nkernels);
  for (int i = 0; i < g->nkernels; i++) {
    const IrKernel *k = &g->kernels[i];
    fprintf(out, "  k%d %s nodes ", i, fuse_kernel_kind_name(k->kind));
    print_members(out, k);
    if (k->superblock >= 0) fprintf(out, " sb=%d", k->superblock);
    if (k->candidate >= 0) fprintf(out, " cand=%d", k->candidate);
    fprintf(out, "%s\n", k->folds_bn ? " folds_bn" : "");
  }
}

void dump_ir(const IrGraph *g, FILE *out) {
  fprintf(out, "graph %s (%s) input ", g->name ? g->name : "?", g->is_space ? "space" : "network");
  print_shape(out, g->input);
  fprintf(out, " classes=%d nodes=%d params=%d\n", g->classes, g->nnodes, g->nparams);
  for (int i = 0; i < g->nnodes; i++) dump_node(g, &g->nodes[i], out);
  dump_superblocks(g, out);
  if (g->nkernels) dump_kernels(g, out);
}

/* ---- graphviz ---- */

/* s as the body of a DOT double-quoted string. */
static void dot_escape(FILE *out, const char *s) {
  for (; s && *s; s++) {
    if (*s == '"' || *s == '\\') fputc('\\', out);
    if (*s == '\n') fputs("\\n", out);
    else fputc(*s, out);
  }
}

static const char *dot_fill(const IrGraph *g, const IrNode *n) {
  static const char *const fill[KERNEL__COUNT][2] = {{"white", "white"},
                                                     {"lightblue", "lightskyblue"},
                                                     {"palegreen", "darkseagreen2"},
                                                     {"khaki1", "lightgoldenrod1"}};
  if (!g->nkernels || n->kernel < 0 || n->kernel >= g->nkernels) return "white";
  KernelKind kind = g->kernels[n->kernel].kind;
  if (kind < 0 || kind >= KERNEL__COUNT) return "white";
  return fill[kind][n->kernel % 2];
}

static void dot_node(const IrGraph *g, const IrNode *n, FILE *out, const char *indent) {
  fprintf(out, "%sn%d [label=\"%%%d %s", indent, n->id, n->id, op_name(n->kind));
  print_attrs(out, n);
  fputs("\\n", out);
  print_shape(out, n->out);
  if (g->nkernels && n->kernel >= 0) fprintf(out, "\\nk%d", n->kernel);
  fprintf(out, "\", fillcolor=\"%s\"", dot_fill(g, n));
  if (n->name && n->name[0]) {
    fputs(", tooltip=\"", out);
    dot_escape(out, n->name);
    fputc('"', out);
  }
  fputs("];\n", out);
}

static bool in_candidate(const IrGraph *g, const IrNode *n, int s) {
  return n->candidate >= 0 && n->candidate < g->sb[s].ncand;
}

static void dot_candidate(const IrGraph *g, int s, int c, FILE *out) {
  const IrCandidate *cand = &g->sb[s].cand[c];
  fprintf(out, "    subgraph cluster_sb%d_c%d {\n      label=\"c%d ", s, c, c);
  dot_escape(out, cand->display ? cand->display : cand->name);
  fputs("\";\n      style=dashed;\n", out);
  for (int i = 0; i < g->nnodes; i++)
    if (g->nodes[i].superblock == s && g->nodes[i].candidate == c) dot_node(g, &g->nodes[i], out, "      ");
  fputs("    }\n", out);
}

static void dot_superblock(const IrGraph *g, int s, FILE *out) {
  const IrSuperblock *sb = &g->sb[s];
  fprintf(out, "  subgraph cluster_sb%d {\n    label=\"sb%d stage %d %d->%d s%d%s\";\n", s, s,
          sb->stage + 1, sb->cin, sb->cout, sb->stride, sb->residual ? " residual" : "");
  fputs("    style=rounded;\n", out);
  for (int c = 0; c < sb->ncand; c++) dot_candidate(g, s, c, out);
  for (int i = 0; i < g->nnodes; i++)
    if (g->nodes[i].superblock == s && !in_candidate(g, &g->nodes[i], s))
      dot_node(g, &g->nodes[i], out, "    ");
  fputs("  }\n", out);
}

static void dot_edges(const IrGraph *g, FILE *out) {
  for (int i = 0; i < g->nnodes; i++) {
    const IrNode *n = &g->nodes[i];
    for (int j = 0; j < n->ninputs; j++) {
      int in = n->inputs[j];
      if (in < 0 || in >= g->nnodes) continue;
      bool fused = g->nkernels && n->kernel >= 0 && g->nodes[in].kernel == n->kernel;
      fprintf(out, "  n%d -> n%d%s;\n", in, i, fused ? " [style=bold]" : "");
    }
  }
}

void dump_dot(const IrGraph *g, FILE *out) {
  fputs("digraph \"", out);
  dot_escape(out, g->name ? g->name : "sqn");
  fputs("\" {\n  rankdir=TB;\n", out);
  fputs("  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10];\n", out);
  for (int s = 0; s < g->nsb; s++) dot_superblock(g, s, out);
  for (int i = 0; i < g->nnodes; i++) {
    int s = g->nodes[i].superblock;
    if (s < 0 || s >= g->nsb) dot_node(g, &g->nodes[i], out, "  ");
  }
  dot_edges(g, out);
  fputs("}\n", out);
}
