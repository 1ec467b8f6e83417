/* test_lang_structure.c - the structure of the .sqn language: lists (indexing, len, range, +),
   comprehensions, `for` loops and `if` blocks in blocks, user functions (`def`), ops and blocks passed
   as arguments, and candidate sets built by comprehension, with parameters and from other sets; each
   error in them located and explained. */
#include <stdlib.h>
#include "lang_compile.h"
#include "test_util.h"

/* Lists, len, range, indexing (negative from the end) and comprehensions, as asserts in a block. */
static void test_lists(void) {
  Arena a = {0};
  IrGraph *g = compile_block(&a,
      "  xs = [1, 2, 3]\n  assert xs[0] == 1 && xs[-1] == 3 && len(xs) == 3 && len(\"abc\") == 3\n"
      "  assert range(3) == (0, 1, 2) && range(1, 7, 2) == (1, 3, 5) && range(3, 0, -1) == (3, 2, 1)\n"
      "  assert len(range(0)) == 0 && len(range(5, 2)) == 0\n"
      "  assert [x * x for x in range(4)] == (0, 1, 4, 9)\n"
      "  assert [(i, j) for i in range(3) for j in range(i) if i + j != 2] == ((1, 0), (2, 1))\n"
      "  assert xs + [4] == (1, 2, 3, 4) && [[1, 2], [3]][1][0] == 3\n"
      "  n = 7\n  ys = [n for n in (1, 2)]\n  assert n == 7\n" /* a comprehension's name stays inside it */
      "  out = in");
  CHECK(g != NULL);
  if (!g) fprintf(stderr, "%s", diag_buf);
  arena_free(&a);
}

/* Loops and branches build ops in order, named as written in sequence; the branch not taken builds
   nothing (its op would not even fit). */
static void test_for_and_if(void) {
  Arena a = {0};
  IrGraph *g = compile_block(&a,
      "  x = in\n  for i in range(p + 1) {\n    x = conv(x, cout, k=3) -> relu\n  }\n"
      "  if p > 5 {\n    x = conv(x, 999999999)\n  } else if p == 2 {\n    x = x + in\n  } else {\n    x = conv(x, 1)\n  }\n"
      "  taps = [conv(in, cout) for k in (1, 3)]\n"
      "  out = x + taps[1] + taps[0]");
  CHECK(g != NULL);
  if (!g) {
    fprintf(stderr, "%s", diag_buf);
    return arena_free(&a);
  }
  int convs = 0, adds = 0, last_conv = -1;
  for (int i = 0; i < g->nnodes; i++) {
    if (g->nodes[i].superblock != 0) continue;
    convs += g->nodes[i].kind == OP_CONV, adds += g->nodes[i].kind == OP_ADD;
    if (g->nodes[i].kind == OP_CONV) last_conv = i;
  }
  CHECK_EQ_I64(convs, 5); /* three in the loop, two in the comprehension */
  CHECK_EQ_I64(adds, 3);
  /* (conv, relu) x3 are 0-5, the comprehension's convs 6 and 7 (`+` takes no index) */
  CHECK(last_conv >= 0 && !strcmp(g->nodes[last_conv].name, "encoder.residuals.0.op.7"));
  arena_free(&a);
}

