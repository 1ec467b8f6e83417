/* safetensors.c - safetensors reader and atomic writer (safetensors.h). The reader checks the
   header length (<= 100 MB, inside the file), parses the header with json_min's strict cursor,
   checks every tensor (known dtype, shape, data_offsets in bounds and equal to dtype * shape) and
   that the tensors tile the data buffer exactly, as the reference implementation requires. The
   writer produces the layout of the reference (metadata first, header space-padded to 8 bytes). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "atomic_file.h"
#include "json_min.h"
#include "safetensors.h"
#include "err.h"
#include "le.h"

typedef struct Entry {
  char *name;
  DType dt;
  int ndim;
  int64_t dims[TENSOR_MAX_DIMS];
  int64_t begin, end;
} Entry;

typedef struct Key { /* a metadata key, for the duplicate check */
  char *s;
  size_t n;
} Key;

typedef struct Rd {
  JsonIn j;
  char jerr[300];  /* JsonIn's message */
  Entry *e;
  size_t n, cap;
  uint64_t data_len;
  JsonOut meta;    /* __metadata__ re-serialized */
  bool has_meta;
  const char *where; /* tensor being read */
  char *err;
  size_t errlen;
} Rd;

#define fail err_set

/* Reports the JSON cursor's error (or msg) with the tensor being read. */
static bool rfail(Rd *r, const char *msg) {
  const char *m = msg ? msg : r->jerr;
  if (r->where) return fail(r->err, r->errlen, "header: tensor '%.100s': %s", r->where, m);
  return fail(r->err, r->errlen, "header: %s", m);
}

/* ---- metadata ---- */

static int key_cmp(const void *a, const void *b) {
  const Key *x = a, *y = b;
  int c = memcmp(x->s, y->s, x->n < y->n ? x->n : y->n);
  return c ? c : (x->n > y->n) - (x->n < y->n);
}

static bool check_dup_keys(JsonIn *j, Key *k, size_t n) {
  if (n > 1) qsort(k, n, sizeof *k, key_cmp);
  for (size_t i = 1; i < n; i++)
    if (!key_cmp(&k[i - 1], &k[i])) return json_fail(j, "__metadata__ key '%.100s' appears twice", k[i].s);
  return true;
}

/* {str: str, ...} at the cursor, copied to out as compact JSON. */
static bool parse_meta(JsonIn *j, JsonOut *out) {
  bool first = true, ok = json_eat(j, '{');
  char *key = NULL, *val;
  size_t kn, vn, nk = 0, capk = 0;
  Key *keys = NULL;
  json_raw(out, "{", 1);
  while (ok && (ok = json_member(j, &first, &key, &kn)) && key) {
    if (nk == capk) {
      capk = capk ? 2 * capk : 16;
      Key *k2 = realloc(keys, capk * sizeof *keys);
      if (!k2) {
        free(key);
        ok = json_fail(j, "out of memory");
        break;
      }
      keys = k2;
    }
    keys[nk++] = (Key){key, kn};
    if (json_peek(j) != '"') {
      ok = json_fail(j, "__metadata__ value of '%.100s' is not a string", key);
      break;
    }
    if (!(ok = json_string(j, &val, &vn))) break;
    json_raw(out, ",", nk > 1);
    json_str(out, key, kn);
    json_raw(out, ":", 1);
    json_str(out, val, vn);
    free(val);
  }
  json_raw(out, "}", 1);
  ok = ok && check_dup_keys(j, keys, nk);
  for (size_t i = 0; i < nk; i++) free(keys[i].s);
  free(keys);
  if (ok && out->oom) return json_fail(j, "out of memory");
  return ok;
}

/* ---- tensor entries ---- */

static bool parse_dtype(Rd *r, Entry *e) {
  static const char *other[] = {"U16", "U32", "U64", "F8_E4M3", "F8_E5M2", "C64"};
  char *s;
  size_t n;
  char msg[200];
  if (json_peek(&r->j) != '"') return json_error(&r->j, "dtype is not a string"), rfail(r, NULL);
  if (!json_string(&r->j, &s, &n)) return rfail(r, NULL);
  bool ok = strlen(s) == n && dtype_from_name(s, &e->dt);
  if (!ok) {
    bool known = false;
    for (size_t i = 0; i < sizeof other / sizeof *other; i++) known |= !strcmp(s, other[i]);
    snprintf(msg, sizeof msg, known ? "dtype '%.40s' is not supported" : "unknown dtype '%.40s'", s);
  }
  free(s);
  return ok ? true : rfail(r, msg);
}

