/* plan_read.c - reads a .plan file (layout: plan_format.h, docs/plan-format.md) into a Plan and
   validates all of it: header, checksum, section bounds, record sizes, string indices, enum
   values, node references and topological order. Never reads out of bounds, never allocates more
   than a small multiple of the file size, and explains every rejection in one line. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>
#include "plan.h"
#include "le.h"

enum { S_STRS, S_META, S_NODE, S_PARM, S_SUPB, S_KERN, S_SRCH, S_TRAN, S_GRAD, S_KPTX, S__COUNT };
static const char *const known_tags[S__COUNT] = {SQN_TAG_STRS, SQN_TAG_META, SQN_TAG_NODE, SQN_TAG_PARM, SQN_TAG_SUPB,
                                                 SQN_TAG_KERN, SQN_TAG_SRCH, SQN_TAG_TRAN, SQN_TAG_GRAD, SQN_TAG_KPTX};
#define S_FIRST_OPTIONAL S_KPTX /* sections from here on may be absent */

typedef struct Rd { /* cursor over a byte range; reads past the end give 0 */
  const unsigned char *p;
  size_t len, pos;
} Rd;

typedef struct Ctx {
  const unsigned char *buf;
  size_t len;
  Plan *p;
  char *err;
  size_t errlen;
  Rd sec[S__COUNT];
  bool found[S__COUNT];
  const char *where; /* section being read, for messages */
  int rec;           /* record being read, -1 if none */
  int *inputs;       /* NODE's input-list table */
  int ninputs, next_input;
} Ctx;

/* ---- errors ---- */

static bool fail(Ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(Ctx *c, const char *fmt, ...) {
  if (!c->err || !c->errlen) return false;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->err, c->errlen, fmt, ap);
  va_end(ap);
  return false;
}