/* def: expression and statement forms, defaults, recursion; make_divisible as in MobileNet. */
static void test_functions(void) {
  Arena a = {0};
  const char *src =
      "import \"std/blocks.sqn\"\n"
      "def make_divisible(v, divisor = 8) {\n"
      "  n = max(divisor, floor((v + divisor / 2) / divisor) * divisor)\n"
      "  if n < 0.9 * v {\n    return n + divisor\n  }\n  return n\n}\n"
      "def fact(n: int) = n <= 1 ? 1 : n * fact(n - 1)\n"
      "def pick(xs, i = -1) = xs[i]\n"
      "decoder tiny(low: tensor) { out = conv(in, classes, bias=true) -> bilinear(like=image) }\n"
      "block t() {\n"
      "  assert make_divisible(37) == 40 && make_divisible(10) == 16 && make_divisible(100, divisor = 16) == 96\n"
      "  assert fact(5) == 120 && pick((4, 5)) == 5 && pick([4, 5], 0) == 4\n"
      "  out = conv(in, make_divisible(cout * 0.75))\n}\n"
      "space s { input 3x64x128; classes 5; stem conv_bn_relu(cout=8, k=3, stride=2)\n"
      "  stage 8 repeat 1 stride 1 choose [t]; residual false; decoder tiny(low=tap(0)) }\n";
  IrGraph *g = compile_text(&a, src, NULL); /* `choose [t]`: a stage may list its candidates */
  CHECK(g != NULL);
  if (!g) fprintf(stderr, "%s", diag_buf);
  else CHECK_EQ_I64(g->nodes[g->sb[0].output].out.c, 8); /* make_divisible(6) = 8 */
  arena_free(&a);
}

/* Ops, blocks and functions as values: defaults, arguments, lists of them. */
static void test_callables(void) {
  Arena a = {0};
  const char *src =
      "import \"std/blocks.sqn\"\n"
      "decoder tiny(low: tensor) { out = conv(in, classes, bias=true) -> bilinear(like=image) }\n"
      "block act_conv(act = relu, norm = bn) { out = in -> conv(cout, 3) -> norm -> act }\n"
      "block t(acts = (relu, sigmoid)) {\n"
      "  x = act_conv(in, act = acts[1])\n"
      "  ys = [act_conv(x, act = f) for f in acts]\n"
      "  out = act_conv(ys[0] + ys[1], act = relu6, norm = skip)\n}\n"
      "candidates ts = [t]\n"
      "space s { input 3x64x128; classes 5; stem conv_bn_relu(cout=8, k=3, stride=2)\n"
      "  stage 8 repeat 1 stride 1 choose ts; residual false; decoder tiny(low=tap(0)) }\n";
  IrGraph *g = compile_text(&a, src, NULL);
  CHECK(g != NULL);
  if (!g) fprintf(stderr, "%s", diag_buf);
  else {
    int sig = 0, r6 = 0, bns = 0;
    for (int i = 0; i < g->nnodes; i++)
      if (g->nodes[i].superblock == 0)
        sig += g->nodes[i].kind == OP_SIGMOID, r6 += g->nodes[i].kind == OP_RELU6, bns += g->nodes[i].kind == OP_BN;
    CHECK(sig == 2 && r6 == 1 && bns == 3); /* skip() as the norm of the last */
  }
  arena_free(&a);
}

/* Candidate sets: comprehension with a filter, parameters, sets of sets, `+`; the candidates are
   plain calls with the values written in, named from them. */
