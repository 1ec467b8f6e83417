/* test_weights.c - tests of the runtime's weights I/O (runtime/io/): TensorSet, the strict
   unpickler, .pth reading (legacy and zip formats), safetensors reading/writing and json_min.
   Usage: test_weights REFERENCE_DIR. The self-contained parts (crafted .pth files, safetensors
   round trips, rejection of truncated/corrupt/malicious inputs) always run; the parts that need
   REFERENCE_DIR/weights/{mac,lat}_small.pth and REFERENCE_DIR/supernet_small.init.pth are skipped
   with exit code 77 when it is absent. Meant to run under ASan/UBSan as well. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>
#include "json_min.h"
#include "pickle.h"
#include "pth.h"
#include "safetensors.h"
#include "tensor_set.h"
#include "test_util.h"


#define CHECK_ERR(expr, substr)                                                                  \
  do {                                                                                           \
    char _e[512] = "";                                                                           \
    TensorSet *_s = expr(_e, sizeof _e);                                                         \
    CHECK(_s == NULL);                                                                           \
    if (strstr(_e, substr)) t_passed++;                                                          \
    else {                                                                                       \
      t_failed++;                                                                                \
      fprintf(stderr, "%s:%d: error \"%s\" lacks \"%s\"\n", __FILE__, __LINE__, _e, substr);    \
    }                                                                                            \
    tensor_set_free(_s);                                                                         \
  } while (0)

/* ---- byte buffers and a tiny pickle writer ---- */

typedef struct Buf {
  unsigned char *p;
  size_t n, cap;
} Buf;

static void put(Buf *b, const void *s, size_t n) {
  if (b->n + n > b->cap) {
    b->cap = (b->n + n) * 2 + 64;
    b->p = realloc(b->p, b->cap);
    if (!b->p) abort();
  }
  if (n) memcpy(b->p + b->n, s, n);
  b->n += n;
}
static void put_u8(Buf *b, unsigned v) {
  unsigned char c = (unsigned char)v;
  put(b, &c, 1);
}
static void put_le(Buf *b, uint64_t v, int n) {
  for (int i = 0; i < n; i++) put_u8(b, (unsigned)(v >> (8 * i)) & 0xff);
}
static void pk_ops(Buf *b, const char *ops) { put(b, ops, strlen(ops)); }
static void pk_str(Buf *b, const char *s) {
  put_u8(b, 'X');
  put_le(b, strlen(s), 4);
  put(b, s, strlen(s));
}
static void pk_int(Buf *b, int64_t v) {
  if (v >= 0 && v < 256) put_u8(b, 'K'), put_u8(b, (unsigned)v);
  else if (v >= 0 && v < 65536) put_u8(b, 'M'), put_le(b, (uint64_t)v, 2);
  else if (v >= INT32_MIN && v <= INT32_MAX) put_u8(b, 'J'), put_le(b, (uint64_t)v, 4);
  else put_u8(b, 0x8a), put_u8(b, 8), put_le(b, (uint64_t)v, 8); /* LONG1 */
}
static void pk_global(Buf *b, const char *mod, const char *name) {
  put_u8(b, 'c');
  pk_ops(b, mod);
  put_u8(b, '\n');
  pk_ops(b, name);
  put_u8(b, '\n');
}
static void pk_dims(Buf *b, int n, const int64_t *d) {
  put_u8(b, '(');
  for (int i = 0; i < n; i++) pk_int(b, d[i]);
  put_u8(b, 't');
}

typedef struct TSpec {
  const char *name, *stype, *key;
  int64_t numel, offset;
  int ndim;
  int64_t size[4], stride[4];
} TSpec;

/* name: torch._utils.<fn>(persistent id, offset, size, stride, False, OrderedDict()) */
static void pk_tensor(Buf *b, const TSpec *t, bool legacy, const char *fn_mod, const char *fn) {
  pk_str(b, t->name);
  pk_global(b, fn_mod, fn);
  pk_ops(b, "((");
  pk_str(b, "storage");
  pk_global(b, "torch", t->stype);
  pk_str(b, t->key);
  pk_str(b, "cpu");
  pk_int(b, t->numel);
  if (legacy) put_u8(b, 'N');
  pk_ops(b, "tQ");
  pk_int(b, t->offset);
  pk_dims(b, t->ndim, t->size);
  pk_dims(b, t->ndim, t->stride);
  put_u8(b, 0x89);
  pk_global(b, "collections", "OrderedDict");
  pk_ops(b, ")RtR");
}

/* The crafted state_dict: w = arange(6).view(2,3); t = w.t(); n = int64 scalar 7; e = empty
   [0,4]; o = w.view(-1)[4:6] (storage offset 4). Storages "1" (F32 x 6), "2" (I64 x 1), "3" (F32 x 0). */
static const TSpec crafted[] = {
    {"w", "FloatStorage", "1", 6, 0, 2, {2, 3}, {3, 1}},
    {"t", "FloatStorage", "1", 6, 0, 2, {3, 2}, {1, 3}},
    {"n", "LongStorage", "2", 1, 0, 0, {0}, {0}},
    {"e", "FloatStorage", "3", 0, 0, 2, {0, 4}, {4, 1}},
    {"o", "FloatStorage", "1", 6, 4, 1, {2}, {1}},
};
#define NCRAFTED 5

static void pk_state_dict(Buf *b, const TSpec *t, int nt, bool legacy, const char *fn_mod, const char *fn) {
  pk_ops(b, "\x80\x02");
  if (legacy) put_u8(b, '}');
  else pk_global(b, "collections", "OrderedDict"), pk_ops(b, ")R");
  put_u8(b, '(');
  for (int i = 0; i < nt; i++) pk_tensor(b, &t[i], legacy, fn_mod, fn ? fn : "_rebuild_tensor_v2");
  put_u8(b, 'u');
  if (!legacy) { /* state_dict._metadata = OrderedDict(), as torch writes it */
    put_u8(b, '}');
    pk_str(b, "_metadata");
    pk_global(b, "collections", "OrderedDict");
    pk_ops(b, ")Rsb");
  }
  put_u8(b, '.');
}

static void storage_bytes(Buf *b, const char *key) {
  if (!strcmp(key, "1"))
    for (int i = 0; i < 6; i++) {
      float f = (float)i;
      put(b, &f, 4);
    }
  if (!strcmp(key, "2")) put_le(b, 7, 8);
}