/* [int, ...] of non-negative ints; exactly `want` of them when want >= 0, else at most max. */
static bool parse_ints(Rd *r, const char *what, int64_t *out, int max, int want, int *count) {
  bool first = true, more;
  int n = 0;
  char msg[120];
  if (!json_eat(&r->j, '[')) return rfail(r, NULL);
  while (json_element(&r->j, &first, &more) && more) {
    if (n == max) return snprintf(msg, sizeof msg, "%s has more than %d values", what, max), rfail(r, msg);
    if (!json_int(&r->j, &out[n])) return rfail(r, NULL);
    if (out[n++] < 0) return snprintf(msg, sizeof msg, "%s has a negative value", what), rfail(r, msg);
  }
  if (r->j.failed) return rfail(r, NULL);
  if (want >= 0 && n != want) return snprintf(msg, sizeof msg, "%s has %d values, expected %d", what, n, want), rfail(r, msg);
  *count = n;
  return true;
}

static bool parse_field(Rd *r, Entry *e, const char *field, int *seen) {
  int64_t off[2];
  int n;
  char msg[160];
  static const char *names[3] = {"dtype", "shape", "data_offsets"};
  int f = !strcmp(field, names[0]) ? 0 : !strcmp(field, names[1]) ? 1 : !strcmp(field, names[2]) ? 2 : -1;
  if (f < 0) return snprintf(msg, sizeof msg, "unknown field '%.60s'", field), rfail(r, msg);
  if (seen[f]++) return snprintf(msg, sizeof msg, "field '%s' appears twice", names[f]), rfail(r, msg);
  if (f == 0) return parse_dtype(r, e);
  if (f == 1) return parse_ints(r, "shape", e->dims, TENSOR_MAX_DIMS, -1, &e->ndim);
  if (!parse_ints(r, "data_offsets", off, 2, 2, &n)) return false;
  e->begin = off[0];
  e->end = off[1];
  return true;
}

static bool parse_entry(Rd *r, Entry *e) {
  bool first = true;
  int seen[3] = {0};
  char *field;
  size_t n;
  if (!json_eat(&r->j, '{')) return rfail(r, NULL);
  while (json_member(&r->j, &first, &field, &n) && field) {
    bool ok = parse_field(r, e, field, seen);
    free(field);
    if (!ok) return false;
  }
  if (r->j.failed) return rfail(r, NULL);
  static const char *names[3] = {"dtype", "shape", "data_offsets"};
  char msg[80];
  for (int i = 0; i < 3; i++)
    if (!seen[i]) return snprintf(msg, sizeof msg, "missing field '%s'", names[i]), rfail(r, msg);
  return true;
}

static bool add_entry(Rd *r, char *name, size_t len) {
  if (r->n == r->cap) {
    size_t cap = r->cap ? 2 * r->cap : 64;
    Entry *e = realloc(r->e, cap * sizeof *e);
    if (!e) return free(name), rfail(r, "out of memory");
    r->e = e;
    r->cap = cap;
  }
  Entry *e = &r->e[r->n++];
  *e = (Entry){.name = name};
  r->where = name;
  if (strlen(name) != len) return rfail(r, "the name contains a NUL byte");
  if (!parse_entry(r, e)) return false;
  r->where = NULL;
  return true;
}

static bool parse_header(Rd *r) {
  bool first = true;
  char *key;
  size_t n;
  if (!json_eat(&r->j, '{')) return rfail(r, NULL);
  while (json_member(&r->j, &first, &key, &n) && key) {
    if (n != 12 || memcmp(key, "__metadata__", 12)) {
      if (!add_entry(r, key, n)) return false;
      continue;
    }
    free(key);
    if (r->has_meta) return rfail(r, "__metadata__ appears twice");
    r->has_meta = true;
    if (!parse_meta(&r->j, &r->meta)) return rfail(r, NULL);
  }
  return r->j.failed || !json_end(&r->j) ? rfail(r, NULL) : true;
}

