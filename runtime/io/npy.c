/* npy.c - reads and writes NumPy .npy files: the header dict ({'descr': '<f4', 'fortran_order':
   False, 'shape': (1, 3, 784, 1568), }) is parsed strictly; only little-endian C-order data. */
#include "npy.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "atomic_file.h"
#include "err.h"
#include "le.h"

#define fail err_set

static const struct { const char *descr; DType dt; } descrs[] = {
    {"<f4", DT_F32}, {"<f8", DT_F64}, {"<f2", DT_F16}, {"<i8", DT_I64},
    {"<i4", DT_I32}, {"<i2", DT_I16}, {"|i1", DT_I8}, {"|u1", DT_U8}, {"|b1", DT_BOOL}};

static bool parse_descr(const char *h, DType *dt) {
  const char *p = strstr(h, "'descr':");
  if (!p) return false;
  p += 8;
  while (*p == ' ') p++;
  for (size_t i = 0; i < sizeof descrs / sizeof descrs[0]; i++) {
    char want[16];
    snprintf(want, sizeof want, "'%s'", descrs[i].descr);
    if (!strncmp(p, want, strlen(want))) {
      *dt = descrs[i].dt;
      return true;
    }
  }
  return false;
}

static bool parse_shape(const char *h, int *ndim, int64_t *dims) {
  const char *p = strstr(h, "'shape':");
  if (!p || !(p = strchr(p, '('))) return false;
  p++;
  *ndim = 0;
  for (;;) {
    while (*p == ' ' || *p == ',') p++;
    if (*p == ')') return true;
    if (*p < '0' || *p > '9' || *ndim == TENSOR_MAX_DIMS) return false;
    char *end;
    errno = 0;
    long long v = strtoll(p, &end, 10);
    if (errno || v < 0) return false;
    dims[(*ndim)++] = v;
    p = end;
  }
}

static bool read_header(FILE *f, char *h, size_t cap, char *err, size_t n) {
  unsigned char pre[10];
  if (fread(pre, 1, 8, f) != 8 || memcmp(pre, "\x93NUMPY", 6)) return fail(err, n, "not a .npy file (bad magic)");
  size_t len;
  if (pre[6] == 1) {
    if (fread(pre + 8, 1, 2, f) != 2) return fail(err, n, "truncated header");
    len = le_get16(pre + 8);
  } else if (pre[6] == 2 || pre[6] == 3) {
    unsigned char l[4];
    if (fread(l, 1, 4, f) != 4) return fail(err, n, "truncated header");
    len = le_get32(l);
  } else {
    return fail(err, n, "unsupported .npy version %d", pre[6]);
  }
  if (len >= cap) return fail(err, n, "header too long (%zu bytes)", len);
  if (fread(h, 1, len, f) != len) return fail(err, n, "truncated header");
  h[len] = 0;
  return true;
}

/* The bytes after f's position when f is a regular file, else SIZE_MAX (unknown). */
static size_t bytes_left(FILE *f) {
  struct stat st;
  long pos = ftell(f);
  if (pos < 0 || fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < pos) return SIZE_MAX;
  return (size_t)(st.st_size - pos);
}

bool npy_read(const char *path, NamedTensor *out, char *err, size_t n) {
  memset(out, 0, sizeof *out);
  FILE *f = fopen(path, "rb");
  if (!f) return fail(err, n, "cannot open: %s", strerror(errno));
  char h[4096];
  bool ok = read_header(f, h, sizeof h, err, n);
  if (ok && strstr(h, "'fortran_order': True")) ok = fail(err, n, "Fortran-order arrays are not supported");
  if (ok && !parse_descr(h, &out->dtype)) ok = fail(err, n, "unsupported dtype (need little-endian f4, f8, i8, i4, u1, ...)");
  if (ok && !parse_shape(h, &out->ndim, out->dims)) ok = fail(err, n, "bad shape in the header");
  if (ok && !tensor_nbytes(out->dtype, out->ndim, out->dims, &out->nbytes)) ok = fail(err, n, "array too large");
  /* Before allocating: a small file must not make us allocate what its header claims. */
  if (ok && out->nbytes > bytes_left(f)) ok = fail(err, n, "truncated data (expected %zu bytes)", out->nbytes);
  if (ok && !(out->data = malloc(out->nbytes ? out->nbytes : 1))) ok = fail(err, n, "out of memory");
  if (ok && fread(out->data, 1, out->nbytes, f) != out->nbytes) ok = fail(err, n, "truncated data (expected %zu bytes)", out->nbytes);
  fclose(f);
  if (!ok) npy_free(out);
  else out->name = strdup(path);
  return ok;
}

static const char *descr_of(DType dt) {
  for (size_t i = 0; i < sizeof descrs / sizeof descrs[0]; i++)
    if (descrs[i].dt == dt) return descrs[i].descr;
  return NULL;
}

static int format_header(char *h, size_t cap, const NamedTensor *t, const char *descr) {
  char shape[256] = "";
  size_t used = 0;
  for (int i = 0; i < t->ndim; i++)
    used += (size_t)snprintf(shape + used, sizeof shape - used, "%lld%s", (long long)t->dims[i],
                             t->ndim == 1 ? "," : i + 1 < t->ndim ? ", " : "");
  int len = snprintf(h, cap, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, shape);
  int total = ((10 + len + 1 + 63) / 64) * 64; /* magic + header + '\n', padded to 64 bytes */
  memset(h + len, ' ', (size_t)(total - 10 - len - 1));
  h[total - 10 - 1] = '\n';
  return total - 10;
}

bool npy_write(const char *path, const NamedTensor *t, char *err, size_t n) {
  const char *descr = descr_of(t->dtype);
  if (!descr) return fail(err, n, "cannot write dtype %s as .npy", dtype_name(t->dtype));
  char h[512];
  int hlen = format_header(h, sizeof h, t, descr);
  AtomicFile f;
  if (!atomic_open(&f, path, err, n)) return false;
  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 255), (unsigned char)(hlen >> 8)};
  bool ok = fwrite(pre, 1, 10, f.f) == 10 && fwrite(h, 1, (size_t)hlen, f.f) == (size_t)hlen &&
            fwrite(t->data, 1, t->nbytes, f.f) == t->nbytes;
  return atomic_close(&f, ok, err, n);
}

void npy_free(NamedTensor *t) {
  free(t->name);
  free(t->data);
  memset(t, 0, sizeof *t);
}