static void make_legacy(Buf *b, const TSpec *t, int nt, const char *fn_mod, const char *fn) {
  static const unsigned char magic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9,
                                        0x20, 0x6a, 0xa8, 0x50, 0x19, '.'};
  put(b, magic, sizeof magic);
  pk_ops(b, "\x80\x02M\xe9\x03.");
  pk_ops(b, "\x80\x02}(");
  pk_str(b, "protocol_version");
  pk_ops(b, "M\xe9\x03");
  pk_str(b, "little_endian");
  put_u8(b, 0x88);
  pk_str(b, "type_sizes");
  pk_ops(b, "}(");
  pk_str(b, "short");
  pk_int(b, 2);
  pk_str(b, "int");
  pk_int(b, 4);
  pk_str(b, "long");
  pk_int(b, 4);
  pk_ops(b, "uu.");
  pk_state_dict(b, t, nt, true, fn_mod, fn);
  static const char *keys[] = {"1", "2", "3"};
  static const int64_t numel[] = {6, 1, 0};
  pk_ops(b, "\x80\x02](");
  for (int i = 0; i < 3; i++) pk_str(b, keys[i]);
  pk_ops(b, "e.");
  for (int i = 0; i < 3; i++) {
    put_le(b, (uint64_t)numel[i], 8);
    storage_bytes(b, keys[i]);
  }
}

static void check_crafted(const TensorSet *s) {
  CHECK(s != NULL);
  if (!s) return;
  CHECK_EQ_I64(s->n, NCRAFTED);
  for (int i = 0; i < s->n && i < NCRAFTED; i++) CHECK_STR(s->t[i].name, crafted[i].name);
  const NamedTensor *w = tensor_set_find(s, "w"), *t = tensor_set_find(s, "t"), *n = tensor_set_find(s, "n"),
                    *e = tensor_set_find(s, "e"), *o = tensor_set_find(s, "o");
  CHECK(w && t && n && e && o);
  if (!w || !t || !n || !e || !o) return;
  CHECK(w->dtype == DT_F32 && w->ndim == 2 && w->dims[0] == 2 && w->dims[1] == 3 && w->nbytes == 24);
  const float *wf = w->data, *tf = t->data, *of = o->data;
  for (int i = 0; i < 6; i++) CHECK(wf[i] == (float)i);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 2; j++) CHECK(tf[i * 2 + j] == wf[j * 3 + i]); /* transposed copy */
  CHECK(n->dtype == DT_I64 && n->ndim == 0 && n->nbytes == 8 && *(const int64_t *)n->data == 7);
  CHECK(e->dtype == DT_F32 && e->ndim == 2 && e->dims[0] == 0 && e->nbytes == 0 && e->data != NULL);
  CHECK(o->ndim == 1 && o->dims[0] == 2 && of[0] == 4.0f && of[1] == 5.0f);
}

/* ---- TensorSet ---- */

static void test_tensor_set(void) {
  TensorSet *s = tensor_set_new();
  int64_t d[2] = {2, 3};
  float v[6] = {1, 2, 3, 4, 5, 6};
  CHECK(tensor_set_add(s, "a", DT_F32, 2, d, v) != NULL);
  CHECK(tensor_set_add(s, "a", DT_F32, 2, d, v) == NULL); /* duplicate */
  CHECK(tensor_set_add(s, "b", (DType)99, 2, d, v) == NULL);
  CHECK(tensor_set_add(s, "b", DT_F32, 9, d, v) == NULL);
  int64_t neg[1] = {-1}, huge[2] = {INT64_MAX, 4};
  CHECK(tensor_set_add(s, "b", DT_F32, 1, neg, NULL) == NULL);
  CHECK(tensor_set_add(s, "b", DT_F32, 2, huge, NULL) == NULL);
  NamedTensor *z = tensor_set_add(s, "scalar", DT_I64, 0, NULL, NULL);
  CHECK(z && z->nbytes == 8 && *(int64_t *)z->data == 0 && tensor_numel(z) == 1);
  char name[32];
  for (int i = 0; i < 2000; i++) {
    snprintf(name, sizeof name, "t%d", i);
    int64_t n1[1] = {i % 5};
    if (!tensor_set_add(s, name, DT_U8, 1, n1, NULL)) t_failed++;
  }
  CHECK_EQ_I64(s->n, 2002);
  int found = 0;
  for (int i = 0; i < 2000; i++) {
    snprintf(name, sizeof name, "t%d", i);
    const NamedTensor *t = tensor_set_find(s, name);
    found += t && !strcmp(t->name, name) && t->dims[0] == i % 5;
  }
  CHECK_EQ_I64(found, 2000);
  CHECK(tensor_set_find(s, "nope") == NULL);
  CHECK(!memcmp(tensor_set_find(s, "a")->data, v, sizeof v));
  CHECK_EQ_I64(dtype_size(DT_BF16), 2);
  CHECK_STR(dtype_name(DT_BOOL), "BOOL");
  DType dt;
  CHECK(dtype_from_name("I16", &dt) && dt == DT_I16 && !dtype_from_name("U16", &dt));
  tensor_set_free(s);
  tensor_set_free(NULL);
}

/* ---- pickle ---- */

static void pickle_err(const char *bytes, size_t n, const char *want) {
  char err[300] = "";
  size_t used;
  Pickle *p = pickle_load((const unsigned char *)bytes, n, &used, err, sizeof err);
  CHECK(p == NULL);
  if (strstr(err, want)) t_passed++;
  else {
    t_failed++;
    fprintf(stderr, "pickle error \"%s\" lacks \"%s\"\n", err, want);
  }
  pickle_free(p);
}
#define PICKLE_ERR(lit, want) pickle_err(lit, sizeof(lit) - 1, want)