/* ---- validation ---- */

static int by_offsets(const void *a, const void *b) {
  const Entry *x = *(Entry *const *)a, *y = *(Entry *const *)b;
  if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
  return (x->end > y->end) - (x->end < y->end);
}

static bool check_entry(Rd *r, const Entry *e) {
  size_t nbytes;
  char msg[200];
  r->where = e->name;
  if (!tensor_nbytes(e->dt, e->ndim, e->dims, &nbytes)) return rfail(r, "shape overflows");
  if (e->begin > e->end)
    return snprintf(msg, sizeof msg, "data_offsets [%lld, %lld] are reversed", (long long)e->begin, (long long)e->end),
           rfail(r, msg);
  if ((uint64_t)e->end > r->data_len)
    return snprintf(msg, sizeof msg, "data_offsets end %lld is past the data buffer (%llu bytes)", (long long)e->end,
                    (unsigned long long)r->data_len), rfail(r, msg);
  if ((uint64_t)(e->end - e->begin) != nbytes)
    return snprintf(msg, sizeof msg, "data_offsets give %lld bytes, but %s x shape needs %zu",
                    (long long)(e->end - e->begin), dtype_name(e->dt), nbytes), rfail(r, msg);
  r->where = NULL;
  return true;
}

/* Sorted by offsets, the tensors must cover [0, data_len) without gaps or overlaps. */
static bool check_tiling(Rd *r) {
  const Entry **s = malloc((r->n ? r->n : 1) * sizeof *s);
  if (!s) return rfail(r, "out of memory");
  for (size_t i = 0; i < r->n; i++) s[i] = &r->e[i];
  qsort(s, r->n, sizeof *s, by_offsets);
  uint64_t at = 0;
  char msg[200];
  for (size_t i = 0; i < r->n; i++) {
    if ((uint64_t)s[i]->begin != at) {
      r->where = s[i]->name;
      snprintf(msg, sizeof msg, "data_offsets begin at %lld, expected %llu (tensors must tile the data buffer, "
               "no gaps or overlaps)", (long long)s[i]->begin, (unsigned long long)at);
      return free(s), rfail(r, msg);
    }
    at = (uint64_t)s[i]->end;
  }
  free(s);
  if (at == r->data_len) return true;
  snprintf(msg, sizeof msg, "the data buffer has %llu bytes but the tensors cover %llu",
           (unsigned long long)r->data_len, (unsigned long long)at);
  return rfail(r, msg);
}

static TensorSet *build(Rd *r, const unsigned char *data) {
  TensorSet *s = tensor_set_new();
  if (!s) return rfail(r, "out of memory"), NULL;
  for (size_t i = 0; i < r->n; i++) {
    const Entry *e = &r->e[i];
    r->where = e->name;
    if (tensor_set_find(s, e->name)) return rfail(r, "duplicate tensor name"), tensor_set_free(s), NULL;
    if (!tensor_set_add(s, e->name, e->dt, e->ndim, e->dims, data + e->begin))
      return rfail(r, "out of memory"), tensor_set_free(s), NULL;
  }
  r->where = NULL;
  return s;
}

static TensorSet *read_body(Rd *r, const unsigned char *b, size_t len, char **metadata_json) {
  uint64_t hl = le_get64(b);
  if (hl > SAFETENSORS_MAX_HEADER)
    return err_set(r->err, r->errlen, "header length %llu is over the %u-byte limit", (unsigned long long)hl,
                SAFETENSORS_MAX_HEADER), NULL;
  if (hl > len - 8)
    return err_set(r->err, r->errlen, "truncated: header length %llu, but only %zu bytes follow", (unsigned long long)hl,
                len - 8), NULL;
  if (hl == 0 || b[8] != '{') return err_set(r->err, r->errlen, "header does not start with '{'"), NULL;
  json_in_init(&r->j, (const char *)b + 8, (size_t)hl, r->jerr, sizeof r->jerr);
  r->data_len = len - 8 - hl;
  if (!parse_header(r)) return NULL;
  for (size_t i = 0; i < r->n; i++)
    if (!check_entry(r, &r->e[i])) return NULL;
  if (!check_tiling(r)) return NULL;
  if (metadata_json && r->has_meta) {
    json_raw(&r->meta, "", 1); /* NUL */
    if (r->meta.oom) return rfail(r, "out of memory"), NULL;
    *metadata_json = r->meta.p;
    r->meta = (JsonOut){0};
  }
  return build(r, b + 8 + hl);
}

