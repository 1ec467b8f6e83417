/* plan_write.c - serializes the graph IR into a .plan file (layout: plan/plan_format.h,
   docs/plan-format.md). Each section is encoded into its own buffer, strings are interned into
   one table, then the file is assembled, checksummed, verified with the runtime's reader and
   written atomically. */
#include "plan_write.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "plan.h"
#include "atomic_file.h"
#include "err.h"
#include "le.h"

/* The format stores the IR's enum values as they are: tie them to the documented numbers. */
#define SAME(a, b) ((int)(a) == (int)(b))
/* (Ops need no check: the IR and plans share OpKind, plan/op.h; plan_read.c ties it to SQN_PLAN_OP_COUNT.) */
_Static_assert(SAME(PARAM__COUNT, SQN_PLAN_PARAM_ROLE_COUNT) && SAME(PARAM_CONV_WEIGHT, PLAN_PARAM_CONV_WEIGHT) &&
               SAME(PARAM_CONV_BIAS, PLAN_PARAM_CONV_BIAS) && SAME(PARAM_BN_WEIGHT, PLAN_PARAM_BN_WEIGHT) &&
               SAME(PARAM_BN_BIAS, PLAN_PARAM_BN_BIAS) && SAME(PARAM_BN_MEAN, PLAN_PARAM_BN_MEAN) &&
               SAME(PARAM_BN_VAR, PLAN_PARAM_BN_VAR) && SAME(PARAM_ARCH, PLAN_PARAM_ARCH), "param roles");
_Static_assert(SAME(KERNEL__COUNT, SQN_PLAN_KERNEL_KIND_COUNT) && SAME(KERNEL_SINGLE, PLAN_KERNEL_SINGLE) &&
               SAME(KERNEL_CONV, PLAN_KERNEL_CONV) && SAME(KERNEL_INVERTED_RESIDUAL, PLAN_KERNEL_INVERTED_RESIDUAL) &&
               SAME(KERNEL_ELEMENTWISE, PLAN_KERNEL_ELEMENTWISE), "kernel kinds");
_Static_assert(SAME(OBJ_MACS, PLAN_OBJ_MACS) && SAME(OBJ_PARAMS, PLAN_OBJ_PARAMS) &&
               SAME(OBJ_LATENCY, PLAN_OBJ_LATENCY) && SAME(PLAN_OBJ__COUNT, SQN_PLAN_OBJECTIVE_COUNT), "objectives");
_Static_assert(SAME(SCHED_STEP, PLAN_SCHED_STEP) && SAME(SCHED_POLY, PLAN_SCHED_POLY) &&
               SAME(SCHED_CONSTANT, PLAN_SCHED_CONSTANT) && SAME(PLAN_SCHED__COUNT, SQN_PLAN_SCHEDULE_COUNT),
               "schedules");
_Static_assert(IR_MAX_INPUTS == SQN_PLAN_MAX_INPUTS && IR_KERNEL_MAX_NODES == SQN_PLAN_KERNEL_MAX_NODES,
               "fixed arrays");

/* ---- growable byte buffer ---- */

typedef struct Buf {
  unsigned char *p;
  size_t len, cap;
  bool bad; /* out of memory or a record of the wrong size */
} Buf;

static void put_bytes(Buf *b, const void *src, size_t n) {
  if (b->bad) return;
  if (b->len + n > b->cap) {
    size_t ncap = b->cap ? b->cap : 4096;
    while (ncap < b->len + n) ncap *= 2;
    unsigned char *np = realloc(b->p, ncap);
    if (!np) {
      b->bad = true;
      return;
    }
    b->p = np;
    b->cap = ncap;
  }
  if (n) memcpy(b->p + b->len, src, n);
  b->len += n;
}

static void put_u32(Buf *b, uint32_t v) {
  unsigned char t[4];
  le_put32(t, v);
  put_bytes(b, t, 4);
}

static void put_u64(Buf *b, uint64_t v) {
  unsigned char t[8];
  le_put64(t, v);
  put_bytes(b, t, 8);
}

