/* pth_read.c - PyTorch state_dict files (pth.h) to a TensorSet.
   Steps: unpickle the state_dict with the strict unpickler (pickle.c); check every entry is
   _rebuild_tensor_v2(storage, offset, size, stride, ...) on a ('storage', type, key, location,
   numel[, view]) persistent id and that size/stride/offset stay inside the storage; load each
   storage's bytes (zip: <archive>/data/<key>; legacy: the key list and raw storages after the
   pickles); copy every tensor into contiguous memory. Allocations are bounded by the file size. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>
#include "pickle.h"
#include "pth.h"
#include "le.h"

#define LEGACY_PROTOCOL_VERSION 1001
/* 0x1950a86a20f9469cfc6c, torch.serialization.MAGIC_NUMBER, as LONG1 stores it */
static const unsigned char legacy_magic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

typedef struct Storage {
  const char *key;           /* points into the state_dict pickle */
  DType dt;
  int64_t numel;             /* from the persistent id */
  const unsigned char *data; /* numel * dtype_size bytes once loaded */
  unsigned char *owned;      /* zip: the record read from the archive */
} Storage;

typedef struct Spec { /* one state_dict entry */
  const char *name;
  int storage;
  int64_t base, avail; /* the tensor's storage is elements [base, base + avail) of the root */
  int64_t offset;
  int ndim;
  int64_t size[TENSOR_MAX_DIMS], stride[TENSOR_MAX_DIMS];
} Spec;

typedef struct Ctx {
  char *err;
  size_t errlen;
  bool legacy;
  uint64_t out_bytes, out_cap; /* bytes of all output tensors, and their limit */
  Storage *st;
  int nst;
  int *slot;                   /* hash of storage keys: index + 1, 0 = empty */
  size_t slotcap;
  Spec *spec;
  int nspec;
  const char *where;           /* state_dict entry being read, for messages */
  zip_t *za;
  char prefix[256];            /* zip: "<archive>/" */
} Ctx;

/* fail(...) is always false; the macro lets the compiler see that through the variadic call. */
static void report(Ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define fail(...) (report(__VA_ARGS__), false)
static void report(Ctx *c, const char *fmt, ...) {
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (!c->err || !c->errlen) return;
  if (c->where) snprintf(c->err, c->errlen, "state_dict entry '%.100s': %s", c->where, msg);
  else snprintf(c->err, c->errlen, "%s", msg);
}

/* ---- storages ---- */

static size_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return (size_t)h;
}

static size_t storage_slot(const Ctx *c, const char *key) {
  size_t i = hash_str(key) & (c->slotcap - 1);
  while (c->slot[i] && strcmp(c->st[c->slot[i] - 1].key, key)) i = (i + 1) & (c->slotcap - 1);
  return i;
}

static int find_storage(const Ctx *c, const char *key) { return c->slot[storage_slot(c, key)] - 1; }

/* The index of storage `key`, added on first use; the same key must keep its dtype and size. */
static int use_storage(Ctx *c, const char *key, DType dt, int64_t numel) {
  size_t i = storage_slot(c, key);
  if (c->slot[i]) {
    Storage *s = &c->st[c->slot[i] - 1];
    if (s->dt != dt) return report(c, "storage '%.60s' is used as both %s and %s", key, dtype_name(s->dt), dtype_name(dt)), -1;
    if (s->numel != numel)
      return report(c, "storage '%.60s' has two sizes: %lld and %lld", key, (long long)s->numel, (long long)numel), -1;
    return c->slot[i] - 1;
  }
  c->st[c->nst] = (Storage){.key = key, .dt = dt, .numel = numel};
  c->slot[i] = ++c->nst;
  return c->nst - 1;
}

static bool storage_dtype(const PVal *v, DType *dt) {
  static const DType map[] = {DT_F32, DT_F64, DT_F16, DT_BF16, DT_I64, DT_I32, DT_I16, DT_I8, DT_U8, DT_BOOL};
  if (v->type != PV_GLOBAL || v->i < PG_FLOAT_STORAGE || v->i > PG_BOOL_STORAGE) return false;
  *dt = map[v->i - PG_FLOAT_STORAGE];
  return true;
}

/* ---- values ---- */

