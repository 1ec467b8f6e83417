/* mode_export_onnx.c - `sqnrun NET.plan --weights W --export-onnx OUT.onnx [--input CxHxW] [--opset N]
   [--keep-bn]`: loads and binds the weights as inference does, recomputes the node shapes for --input
   (default: the plan's input), and has runtime/onnx/ write the model (docs/deploy.md). A search space
   is refused (exit 2: derive a network first); so is every export in a build without protobuf-c. */
#include <stdio.h>
#include <stdlib.h>
#include "mode_export.h"

#ifndef SQN_HAVE_ONNX
int mode_export_onnx(const Plan *p, const CliArgs *a) {
  (void)p, (void)a;
  fputs("sqnrun: this sqnrun was built without ONNX export (install Debian's libprotobuf-c-dev "
        "protobuf-c-compiler and rebuild)\n", stderr);
  return 2;
}
#else
#include "onnx_export.h"
#include "shapes.h"
#include "weights_bind.h"
#include "weights_file.h"

/* Binds w to p's parameters and exports; the exit code. */
static int export_bound(const Plan *p, const CliArgs *a, const TensorSet *w, Shape in, char *err, size_t n) {
  const float **param = calloc((size_t)p->nparams + 1, sizeof *param);
  Shape *sh = malloc(sizeof *sh * (size_t)p->nnodes);
  OnnxExportOptions o = {.opset = a->opset, .keep_bn = a->keep_bn};
  OnnxExportStats st = {0};
  bool ok = param && sh;
  if (!ok) snprintf(err, n, "out of memory");
  if (ok) ok = plan_shapes(p, in, sh, err, n);
  TensorSet *slices = NULL;
  if (ok) ok = weights_bind(p, w, param, &slices, err, n);
  if (ok) ok = onnx_export(p, sh, param, &o, a->export_onnx, &st, err, n);
  tensor_set_free(slices);
  if (ok)
    fprintf(stderr, "sqnrun: wrote %s (network %s, input batch x %dx%dx%d, opset %d, %d nodes, %d initializers, BN %s, "
            "%.2f MiB)\n", a->export_onnx, p->name, in.c, in.h, in.w, a->opset, st.nodes, st.initializers,
            a->keep_bn ? "kept" : "folded", st.bytes / 1048576.0);
  else fprintf(stderr, "sqnrun: %s\n", err);
  free(param);
  free(sh);
  return ok ? 0 : 1;
}

int mode_export_onnx(const Plan *p, const CliArgs *a) {
  if (p->is_space) {
    fprintf(stderr, "sqnrun: %s is a search space, not a network: derive a network first (sqnrun SPACE.plan "
            "--search ... writes derived.sqn; sqnc derived.sqn -o NET.plan), then export NET.plan\n", p->name);
    return 2;
  }
  char err[1024];
  TensorSet *w = weights_load(a->weights, err, sizeof err);
  if (!w) return fprintf(stderr, "sqnrun: %s\n", err), 1;
  Shape in = a->input_shape.c ? a->input_shape : p->input;
  int rc = export_bound(p, a, w, (Shape){0, in.c, in.h, in.w}, err, sizeof err);
  tensor_set_free(w);
  return rc;
}
#endif