TensorSet *safetensors_read_mem(const void *buf, size_t len, char **metadata_json, char *err, size_t n) {
  Rd r = {.err = err, .errlen = n};
  if (err && n) err[0] = 0;
  if (metadata_json) *metadata_json = NULL;
  if (!buf || len < 8) return err_set(err, n, "too short for a safetensors file (%zu bytes)", buf ? len : 0), NULL;
  TensorSet *s = read_body(&r, buf, len, metadata_json);
  for (size_t i = 0; i < r.n; i++) free(r.e[i].name);
  free(r.e);
  json_out_free(&r.meta);
  if (!s && metadata_json) {
    free(*metadata_json);
    *metadata_json = NULL;
  }
  return s;
}

TensorSet *safetensors_read_ex(const char *path, char **metadata_json, char *err, size_t n) {
  size_t len = 0;
  if (metadata_json) *metadata_json = NULL;
  unsigned char *buf = tensor_file_read(path, &len, err, n);
  if (!buf) return NULL;
  TensorSet *s = safetensors_read_mem(buf, len, metadata_json, err, n);
  free(buf);
  return s;
}

TensorSet *safetensors_read(const char *path, char *err, size_t n) { return safetensors_read_ex(path, NULL, err, n); }

/* ---- writing ---- */

typedef struct Layout {
  JsonOut h;        /* header, padded */
  int *order;       /* tensors in data-buffer order */
  uint64_t data_len;
} Layout;

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static bool check_tensor(const NamedTensor *t, char *err, size_t n) {
  size_t nb;
  if (!t->name || !json_utf8_valid(t->name, strlen(t->name))) return fail(err, n, "a tensor name is not valid UTF-8");
  if (!strcmp(t->name, "__metadata__")) return fail(err, n, "a tensor cannot be named '__metadata__'");
  if (!tensor_nbytes(t->dtype, t->ndim, t->dims, &nb)) return fail(err, n, "tensor '%.100s': bad dtype or shape", t->name);
  if (nb != t->nbytes) return fail(err, n, "tensor '%.100s': nbytes %zu, but dtype x shape is %zu", t->name, t->nbytes, nb);
  if (nb && !t->data) return fail(err, n, "tensor '%.100s' has no data", t->name);
  return true;
}

static bool check_set(const TensorSet *s, char *err, size_t n) {
  for (int i = 0; i < s->n; i++)
    if (!check_tensor(&s->t[i], err, n)) return false;
  char **names = malloc((s->n ? (size_t)s->n : 1) * sizeof *names);
  if (!names) return fail(err, n, "out of memory");
  for (int i = 0; i < s->n; i++) names[i] = s->t[i].name;
  qsort(names, (size_t)s->n, sizeof *names, cmp_name);
  for (int i = 1; i < s->n; i++)
    if (!strcmp(names[i - 1], names[i])) return err_set(err, n, "duplicate tensor name '%.100s'", names[i]), free(names), false;
  free(names);
  return true;
}

typedef struct Slot { /* for the data-buffer order */
  size_t elsize;
  int index;
} Slot;

static int by_size(const void *a, const void *b) { /* element size descending, then set order */
  const Slot *x = a, *y = b;
  if (x->elsize != y->elsize) return x->elsize > y->elsize ? -1 : 1;
  return (x->index > y->index) - (x->index < y->index);
}

static void header_entry(JsonOut *o, const NamedTensor *t, uint64_t begin) {
  json_str(o, t->name, strlen(t->name));
  json_raw(o, ":{\"dtype\":", 10);
  json_str(o, dtype_name(t->dtype), strlen(dtype_name(t->dtype)));
  json_raw(o, ",\"shape\":[", 10);
  for (int d = 0; d < t->ndim; d++) {
    json_raw(o, ",", d > 0);
    json_i64(o, t->dims[d]);
  }
  json_raw(o, "],\"data_offsets\":[", 18);
  json_i64(o, (int64_t)begin);
  json_raw(o, ",", 1);
  json_i64(o, (int64_t)(begin + t->nbytes));
  json_raw(o, "]}", 2);
}

