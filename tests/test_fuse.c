/* test_fuse.c - unit tests for the fusion pass (compiler/passes/fuse.c) and the IR dumps (compiler/emit/dump.c),
   on small graphs built by hand. Usage: test_fuse [DIR] (with DIR, also writes DIR/space.dot and
   DIR/network.dot for checking with graphviz). Prints "N passed, M failed". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dump.h"
#include "fuse.h"
#include "ir.h"
#include "test_util.h"

/* ---- graph building ---- */

static int input(IrGraph *g, int c, int h, int w) {
  int id = ir_add_node(g, OP_INPUT, NULL, 0);
  g->nodes[id].out = (Shape){0, c, h, w};
  g->input = g->nodes[id].out;
  return id;
}

/* Same-shape op (bn, activations, output) or gap. BN gets its four parameters. */
static int op1(IrGraph *g, OpKind kind, int in) {
  Shape s = g->nodes[in].out;
  int id = ir_add_node(g, kind, &in, 1);
  g->nodes[id].out = kind == OP_GAP ? (Shape){0, s.c, 1, 1} : s;
  for (int r = PARAM_BN_WEIGHT; kind == OP_BN && r <= PARAM_BN_VAR; r++)
    ir_add_param(g, id, (ParamRole)r, "bn", 1, &s.c);
  return id;
}

static int op2(IrGraph *g, OpKind kind, int a, int b) {
  int in[2] = {a, b};
  Shape sa = g->nodes[a].out, sb = g->nodes[b].out;
  int id = ir_add_node(g, kind, in, 2);
  g->nodes[id].out = sa.h * sa.w >= sb.h * sb.w ? sa : sb;
  return id;
}

static int conv(IrGraph *g, int in, int cout, int k, int s, int d, int groups, bool bias) {
  Shape is = g->nodes[in].out;
  int id = ir_add_node(g, OP_CONV, &in, 1);
  IrNode *n = &g->nodes[id];
  int p = d * (k - 1) / 2;
  n->kh = n->kw = k;
  n->sh = n->sw = s;
  n->dh = n->dw = d;
  n->ph = n->pw = p;
  n->groups = groups;
  n->bias = bias;
  n->out = (Shape){0, cout, (is.h + 2 * p - d * (k - 1) - 1) / s + 1, (is.w + 2 * p - d * (k - 1) - 1) / s + 1};
  int dims[4] = {cout, is.c / groups, k, k};
  ir_add_param(g, id, PARAM_CONV_WEIGHT, "conv.weight", 4, dims);
  if (bias) ir_add_param(g, id, PARAM_CONV_BIAS, "conv.bias", 1, dims);
  return id;
}

static void tag(IrGraph *g, int from, int to, int sb, int cand) {
  for (int i = from; i <= to; i++) {
    g->nodes[i].superblock = sb;
    g->nodes[i].candidate = cand;
  }
}

/* 1x1 conv -> bn -> relu6 -> kxk depthwise -> bn -> relu6 -> 1x1 conv -> bn; returns the last bn. */
static int inv_res(IrGraph *g, int in, int cout, int k, int e, int s, int d, int sb, int cand) {
  int hid = g->nodes[in].out.c * e, first = g->nnodes;
  int x = op1(g, OP_RELU6, op1(g, OP_BN, conv(g, in, hid, 1, 1, 1, 1, false)));
  x = op1(g, OP_RELU6, op1(g, OP_BN, conv(g, x, hid, k, s, d, hid, false)));
  x = op1(g, OP_BN, conv(g, x, cout, 1, 1, 1, 1, false));
  tag(g, first, x, sb, cand);
  return x;
}

static IrSuperblock *one_superblock(IrGraph *g, int ncand, int in, int out, bool residual) {
  g->nsb = 1;
  g->sb = ARENA_ARRAY(g->arena, IrSuperblock, 1);
  IrSuperblock *sb = &g->sb[0];
  sb->width_in = sb->width_out = -1;
  sb->ncand = ncand;
  sb->cand = ARENA_ARRAY(g->arena, IrCandidate, ncand);
  sb->input = in;
  sb->output = out;
  sb->residual = residual;
  sb->in_shape = g->nodes[in].out;
  sb->out_shape = g->nodes[out].out;
  sb->cin = sb->in_shape.c;
  sb->cout = sb->out_shape.c;
  sb->stride = 1;
  return sb;
}

static bool check_ok(const IrGraph *g) {
  char err[256];
  int rc = fuse_check(g, err, sizeof err);
  if (rc) fprintf(stderr, "fuse_check: %s\n", err);
  return rc == 0;
}

