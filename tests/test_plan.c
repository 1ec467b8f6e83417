/* test_plan.c - unit tests of the plan format: an IR graph built by hand is written with
   plan_write_mem / plan_write and read back with the runtime's reader (every field compared), and
   damaged plans (truncated, flipped bytes, bad magic, newer version, out-of-range sections,
   indices, enums and counts with a correct checksum, random mutations) must be rejected with a
   clear message and without crashing. `test_plan --write-fixtures DIR` writes sample plans for
   the sqnrun CLI tests (tests/plan.cmake). Prints "N passed, M failed"; exits 1 on failure. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "ir.h"
#include "plan.h"
#include "plan_format.h"
#include "plan_write.h"
#include "autodiff.h"

static int npassed, nfailed;
static bool cur_ok;

#define CHECK(cond)                                                             \
  do {                                                                          \
    if (!(cond)) {                                                              \
      fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      cur_ok = false;                                                           \
    }                                                                           \
  } while (0)

static void run(const char *name, void (*fn)(void)) {
  cur_ok = true;
  fn();
  if (cur_ok) npassed++;
  else nfailed++, fprintf(stderr, "FAIL %s\n", name);
}

/* ---- the test graph ---- */

static SourceFile test_src = {"spaces/test.sqn", "", 0};

static int add(IrGraph *g, OpKind k, int in0, int in1, Shape out, const char *name) {
  int in[2] = {in0, in1};
  int n = in1 >= 0 ? 2 : in0 >= 0 ? 1 : 0;
  int id = ir_add_node(g, k, in, n);
  IrNode *x = &g->nodes[id];
  x->out = out;
  x->name = name;
  x->loc = (SrcLoc){&test_src, 10 + id, 3 + id % 5};
  x->macs = 1000 * id + 7;
  x->params = 10 * id;
  return id;
}

static void conv_params(IrGraph *g, int id, int cin, bool bias) {
  IrNode *n = &g->nodes[id];
  int cout = n->out.c, kh = n->kh, kw = n->kw, groups = n->groups;
  int dims[4] = {cout, cin / groups, kh, kw};
  const char *name = arena_printf(g->arena, "%s.weight", n->name);
  ir_add_param(g, id, PARAM_CONV_WEIGHT, name, 4, dims);
  if (bias) ir_add_param(g, id, PARAM_CONV_BIAS, arena_printf(g->arena, "%s.bias", n->name), 1, &cout);
}

static void bn_params(IrGraph *g, int id) {
  static const char *const suffix[4] = {"weight", "bias", "running_mean", "running_var"};
  int c = g->nodes[id].out.c;
  for (int r = 0; r < 4; r++)
    ir_add_param(g, id, (ParamRole)(PARAM_BN_WEIGHT + r), arena_printf(g->arena, "%s.%s", g->nodes[id].name, suffix[r]),
                 1, &c);
}

static void set_cand(IrCandidate *c, const char *name, const char *display, int output, int64_t macs) {
  *c = (IrCandidate){.name = name, .display = display, .block = "ir", .output = output, .macs = macs,
                     .params = macs / 100};
}

/* stem: conv 3x3 s2 -> bn -> relu; returns the relu */
static int build_stem(IrGraph *g) {
  Shape s8 = {0, 8, 8, 8};
  int in = add(g, OP_INPUT, -1, -1, (Shape){0, 3, 16, 16}, "input");
  int conv = add(g, OP_CONV, in, -1, s8, "encoder.conv1.0");
  IrNode *c = &g->nodes[conv];
  c->kh = c->kw = 3, c->sh = c->sw = 2, c->ph = c->pw = 1;
  conv_params(g, conv, 3, false);
  int bn = add(g, OP_BN, conv, -1, s8, "encoder.conv1.1");
  bn_params(g, bn);
  g->stem_output = add(g, OP_RELU, bn, -1, s8, "encoder.conv1.2");
  return g->stem_output;
}

/* one superblock with candidates ir (conv 1x1 g2 -> bn -> relu6), skip (identity), zero */
static int build_superblock(IrGraph *g, int sbi, int x) {
  IrSuperblock *sb = &g->sb[sbi];
  Shape s8 = {0, 8, 8, 8};
  int conv = add(g, OP_CONV, x, -1, s8, arena_printf(g->arena, "encoder.residuals.%d.op.0", sbi));
  g->nodes[conv].groups = 2;
  conv_params(g, conv, 8, false);
  int bn = add(g, OP_BN, conv, -1, s8, arena_printf(g->arena, "encoder.residuals.%d.op.1", sbi));
  bn_params(g, bn);
  int act = add(g, OP_RELU6, bn, -1, s8, NULL);
  int zero = add(g, OP_ZERO, x, -1, s8, NULL);
  int mixin[3] = {act, x, zero};
  int mix = ir_add_node(g, OP_MIX, mixin, 3);
  g->nodes[mix].out = s8;
  int theta[2] = {3, 1};
  ir_add_param(g, mix, PARAM_ARCH, arena_printf(g->arena, "encoder.residuals.%d.gumble_arch_params", sbi), 2, theta);
  int out = add(g, OP_ADD, x, mix, s8, NULL);
  for (int i = conv; i <= out; i++) g->nodes[i].superblock = sbi;
  for (int i = conv; i <= act; i++) g->nodes[i].candidate = 0;
  g->nodes[zero].candidate = 2;
  *sb = (IrSuperblock){.index = sbi, .stage = sbi / 2, .cin = 8, .cout = 8, .stride = 1, .residual = true, .width_in = -1, .width_out = -1,
                       .in_shape = s8, .out_shape = s8, .input = x, .output = out, .ncand = 3,
                       .loc = {&test_src, 40 + sbi, 2}};
  sb->cand = ARENA_ARRAY(g->arena, IrCandidate, 3);
  set_cand(&sb->cand[0], "inverse_residual_k3_e1_g2", "ir(k=3, g=2) \"quoted\"\t", act, 50000 + sbi);
  set_cand(&sb->cand[1], "skip", "skip", x, 0);
  set_cand(&sb->cand[2], "zero", NULL, zero, 0);
  sb->cand[1].is_identity = true;
  sb->cand[2].is_zero = true;
  return out;
}

/* head: avgpool -> conv(bias, dilation 2) -> bilinear -> crop -> hswish/sigmoid -> concat, mul
   -> gap -> nearest -> output */
