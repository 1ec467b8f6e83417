/* safetensors.h - reading and writing safetensors files (https://github.com/huggingface/safetensors):
   8-byte little-endian header length N, N bytes of JSON header
   {"__metadata__": {str: str}, "<name>": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]}, ...}
   (space-padded so that the data starts 8-byte aligned), then the data buffer, which the tensors
   must tile exactly (no gaps, no overlaps). Supported dtypes: those of tensor_set.h.
   Details and error messages: docs/weights.md. */
#ifndef SQN_SAFETENSORS_H
#define SQN_SAFETENSORS_H
#include <stdbool.h>
#include <stddef.h>
#include "tensor_set.h"

#define SAFETENSORS_MAX_HEADER 100000000u /* as the reference implementation */

/* NULL on any problem, with a one-line reason in err (without the path). Tensors come in the
   header's order. */
TensorSet *safetensors_read(const char *path, char *err, size_t n);
/* Also returns the __metadata__ object as compact JSON text (malloc'd; NULL if the file has none)
   when metadata_json is not NULL. */
TensorSet *safetensors_read_ex(const char *path, char **metadata_json, char *err, size_t n);
TensorSet *safetensors_read_mem(const void *buf, size_t len, char **metadata_json, char *err, size_t n);

/* Writes s atomically (temporary file in the same folder, fsync, rename). metadata_json: NULL or
   a JSON object whose values are all strings. The header lists the tensors in the set's order; in
   the data buffer they are ordered by element size, largest first (stable), so each is aligned. */
bool safetensors_write(const TensorSet *s, const char *path, const char *metadata_json_or_null, char *err, size_t n);
/* The same bytes in memory (*out malloc'd). */
bool safetensors_encode(const TensorSet *s, const char *metadata_json_or_null, unsigned char **out, size_t *outlen,
                        char *err, size_t n);

#endif
