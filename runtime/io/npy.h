/* npy.h - NumPy .npy files (format 1.0/2.0/3.0, little-endian, C order): read into and write from a
   NamedTensor, for scripts and tests (`sqnrun --infer in.npy --logits out.npy`). */
#ifndef SQN_NPY_H
#define SQN_NPY_H
#include "tensor_set.h"

/* Reads path into *out (name = the path). False with a message in err on any problem. */
bool npy_read(const char *path, NamedTensor *out, char *err, size_t errlen);
/* Writes t (F32, F64, I64, I32, U8, BOOL) as a version 1.0 file, atomically. */
bool npy_write(const char *path, const NamedTensor *t, char *err, size_t errlen);
void npy_free(NamedTensor *t);
#endif