static void build_head(IrGraph *g, int x) {
  int pool = add(g, OP_AVGPOOL, x, -1, (Shape){0, 8, 4, 4}, NULL);
  IrNode *p = &g->nodes[pool];
  p->kh = p->kw = 3, p->sh = p->sw = 2, p->ph = p->pw = 1, p->count_include_pad = true;
  int conv = add(g, OP_CONV, pool, -1, (Shape){0, 5, 4, 4}, "decoder.classifier");
  g->nodes[conv].dh = g->nodes[conv].dw = 2, g->nodes[conv].bias = true;
  conv_params(g, conv, 8, true);
  int up = add(g, OP_BILINEAR, conv, -1, (Shape){0, 5, 16, 16}, NULL);
  g->nodes[up].align_corners = true;
  g->nodes[up].resize_mode = RESIZE_SCALE, g->nodes[up].scale = 2.0;
  int crop = add(g, OP_CROP, up, -1, (Shape){0, 5, 13, 9}, NULL);
  memcpy(g->nodes[crop].crop, (int[4]){1, 2, 3, 4}, sizeof(int[4]));
  int hs = add(g, OP_HSWISH, crop, -1, (Shape){0, 5, 13, 9}, NULL);
  int sg = add(g, OP_SIGMOID, crop, -1, (Shape){0, 5, 13, 9}, NULL);
  add(g, OP_CONCAT, hs, sg, (Shape){0, 10, 13, 9}, NULL);
  int mul = add(g, OP_MUL, hs, sg, (Shape){0, 5, 13, 9}, NULL);
  int gap = add(g, OP_GAP, mul, -1, (Shape){0, 5, 1, 1}, NULL);
  int nn = add(g, OP_NEAREST, gap, -1, (Shape){0, 5, 13, 9}, NULL);
  g->output = add(g, OP_OUTPUT, nn, -1, (Shape){0, 5, 13, 9}, "output");
}

/* Fused kernels: the stem chain, each superblock's ir chain, every other node alone. */
static void build_kernels(IrGraph *g) {
  g->kernels = ARENA_ARRAY(g->arena, IrKernel, g->nnodes);
  for (int i = 0; i < g->nnodes; i++) {
    IrNode *n = &g->nodes[i];
    bool chain_start = (n->kind == OP_CONV && i + 2 < g->nnodes && g->nodes[i + 1].kind == OP_BN);
    IrKernel *k = &g->kernels[g->nkernels];
    *k = (IrKernel){.kind = chain_start ? KERNEL_CONV : KERNEL_SINGLE, .superblock = n->superblock,
                    .candidate = n->candidate, .folds_bn = chain_start};
    int len = chain_start ? 3 : 1;
    for (int j = 0; j < len; j++) k->nodes[k->nnodes++] = i + j, g->nodes[i + j].kernel = g->nkernels;
    k->output = i + len - 1;
    g->nkernels++;
    i += len - 1;
  }
}

static void set_settings(IrGraph *g) {
  g->search = (SearchSettings){.objective = OBJ_LATENCY, .alpha = 0.25, .temp_start = 4.5, .temp_end = 1.5,
                               .prune_below = 0.01, .samples = 123, .warmup_epochs = 3, .arch_lr = 3e-4,
                               .epochs = 17, .costs_relative = true, .target = 2.5, .target_fraction = 0.35,
                               .budget_lr = 0.07, .skip_limit = 0.3, .arch_lr_end = 1e-5};
  g->train = (TrainSettings){.lr = 0.1, .momentum = 0.95, .weight_decay = 4e-5, .schedule = SCHED_POLY,
                             .milestones = {0.3, 0.6, 0.9}, .nmilestones = 3, .gamma = 0.2, .poly_power = 0.85,
                             .epochs = 33, .batch = 4, .crop_h = 512, .crop_w = 1024};
}

static IrGraph *build_graph(Arena *a) {
  IrGraph *g = ir_new(a);
  g->name = "tiny_space";
  g->is_space = true;
  g->input = (Shape){0, 3, 16, 16};
  g->classes = 5;
  g->nsb = 2;
  g->sb = ARENA_ARRAY(a, IrSuperblock, 2);
  int x = build_stem(g);
  x = build_superblock(g, 0, x);
  x = build_superblock(g, 1, x);
  g->encoder_output = x;
  build_head(g, x);
  build_kernels(g);
  set_settings(g);
  autodiff(g);
  return g;
}

/* ---- byte helpers ---- */

static uint32_t le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

static void put32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* Recompute the checksum after patching, as a writer would. */
static void recrc(unsigned char *b, size_t len) {
  uLong c = crc32(crc32(0, Z_NULL, 0), b, SQN_PLAN_OFF_CRC);
  c = crc32(c, b + SQN_PLAN_OFF_FILESIZE, (uInt)(len - SQN_PLAN_OFF_FILESIZE));
  put32(b + SQN_PLAN_OFF_CRC, (uint32_t)c);
}

/* Table entry of a section, or NULL. */
static unsigned char *entry(unsigned char *b, const char *tag) {
  uint32_t n = le32(b + SQN_PLAN_OFF_NSECTIONS);
  for (uint32_t i = 0; i < n; i++) {
    unsigned char *e = b + SQN_PLAN_HEADER_SIZE + i * SQN_PLAN_SECTION_ENTRY_SIZE;
    if (!memcmp(e, tag, 4)) return e;
  }
  return NULL;
}

static unsigned char *section(unsigned char *b, const char *tag) { return b + le64(entry(b, tag) + 8); }

/* NODE's second table (the nodes), after the input-list table. */
static unsigned char *node_table(unsigned char *b) {
  unsigned char *s = section(b, "NODE");
  return s + SQN_PLAN_TABLE_HEADER + (size_t)le32(s) * le32(s + 4);
}

/* Record i of a table section (after the count and record size); for NODE, of the nodes. */
static unsigned char *record(unsigned char *b, const char *tag, int i) {
  unsigned char *s = strcmp(tag, "NODE") ? section(b, tag) : node_table(b);
  return s + SQN_PLAN_TABLE_HEADER + (size_t)i * le32(s + 4);
}

typedef struct Blob {
  unsigned char *p;
  size_t len;
} Blob;

static Blob sample(void) {
  Arena a = {0};
  Blob b = {0};
  if (!plan_write_mem(build_graph(&a), &b.p, &b.len)) b.p = NULL;
  arena_free(&a);
  return b;
}

static Blob copy(Blob b) {
  Blob c = {malloc(b.len + 64), b.len};
  memcpy(c.p, b.p, b.len);
  return c;
}

/* The reader must reject b and say something containing want. */
static bool rejects(Blob b, const char *want) {
  char err[512] = "";
  Plan *p = plan_read_mem(b.p, b.len, err, sizeof err);
  if (p) {
    plan_free(p);
    fprintf(stderr, "  accepted a plan that should fail with '%s'\n", want);
    return false;
  }
  if (!strstr(err, want)) {
    fprintf(stderr, "  message '%s' does not contain '%s'\n", err, want);
    return false;
  }
  return true;
}

