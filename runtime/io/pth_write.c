/* pth_write.c - a TensorSet to a PyTorch zip-format state_dict (pth_write.h), the mirror of
   pth_read.c. Three steps: the pickle (a handful of opcode emitters below, protocol 2 as torch.save
   writes it, no memo: every entry spells its globals out, which Python's and our unpickler accept);
   the zip archive, built in memory with libzip, every record stored, each tensor's record padded
   with an extra field (id "FB", as torch's writer does) so that its bytes start at a multiple of 64;
   then the archive's bytes streamed into an atomic file (temporary + fsync + rename). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>
#include "atomic_file.h"
#include "le.h"
#include "pth_write.h"

#define ARCHIVE "archive/"
#define DATA_ALIGN 64
#define ZIP_LOCAL_HEADER 30   /* fixed part of a zip local file header */
#define PAD_FIELD_ID 0x4246   /* "FB": torch's padding extra field */

/* ---- the pickle ---- */

typedef struct Buf {
  unsigned char *p;
  size_t n, cap;
  bool oom;
} Buf;

static void put(Buf *b, const void *data, size_t len) {
  if (b->oom) return;
  if (b->n + len > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + len) cap *= 2;
    unsigned char *p = realloc(b->p, cap);
    if (!p) return (void)(b->oom = true);
    b->p = p, b->cap = cap;
  }
  memcpy(b->p + b->n, data, len);
  b->n += len;
}

static void op(Buf *b, unsigned char code) { put(b, &code, 1); }

static void put_str(Buf *b, const char *s) { /* BINUNICODE: u32 length, UTF-8 bytes */
  unsigned char len[4];
  le_put32(len, (uint32_t)strlen(s));
  op(b, 'X');
  put(b, len, 4);
  put(b, s, strlen(s));
}

static void put_int(Buf *b, int64_t v) { /* BININT1, BININT2, BININT, else LONG1 */
  unsigned char le[8];
  le_put64(le, (uint64_t)v);
  if (v >= 0 && v < 256) op(b, 'K'), put(b, le, 1);
  else if (v >= 0 && v < 65536) op(b, 'M'), put(b, le, 2);
  else if (v >= INT32_MIN && v <= INT32_MAX) op(b, 'J'), put(b, le, 4);
  else op(b, 0x8a), op(b, 8), put(b, le, 8);
}

static void put_global(Buf *b, const char *module, const char *name) { /* GLOBAL "module\nname\n" */
  op(b, 'c');
  put(b, module, strlen(module)), op(b, '\n');
  put(b, name, strlen(name)), op(b, '\n');
}

static void put_ints(Buf *b, const int64_t *v, int n) { /* a tuple of ints */
  if (n == 0) return op(b, ')');
  if (n > 3) op(b, '(');
  for (int i = 0; i < n; i++) put_int(b, v[i]);
  op(b, n > 3 ? 't' : (unsigned char)(0x84 + n)); /* TUPLE, or TUPLE1..TUPLE3 */
}

static void put_empty_ordered_dict(Buf *b) {
  put_global(b, "collections", "OrderedDict");
  op(b, ')'), op(b, 'R'); /* OrderedDict() */
}

static const char *storage_class(DType dt) {
  static const char *names[DT__COUNT] = {
      [DT_F32] = "FloatStorage", [DT_F64] = "DoubleStorage", [DT_F16] = "HalfStorage", [DT_BF16] = "BFloat16Storage",
      [DT_I64] = "LongStorage",  [DT_I32] = "IntStorage",    [DT_I16] = "ShortStorage", [DT_I8] = "CharStorage",
      [DT_U8] = "ByteStorage",   [DT_BOOL] = "BoolStorage"};
  return (unsigned)dt < DT__COUNT ? names[dt] : NULL;
}

/* name: _rebuild_tensor_v2(persistent_load(('storage', torch.<T>Storage, 'key', 'cpu', numel)), 0,
   size, stride, False, OrderedDict()) for a contiguous tensor that owns storage `key`. */
static void put_tensor(Buf *b, const NamedTensor *t, int key) {
  int64_t stride[TENSOR_MAX_DIMS], step = 1;
  for (int d = t->ndim - 1; d >= 0; d--) stride[d] = step, step *= t->dims[d];
  char keytext[24];
  snprintf(keytext, sizeof keytext, "%d", key);
  put_str(b, t->name);
  put_global(b, "torch._utils", "_rebuild_tensor_v2");
  op(b, '(');
  op(b, '(');
  put_str(b, "storage"), put_global(b, "torch", storage_class(t->dtype)), put_str(b, keytext), put_str(b, "cpu");
  put_int(b, tensor_numel(t));
  op(b, 't'), op(b, 'Q'); /* the id tuple, BINPERSID */
  put_int(b, 0);
  put_ints(b, t->dims, t->ndim);
  put_ints(b, stride, t->ndim);
  op(b, 0x89); /* requires_grad = False */
  put_empty_ordered_dict(b);
  op(b, 't'), op(b, 'R');
}

/* The state_dict: OrderedDict() then SETITEMS of every entry, in the set's order. */
static bool pickle_state_dict(const TensorSet *s, Buf *b) {
  op(b, 0x80), op(b, 2); /* PROTO 2 */
  put_empty_ordered_dict(b);
  op(b, '(');
  for (int i = 0; i < s->n; i++) put_tensor(b, &s->t[i], i);
  op(b, 'u'), op(b, '.'); /* SETITEMS, STOP */
  return !b->oom;
}

/* ---- the archive ---- */