static bool get_int(Ctx *c, const PVal *v, const char *what, int64_t *out) {
  if (v->type != PV_INT) return fail(c, "%s is a %s, not an int", what, pval_type_name(v));
  if (v->i < 0) return fail(c, "%s is negative (%lld)", what, (long long)v->i);
  *out = v->i;
  return true;
}

static bool get_str(Ctx *c, const PVal *v, const char *what, const char **out) {
  if (v->type != PV_STR) return fail(c, "%s is a %s, not a string", what, pval_type_name(v));
  if (strlen(v->s) != v->slen) return fail(c, "%s contains a NUL byte", what);
  *out = v->s;
  return true;
}

/* A storage key: printable ASCII without '/', at most 64 bytes (torch uses decimal numbers). */
static bool get_key(Ctx *c, const PVal *v, const char **out) {
  if (!get_str(c, v, "storage key", out)) return false;
  size_t n = strlen(*out);
  bool ok = n > 0 && n <= 64;
  for (size_t i = 0; ok && i < n; i++) ok = (*out)[i] > 0x20 && (*out)[i] < 0x7f && (*out)[i] != '/';
  return ok ? true : fail(c, "bad storage key '%.64s'", *out);
}

static bool get_dims(Ctx *c, const PVal *v, const char *what, int64_t *out, int *ndim) {
  if (v->type != PV_TUPLE) return fail(c, "%s is a %s, not a tuple", what, pval_type_name(v));
  if (v->n > TENSOR_MAX_DIMS) return fail(c, "%s has %zu dimensions (at most %d supported)", what, v->n, TENSOR_MAX_DIMS);
  for (size_t i = 0; i < v->n; i++)
    if (!get_int(c, v->items[i], what, &out[i])) return false;
  *ndim = (int)v->n;
  return true;
}

/* Legacy view_metadata: None, or (view_key, offset, size) inside the root storage. */
static bool parse_view(Ctx *c, const PVal *v, Spec *sp) {
  const char *vkey;
  int64_t off, n;
  if (v->type == PV_NONE) return true;
  if (v->type != PV_TUPLE || v->n != 3) return fail(c, "storage view is a %s, not None or a 3-tuple", pval_type_name(v));
  if (!get_str(c, v->items[0], "view key", &vkey) || !get_int(c, v->items[1], "view offset", &off) ||
      !get_int(c, v->items[2], "view size", &n))
    return false;
  if (off > sp->avail || n > sp->avail - off)
    return fail(c, "storage view [%lld, +%lld) is outside its storage of %lld elements", (long long)off,
                (long long)n, (long long)sp->avail);
  sp->base = off;
  sp->avail = n;
  return true;
}

/* ('storage', torch.<T>Storage, key, location, numel) (zip) or (..., numel, view) (legacy). */
static bool parse_pid(Ctx *c, const PVal *pv, Spec *sp) {
  if (pv->type != PV_PERSID) return fail(c, "storage is a %s, not a persistent id", pval_type_name(pv));
  const PVal *id = pv->items[0];
  const char *kind, *key, *loc;
  DType dt;
  int64_t numel;
  size_t want = c->legacy ? 6 : 5;
  if (id->type != PV_TUPLE || id->n == 0) return fail(c, "persistent id is a %s, not a tuple", pval_type_name(id));
  if (!get_str(c, id->items[0], "persistent id tag", &kind)) return false;
  if (strcmp(kind, "storage")) return fail(c, "unsupported persistent id '%.40s'", kind);
  if (id->n != want) return fail(c, "persistent id has %zu fields, expected %zu", id->n, want);
  if (!storage_dtype(id->items[1], &dt))
    return fail(c, "storage type is %s, not a torch.<T>Storage", pval_type_name(id->items[1]));
  if (!get_key(c, id->items[2], &key) || !get_str(c, id->items[3], "storage location", &loc) ||
      !get_int(c, id->items[4], "storage size", &numel))
    return false;
  if ((sp->storage = use_storage(c, key, dt, numel)) < 0) return false;
  sp->base = 0;
  sp->avail = numel;
  return !c->legacy || parse_view(c, id->items[5], sp);
}