static void test_pickle(void) {
  PICKLE_ERR("\x80\x02" "cos\nsystem\n(X\x02\x00\x00\x00lstR.", "unsupported pickle global 'os.system'");
  PICKLE_ERR("\x80\x04\x8c\x08" "builtins\x8c\x04" "eval\x93.", "unsupported pickle global 'builtins.eval'");
  PICKLE_ERR("\x80\x02" "ctorch\nFloatStorage\n)R.", "calling 'torch.FloatStorage' is not supported");
  PICKLE_ERR("\x80\x02t.", "no MARK");
  PICKLE_ERR("\x80\x02}s.", "stack underflow");
  PICKLE_ERR("\x80\x02(K\x01\x86.", "stack underflow"); /* TUPLE2 may not cross the mark */
  PICKLE_ERR("\x80\x02h\x05.", "memo key 5 is not defined");
  PICKLE_ERR("\x80\x02Nr\xff\xff\xff\x7f.", "memo index 2147483647 is out of range");
  PICKLE_ERR("\x80\x02X\xff\xff\xff\xff" "abc.", "truncated");
  PICKLE_ERR("\x80\x02NN.", "STOP with 2 values");
  PICKLE_ERR("\x80\x02(N.", "STOP inside an open MARK");
  PICKLE_ERR("\x80\x02N", "without STOP");
  PICKLE_ERR("\x80\x02i__builtin__\nlist\n.", "unsupported pickle opcode 'i'");
  PICKLE_ERR("\x80\x02}K\x01" "a.", "APPEND to a dict");
  PICKLE_ERR("\x80\x02}]K\x01K\x02s.", "SETITEM on a list");
  PICKLE_ERR("\x80\x02}(K\x01u.", "odd number of items");
  PICKLE_ERR("\x80\x02(K\x01K\x02u.", "stack underflow"); /* SETITEMS with nothing below the mark */
  PICKLE_ERR("\x80\x02}]N.", "STOP with");
  PICKLE_ERR("\x80\x02}(]K\x01u.", "unhashable dict key");
  PICKLE_ERR("\x80\x02X\x02\x00\x00\x00\xc3\x28.", "not valid UTF-8");
  PICKLE_ERR("\x80\x09N.", "unsupported pickle protocol 9");
  PICKLE_ERR("\x80\x02Nb.", "stack underflow");
  PICKLE_ERR("\x80\x02]Nb.", "BUILD on a list");
  PICKLE_ERR("\x80\x02" "cos\n", "truncated or overlong GLOBAL");
  /* valid: a list that contains itself, protocol 4 framing and MEMOIZE, floats, negative LONG1 */
  static const char cyc[] = "\x80\x02]q\x00h\x00" "a.";
  size_t used;
  char err[200];
  Pickle *p = pickle_load((const unsigned char *)cyc, sizeof cyc - 1, &used, err, sizeof err);
  CHECK(p && pickle_root(p)->type == PV_LIST && pickle_root(p)->items[0] == pickle_root(p) && used == sizeof cyc - 1);
  pickle_free(p);
  static const char body[] = "(\x8c\x01" "a\x94G?\xf8\x00\x00\x00\x00\x00\x00\x8a\x01\xff\x8a\x00h\x00t\x94.";
  Buf p4 = {0};
  pk_ops(&p4, "\x80\x04\x95");
  put_le(&p4, sizeof body - 1, 8);
  put(&p4, body, sizeof body - 1);
  p = pickle_load(p4.p, p4.n, &used, err, sizeof err);
  free(p4.p);
  CHECK(p != NULL);
  if (p) {
    PVal *r = pickle_root(p);
    CHECK(r->type == PV_TUPLE && r->n == 5 && r->items[0]->type == PV_STR && r->items[4] == r->items[0]);
    CHECK(r->items[1]->type == PV_FLOAT && r->items[1]->f == 1.5);
    CHECK(r->items[2]->type == PV_INT && r->items[2]->i == -1 && r->items[3]->i == 0);
  } else fprintf(stderr, "p4: %s\n", err);
  pickle_free(p);
  static const char od[] = "\x80\x02" "ccollections\nOrderedDict\n)\x81}b.";
  p = pickle_load((const unsigned char *)od, sizeof od - 1, &used, err, sizeof err);
  CHECK(p && pickle_root(p)->type == PV_DICT);
  pickle_free(p);
}

/* ---- crafted .pth files ---- */

/* Every truncation fails with a message; every single-byte corruption is handled (no crash). */
static void truncate_and_corrupt(const Buf *b) {
  int bad_trunc = 0, msgless = 0;
  for (size_t len = 0; len < b->n; len++) {
    char err[300] = "";
    TensorSet *s = pth_read_mem(b->p, len, err, sizeof err);
    bad_trunc += s != NULL;
    msgless += !s && !err[0];
    tensor_set_free(s);
  }
  CHECK_EQ_I64(bad_trunc, 0);
  unsigned char *c = malloc(b->n);
  static const unsigned char xors[] = {0x01, 0x80, 0xff};
  for (size_t i = 0; i < b->n; i++)
    for (int k = 0; k < 3; k++) {
      memcpy(c, b->p, b->n);
      c[i] ^= xors[k];
      char err[300] = "";
      TensorSet *s = pth_read_mem(c, b->n, err, sizeof err);
      msgless += !s && !err[0];
      tensor_set_free(s);
    }
  free(c);
  CHECK_EQ_I64(msgless, 0);
}

static TensorSet *read_buf(const Buf *b, char *err, size_t n) { return pth_read_mem(b->p, b->n, err, n); }

static void expect_legacy_err(const TSpec *t, int nt, const char *mod, const char *fn, const char *want) {
  Buf b = {0};
  make_legacy(&b, t, nt, mod, fn);
#define RB(e, n) read_buf(&b, e, n)
  CHECK_ERR(RB, want);
#undef RB
  free(b.p);
}

static void expect_extra(const TSpec *extra, const char *want) {
  TSpec t[NCRAFTED + 1];
  memcpy(t, crafted, sizeof crafted);
  t[NCRAFTED] = *extra;
  expect_legacy_err(t, NCRAFTED + 1, "torch._utils", NULL, want);
}

static void patch(Buf *b, const char *find, size_t findlen, size_t delta, unsigned char to) {
  for (size_t i = 0; i + findlen <= b->n; i++)
    if (!memcmp(b->p + i, find, findlen)) {
      b->p[i + delta] = to;
      return;
    }
}

static void test_legacy_crafted(void) {
  Buf b = {0};
  make_legacy(&b, crafted, NCRAFTED, "torch._utils", NULL);
  char err[300] = "";
  TensorSet *s = pth_read_mem(b.p, b.n, err, sizeof err);
  if (!s) fprintf(stderr, "crafted legacy: %s\n", err);
  check_crafted(s);
  tensor_set_free(s);
  /* the same file from disk */
  FILE *f = fopen(tmp_path("crafted.pth"), "wb");
  fwrite(b.p, 1, b.n, f);
  fclose(f);
  s = pth_read(tmp_path("crafted.pth"), err, sizeof err);
  check_crafted(s);
  tensor_set_free(s);
  truncate_and_corrupt(&b);
  Buf x = {0};
  put(&x, b.p, b.n);
  put_u8(&x, 0);
#define RX(e, n) read_buf(&x, e, n)
  CHECK_ERR(RX, "1 unexpected bytes after the last storage");
  x.n = 0;
  put(&x, b.p, b.n);
  x.p[5] ^= 1;
  CHECK_ERR(RX, "bad magic number");
  x.n = 0;
  put(&x, b.p, b.n);
  patch(&x, "little_endian", 13, 13, 0x89);
  CHECK_ERR(RX, "big-endian");
  x.n = 0;
  put(&x, b.p, b.n);
  patch(&x, "\x80\x02M\xe9\x03", 5, 3, 0xea);
  CHECK_ERR(RX, "unsupported legacy protocol version");
#undef RX
  free(x.p);
  free(b.p);
}