static void test_candidate_sets(void) {
  Arena a = {0};
  const char *src =
      "import \"std/blocks.sqn\"\n"
      "decoder tiny(low: tensor) { out = conv(in, classes, bias=true) -> bilinear(like=image) }\n"
      "candidates irs(ks = (3, 5), es = (1, 6)) = [ir(k=k, e=e) for k in ks for e in es if k * e < 30]\n"
      "candidates mixed = irs(ks=[3]) + [skip, wide = ir(k=7, e=2)]\n"
      "space s { input 3x64x128; classes 5; stem conv_bn_relu(cout=8, k=3, stride=2)\n"
      "  stage 8 repeat 1 stride 1 choose irs; stage 16 repeat 1 stride 2 choose irs(es=(2,), ks=range(3, 8, 2))\n"
      "  stage 16 repeat 1 stride 1 choose mixed; decoder tiny(low=tap(0)) }\n"
      "network n = s [ ir_k_5_e_1, ir(k=7, e=2), wide ]\n";
  IrGraph *g = compile_text(&a, src, NULL);
  CHECK(g != NULL && g->nsb == 3);
  if (!g) {
    fprintf(stderr, "%s", diag_buf);
    return arena_free(&a);
  }
  CHECK(g->sb[0].ncand == 1 && !strcmp(g->sb[0].cand[0].name, "ir_k_5_e_1"));
  CHECK_STR(g->sb[1].cand[0].display, "ir(k=7, e=2)");
  CHECK_STR(g->sb[2].cand[0].name, "wide");
  arena_free(&a);
  char space_only[2048];
  snprintf(space_only, sizeof space_only, "%s", src);
  *strstr(space_only, "network n") = 0;
  g = compile_text(&a, space_only, NULL);
  CHECK(g != NULL);
  if (g) {
    CHECK_EQ_I64(g->sb[0].ncand, 3); /* 3x1, 3x6, 5x1 (5x6 filtered out) */
    CHECK_STR(g->sb[0].cand[1].name, "ir_k_3_e_6");
    CHECK_EQ_I64(g->sb[1].ncand, 3);
    CHECK_STR(g->sb[1].cand[2].display, "ir(k=7, e=2)");
    CHECK_EQ_I64(g->sb[2].ncand, 4); /* ir(3, 1), ir(3, 6), skip, wide */
    CHECK_STR(g->sb[2].cand[2].name, "skip");
  }
  arena_free(&a);
}

/* split gives a list of slices: equal parts or given sizes. */
static void test_split(void) {
  Arena a = {0};
  IrGraph *g = compile_block(&a,
      "  h = split(in, 2)\n  assert len(h) == 2 && h[0].c == 4 && h[1].c == 4\n"
      "  p = split(in, (2, 5, 1))\n  assert p[1].c == 5 && p[2].c == 1\n"
      "  out = concat(h[1], h[0]) + concat(p[2], p[1], p[0])");
  CHECK(g != NULL);
  if (!g) fprintf(stderr, "%s", diag_buf);
  else {
    int slices = 0, starts = 0;
    for (int i = 0; i < g->nnodes; i++)
      if (g->nodes[i].kind == OP_SLICE) slices++, starts += g->nodes[i].slice[0];
    CHECK_EQ_I64(slices, 5);
    CHECK_EQ_I64(starts, 0 + 4 + 0 + 2 + 7);
  }
  arena_free(&a);
}

