/* onnx_write.h - an OxGraph (onnx_ir.h) as an ONNX ModelProto file, packed by protobuf-c from ONNX's
   schema and written atomically (base/atomic_file.h). */
#ifndef SQN_ONNX_WRITE_H
#define SQN_ONNX_WRITE_H
#include <stdbool.h>
#include <stddef.h>
#include "onnx_ir.h"
#include "phase_progress.h"

/* Writes g as a model of the default ONNX domain at `opset` with doc string `doc`; ticks pp once per node
   and initializer and once for the packing (pp's total: g->nnodes + g->ninits + 1). *bytes: the file's
   size. False with err ("cannot write PATH: why", or the model is too large for protobuf). The messages
   are allocated in g's arena. */
bool onnx_write(OxGraph *g, int opset, const char *doc, const char *path, PhaseProgress *pp, size_t *bytes,
                char *err, size_t n);
#endif