/* Offset, size and stride must address elements inside the storage; adds to the output size. */
static bool check_bounds(Ctx *c, Spec *sp) {
  size_t nbytes;
  DType dt = c->st[sp->storage].dt;
  if (!tensor_nbytes(dt, sp->ndim, sp->size, &nbytes)) return fail(c, "tensor size overflows");
  if (nbytes > c->out_cap - c->out_bytes)
    return fail(c, "tensors would need more than %llu bytes (16x the file size + 16 MiB): refusing",
                (unsigned long long)c->out_cap);
  c->out_bytes += nbytes;
  int64_t last = sp->offset, step;
  for (int d = 0; d < sp->ndim; d++) {
    if (sp->size[d] == 0) return true; /* no elements: nothing to read */
    if (__builtin_mul_overflow(sp->size[d] - 1, sp->stride[d], &step) || __builtin_add_overflow(last, step, &last))
      return fail(c, "size/stride overflow");
  }
  if (last >= sp->avail)
    return fail(c, "size/stride/offset reach storage element %lld, but the storage has %lld elements",
                (long long)last, (long long)sp->avail);
  return true;
}

/* _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata]),
   _rebuild_tensor(storage, offset, size, stride), or _rebuild_parameter(one of those, ...). */
static bool parse_tensor(Ctx *c, const PVal *v, Spec *sp) {
  if (v->type == PV_CALL && v->i == PG_REBUILD_PARAMETER) {
    if (v->items[0]->n != 3) return fail(c, "_rebuild_parameter takes 3 arguments, got %zu", v->items[0]->n);
    v = v->items[0]->items[0];
    if (v->type == PV_CALL && v->i == PG_REBUILD_PARAMETER) return fail(c, "nested _rebuild_parameter");
  }
  if (v->type != PV_CALL) return fail(c, "value is a %s, not a tensor", pval_type_name(v));
  const PVal *a = v->items[0];
  bool v2 = v->i == PG_REBUILD_TENSOR_V2;
  if (v2 ? (a->n < 6 || a->n > 7) : a->n != 4)
    return fail(c, "%s called with %zu arguments", pickle_global_name((PGlobal)v->i), a->n);
  int nstride;
  if (!parse_pid(c, a->items[0], sp) || !get_int(c, a->items[1], "storage offset", &sp->offset) ||
      !get_dims(c, a->items[2], "size", sp->size, &sp->ndim) || !get_dims(c, a->items[3], "stride", sp->stride, &nstride))
    return false;
  if (nstride != sp->ndim) return fail(c, "size has %d dimensions but stride has %d", sp->ndim, nstride);
  if (v2 && a->items[4]->type != PV_BOOL) return fail(c, "requires_grad is a %s, not a bool", pval_type_name(a->items[4]));
  if (v2 && a->items[5]->type != PV_DICT) return fail(c, "backward_hooks is a %s, not a dict", pval_type_name(a->items[5]));
  if (v2 && a->n == 7 && a->items[6]->type != PV_NONE && a->items[6]->type != PV_DICT)
    return fail(c, "tensor metadata is a %s, not a dict", pval_type_name(a->items[6]));
  return check_bounds(c, sp);
}

/* The state_dict: a dict whose keys are strings and values tensors. */
static bool walk(Ctx *c, const PVal *root) {
  if (root->type != PV_DICT) return fail(c, "the pickle holds a %s, not a state_dict (dict of tensors)", pval_type_name(root));
  size_t n = root->n / 2;
  if (n > (1u << 28)) return fail(c, "too many state_dict entries (%zu)", n);
  c->slotcap = 16;
  while (c->slotcap < 2 * n + 2) c->slotcap *= 2;
  c->spec = calloc(n ? n : 1, sizeof *c->spec);
  c->st = calloc(n ? n : 1, sizeof *c->st);
  c->slot = calloc(c->slotcap, sizeof *c->slot);
  if (!c->spec || !c->st || !c->slot) return fail(c, "out of memory");
  for (size_t i = 0; i < n; i++) {
    const PVal *k = root->items[2 * i];
    if (k->type != PV_STR) return fail(c, "state_dict key %zu is a %s, not a string", i, pval_type_name(k));
    if (strlen(k->s) != k->slen) return fail(c, "state_dict key %zu contains a NUL byte", i);
    c->where = k->s;
    c->spec[i].name = k->s;
    if (!parse_tensor(c, root->items[2 * i + 1], &c->spec[i])) return false;
    c->where = NULL;
    c->nspec++;
  }
  return true;
}

/* ---- tensors ---- */

static bool is_contiguous(const Spec *sp) {
  int64_t want = 1;
  for (int d = sp->ndim - 1; d >= 0; d--) {
    if (sp->size[d] != 1 && sp->stride[d] != want) return false;
    want *= sp->size[d];
  }
  return true;
}