/* The crafted state_dict plus one entry that breaks one rule. */
static void test_legacy_bad_entries(void) {
  expect_legacy_err(crafted, NCRAFTED, "os", "system", "unsupported pickle global 'os.system'");
  expect_legacy_err(crafted, NCRAFTED, "torch._utils", "_rebuild_sparse_tensor",
                    "unsupported pickle global 'torch._utils._rebuild_sparse_tensor'");
  TSpec e = crafted[0]; /* crafted + one more entry e */
  expect_extra(&e, "duplicate tensor name 'w'");
  e.name = "big";
  e.size[0] = 3;
  expect_extra(&e, "state_dict entry 'big': size/stride/offset reach storage element 8");
  e = crafted[4];
  e.name = "o2";
  e.offset = 5;
  expect_extra(&e, "reach storage element 6, but the storage has 6");
  e = crafted[0];
  e.name = "x";
  e.numel = 7;
  expect_extra(&e, "storage '1' has two sizes: 6 and 7");
  e.numel = 6;
  e.stype = "LongStorage";
  expect_extra(&e, "storage '1' is used as both F32 and I64");
  e.stype = "IntStorag";
  expect_extra(&e, "unsupported pickle global 'torch.IntStorag'");
  e.stype = "FloatStorage";
  e.key = "9";
  expect_extra(&e, "storage '9' has no data");
  e.key = "../1";
  expect_extra(&e, "bad storage key");
  e.key = "1";
  e.stride[1] = -1;
  expect_extra(&e, "stride is negative");
  e.stride[1] = 1;
  e.ndim = 1;
  e.stride[0] = 1;
  e.size[0] = 7;
  expect_extra(&e, "reach storage element 6, but the storage has 6");
  e.size[0] = 0;
  e.offset = 1LL << 40; /* no elements: the offset does not matter */
  e.name = "x0";
  TSpec ok[NCRAFTED + 1];
  memcpy(ok, crafted, sizeof crafted);
  ok[NCRAFTED] = e;
  Buf z = {0};
  make_legacy(&z, ok, NCRAFTED + 1, "torch._utils", NULL);
  char zerr[300] = "";
  TensorSet *zs = pth_read_mem(z.p, z.n, zerr, sizeof zerr);
  CHECK(zs && zs->n == NCRAFTED + 1 && zs->t[NCRAFTED].nbytes == 0);
  tensor_set_free(zs);
  free(z.p);
  e.size[0] = 1LL << 40;
  e.offset = 0;
  e.stride[0] = 0; /* expanded: 2^40 elements from one */
  expect_extra(&e, "refusing");
  /* a storage that no tensor uses */
  expect_legacy_err(crafted, 2, "torch._utils", NULL, "storage '2' is in the key list but no tensor uses it");
  /* the key list says a different element count */
  Buf c = {0};
  make_legacy(&c, crafted, NCRAFTED, "torch._utils", NULL);
  c.p[c.n - 24] = 2; /* storage "2"'s count: then its 8 bytes of data, then "3"'s count, no data */
#define RC(e, n) read_buf(&c, e, n)
  CHECK_ERR(RC, "storage '2' has 2 elements in the file, the pickle says 1");
#undef RC
  free(c.p);
}

/* Non-string key, a non-tensor value and non-dict roots. */
static void test_legacy_shapes(void) {
  Buf b = {0};
  static const unsigned char head[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9,
                                       0x20, 0x6a, 0xa8, 0x50, 0x19, '.'};
  put(&b, head, sizeof head);
  pk_ops(&b, "\x80\x02M\xe9\x03.\x80\x02}");
  pk_str(&b, "little_endian");
  pk_ops(&b, "\x88s.");
  size_t sd_at = b.n;
  pk_ops(&b, "\x80\x02}K\x05K\x06s.\x80\x02].");
#define RB(e, n) read_buf(&b, e, n)
  CHECK_ERR(RB, "state_dict key 0 is a int, not a string");
  b.n = sd_at;
  pk_ops(&b, "\x80\x02}");
  pk_str(&b, "k");
  pk_ops(&b, "K\x06s.\x80\x02].");
  CHECK_ERR(RB, "state_dict entry 'k': value is a int, not a tensor");
  b.n = sd_at;
  pk_ops(&b, "\x80\x02].\x80\x02].");
  CHECK_ERR(RB, "not a state_dict");
  b.n = sd_at;
  pk_ops(&b, "\x80\x02}.\x80\x02].");
  char err[100];
  TensorSet *s = read_buf(&b, err, sizeof err); /* an empty state_dict is fine */
  CHECK(s && s->n == 0);
  tensor_set_free(s);
  b.n = 0;
  put(&b, "hello world", 11);
  CHECK_ERR(RB, "not a PyTorch file (starts with 68 65 6c 6c)");
  b.n = 1;
  CHECK_ERR(RB, "not a PyTorch file (only 1 bytes)");
  b.n = 0;
  CHECK_ERR(RB, "empty file");
#undef RB
  free(b.p);
  char err2[300];
  CHECK(pth_read(tmp_path("does-not-exist.pth"), err2, sizeof err2) == NULL && strstr(err2, "cannot open"));
}

static void make_zip_file(const char *path, const char *const *names, Buf *const *data, int n) {
  int e;
  zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &e);
  for (int i = 0; i < n; i++) {
    zip_source_t *src = zip_source_buffer(z, data[i]->p, data[i]->n, 0);
    zip_int64_t idx = zip_file_add(z, names[i], src, ZIP_FL_OVERWRITE);
    zip_set_file_compression(z, (zip_uint64_t)idx, i == 0 ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0);
  }
  zip_close(z);
}

static Buf file_bytes(const char *path) {
  Buf b = {0};
  FILE *f = fopen(path, "rb");
  unsigned char tmp[4096];
  size_t k;
  while (f && (k = fread(tmp, 1, sizeof tmp, f)) > 0) put(&b, tmp, k);
  if (f) fclose(f);
  return b;
}

