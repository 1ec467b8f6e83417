/* onnx_export.c - the exporter's entry point (onnx_export.h): builds the ONNX graph from the plan
   (onnx_graph.c), then packs and writes it (onnx_write.c) under one progress phase over the ONNX nodes
   and initializers, and frees everything whatever happened. */
#include "onnx_export.h"
#include <stdio.h>
#include "onnx_lower.h"
#include "onnx_write.h"
#include "phase_progress.h"

bool onnx_export(const Plan *p, const Shape *shapes, const float *const *param, const OnnxExportOptions *o,
                 const char *path, OnnxExportStats *stats, char *err, size_t n) {
  if (p->is_space)
    return snprintf(err, n, "%s is a search space, not a network: derive a network first", p->name), false;
  if (o->opset < ONNX_OPSET_MIN || o->opset > ONNX_OPSET_MAX)
    return snprintf(err, n, "opset %d is not one of %d..%d", o->opset, ONNX_OPSET_MIN, ONNX_OPSET_MAX), false;
  OxGraph g;
  ox_init(&g, p->name);
  bool ok = onnx_build_graph(&g, p, shapes, param, o, err, n);
  PhaseProgress pp;
  if (ok) {
    Shape in = g.input;
    const char *doc = ox_fmt(&g, "network %s (%d classes), input batch x %dx%dx%d, BN %s; exported by sqnrun --export-onnx",
                             p->name, p->classes, in.c, in.h, in.w, o->keep_bn ? "as BatchNormalization" : "folded into the convs");
    size_t bytes = 0;
    phase_begin(&pp, "export-onnx", (long)g.nnodes + g.ninits + 1, o->quiet);
    ok = onnx_write(&g, o->opset, doc, path, &pp, &bytes, err, n);
    if (ok) phase_end(&pp);
    else phase_break(&pp);
    if (ok && stats) *stats = (OnnxExportStats){.nodes = g.nnodes, .initializers = g.ninits, .bytes = bytes};
  }
  ox_free(&g);
  return ok;
}