static const IrKernel *kernel_of(const IrGraph *g, int node) {
  return &g->kernels[g->nodes[node].kernel];
}

/* ---- fusion tests ---- */

static void test_inverted_residual_plain(void) {
  Arena a = {0};
  IrGraph *g = ir_new(&a);
  int x = input(g, 16, 32, 32);
  int y = inv_res(g, x, 24, 3, 3, 2, 1, -1, -1);
  g->output = op1(g, OP_OUTPUT, y);
  fuse_graph(g, true);
  CHECK(check_ok(g));
  CHECK(g->nkernels == 3);
  const IrKernel *k = kernel_of(g, 1);
  CHECK(k->kind == KERNEL_INVERTED_RESIDUAL && k->nnodes == 8);
  CHECK(k->nodes[0] == 1 && k->output == 8 && k->folds_bn);
  CHECK(g->kernels[0].kind == KERNEL_SINGLE && g->kernels[0].nodes[0] == 0);
  CHECK(g->kernels[2].kind == KERNEL_SINGLE && g->kernels[2].nodes[0] == g->output);
  fuse_graph(g, false); /* training program: same grouping, BN not folded */
  CHECK(check_ok(g));
  CHECK(g->nkernels == 3 && kernel_of(g, 1)->nnodes == 8 && !kernel_of(g, 1)->folds_bn);
  arena_free(&a);
}

/* Stem conv-bn-relu, then a fixed network's residual superblock. */
static IrGraph *fixed_residual_net(Arena *a) {
  IrGraph *g = ir_new(a);
  g->name = "net";
  int x = input(g, 3, 32, 32);
  int s = op1(g, OP_RELU, op1(g, OP_BN, conv(g, x, 16, 3, 2, 1, 1, false)));
  g->nodes[1].name = "stem.0";
  g->stem_output = s;
  int y = inv_res(g, s, 16, 3, 6, 1, 1, 0, 0);
  int add = op2(g, OP_ADD, s, y);
  tag(g, add, add, 0, -1);
  g->encoder_output = add;
  g->output = op1(g, OP_OUTPUT, add);
  IrSuperblock *sb = one_superblock(g, 1, s, add, true);
  sb->cand[0] = (IrCandidate){.name = "ir_k3_e6", .display = "ir(k=3, e=6)", .output = y};
  return g;
}

static void test_inverted_residual_with_add(void) {
  Arena a = {0};
  IrGraph *g = fixed_residual_net(&a);
  fuse_graph(g, true);
  CHECK(check_ok(g));
  CHECK(g->nkernels == 4);
  const IrKernel *stem = kernel_of(g, 1), *ir = kernel_of(g, 4);
  CHECK(stem->kind == KERNEL_CONV && stem->nnodes == 3 && stem->folds_bn && stem->superblock == -1);
  CHECK(ir->kind == KERNEL_INVERTED_RESIDUAL && ir->nnodes == 9);
  CHECK(ir->output == g->sb[0].output && g->nodes[ir->output].kind == OP_ADD);
  CHECK(ir->superblock == 0 && ir->candidate == 0);
  arena_free(&a);
}

static void test_add_not_residual(void) {
  Arena a = {0};
  IrGraph *g = ir_new(&a);
  int x = input(g, 16, 8, 8);
  int r = op1(g, OP_RELU, x);
  int y = inv_res(g, r, 16, 3, 1, 1, 1, -1, -1);
  int add = op2(g, OP_ADD, x, y); /* adds the relu's input, not the chain input */
  g->output = op1(g, OP_OUTPUT, add);
  fuse_graph(g, true);
  CHECK(check_ok(g));
  CHECK(kernel_of(g, r)->kind == KERNEL_SINGLE);
  CHECK(kernel_of(g, y)->kind == KERNEL_INVERTED_RESIDUAL && kernel_of(g, y)->output == y);
  CHECK(kernel_of(g, add)->kind == KERNEL_SINGLE && kernel_of(g, add)->nnodes == 1);
  arena_free(&a);
}