static const TSpec zipped[] = {
    {"w", "FloatStorage", "0", 6, 0, 2, {2, 3}, {3, 1}},
    {"t", "FloatStorage", "0", 6, 0, 2, {3, 2}, {1, 3}},
    {"n", "LongStorage", "1", 1, 0, 0, {0}, {0}},
};

/* A torch.save-like zip: arch/data.pkl (deflated), arch/data/0 and /1 (stored), arch/version. */
static Buf make_zip(const TSpec *t, int nt, const char *fn, bool with_1, int64_t extra0) {
  Buf pkl = {0}, d0 = {0}, d1 = {0}, ver = {0};
  pk_state_dict(&pkl, t, nt, false, "torch._utils", fn);
  storage_bytes(&d0, "1");
  for (int64_t i = 0; i < extra0; i++) put_u8(&d0, 0);
  put_le(&d1, 7, 8);
  pk_ops(&ver, "3\n");
  const char *names[] = {"arch/data.pkl", "arch/data/0", "arch/version", "arch/data/1"};
  Buf *data[] = {&pkl, &d0, &ver, &d1};
  make_zip_file(tmp_path("z.pth"), names, data, with_1 ? 4 : 3);
  free(pkl.p);
  free(d0.p);
  free(d1.p);
  free(ver.p);
  return file_bytes(tmp_path("z.pth"));
}

static void test_zip_crafted(void) {
  Buf z = make_zip(zipped, 3, NULL, true, 0);
  char err[300] = "";
  TensorSet *s = pth_read_mem(z.p, z.n, err, sizeof err);
  if (!s) fprintf(stderr, "crafted zip: %s\n", err);
  CHECK(s && s->n == 3);
  if (s && s->n == 3) {
    const float *t = s->t[1].data;
    CHECK(t[0] == 0 && t[1] == 3 && t[2] == 1 && t[5] == 5);
    CHECK(s->t[2].ndim == 0 && *(int64_t *)s->t[2].data == 7);
  }
  tensor_set_free(s);
  truncate_and_corrupt(&z);
  free(z.p);
#define RZ(e, n) read_buf(&z, e, n)
  z = make_zip(zipped, 3, NULL, false, 0);
  CHECK_ERR(RZ, "zip archive has no record 'arch/data/1'");
  free(z.p);
  z = make_zip(zipped, 3, NULL, true, 3);
  CHECK_ERR(RZ, "zip record 'arch/data/0' has 27 bytes, expected 24");
  free(z.p);
  z = make_zip(zipped, 3, "_rebuild_from_type_v2", true, 0);
  CHECK_ERR(RZ, "unsupported pickle global 'torch._utils._rebuild_from_type_v2'");
  free(z.p);
  TSpec legacy_style[1] = {zipped[0]};
  z = make_zip(legacy_style, 1, NULL, true, 0);
  z.n -= 1; /* no end of central directory any more */
  CHECK_ERR(RZ, "damaged or truncated zip archive");
  free(z.p);
#undef RZ
}

/* ---- json_min ---- */

static void json_case(const char *text, bool ok_expected) {
  char err[200] = "";
  JsonIn j;
  json_in_init(&j, text, strlen(text), err, sizeof err);
  bool ok = json_skip(&j) && json_end(&j);
  if (ok == ok_expected && (ok || err[0])) t_passed++;
  else {
    t_failed++;
    fprintf(stderr, "json \"%s\": %s (%s)\n", text, ok ? "accepted" : "rejected", err);
  }
}

static void test_json(void) {
  json_case("{\"a\": [1, -2.5e3, true, false, null, \"x\\u00e9\\ud83d\\ude00\"], \"b\": {}}", true);
  json_case("  [ ]  ", true);
  json_case("0", true);
  json_case("[1,]", false);
  json_case("{\"a\":1,}", false);
  json_case("01", false);
  json_case("1.", false);
  json_case("-", false);
  json_case("\"abc", false);
  json_case("\"a\x01\"", false);
  json_case("\"\\x\"", false);
  json_case("\"\\ud800\"", false);
  json_case("\"\\udc00\"", false);
  json_case("\"\xc3\x28\"", false);
  json_case("\"\xed\xa0\x80\"", false); /* encoded surrogate */
  json_case("{\"a\" 1}", false);
  json_case("{1:2}", false);
  json_case("tru", false);
  json_case("[1] x", false);
  json_case("", false);
  char deep[200];
  memset(deep, '[', 100);
  memset(deep + 100, ']', 100);
  deep[199] = 0;
  json_case(deep, false); /* unbalanced anyway, and too deep */
  char deep_ok[2 * JSON_MAX_DEPTH + 1];
  memset(deep_ok, '[', JSON_MAX_DEPTH);
  memset(deep_ok + JSON_MAX_DEPTH, ']', JSON_MAX_DEPTH);
  deep_ok[2 * JSON_MAX_DEPTH] = 0;
  json_case(deep_ok, true);
  char deep_bad[2 * JSON_MAX_DEPTH + 3];
  memset(deep_bad, '[', JSON_MAX_DEPTH + 1);
  memset(deep_bad + JSON_MAX_DEPTH + 1, ']', JSON_MAX_DEPTH + 1);
  deep_bad[2 * JSON_MAX_DEPTH + 2] = 0;
  json_case(deep_bad, false);
  int64_t v;
  char err[100];
  JsonIn j;
  json_in_init(&j, "-9223372036854775808", 20, err, sizeof err);
  CHECK(json_int(&j, &v) && v == INT64_MIN);
  json_in_init(&j, "9223372036854775808", 19, err, sizeof err);
  CHECK(!json_int(&j, &v) && strstr(err, "out of range"));
  json_in_init(&j, "1e3", 3, err, sizeof err);
  CHECK(!json_int(&j, &v) && strstr(err, "expected an integer"));
  JsonOut o = {0};
  json_str(&o, "a\"\\\n\x01\xc3\xa9/", 8);
  static const char esc[] = "\"a\\\"\\\\\\n\\u0001\xc3\xa9/\"";
  CHECK(o.len == sizeof esc - 1 && !memcmp(o.p, esc, o.len));
  json_out_free(&o);
}

/* ---- safetensors ---- */