static void put_i32(Buf *b, int v) { put_u32(b, (uint32_t)v); }
static void put_i64(Buf *b, int64_t v) { put_u64(b, (uint64_t)v); }
static void put_bool(Buf *b, bool v) { put_u32(b, v ? 1u : 0u); }

static void put_f64(Buf *b, double d) {
  uint64_t u;
  memcpy(&u, &d, sizeof u);
  put_u64(b, u);
}

static void put_i32s(Buf *b, const int *v, int n) {
  for (int i = 0; i < n; i++) put_i32(b, v[i]);
}

static void put_shape(Buf *b, Shape s) {
  put_i32(b, s.c);
  put_i32(b, s.h);
  put_i32(b, s.w);
}

/* Start a table of fixed-size records; returns where the records begin. */
static size_t put_table(Buf *b, int count, uint32_t recsize) {
  put_u32(b, (uint32_t)count);
  put_u32(b, recsize);
  return b->len;
}

/* After the records: the table must be exactly count * recsize bytes. */
static void end_table(Buf *b, size_t start, int count, uint32_t recsize) {
  if (b->len - start != (size_t)count * recsize) b->bad = true;
}

/* ---- string interning: identical strings share one STRS entry ---- */

typedef struct StrTab {
  const char **strs;
  uint32_t n, cap;
  uint32_t *slots; /* open addressing, index + 1, 0 = empty */
  uint32_t nslots;
  bool bad;
} StrTab;