/* Patch a u32 at p (inside b), fix the checksum, expect rejection. */
static bool patched_rejects(Blob b, size_t off, uint32_t v, const char *want) {
  Blob c = copy(b);
  put32(c.p + off, v);
  recrc(c.p, c.len);
  bool ok = rejects(c, want);
  free(c.p);
  return ok;
}

/* ---- round trip: every field ---- */

static bool str_eq(const char *a, const char *b) { return (!a && !b) || (a && b && !strcmp(a, b)); }

static bool shape_eq(Shape a, Shape b) { return a.c == b.c && a.h == b.h && a.w == b.w; }

static bool loc_eq(SrcLoc a, PlanLoc b) {
  return str_eq(a.file ? a.file->path : NULL, b.file) && a.line == b.line && a.col == b.col;
}

static void compare_node(const IrNode *a, const PlanNode *b) {
  CHECK(a->id == b->id && (int)a->kind == (int)b->kind && a->ninputs == b->ninputs);
  for (int i = 0; i < a->ninputs; i++) CHECK(a->inputs[i] == b->inputs[i]);
  CHECK(shape_eq(a->out, b->out) && str_eq(a->name, b->name) && loc_eq(a->loc, b->loc));
  CHECK(a->kh == b->kh && a->kw == b->kw && a->sh == b->sh && a->sw == b->sw && a->ph == b->ph && a->pw == b->pw);
  CHECK(a->dh == b->dh && a->dw == b->dw && a->groups == b->groups && a->bias == b->bias);
  CHECK(a->count_include_pad == b->count_include_pad && a->align_corners == b->align_corners);
  CHECK(a->resize_mode == b->resize_mode && a->scale == b->scale && a->like == b->like && a->slot == b->slot);
  CHECK(!memcmp(a->crop, b->crop, sizeof a->crop) && a->nparams == b->nparams);
  for (int i = 0; i < a->nparams; i++) CHECK(a->param[i] == b->param[i]);
  CHECK(a->superblock == b->superblock && a->candidate == b->candidate && a->kernel == b->kernel);
  CHECK(a->macs == b->macs && a->params == b->params);
}

static void compare_param(const IrParam *a, const PlanParam *b) {
  CHECK(str_eq(a->name, b->name) && (int)a->role == (int)b->role && a->ndim == b->ndim);
  for (int d = 0; d < a->ndim; d++) CHECK(a->dims[d] == b->dims[d]);
  CHECK(a->numel == b->numel && a->trainable == b->trainable && a->node == b->node);
}

static void compare_sb(const IrSuperblock *a, const PlanSuperblock *b) {
  CHECK(a->index == b->index && a->stage == b->stage && a->cin == b->cin && a->cout == b->cout);
  CHECK(a->stride == b->stride && a->residual == b->residual && shape_eq(a->in_shape, b->in_shape));
  CHECK(shape_eq(a->out_shape, b->out_shape) && a->input == b->input && a->output == b->output);
  CHECK(a->ncand == b->ncand && loc_eq(a->loc, b->loc) && a->is_decoder == b->is_decoder);
  for (int k = 0; k < a->ncand && k < b->ncand; k++) {
    const IrCandidate *x = &a->cand[k];
    const PlanCandidate *y = &b->cand[k];
    CHECK(str_eq(x->name, y->name) && str_eq(x->display, y->display) && str_eq(x->block, y->block));
    CHECK(x->output == y->output && x->is_zero == y->is_zero && x->is_identity == y->is_identity);
    CHECK(x->macs == y->macs && x->params == y->params);
  }
}

static void compare_kernel(const IrKernel *a, const PlanKernel *b) {
  CHECK((int)a->kind == (int)b->kind && a->nnodes == b->nnodes && a->output == b->output);
  for (int j = 0; j < a->nnodes; j++) CHECK(a->nodes[j] == b->nodes[j]);
  CHECK(a->folds_bn == b->folds_bn && a->superblock == b->superblock && a->candidate == b->candidate);
}

static void compare_settings(const IrGraph *g, const Plan *p) {
  const SearchSettings *s = &g->search;
  const PlanSearch *t = &p->search;
  CHECK((int)s->objective == (int)t->objective && s->alpha == t->alpha && s->temp_start == t->temp_start);
  CHECK(s->temp_end == t->temp_end && s->prune_below == t->prune_below && s->samples == t->samples);
  CHECK(s->warmup_epochs == t->warmup_epochs && s->arch_lr == t->arch_lr && s->epochs == t->epochs);
  CHECK(s->costs_relative == t->costs_relative && s->target == t->target && s->target_fraction == t->target_fraction);
  CHECK(s->budget_lr == t->budget_lr && s->skip_limit == t->skip_limit && s->arch_lr_end == t->arch_lr_end);
  const TrainSettings *a = &g->train;
  const PlanTrain *b = &p->train;
  CHECK(a->lr == b->lr && a->momentum == b->momentum && a->weight_decay == b->weight_decay);
  CHECK((int)a->schedule == (int)b->schedule && a->nmilestones == b->nmilestones);
  for (int i = 0; i < a->nmilestones; i++) CHECK(a->milestones[i] == b->milestones[i]);
  CHECK(a->gamma == b->gamma && a->poly_power == b->poly_power && a->epochs == b->epochs);
  CHECK(a->batch == b->batch && a->crop_h == b->crop_h && a->crop_w == b->crop_w);
}

/* Costs as documented for META. */
static void compare_costs(const IrGraph *g, const Plan *p) {
  int64_t all = 0, fixed = 0, pall = 0, numel = 0, trainable = 0;
  for (int i = 0; i < g->nnodes; i++) {
    all += g->nodes[i].macs, pall += g->nodes[i].params;
    if (g->nodes[i].candidate < 0) fixed += g->nodes[i].macs;
  }
  for (int i = 0; i < g->nparams; i++) {
    numel += g->params[i].numel;
    if (g->params[i].trainable) trainable += g->params[i].numel;
  }
  CHECK(p->costs.macs_all == all && p->costs.params_all == pall && p->costs.macs_fixed == fixed);
  int64_t hi = 0; /* per superblock the cheapest candidate is skip (0 MACs), the dearest ir */
  for (int s = 0; s < g->nsb; s++) hi += 50000 + s;
  CHECK(p->costs.macs_min == fixed && p->costs.macs_max == fixed + hi);
  CHECK(p->param_numel == numel && p->param_numel_trainable == trainable && trainable <= numel);
}