static void test_two_consumers(void) {
  Arena a = {0};
  IrGraph *g = ir_new(&a);
  int x = input(g, 16, 8, 8);
  int y = inv_res(g, x, 16, 3, 2, 1, 1, -1, -1); /* nodes 1..8 */
  int side = op1(g, OP_GAP, 3);                  /* the first relu6 gets a second consumer */
  g->output = op1(g, OP_OUTPUT, y);
  fuse_graph(g, false);
  CHECK(check_ok(g));
  for (int k = 0; k < g->nkernels; k++) CHECK(g->kernels[k].kind != KERNEL_INVERTED_RESIDUAL);
  CHECK(kernel_of(g, 1)->kind == KERNEL_CONV && kernel_of(g, 1)->output == 3);
  CHECK(kernel_of(g, 4)->kind == KERNEL_CONV && kernel_of(g, 4)->nnodes == 3);
  CHECK(kernel_of(g, 7)->kind == KERNEL_CONV && kernel_of(g, 7)->output == y);
  CHECK(!kernel_of(g, 1)->folds_bn && kernel_of(g, side)->kind == KERNEL_SINGLE);
  arena_free(&a);
}

static void test_two_consumers_mid_conv(void) {
  Arena a = {0};
  IrGraph *g = ir_new(&a);
  int x = input(g, 16, 8, 8);
  int y = inv_res(g, x, 16, 3, 2, 1, 1, -1, -1);
  op1(g, OP_GAP, 5); /* the depthwise BN gets a second consumer */
  g->output = op1(g, OP_OUTPUT, y);
  fuse_graph(g, true);
  CHECK(check_ok(g));
  CHECK(kernel_of(g, 1)->kind == KERNEL_CONV && kernel_of(g, 1)->nnodes == 3);
  CHECK(kernel_of(g, 4)->kind == KERNEL_CONV && kernel_of(g, 4)->output == 5);
  CHECK(kernel_of(g, 6)->kind == KERNEL_SINGLE);
  CHECK(kernel_of(g, 7)->kind == KERNEL_CONV && kernel_of(g, 7)->nnodes == 2);
  arena_free(&a);
}

static void test_conv_chains(void) {
  Arena a = {0};
  IrGraph *g = ir_new(&a);
  int x = input(g, 3, 16, 16);
  int c = conv(g, x, 8, 3, 1, 1, 1, false);
  int r = op1(g, OP_RELU, op1(g, OP_BN, c));
  int c2 = conv(g, r, 8, 1, 1, 1, 1, true);
  int sg = op1(g, OP_SIGMOID, c2);
  int c3 = conv(g, sg, 8, 3, 1, 1, 1, false);
  int add = op2(g, OP_ADD, op1(g, OP_RELU, op1(g, OP_BN, c3)), r);
  g->output = op1(g, OP_OUTPUT, add);
  fuse_graph(g, true);
  CHECK(check_ok(g));
  CHECK(kernel_of(g, c)->kind == KERNEL_CONV && kernel_of(g, c)->nnodes == 3 && kernel_of(g, c)->folds_bn);
  CHECK(kernel_of(g, c2)->kind == KERNEL_CONV && kernel_of(g, c2)->output == sg);
  CHECK(!kernel_of(g, c2)->folds_bn);
  CHECK(kernel_of(g, c3)->kind == KERNEL_CONV && kernel_of(g, c3)->nnodes == 4);
  CHECK(kernel_of(g, c3)->output == add);
  arena_free(&a);
}

/* An add whose other input is produced after the chain's head: the chain stops before it. */
static void test_topological_cut(void) {
  Arena a = {0};
  IrGraph *g = ir_new(&a);
  int x = input(g, 8, 8, 8);
  int b = op1(g, OP_BN, conv(g, x, 8, 1, 1, 1, 1, false));
  int c = conv(g, x, 8, 1, 1, 1, 1, false);
  int add = op2(g, OP_ADD, b, c);
  g->output = op1(g, OP_OUTPUT, add);
  fuse_graph(g, true);
  CHECK(check_ok(g));
  CHECK(kernel_of(g, b)->nnodes == 2 && kernel_of(g, b)->output == b);
  CHECK(kernel_of(g, c)->kind == KERNEL_CONV && kernel_of(g, c)->output == add);
  CHECK(g->nodes[b].kernel < g->nodes[c].kernel);
  arena_free(&a);
}