static const DiagCase structure_cases[] = {
    {"  h = split(in, 3)\n  out = in", {"split into 3 equal parts does not divide 8 channels", "split(x, (16, 8))"}},
    {"  h = split(in, (4, 3))\n  out = in", {"split sizes add up to 7, not the input's 8 channels"}},
    {"  h = split(in, (4, 0, 4))\n  out = in", {"split size 0 is not between 1 and 8"}},
    {"  xs = (1, 2)\n  x = xs[2]\n  out = in", {"index 2 is out of range for a list of 2", "0 to 1, or from -2 to -1"}},
    {"  x = in[0]\n  out = in", {"`[ ]` indexes a list or tuple, got tensor 8x32x64", "slice(x, start, end)"}},
    {"  x = (1, 2)[0.5]\n  out = in", {"an index must be an int, got 0.5"}},
    {"  for i in 3 {\n    x = i\n  }\n  out = in", {"cannot iterate over 3", "range(n)"}},
    {"  if 1 {\n    x = 1\n  }\n  out = in", {"the condition of `if` must be a bool, got 1"}},
    {"  return in", {"`return` outside a function", "`out = ...`"}},
    {"  x = [k for k in (1, 2)]\n  out = conv(in, k)", {"unknown name `k`"}},
    {"  x = [k for k in (1, 2) if k]\n  out = in", {"the `if` of a comprehension needs a bool, got 1"}},
    {"  x = len(in)\n  out = in", {"len() needs a list, tuple or string, got tensor", "x.c, x.h and x.w"}},
    {"  x = range(5, step=2)\n  out = in", {"range() is missing an argument"}},
    {"  x = range(0, 10, 0)\n  out = in", {"range() step must not be zero"}},
    {"  x = range(1000000)\n  out = in", {"a list of 1000000 items is longer than the 100000 allowed"}},
    {"  xs = [i for i in range(100000) for j in range(100000) if false]\n  out = in",
     {"more than 1000000 loop iterations"}},
    {"  for i in range(100000) {\n    for j in range(100000) {\n      x = j\n    }\n  }\n  out = in",
     {"more than 1000000 loop iterations"}},
    {"  x = h(1)\n  out = in\n}\ndef h(n) = h(n + 1)\nblock u() {\n  out = in", {"calls nested more than 32 deep"}},
    {"  x = f(1)\n  out = in\n}\ndef f(n) = n\nblock u() {\n  out = in", {"`f` is 0.5, not an op, block or function", "hides the block or function"}},
    {"  act = 3\n  out = in -> act", {"`act` is 3, not an op, block or function"}},
    {"  if p > 1 {\n    x = 1\n  }\n  else {\n    x = 2\n  }\n  out = in", {"`} else {` on one line"}},
    {"!def f(x) {\n  y = x\n}\n", {"function `f` never returns a value", "return VALUE"}},
    {"+def f(x) = conv(x, 8)\nblock b() { out = conv(in, f(in)) }\n"
     "space s2 { input 3x64x128; stage 8 choose [b]; decoder tiny(low=tap(0)) }\n", {"function calls op `conv`", "build ops in a `block`"}},
    {"!def f(x) = x\ndef f(y) = y\n", {"function `f` is defined twice"}},
    {"!def relu(x) = x\n", {"function `relu` would hide the built-in op"}},
    {"!block b(for = 1) { out = in }\n", {"syntax error", "for, in, if, else, def and return are keywords"}},
    {"  x = g(2)\n  out = in\n}\ndef g(v) {\n  if v > 5 {\n    return 1\n  }", {"function `g` ended without `return`"}},
    {"+candidates d = [ir(k=3), ir(k=3)]\nspace s2 { input 3x64x128; stage 8 choose d; decoder tiny(low=tap(0)) }\n",
     {"set `d` has two candidates named `ir_k_3`", "its own `name = ...`"}},
    {"+candidates d(ks = (3,)) = [ir(k=k) for k in ks]\nspace s2 { input 3x64x128; stage 8 choose d(kz=(5,)); decoder tiny(low=tap(0)) }\n",
     {"candidate set `d` has no parameter `kz`"}},
    {"+candidates d(ks) = [ir(k=k) for k in ks]\nspace s2 { input 3x64x128; stage 8 choose d; decoder tiny(low=tap(0)) }\n",
     {"candidate set `d` needs parameter `ks`", "d(ks=...)"}},
    {"+candidates d = [k for k in (3, 5)]\nspace s2 { input 3x64x128; stage 8 choose d; decoder tiny(low=tap(0)) }\n",
     {"candidate `3` of set `d` is not a block call"}},
    {"+candidates d = [ir(k=k) for k in (3, 5) if k > 9]\nspace s2 { input 3x64x128; stage 8 choose d; decoder tiny(low=tap(0)) }\n",
     {"candidate set `d` is empty"}},
    {"+candidates d = [ir(k=k, e=e) for k in range(6) for e in range(6)]\nspace s2 { input 3x64x128; stage 8 choose d; decoder tiny(low=tap(0)) }\n",
     {"set `d` has more than 32 candidates"}},
    {"+candidates d = d + [skip]\nspace s2 { input 3x64x128; stage 8 choose d; decoder tiny(low=tap(0)) }\n",
     {"candidate sets nested more than 16 deep", "may not (indirectly) contain itself"}},
};

int main(void) {
  test_lists();
  test_for_and_if();
  test_functions();
  test_callables();
  test_candidate_sets();
  test_split();
  for (size_t i = 0; i < sizeof structure_cases / sizeof structure_cases[0]; i++) CHECK(run_diag_case(&structure_cases[i]));
  return test_summary();
}
