/* test_lang.c - unit tests of the .sqn language: each construct compiles to the expected graph, and each
   diagnostic (syntax, names, types, shapes) reports its expected message, location and hint. */
#include <math.h>
#include <stdlib.h>
#include "compile.h"
#include "builtins.h"
#include "fuse.h"
#include "lang_compile.h"
#include "test_util.h"

static int find_param(const IrGraph *g, const char *name) {
  for (int i = 0; i < g->nparams; i++)
    if (!strcmp(g->params[i].name, name)) return i;
  return -1;
}

static void test_space(void) {
  Arena a = {0};
  IrGraph *g = compile_text(&a, prelude, NULL);
  CHECK(g != NULL);
  if (!g) return (void)fprintf(stderr, "%s", diag_buf);
  CHECK(g->is_space);
  CHECK_EQ_I64(g->nsb, 3);
  CHECK_EQ_I64(g->sb[0].ncand, 3);
  CHECK_STR(g->sb[0].cand[0].name, "a");
  CHECK_STR(g->sb[0].cand[2].name, "skip");
  CHECK(g->sb[0].residual && g->sb[1].residual && !g->sb[2].residual);
  CHECK(g->sb[0].cand[2].is_zero);        /* stride 1, same channels: Zero */
  CHECK(!g->sb[2].cand[2].is_zero);       /* stride 2: factorized reduce */
  CHECK_EQ_I64(g->nodes[g->output].out.c, 5);
  CHECK_EQ_I64(g->nodes[g->output].out.h, 64);
  CHECK(find_param(g, "encoder.conv1.0.weight") >= 0);
  CHECK(find_param(g, "encoder.conv1.1.running_var") >= 0);
  CHECK(find_param(g, "encoder.residuals.0.ops.a.0.weight") >= 0);
  CHECK(find_param(g, "encoder.residuals.1.ops.b.3.weight") >= 0);
  CHECK(find_param(g, "encoder.residuals.2.ops.skip.conv_2.0.weight") >= 0);
  CHECK(find_param(g, "decoder.0.bias") >= 0);
  CHECK_EQ_I64(g->nodes[g->sb[0].output].kind, OP_ADD); /* residual around the mixture */
  CHECK_EQ_I64(g->nodes[g->nodes[g->sb[0].output].inputs[1]].kind, OP_MIX);
  IrCostTotals t;
  ir_compute_costs(g, &t);
  CHECK(t.macs_min < t.macs_max);
  CHECK_EQ_I64(g->sb[0].cand[2].macs, 0);
  fuse_graph(g, true);
  CHECK(fuse_check(g, NULL, 0) == 0);
  arena_free(&a);
}

static void test_network(void) {
  Arena a = {0};
  char src[4096];
  snprintf(src, sizeof src, "%snetwork n = s [a, skip, ir(k=3, e=3)]\n", prelude);
  IrGraph *g = compile_text(&a, src, NULL);
  CHECK(g != NULL);
  if (!g) return (void)fprintf(stderr, "%s", diag_buf);
  CHECK(!g->is_space);
  CHECK_STR(g->name, "n");
  CHECK_EQ_I64(g->sb[1].output, g->sb[1].input); /* Zero + residual = identity */
  CHECK_STR(g->sb[2].cand[0].display, "ir(k=3, e=3)");
  CHECK(find_param(g, "encoder.residuals.0.op.0.weight") >= 0);
  CHECK(find_param(g, "encoder.residuals.2.op.6.weight") >= 0);
  int p = find_param(g, "encoder.residuals.2.op.0.weight");
  CHECK(p >= 0 && g->params[p].dims[0] == 24); /* round(8 * 3) hidden channels */
  arena_free(&a);
}

/* A network whose single superblock (8 -> 8 channels, 32x64, stride 1) is the block `t` with BODY. */
static OpKind kind_of_output(IrGraph *g) { return g->nodes[g->sb[0].output].kind; }

static void test_expressions(void) {
  Arena a = {0};
  IrGraph *g = compile_block(&a,
      "  assert 1 + 2 * 3 == 7\n  assert (1 + 2) * 3 == 9\n  assert 7 / 2 == 3.5\n  assert 7 % 3 == 1\n"
      "  assert -7 % 3 == 2\n  assert round(2.5) == 2 && round(3.5) == 4 && round(16 * 1.0) == 16\n"
      "  assert floor(2.7) == 2 && ceil(2.1) == 3 && abs(-3) == 3 && min(4, 2, 9) == 2 && max(1, 5) == 5\n"
      "  assert int(2.9) == 2 && float(2) == 2.0\n  assert in.c == 8 && cin == 8 && cout == 8 && stride == 1\n"
      "  assert in.h == 32 && in.w == 64\n  assert p == 2 && f == 0.5\n  assert (1, 2) == (1, 2) && (1, 2) != (2, 1)\n"
      "  assert !(1 > 2) && 2 >= 2 && 1 <= 1 && 1 < 2 && 3 > 2\n  assert (false && 1 / 0 == 0) == false\n"
      "  assert true || 1 / 0 == 0\n  assert (cin == 8 ? 1 : 2) == 1\n  assert \"a\" == \"a\"\n"
      "  x = true ? conv(in, cout) : conv(in, 999999999)\n" /* lazy: the other branch is never built */
      "  out = x");
  CHECK(g != NULL);
  if (!g) fprintf(stderr, "%s", diag_buf);
  else CHECK_EQ_I64(kind_of_output(g), OP_CONV);
  arena_free(&a);
}