/* "corrupt: NODE record 3: <msg>" */
static bool bad(Ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool bad(Ctx *c, const char *fmt, ...) {
  char msg[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (c->rec >= 0) return fail(c, "corrupt: %s record %d: %s", c->where, c->rec, msg);
  return fail(c, "corrupt: %s: %s", c->where, msg);
}

/* ---- little-endian fields ---- */

static uint32_t rd_u32(Rd *r) {
  if (r->len - r->pos < 4) return r->pos = r->len, 0;
  r->pos += 4;
  return le_get32(r->p + r->pos - 4);
}

static uint64_t rd_u64(Rd *r) {
  if (r->len - r->pos < 8) return r->pos = r->len, 0;
  r->pos += 8;
  return le_get64(r->p + r->pos - 8);
}

static int rd_i32(Rd *r) { return (int)(int32_t)rd_u32(r); }
static int64_t rd_i64(Rd *r) { return (int64_t)rd_u64(r); }

static double rd_f64(Rd *r) {
  uint64_t u = rd_u64(r);
  double d;
  memcpy(&d, &u, sizeof d);
  return d;
}

static void rd_i32s(Rd *r, int *v, int n) {
  for (int i = 0; i < n; i++) v[i] = rd_i32(r);
}

static Shape rd_shape(Rd *r) {
  Shape s;
  s.c = rd_i32(r);
  s.h = rd_i32(r);
  s.w = rd_i32(r);
  return s;
}

/* ---- checked conversions ---- */

static bool get_str(Ctx *c, uint32_t idx, const char **out) {
  if (idx == SQN_PLAN_NO_STRING) return *out = NULL, true;
  if (idx >= (uint32_t)c->p->nstrings)
    return bad(c, "bad string index %u (the string table has %d strings)", idx, c->p->nstrings);
  *out = c->p->strings[idx];
  return true;
}

static bool get_bool(Ctx *c, uint32_t v, bool *out, const char *what) {
  if (v > 1) return bad(c, "%s is %u, not a boolean", what, v);
  *out = v == 1;
  return true;
}

static bool in_range(Ctx *c, int64_t v, int64_t lo, int64_t hi, const char *what) {
  if (v < lo || v > hi) return bad(c, "%s is %lld, outside %lld..%lld", what, (long long)v, (long long)lo, (long long)hi);
  return true;
}

static bool shape_ok(Ctx *c, Shape s, const char *what) {
  if (s.c >= 1 && s.h >= 1 && s.w >= 1 && s.c <= SQN_PLAN_MAX_DIM && s.h <= SQN_PLAN_MAX_DIM &&
      s.w <= SQN_PLAN_MAX_DIM)
    return true;
  return bad(c, "%s shape %dx%dx%d is not a valid shape", what, s.c, s.h, s.w);
}

static bool cost_ok(Ctx *c, int64_t v, const char *what) { return in_range(c, v, 0, SQN_PLAN_MAX_COST, what); }

static bool finite_ok(Ctx *c, double v, const char *what) {
  if (isfinite(v)) return true;
  return bad(c, "%s is not a finite number", what);
}

static bool between(Ctx *c, double v, double lo, double hi, const char *what) {
  if (v >= lo && v <= hi) return true;
  return bad(c, "%s is %g, outside [%g, %g]", what, v, lo, hi);
}

/* node id reference: -1 allowed when none is true */
static bool node_ref(Ctx *c, int id, bool none, const char *what) {
  if ((none && id == -1) || (id >= 0 && id < c->p->nnodes)) return true;
  return bad(c, "%s refers to node %d, but the plan has %d nodes", what, id, c->p->nnodes);
}

static bool sb_cand_ref(Ctx *c, int sb, int cand) {
  const Plan *p = c->p;
  if (sb == -1 && cand == -1) return true;
  if (sb < 0 || sb >= p->nsb) return bad(c, "superblock %d does not exist (the plan has %d)", sb, p->nsb);
  if (cand < -1 || cand >= p->sb[sb].ncand)
    return bad(c, "candidate %d does not exist in superblock %d (%d candidates)", cand, sb, p->sb[sb].ncand);
  return true;
}

/* ---- header and section table ---- */

uint32_t plan_checksum(const unsigned char *buf, size_t len) {
  uLong crc = crc32(crc32(0L, Z_NULL, 0), buf, SQN_PLAN_OFF_CRC);
  for (size_t off = SQN_PLAN_OFF_FILESIZE; off < len;) {
    size_t k = len - off > (1u << 30) ? (1u << 30) : len - off;
    crc = crc32(crc, buf + off, (uInt)k);
    off += k;
  }
  return (uint32_t)crc;
}

static bool check_magic_version(Ctx *c) {
  size_t n = c->len < SQN_PLAN_MAGIC_LEN ? c->len : SQN_PLAN_MAGIC_LEN;
  if (c->len == 0) return fail(c, "empty file");
  if (memcmp(c->buf, SQN_PLAN_MAGIC, n)) return fail(c, "not an sqn plan (bad magic)");
  if (c->len < SQN_PLAN_HEADER_SIZE)
    return fail(c, "truncated: file has %zu bytes, less than the %u-byte header", c->len, SQN_PLAN_HEADER_SIZE);
  uint32_t version = le_get32(c->buf + SQN_PLAN_OFF_VERSION);
  if (version == 0) return fail(c, "corrupt: plan format version 0 does not exist");
  if (version > SQN_PLAN_VERSION)
    return fail(c, "plan format version %u is newer than this sqnrun supports (%u); "
                   "rebuild the plan with this sqnc or update sqnrun", version, SQN_PLAN_VERSION);
  if (version < SQN_PLAN_MIN_VERSION)
    return fail(c, "plan format version %u is older than this sqnrun reads (%u..%u); recompile the plan with this sqnc",
                version, SQN_PLAN_MIN_VERSION, SQN_PLAN_VERSION);
  c->p->version = version;
  return true;
}

static bool check_header(Ctx *c) {
  if (!check_magic_version(c)) return false;
  unsigned long long size = le_get64(c->buf + SQN_PLAN_OFF_FILESIZE);
  if (size > c->len) return fail(c, "truncated: header says %llu bytes, file has %zu", size, c->len);
  if (size < c->len) return fail(c, "corrupt: header says %llu bytes, file has %zu (trailing data)", size, c->len);
  if (plan_checksum(c->buf, c->len) != le_get32(c->buf + SQN_PLAN_OFF_CRC)) return fail(c, "corrupt: checksum mismatch");
  uint32_t flags = le_get32(c->buf + SQN_PLAN_OFF_FLAGS);
  if (flags) return fail(c, "plan needs features this sqnrun does not support (flags 0x%x); update sqnrun", flags);
  c->p->file_size = size;
  return true;
}

static void printable_tag(const unsigned char *t, char out[5]) {
  for (int i = 0; i < 4; i++) out[i] = (t[i] >= 0x20 && t[i] < 0x7f) ? (char)t[i] : '?';
  out[4] = 0;
}

static bool read_entry(Ctx *c, const unsigned char *e, uint64_t table_end) {
  char tag[5];
  printable_tag(e, tag);
  uint64_t off = le_get64(e + 8), size = le_get64(e + 16);
  if (le_get32(e + 4) != 0) return fail(c, "corrupt: section %s has a nonzero reserved field", tag);
  if (off < table_end || off > c->len || size > c->len - off)
    return fail(c, "corrupt: section %s (offset %llu, size %llu) lies outside the file (%zu bytes)", tag,
                (unsigned long long)off, (unsigned long long)size, c->len);
  for (int k = 0; k < S__COUNT; k++) {
    if (memcmp(e, known_tags[k], 4)) continue;
    if (c->found[k]) return fail(c, "corrupt: duplicate section %s", tag);
    c->found[k] = true;
    c->sec[k] = (Rd){c->buf + off, (size_t)size, 0};
  }
  return true; /* unknown tags are skipped */
}

static bool read_section_table(Ctx *c) {
  uint32_t n = le_get32(c->buf + SQN_PLAN_OFF_NSECTIONS);
  if (n > SQN_PLAN_MAX_SECTIONS) return fail(c, "corrupt: %u sections (at most %u)", n, SQN_PLAN_MAX_SECTIONS);
  uint64_t table_end = SQN_PLAN_HEADER_SIZE + (uint64_t)n * SQN_PLAN_SECTION_ENTRY_SIZE;
  if (table_end > c->len) return fail(c, "corrupt: the section table runs past the end of the file");
  for (uint32_t i = 0; i < n; i++)
    if (!read_entry(c, c->buf + SQN_PLAN_HEADER_SIZE + (size_t)i * SQN_PLAN_SECTION_ENTRY_SIZE, table_end))
      return false;
  for (int k = 0; k < S_FIRST_OPTIONAL; k++)
    if (!c->found[k]) return fail(c, "corrupt: missing section %s", known_tags[k]);
  return true;
}

/* ---- string table ---- */

static bool read_string(Ctx *c, Rd *r, uint32_t i, size_t *used) {
  if (r->len - r->pos < 4) return bad(c, "string %u runs past the end of the section", i);
  uint32_t n = rd_u32(r);
  if (n > r->len - r->pos) return bad(c, "string %u (%u bytes) runs past the end of the section", i, n);
  if (memchr(r->p + r->pos, 0, n)) return bad(c, "string %u contains a NUL byte", i);
  char *s = c->p->strpool + *used;
  memcpy(s, r->p + r->pos, n);
  s[n] = 0;
  c->p->strings[i] = s;
  *used += (size_t)n + 1;
  r->pos += n;
  return true;
}

static bool read_strings(Ctx *c) {
  Rd *r = &c->sec[S_STRS];
  c->where = SQN_TAG_STRS, c->rec = -1;
  if (r->len < 4) return bad(c, "section too small (%zu bytes)", r->len);
  uint32_t n = rd_u32(r);
  if (n > (r->len - 4) / 4) return bad(c, "%u strings cannot fit in %zu bytes", n, r->len);
  c->p->strings = calloc(n ? n : 1, sizeof *c->p->strings);
  c->p->strpool = malloc(r->len - 3); /* text + one NUL per string: at most the section size - 4 */
  if (!c->p->strings || !c->p->strpool) return fail(c, "out of memory");
  c->p->nstrings = (int)n;
  size_t used = 0;
  for (uint32_t i = 0; i < n; i++)
    if (!read_string(c, r, i, &used)) return false;
  if (r->pos != r->len) return bad(c, "%zu unexpected bytes after the strings", r->len - r->pos);
  return true;
}

/* ---- tables of fixed-size records ---- */

typedef bool (*RecFn)(Ctx *c, Rd *r, void *out);

/* Reads "u32 count, u32 record size, records" at r's position into a new array of elem-sized
   items. Records longer than minrec are allowed (fields appended by a later writer). */
static bool read_table(Ctx *c, Rd *r, const char *tag, uint32_t minrec, size_t elem, RecFn fn, void **out,
                       int *count) {
  c->where = tag, c->rec = -1;
  if (r->len - r->pos < SQN_PLAN_TABLE_HEADER) return bad(c, "table header runs past the end of the section");
  uint32_t n = rd_u32(r), recsize = rd_u32(r);
  if (recsize < minrec) return bad(c, "records are %u bytes, at least %u expected", recsize, minrec);
  if (n > (r->len - r->pos) / recsize)
    return bad(c, "%u records of %u bytes do not fit in the %zu bytes left", n, recsize, r->len - r->pos);
  unsigned char *arr = calloc(n ? n : 1, elem);
  if (!arr) return fail(c, "out of memory");
  *out = arr, *count = (int)n;
  for (uint32_t i = 0; i < n; i++) {
    Rd rec = {r->p + r->pos, recsize, 0};
    c->rec = (int)i;
    if (!fn(c, &rec, arr + i * elem)) return false;
    r->pos += recsize;
  }
  c->rec = -1;
  return true;
}

/* A section that is exactly one table of exactly one record. */
static bool read_single(Ctx *c, int s, uint32_t minrec, size_t elem, RecFn fn, void *out) {
  void *arr = NULL;
  int n = 0;
  bool ok = read_table(c, &c->sec[s], known_tags[s], minrec, elem, fn, &arr, &n);
  if (ok && n != 1) ok = bad(c, "%d records, exactly 1 expected", n);
  if (ok && c->sec[s].pos != c->sec[s].len) ok = bad(c, "unexpected bytes after the table");
  if (ok) memcpy(out, arr, elem);
  free(arr);
  return ok;
}

static bool section_done(Ctx *c, int s) {
  c->where = known_tags[s], c->rec = -1;
  if (c->sec[s].pos != c->sec[s].len) return bad(c, "%zu unexpected bytes after the table", c->sec[s].len - c->sec[s].pos);
  return true;
}

/* ---- META ---- */

static bool read_costs(Ctx *c, Rd *r, PlanCosts *k) {
  int64_t v[8];
  static const char *const names[8] = {"macs_all", "params_all", "macs_fixed", "params_fixed",
                                       "macs_min", "macs_max", "params_min", "params_max"};
  for (int i = 0; i < 8; i++) {
    v[i] = rd_i64(r);
    if (!cost_ok(c, v[i], names[i])) return false;
  }
  *k = (PlanCosts){v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]};
  if (k->macs_min > k->macs_max || k->params_min > k->params_max) return bad(c, "cost range min > max");
  return true;
}

typedef struct Meta { /* the META record, copied into the Plan once valid */
  const char *name;
  bool is_space;
  Shape input;
  int classes, stem_output, encoder_output, output;
  PlanCosts costs;
  const char *space_file;
} Meta;

static bool read_meta(Ctx *c, Rd *r, void *out) {
  Meta *m = out;
  uint32_t name = rd_u32(r), space = rd_u32(r);
  m->input = rd_shape(r);
  m->classes = rd_i32(r);
  m->stem_output = rd_i32(r);
  m->encoder_output = rd_i32(r);
  m->output = rd_i32(r);
  bool ok = get_str(c, name, &m->name) && get_bool(c, space, &m->is_space, "is_space") &&
            shape_ok(c, m->input, "input") && in_range(c, m->classes, 1, SQN_PLAN_MAX_DIM, "classes") &&
            read_costs(c, r, &m->costs);
  return ok && get_str(c, rd_u32(r), &m->space_file);
}

static bool read_meta_section(Ctx *c) {
  Meta m;
  Plan *p = c->p;
  if (!read_single(c, S_META, SQN_META_RECORD, sizeof m, read_meta, &m)) return false;
  p->name = m.name, p->is_space = m.is_space, p->input = m.input, p->classes = m.classes;
  p->stem_output = m.stem_output, p->encoder_output = m.encoder_output, p->output = m.output;
  p->costs = m.costs;
  p->space_file = m.space_file;
  return true;
}

static bool check_meta_refs(Ctx *c) {
  const Plan *p = c->p;
  c->where = SQN_TAG_META, c->rec = 0;
  return node_ref(c, p->stem_output, true, "stem_output") && node_ref(c, p->encoder_output, true, "encoder_output") &&
         node_ref(c, p->output, true, "output");
}

/* ---- NODE ---- */

/* The format numbers ops as ops.def does. */
_Static_assert(OP__COUNT == SQN_PLAN_OP_COUNT, "ops.def and the plan format disagree on the number of ops");

static bool check_inputs(Ctx *c, const PlanNode *n) {
  const OpInfo *op = op_info(n->kind);
  int lo = op->min_inputs, hi = op->max_inputs < 0 ? SQN_PLAN_MAX_INPUTS : op->max_inputs;
  if (n->ninputs < lo || n->ninputs > hi)
    return bad(c, "%s node has %d inputs, expected %d..%d", op_name(n->kind), n->ninputs, lo, hi);
  for (int i = 0; i < n->ninputs; i++)
    if (n->inputs[i] < 0 || n->inputs[i] >= n->id)
      return bad(c, "input %d is node %d, not an earlier node (0..%d)", i, n->inputs[i], n->id - 1);
  return true;
}

static bool check_attrs(Ctx *c, const PlanNode *n) {
  const int pos[7] = {n->kh, n->kw, n->sh, n->sw, n->dh, n->dw, n->groups};
  const int nonneg[6] = {n->ph, n->pw, n->crop[0], n->crop[1], n->crop[2], n->crop[3]};
  for (int i = 0; i < 7; i++)
    if (!in_range(c, pos[i], 1, SQN_PLAN_MAX_DIM, "kernel/stride/dilation/groups")) return false;
  for (int i = 0; i < 6; i++)
    if (!in_range(c, nonneg[i], 0, SQN_PLAN_MAX_DIM, "padding/crop")) return false;
  if (!in_range(c, n->resize_mode, 0, RESIZE__COUNT - 1, "resize mode")) return false;
  if (!in_range(c, n->slot, -1, c->rec, "buffer slot")) return false;
  if (n->resize_mode == RESIZE_SCALE && !(n->scale > 0 && n->scale <= 1024))
    return bad(c, "resize scale %g out of range", n->scale);
  if (n->resize_mode == RESIZE_LIKE && !in_range(c, n->like, 0, n->id - 1, "resize reference node"))
    return false;
  if (!finite_ok(c, n->alpha, "alpha") || !finite_ok(c, n->beta, "beta")) return false;
  if (n->kind == OP_LEAKY_RELU && !(n->alpha >= 0 && n->alpha <= 1))
    return bad(c, "leaky_relu slope %g outside 0..1", n->alpha);
  if (!isfinite(n->pad_value)) return bad(c, "pad value %g is not finite", n->pad_value);
  if (!in_range(c, n->slice[0], 0, SQN_PLAN_MAX_DIM, "slice start") ||
      !in_range(c, n->slice[1], n->kind == OP_SLICE ? n->slice[0] + 1 : 0, SQN_PLAN_MAX_DIM, "slice end"))
    return false;
  if (n->kind == OP_CHANNEL_SHUFFLE && n->out.c % n->groups)
    return bad(c, "channel_shuffle of %d channels cannot have %d groups", n->out.c, n->groups);
  if (n->kind == OP_CONV && n->out.c % n->groups)
    return bad(c, "conv with %d output channels cannot have %d groups", n->out.c, n->groups);
  return in_range(c, n->nparams, 0, SQN_PLAN_NODE_PARAMS, "nparams");
}

/* A node's inputs are the next run of the input-list table. */
static bool take_inputs(Ctx *c, PlanNode *n, int first) {
  if (!in_range(c, n->ninputs, 0, SQN_PLAN_MAX_INPUTS, "ninputs")) return false;
  if (first != c->next_input) return bad(c, "first input is %d, expected %d", first, c->next_input);
  if (n->ninputs > c->ninputs - first) return bad(c, "%d inputs run past the input-list table", n->ninputs);
  memcpy(n->inputs, c->inputs + first, (size_t)n->ninputs * sizeof *n->inputs);
  for (int i = n->ninputs; i < SQN_PLAN_MAX_INPUTS; i++) n->inputs[i] = -1;
  c->next_input += n->ninputs;
  return check_inputs(c, n);
}

static bool read_node(Ctx *c, Rd *r, void *out) {
  PlanNode *n = out;
  int a[9];
  uint32_t kind = rd_u32(r);
  n->id = c->rec;
  n->ninputs = rd_i32(r);
  int first = rd_i32(r);
  n->out = rd_shape(r);
  uint32_t name = rd_u32(r), file = rd_u32(r);
  n->loc.line = rd_i32(r), n->loc.col = rd_i32(r);
  rd_i32s(r, a, 9);
  n->kh = a[0], n->kw = a[1], n->sh = a[2], n->sw = a[3], n->ph = a[4], n->pw = a[5];
  n->dh = a[6], n->dw = a[7], n->groups = a[8];
  uint32_t b[3];
  for (int i = 0; i < 3; i++) b[i] = rd_u32(r); /* in order: an initializer list would not sequence them */
  rd_i32s(r, n->crop, 4);
  n->nparams = rd_i32(r);
  rd_i32s(r, n->param, SQN_PLAN_NODE_PARAMS);
  n->superblock = rd_i32(r), n->candidate = rd_i32(r), n->kernel = rd_i32(r);
  n->macs = rd_i64(r), n->params = rd_i64(r);
  n->resize_mode = rd_i32(r);
  n->scale = rd_f64(r);
  n->like = rd_i32(r);
  n->slot = rd_i32(r);
  uint32_t fit = rd_u32(r);
  bool v3 = c->p->version >= 3; /* the record size was checked: version 3 records hold the fields below */
  n->alpha = v3 ? rd_f64(r) : 1.0;
  n->beta = v3 ? rd_f64(r) : 0.0;
  n->pad_value = v3 ? rd_f64(r) : 0.0;
  if (v3) rd_i32s(r, n->slice, 2);
  else n->slice[0] = n->slice[1] = 0;
  if (kind >= (v3 ? OP__COUNT : OP_SILU)) return bad(c, "unknown op kind %u", kind);
  n->kind = (OpKind)kind;
  return get_str(c, name, &n->name) && get_str(c, file, &n->loc.file) && get_bool(c, b[0], &n->bias, "bias") &&
         get_bool(c, b[1], &n->count_include_pad, "count_include_pad") &&
         get_bool(c, b[2], &n->align_corners, "align_corners") && get_bool(c, fit, &n->pool_fit, "pool_fit") &&
         take_inputs(c, n, first) &&
         shape_ok(c, n->out, "output") && check_attrs(c, n) && cost_ok(c, n->macs, "macs") &&
         cost_ok(c, n->params, "params");
}

static bool read_input(Ctx *c, Rd *r, void *out) {
  (void)c;
  *(int *)out = rd_i32(r);
  return true;
}

static bool read_node_section(Ctx *c) {
  Plan *p = c->p;
  Rd *r = &c->sec[S_NODE];
  if (!read_table(c, r, SQN_TAG_NODE, SQN_INPT_RECORD, sizeof *c->inputs, read_input, (void **)&c->inputs,
                  &c->ninputs) ||
      !read_table(c, r, SQN_TAG_NODE, p->version >= 3 ? SQN_NODE_RECORD : SQN_NODE_RECORD_V2, sizeof *p->nodes,
                  read_node, (void **)&p->nodes, &p->nnodes) ||
      !section_done(c, S_NODE))
    return false;
  if (c->next_input != c->ninputs) return bad(c, "%d inputs belong to no node", c->ninputs - c->next_input);
  return true;
}

/* ---- PARM ---- */

static bool check_dims(Ctx *c, PlanParam *q) {
  if (!in_range(c, q->ndim, 0, SQN_PLAN_MAX_DIMS, "ndim")) return false;
  int64_t numel = 1;
  for (int d = 0; d < q->ndim; d++) {
    if (!in_range(c, q->dims[d], 1, SQN_PLAN_MAX_DIM, "dimension")) return false;
    if (numel > SQN_PLAN_MAX_COST / q->dims[d]) return bad(c, "tensor too large"); /* before it could overflow */
    numel *= q->dims[d];
  }
  for (int d = q->ndim; d < SQN_PLAN_MAX_DIMS; d++) q->dims[d] = 0;
  if (numel != q->numel) return bad(c, "numel %lld does not match the dimensions (%lld)", (long long)q->numel, (long long)numel);
  return true;
}

static bool read_param(Ctx *c, Rd *r, void *out) {
  PlanParam *q = out;
  uint32_t name = rd_u32(r), role = rd_u32(r);
  q->ndim = rd_i32(r);
  rd_i32s(r, q->dims, SQN_PLAN_MAX_DIMS);
  q->numel = rd_i64(r);
  uint32_t trainable = rd_u32(r);
  q->node = rd_i32(r);
  if (role >= PLAN_PARAM__COUNT) return bad(c, "unknown parameter role %u", role);
  q->role = (PlanParamRole)role;
  return get_str(c, name, &q->name) && get_bool(c, trainable, &q->trainable, "trainable") && check_dims(c, q);
}

/* ---- SUPB ---- */

static bool read_loc(Ctx *c, Rd *r, PlanLoc *loc) {
  uint32_t file = rd_u32(r);
  loc->line = rd_i32(r), loc->col = rd_i32(r);
  return get_str(c, file, &loc->file);
}

static bool read_superblock(Ctx *c, Rd *r, void *out) {
  PlanSuperblock *s = out;
  int h[5];
  rd_i32s(r, h, 5);
  s->index = h[0], s->stage = h[1], s->cin = h[2], s->cout = h[3], s->stride = h[4];
  uint32_t residual = rd_u32(r);
  s->in_shape = rd_shape(r), s->out_shape = rd_shape(r);
  s->input = rd_i32(r), s->output = rd_i32(r);
  s->first_cand = rd_i32(r), s->ncand = rd_i32(r);
  bool loc_ok = read_loc(c, r, &s->loc);
  uint32_t dec = c->p->version >= 4 ? rd_u32(r) : 0, width = c->p->version >= 5 ? rd_u32(r) : 0;
  s->width_in = c->p->version >= 5 ? rd_i32(r) : -1;
  s->width_out = c->p->version >= 5 ? rd_i32(r) : -1;
  uint32_t stem = c->p->version >= 5 ? rd_u32(r) : 0, head = c->p->version >= 5 ? rd_u32(r) : 0;
  return loc_ok && get_bool(c, residual, &s->residual, "residual") && get_bool(c, dec, &s->is_decoder, "is_decoder") &&
         get_bool(c, width, &s->is_width, "is_width") && get_bool(c, stem, &s->is_stem, "is_stem") &&
         get_bool(c, head, &s->is_head, "is_head") &&
         in_range(c, s->index, c->rec, c->rec, "index") && in_range(c, s->stage, 0, SQN_PLAN_MAX_DIM, "stage") &&
         in_range(c, s->cin, 1, SQN_PLAN_MAX_DIM, "cin") && in_range(c, s->cout, 1, SQN_PLAN_MAX_DIM, "cout") &&
         in_range(c, s->stride, 1, SQN_PLAN_MAX_DIM, "stride") && shape_ok(c, s->in_shape, "in") &&
         shape_ok(c, s->out_shape, "out") && in_range(c, s->ncand, 0, INT32_MAX, "ncand");
}

static bool read_candidate(Ctx *c, Rd *r, void *out) {
  PlanCandidate *k = out;
  uint32_t name = rd_u32(r), display = rd_u32(r), block = rd_u32(r);
  k->output = rd_i32(r);
  uint32_t zero = rd_u32(r), ident = rd_u32(r);
  k->macs = rd_i64(r), k->params = rd_i64(r);
  k->width = c->p->version >= 5 ? rd_i32(r) : 0;
  k->first_cost = c->p->version >= 5 ? rd_i32(r) : -1;
  k->cost_in = c->p->version >= 5 ? rd_i32(r) : -1;
  k->cost_out = c->p->version >= 5 ? rd_i32(r) : -1;
  return in_range(c, k->width, 0, SQN_PLAN_MAX_DIM, "width") && in_range(c, k->first_cost, -1, INT32_MAX, "first_cost") &&
         get_str(c, name, &k->name) && get_str(c, display, &k->display) && get_str(c, block, &k->block) &&
         get_bool(c, zero, &k->is_zero, "is_zero") && get_bool(c, ident, &k->is_identity, "is_identity") &&
         cost_ok(c, k->macs, "macs") && cost_ok(c, k->params, "params");
}

static bool read_width_cost(Ctx *c, Rd *r, void *out) {
  PlanWidthCost *w = out;
  w->macs = rd_i64(r), w->params = rd_i64(r);
  return (w->macs == -1 || cost_ok(c, w->macs, "macs")) && (w->params == -1 || cost_ok(c, w->params, "params"));
}

/* A width choice a superblock names: -1 or an earlier or later width choice's superblock. */
static bool width_ref(Ctx *c, int ws, const char *what) {
  if (ws == -1) return true;
  if (ws < 0 || ws >= c->p->nsb || !c->p->sb[ws].is_width) return bad(c, "%s %d is not a width choice", what, ws);
  return true;
}


/* Width choices and their costs: each candidate's run of the width cost table. */
static bool link_widths(Ctx *c) {
  Plan *p = c->p;
  for (int s = 0; s < p->nsb; s++) {
    PlanSuperblock *sb = &p->sb[s];
    c->rec = s;
    if (!width_ref(c, sb->width_in, "width_in") || !width_ref(c, sb->width_out, "width_out")) return false;
    if (sb->is_width && (sb->is_decoder || sb->width_in != -1 || sb->width_out != -1 || sb->ncand < 2))
      return bad(c, "a width choice has two or more widths, is no decoder choice and is not sized by another");
    for (int k = 0; k < sb->ncand; k++) {
      PlanCandidate *cd = &sb->cand[k];
      if (sb->is_width != (cd->width > 0)) return bad(c, "candidate %d: a width where there is no width choice, or none", k);
      cd->wcost = NULL;
      if (cd->first_cost < 0) continue;
      if (sb->is_width || !width_ref(c, cd->cost_in, "cost_in") || !width_ref(c, cd->cost_out, "cost_out"))
        return sb->is_width ? bad(c, "a width choice's candidate %d has width costs", k) : false;
      int64_t pairs = (int64_t)plan_width_pairs(p, cd);
      if (pairs < 2 || cd->first_cost > p->nwcosts - pairs)
        return bad(c, "candidate %d's width costs (%lld from %d) do not fit the table of %d", k, (long long)pairs,
                   cd->first_cost, p->nwcosts);
      cd->wcost = p->wcosts + cd->first_cost;
    }
  }
  c->rec = -1;
  return true;
}

/* The rank of a superblock's kind in the order they must come in: encoder 0, width choice 1, stem 2, head 3,
   decoder 4; -1 for two kinds at once. */
static int part_rank(const PlanSuperblock *sb) {
  int kinds = sb->is_width + sb->is_stem + sb->is_head + sb->is_decoder;
  if (kinds > 1) return -1;
  return sb->is_width ? 1 : sb->is_stem ? 2 : sb->is_head ? 3 : sb->is_decoder ? 4 : 0;
}

/* Superblock s comes after the one before it in that order (stem, head and decoder once each). */
static bool part_order_ok(const Plan *p, int s) {
  int r = part_rank(&p->sb[s]), before = s > 0 ? part_rank(&p->sb[s - 1]) : 0;
  return r >= 0 && r >= before && !(r >= 2 && r == before);
}

/* Superblocks own consecutive runs of the candidate table, in order. */
static bool link_candidates(Ctx *c) {
  Plan *p = c->p;
  int next = 0;
  for (int s = 0; s < p->nsb; s++) {
    PlanSuperblock *sb = &p->sb[s];
    c->rec = s;
    if (sb->first_cand != next) return bad(c, "first candidate is %d, expected %d", sb->first_cand, next);
    if (sb->is_decoder && s != p->nsb - 1) return bad(c, "only the last superblock may choose the decoder");
    if (!part_order_ok(p, s)) return bad(c, "superblocks come in the order: the encoder's, the width choices, the "
                                            "stem's, the head's, the decoder's (each at most once)");
    if (sb->ncand > p->ncands - next) return bad(c, "%d candidates run past the candidate table", sb->ncand);
    sb->cand = p->cands + next;
    next += sb->ncand;
  }
  c->rec = -1;
  if (next != p->ncands) return bad(c, "%d candidates belong to no superblock", p->ncands - next);
  return true;
}

static bool read_supb(Ctx *c) {
  Plan *p = c->p;
  Rd *r = &c->sec[S_SUPB];
  uint32_t size = p->version >= 5 ? SQN_SUPB_RECORD : p->version >= 4 ? SQN_SUPB_RECORD_V4 : SQN_SUPB_RECORD_V3;
  uint32_t csize = p->version >= 5 ? SQN_CAND_RECORD : SQN_CAND_RECORD_V4;
  return read_table(c, r, SQN_TAG_SUPB, size, sizeof *p->sb, read_superblock, (void **)&p->sb, &p->nsb) &&
         read_table(c, r, SQN_TAG_SUPB, csize, sizeof *p->cands, read_candidate, (void **)&p->cands, &p->ncands) &&
         (p->version < 5 || read_table(c, r, SQN_TAG_SUPB, SQN_WCST_RECORD, sizeof *p->wcosts, read_width_cost,
                                       (void **)&p->wcosts, &p->nwcosts)) &&
         section_done(c, S_SUPB) && link_candidates(c) && link_widths(c);
}

/* ---- KERN, SRCH, TRAN ---- */

static bool read_kernel(Ctx *c, Rd *r, void *out) {
  PlanKernel *k = out;
  uint32_t kind = rd_u32(r);
  k->nnodes = rd_i32(r);
  rd_i32s(r, k->nodes, SQN_PLAN_KERNEL_MAX_NODES);
  k->output = rd_i32(r);
  uint32_t folds = rd_u32(r);
  k->superblock = rd_i32(r), k->candidate = rd_i32(r);
  if (kind >= PLAN_KERNEL__COUNT) return bad(c, "unknown kernel kind %u", kind);
  k->kind = (PlanKernelKind)kind;
  return get_bool(c, folds, &k->folds_bn, "folds_bn") &&
         in_range(c, k->nnodes, 1, SQN_PLAN_KERNEL_MAX_NODES, "nnodes");
}

static bool read_search(Ctx *c, Rd *r, void *out) {
  PlanSearch *s = out;
  uint32_t obj = rd_u32(r);
  s->alpha = rd_f64(r), s->temp_start = rd_f64(r), s->temp_end = rd_f64(r), s->prune_below = rd_f64(r);
  s->samples = rd_i32(r), s->warmup_epochs = rd_i32(r);
  s->arch_lr = rd_f64(r);
  s->epochs = rd_i32(r);
  s->target_fraction = -1, s->skip_limit = 1, s->budget_lr = 0.05;
  uint32_t relative = 0;
  if (c->p->version >= 4) { /* the record size was checked: version 4 records hold these */
    relative = rd_u32(r);
    s->target = rd_f64(r), s->target_fraction = rd_f64(r), s->budget_lr = rd_f64(r);
    s->skip_limit = rd_f64(r), s->arch_lr_end = rd_f64(r);
  }
  if (obj >= PLAN_OBJ__COUNT) return bad(c, "unknown objective %u", obj);
  s->objective = (PlanObjective)obj;
  return get_bool(c, relative, &s->costs_relative, "costs_relative") && between(c, s->target, 0, 1e9, "target") &&
         between(c, s->target_fraction, -1, 1, "target_fraction") && between(c, s->budget_lr, 0, 1000, "budget_lr") &&
         between(c, s->skip_limit, 0, 1, "skip_limit") && between(c, s->arch_lr_end, 0, 10, "arch_lr_end") &&
         finite_ok(c, s->alpha, "alpha") && finite_ok(c, s->temp_start, "temp_start") &&
         finite_ok(c, s->temp_end, "temp_end") && finite_ok(c, s->prune_below, "prune_below") &&
         finite_ok(c, s->arch_lr, "arch_lr") && in_range(c, s->samples, 0, INT32_MAX, "samples") &&
         in_range(c, s->warmup_epochs, 0, INT32_MAX, "warmup_epochs") && in_range(c, s->epochs, 0, INT32_MAX, "epochs");
}

static bool read_train(Ctx *c, Rd *r, void *out) {
  PlanTrain *t = out;
  t->lr = rd_f64(r), t->momentum = rd_f64(r), t->weight_decay = rd_f64(r);
  uint32_t sched = rd_u32(r);
  for (int i = 0; i < SQN_PLAN_MAX_MILESTONES; i++) t->milestones[i] = rd_f64(r);
  t->nmilestones = rd_i32(r);
  t->gamma = rd_f64(r), t->poly_power = rd_f64(r);
  t->epochs = rd_i32(r), t->batch = rd_i32(r), t->crop_h = rd_i32(r), t->crop_w = rd_i32(r);
  if (sched >= PLAN_SCHED__COUNT) return bad(c, "unknown LR schedule %u", sched);
  t->schedule = (PlanLrSchedule)sched;
  bool ok = finite_ok(c, t->lr, "lr") && finite_ok(c, t->momentum, "momentum") &&
            finite_ok(c, t->weight_decay, "weight_decay") && finite_ok(c, t->gamma, "gamma") &&
            finite_ok(c, t->poly_power, "poly_power") &&
            in_range(c, t->nmilestones, 0, SQN_PLAN_MAX_MILESTONES, "nmilestones");
  for (int i = 0; ok && i < SQN_PLAN_MAX_MILESTONES; i++) ok = finite_ok(c, t->milestones[i], "milestone");
  const int ints[4] = {t->epochs, t->batch, t->crop_h, t->crop_w};
  for (int i = 0; ok && i < 4; i++) ok = in_range(c, ints[i], 0, INT32_MAX, "epochs/batch/crop");
  return ok;
}

/* ---- GRAD: the training program ---- */

static bool read_train_node(Ctx *c, Rd *r, void *out) {
  PlanTrainNode *t = out;
  t->train_slot = rd_i32(r), t->grad_slot = rd_i32(r);
  uint32_t saved = rd_u32(r);
  t->recompute_slot = rd_i32(r);
  int most = 3 * c->p->nnodes;
  return get_bool(c, saved, &t->saved, "saved") && in_range(c, t->train_slot, 0, most - 1, "training slot") &&
         in_range(c, t->grad_slot, -1, most - 1, "gradient slot") &&
         in_range(c, t->recompute_slot, -1, most - 1, "recompute slot");
}

static bool read_step(Ctx *c, Rd *r, void *out) {
  PlanGradStep *s = out;
  s->node = rd_i32(r), s->need_dx = rd_u32(r), s->acc_dx = rd_u32(r);
  uint32_t kind = rd_u32(r);
  if (kind >= PLAN_STEP__COUNT) return bad(c, "unknown step kind %u", kind);
  s->kind = (PlanStepKind)kind;
  if (!in_range(c, s->node, 0, c->p->nnodes - 1, "node")) return false;
  const PlanNode *n = &c->p->nodes[s->node];
  if (s->kind == PLAN_STEP_RECOMPUTE) {
    bool relu = (n->kind == OP_RELU || n->kind == OP_RELU6) && c->p->nodes[n->inputs[0]].kind == OP_BN;
    bool conv = n->kind == OP_CONV && n->ninputs == 1;
    if (!(relu || conv) || s->need_dx || s->acc_dx)
      return bad(c, "a recompute step must name a conv or a ReLU/ReLU6 of a BN, and no inputs (node %d)", s->node);
    return true;
  }
  uint32_t inputs = n->ninputs >= 32 ? 0xFFFFFFFFu : (1u << n->ninputs) - 1;
  if (s->need_dx & ~inputs) return bad(c, "need_dx 0x%x names inputs node %d does not have", s->need_dx, s->node);
  if (s->acc_dx & ~s->need_dx) return bad(c, "acc_dx 0x%x is not within need_dx 0x%x", s->acc_dx, s->need_dx);
  return true;
}

static bool read_update(Ctx *c, Rd *r, void *out) {
  PlanUpdate *u = out;
  u->param = rd_i32(r);
  if (!in_range(c, u->param, 0, c->p->nparams - 1, "parameter")) return false;
  if (!c->p->params[u->param].trainable) return bad(c, "parameter %d is not trainable", u->param);
  return true;
}

/* Steps run in reverse node order and only for nodes with a gradient buffer. */
static bool check_grad(Ctx *c) {
  PlanGrad *g = &c->p->grad;
  c->where = SQN_TAG_GRAD, c->rec = -1;
  if (g->nnode != c->p->nnodes) return bad(c, "%d training node records for %d nodes", g->nnode, c->p->nnodes);
  for (int i = 0; i < g->nnode; i++) {
    if (g->node[i].train_slot >= g->nslots) g->nslots = g->node[i].train_slot + 1;
    if (g->node[i].grad_slot >= g->nslots) g->nslots = g->node[i].grad_slot + 1;
    if (g->node[i].recompute_slot >= g->nslots) g->nslots = g->node[i].recompute_slot + 1;
  }
  int last = c->p->nnodes;
  for (c->rec = 0; c->rec < g->nsteps; c->rec++) {
    const PlanGradStep *s = &g->steps[c->rec];
    if (s->kind == PLAN_STEP_RECOMPUTE) {
      if (g->node[s->node].recompute_slot < 0) return bad(c, "node %d is recomputed but has no recompute slot", s->node);
      continue;
    }
    if (s->node >= last) return bad(c, "backward steps are not in reverse node order");
    last = s->node;
    if (g->node[s->node].grad_slot < 0) return bad(c, "node %d has a backward step but no gradient", s->node);
    const PlanNode *n = &c->p->nodes[s->node];
    for (int k = 0; k < n->ninputs && k < 32; k++)
      if ((s->need_dx >> k) & 1 && g->node[n->inputs[k]].grad_slot < 0)
        return bad(c, "input %d (node %d) receives a gradient but has no gradient slot", k, n->inputs[k]);
  }
  c->rec = -1;
  return true;
}

static bool read_grad(Ctx *c) {
  Plan *p = c->p;
  Rd *r = &c->sec[S_GRAD];
  return read_table(c, r, SQN_TAG_GRAD, SQN_TNOD_RECORD, sizeof *p->grad.node, read_train_node,
                    (void **)&p->grad.node, &p->grad.nnode) &&
         read_table(c, r, SQN_TAG_GRAD, SQN_STEP_RECORD, sizeof *p->grad.steps, read_step, (void **)&p->grad.steps,
                    &p->grad.nsteps) &&
         read_table(c, r, SQN_TAG_GRAD, SQN_UPDT_RECORD, sizeof *p->grad.update, read_update,
                    (void **)&p->grad.update, &p->grad.nupdate) &&
         section_done(c, S_GRAD) && check_grad(c);
}

/* ---- cross references (all tables are read) ---- */

static bool node_has_param(const PlanNode *n, int q) {
  for (int k = 0; k < n->nparams; k++)
    if (n->param[k] == q) return true;
  return false;
}

static bool kernel_has_node(const PlanKernel *k, int id) {
  for (int j = 0; j < k->nnodes; j++)
    if (k->nodes[j] == id) return true;
  return false;
}

/* A mix node belongs to a superblock and mixes exactly its candidates' outputs, in order. */
static bool check_mix(Ctx *c, const PlanNode *n) {
  if (n->kind == OP_WIDTH && (n->superblock < 0 || n->candidate != -1 || !c->p->sb[n->superblock].is_width))
    return bad(c, "width node outside a width choice");
  if (n->kind != OP_MIX) return true;
  if (n->superblock < 0 || n->candidate != -1) return bad(c, "mix node outside a superblock");
  const PlanSuperblock *sb = &c->p->sb[n->superblock];
  if (sb->is_width) return bad(c, "mix node in width choice %d", sb->index);
  if (n->ninputs != sb->ncand)
    return bad(c, "mix node has %d inputs, superblock %d has %d candidates", n->ninputs, sb->index, sb->ncand);
  for (int k = 0; k < sb->ncand; k++)
    if (n->inputs[k] != sb->cand[k].output)
      return bad(c, "mix input %d is node %d, candidate %d's output is node %d", k, n->inputs[k], k, sb->cand[k].output);
  return true;
}

static bool check_node_links(Ctx *c, PlanNode *n) {
  const Plan *p = c->p;
  for (int k = 0; k < SQN_PLAN_NODE_PARAMS; k++) {
    if (k >= n->nparams) {
      n->param[k] = -1;
      continue;
    }
    int q = n->param[k];
    if (q < 0 || q >= p->nparams || p->params[q].node != n->id)
      return bad(c, "parameter slot %d refers to parameter %d, which is not this node's", k, q);
  }
  if (!sb_cand_ref(c, n->superblock, n->candidate) || !check_mix(c, n)) return false;
  if (n->kernel == -1) return true;
  if (n->kernel < 0 || n->kernel >= p->nkernels || !kernel_has_node(&p->kernels[n->kernel], n->id))
    return bad(c, "kernel %d does not list this node", n->kernel);
  return true;
}

static bool check_kernel_links(Ctx *c, PlanKernel *k) {
  const Plan *p = c->p;
  for (int j = 0; j < k->nnodes; j++)
    if (!node_ref(c, k->nodes[j], false, "member") || p->nodes[k->nodes[j]].kernel != c->rec)
      return bad(c, "member node %d does not belong to this kernel", k->nodes[j]);
  for (int j = k->nnodes; j < SQN_PLAN_KERNEL_MAX_NODES; j++) k->nodes[j] = -1;
  if (!kernel_has_node(k, k->output)) return bad(c, "output node %d is not a member", k->output);
  return sb_cand_ref(c, k->superblock, k->candidate);
}

static bool check_param_links(Ctx *c, int q) {
  const PlanParam *pp = &c->p->params[q];
  if (!node_ref(c, pp->node, false, "node")) return false;
  if (!node_has_param(&c->p->nodes[pp->node], q)) return bad(c, "node %d does not list this parameter", pp->node);
  return true;
}

static bool check_sb_links(Ctx *c, const PlanSuperblock *s) {
  if (!node_ref(c, s->input, false, "input") || !node_ref(c, s->output, false, "output")) return false;
  for (int k = 0; k < s->ncand; k++)
    if (!node_ref(c, s->cand[k].output, true, "candidate output")) return false;
  return true;
}

/* A space's superblocks each have one node holding their theta (a mix, or a width choice's first width node),
   an architecture parameter with one entry per candidate. */
static bool check_thetas(Ctx *c) {
  const Plan *p = c->p;
  if (!p->is_space) return true;
  int *owner = malloc(sizeof(int) * ((size_t)p->nsb + 1));
  if (!owner) return fail(c, "out of memory");
  for (int s = 0; s < p->nsb; s++) owner[s] = -1;
  bool ok = true;
  for (int i = 0; ok && i < p->nnodes; i++) {
    const PlanNode *n = &p->nodes[i];
    if ((n->kind != OP_MIX && n->kind != OP_WIDTH) || n->nparams == 0) continue;
    const PlanParam *q = &p->params[n->param[0]];
    c->rec = i;
    if (n->nparams != 1 || q->role != PLAN_PARAM_ARCH || q->numel != p->sb[n->superblock].ncand)
      ok = bad(c, "a %s node's parameter must be its superblock's theta (%d entries)", op_name(n->kind),
               p->sb[n->superblock].ncand);
    else if (owner[n->superblock] >= 0)
      ok = bad(c, "superblock %d has a second theta", n->superblock);
    owner[n->superblock] = i;
  }
  for (int s = 0; ok && s < p->nsb; s++)
    if (owner[s] < 0) c->rec = s, c->where = SQN_TAG_SUPB, ok = bad(c, "superblock %d of a space has no theta", s);
  free(owner);
  return ok;
}

/* Every parameter's numel adds up without overflow. */
static bool sum_params(Ctx *c) {
  Plan *p = c->p;
  for (int q = 0; q < p->nparams; q++) {
    p->param_numel += p->params[q].numel;
    if (p->params[q].trainable) p->param_numel_trainable += p->params[q].numel;
    if (p->param_numel > SQN_PLAN_MAX_COST) return fail(c, "corrupt: PARM: parameter counts add up to too much");
  }
  return true;
}

static bool check_links(Ctx *c) {
  Plan *p = c->p;
  bool ok = check_meta_refs(c);
  c->where = SQN_TAG_NODE;
  for (c->rec = 0; ok && c->rec < p->nnodes; c->rec++) ok = check_node_links(c, &p->nodes[c->rec]);
  c->where = SQN_TAG_KERN;
  for (c->rec = 0; ok && c->rec < p->nkernels; c->rec++) ok = check_kernel_links(c, &p->kernels[c->rec]);
  c->where = SQN_TAG_PARM;
  for (c->rec = 0; ok && c->rec < p->nparams; c->rec++) ok = check_param_links(c, c->rec);
  c->where = SQN_TAG_SUPB;
  for (c->rec = 0; ok && c->rec < p->nsb; c->rec++) ok = check_sb_links(c, &p->sb[c->rec]);
  c->where = SQN_TAG_NODE;
  ok = ok && check_thetas(c);
  c->rec = -1;
  return ok && sum_params(c);
}

/* ---- KPTX (optional) ---- */

static bool read_ptx(Ctx *c, Rd *r, void *out) {
  PlanPtx *x = out;
  if (!get_str(c, rd_u32(r), &x->target) || !get_str(c, rd_u32(r), &x->ptx_cpu) || !get_str(c, rd_u32(r), &x->text))
    return false;
  if (!x->target || !x->ptx_cpu || !x->text) return bad(c, "a GPU module without a target or text");
  if (strncmp(x->target, "sm_", 3) || strncmp(x->ptx_cpu, "sm_", 3)) return bad(c, "target '%s' is not sm_XY", x->target);
  x->len = strlen(x->text);
  return true;
}

static bool read_kptx(Ctx *c) {
  if (!c->found[S_KPTX]) return true;
  Plan *p = c->p;
  if (!read_table(c, &c->sec[S_KPTX], SQN_TAG_KPTX, SQN_KPTX_RECORD, sizeof *p->ptx, read_ptx, (void **)&p->ptx,
                  &p->nptx) || !section_done(c, S_KPTX))
    return false;
  for (int i = 0; i < p->nptx; i++)
    for (int j = 0; j < i; j++)
      if (!strcmp(p->ptx[i].target, p->ptx[j].target))
        return c->rec = i, bad(c, "target %s appears twice", p->ptx[i].target);
  return true;
}

/* ---- entry points ---- */

static bool read_all(Ctx *c) {
  Plan *p = c->p;
  return check_header(c) && read_section_table(c) && read_strings(c) && read_meta_section(c) &&
         read_node_section(c) &&
         read_table(c, &c->sec[S_PARM], SQN_TAG_PARM, SQN_PARM_RECORD, sizeof *p->params, read_param,
                    (void **)&p->params, &p->nparams) && section_done(c, S_PARM) && read_supb(c) &&
         read_table(c, &c->sec[S_KERN], SQN_TAG_KERN, SQN_KERN_RECORD, sizeof *p->kernels, read_kernel,
                    (void **)&p->kernels, &p->nkernels) && section_done(c, S_KERN) &&
         read_single(c, S_SRCH, p->version >= 4 ? SQN_SRCH_RECORD : SQN_SRCH_RECORD_V3, sizeof p->search, read_search, &p->search) &&
         read_single(c, S_TRAN, SQN_TRAN_RECORD, sizeof p->train, read_train, &p->train) && check_links(c) &&
         read_grad(c) && read_kptx(c);
}

Plan *plan_read_mem(const unsigned char *buf, size_t len, char *err, size_t errlen) {
  Ctx c = {.buf = buf, .len = len, .err = err, .errlen = errlen, .rec = -1};
  if (err && errlen) err[0] = 0;
  c.p = calloc(1, sizeof *c.p);
  if (!c.p) return fail(&c, "out of memory"), NULL;
  if (!buf && len) len = c.len = 0;
  bool ok = read_all(&c);
  free(c.inputs);
  if (ok) return c.p;
  plan_free(c.p);
  return NULL;
}

static unsigned char *slurp(FILE *f, size_t *len, char *err, size_t errlen) {
  struct stat st;
  Ctx c = {.err = err, .errlen = errlen};
  if (fstat(fileno(f), &st) != 0) return fail(&c, "cannot read: %s", strerror(errno)), NULL;
  if (!S_ISREG(st.st_mode)) return fail(&c, "not a regular file"), NULL;
  if (st.st_size == 0) return fail(&c, "empty file"), NULL;
  if ((unsigned long long)st.st_size > SQN_PLAN_MAX_FILE_SIZE)
    return fail(&c, "too large to be a plan (%lld bytes)", (long long)st.st_size), NULL;
  unsigned char *buf = malloc((size_t)st.st_size);
  if (!buf) return fail(&c, "out of memory"), NULL;
  *len = fread(buf, 1, (size_t)st.st_size, f);
  if (ferror(f)) {
    free(buf);
    return fail(&c, "cannot read: %s", strerror(errno)), NULL;
  }
  return buf;
}

Plan *plan_read_file(const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    Ctx c = {.err = err, .errlen = errlen};
    return fail(&c, "cannot open: %s", strerror(errno)), NULL;
  }
  size_t len = 0;
  unsigned char *buf = slurp(f, &len, err, errlen);
  fclose(f);
  if (!buf) return NULL;
  Plan *p = plan_read_mem(buf, len, err, errlen);
  free(buf);
  return p;
}

void plan_free(Plan *p) {
  if (!p) return;
  free(p->nodes);
  free(p->params);
  free(p->sb);
  free(p->cands);
  free(p->wcosts);
  free(p->kernels);
  free(p->grad.node);
  free(p->grad.steps);
  free(p->grad.update);
  free(p->ptx);
  free(p->strings);
  free(p->strpool);
  free(p);
}