static void test_elementwise(void) {
  Arena a = {0};
  IrGraph *g = ir_new(&a);
  int x = input(g, 8, 4, 4);
  int r = op1(g, OP_RELU, x);
  int m = op2(g, OP_MUL, op1(g, OP_SIGMOID, r), x);
  int p = op1(g, OP_GAP, m);
  int s = op1(g, OP_SIGMOID, p);
  int m2 = op2(g, OP_MUL, m, s); /* broadcast: not fused onto the 8x1x1 sigmoid */
  g->output = op1(g, OP_OUTPUT, m2);
  fuse_graph(g, true);
  CHECK(check_ok(g));
  CHECK(kernel_of(g, r)->kind == KERNEL_ELEMENTWISE && kernel_of(g, r)->nnodes == 3);
  CHECK(kernel_of(g, r)->output == m && !kernel_of(g, r)->folds_bn);
  CHECK(kernel_of(g, s)->kind == KERNEL_SINGLE && kernel_of(g, m2)->kind == KERNEL_SINGLE);
  arena_free(&a);
}

static void test_pinned_output(void) {
  Arena a = {0};
  IrGraph *g = ir_new(&a);
  int x = input(g, 3, 8, 8);
  int b = op1(g, OP_BN, conv(g, x, 8, 3, 1, 1, 1, false));
  int r = op1(g, OP_RELU, b);
  g->stem_output = b; /* a structural output must stay materialised */
  g->output = op1(g, OP_OUTPUT, r);
  fuse_graph(g, true);
  CHECK(check_ok(g));
  CHECK(kernel_of(g, b)->output == b && kernel_of(g, r)->kind == KERNEL_SINGLE);
  arena_free(&a);
}

/* A search space: stem, then one residual superblock with three candidates mixed, plus the add. */
static IrGraph *space_net(Arena *a) {
  IrGraph *g = ir_new(a);
  g->name = "tiny \"space\"";
  g->is_space = true;
  int x = input(g, 3, 32, 32);
  int s = op1(g, OP_RELU, op1(g, OP_BN, conv(g, x, 16, 3, 1, 1, 1, false)));
  g->stem_output = s;
  int c[3] = {inv_res(g, s, 16, 3, 1, 1, 1, 0, 0), inv_res(g, s, 16, 5, 3, 1, 1, 0, 1),
              inv_res(g, s, 16, 3, 6, 1, 2, 0, 2)};
  int mix = ir_add_node(g, OP_MIX, c, 3);
  g->nodes[mix].out = g->nodes[s].out;
  int add = op2(g, OP_ADD, s, mix);
  tag(g, mix, add, 0, -1);
  g->output = g->encoder_output = op1(g, OP_OUTPUT, add);
  IrSuperblock *sb = one_superblock(g, 3, s, add, true);
  const char *names[3] = {"ir_k3_e1", "ir_k5_e3", "ir_k3_e6_d2"};
  for (int i = 0; i < 3; i++) sb->cand[i] = (IrCandidate){.name = names[i], .output = c[i]};
  return g;
}

static void test_space_mix(void) {
  Arena a = {0};
  IrGraph *g = space_net(&a);
  fuse_graph(g, true);
  CHECK(check_ok(g));
  for (int i = 0; i < 3; i++) {
    const IrKernel *k = kernel_of(g, g->sb[0].cand[i].output);
    CHECK(k->kind == KERNEL_INVERTED_RESIDUAL && k->nnodes == 8);
    CHECK(k->superblock == 0 && k->candidate == i && k->output == g->sb[0].cand[i].output);
  }
  const IrKernel *mix = kernel_of(g, 28), *add = kernel_of(g, 29);
  CHECK(g->nodes[28].kind == OP_MIX && mix->kind == KERNEL_SINGLE && mix->nnodes == 1);
  CHECK(add->kind == KERNEL_SINGLE && add->nnodes == 1 && add->superblock == 0 && add->candidate == -1);
  CHECK(g->nkernels == 8); /* input, stem, 3 candidates, mix, add, output */
  arena_free(&a);
}

static void test_check_detects(void) {
  Arena a = {0};
  IrGraph *g = fixed_residual_net(&a);
  char err[128];
  CHECK(fuse_check(g, err, sizeof err) != 0 && strstr(err, "not fused"));
  fuse_graph(g, true);
  CHECK(fuse_check(g, NULL, 0) == 0);
  g->nodes[2].kernel = 0;
  CHECK(fuse_check(g, err, sizeof err) != 0 && strstr(err, "%2"));
  fuse_graph(g, true);
  IrKernel t = g->kernels[1]; /* swap the stem and superblock kernels: order broken */
  g->kernels[1] = g->kernels[2];
  g->kernels[2] = t;
  for (int i = 0; i < g->nnodes; i++)
    if (g->nodes[i].kernel == 1 || g->nodes[i].kernel == 2) g->nodes[i].kernel ^= 3;
  CHECK(fuse_check(g, err, sizeof err) != 0 && strstr(err, "later kernel"));
  fuse_graph(g, true);
  g->kernels[2].nnodes--; /* the add is now in no kernel's list */
  g->kernels[2].output = g->kernels[2].nodes[g->kernels[2].nnodes - 1];
  CHECK(fuse_check(g, err, sizeof err) != 0);
  arena_free(&a);
}