static void copy_strided(const Spec *sp, const unsigned char *src, unsigned char *dst, size_t es, int64_t numel) {
  int64_t idx[TENSOR_MAX_DIMS] = {0}, off = 0;
  for (int64_t k = 0; k < numel; k++) {
    memcpy(dst + (size_t)k * es, src + (size_t)off * es, es);
    for (int d = sp->ndim - 1; d >= 0; d--) { /* next index, C order */
      off += sp->stride[d];
      if (++idx[d] < sp->size[d]) break;
      off -= sp->size[d] * sp->stride[d];
      idx[d] = 0;
    }
  }
}

static TensorSet *build(Ctx *c) {
  TensorSet *s = tensor_set_new();
  if (!s) return report(c, "out of memory"), NULL;
  for (int i = 0; i < c->nspec; i++) {
    const Spec *sp = &c->spec[i];
    const Storage *st = &c->st[sp->storage];
    if (tensor_set_find(s, sp->name)) return report(c, "duplicate tensor name '%.100s'", sp->name), tensor_set_free(s), NULL;
    NamedTensor *t = tensor_set_add(s, sp->name, st->dt, sp->ndim, sp->size, NULL);
    if (!t) return report(c, "out of memory"), tensor_set_free(s), NULL;
    if (t->nbytes == 0) continue; /* (its offset was not bounds-checked) */
    size_t es = dtype_size(st->dt);
    const unsigned char *src = st->data + (size_t)(sp->base + sp->offset) * es;
    if (is_contiguous(sp)) memcpy(t->data, src, t->nbytes);
    else copy_strided(sp, src, t->data, es, tensor_numel(t));
  }
  return s;
}

/* ---- legacy format ---- */

static Pickle *next_pickle(Ctx *c, const unsigned char *buf, size_t len, size_t *pos, const char *what) {
  char perr[300];
  size_t used = 0;
  Pickle *p = pickle_load(buf + *pos, len - *pos, &used, perr, sizeof perr);
  if (!p) return report(c, "%s (at byte %zu): %s", what, *pos, perr), NULL;
  *pos += used;
  return p;
}

static bool check_header(Ctx *c, const Pickle *magic, const Pickle *ver, const Pickle *sys) {
  const PVal *m = pickle_root(magic), *v = pickle_root(ver), *s = pickle_root(sys);
  if (m->type != PV_BIGINT || m->slen != sizeof legacy_magic || memcmp(m->s, legacy_magic, sizeof legacy_magic))
    return fail(c, "not a PyTorch file: bad magic number");
  if (v->type != PV_INT || v->i != LEGACY_PROTOCOL_VERSION)
    return fail(c, "unsupported legacy protocol version (expected %d)", LEGACY_PROTOCOL_VERSION);
  if (s->type != PV_DICT) return fail(c, "sys_info is a %s, not a dict", pval_type_name(s));
  for (size_t i = 0; i + 1 < s->n; i += 2) {
    const PVal *k = s->items[i], *val = s->items[i + 1];
    if (k->type != PV_STR || strcmp(k->s, "little_endian")) continue;
    if (val->type != PV_BOOL) return fail(c, "sys_info little_endian is a %s", pval_type_name(val));
    return val->i ? true : fail(c, "the file was saved on a big-endian machine: not supported");
  }
  return fail(c, "sys_info has no little_endian entry");
}

/* One storage of the key list: 8-byte little-endian element count, then the bytes. */
static bool legacy_storage(Ctx *c, const PVal *keyv, const unsigned char *buf, size_t len, size_t *pos) {
  const char *key;
  if (!get_str(c, keyv, "storage key list item", &key)) return false;
  int k = find_storage(c, key);
  if (k < 0) return fail(c, "storage '%.64s' is in the key list but no tensor uses it", key);
  Storage *st = &c->st[k];
  if (st->data) return fail(c, "storage '%.64s' is listed twice", key);
  if (len - *pos < 8) return fail(c, "truncated: storage '%.64s' has no size field", key);
  uint64_t n = le_get64(buf + *pos);
  *pos += 8;
  if (n != (uint64_t)st->numel)
    return fail(c, "storage '%.64s' has %llu elements in the file, the pickle says %lld", key, (unsigned long long)n,
                (long long)st->numel);
  uint64_t bytes;
  if (__builtin_mul_overflow(n, (uint64_t)dtype_size(st->dt), &bytes) || bytes > len - *pos)
    return fail(c, "truncated: storage '%.64s' needs %llu bytes, only %zu left", key,
                (unsigned long long)(n * dtype_size(st->dt)), len - *pos);
  st->data = buf + *pos;
  *pos += (size_t)bytes;
  return true;
}