static TensorSet *sample_set(void) {
  TensorSet *s = tensor_set_new();
  int64_t d23[2] = {2, 3}, d5[1] = {5}, d3[1] = {3}, d2[1] = {2}, d11[2] = {1, 1}, d7[1] = {7}, d0[1] = {0},
          d4[1] = {4}, d203[3] = {2, 0, 3};
  unsigned char bytes[64];
  for (int i = 0; i < 64; i++) bytes[i] = (unsigned char)(i * 37 + 11);
  tensor_set_add(s, "i8", DT_I8, 1, d7, bytes); /* odd size first: alignment needs reordering */
  tensor_set_add(s, "conv.weight", DT_F32, 2, d23, bytes);
  tensor_set_add(s, "scalar.f64", DT_F64, 0, NULL, bytes + 3);
  tensor_set_add(s, "h", DT_F16, 1, d5, bytes + 1);
  tensor_set_add(s, "bf", DT_BF16, 1, d3, bytes + 2);
  tensor_set_add(s, "num_batches_tracked", DT_I64, 0, NULL, bytes + 5);
  tensor_set_add(s, "l", DT_I64, 1, d2, bytes + 7);
  tensor_set_add(s, "i", DT_I32, 2, d11, bytes + 9);
  tensor_set_add(s, "s", DT_I16, 1, d3, bytes + 4);
  tensor_set_add(s, "empty", DT_U8, 1, d0, NULL);
  tensor_set_add(s, "b", DT_BOOL, 1, d4, (const unsigned char[]){1, 0, 1, 1});
  tensor_set_add(s, "empty3", DT_F32, 3, d203, NULL);
  tensor_set_add(s, "ünï\"cødé\n", DT_U8, 1, d2, bytes);
  return s;
}

static bool sets_equal(const TensorSet *a, const TensorSet *b) {
  if (!a || !b || a->n != b->n) return false;
  for (int i = 0; i < a->n; i++)
    if (!tensor_equal(&a->t[i], &b->t[i])) return false;
  return true;
}

static void test_safetensors_roundtrip(void) {
  TensorSet *s = sample_set();
  CHECK_EQ_I64(s->n, 13);
  char err[300] = "", *meta = NULL;
  const char *path = tmp_path("rt.safetensors");
  CHECK(safetensors_write(s, path, "{ \"format\" : \"pt\", \"k\\\"\\n\": \"v\\u00e9\" }", err, sizeof err));
  TensorSet *r = safetensors_read_ex(path, &meta, err, sizeof err);
  if (!r) fprintf(stderr, "round trip: %s\n", err);
  CHECK(sets_equal(s, r));
  CHECK_STR(meta, "{\"format\":\"pt\",\"k\\\"\\n\":\"v\xc3\xa9\"}");
  free(meta);
  tensor_set_free(r);
  /* file layout: 8-aligned data start, space padding, every tensor aligned to its element size */
  Buf f = file_bytes(path);
  uint64_t hl = 0;
  for (int i = 7; i >= 0; i--) hl = (hl << 8) | f.p[i];
  CHECK(hl % 8 == 0 && f.p[8] == '{' && f.p[8 + hl - 1] == ' ' && hl + 8 <= f.n);
  unsigned char *enc;
  size_t enclen;
  CHECK(safetensors_encode(s, "{\"format\":\"pt\",\"k\\\"\\n\":\"v\xc3\xa9\"}", &enc, &enclen, err, sizeof err));
  CHECK(enclen == f.n && !memcmp(enc, f.p, f.n));
  free(enc);
  char *hdr = strndup((const char *)f.p + 8, (size_t)hl);
  int aligned = 0;
  for (int i = 0; i < s->n; i++) { /* each tensor's data starts at a multiple of its element size */
    JsonOut key = {0};
    json_str(&key, s->t[i].name, strlen(s->t[i].name));
    json_raw(&key, "", 1);
    const char *at = strstr(hdr, key.p), *off = at ? strstr(at, "\"data_offsets\":[") : NULL;
    long long begin = off ? strtoll(off + 16, NULL, 10) : -1;
    aligned += begin >= 0 && begin % (long long)dtype_size(s->t[i].dtype) == 0;
    json_out_free(&key);
  }
  CHECK_EQ_I64(aligned, s->n);
  free(hdr);
  r = safetensors_read_mem(f.p, f.n, NULL, err, sizeof err);
  CHECK(sets_equal(s, r));
  tensor_set_free(r);
  free(f.p);
  /* no metadata, then reference bytes for a one-tensor file */
  CHECK(safetensors_write(s, path, NULL, err, sizeof err));
  r = safetensors_read_ex(path, &meta, err, sizeof err);
  CHECK(sets_equal(s, r) && meta == NULL);
  tensor_set_free(r);
  tensor_set_free(s);
}

/* Byte-exact reference layout, writer-side rejections, the empty file. */
static void test_safetensors_small(void) {
  char err[300] = "";
  const char *path = tmp_path("rt.safetensors");
  unsigned char *enc;
  size_t enclen;
  TensorSet *s = tensor_set_new();
  int64_t d2[1] = {2};
  float v[2] = {1.0f, 2.0f};
  tensor_set_add(s, "a", DT_F32, 1, d2, v);
  CHECK(safetensors_encode(s, NULL, &enc, &enclen, err, sizeof err));
  static const char want[] = "\x38\0\0\0\0\0\0\0{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}  "
                             "\0\0\x80\x3f\0\0\0\x40";
  CHECK(enclen == sizeof want - 1 && !memcmp(enc, want, enclen));
  free(enc);
  CHECK(!safetensors_write(s, path, "{\"a\": 1}", err, sizeof err) && strstr(err, "not a string"));
  CHECK(!safetensors_write(s, path, "[]", err, sizeof err) && strstr(err, "metadata JSON"));
  CHECK(!safetensors_write(s, path, "{\"a\":\"1\",\"a\":\"2\"}", err, sizeof err) && strstr(err, "appears twice"));
  CHECK(!safetensors_write(s, "/nonexistent-dir/x.safetensors", NULL, err, sizeof err) && strstr(err, "cannot write /nonexistent-dir/x.safetensors: No such file or directory"));
  s->t[0].nbytes = 4;
  CHECK(!safetensors_write(s, path, NULL, err, sizeof err) && strstr(err, "nbytes 4"));
  s->t[0].nbytes = 8;
  tensor_set_free(s);
  s = tensor_set_new();
  CHECK(safetensors_encode(s, NULL, &enc, &enclen, err, sizeof err));
  CHECK(enclen == 16 && !memcmp(enc, "\x08\0\0\0\0\0\0\0{}      ", 16));
  TensorSet *e = safetensors_read_mem(enc, enclen, NULL, err, sizeof err);
  CHECK(e && e->n == 0);
  tensor_set_free(e);
  free(enc);
  tensor_set_free(s);
}