static uint32_t str_hash(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

static bool strtab_rehash(StrTab *t) {
  uint32_t ns = t->nslots ? t->nslots * 2 : 256;
  uint32_t *slots = calloc(ns, sizeof *slots);
  if (!slots) return false;
  for (uint32_t i = 0; i < t->n; i++) {
    uint32_t h = str_hash(t->strs[i]) & (ns - 1);
    while (slots[h]) h = (h + 1) & (ns - 1);
    slots[h] = i + 1;
  }
  free(t->slots);
  t->slots = slots;
  t->nslots = ns;
  return true;
}

static bool strtab_push(StrTab *t, const char *s) {
  if (t->n == t->cap) {
    uint32_t nc = t->cap ? t->cap * 2 : 256;
    const char **np = realloc(t->strs, nc * sizeof *np);
    if (!np) return false;
    t->strs = np;
    t->cap = nc;
  }
  t->strs[t->n++] = s;
  return true;
}

static uint32_t strtab_index(StrTab *t, const char *s) {
  if (!s || t->bad) return SQN_PLAN_NO_STRING;
  if ((t->n + 1) * 2 > t->nslots && !strtab_rehash(t)) goto oom;
  uint32_t h = str_hash(s) & (t->nslots - 1);
  for (; t->slots[h]; h = (h + 1) & (t->nslots - 1))
    if (!strcmp(t->strs[t->slots[h] - 1], s)) return t->slots[h] - 1;
  if (!strtab_push(t, s)) goto oom;
  t->slots[h] = t->n;
  return t->n - 1;
oom:
  t->bad = true;
  return SQN_PLAN_NO_STRING;
}

static void strtab_free(StrTab *t) {
  free(t->strs);
  free(t->slots);
}

static void put_str(Buf *b, StrTab *t, const char *s) { put_u32(b, strtab_index(t, s)); }

static void put_loc(Buf *b, StrTab *t, SrcLoc loc) {
  put_str(b, t, loc.file ? loc.file->path : NULL);
  put_i32(b, loc.line);
  put_i32(b, loc.col);
}

/* ---- sections ---- */

static void write_strings(Buf *b, const StrTab *t) {
  put_u32(b, t->n);
  for (uint32_t i = 0; i < t->n; i++) {
    size_t n = strlen(t->strs[i]);
    if (n > UINT32_MAX) b->bad = true;
    put_u32(b, (uint32_t)n);
    put_bytes(b, t->strs[i], n);
  }
}

/* Compile-time totals, as documented for META (see PlanCosts in plan/plan.h). */
static void graph_costs(const IrGraph *g, int64_t c[8]) {
  memset(c, 0, 8 * sizeof *c);
  for (int i = 0; i < g->nnodes; i++) {
    const IrNode *n = &g->nodes[i];
    c[0] += n->macs;
    c[1] += n->params;
    if (n->candidate < 0) c[2] += n->macs, c[3] += n->params;
  }
  int64_t shift[2];
  ir_width_shift(g, shift);
  c[2] -= shift[0], c[3] -= shift[1];
  c[4] = c[5] = c[2];
  c[6] = c[7] = c[3];
  for (int s = 0; s < g->nsb; s++) { /* bounds over the architectures (cost.c; widths included) */
    int64_t b[4];
    ir_superblock_bounds(g, &g->sb[s], b);
    c[4] += b[0], c[5] += b[1], c[6] += b[2], c[7] += b[3];
  }
}

static void write_meta(Buf *b, StrTab *t, const IrGraph *g) {
  size_t start = put_table(b, 1, SQN_META_RECORD);
  put_str(b, t, g->name);
  put_bool(b, g->is_space);
  put_shape(b, g->input);
  put_i32(b, g->classes);
  put_i32(b, g->stem_output);
  put_i32(b, g->encoder_output);
  put_i32(b, g->output);
  int64_t c[8];
  graph_costs(g, c);
  for (int i = 0; i < 8; i++) put_i64(b, c[i]);
  put_str(b, t, g->space_file);
  end_table(b, start, 1, SQN_META_RECORD);
}

/* ir_add_node keeps ninputs in 0..IR_MAX_INPUTS; never trust it further than that. */
static int ninputs(const IrNode *n) {
  return n->ninputs < 0 ? 0 : n->ninputs > IR_MAX_INPUTS ? IR_MAX_INPUTS : n->ninputs;
}

static void write_node(Buf *b, StrTab *t, const IrNode *n, int first_input) {
  put_u32(b, (uint32_t)n->kind);
  put_i32(b, ninputs(n));
  put_i32(b, first_input);
  put_shape(b, n->out);
  put_str(b, t, n->name);
  put_loc(b, t, n->loc);
  int attrs[9] = {n->kh, n->kw, n->sh, n->sw, n->ph, n->pw, n->dh, n->dw, n->groups};
  put_i32s(b, attrs, 9);
  put_bool(b, n->bias);
  put_bool(b, n->count_include_pad);
  put_bool(b, n->align_corners);
  put_i32s(b, n->crop, 4);
  put_i32(b, n->nparams);
  for (int i = 0; i < 4; i++) put_i32(b, i < n->nparams ? n->param[i] : -1);
  put_i32(b, n->superblock);
  put_i32(b, n->candidate);
  put_i32(b, n->kernel);
  put_i64(b, n->macs);
  put_i64(b, n->params);
  put_i32(b, n->resize_mode);
  put_f64(b, n->scale);
  put_i32(b, n->like);
  put_i32(b, n->slot);
  put_bool(b, n->pool_fit);
  put_f64(b, n->alpha); /* version 3 */
  put_f64(b, n->beta);
  put_f64(b, n->pad_value);
  put_i32s(b, n->slice, 2);
}

/* The input lists of all nodes, then the nodes. */
static void write_nodes(Buf *b, StrTab *t, const IrGraph *g) {
  int64_t nin = 0;
  for (int i = 0; i < g->nnodes; i++) nin += ninputs(&g->nodes[i]);
  if (nin > INT32_MAX) b->bad = true;
  size_t start = put_table(b, (int)nin, SQN_INPT_RECORD);
  for (int i = 0; i < g->nnodes; i++) put_i32s(b, g->nodes[i].inputs, ninputs(&g->nodes[i]));
  end_table(b, start, (int)nin, SQN_INPT_RECORD);
  start = put_table(b, g->nnodes, SQN_NODE_RECORD);
  for (int i = 0, first = 0; i < g->nnodes; first += ninputs(&g->nodes[i]), i++) write_node(b, t, &g->nodes[i], first);
  end_table(b, start, g->nnodes, SQN_NODE_RECORD);
}

static void write_params(Buf *b, StrTab *t, const IrGraph *g) {
  size_t start = put_table(b, g->nparams, SQN_PARM_RECORD);
  for (int i = 0; i < g->nparams; i++) {
    const IrParam *p = &g->params[i];
    put_str(b, t, p->name);
    put_u32(b, (uint32_t)p->role);
    put_i32(b, p->ndim);
    for (int d = 0; d < 4; d++) put_i32(b, d < p->ndim ? p->dims[d] : 0);
    put_i64(b, p->numel);
    put_bool(b, p->trainable);
    put_i32(b, p->node);
  }
  end_table(b, start, g->nparams, SQN_PARM_RECORD);
}

static void write_superblock(Buf *b, StrTab *t, const IrSuperblock *sb, int first_cand) {
  int head[5] = {sb->index, sb->stage, sb->cin, sb->cout, sb->stride};
  put_i32s(b, head, 5);
  put_bool(b, sb->residual);
  put_shape(b, sb->in_shape);
  put_shape(b, sb->out_shape);
  put_i32(b, sb->input);
  put_i32(b, sb->output);
  put_i32(b, first_cand);
  put_i32(b, sb->ncand);
  put_loc(b, t, sb->loc);
  put_bool(b, sb->is_decoder);
  put_bool(b, sb->is_width);
  put_i32(b, sb->width_in);
  put_i32(b, sb->width_out);
  put_bool(b, sb->is_stem);
  put_bool(b, sb->is_head);
}

static void write_candidate(Buf *b, StrTab *t, const IrCandidate *c, int first_cost) {
  put_str(b, t, c->name);
  put_str(b, t, c->display);
  put_str(b, t, c->block);
  put_i32(b, c->output);
  put_bool(b, c->is_zero);
  put_bool(b, c->is_identity);
  put_i64(b, c->macs);
  put_i64(b, c->params);
  put_i32(b, c->width);
  put_i32(b, c->wmacs ? first_cost : -1);
  put_i32(b, c->wmacs ? c->cost_in : -1);
  put_i32(b, c->wmacs ? c->cost_out : -1);
}

static void write_superblocks(Buf *b, StrTab *t, const IrGraph *g) {
  size_t start = put_table(b, g->nsb, SQN_SUPB_RECORD);
  int64_t ncand = 0;
  for (int s = 0; s < g->nsb; s++) {
    write_superblock(b, t, &g->sb[s], (int)ncand);
    ncand += g->sb[s].ncand;
  }
  end_table(b, start, g->nsb, SQN_SUPB_RECORD);
  if (ncand > INT32_MAX) b->bad = true;
  start = put_table(b, (int)ncand, SQN_CAND_RECORD);
  int64_t ncost = 0;
  for (int s = 0; s < g->nsb; s++)
    for (int k = 0; k < g->sb[s].ncand; k++) {
      write_candidate(b, t, &g->sb[s].cand[k], (int)ncost);
      ncost += ir_width_pairs(g, &g->sb[s].cand[k]);
    }
  end_table(b, start, (int)ncand, SQN_CAND_RECORD);
  if (ncost > INT32_MAX) b->bad = true;
  start = put_table(b, (int)ncost, SQN_WCST_RECORD);
  for (int s = 0; s < g->nsb; s++)
    for (int k = 0; k < g->sb[s].ncand; k++)
      for (int w = 0; w < ir_width_pairs(g, &g->sb[s].cand[k]); w++) {
        put_i64(b, g->sb[s].cand[k].wmacs[w]);
        put_i64(b, g->sb[s].cand[k].wparams[w]);
      }
  end_table(b, start, (int)ncost, SQN_WCST_RECORD);
}

static void write_kernels(Buf *b, const IrGraph *g) {
  size_t start = put_table(b, g->nkernels, SQN_KERN_RECORD);
  for (int i = 0; i < g->nkernels; i++) {
    const IrKernel *k = &g->kernels[i];
    put_u32(b, (uint32_t)k->kind);
    put_i32(b, k->nnodes);
    for (int j = 0; j < IR_KERNEL_MAX_NODES; j++) put_i32(b, j < k->nnodes ? k->nodes[j] : -1);
    put_i32(b, k->output);
    put_bool(b, k->folds_bn);
    put_i32(b, k->superblock);
    put_i32(b, k->candidate);
  }
  end_table(b, start, g->nkernels, SQN_KERN_RECORD);
}

static void write_search(Buf *b, const SearchSettings *s) {
  size_t start = put_table(b, 1, SQN_SRCH_RECORD);
  put_u32(b, (uint32_t)s->objective);
  put_f64(b, s->alpha);
  put_f64(b, s->temp_start);
  put_f64(b, s->temp_end);
  put_f64(b, s->prune_below);
  put_i32(b, s->samples);
  put_i32(b, s->warmup_epochs);
  put_f64(b, s->arch_lr);
  put_i32(b, s->epochs);
  put_bool(b, s->costs_relative);
  put_f64(b, s->target);
  put_f64(b, s->target_fraction);
  put_f64(b, s->budget_lr);
  put_f64(b, s->skip_limit);
  put_f64(b, s->arch_lr_end);
  end_table(b, start, 1, SQN_SRCH_RECORD);
}

static void write_train(Buf *b, const TrainSettings *s) {
  size_t start = put_table(b, 1, SQN_TRAN_RECORD);
  put_f64(b, s->lr);
  put_f64(b, s->momentum);
  put_f64(b, s->weight_decay);
  put_u32(b, (uint32_t)s->schedule);
  for (int i = 0; i < 4; i++) put_f64(b, i < s->nmilestones ? s->milestones[i] : 0.0);
  put_i32(b, s->nmilestones);
  put_f64(b, s->gamma);
  put_f64(b, s->poly_power);
  int tail[4] = {s->epochs, s->batch, s->crop_h, s->crop_w};
  put_i32s(b, tail, 4);
  end_table(b, start, 1, SQN_TRAN_RECORD);
}

static void write_grad(Buf *b, const IrGraph *g) {
  const IrGradInfo *gi = &g->grad;
  size_t start = put_table(b, g->nnodes, SQN_TNOD_RECORD);
  for (int i = 0; i < g->nnodes; i++) {
    put_i32(b, gi->train_slot ? gi->train_slot[i] : -1);
    put_i32(b, gi->grad_slot ? gi->grad_slot[i] : -1);
    put_bool(b, gi->saved && gi->saved[i]);
    put_i32(b, gi->recompute_slot ? gi->recompute_slot[i] : -1);
  }
  end_table(b, start, g->nnodes, SQN_TNOD_RECORD);
  start = put_table(b, gi->nsteps, SQN_STEP_RECORD);
  for (int s = 0; s < gi->nsteps; s++) {
    put_i32(b, gi->steps[s].node);
    put_u32(b, gi->steps[s].need_dx);
    put_u32(b, gi->steps[s].acc_dx);
    put_u32(b, (uint32_t)gi->steps[s].kind);
  }
  end_table(b, start, gi->nsteps, SQN_STEP_RECORD);
  start = put_table(b, gi->nupdate, SQN_UPDT_RECORD);
  for (int u = 0; u < gi->nupdate; u++) put_i32(b, gi->update_params[u]);
  end_table(b, start, gi->nupdate, SQN_UPDT_RECORD);
}

static void write_ptx(Buf *b, StrTab *t, const IrGraph *g) {
  size_t start = put_table(b, g->nptx, SQN_KPTX_RECORD);
  for (int i = 0; i < g->nptx; i++) {
    put_str(b, t, g->ptx[i].target);
    put_str(b, t, g->ptx[i].ptx_cpu);
    put_str(b, t, g->ptx[i].text);
  }
  end_table(b, start, g->nptx, SQN_KPTX_RECORD);
}

/* ---- assembly ---- */

enum { SEC_STRS, SEC_META, SEC_NODE, SEC_PARM, SEC_SUPB, SEC_KERN, SEC_SRCH, SEC_TRAN, SEC_GRAD, SEC_KPTX, SEC__COUNT };
static const char *const sec_tags[SEC__COUNT] = {SQN_TAG_STRS, SQN_TAG_META, SQN_TAG_NODE, SQN_TAG_PARM, SQN_TAG_SUPB,
                                                 SQN_TAG_KERN, SQN_TAG_SRCH, SQN_TAG_TRAN, SQN_TAG_GRAD, SQN_TAG_KPTX};

/* Encode every section; STRS last, once all strings are interned. */
static bool encode_sections(const IrGraph *g, Buf sec[SEC__COUNT]) {
  StrTab t = {0};
  write_meta(&sec[SEC_META], &t, g);
  write_nodes(&sec[SEC_NODE], &t, g);
  write_params(&sec[SEC_PARM], &t, g);
  write_superblocks(&sec[SEC_SUPB], &t, g);
  write_kernels(&sec[SEC_KERN], g);
  write_search(&sec[SEC_SRCH], &g->search);
  write_train(&sec[SEC_TRAN], &g->train);
  write_grad(&sec[SEC_GRAD], g);
  write_ptx(&sec[SEC_KPTX], &t, g);
  write_strings(&sec[SEC_STRS], &t);
  bool ok = !t.bad;
  strtab_free(&t);
  for (int i = 0; i < SEC__COUNT; i++) ok = ok && !sec[i].bad;
  return ok;
}

/* Header, section table, then the sections, each aligned to 8 bytes. */
static void assemble(Buf *out, Buf sec[SEC__COUNT]) {
  size_t table = SQN_PLAN_HEADER_SIZE;
  static const unsigned char zeros[SQN_PLAN_HEADER_SIZE + SEC__COUNT * SQN_PLAN_SECTION_ENTRY_SIZE];
  put_bytes(out, zeros, sizeof zeros);
  for (int i = 0; i < SEC__COUNT && !out->bad; i++) {
    put_bytes(out, zeros, (SQN_PLAN_SECTION_ALIGN - out->len % SQN_PLAN_SECTION_ALIGN) % SQN_PLAN_SECTION_ALIGN);
    size_t off = out->len;
    put_bytes(out, sec[i].p, sec[i].len);
    if (out->bad) return;
    unsigned char *e = out->p + table + (size_t)i * SQN_PLAN_SECTION_ENTRY_SIZE;
    memcpy(e, sec_tags[i], 4);
    le_put64(e + 8, off);
    le_put64(e + 16, sec[i].len);
  }
  if (out->bad) return;
  memcpy(out->p, SQN_PLAN_MAGIC, SQN_PLAN_MAGIC_LEN);
  le_put32(out->p + SQN_PLAN_OFF_VERSION, SQN_PLAN_VERSION);
  le_put32(out->p + SQN_PLAN_OFF_FLAGS, 0);
  le_put32(out->p + SQN_PLAN_OFF_NSECTIONS, SEC__COUNT);
  le_put64(out->p + SQN_PLAN_OFF_FILESIZE, out->len);
  le_put32(out->p + SQN_PLAN_OFF_CRC, plan_checksum(out->p, out->len));
}

bool plan_write_mem(const IrGraph *g, unsigned char **buf, size_t *len) {
  Buf sec[SEC__COUNT] = {0}, out = {0};
  bool ok = encode_sections(g, sec);
  if (ok) assemble(&out, sec);
  for (int i = 0; i < SEC__COUNT; i++) free(sec[i].p);
  ok = ok && !out.bad && out.len <= SQN_PLAN_MAX_FILE_SIZE;
  if (!ok) {
    free(out.p);
    out.p = NULL;
    out.len = 0;
  }
  *buf = out.p;
  *len = out.len;
  return ok;
}

/* ---- the file (written atomically: atomic_file.h) ---- */


bool plan_write(const IrGraph *g, const char *path, char *err, size_t errlen) {
  unsigned char *buf;
  size_t len;
  if (!plan_write_mem(g, &buf, &len)) {
    err_set(err, errlen, "cannot encode the plan: out of memory or the graph is too large");
    return false;
  }
  char why[256];
  Plan *check = plan_read_mem(buf, len, why, sizeof why);
  bool ok = check != NULL;
  if (!ok) err_set(err, errlen, "internal error: the encoded plan does not validate: %s", why);
  plan_free(check);
  ok = ok && atomic_write(path, buf, len, err, errlen);
  free(buf);
  return ok;
}
