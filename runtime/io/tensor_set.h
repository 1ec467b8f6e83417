/* tensor_set.h - named host tensors: the in-memory form of a weights file (a PyTorch state_dict
   read by pth_read.c, a safetensors file read or written by safetensors.c). Every tensor is
   contiguous, C order, in host (little-endian) byte order, and owns its name and data. A set keeps
   insertion order (for a state_dict: the file's order) and has a hash index for lookups by name.
   Format details and error messages: docs/weights.md. */
#ifndef SQN_TENSOR_SET_H
#define SQN_TENSOR_SET_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { DT_F32, DT_F64, DT_F16, DT_BF16, DT_I64, DT_I32, DT_I16, DT_I8, DT_U8, DT_BOOL } DType;
#define DT__COUNT 10
#define TENSOR_MAX_DIMS 8

typedef struct NamedTensor {
  char *name;             /* NUL-terminated UTF-8, unique within its set */
  DType dtype;
  int ndim;               /* 0 for a scalar (e.g. num_batches_tracked) */
  int64_t dims[TENSOR_MAX_DIMS];
  void *data;             /* nbytes bytes, never NULL (a valid pointer even when nbytes is 0) */
  size_t nbytes;          /* numel * dtype_size(dtype) */
} NamedTensor;

struct TensorSetIndex;    /* private: name -> position */

typedef struct TensorSet {
  NamedTensor *t;
  int n, cap;
  struct TensorSetIndex *index; /* maintained by tensor_set_add; do not touch */
} TensorSet;

TensorSet *tensor_set_new(void);
/* Appends a copy of `name` and of `data` (nbytes = numel * dtype_size; data NULL gives zeros).
   Returns the new tensor, or NULL when the name is already in the set, the dtype, ndim (0..8) or a
   dim (< 0) is invalid, the size overflows, or memory runs out. Pointers into the set are
   invalidated by the next add. */
NamedTensor *tensor_set_add(TensorSet *s, const char *name, DType dt, int ndim, const int64_t *dims,
                            const void *data);
NamedTensor *tensor_set_find(const TensorSet *s, const char *name); /* NULL if absent */
void tensor_set_free(TensorSet *s);                                  /* NULL is fine */

size_t dtype_size(DType dt);                  /* bytes per element; 0 for an invalid dtype */
const char *dtype_name(DType dt);             /* safetensors spelling: "F32", "I64", "BOOL", ... */
bool dtype_from_name(const char *name, DType *out); /* inverse of dtype_name */
int64_t tensor_numel(const NamedTensor *t);   /* 1 for a scalar */
/* numel * dtype_size with overflow checks (false if a dim is negative or the product overflows). */
bool tensor_nbytes(DType dt, int ndim, const int64_t *dims, size_t *out);
/* Same name, dtype, shape and bytes. */
bool tensor_equal(const NamedTensor *a, const NamedTensor *b);

/* Shared by the readers: the whole regular file at path in a malloc'd buffer (caller frees).
   NULL with "cannot open: ...", "not a regular file", "empty file" or "cannot read: ..." in err. */
unsigned char *tensor_file_read(const char *path, size_t *len, char *err, size_t errlen);

#endif
