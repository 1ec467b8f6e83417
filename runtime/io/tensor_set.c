/* tensor_set.c - TensorSet: an ordered list of named, contiguous host tensors with an
   open-addressing hash index (FNV-1a over the name) so that add and find are O(1). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "tensor_set.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "sqn weights I/O assumes a little-endian host"
#endif

struct TensorSetIndex {
  int *slot;  /* tensor position + 1; 0 = empty */
  size_t cap; /* power of two, >= 2 * count */
  int count;
};

static const struct {
  const char *name;
  size_t size;
} dtypes[DT__COUNT] = {
    [DT_F32] = {"F32", 4}, [DT_F64] = {"F64", 8}, [DT_F16] = {"F16", 2}, [DT_BF16] = {"BF16", 2},
    [DT_I64] = {"I64", 8}, [DT_I32] = {"I32", 4}, [DT_I16] = {"I16", 2}, [DT_I8] = {"I8", 1},
    [DT_U8] = {"U8", 1},   [DT_BOOL] = {"BOOL", 1},
};

size_t dtype_size(DType dt) { return (unsigned)dt < DT__COUNT ? dtypes[dt].size : 0; }

const char *dtype_name(DType dt) { return (unsigned)dt < DT__COUNT ? dtypes[dt].name : "?"; }

bool dtype_from_name(const char *name, DType *out) {
  for (int i = 0; i < DT__COUNT; i++)
    if (!strcmp(name, dtypes[i].name)) {
      *out = (DType)i;
      return true;
    }
  return false;
}

bool tensor_nbytes(DType dt, int ndim, const int64_t *dims, size_t *out) {
  size_t n = dtype_size(dt);
  if (!n || ndim < 0 || ndim > TENSOR_MAX_DIMS) return false;
  for (int i = 0; i < ndim; i++) {
    if (dims[i] < 0 || (uint64_t)dims[i] > SIZE_MAX) return false;
    if (__builtin_mul_overflow(n, (size_t)dims[i], &n)) return false;
  }
  if (n > (size_t)INT64_MAX) return false;
  *out = n;
  return true;
}

int64_t tensor_numel(const NamedTensor *t) {
  int64_t n = 1;
  for (int i = 0; i < t->ndim; i++) n *= t->dims[i];
  return n;
}

bool tensor_equal(const NamedTensor *a, const NamedTensor *b) {
  if (strcmp(a->name, b->name) || a->dtype != b->dtype || a->ndim != b->ndim || a->nbytes != b->nbytes)
    return false;
  for (int i = 0; i < a->ndim; i++)
    if (a->dims[i] != b->dims[i]) return false;
  return a->nbytes == 0 || !memcmp(a->data, b->data, a->nbytes);
}

/* ---- index ---- */

static size_t hash_name(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return (size_t)h;
}

/* Position of `name`'s slot: the one holding it, or the empty slot where it would go. */
static size_t index_probe(const TensorSet *s, const char *name) {
  const struct TensorSetIndex *ix = s->index;
  size_t i = hash_name(name) & (ix->cap - 1);
  while (ix->slot[i] && strcmp(s->t[ix->slot[i] - 1].name, name)) i = (i + 1) & (ix->cap - 1);
  return i;
}

static bool index_rebuild(TensorSet *s, size_t cap) {
  struct TensorSetIndex *ix = s->index;
  int *slot = calloc(cap, sizeof *slot);
  if (!slot) return false;
  free(ix->slot);
  ix->slot = slot;
  ix->cap = cap;
  ix->count = 0;
  for (int k = 0; k < s->n; k++) {
    ix->slot[index_probe(s, s->t[k].name)] = k + 1;
    ix->count++;
  }
  return true;
}

/* Makes room for one more name; false on out of memory. */
static bool index_reserve(TensorSet *s) {
  if (!s->index && !(s->index = calloc(1, sizeof *s->index))) return false;
  struct TensorSetIndex *ix = s->index;
  if (ix->count != s->n || ix->cap < 2 * ((size_t)s->n + 1)) {
    size_t cap = 16;
    while (cap < 2 * ((size_t)s->n + 1)) cap *= 2;
    return index_rebuild(s, cap < ix->cap ? ix->cap : cap);
  }
  return true;
}