static void compare_graph(const IrGraph *g, const Plan *p) {
  CHECK(p->version == SQN_PLAN_VERSION && str_eq(g->name, p->name) && g->is_space == p->is_space);
  CHECK(shape_eq(g->input, p->input) && g->classes == p->classes);
  CHECK(g->stem_output == p->stem_output && g->encoder_output == p->encoder_output && g->output == p->output);
  CHECK(g->nnodes == p->nnodes && g->nparams == p->nparams && g->nsb == p->nsb && g->nkernels == p->nkernels);
  if (!cur_ok) return;
  for (int i = 0; i < g->nnodes; i++) compare_node(&g->nodes[i], &p->nodes[i]);
  for (int i = 0; i < g->nparams; i++) compare_param(&g->params[i], &p->params[i]);
  for (int i = 0; i < g->nsb; i++) compare_sb(&g->sb[i], &p->sb[i]);
  for (int i = 0; i < g->nkernels; i++) compare_kernel(&g->kernels[i], &p->kernels[i]);
  compare_settings(g, p);
  compare_costs(g, p);
}

static void test_roundtrip_mem(void) {
  Arena a = {0};
  IrGraph *g = build_graph(&a);
  unsigned char *b1 = NULL, *b2 = NULL;
  size_t n1 = 0, n2 = 0;
  bool ok1 = plan_write_mem(g, &b1, &n1), ok2 = plan_write_mem(g, &b2, &n2);
  CHECK(ok1 && ok2);
  if (!ok1 || !ok2) return;
  CHECK(n1 == n2 && !memcmp(b1, b2, n1)); /* deterministic */
  CHECK(!memcmp(b1, SQN_PLAN_MAGIC, 8) && le32(b1 + 8) == SQN_PLAN_VERSION && le64(b1 + 24) == n1);
  char err[256];
  Plan *p = plan_read_mem(b1, n1, err, sizeof err);
  CHECK(p != NULL);
  if (!p) fprintf(stderr, "  %s\n", err);
  if (p) compare_graph(g, p);
  plan_free(p);
  free(b1), free(b2);
  arena_free(&a);
}

/* An empty graph (no superblocks, kernels or parameters) round-trips too. */
static void test_roundtrip_minimal(void) {
  Arena a = {0};
  IrGraph *g = ir_new(&a);
  g->input = (Shape){0, 3, 4, 4};
  g->classes = 2;
  int in = add(g, OP_INPUT, -1, -1, g->input, NULL);
  g->output = add(g, OP_OUTPUT, in, -1, g->input, NULL);
  autodiff(g);
  unsigned char *b;
  size_t n;
  CHECK(plan_write_mem(g, &b, &n));
  char err[256];
  Plan *p = plan_read_mem(b, n, err, sizeof err);
  CHECK(p && !p->name && p->nsb == 0 && p->nkernels == 0 && p->nnodes == 2);
  if (p) compare_graph(g, p);
  plan_free(p);
  free(b);
  arena_free(&a);
}

/* ---- damaged plans ---- */

static void test_truncated(void) {
  Blob b = sample();
  CHECK(b.p != NULL);
  for (size_t len = 0; b.p && len < b.len; len++) {
    Blob t = {b.p, len};
    const char *want = len == 0 ? "empty file" : "truncated";
    if (!rejects(t, want)) {
      fprintf(stderr, "  at length %zu of %zu\n", len, b.len);
      CHECK(false);
      break;
    }
  }
  char msg[128];
  snprintf(msg, sizeof msg, "truncated: header says %zu bytes, file has %zu", b.len, b.len - 1);
  CHECK(rejects((Blob){b.p, b.len - 1}, msg));
  free(b.p);
}

static void test_flipped_bytes(void) {
  Blob b = sample();
  static const unsigned char masks[3] = {0x01, 0x80, 0xff};
  for (size_t i = 0; b.p && i < b.len; i++) {
    for (int m = 0; m < 3; m++) {
      b.p[i] ^= masks[m];
      char err[256];
      Plan *p = plan_read_mem(b.p, b.len, err, sizeof err);
      b.p[i] ^= masks[m];
      if (p) {
        fprintf(stderr, "  byte %zu ^ 0x%02x accepted\n", i, masks[m]);
        plan_free(p);
        CHECK(false);
      }
    }
  }
  if (b.p && b.len > 200) {
    b.p[200] ^= 0x10;
    CHECK(rejects(b, "corrupt: checksum mismatch"));
  }
  free(b.p);
}

static void test_bad_magic(void) {
  unsigned char png[64] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  CHECK(rejects((Blob){png, sizeof png}, "not an sqn plan (bad magic)"));
  unsigned char text[] = "space small { input 3x1024x2048 }\n";
  CHECK(rejects((Blob){text, sizeof text - 1}, "not an sqn plan (bad magic)"));
  CHECK(rejects((Blob){text, 3}, "not an sqn plan (bad magic)"));
  Blob b = sample();
  b.p[3] = 'X';
  CHECK(rejects(b, "not an sqn plan (bad magic)"));
  free(b.p);
}

static void test_versions(void) {
  Blob b = sample();
  put32(b.p + SQN_PLAN_OFF_VERSION, 7); /* no new checksum: the version is checked first */
  CHECK(rejects(b, "plan format version 7 is newer than this sqnrun supports (5); rebuild the plan with this sqnc "
                   "or update sqnrun"));
  recrc(b.p, b.len);
  CHECK(rejects(b, "plan format version 7 is newer"));
  put32(b.p + SQN_PLAN_OFF_VERSION, SQN_PLAN_VERSION);
  CHECK(patched_rejects(b, SQN_PLAN_OFF_VERSION, 0, "version 0"));
  CHECK(patched_rejects(b, SQN_PLAN_OFF_VERSION, 1, "version 1 is older than this sqnrun reads (2..5); recompile"));
  CHECK(patched_rejects(b, SQN_PLAN_OFF_FLAGS, 4, "features this sqnrun does not support"));
  free(b.p);
}

static void test_sizes(void) {
  Blob b = sample(), c = copy(b);
  c.len = b.len + 8;
  memset(c.p + b.len, 0, 8);
  CHECK(rejects(c, "trailing data"));
  CHECK(patched_rejects(b, SQN_PLAN_OFF_NSECTIONS, 1000, "sections"));
  free(b.p), free(c.p);
  unsigned char h[SQN_PLAN_HEADER_SIZE] = {0};
  memcpy(h, SQN_PLAN_MAGIC, 8);
  put32(h + SQN_PLAN_OFF_VERSION, SQN_PLAN_VERSION), put32(h + SQN_PLAN_OFF_NSECTIONS, 1), put64(h + SQN_PLAN_OFF_FILESIZE, sizeof h);
  recrc(h, sizeof h);
  CHECK(rejects((Blob){h, sizeof h}, "section table runs past the end of the file"));
  put32(h + SQN_PLAN_OFF_NSECTIONS, 0), recrc(h, sizeof h);
  CHECK(rejects((Blob){h, sizeof h}, "missing section STRS"));
}