/* ---- dump tests ---- */

static char *capture(const IrGraph *g, void (*fn)(const IrGraph *, FILE *)) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return NULL;
  fn(g, f);
  fclose(f);
  return buf;
}

static void test_dump_ir(void) {
  Arena a = {0};
  IrGraph *g = fixed_residual_net(&a);
  g->nodes[1].macs = 110592;
  g->nodes[1].params = 432;
  char *s = capture(g, dump_ir);
  CHECK(s && !strstr(s, "kernels:") && !strstr(s, "[k"));
  free(s);
  fuse_graph(g, true);
  s = capture(g, dump_ir);
  CHECK(s != NULL);
  if (!s) return;
  CHECK(strstr(s, "graph net (network) input 3x32x32"));
  CHECK(strstr(s, "%0 = input -> 3x32x32  [k0]\n"));
  CHECK(strstr(s, "%1 = conv(%0) k=3x3 s=2 p=1 d=1 g=1 -> 16x16x16  name=stem.0  macs=110592  params=432  [k1]\n"));
  CHECK(strstr(s, "%7 = conv(%6) k=3x3 s=1 p=1 d=1 g=96 -> 96x16x16  sb=0 cand=0  [k2]\n"));
  CHECK(strstr(s, "%12 = add(%3, %11) -> 16x16x16  sb=0  [k2]\n"));
  CHECK(strstr(s, "superblocks: 1\n  sb0 stage=0 16->16 stride=1 residual in=%3 out=%12 16x16x16 -> 16x16x16"));
  CHECK(strstr(s, "    c0 ir_k3_e6  ir(k=3, e=6)  out=%11"));
  CHECK(strstr(s, "kernels: 4\n"));
  CHECK(strstr(s, "  k1 conv nodes %1..%3 folds_bn\n"));
  CHECK(strstr(s, "  k2 inverted_residual nodes %4..%12 sb=0 cand=0 folds_bn\n"));
  CHECK(strstr(s, "  k3 single nodes %13\n"));
  free(s);
  arena_free(&a);
}

static int count_char(const char *s, char c) {
  int n = 0;
  for (; *s; s++) n += *s == c;
  return n;
}

static void test_dump_dot(void) {
  Arena a = {0};
  IrGraph *g = space_net(&a);
  fuse_graph(g, true);
  char *s = capture(g, dump_dot);
  CHECK(s != NULL);
  if (!s) return;
  CHECK(!strncmp(s, "digraph \"tiny \\\"space\\\"\" {\n", 27));
  CHECK(strstr(s, "subgraph cluster_sb0 {"));
  CHECK(strstr(s, "subgraph cluster_sb0_c2 {"));
  CHECK(strstr(s, "n28 [label=\"%28 mix\\n16x32x32\\nk5\""));
  CHECK(strstr(s, "n3 -> n29;\n"));
  CHECK(strstr(s, "n4 -> n5 [style=bold];\n"));
  CHECK(strstr(s, "fillcolor=\"palegreen\"") && strstr(s, "fillcolor=\"darkseagreen2\""));
  CHECK(strstr(s, "k=5x5 s=1 p=2 d=1 g=48"));
  CHECK(count_char(s, '{') == count_char(s, '}'));
  CHECK(s[strlen(s) - 2] == '}');
  free(s);
  arena_free(&a);
}

static void write_dot(const char *dir, const char *name, IrGraph *g) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  if (!f) return;
  fuse_graph(g, true);
  dump_dot(g, f);
  fclose(f);
}

int main(int argc, char **argv) {
  test_inverted_residual_plain();
  test_inverted_residual_with_add();
  test_add_not_residual();
  test_two_consumers();
  test_two_consumers_mid_conv();
  test_conv_chains();
  test_topological_cut();
  test_elementwise();
  test_pinned_output();
  test_space_mix();
  test_check_detects();
  test_dump_ir();
  test_dump_dot();
  if (argc > 1) {
    Arena a = {0};
    write_dot(argv[1], "space.dot", space_net(&a));
    write_dot(argv[1], "network.dot", fixed_residual_net(&a));
    arena_free(&a);
  }
  return test_summary();
}