static bool index_valid(const TensorSet *s) { return s->index && s->index->slot && s->index->count == s->n; }

/* ---- set ---- */

TensorSet *tensor_set_new(void) { return calloc(1, sizeof(TensorSet)); }

NamedTensor *tensor_set_find(const TensorSet *s, const char *name) {
  if (!s || !name) return NULL;
  if (index_valid(s)) {
    int k = s->index->slot[index_probe(s, name)];
    return k ? &s->t[k - 1] : NULL;
  }
  for (int i = 0; i < s->n; i++)
    if (!strcmp(s->t[i].name, name)) return &s->t[i];
  return NULL;
}

static bool grow(TensorSet *s) {
  if (s->n < s->cap) return true;
  if (s->cap > (1 << 29)) return false;
  int cap = s->cap ? s->cap * 2 : 16;
  NamedTensor *t = realloc(s->t, (size_t)cap * sizeof *t);
  if (!t) return false;
  s->t = t;
  s->cap = cap;
  return true;
}

NamedTensor *tensor_set_add(TensorSet *s, const char *name, DType dt, int ndim, const int64_t *dims,
                            const void *data) {
  size_t nbytes;
  if (!s || !name || !tensor_nbytes(dt, ndim, dims, &nbytes)) return NULL;
  if (!index_reserve(s) || !grow(s) || tensor_set_find(s, name)) return NULL;
  NamedTensor t = {.dtype = dt, .ndim = ndim, .nbytes = nbytes};
  for (int i = 0; i < ndim; i++) t.dims[i] = dims[i];
  t.name = malloc(strlen(name) + 1);
  t.data = data ? malloc(nbytes ? nbytes : 1) : calloc(nbytes ? nbytes : 1, 1);
  if (!t.name || !t.data) {
    free(t.name);
    free(t.data);
    return NULL;
  }
  strcpy(t.name, name);
  if (data && nbytes) memcpy(t.data, data, nbytes);
  s->t[s->n] = t;
  s->index->slot[index_probe(s, name)] = s->n + 1;
  s->index->count++;
  return &s->t[s->n++];
}

void tensor_set_free(TensorSet *s) {
  if (!s) return;
  for (int i = 0; i < s->n; i++) {
    free(s->t[i].name);
    free(s->t[i].data);
  }
  free(s->t);
  if (s->index) free(s->index->slot);
  free(s->index);
  free(s);
}

/* ---- files ---- */

static unsigned char *read_failed(FILE *f, void *buf, char *err, size_t errlen, const char *msg) {
  if (err && errlen) snprintf(err, errlen, "%s", msg);
  if (f) fclose(f);
  free(buf);
  return NULL;
}

unsigned char *tensor_file_read(const char *path, size_t *len, char *err, size_t errlen) {
  char msg[256];
  FILE *f = fopen(path, "rb");
  struct stat st;
  if (!f) return snprintf(msg, sizeof msg, "cannot open: %s", strerror(errno)), read_failed(NULL, NULL, err, errlen, msg);
  if (fstat(fileno(f), &st) != 0)
    return snprintf(msg, sizeof msg, "cannot read: %s", strerror(errno)), read_failed(f, NULL, err, errlen, msg);
  if (!S_ISREG(st.st_mode)) return read_failed(f, NULL, err, errlen, "not a regular file");
  if (st.st_size == 0) return read_failed(f, NULL, err, errlen, "empty file");
  if ((unsigned long long)st.st_size > SIZE_MAX / 2) return read_failed(f, NULL, err, errlen, "file too large");
  unsigned char *buf = malloc((size_t)st.st_size);
  if (!buf) return read_failed(f, NULL, err, errlen, "out of memory");
  *len = fread(buf, 1, (size_t)st.st_size, f);
  if (ferror(f) || *len != (size_t)st.st_size) {
    snprintf(msg, sizeof msg, "cannot read: %s", ferror(f) ? strerror(errno) : "file changed size while reading");
    return read_failed(f, buf, err, errlen, msg);
  }
  fclose(f);
  return buf;
}