/* maxpool, gmp, pad, softmax, slice, channel_shuffle: shapes, the node each makes, its attributes. */
static void test_spatial_ops(void) {
  static const struct { const char *body; OpKind kind; } cases[] = {
      {"  m = maxpool(in, 3, stride=2, pad=1)\n  assert m.h == 16 && m.w == 32\n"
       "  d = maxpool(in, k=3, stride=1, dilation=2)\n  assert d.h == 28 && d.w == 60\n"
       "  e = maxpool(in, 2)\n  assert e.h == 16 && e.w == 32\n  out = m", OP_MAXPOOL},
      {"  g = gmp(in)\n  assert g.c == 8 && g.h == 1 && g.w == 1\n  out = in * g", OP_MUL},
      {"  p = pad(in, 1, 2, 3, 4, value=-1)\n  assert p.h == 35 && p.w == 71\n  out = crop(p, 1, 2, 3, 4)", OP_CROP},
      {"  out = softmax(in)", OP_SOFTMAX},
      {"  s = slice(in, 2, 6)\n  assert s.c == 4\n  out = concat(s, slice(in, start=0, end=4))", OP_CONCAT},
      {"  out = channel_shuffle(in, 4)", OP_CHANNEL_SHUFFLE},
      {"  out = maxpool(in, k=3, stride=1, pad=1)", OP_MAXPOOL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    Arena a = {0};
    IrGraph *g = compile_block(&a, cases[i].body);
    CHECK(g != NULL);
    if (!g) fprintf(stderr, "%s", diag_buf);
    else CHECK_EQ_I64(kind_of_output(g), cases[i].kind);
    arena_free(&a);
  }
  Arena a = {0};
  IrGraph *g = compile_block(&a, "  out = maxpool(in, k=(3, 2), stride=(1, 2), pad=(1, 1), dilation=(2, 1))");
  const IrNode *n = g ? &g->nodes[g->sb[0].output] : NULL;
  CHECK(n && n->kh == 3 && n->kw == 2 && n->sh == 1 && n->sw == 2 && n->ph == 1 && n->dh == 2 && n->dw == 1);
  arena_free(&a);
  g = compile_block(&a, "  out = pad(slice(channel_shuffle(in, 2), 0, 8), left=2, value=0.5) -> crop(left=2)");
  CHECK(g != NULL);
  arena_free(&a);
}

static void test_ops(void) {
  Arena a = {0};
  IrGraph *g = compile_block(&a,
      "  x = in -> conv(16, k=(3, 5), stride=2, dilation=2, groups=8, bias=true) -> relu6 -> hswish\n"
      "  assert x.c == 16 && x.h == 16 && x.w == 32\n" /* pad (2, 4): (32+4-4-1)/2+1, (64+8-8-1)/2+1 */
      "  s = gap(x) -> conv(16, bias=true) -> sigmoid\n  assert s.h == 1 && s.w == 1\n"
      "  y = x * s\n  assert y.c == 16 && y.h == x.h\n"
      "  p = avgpool(in, k=7, stride=(2, 3), count_include_pad=false)\n  assert p.h == 13 && p.w == 20\n"
      "  q = avgpool(in, 3, pad=1)\n  assert q.h == 11 && q.w == 22\n"
      "  u = bilinear(y, scale=2, align_corners=true)\n  assert u.h == 2 * y.h\n"
      "  v = nearest(u, size=(32, 64))\n  w = bilinear(v, like=in)\n  assert w.h == 32 && w.w == 64\n"
      "  c = crop(in, top=1, left=1)\n  assert c.h == 31 && c.w == 63\n"
      "  k = concat(in, in, mul(in, in), add(in, zero(in)))\n  assert k.c == 32\n"
      "  out = conv(w, cout) + in");
  CHECK(g != NULL);
  if (!g) fprintf(stderr, "%s", diag_buf);
  arena_free(&a);
}

/* How many nodes of kind k the graph has with alpha and beta (NAN: any). */
static int count_nodes(const IrGraph *g, OpKind k, double alpha, double beta) {
  int n = 0;
  for (int i = 0; i < g->nnodes; i++) {
    const IrNode *x = &g->nodes[i];
    if (x->kind == k && (isnan(alpha) || fabs(x->alpha - alpha) < 1e-12) && (isnan(beta) || fabs(x->beta - beta) < 1e-12))
      n++;
  }
  return n;
}

/* The elementwise ops of issue 17 and tensor-number arithmetic compile to the expected nodes. */
static void test_eltwise_ops(void) {
  Arena a = {0};
  IrGraph *g = compile_block(&a,
      "  p = silu(in) -> swish -> hsigmoid -> tanh\n"
      "  q = leaky_relu(in) -> leaky_relu(slope=0.2)\n"
      "  c = in - q\n  assert c.c == 8 && c.h == 32\n"
      "  d = relu6(c + 3) / 6\n  e = 3 - d * 0.5\n  f = -e\n"
      "  g = 0.5 * f + affine(in, a=2, b=-1) - gap(in)\n"
      "  h = in * hsigmoid(in) + (in - 1)\n"
      "  out = g + p + h");
  CHECK(g != NULL);
  if (!g) {
    fprintf(stderr, "%s", diag_buf);
    return arena_free(&a);
  }
  CHECK_EQ_I64(count_nodes(g, OP_SILU, NAN, NAN), 2);
  CHECK_EQ_I64(count_nodes(g, OP_HSIGMOID, NAN, NAN), 2);
  CHECK_EQ_I64(count_nodes(g, OP_TANH, NAN, NAN), 1);
  CHECK_EQ_I64(count_nodes(g, OP_LEAKY_RELU, 0.01, NAN), 1);
  CHECK_EQ_I64(count_nodes(g, OP_LEAKY_RELU, 0.2, NAN), 1);
  CHECK_EQ_I64(count_nodes(g, OP_SUB, NAN, NAN), 2); /* in - q and ... - gap(in) (broadcast) */
  CHECK_EQ_I64(count_nodes(g, OP_AFFINE, 1, 3), 1);       /* c + 3 */
  CHECK_EQ_I64(count_nodes(g, OP_AFFINE, 1.0 / 6, 0), 1); /* / 6 */
  CHECK_EQ_I64(count_nodes(g, OP_AFFINE, 0.5, 0), 2);     /* d * 0.5, 0.5 * f */
  CHECK_EQ_I64(count_nodes(g, OP_AFFINE, -1, 3), 1);      /* 3 - ... */
  CHECK_EQ_I64(count_nodes(g, OP_AFFINE, -1, 0), 1);      /* -e */
  CHECK_EQ_I64(count_nodes(g, OP_AFFINE, 2, -1), 1);      /* the call */
  CHECK_EQ_I64(count_nodes(g, OP_AFFINE, 1, -1), 1);      /* in - 1 */
  arena_free(&a);
}

static void test_naming(void) {
  Arena a = {0};
  IrGraph *g = compile_block(&a,
      "  x = conv(in, cout) -> bn -> relu\n"                  /* .0 .1 .2 */
      "  y = x + x\n"                                          /* operators take no index */
      "  z = conv(y, cout, name=\"named.conv\")\n"             /* .3 is used by the name */
      "  w = conv_bn_relu(z, cout=cout)\n"                     /* sub-block at .4 -> .4.0, .4.1 */
      "  out = conv(w, cout, name=\"/root_conv\")");
  CHECK(g != NULL);
  if (!g) return (void)fprintf(stderr, "%s", diag_buf);
  CHECK(find_param(g, "encoder.residuals.0.op.0.weight") >= 0);
  CHECK(find_param(g, "encoder.residuals.0.op.1.running_mean") >= 0);
  CHECK(find_param(g, "encoder.residuals.0.op.named.conv.weight") >= 0);
  CHECK(find_param(g, "encoder.residuals.0.op.4.0.weight") >= 0);
  CHECK(find_param(g, "encoder.residuals.0.op.4.1.bias") >= 0);
  CHECK(find_param(g, "root_conv.weight") >= 0);
  arena_free(&a);
}

static void test_settings(void) {
  Arena a = {0};
  char src[4096];
  snprintf(src, sizeof src,
           "%snetwork n = s [a, a, b] {\n  input 3x96x160\n  classes 7\n"
           "  search { objective latency; alpha 0.5; temperature 3 -> 0.5; prune 1%%; samples 50; warmup 2 }\n"
           "  train { lr 0.1; schedule poly(0.8); crop 512x1024; batch 4; epochs 10 }\n}\n",
           prelude);
  IrGraph *g = compile_text(&a, src, NULL);
  CHECK(g != NULL);
  if (!g) return (void)fprintf(stderr, "%s", diag_buf);
  CHECK_EQ_I64(g->input.h, 96);
  CHECK_EQ_I64(g->classes, 7);
  CHECK_EQ_I64(g->search.objective, OBJ_LATENCY);
  CHECK(g->search.alpha == 0.5 && g->search.temp_start == 3 && g->search.temp_end == 0.5);
  CHECK(g->search.prune_below > 0.0099 && g->search.prune_below < 0.0101);
  CHECK_EQ_I64(g->search.samples, 50);
  CHECK_EQ_I64(g->search.warmup_epochs, 2);
  CHECK(g->train.lr == 0.1 && g->train.schedule == SCHED_POLY && g->train.poly_power == 0.8);
  CHECK(g->train.crop_h == 512 && g->train.crop_w == 1024 && g->train.batch == 4 && g->train.epochs == 10);
  CHECK(g->train.momentum == 0.9 && g->train.weight_decay == 1e-5); /* paper defaults */
  CHECK(!g->search.costs_relative && g->search.target == 0 && g->search.target_fraction == -1); /* no budget */
  CHECK(g->search.skip_limit == 1 && g->search.arch_lr_end == 0 && g->search.budget_lr == 0.05);
  arena_free(&a);
  /* budgets in each objective's units, a fraction of the cost range, the anti-collapse settings */
  static const struct { const char *setting; Objective obj; double target, fraction; } budgets[] = {
      {"objective macs target 0.05G", OBJ_MACS, 0.05, -1},      {"objective macs target 50M", OBJ_MACS, 0.05, -1},
      {"objective macs target 2", OBJ_MACS, 2, -1},             {"objective latency target 2.5ms", OBJ_LATENCY, 2.5, -1},
      {"objective latency target 1500us", OBJ_LATENCY, 1.5, -1}, {"objective params target 300K", OBJ_PARAMS, 0.3, -1},
      {"objective macs target 30%", OBJ_MACS, 0, 0.3}};
  for (size_t i = 0; i < sizeof budgets / sizeof *budgets; i++) {
    snprintf(src, sizeof src, "%snetwork n = s [a, a, b] {\n  search { %s; costs relative; skip_limit 25%%; "
             "arch_lr 0.05 -> 0.005; budget_lr 0.2 }\n}\n", prelude, budgets[i].setting);
    g = compile_text(&a, src, NULL);
    CHECK(g != NULL);
    if (!g) return (void)fprintf(stderr, "%s: %s", budgets[i].setting, diag_buf);
    CHECK_EQ_I64(g->search.objective, budgets[i].obj);
    CHECK(fabs(g->search.target - budgets[i].target) < 1e-12 && fabs(g->search.target_fraction - budgets[i].fraction) < 1e-12);
    CHECK(g->search.costs_relative && fabs(g->search.skip_limit - 0.25) < 1e-12 && g->search.budget_lr == 0.2);
    CHECK(g->search.arch_lr == 0.05 && g->search.arch_lr_end == 0.005);
    arena_free(&a);
  }
  CompileOptions opt = {.has_input = true, .input = {0, 3, 128, 256}};
  g = compile_text(&a, prelude, &opt);
  CHECK(g && g->input.h == 128 && g->nodes[g->output].out.w == 256);
  arena_free(&a);
}

static const DiagCase diag_cases[] = {
    {"  out = conv(in, cuot)", {"test.sqn:4:18: error: unknown name `cuot`", "did you mean `cout`?"}},
    {"  out = conv(in, cout, strid=2)", {"`conv` has no parameter `strid`", "did you mean `stride`?"}},
    {"  out = conv(in)", {"`conv` needs its `cout` argument"}},
    {"  out = cnv(in, cout)", {"unknown op or block `cnv`", "did you mean `conv`?"}},
    {"  out = conv(in, cout, k=2.5)", {"k must be an int, got 2.5", "round()"}},
    {"  out = conv(in, cout, groups=3)", {"groups=3 cannot map 8 to 8 channels"}},
    {"  out = conv(in, 12)", {"stage 1 expects 8 channels but candidate `t` (superblock 0) produces 12"}},
    {"  out = conv(in, cout, k=41, pad=0)", {"produces an empty output", "larger --input"}},
    {"  out = avgpool(in, k=49)", {"avgpool window 49x49 is larger than its 32x64 input", "larger --input", "fit=true"}},
    {"  out = maxpool(in, k=33)", {"maxpool window 33x33 is larger than its 32x64 (padded) input", "larger --input"}},
    {"  out = maxpool(in, k=3, dilation=20)", {"maxpool window 41x41 is larger than its 32x64", "smaller kernel or dilation"}},
    {"  out = maxpool(in, k=3, pad=2)", {"maxpool pad 2x2 must be at most half the kernel 3x3", "-inf"}},
    {"  out = slice(in, 4, 9)", {"test.sqn:4:9: error: slice [4, 9) is out of range for a 8-channel input", "0 <= start < end <= channels"}},
    {"  out = slice(in, 5, 5)", {"slice [5, 5) is out of range"}},
    {"  out = channel_shuffle(in, 3)", {"channel_shuffle with groups=3 cannot split 8 channels", "groups must divide the channels"}},
    {"  out = pad(in, top=-1)", {"pad top must be zero or more, got -1"}},
    {"  out = pad(in, 1, value=true)", {"pad value must be a number, got true"}},
    {"  out = conv(in, cout, kernel=3)", {"`conv` has no parameter `kernel`", "`conv` takes x, cout, k, stride"}},
    {"  out = ir(in, kk=3)", {"block `ir` has no parameter `kk`", "did you mean `k`? `ir` takes k"}},
    {"  out = softplus(in)", {"unknown op or block `softplus`", "not one of the builtins (conv, bn, relu"}},
    {"  out = 6 / in", {"test.sqn:4:", "operator `/` cannot divide the number 6 by a tensor", "sqn has no reciprocal"}},
    {"  out = in / in", {"test.sqn:4:", "operator `/` cannot divide a tensor by a tensor", "gate with a product"}},
    {"  out = in / 0", {"test.sqn:4:", "division of a tensor by zero"}},
    {"  out = in % 2", {"operator `%` cannot combine a tensor and a number", "and / by a number"}},
    {"  out = in + true", {"operator `+` cannot combine tensor 8x32x64 and true"}},
    {"  out = leaky_relu(in, slope=2)", {"test.sqn:4:", "leaky_relu slope must be from 0 to 1, got 2", "default is 0.01"}},
    {"  out = leaky_relu(in, slope=\"a\")", {"leaky_relu slope must be a number, got \"a\""}},
    {"  out = affine(in, a=1e300 * 1e300)", {"affine a must be a number"}},
    {"  out = in - conv(in, cout, stride=2)", {"cannot subtract tensors of shapes 8x32x64 and 8x16x32"}},
    {"  out = sub(in, 2)", {"`sub` needs a tensor for `b`, got 2"}},
    {"+network n = s [a, a, a] { search { alpha = 2.0 } }\n",
     {"settings are written `alpha VALUE`, without `=`", "write `alpha 2.0`"}},
    {"+block odd() { out = conv(in, cout, k=3, stride=stride, pad=0) }\n"
     "candidates c8 = [ odd, a = ir(k=3, e=1), b = ir(k=5, e=1) ]\n"
     "space s8 { input 3x64x128; classes 5; stem conv_bn_relu(cout=8, k=3, stride=2)\n"
     "  stage 16 repeat 1 stride 2 choose c8; decoder tiny(low=tap(0)) }\n",
     {"candidate `odd` (superblock 0, stride 2 on 32x64) produces 15x31, where the other candidates produce 16x32"}},
    {"+space s9 { input 3x60x120; classes 5; stem conv_bn_relu(cout=8, k=3, stride=2)\n"
     "  stage 8 repeat 1 stride 2 choose c; stage 16 repeat 1 stride 2 choose c; decoder tiny(low=tap(0)) }\n",
     {"note: the input 60x120 is not a multiple of 8, the output stride of the stem and stages", "--input 3x64x120"}},
    {"  out = in + conv(in, cout, stride=2)", {"cannot add tensors of shapes 8x32x64 and 8x16x32"}},
    {"  out = concat(in, conv(in, cout, stride=2))", {"concat input 1 is 16x32 but input 0 is 32x64"}},
    {"  x = conv(in, cout)", {"block `t` never assigns `out`"}},
    {"  out = 3", {"`out` of block `t` must be a tensor, got 3"}},
    {"  assert cin == 7, \"needs seven\"\n  out = in", {"assertion failed in `t`: needs seven"}},
    {"  out = in.d", {"tensor has no field `d`"}},
    {"  x = 1 / 0\n  out = in", {"division by zero"}},
    {"  out = bilinear(in)", {"needs exactly one of scale=, size= or like="}},
    {"  out = t(in)", {"nested more than 32 deep"}},
    {"  out = ir(in, k=3, q=1)", {"block `ir` has no parameter `q`"}},
    {"  out = ir(in, k=true)", {"parameter `k` of `ir` is int, got true"}},
    {"  out = tap(0)", {"tap() is only available in a space's decoder"}},
    {"  x = conv(in, cout)\n  out = conv_bn_relu(x, name=\"\")", {"parameter `encoder.residuals.0.op.0.weight` is defined twice"}},
    {"  out = conv(in, cout, name=3)", {"name= must be a string"}},
    {"  out = (in ? in : in)", {"condition of `?:` must be a bool"}},
    {"  out = conv(in, cout) -> \n", {"test.sqn:6:1: error: syntax error: unexpected '}'"}},
    {"  out = conv(in, cout\n  y = 1", {"test.sqn:5:3: error: syntax error", "is not closed"}},
    {"  out = \"abc", {"unterminated string"}},
    {"  out = in $ in", {"unexpected character '$'"}},
    {"  x = 99999999999\n  out = in", {"integer literal '99999999999' is too large"}},
    {"  x = 2147483647 * 2147483647 * 4\n  out = in", {"integer overflow in `*`"}},
    {"  x = round(1e300)\n  out = in", {"does not fit in an integer"}},
    {"  out = conv(in, cout, k=65536 * 65536 + 1)", {"k is out of range"}},
    {"  out = conv(bilinear(in, scale=100), 100000, k=41)", {"conv is too large", "MACs (limits 2^36 and 1e13)"}},
    {"  out = bilinear(in, scale=1024) -> bilinear(scale=1024)", {"bilinear output 8x33554432x67108864 is too large"}},
    {"!import \"nope/none.sqn\"\n", {"cannot find import \"nope/none.sqn\""}},
    {"!block a() { out = in }\nblock a() { out = in }\n", {"block `a` is defined twice", "the first definition is here"}},
    {"!block conv() { out = in }\n", {"would hide the built-in op"}},
    {"!block a(x: intt) { out = in }\n", {"unknown type `intt`", "did you mean `int`?"}},
    {"!space s { input 3x64x64 }\n", {"space `s` has no stages"}},
    {"!network n = nope [ ]\n", {"unknown space `nope`"}},
    {"!block a() { out = in }\n", {"declares no space or network"}},
    {"+network n = s [a, a]\n", {"network `n` gives 2 choices but space `s` has 3 superblocks"}},
    {"+network n = s [a, bb, a]\n", {"`bb` is not a candidate of set `c` nor a block", "did you mean `b`?"}},
    {"+network n = s [a, a, a] { decoder tiny(low=tap(5)) }\n", {"tap(5) is out of range", "0 to 2"}},
    {"+network n = s [a, a, a] { search { objectiv macs } }\n", {"unknown search setting `objectiv`", "did you mean `objective`?"}},
    {"+network n = s [a, a, a] { search { objective flops } }\n", {"unknown objective `flops`"}},
    {"+network n = s [a, a, a] { train { crop 7 7 } }\n", {"bad crop size"}},
    {"+network n = s [a, a, a] { search { objective macs target 2ms } }\n", {"bad target unit `ms`", "G, GMACs, M or MMACs"}},
    {"+network n = s [a, a, a] { search { objective latency target 2G } }\n", {"bad target unit `G`", "ms, us or s"}},
    {"+network n = s [a, a, a] { search { objective macs target } }\n", {"`target` needs a number"}},
    {"+network n = s [a, a, a] { search { objective macs target -1 } }\n", {"`target` needs a number"}},
    {"+network n = s [a, a, a] { search { objective macs target 0 } }\n", {"target must be positive"}},
    {"+network n = s [a, a, a] { search { objective macs target 150% } }\n", {"between 0% and 100%"}},
    {"+network n = s [a, a, a] { search { objective macs target 30.0% G } }\n", {"a percentage target takes no unit"}},
    {"+network n = s [a, a, a] { search { objective macs budget 2 } }\n", {"only `target VALUE [UNIT]` may follow"}},
    {"+network n = s [a, a, a] { search { costs normalised } }\n", {"write `costs relative` or `costs absolute`"}},
    {"+network n = s [a, a, a] { search { skip_limit 2 } }\n", {"`skip_limit` must be between 0 and 1"}},
    {"+network n = s [a, a, a] { search { arch_lr 0.1 -> x } }\n", {"bad arch_lr schedule"}},
    {"+network n = s [a, a, a] { search { skip_limt 0.2 } }\n", {"did you mean `skip_limit`?"}},
    {"+network n = s [a, a, a] { stage 8 }\n", {"a network cannot add stages"}},
    {"+decoder d2(low: tensor) { out = conv(in, classes) }\nnetwork n = s [a, a, a] { decoder d2(low=tap(0)) }\n",
     {"the decoder produces 5x16x32 but the network must output 5x64x128 logits"}},
    {"+space s2 { input 3x64x128; stem conv_bn_relu(cout=8); stage 8 repeat 1 strid 1 choose c; decoder tiny(low=tap(0)) }\n",
     {"unknown stage option `strid`", "did you mean `stride`?"}},
    {"+space s3 { input 3x64x128; stage 8 choose cc; decoder tiny(low=tap(0)) }\n", {"unknown candidate set `cc`"}},
    {"+space s4 { input 3x64; stage 8 choose c; decoder tiny(low=tap(0)) }\n", {"bad input shape", "CxHxW"}},
    {"+network n = s [a, a, a] { search objective }\n", {"`search` takes a { } body of settings"}},
    {"+network n = s [a, a, a] { train { schedule poly(1, 2) } }\n", {"poly() takes one number"}},
    {"+space s6 { input 3x64x128; stem conv_bn_relu(cout=8, name=\"x\"); stage 8 choose c; decoder tiny(low=tap(0)) }\n",
     {"name= is not allowed here", "encoder.conv1.*"}},
    {"+space s7 { input 3x64x128; stage 8 stride 2 choose c; residual true; decoder tiny(low=tap(0)) }\n",
     {"superblock 0 is residual but its input 3x64x128 and output 8x32x64 differ"}},
    {"  x = conv(in, cout, k=2.5)\n  out = ir(x, k=2.5)", {"k must be an int, got 2.5"}},
    {"+space s5 { input 3x64x128; stage 8 choose c; decoder tiny(low=tap(0)); colour red }\n",
     {"unknown space setting `colour`"}},
};

static void test_diagnostics(void) {
  for (size_t i = 0; i < sizeof diag_cases / sizeof diag_cases[0]; i++) CHECK(run_diag_case(&diag_cases[i]));
}

/* Hints name only plausible alternatives (softplus is not split), and an even kernel that cannot pad "same"
   is explained where it is, though the space still compiles. */
static void test_hints(void) {
  Arena a = {0};
  IrGraph *g = compile_block(&a, "  x = softplus(in)\n  out = x");
  CHECK(g == NULL && !strstr(diag_buf, "did you mean"));
  arena_free(&a);
  g = compile_block(&a, "  out = conv(in, cout, k=4)");
  CHECK(strstr(diag_buf, "warning: conv 4x4 pads 1x1") && strstr(diag_buf, "gives 31x63, not 32x64") &&
        strstr(diag_buf, "give pad= explicitly"));
  arena_free(&a);
  g = compile_block(&a, "  out = conv(in, cout, k=4, pad=(1, 2)) -> crop(size=(32, 64))");
  CHECK(!strstr(diag_buf, "warning"));
  arena_free(&a);
}

/* Diagnostics show the source line and a caret under the column. */
static void test_caret(void) {
  Arena a = {0};
  IrGraph *g = compile_block(&a, "  out = conv(in, cuot)");
  CHECK(g == NULL);
  CHECK(strstr(diag_buf, "  out = conv(in, cuot)\n") != NULL);
  CHECK(strstr(diag_buf, "|                  ^") != NULL);
  arena_free(&a);
}

/* Several independent errors are all reported. */
static void test_multiple_errors(void) {
  Arena a = {0};
  IrGraph *g = compile_block(&a, "  x = conv(in, cuot)\n  y = relu(x, foo=1)\n  out = bogus(in)");
  CHECK(g == NULL);
  CHECK(strstr(diag_buf, "unknown name `cuot`") && strstr(diag_buf, "unknown op or block `bogus`"));
  arena_free(&a);
}

/* Ops whose value is never used are removed (with a warning) and cost nothing. */
static void test_dead_code(void) {
  Arena a = {0};
  IrGraph *g = compile_block(&a, "  unused = conv(in, 64, k=3) -> relu\n  out = conv(in, cout)");
  CHECK(g != NULL);
  CHECK(strstr(diag_buf, "warning: this relu is never used") != NULL);
  if (g) {
    IrCostTotals t;
    ir_compute_costs(g, &t);
    CHECK_EQ_I64(g->sb[0].cand[0].macs, 8LL * 32 * 64 * 8); /* only the 1x1 conv */
    CHECK(find_param(g, "encoder.residuals.0.op.0.weight") < 0);
    CHECK(find_param(g, "encoder.residuals.0.op.2.weight") >= 0);
  }
  arena_free(&a);
}

/* A network's search/train settings apply on top of its space's. */
static void test_settings_merge(void) {
  Arena a = {0};
  char src[4096];
  snprintf(src, sizeof src, "%s", prelude);
  char *close = strrchr(src, '}');
  snprintf(close, sizeof src - (size_t)(close - src),
           "  search { alpha 0.7; objective latency }\n}\nnetwork n = s [a, a, a] { search { samples 10 } }\n");
  IrGraph *g = compile_text(&a, src, NULL);
  CHECK(g && g->search.alpha == 0.7 && g->search.objective == OBJ_LATENCY && g->search.samples == 10);
  arena_free(&a);
}

/* ops.def is the one list of ops: names unique and found again by name, every op .sqn can call has its
   IR builder and its parameters bind, arities as the plan reader will check them. */
static void test_op_table(void) {
  for (int k = 0; k < OP__COUNT; k++) {
    const OpInfo *op = op_info((OpKind)k);
    OpKind back;
    CHECK(op && op_from_name(op->name, &back) && back == (OpKind)k);
    CHECK(op->max_inputs < 0 || op->max_inputs >= op->min_inputs);
    bool callable = op->flags & OPF_CALLABLE;
    CHECK(callable == (builtin_op_builder(op->name) != NULL));
    CHECK(callable == builtin_is_op(op->name));
    int n = 0;
    const char *const *names = builtin_param_names(op->name, &n);
    CHECK(!callable || (names && n >= op->nrequired + 1 && !strcmp(names[n - 1], "name")));
  }
  CHECK(op_info(OP__COUNT) == NULL && !strcmp(op_name(OP__COUNT), "?"));
}

/* `decoder choose`: the decoders become the last superblock (its own theta, decoder.ops.NAME.* parameters,
   absolute names under the candidate's prefix); a network picks one with a last list item. */
static const char *const decoder_space =
    "import \"std/blocks.sqn\"\n"
    "decoder tiny(low: tensor, k: int = 1) {\n"
    "  out = conv(in, classes, k=k, bias=true) -> bilinear(like=image)\n"
    "}\n"
    "decoder fuse(low: tensor) {\n"
    "  x = conv(in, low.c, name=\"/proj\") -> bilinear(like=low)\n"
    "  out = conv(x + low, classes, bias=true) -> bilinear(like=image)\n"
    "}\n"
    "candidates c = [ a = ir(k=3, e=1), skip ]\n"
    "candidates decs = [ t1 = tiny(low=tap(0)), t3 = tiny(low=tap(0), k=3), f = fuse(low=tap(0)) ]\n"
    "space s {\n  input 3x64x128\n  classes 5\n  stem conv_bn_relu(cout=8, k=3, stride=2)\n"
    "  stage 8 repeat 2 stride 1 choose c\n  stage 16 repeat 1 stride 2 choose c\n"
    "  decoder choose decs\n}\n";

static void test_decoder_choice(void) {
  Arena a = {0};
  IrGraph *g = compile_text(&a, decoder_space, NULL);
  CHECK(g != NULL);
  if (!g) return (void)fprintf(stderr, "%s", diag_buf);
  CHECK_EQ_I64(g->nsb, 4);
  const IrSuperblock *d = &g->sb[3];
  CHECK(d->is_decoder && !g->sb[2].is_decoder && d->ncand == 3 && d->stage == 2 && d->cout == 5 && d->cin == 16);
  CHECK(!strcmp(d->cand[0].name, "t1") && !strcmp(d->cand[2].name, "f"));
  CHECK(find_param(g, "decoder.gumble_arch_params") >= 0);
  CHECK(find_param(g, "decoder.ops.t1.0.weight") >= 0 && find_param(g, "decoder.ops.t3.0.weight") >= 0);
  CHECK(find_param(g, "decoder.ops.f.proj.weight") >= 0 && find_param(g, "proj.weight") < 0); /* absolute, rooted */
  CHECK(g->nodes[g->nodes[g->output].inputs[0]].kind == OP_MIX);
  IrCostTotals t;
  ir_compute_costs(g, &t);
  CHECK(d->cand[0].macs > 0 && d->cand[1].macs > 2 * d->cand[0].macs); /* 3x3 vs 1x1 classifier: own costs */
  CHECK(t.macs_max - t.macs_min >= d->cand[1].macs - d->cand[0].macs); /* the decoder choice is in the range */
  arena_free(&a);
  char src[8192];
  snprintf(src, sizeof src, "%snetwork n = s [a, skip, a, f]\n", decoder_space);
  g = compile_text(&a, src, NULL);
  CHECK(g != NULL);
  if (!g) return (void)fprintf(stderr, "%s", diag_buf);
  CHECK(g->nsb == 4 && g->sb[3].is_decoder && g->sb[3].ncand == 1 && !strcmp(g->sb[3].cand[0].name, "f"));
  CHECK(find_param(g, "decoder.proj.weight") >= 0 && find_param(g, "decoder.gumble_arch_params") < 0);
  arena_free(&a);
  snprintf(src, sizeof src, "%snetwork n = s [a, skip, a] { decoder tiny(low=tap(1)) }\n", decoder_space);
  g = compile_text(&a, src, NULL); /* a network's own decoder replaces the choice */
  CHECK(g && g->nsb == 3 && find_param(g, "decoder.0.weight") >= 0);
  arena_free(&a);
  static const struct { const char *tail; const char *expect[2]; } bad[] = {
      {"network n = s [a, skip, a]\n", {"gives 3 choices but space `s` has 3 superblocks and chooses the decoder", "then the decoder"}},
      {"network n = s [a, skip, a, t2]\n", {"`t2` is not a candidate of set `decs`", "did you mean `t1`?"}},
      {"space s2 { input 3x64x128; classes 5; stage 8 choose c; decoder choose }\n", {"`decoder choose` takes one candidate set"}},
      {"space s2 { input 3x64x128; classes 5; stage 8 choose c; decoder choose decs extra }\n", {"`decoder choose` takes one candidate set"}},
      {"space s2 { input 3x64x128; classes 5; stage 8 choose c; decoder choose [tiny(low=tap(0)), conv_bn_relu(cout=6)] }\n",
       {"the decoder `conv_bn_relu(cout=6)` produces 6x64x128", "classes x input size"}},
      {"space s2 { input 3x64x128; classes 5; stage 8 choose c; decoder choose nodecs }\n", {"unknown candidate set `nodecs`"}},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    snprintf(src, sizeof src, "!%s%s", decoder_space, bad[i].tail);
    DiagCase dc = {src, {bad[i].expect[0], bad[i].expect[1]}};
    CHECK(run_diag_case(&dc));
  }
}

/* `repeat MIN -> MAX`: the superblocks past MIN gain a skip (unless their set has one); a network may skip them. */
static void test_depth_choice(void) {
  static const char *const space =
      "import \"std/blocks.sqn\"\n"
      "decoder tiny(low: tensor) { out = conv(in, classes, bias=true) -> bilinear(like=image) }\n"
      "space s {\n  input 3x64x128\n  classes 5\n  stem conv_bn_relu(cout=8, k=3, stride=2)\n"
      "  stage 16 repeat 1 -> 3 stride 2 choose [ir(k=3, e=1), ir(k=5, e=3)]\n"
      "  stage 24 repeat 2 -> 3 stride 2 choose [ir(k=3, e=1), skip]\n"
      "  decoder tiny(low=tap(0))\n}\n";
  Arena a = {0};
  IrGraph *g = compile_text(&a, space, NULL);
  CHECK(g != NULL);
  if (!g) return (void)fprintf(stderr, "%s", diag_buf);
  CHECK_EQ_I64(g->nsb, 6);
  CHECK(g->sb[0].ncand == 2 && g->sb[1].ncand == 3 && g->sb[2].ncand == 3); /* + skip_depth past the first */
  CHECK(!strcmp(g->sb[1].cand[2].name, "skip_depth") && g->sb[1].cand[2].is_zero && g->sb[1].residual);
  CHECK(g->sb[3].ncand == 2 && g->sb[5].ncand == 2); /* the set's own skip serves */
  arena_free(&a);
  char src[4096];
  snprintf(src, sizeof src, "%snetwork n = s [ir(k=3, e=1), skip_depth, skip_depth, ir(k=3, e=1), skip, skip]\n", space);
  g = compile_text(&a, src, NULL);
  CHECK(g != NULL);
  if (!g) return (void)fprintf(stderr, "%s", diag_buf);
  CHECK(g->nsb == 6 && g->sb[1].cand[0].is_zero && g->sb[2].output == g->sb[0].output); /* skipped: identity */
  arena_free(&a);
  static const struct { const char *tail; const char *expect; } bad[] = {
      {"network n = s [skip_depth, skip_depth, skip_depth, ir(k=3, e=1), skip, skip]\n", "`skip_depth` is not a candidate"},
      {"space t { input 3x64x128; stage 8 repeat 3 -> 2 choose [ir(k=3, e=1)]; decoder tiny(low=tap(0)) }\n",
       "a searchable depth needs 1 <= MIN < MAX, got 3 -> 2"},
      {"space t { input 3x64x128; stage 8 repeat 0 -> 2 choose [ir(k=3, e=1)]; decoder tiny(low=tap(0)) }\n",
       "stage repeat must be positive, got 0"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    snprintf(src, sizeof src, "!%s%s", space, bad[i].tail);
    DiagCase dc = {src, {bad[i].expect}};
    CHECK(run_diag_case(&dc));
  }
}

/* Width choices: `stage [W1, W2] ...` builds the stage at its widest, masks each superblock output (an OP_WIDTH
   node; the stage's first holds the theta), adds a width choice superblock after the encoder's, and costs every
   candidate at each width pair it may have; a network takes its widths from `widths`. */
static void test_width_choice(void) {
  static const char *const space =
      "import \"std/blocks.sqn\"\n"
      "decoder tiny(low: tensor) { out = conv(in, classes, bias=true) -> bilinear(like=image) }\n"
      "space s {\n  input 3x64x128\n  classes 5\n  stem conv_bn_relu(cout=8, k=3, stride=2)\n"
      "  stage [16, 8] repeat 2 stride 2 choose [ir(k=3, e=1), ir(k=5, e=3)]\n"
      "  stage [24, 32] repeat 1 -> 2 stride 2 choose [ir(k=3, e=1), skip]\n"
      "  decoder tiny(low=tap(0))\n}\n";
  Arena a = {0};
  IrGraph *g = compile_text(&a, space, NULL);
  CHECK(g != NULL);
  if (!g) return (void)fprintf(stderr, "%s", diag_buf);
  IrCostTotals totals;
  ir_compute_costs(g, &totals);
  CHECK_EQ_I64(g->nsb, 6); /* four superblocks, then the two stages' width choices */
  CHECK(g->sb[4].is_width && g->sb[5].is_width && g->sb[4].ncand == 2 && g->sb[4].cand[0].width == 8 &&
        g->sb[4].cand[1].width == 16 && g->sb[5].cand[1].width == 32 && !strcmp(g->sb[5].cand[0].name, "w24"));
  CHECK(g->sb[0].cout == 16 && g->sb[2].cin == 16 && g->sb[2].cout == 32); /* built at the widest */
  CHECK(g->sb[0].width_in == -1 && g->sb[0].width_out == 4 && g->sb[1].width_in == 4 && g->sb[1].width_out == 4);
  CHECK(g->sb[2].width_in == 4 && g->sb[2].width_out == 5 && g->sb[3].width_in == 5);
  int thetas = 0;
  for (int s = 0; s < 4; s++) { /* each output masked; one theta per stage */
    const IrNode *m = &g->nodes[g->sb[s].output];
    CHECK(m->kind == OP_WIDTH && m->superblock == (s < 2 ? 4 : 5) && m->candidate == -1);
    thetas += m->nparams == 1 && g->params[m->param[0]].role == PARAM_ARCH;
  }
  CHECK_EQ_I64(thetas, 2);
  const IrCandidate *c = &g->sb[0].cand[1], *d = &g->sb[1].cand[0], *e2 = &g->sb[2].cand[0];
  CHECK(c->wmacs && c->wmacs[1] == c->macs && c->wmacs[0] > 0 && c->wmacs[0] < c->macs); /* in 8; out 8 or 16 */
  CHECK(d->wmacs && d->wmacs[3] == d->macs && d->wmacs[0] > 0 && d->wmacs[1] == -1 && d->wmacs[2] == -1); /* one width */
  CHECK(e2->wmacs[3] == e2->macs && e2->wmacs[0] < e2->wmacs[1] && e2->wmacs[0] < e2->wmacs[2]); /* 8|16 -> 24|32 */
  CHECK(g->sb[2].cand[1].wmacs && g->sb[2].cand[1].wmacs[0] > 0); /* skip: a factorized reduce at stride 2 */
  CHECK(g->sb[3].cand[1].is_zero && g->sb[3].cand[1].wmacs[0] == 0);
  arena_free(&a);
  char src[4096];
  snprintf(src, sizeof src, "%snetwork n = s [ir(k=3, e=1), ir(k=5, e=3), ir(k=3, e=1), skip] { widths 8 24 }\n", space);
  g = compile_text(&a, src, NULL);
  CHECK(g != NULL);
  if (!g) return (void)fprintf(stderr, "%s", diag_buf);
  CHECK(g->nsb == 4 && g->sb[0].cout == 8 && g->sb[1].cin == 8 && g->sb[2].cin == 8 && g->sb[2].cout == 24);
  for (int i = 0; i < g->nnodes; i++) CHECK(g->nodes[i].kind != OP_WIDTH);
  arena_free(&a);
  static const struct { const char *tail; const char *expect; } bad[] = {
      {"network n = s [ir(k=3, e=1), ir(k=3, e=1), ir(k=3, e=1), skip] { widths 8 }\n", "`widths` gives 1 widths but space `s` has 2 stages"},
      {"network n = s [ir(k=3, e=1), ir(k=3, e=1), ir(k=3, e=1), skip] { widths [12, 24] }\n", "stage 1 cannot have width 12"},
      {"space t { input 3x64x128; stage [8, 8] choose [ir(k=3, e=1)]; decoder tiny(low=tap(0)) }\n", "width 8 is listed twice"},
      {"space t { input 3x64x128; stage [8] choose [ir(k=3, e=1)]; decoder tiny(low=tap(0)) }\n", "at least two widths"},
      {"space t { input 3x64x128; stage 8 choose [ir(k=3, e=1)]; widths 8; decoder tiny(low=tap(0)) }\n",
       "`widths` belongs to a network"},
      {"space t { input 3x64x128; stage [8, 16] stride 2 choose [ir(k=3, e=1)]; stage [16, 24] choose [ir(k=3, e=1)]; "
       "decoder tiny(low=tap(0)) }\n", "superblock 1 is not residual at 16 -> 24 channels but residual at 16 -> 16"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    snprintf(src, sizeof src, "!%s%s", space, bad[i].tail);
    DiagCase dc = {src, {bad[i].expect}};
    CHECK(run_diag_case(&dc));
  }
}

/* `stem choose SET` and `head choose SET`: superblocks after the encoder's (stem, then head; the decoder's last), their
   candidates under PREFIX.ops.NAME. and mixed by PREFIX.gumble_arch_params; a network names them after its superblocks. */
static bool has_param(const IrGraph *g, const char *name) {
  for (int i = 0; i < g->nparams; i++)
    if (!strcmp(g->params[i].name, name)) return true;
  return false;
}

static void test_part_choice(void) {
  static const char *const space =
      "import \"std/blocks.sqn\"\n"
      "decoder tiny(low: tensor) { out = conv(in, classes, bias=true) -> bilinear(like=image) }\n"
      "space s {\n  input 3x64x128\n  classes 5\n"
      "  stem choose [s3 = conv_bn_relu(cout=8, k=3, stride=2), s5 = conv_bn_relu(cout=8, k=5, stride=2)]\n"
      "  stage 16 repeat 2 stride 2 choose [ir(k=3, e=1), skip]\n"
      "  head choose [h1 = conv_bn_relu(cout=32), h3 = conv_bn_relu(cout=32, k=3)]\n"
      "  decoder choose [tiny(low=tap(0))]\n}\n";
  Arena a = {0};
  IrGraph *g = compile_text(&a, space, NULL);
  CHECK(g != NULL);
  if (!g) return (void)fprintf(stderr, "%s", diag_buf);
  CHECK_EQ_I64(g->nsb, 5);
  CHECK(g->sb[2].is_stem && g->sb[3].is_head && g->sb[4].is_decoder && g->sb[2].ncand == 2 && g->sb[3].ncand == 2);
  CHECK(g->nodes[g->sb[2].output].kind == OP_MIX && !strcmp(g->nodes[g->sb[2].output].name, "encoder.conv1.mix"));
  CHECK(g->stem_output == g->sb[2].output && g->sb[0].input == g->sb[2].output && g->sb[3].input == g->sb[1].output);
  CHECK(has_param(g, "encoder.conv1.ops.s5.0.weight") && has_param(g, "encoder.conv1.gumble_arch_params"));
  CHECK(has_param(g, "encoder.last_conv.ops.h3.1.running_var") && has_param(g, "encoder.last_conv.gumble_arch_params"));
  arena_free(&a);
  char src[4096];
  snprintf(src, sizeof src, "%snetwork n = s [ir(k=3, e=1), skip, s5, h1, tiny(low=tap(0))]\n", space);
  g = compile_text(&a, src, NULL);
  CHECK(g != NULL);
  if (!g) return (void)fprintf(stderr, "%s", diag_buf);
  CHECK(g->nsb == 5 && g->sb[2].is_stem && !strcmp(g->sb[2].cand[0].name, "s5") && g->sb[3].is_head);
  CHECK(has_param(g, "encoder.conv1.0.weight") && g->params[0].dims[2] == 5 && has_param(g, "encoder.last_conv.0.weight"));
  arena_free(&a);
  static const struct { const char *tail; const char *expect[2]; } bad[] = {
      {"network n = s [ir(k=3, e=1), skip, s5]\n",
       {"gives 3 choices but space `s` has 2 superblocks and chooses the stem, the head, the decoder", NULL}},
      {"network n = s [ir(k=3, e=1), skip, s7, h1, tiny(low=tap(0))]\n", {"`s7` is not a candidate of set `(the list written here)` nor a block", "did you mean"}},
      {"space t { input 3x64x128; stem choose [conv_bn_relu(cout=8, stride=2), conv_bn_relu(cout=12, stride=2)]; stage 8 "
       "choose [ir(k=3, e=1)]; decoder tiny(low=tap(0)) }\n",
       {"stem `conv_bn_relu(cout=12, stride=2)` produces 12x32x64, the first candidate 8x32x64", "same output shape"}},
      {"space t { input 3x64x128; stage 8 choose [ir(k=3, e=1)]; head choose; decoder tiny(low=tap(0)) }\n",
       {"`head choose` takes one candidate set", NULL}},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    snprintf(src, sizeof src, "!%s%s", space, bad[i].tail);
    DiagCase dc = {src, {bad[i].expect[0], bad[i].expect[1]}};
    CHECK(run_diag_case(&dc));
  }
}

int main(void) {
  test_part_choice();
  test_width_choice();
  test_depth_choice();
  test_decoder_choice();
  test_spatial_ops();
  test_op_table();
  test_dead_code();
  test_settings_merge();
  test_space();
  test_network();
  test_expressions();
  test_ops();
  test_eltwise_ops();
  test_naming();
  test_settings();
  test_diagnostics();
  test_hints();
  test_caret();
  test_multiple_errors();
  return test_summary();
}