static void test_section_bounds(void) {
  Blob b = sample();
  size_t e = (size_t)(entry(b.p, "NODE") - b.p);
  CHECK(patched_rejects(b, e + 8, (uint32_t)b.len, "section NODE (offset"));
  CHECK(patched_rejects(b, e + 16, (uint32_t)b.len, "lies outside the file"));
  CHECK(patched_rejects(b, e + 8, 8, "lies outside the file")); /* overlaps the header */
  CHECK(patched_rejects(b, e + 12, 1, "lies outside the file")); /* offset >= 2^32 */
  CHECK(patched_rejects(b, e + 4, 1, "reserved"));
  CHECK(patched_rejects(b, e, 0x58444f4e, "missing section NODE")); /* tag NODX */
  size_t pe = (size_t)(entry(b.p, "PARM") - b.p);
  CHECK(patched_rejects(b, pe, 0x45444f4e, "duplicate section NODE"));
  free(b.p);
}

static size_t off_in(Blob b, const char *tag, int rec, size_t field) {
  return (size_t)(record(b.p, tag, rec) - b.p) + field;
}

/* NODE record offsets: kind 0, ninputs 4, first_input 8, out 12, name 24, attrs 40 (groups 72),
   bias 76, nparams 104, param 108, superblock 124, kernel 132, macs 136. */
static void test_node_refs(void) {
  Blob b = sample();
  size_t in0 = (size_t)(section(b.p, "NODE") - b.p) + SQN_PLAN_TABLE_HEADER + 2 * 4; /* node 3's input 0 */
  CHECK(patched_rejects(b, in0, 999, "NODE record 3: input 0 is node 999, not an earlier node"));
  CHECK(patched_rejects(b, in0, 3, "not an earlier node"));
  CHECK(patched_rejects(b, in0, (uint32_t)-1, "not an earlier node"));
  CHECK(patched_rejects(b, off_in(b, "NODE", 3, 4), 9, "relu node has 9 inputs"));
  CHECK(patched_rejects(b, off_in(b, "NODE", 3, 4), 33, "ninputs is 33"));
  CHECK(patched_rejects(b, off_in(b, "NODE", 3, 8), 0, "first input is 0, expected 2"));
  CHECK(patched_rejects(b, off_in(b, "NODE", 3, 24), 99999, "bad string index"));
  CHECK(patched_rejects(b, off_in(b, "NODE", 3, 0), SQN_PLAN_OP_COUNT, "unknown op kind 31"));
  CHECK(patched_rejects(b, off_in(b, "NODE", 3, 180), 0x7ff80000u, "alpha is not a finite number"));
  CHECK(patched_rejects(b, off_in(b, "NODE", 3, 188), 0xfff00000u, "beta is not a finite number"));
  put32(b.p + off_in(b, "NODE", 3, 0), OP_LEAKY_RELU); /* the relu as a leaky_relu of slope 2.0 */
  CHECK(patched_rejects(b, off_in(b, "NODE", 3, 180), 0x40000000u, "leaky_relu slope 2 outside 0..1"));
  put32(b.p + off_in(b, "NODE", 3, 0), OP_RELU);
  CHECK(patched_rejects(b, off_in(b, "NODE", 3, 196), 0x7ff00000u, "pad value inf is not finite"));
  CHECK(patched_rejects(b, off_in(b, "NODE", 3, 76), 2, "not a boolean"));
  CHECK(patched_rejects(b, off_in(b, "NODE", 3, 12), 0, "not a valid shape"));
  CHECK(patched_rejects(b, off_in(b, "NODE", 3, 124), 5, "superblock 5 does not exist"));
  CHECK(patched_rejects(b, off_in(b, "NODE", 3, 132), 0, "kernel 0 does not list this node"));
  CHECK(patched_rejects(b, off_in(b, "NODE", 1, 108), 5, "not this node's"));
  CHECK(patched_rejects(b, off_in(b, "NODE", 1, 72), 0, "groups"));
  CHECK(patched_rejects(b, off_in(b, "NODE", 1, 140), 0x80000000u, "macs")); /* negative */
  CHECK(patched_rejects(b, off_in(b, "NODE", 8, 124), 1, "mix input 0 is node 6, candidate 0's output is node 12"));
  CHECK(patched_rejects(b, off_in(b, "NODE", 8, 124), (uint32_t)-1, "mix node outside a superblock"));
  free(b.p);
}

static void test_other_records(void) {
  Blob b = sample();
  CHECK(patched_rejects(b, off_in(b, "PARM", 0, 4), SQN_PLAN_PARAM_ROLE_COUNT, "unknown parameter role 7"));
  CHECK(patched_rejects(b, off_in(b, "PARM", 0, 40), 0, "not this node's"));    /* node */
  CHECK(patched_rejects(b, off_in(b, "NODE", 1, 104), 0, "does not list this parameter")); /* nparams */
  CHECK(patched_rejects(b, off_in(b, "PARM", 0, 12), 2, "does not match the dimensions"));
  Blob big = copy(b); /* four dims of 2^24: the element count must be refused before it overflows (fuzz_plan found it) */
  put32(big.p + off_in(big, "PARM", 0, 8), 4);
  for (int d = 0; d < 4; d++) put32(big.p + off_in(big, "PARM", 0, 12 + 4 * (size_t)d), 1u << 24);
  recrc(big.p, big.len);
  CHECK(rejects(big, "tensor too large"));
  free(big.p);
  CHECK(patched_rejects(b, off_in(b, "KERN", 0, 0), 4, "unknown kernel kind 4"));
  CHECK(patched_rejects(b, off_in(b, "KERN", 0, 4), 2, "member node -1 does not belong to this kernel"));
  CHECK(patched_rejects(b, off_in(b, "KERN", 1, 4), 0, "nnodes"));
  CHECK(patched_rejects(b, off_in(b, "SRCH", 0, 0), 3, "unknown objective 3"));
  CHECK(patched_rejects(b, off_in(b, "TRAN", 0, 24), 3, "unknown LR schedule 3"));
  CHECK(patched_rejects(b, off_in(b, "TRAN", 0, 4), 0x7ff80000, "not a finite number")); /* lr = NaN */
  CHECK(patched_rejects(b, off_in(b, "META", 0, 32), 500, "output refers to node 500"));
  CHECK(patched_rejects(b, off_in(b, "META", 0, 20), 0, "classes"));
  CHECK(patched_rejects(b, off_in(b, "SUPB", 1, 56), 0, "first candidate is 0, expected 3"));
  CHECK(patched_rejects(b, off_in(b, "SUPB", 0, 48), 99, "input refers to node 99"));
  CHECK(patched_rejects(b, off_in(b, "SUPB", 0, 0), 1, "index is 1"));
  CHECK(patched_rejects(b, off_in(b, "SUPB", 0, 76), 2, "is_decoder is 2, not a boolean"));
  CHECK(patched_rejects(b, off_in(b, "SUPB", 0, 76), 1, "only the last superblock may choose the decoder"));
  Blob d = copy(b); /* the last superblock may */
  int last = (int)le32(section(d.p, "SUPB")) - 1; /* the table's record count */
  put32(d.p + off_in(d, "SUPB", last, 76), 1);
  recrc(d.p, d.len);
  char why[256];
  Plan *p = plan_read_mem(d.p, d.len, why, sizeof why);
  CHECK(p && p->sb[p->nsb - 1].is_decoder && !p->sb[0].is_decoder);
  plan_free(p), free(d.p);
  free(b.p);
}