static bool legacy_data(Ctx *c, const Pickle *keys, const unsigned char *buf, size_t len, size_t pos) {
  const PVal *l = pickle_root(keys);
  if (l->type != PV_LIST) return fail(c, "storage key list is a %s, not a list", pval_type_name(l));
  for (size_t i = 0; i < l->n; i++)
    if (!legacy_storage(c, l->items[i], buf, len, &pos)) return false;
  for (int i = 0; i < c->nst; i++)
    if (!c->st[i].data) return fail(c, "storage '%.64s' has no data (missing from the key list)", c->st[i].key);
  if (pos != len) return fail(c, "%zu unexpected bytes after the last storage", len - pos);
  return true;
}

static TensorSet *read_legacy(Ctx *c, const unsigned char *buf, size_t len) {
  size_t pos = 0;
  Pickle *p[5] = {0};
  static const char *what[5] = {"magic number pickle", "protocol version pickle", "sys_info pickle",
                                "state_dict pickle", "storage key list pickle"};
  TensorSet *s = NULL;
  bool ok = true;
  for (int i = 0; i < 5 && ok; i++) {
    ok = (p[i] = next_pickle(c, buf, len, &pos, what[i])) != NULL;
    if (ok && i == 2) ok = check_header(c, p[0], p[1], p[2]);
    if (ok && i == 3) ok = walk(c, pickle_root(p[3]));
  }
  if (ok && legacy_data(c, p[4], buf, len, pos)) s = build(c);
  for (int i = 0; i < 5; i++) pickle_free(p[i]);
  return s;
}

/* ---- zip format ---- */

static bool zip_fail(Ctx *c, const char *what, const char *name) {
  return fail(c, "zip: %s '%.200s': %s", what, name, zip_strerror(c->za));
}

/* Reads a whole record. exact >= 0: it must have exactly that many bytes; otherwise at most max. */
static unsigned char *zip_record(Ctx *c, const char *name, int64_t exact, uint64_t max, size_t *len) {
  zip_int64_t i = zip_name_locate(c->za, name, 0);
  zip_stat_t st;
  zip_stat_init(&st);
  if (i < 0) return report(c, "zip archive has no record '%.200s'", name), NULL;
  if (zip_stat_index(c->za, (zip_uint64_t)i, 0, &st) != 0) return zip_fail(c, "cannot stat", name), NULL;
  if (!(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_COMP_SIZE)) return report(c, "zip: no size for '%.200s'", name), NULL;
  if (exact >= 0 && st.size != (uint64_t)exact)
    return report(c, "zip record '%.200s' has %llu bytes, expected %lld", name, (unsigned long long)st.size, (long long)exact), NULL;
  if (st.size > max || st.size > st.comp_size * 1100 + 4096)
    return report(c, "zip record '%.200s' is implausibly large (%llu bytes)", name, (unsigned long long)st.size), NULL;
  zip_file_t *zf = zip_fopen_index(c->za, (zip_uint64_t)i, 0);
  if (!zf) return zip_fail(c, "cannot open", name), NULL;
  unsigned char *buf = malloc(st.size ? (size_t)st.size : 1), extra;
  zip_int64_t got = 0, r = 1;
  while (buf && (uint64_t)got < st.size && (r = zip_fread(zf, buf + got, st.size - (uint64_t)got)) > 0) got += r;
  if (buf && r > 0) r = zip_fread(zf, &extra, 1); /* reach the end: libzip checks the CRC there */
  bool ok = buf && (uint64_t)got == st.size && r == 0;
  if (!ok && buf) report(c, "zip: cannot read '%.200s': %s", name, r < 0 ? zip_file_strerror(zf) : "wrong length");
  if (!buf) report(c, "out of memory");
  zip_fclose(zf);
  if (!ok) return free(buf), NULL;
  *len = (size_t)st.size;
  return buf;
}

