/* onnx_export.h - a fixed network with its weights as an ONNX model (runtime/onnx/, library sqnonnx):
   the graph input "input" (batch x C x H x W, batch symbolic), the output "logits", one ONNX node per
   plan op (named as the op), initializers named as the plan's parameters (upstream's state_dict
   names), BN folded into the preceding convs unless keep_bn. Written with protobuf-c from ONNX's own
   schema (onnx.proto), atomically. See docs/deploy.md for the op mapping. */
#ifndef SQN_ONNX_EXPORT_H
#define SQN_ONNX_EXPORT_H
#include <stdbool.h>
#include <stddef.h>
#include "plan.h"

enum { ONNX_OPSET_MIN = 13, ONNX_OPSET_MAX = 18 };

typedef struct OnnxExportOptions {
  int opset;      /* ONNX_OPSET_MIN .. ONNX_OPSET_MAX */
  bool keep_bn;   /* BatchNormalization nodes instead of BN folded into the convs */
  bool quiet;     /* no progress line */
} OnnxExportOptions;

typedef struct OnnxExportStats {
  int nodes, initializers;
  size_t bytes;   /* of the file */
} OnnxExportStats;

/* Exports plan p (a fixed network) at the node shapes `shapes` (plan_shapes at the export input size)
   with its parameters `param` (weights_bind) to path. False with a one-line reason in err (an op the
   exporter cannot write names the node and its .sqn location); path is then left as it was. */
bool onnx_export(const Plan *p, const Shape *shapes, const float *const *param, const OnnxExportOptions *o,
                 const char *path, OnnxExportStats *stats, char *err, size_t n);
#endif