typedef struct Writer {
  zip_t *za;
  uint64_t offset;          /* where the next record's local header starts */
  PhaseProgress *progress;
  long ntensors;
  char *err;
  size_t errlen;
} Writer;

static bool zip_fail(Writer *w, const char *what, const char *name) {
  snprintf(w->err, w->errlen, "zip: %s %s: %s", what, name, zip_strerror(w->za));
  return false;
}

/* Adds record ARCHIVE+name holding data[0..len) (not copied: it must live until the archive is
   closed), stored, with a fixed time, and padded so that the data starts DATA_ALIGN-aligned. */
static bool add_record(Writer *w, const char *name, const void *data, size_t len, bool align) {
  char full[1100];
  snprintf(full, sizeof full, "%s%s", ARCHIVE, name);
  zip_source_t *src = zip_source_buffer(w->za, data, len, 0);
  zip_int64_t i = src ? zip_file_add(w->za, full, src, ZIP_FL_ENC_UTF_8) : -1;
  if (i < 0) return zip_source_free(src), zip_fail(w, "cannot add", full);
  uint64_t header = ZIP_LOCAL_HEADER + strlen(full);
  if (align) {
    static const unsigned char zeros[DATA_ALIGN + 4];
    uint64_t pad = (DATA_ALIGN - (w->offset + header + 4) % DATA_ALIGN) % DATA_ALIGN;
    if (zip_file_extra_field_set(w->za, (zip_uint64_t)i, PAD_FIELD_ID, ZIP_EXTRA_FIELD_NEW, zeros, (zip_uint16_t)pad,
                                 ZIP_FL_LOCAL) < 0)
      return zip_fail(w, "cannot pad", full);
    header += 4 + pad;
  }
  if (zip_set_file_compression(w->za, (zip_uint64_t)i, ZIP_CM_STORE, 0) < 0 ||
      zip_file_set_mtime(w->za, (zip_uint64_t)i, 315532800 + 86400 * 366, 0) < 0) /* 1981-01-01: reproducible */
    return zip_fail(w, "cannot set up", full);
  w->offset += header + len;
  return true;
}

static void on_progress(zip_t *za, double done, void *ud) {
  (void)za;
  Writer *w = ud;
  if (w->progress) phase_tick(w->progress, (long)(done * (double)w->ntensors));
}

/* All records into the archive: data.pkl, byteorder, data/0 .. data/N-1, version. */
static bool add_records(Writer *w, const TensorSet *s, const Buf *pkl) {
  if (!add_record(w, "data.pkl", pkl->p, pkl->n, false) || !add_record(w, "byteorder", "little", 6, false)) return false;
  for (int i = 0; i < s->n; i++) {
    char key[32];
    snprintf(key, sizeof key, "data/%d", i);
    if (!add_record(w, key, s->t[i].data, s->t[i].nbytes, true)) return false;
  }
  return add_record(w, "version", "3\n", 2, false);
}

/* Copies the finished archive (a buffer source) into f. */
static bool copy_source(zip_source_t *src, FILE *f, Writer *w) {
  unsigned char chunk[1 << 16];
  zip_int64_t got;
  if (zip_source_open(src) < 0) return snprintf(w->err, w->errlen, "zip: cannot reopen the archive"), false;
  while ((got = zip_source_read(src, chunk, sizeof chunk)) > 0)
    if (fwrite(chunk, 1, (size_t)got, f) != (size_t)got) break;
  zip_source_close(src);
  if (got != 0 && !ferror(f)) snprintf(w->err, w->errlen, "zip: cannot read the archive back");
  return got == 0;
}

/* Builds the archive in memory; on success it is left in *out (the caller frees it). */
static bool build_archive(Writer *w, const TensorSet *s, const Buf *pkl, zip_source_t **out) {
  zip_error_t ze;
  zip_error_init(&ze);
  zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &ze);
  if (src) w->za = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
  if (!w->za) {
    snprintf(w->err, w->errlen, "zip: %s", zip_error_strerror(&ze));
    zip_source_free(src);
    return zip_error_fini(&ze), false;
  }
  zip_error_fini(&ze);
  zip_source_keep(src); /* survives zip_close: it holds the result */
  zip_register_progress_callback_with_state(w->za, 0.01, on_progress, NULL, w);
  bool ok = add_records(w, s, pkl);
  if (ok && zip_close(w->za) < 0) ok = zip_fail(w, "cannot write", "the archive");
  if (!ok) zip_discard(w->za), zip_source_free(src);
  else *out = src;
  return ok;
}

bool pth_write(const TensorSet *s, const char *path, PhaseProgress *progress, char *err, size_t n) {
  for (int i = 0; i < s->n; i++)
    if (!storage_class(s->t[i].dtype)) return snprintf(err, n, "tensor '%s' has an unknown dtype", s->t[i].name), false;
  AtomicFile af;
  if (!atomic_open(&af, path, err, n)) return false;
  Writer w = {.progress = progress, .ntensors = s->n, .err = err, .errlen = n};
  Buf pkl = {0};
  zip_source_t *archive = NULL;
  bool ok = pickle_state_dict(s, &pkl);
  if (!ok) snprintf(err, n, "out of memory");
  ok = ok && build_archive(&w, s, &pkl, &archive) && copy_source(archive, af.f, &w);
  int e = errno;
  if (archive) zip_source_free(archive);
  free(pkl.p);
  if (ok) return atomic_close(&af, true, err, n);
  char why[600];
  snprintf(why, sizeof why, "%s", err);
  errno = e;
  atomic_close(&af, false, err, n); /* removes the temporary */
  if (why[0]) snprintf(err, n, "cannot write %s: %s", path, why);
  return false;
}