static bool add_metadata(JsonOut *o, const char *meta, char *err, size_t n) {
  char jerr[300];
  JsonIn j;
  json_in_init(&j, meta, strlen(meta), jerr, sizeof jerr);
  json_raw(o, "\"__metadata__\":", 15);
  if (!parse_meta(&j, o) || !json_end(&j)) return fail(err, n, "metadata JSON: %s", jerr);
  return true;
}

static bool layout(const TensorSet *s, const char *meta, Layout *L, char *err, size_t n) {
  *L = (Layout){0};
  if (!check_set(s, err, n)) return false;
  size_t cnt = s->n ? (size_t)s->n : 1;
  uint64_t *begin = malloc(cnt * sizeof *begin);
  Slot *slot = malloc(cnt * sizeof *slot);
  L->order = malloc(cnt * sizeof *L->order);
  if (!begin || !slot || !L->order) return free(begin), free(slot), fail(err, n, "out of memory");
  for (int i = 0; i < s->n; i++) slot[i] = (Slot){dtype_size(s->t[i].dtype), i};
  qsort(slot, (size_t)s->n, sizeof *slot, by_size);
  for (int k = 0; k < s->n; k++) L->order[k] = slot[k].index;
  free(slot);
  for (int k = 0; k < s->n; k++) {
    begin[L->order[k]] = L->data_len;
    L->data_len += s->t[L->order[k]].nbytes;
  }
  json_raw(&L->h, "{", 1);
  bool ok = !meta || add_metadata(&L->h, meta, err, n);
  for (int i = 0; ok && i < s->n; i++) {
    json_raw(&L->h, ",", i > 0 || meta);
    header_entry(&L->h, &s->t[i], begin[i]);
  }
  json_raw(&L->h, "}", 1);
  while (L->h.len % 8) json_raw(&L->h, " ", 1);
  free(begin);
  if (ok && L->h.oom) return fail(err, n, "out of memory");
  return ok;
}

static void layout_free(Layout *L) {
  json_out_free(&L->h);
  free(L->order);
}

bool safetensors_encode(const TensorSet *s, const char *meta, unsigned char **out, size_t *outlen, char *err, size_t n) {
  Layout L;
  *out = NULL;
  if (!layout(s, meta, &L, err, n)) return layout_free(&L), false;
  size_t total = 8 + L.h.len + (size_t)L.data_len;
  unsigned char *b = malloc(total);
  if (!b) return layout_free(&L), fail(err, n, "out of memory");
  le_put64(b, L.h.len);
  memcpy(b + 8, L.h.p, L.h.len);
  size_t at = 8 + L.h.len;
  for (int k = 0; k < s->n; k++) {
    const NamedTensor *t = &s->t[L.order[k]];
    if (t->nbytes) memcpy(b + at, t->data, t->nbytes);
    at += t->nbytes;
  }
  layout_free(&L);
  *out = b;
  *outlen = total;
  return true;
}

static bool write_all(FILE *f, const TensorSet *s, const Layout *L) {
  unsigned char len[8];
  le_put64(len, L->h.len);
  bool ok = fwrite(len, 1, 8, f) == 8 && fwrite(L->h.p, 1, L->h.len, f) == L->h.len;
  for (int k = 0; ok && k < s->n; k++) {
    const NamedTensor *t = &s->t[L->order[k]];
    ok = !t->nbytes || fwrite(t->data, 1, t->nbytes, f) == t->nbytes;
  }
  return ok;
}

bool safetensors_write(const TensorSet *s, const char *path, const char *meta, char *err, size_t n) {
  Layout L;
  if (err && n) err[0] = 0;
  if (!layout(s, meta, &L, err, n)) return layout_free(&L), false;
  AtomicFile f;
  bool ok = atomic_open(&f, path, err, n) && atomic_close(&f, write_all(f.f, s, &L), err, n);
  layout_free(&L);
  return ok;
}