/* A small file: {"a": F32 [2] at [0,8], "b": U8 [3] at [8,11]}, 11 data bytes. */
static void st_file(Buf *b, const char *header, size_t data_len) {
  b->n = 0;
  put_le(b, strlen(header), 8);
  put(b, header, strlen(header));
  for (size_t i = 0; i < data_len; i++) put_u8(b, (unsigned)i);
}

static TensorSet *st_read(const Buf *b, char *err, size_t n) { return safetensors_read_mem(b->p, b->n, NULL, err, n); }

static void st_err(const char *header, size_t data_len, const char *want) {
  Buf b = {0};
  st_file(&b, header, data_len);
#define RS(e, n) st_read(&b, e, n)
  CHECK_ERR(RS, want);
#undef RS
  free(b.p);
}

/* Every truncation and every single-bit flip of a small valid file. */
static void test_safetensors_reject(void) {
  static const char good[] = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                             "\"b\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[8,11]}}";
  Buf b = {0};
  st_file(&b, good, 11);
  char err[300];
  TensorSet *s = safetensors_read_mem(b.p, b.n, NULL, err, sizeof err);
  CHECK(s && s->n == 2 && !strcmp(s->t[1].name, "b"));
  tensor_set_free(s);
  int accepted = 0, msgless = 0;
  for (size_t len = 0; len < b.n; len++) {
    err[0] = 0;
    s = safetensors_read_mem(b.p, len, NULL, err, sizeof err);
    accepted += s != NULL;
    msgless += !s && !err[0];
    tensor_set_free(s);
  }
  CHECK_EQ_I64(accepted, 0);
  unsigned char *c = malloc(b.n);
  for (size_t i = 0; i < b.n; i++)
    for (unsigned x = 1; x < 256; x <<= 1) {
      memcpy(c, b.p, b.n);
      c[i] ^= (unsigned char)x;
      err[0] = 0;
      s = safetensors_read_mem(c, b.n, NULL, err, sizeof err);
      msgless += !s && !err[0];
      tensor_set_free(s);
    }
  free(c);
  CHECK_EQ_I64(msgless, 0);
  free(b.p);
}

static void test_safetensors_header_errors(void) {
  Buf b = {0};
  put_le(&b, 100000001, 8);
  put(&b, "{}", 2);
#define RS(e, n) st_read(&b, e, n)
  CHECK_ERR(RS, "over the 100000000-byte limit");
  b.n = 0;
  put_le(&b, 1000, 8);
  put(&b, "{}", 2);
  CHECK_ERR(RS, "truncated: header length 1000, but only 2 bytes follow");
  b.n = 3;
  CHECK_ERR(RS, "too short");
#undef RS
  free(b.p);
  st_err(" {}", 0, "does not start with '{'");
  st_err("{} x", 0, "header: byte 3: unexpected 'x'");
  st_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 12, "the data buffer has 12 bytes but the tensors cover 8");
  st_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "past the data buffer");
  st_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, "reversed");
  st_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "F32 x shape needs 12");
  st_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[9,12]}}", 12, "tensor 'b': data_offsets begin at 9, expected 8");
  st_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[6,9]}}", 9, "begin at 6, expected 8");
  st_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 16, "tensor 'a': duplicate tensor name");
  st_err("{\"a\":{\"dtype\":\"U16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, "dtype 'U16' is not supported");
  st_err("{\"a\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, "unknown dtype 'F33'");
  st_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,4]}}", 4, "shape has a negative value");
  st_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4, "more than 8");
  st_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0.0,4]}}", 4, "expected an integer");
  st_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4, "data_offsets has 1 values, expected 2");
  st_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "missing field 'data_offsets'");
  st_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4, "unknown field 'x'");
  st_err("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "field 'dtype' appears twice");
  st_err("{\"a\":[]}", 0, "tensor 'a': byte 5: unexpected '[', expected '{'");
  st_err("{\"__metadata__\":{\"a\":1}}", 0, "__metadata__ value of 'a' is not a string");
  st_err("{\"__metadata__\":{},\"__metadata__\":{}}", 0, "__metadata__ appears twice");
  st_err("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0, "__metadata__ key 'k' appears twice");
  st_err("{\"a\\u0000b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "contains a NUL byte");
  st_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,4]}}", 4, "shape overflows");
  st_err("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,99999999999999999999]}}", 4, "out of range");
}

/* ---- reference files ---- */

static bool exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

static const NamedTensor *want_tensor(const TensorSet *s, const char *name, DType dt, int ndim, const int64_t *dims) {
  const NamedTensor *t = tensor_set_find(s, name);
  bool ok = t && t->dtype == dt && t->ndim == ndim;
  for (int i = 0; ok && i < ndim; i++) ok = t->dims[i] == dims[i];
  if (ok) t_passed++;
  else {
    t_failed++;
    fprintf(stderr, "tensor %s: missing or wrong dtype/shape\n", name);
  }
  return ok ? t : NULL;
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && !strcmp(s + n - k, suffix);
}

static void check_bn_vars(const TensorSet *s) {
  int nvar = 0, bad = 0;
  for (int i = 0; i < s->n; i++) {
    if (!ends_with(s->t[i].name, ".running_var")) continue;
    nvar++;
    const float *f = s->t[i].data;
    for (int64_t k = 0; k < tensor_numel(&s->t[i]); k++) bad += !(f[k] > 0);
  }
  CHECK(nvar > 40);
  CHECK_EQ_I64(bad, 0);
}

static TensorSet *test_mac_small(const char *ref) {
  char path[512], err[300] = "";
  snprintf(path, sizeof path, "%s/weights/mac_small.pth", ref);
  TensorSet *s = pth_read(path, err, sizeof err);
  if (!s) fprintf(stderr, "mac_small.pth: %s\n", err);
  CHECK(s != NULL);
  if (!s) return NULL;
  CHECK_EQ_I64(s->n, 366);
  CHECK_STR(s->t[0].name, "encoder.conv1.0.weight");
  CHECK_STR(s->t[s->n - 1].name, "decoder._1x1_BR.bias");
  want_tensor(s, "encoder.conv1.0.weight", DT_F32, 4, (int64_t[]){16, 3, 3, 3});
  want_tensor(s, "encoder.residuals.0.op.0.weight", DT_F32, 4, (int64_t[]){16, 8, 1, 1});
  want_tensor(s, "decoder._1x1_TL.conv.weight", DT_F32, 4, (int64_t[]){128, 256, 1, 1});
  const NamedTensor *nb = want_tensor(s, "encoder.conv1.1.num_batches_tracked", DT_I64, 0, NULL);
  CHECK(nb && nb->nbytes == 8);
  int n64 = 0;
  for (int i = 0; i < s->n; i++) n64 += s->t[i].dtype == DT_I64;
  CHECK_EQ_I64(n64, 60);
  check_bn_vars(s);
  return s;
}