static bool zip_prefix(Ctx *c) {
  const char *first = zip_get_name(c->za, 0, 0);
  const char *slash = first ? strchr(first, '/') : NULL;
  if (!slash || slash == first || (size_t)(slash - first) >= sizeof c->prefix - 32)
    return fail(c, "zip archive is not a torch.save file (first record '%.100s')", first ? first : "?");
  memcpy(c->prefix, first, (size_t)(slash - first) + 1);
  c->prefix[slash - first + 1] = 0;
  return true;
}

static bool zip_byteorder(Ctx *c) {
  char name[300];
  size_t n;
  snprintf(name, sizeof name, "%sbyteorder", c->prefix);
  if (zip_name_locate(c->za, name, 0) < 0) return true; /* written by torch >= 2.1 only */
  unsigned char *b = zip_record(c, name, -1, 64, &n);
  if (!b) return false;
  bool little = n == 6 && !memcmp(b, "little", 6);
  free(b);
  return little ? true : fail(c, "the file was saved with big-endian storages: not supported");
}

static bool zip_storages(Ctx *c) {
  char name[300];
  size_t n;
  for (int i = 0; i < c->nst; i++) {
    Storage *st = &c->st[i];
    snprintf(name, sizeof name, "%sdata/%s", c->prefix, st->key);
    int64_t bytes;
    if (__builtin_mul_overflow(st->numel, (int64_t)dtype_size(st->dt), &bytes))
      return fail(c, "storage '%s' size overflows", st->key);
    if (!(st->owned = zip_record(c, name, bytes, UINT64_MAX, &n))) return false;
    st->data = st->owned;
  }
  return true;
}

static TensorSet *read_zip_archive(Ctx *c) {
  char name[300];
  size_t n, used;
  char perr[300];
  if (!zip_prefix(c) || !zip_byteorder(c)) return NULL;
  snprintf(name, sizeof name, "%sdata.pkl", c->prefix);
  unsigned char *pkl = zip_record(c, name, -1, 1u << 30, &n);
  if (!pkl) return NULL;
  Pickle *p = pickle_load(pkl, n, &used, perr, sizeof perr);
  TensorSet *s = NULL;
  if (!p) report(c, "data.pkl: %s", perr);
  else if (used != n) report(c, "data.pkl: %zu unexpected bytes after STOP", n - used);
  else if (walk(c, pickle_root(p)) && zip_storages(c)) s = build(c);
  pickle_free(p);
  free(pkl);
  return s;
}

static TensorSet *read_zip(Ctx *c, const void *buf, size_t len) {
  zip_error_t ze;
  zip_error_init(&ze);
  zip_source_t *src = zip_source_buffer_create(buf, len, 0, &ze);
  if (src) c->za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
  if (!c->za) {
    report(c, "damaged or truncated zip archive: %s", zip_error_strerror(&ze));
    zip_source_free(src);
    zip_error_fini(&ze);
    return NULL;
  }
  zip_error_fini(&ze);
  TensorSet *s = read_zip_archive(c);
  zip_discard(c->za);
  return s;
}

/* ---- entry points ---- */

TensorSet *pth_read_mem(const void *buf, size_t len, char *err, size_t errlen) {
  Ctx c = {.err = err, .errlen = errlen};
  const unsigned char *b = buf;
  TensorSet *s = NULL;
  if (err && errlen) err[0] = 0;
  c.out_cap = (uint64_t)len * 16 + (16u << 20);
  if (!buf || !len) report(&c, "empty file");
  else if (len >= 4 && !memcmp(b, "PK\x03\x04", 4)) s = read_zip(&c, buf, len);
  else if (b[0] == 0x80) s = (c.legacy = true, read_legacy(&c, b, len));
  else if (len >= 4) report(&c, "not a PyTorch file (starts with %02x %02x %02x %02x)", b[0], b[1], b[2], b[3]);
  else report(&c, "not a PyTorch file (only %zu bytes)", len);
  for (int i = 0; i < c.nst; i++) free(c.st[i].owned);
  free(c.st);
  free(c.slot);
  free(c.spec);
  return s;
}

TensorSet *pth_read(const char *path, char *err, size_t errlen) {
  size_t len = 0;
  unsigned char *buf = tensor_file_read(path, &len, err, errlen);
  if (!buf) return NULL;
  TensorSet *s = pth_read_mem(buf, len, err, errlen);
  free(buf);
  return s;
}