static void test_counts(void) {
  Blob b = sample();
  size_t inputs = (size_t)(section(b.p, "NODE") - b.p), node = (size_t)(node_table(b.p) - b.p);
  CHECK(patched_rejects(b, inputs, 0xffffffffu, "do not fit"));
  CHECK(patched_rejects(b, inputs + 4, 2, "records are 2 bytes, at least 4 expected"));
  CHECK(patched_rejects(b, node, 0xffffffffu, "do not fit"));
  CHECK(patched_rejects(b, node, 1, "unexpected bytes"));
  CHECK(patched_rejects(b, node + 4, 10, "records are 10 bytes, at least 208 expected"));
  CHECK(patched_rejects(b, node + 4, 176, "records are 176 bytes, at least 208 expected")); /* version 2's size */
  CHECK(patched_rejects(b, node + 4, 0, "at least"));
  size_t strs = (size_t)(section(b.p, "STRS") - b.p);
  CHECK(patched_rejects(b, strs, 0x40000000u, "strings cannot fit"));
  CHECK(patched_rejects(b, strs + 4, 0x7fffffffu, "runs past the end"));
  CHECK(patched_rejects(b, (size_t)(section(b.p, "META") - b.p), 0, "0 records, exactly 1 expected"));
  CHECK(patched_rejects(b, (size_t)(section(b.p, "META") - b.p), 2, "do not fit"));
  free(b.p);
}

/* ---- forward compatibility: longer records and unknown sections are read ---- */

/* A copy of b with section tag's bytes replaced by data (appended at the end of the file; the
   old bytes stay as unreferenced space). */
static Blob replace_section(Blob b, const char *tag, const unsigned char *data, size_t n) {
  size_t off = (b.len + 7) & ~(size_t)7;
  Blob c = {calloc(1, off + n), off + n};
  memcpy(c.p, b.p, b.len);
  memcpy(c.p + off, data, n);
  unsigned char *e = entry(c.p, tag);
  put64(e + 8, off), put64(e + 16, n);
  put64(c.p + SQN_PLAN_OFF_FILESIZE, c.len);
  recrc(c.p, c.len);
  return c;
}

/* A copy of b with one more section (the table grows by one entry, everything else moves). */
static Blob add_section(Blob b, const char *tag, const unsigned char *data, size_t n) {
  uint32_t ns = le32(b.p + SQN_PLAN_OFF_NSECTIONS);
  size_t tend = SQN_PLAN_HEADER_SIZE + ns * SQN_PLAN_SECTION_ENTRY_SIZE, E = SQN_PLAN_SECTION_ENTRY_SIZE;
  Blob c = {calloc(1, b.len + E + n), b.len + E + n};
  memcpy(c.p, b.p, tend);
  memcpy(c.p + tend + E, b.p + tend, b.len - tend);
  for (uint32_t i = 0; i < ns; i++) {
    unsigned char *e = c.p + SQN_PLAN_HEADER_SIZE + i * E;
    put64(e + 8, le64(e + 8) + E);
  }
  memcpy(c.p + tend, tag, 4);
  put64(c.p + tend + 8, b.len + E), put64(c.p + tend + 16, n);
  memcpy(c.p + b.len + E, data, n);
  put32(c.p + SQN_PLAN_OFF_NSECTIONS, ns + 1);
  put64(c.p + SQN_PLAN_OFF_FILESIZE, c.len);
  recrc(c.p, c.len);
  return c;
}

static bool reads_like_sample(Blob c) {
  Arena a = {0};
  IrGraph *g = build_graph(&a);
  char err[256];
  Plan *p = plan_read_mem(c.p, c.len, err, sizeof err);
  if (!p) fprintf(stderr, "  rejected: %s\n", err);
  if (p) compare_graph(g, p);
  plan_free(p);
  arena_free(&a);
  return p != NULL;
}

/* NODE records 8 bytes longer than version 1's, as a later writer might append fields. */
static void test_longer_records(void) {
  Blob b = sample();
  unsigned char *s = node_table(b.p), *in = section(b.p, "NODE");
  size_t pre = (size_t)(s - in); /* the input-list table, copied as is */
  uint32_t n = le32(s), rs = le32(s + 4), ns = rs + 8;
  size_t len = pre + SQN_PLAN_TABLE_HEADER + (size_t)n * ns;
  unsigned char *d = calloc(1, len);
  memcpy(d, in, pre);
  put32(d + pre, n), put32(d + pre + 4, ns);
  for (uint32_t i = 0; i < n; i++) {
    memcpy(d + pre + 8 + i * ns, s + 8 + i * rs, rs);
    memset(d + pre + 8 + i * ns + rs, 0xab, 8);
  }
  Blob c = replace_section(b, "NODE", d, len);
  CHECK(reads_like_sample(c));
  free(c.p), free(d), free(b.p);
}

/* SUPB without version 5's width cost table (empty in the sample: its 8-byte table header, last). */
static Blob without_width_costs(Blob b) {
  size_t n = (size_t)le64(entry(b.p, "SUPB") + 16);
  CHECK(n >= 8 && le32(section(b.p, "SUPB") + n - 8) == 0 && le32(section(b.p, "SUPB") + n - 4) == SQN_WCST_RECORD);
  unsigned char *d = malloc(n);
  memcpy(d, section(b.p, "SUPB"), n);
  Blob c = replace_section(b, "SUPB", d, n - 8);
  free(d);
  return c;
}