static void test_lat_small(const char *ref) {
  char path[512], err[300] = "";
  snprintf(path, sizeof path, "%s/weights/lat_small.pth", ref);
  TensorSet *s = pth_read(path, err, sizeof err);
  if (!s) fprintf(stderr, "lat_small.pth: %s\n", err);
  CHECK(s && s->n == 294);
  if (s) {
    want_tensor(s, "encoder.residuals.0.op.0.weight", DT_F32, 4, (int64_t[]){16, 16, 1, 1});
    check_bn_vars(s);
  }
  tensor_set_free(s);
}

static bool all_equal(const NamedTensor *t, float v) {
  const float *f = t->data;
  for (int64_t k = 0; k < tensor_numel(t); k++)
    if (f[k] != v) return false;
  return t->dtype == DT_F32;
}

static void test_supernet(const char *ref) {
  char path[512], err[300] = "";
  snprintf(path, sizeof path, "%s/supernet_small.init.pth", ref);
  TensorSet *s = pth_read(path, err, sizeof err);
  if (!s) fprintf(stderr, "supernet_small.init.pth: %s\n", err);
  CHECK(s && s->n == 4452);
  if (!s) return;
  int arch = 0, cost = 0, temp = 0;
  for (int i = 0; i < s->n; i++) {
    const NamedTensor *t = &s->t[i];
    if (ends_with(t->name, ".gumble_arch_params"))
      arch += t->ndim == 2 && t->dims[0] == 13 && t->dims[1] == 1 && all_equal(t, 1.0f);
    if (ends_with(t->name, ".ops_cost")) cost += tensor_numel(t) == 13 && all_equal(t, 0.0f);
    if (ends_with(t->name, ".gumbel_temperature")) temp += tensor_numel(t) == 1 && all_equal(t, 1.0f);
  }
  CHECK_EQ_I64(arch, 20);
  CHECK_EQ_I64(cost, 20);
  CHECK_EQ_I64(temp, 20);
  const NamedTensor *w = want_tensor(s, "encoder.conv1.0.weight", DT_F32, 4, (int64_t[]){16, 3, 3, 3});
  if (w) { /* kaiming_normal_(mode='fan_out', relu): std = sqrt(2 / (16 * 3 * 3)) */
    double sum = 0, sq = 0, n = (double)tensor_numel(w);
    const float *f = w->data;
    for (int64_t k = 0; k < tensor_numel(w); k++) sum += f[k], sq += (double)f[k] * f[k];
    double mean = sum / n, sd = sqrt(sq / n - mean * mean), want = sqrt(2.0 / (16 * 9));
    CHECK(fabs(sd - want) < 0.2 * want);
    CHECK(fabs(mean) < 0.2 * want);
  }
  const NamedTensor *bn = want_tensor(s, "encoder.conv1.1.weight", DT_F32, 1, (int64_t[]){16});
  CHECK(bn && all_equal(bn, 1.0f));
  tensor_set_free(s);
}

/* Truncated and corrupted copies of a real file never crash and always explain themselves. */
static void damage_real(const char *path, int ntrunc, int ncorrupt) {
  Buf b = file_bytes(path);
  if (!b.n) return;
  int accepted = 0, msgless = 0;
  for (int k = 0; k <= ntrunc; k++) {
    size_t len = k < 256 ? (size_t)k : (size_t)((double)b.n * (k - 256) / (ntrunc - 255));
    if (len >= b.n) len = b.n - 1 - (size_t)(k % 16);
    char err[300] = "";
    TensorSet *s = pth_read_mem(b.p, len, err, sizeof err);
    accepted += s != NULL;
    msgless += !s && !err[0];
    tensor_set_free(s);
  }
  CHECK_EQ_I64(accepted, 0);
  uint64_t x = 88172645463325252ull;
  for (int k = 0; k < ncorrupt; k++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    size_t at = (size_t)(x % (k % 2 ? (b.n < 60000 ? b.n : 60000) : b.n)); /* half of them in the pickles */
    unsigned char old = b.p[at];
    b.p[at] ^= (unsigned char)(1u << (x >> 60 & 7));
    char err[300] = "";
    TensorSet *s = pth_read_mem(b.p, b.n, err, sizeof err);
    msgless += !s && !err[0];
    tensor_set_free(s);
    b.p[at] = old;
  }
  CHECK_EQ_I64(msgless, 0);
  free(b.p);
}

static void test_convert(TensorSet *mac) {
  char err[300] = "";
  const char *path = tmp_path("mac_small.safetensors");
  CHECK(safetensors_write(mac, path, "{\"source\":\"mac_small.pth\"}", err, sizeof err));
  TensorSet *r = safetensors_read(path, err, sizeof err);
  if (!r) fprintf(stderr, "mac_small.safetensors: %s\n", err);
  CHECK(sets_equal(mac, r));
  tensor_set_free(r);
  unlink(path);
}

static void cleanup(void) {
  static const char *files[] = {"crafted.pth", "z.pth", "rt.safetensors", "mac_small.safetensors"};
  for (size_t i = 0; i < sizeof files / sizeof *files; i++) unlink(tmp_path(files[i]));
  rmdir(tmpdir);
}

int main(int argc, char **argv) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/test_weights.XXXXXX");
  if (!mkdtemp(tmpdir)) return perror("mkdtemp"), 1;
  test_tensor_set();
  test_pickle();
  test_legacy_crafted();
  test_legacy_bad_entries();
  test_legacy_shapes();
  test_zip_crafted();
  test_json();
  test_safetensors_roundtrip();
  test_safetensors_small();
  test_safetensors_reject();
  test_safetensors_header_errors();
  const char *ref = argc > 1 ? argv[1] : NULL;
  char probe[512];
  snprintf(probe, sizeof probe, "%s/weights/mac_small.pth", ref ? ref : ".");
  if (!ref || !exists(probe)) {
    printf("SKIPPED: reference weights not found (%s); self-contained parts only\n", probe);
    cleanup();
    int rc = test_summary();
    return rc ? rc : 77;
  }
  TensorSet *mac = test_mac_small(ref);
  test_lat_small(ref);
  test_supernet(ref);
  if (mac) test_convert(mac);
  tensor_set_free(mac);
  damage_real(probe, 600, 400);
  snprintf(probe, sizeof probe, "%s/supernet_small.init.pth", ref);
  damage_real(probe, 200, 60);
  cleanup();
  return test_summary();
}
