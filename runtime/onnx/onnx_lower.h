/* onnx_lower.h - lowering a fixed network's plan to ONNX nodes (inside runtime/onnx/ only). A Lower
   holds what every op's lowering needs: the plan with its shapes at the export size, the bound
   parameters and the BN folding decided for them, the graph being built, and per plan node the name of
   the tensor holding its value (`val`) and the ONNX node producing it (`producer`, -1 for the graph
   input). onnx_graph.c walks the plan and dispatches to the lowerings of onnx_conv.c (conv, BN),
   onnx_ops.c (activations, elementwise, concat, pools, mixing) and onnx_resize.c (resizes, crop, zero). */
#ifndef SQN_ONNX_LOWER_H
#define SQN_ONNX_LOWER_H
#include "backend_fold.h"
#include "onnx_export.h"
#include "onnx_ir.h"

typedef struct Lower {
  const Plan *p;
  const Shape *sh;             /* per node, at the export input size */
  const float *const *param;   /* per plan parameter */
  const OnnxExportOptions *o;
  OxGraph *g;
  BackendFold fold;            /* BN folded into convs (backend_fold), or nothing with keep_bn */
  int *uses;                   /* consumers per node */
  const char **name;           /* per node: its ONNX node name (the plan op's name, made unique) */
  const char **val;            /* per node: the tensor holding its value */
  int *producer;               /* per node: index in g->nodes of the node writing val, -1 for none */
  const char *batch;           /* 1-D int64 tensor [N] (the input's batch), made on first use */
  const char *clip_lo, *clip_hi; /* relu6's bounds, made on first use */
} Lower;

/* Fills g (named after the network) from plan p at shapes sh with parameters param; false with err. */
bool onnx_build_graph(OxGraph *g, const Plan *p, const Shape *sh, const float *const *param,
                      const OnnxExportOptions *o, char *err, size_t n);

/* Each lowers plan node nd: appends its ONNX nodes and sets L->val/producer[nd->id]. False with err
   only for what cannot be exported. */
bool lower_conv(Lower *L, const PlanNode *nd, char *err, size_t n);
bool lower_bn(Lower *L, const PlanNode *nd, char *err, size_t n);
bool lower_activation(Lower *L, const PlanNode *nd, char *err, size_t n);
bool lower_binary(Lower *L, const PlanNode *nd, char *err, size_t n);
bool lower_eltwise(Lower *L, const PlanNode *nd, char *err, size_t n); /* silu .. affine (onnx_eltwise.c) */
bool lower_concat(Lower *L, const PlanNode *nd, char *err, size_t n);
bool lower_pool(Lower *L, const PlanNode *nd, char *err, size_t n);
bool lower_mix(Lower *L, const PlanNode *nd, char *err, size_t n);
bool lower_resize(Lower *L, const PlanNode *nd, char *err, size_t n);
bool lower_crop(Lower *L, const PlanNode *nd, char *err, size_t n);
bool lower_zero(Lower *L, const PlanNode *nd, char *err, size_t n);
/* onnx_spatial.c: maxpool, gmp, pad, softmax, slice, channel_shuffle */
bool lower_spatial(Lower *L, const PlanNode *nd, char *err, size_t n);

/* Helpers shared by the lowerings (onnx_graph.c). */
/* Appends an ONNX node for plan node nd whose output is nd's value (named after nd). */
OxNode *lower_emit(Lower *L, const PlanNode *nd, const char *op);
/* The plan parameter of node nd with this role, -1 if it has none. */
int lower_param(const Plan *p, const PlanNode *nd, PlanParamRole role);
/* "node NAME (FILE:LINE:COL)" for messages. */
void lower_where(const Lower *L, const PlanNode *nd, char *buf, size_t n);
#endif