/* A version 3 plan: the 56-byte SRCH record of before budgets reads with absolute costs, no budget, no skip limit. */
static void test_version3_search(void) {
  Blob b = sample();
  unsigned char *s = section(b.p, "SRCH"), d[SQN_PLAN_TABLE_HEADER + SQN_SRCH_RECORD_V3];
  memcpy(d, s, sizeof d);
  put32(d + 4, SQN_SRCH_RECORD_V3);
  Blob c0 = replace_section(b, "SRCH", d, sizeof d), c = without_width_costs(c0);
  free(c0.p);
  put32(c.p + SQN_PLAN_OFF_VERSION, 3);
  recrc(c.p, c.len);
  char err[256];
  Plan *p = plan_read_mem(c.p, c.len, err, sizeof err);
  CHECK(p != NULL);
  if (p) {
    CHECK(p->version == 3 && p->search.epochs == 17 && p->search.arch_lr == 3e-4);
    CHECK(!p->search.costs_relative && p->search.target == 0 && p->search.target_fraction == -1);
    CHECK(p->search.skip_limit == 1 && p->search.arch_lr_end == 0 && p->search.budget_lr == 0.05);
  } else {
    fprintf(stderr, "  rejected: %s\n", err);
  }
  plan_free(p);
  put32(c.p + SQN_PLAN_OFF_VERSION, 4); /* a version 4 plan needs the longer record */
  recrc(c.p, c.len);
  CHECK(rejects(c, "records are 56 bytes, at least 100 expected"));
  free(c.p);
  CHECK(patched_rejects(b, off_in(b, "SRCH", 0, 64), 0x7ff00000, "target is inf, outside")); /* target's high word */
  free(b.p);
}

static void test_unknown_section(void) {
  Blob b = sample();
  const unsigned char xtra[] = "// a later writer's section";
  Blob c = add_section(b, "XTRA", xtra, sizeof xtra);
  CHECK(reads_like_sample(c));
  free(c.p);
  c = add_section(b, "NODE", xtra, sizeof xtra);
  CHECK(rejects(c, "duplicate section NODE"));
  free(c.p);
  c = add_section(b, SQN_TAG_KPTX, xtra, sizeof xtra);
  CHECK(rejects(c, "duplicate section KPTX"));
  free(c.p), free(b.p);
}

/* KPTX round-trips its modules, is optional (plans from before it have none), and its strings are checked. */
static void test_gpu_modules(void) {
  Arena a = {0};
  IrGraph *g = build_graph(&a);
  IrPtx mods[2] = {{"sm_72", "sm_72", ".version 7.0\n.target sm_72\n"}, {"sm_90", "sm_86", ".target sm_86\n"}};
  g->ptx = mods, g->nptx = 2;
  Blob b = {0};
  CHECK(plan_write_mem(g, &b.p, &b.len));
  char err[256];
  Plan *p = plan_read_mem(b.p, b.len, err, sizeof err);
  CHECK(p && p->nptx == 2);
  if (p && p->nptx == 2) {
    CHECK(!strcmp(p->ptx[1].target, "sm_90") && !strcmp(p->ptx[1].ptx_cpu, "sm_86"));
    CHECK(!strcmp(p->ptx[0].text, mods[0].text) && p->ptx[0].len == strlen(mods[0].text));
  }
  plan_free(p);
  mods[1].target = "sm_72"; /* the same target twice */
  free(b.p);
  CHECK(plan_write_mem(g, &b.p, &b.len));
  CHECK(rejects(b, "target sm_72 appears twice"));
  free(b.p);
  Blob s = sample(); /* rename KPTX: a plan without it */
  memcpy(entry(s.p, SQN_TAG_KPTX), "XTRA", 4);
  recrc(s.p, s.len);
  CHECK(reads_like_sample(s));
  free(s.p);
  arena_free(&a);
}

/* ---- random mutations with a correct checksum: reject or accept, never crash ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void) {
  rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
  return rng_state;
}

static void test_random_mutations(void) {
  Blob b = sample();
  FILE *null = fopen("/dev/null", "w");
  int accepted = 0;
  for (int it = 0; it < 20000; it++) {
    Blob c = copy(b);
    for (int k = 1 + (int)(rng() % 4); k > 0; k--) {
      size_t at = SQN_PLAN_HEADER_SIZE + rng() % (c.len - SQN_PLAN_HEADER_SIZE);
      c.p[at] = (rng() & 1) ? (unsigned char)rng() : (unsigned char)(c.p[at] ^ (1u << (rng() % 8)));
    }
    recrc(c.p, c.len);
    char err[256];
    Plan *p = plan_read_mem(c.p, c.len, err, sizeof err);
    if (p) accepted++, plan_print_info(p, null, it & 1); /* a valid plan must be printable */
    else CHECK(err[0] != 0);
    plan_free(p);
    free(c.p);
  }
  fprintf(stderr, "  random mutations: %d of 20000 still valid plans\n", accepted);
  fclose(null);
  free(b.p);
}

/* ---- files: atomic write, read errors ---- */

static char tmpdir[256];

static const char *tmp_path(const char *name) {
  static char buf[4][512];
  static int i;
  i = (i + 1) % 4;
  snprintf(buf[i], sizeof buf[i], "%s/%s", tmpdir, name);
  return buf[i];
}

/* Files in tmpdir whose name contains ".tmp." (leftovers of a failed write). */
static int leftovers(void) {
  DIR *d = opendir(tmpdir);
  int n = 0;
  for (struct dirent *e; d && (e = readdir(d));) n += strstr(e->d_name, ".tmp.") != NULL;
  if (d) closedir(d);
  return n;
}

static void test_file_roundtrip(void) {
  Arena a = {0};
  IrGraph *g = build_graph(&a);
  char err[256];
  const char *path = tmp_path("rt.plan");
  CHECK(plan_write(g, path, err, sizeof err));
  g->name = "renamed"; /* overwriting an existing plan replaces it */
  CHECK(plan_write(g, path, err, sizeof err));
  Plan *p = plan_read_file(path, err, sizeof err);
  CHECK(p != NULL);
  if (p) compare_graph(g, p);
  plan_free(p);
  struct stat st;
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0444) == 0444); /* not mkstemp's 0600 */
  CHECK(leftovers() == 0);
  arena_free(&a);
}

static void test_write_failures(void) {
  Arena a = {0};
  IrGraph *g = build_graph(&a);
  char err[256] = "";
  CHECK(!plan_write(g, tmp_path("no/such/dir/x.plan"), err, sizeof err));
  CHECK(strstr(err, "no/such/dir/x.plan") && strstr(err, "No such file"));
  mkdir(tmp_path("adir"), 0755); /* rename onto a directory fails after the temp file exists */
  CHECK(!plan_write(g, tmp_path("adir"), err, sizeof err));
  CHECK(strstr(err, "cannot write") != NULL);
  CHECK(leftovers() == 0);
  g->nodes[3].inputs[0] = 3; /* a graph the reader would reject is never written */
  CHECK(!plan_write(g, tmp_path("bad.plan"), err, sizeof err));
  CHECK(strstr(err, "internal error") && strstr(err, "not an earlier node"));
  CHECK(access(tmp_path("bad.plan"), F_OK) != 0 && leftovers() == 0);
  arena_free(&a);
}

static void test_read_file_errors(void) {
  char err[256];
  CHECK(!plan_read_file(tmp_path("missing.plan"), err, sizeof err) && strstr(err, "cannot open") &&
        strstr(err, "No such file"));
  FILE *f = fopen(tmp_path("empty.plan"), "w");
  if (f) fclose(f);
  CHECK(!plan_read_file(tmp_path("empty.plan"), err, sizeof err) && !strcmp(err, "empty file"));
  CHECK(!plan_read_file(tmpdir, err, sizeof err) && strstr(err, "not a regular file"));
}

/* ---- --info ---- */

/* A small JSON syntax checker: value := object | array | string | number | literal. */
static const char *json_value(const char *s);
static const char *json_ws(const char *s) {
  while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r') s++;
  return s;
}
static const char *json_string(const char *s) {
  if (*s++ != '"') return NULL;
  for (; *s && *s != '"'; s++) {
    if ((unsigned char)*s < 0x20) return NULL;
    if (*s == '\\' && !*++s) return NULL;
  }
  return *s ? s + 1 : NULL;
}
static const char *json_list(const char *s, char close, bool keys) {
  s = json_ws(s + 1);
  if (*s == close) return s + 1;
  for (;;) {
    if (keys && (!(s = json_string(json_ws(s))) || *(s = json_ws(s)) != ':')) return NULL;
    if (!(s = json_value(keys ? s + 1 : s))) return NULL;
    s = json_ws(s);
    if (*s == close) return s + 1;
    if (*s++ != ',') return NULL;
  }
}
static const char *json_value(const char *s) {
  s = json_ws(s);
  if (*s == '{') return json_list(s, '}', true);
  if (*s == '[') return json_list(s, ']', false);
  if (*s == '"') return json_string(s);
  if (!strncmp(s, "true", 4) || !strncmp(s, "null", 4)) return s + 4;
  if (!strncmp(s, "false", 5)) return s + 5;
  char *end;
  strtod(s, &end);
  return end > s ? end : NULL;
}

static char *info_text(const Plan *p, bool json) {
  char *buf = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&buf, &n);
  plan_print_info(p, f, json);
  fclose(f);
  return buf;
}

static void test_info(void) {
  Blob b = sample();
  char err[256];
  Plan *p = plan_read_mem(b.p, b.len, err, sizeof err);
  CHECK(p != NULL);
  if (!p) return;
  char *t = info_text(p, false);
  CHECK(strstr(t, "tiny_space (search space)") && strstr(t, "3x16x16") && strstr(t, "superblocks  2"));
  CHECK(strstr(t, "candidates   (every superblock, 3) inverse_residual_k3_e1_g2, skip, zero"));
  CHECK(strstr(t, "objective latency") && strstr(t, "poly schedule (power 0.85)") && strstr(t, "crop 512x1024"));
  free(t);
  p->cands[4].name = "other"; /* superblock 1's skip renamed: candidates listed per superblock */
  t = info_text(p, false);
  CHECK(strstr(t, "    1: inverse_residual_k3_e1_g2, other, zero") != NULL);
  free(t);
  t = info_text(p, true);
  const char *end = json_value(t);
  CHECK(end && *json_ws(end) == 0);
  CHECK(strstr(t, "\"kind\": \"space\"") && strstr(t, "\"input\": [3, 16, 16]") && strstr(t, "\"classes\": 5"));
  CHECK(strstr(t, "\\\"quoted\\\"\\u0009") && strstr(t, "\"macs_max\": ") && strstr(t, "\"search\": {"));
  free(t);
  plan_free(p);
  free(b.p);
}

/* ---- fixtures for the CLI tests ---- */

static int write_blob(const char *dir, const char *name, const unsigned char *p, size_t n) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) return fprintf(stderr, "cannot write %s\n", path), 1;
  return 0;
}

static int write_fixtures(const char *dir) {
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) return perror(dir), 1;
  Blob b = sample();
  if (!b.p) return 1;
  char path[1024], err[256];
  snprintf(path, sizeof path, "%s/sample.plan", dir);
  Arena a = {0};
  bool ok = plan_write(build_graph(&a), path, err, sizeof err);
  arena_free(&a);
  if (!ok) return fprintf(stderr, "%s\n", err), 1;
  int rc = write_blob(dir, "foreign.plan", (const unsigned char *)"space small {}\n", 15);
  rc |= write_blob(dir, "truncated.plan", b.p, b.len / 2);
  rc |= write_blob(dir, "empty.plan", b.p, 0);
  b.p[b.len / 2] ^= 1;
  rc |= write_blob(dir, "corrupt.plan", b.p, b.len);
  b.p[b.len / 2] ^= 1;
  put32(b.p + SQN_PLAN_OFF_VERSION, 7), recrc(b.p, b.len);
  rc |= write_blob(dir, "newer.plan", b.p, b.len);
  free(b.p);
  return rc;
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "--write-fixtures")) return write_fixtures(argv[2]);
  const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  snprintf(tmpdir, sizeof tmpdir, "%s/test_plan.XXXXXX", base);
  if (!mkdtemp(tmpdir)) return perror("mkdtemp"), 1;
  run("roundtrip_mem", test_roundtrip_mem);
  run("roundtrip_minimal", test_roundtrip_minimal);
  run("truncated", test_truncated);
  run("flipped_bytes", test_flipped_bytes);
  run("bad_magic", test_bad_magic);
  run("versions", test_versions);
  run("sizes", test_sizes);
  run("section_bounds", test_section_bounds);
  run("node_refs", test_node_refs);
  run("other_records", test_other_records);
  run("counts", test_counts);
  run("longer_records", test_longer_records);
  run("unknown_section", test_unknown_section);
  run("version3_search", test_version3_search);
  run("gpu_modules", test_gpu_modules);
  run("random_mutations", test_random_mutations);
  run("file_roundtrip", test_file_roundtrip);
  run("write_failures", test_write_failures);
  run("read_file_errors", test_read_file_errors);
  run("info", test_info);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  printf("%d passed, %d failed\n", npassed, nfailed);
  return nfailed ? 1 : 0;
}
