/* onnx_ir.h - the ONNX graph while it is built: nodes (op type, inputs and output by tensor name,
   attributes), initializers (name, element type, dims, data) and the graph's input and output. Every
   string and every small array lives in the graph's arena and is freed with it; initializer data is
   either borrowed (the weights the caller bound, which must outlive the graph) or copied into the
   arena. onnx_graph.c fills it from a plan, onnx_write.c turns it into protobuf messages and a file.
   An allocation failure sets `oom` and makes every later call a no-op, so callers check once. */
#ifndef SQN_ONNX_IR_H
#define SQN_ONNX_IR_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "plan.h"

/* Element types: the values of ONNX's TensorProto.DataType. */
typedef enum { OX_FLOAT = 1, OX_INT64 = 7 } OxType;

typedef struct OxTensor {
  const char *name;
  OxType type;
  int ndim;
  int64_t dims[SQN_PLAN_MAX_DIMS];
  const void *data; /* numel elements of type, host byte order */
  size_t numel;
} OxTensor;

typedef enum { OXA_INT, OXA_FLOAT, OXA_STRING, OXA_INTS } OxAttrKind;
enum { OX_MAX_INTS = 4, OX_MAX_ATTRS = 6, OX_MAX_IN = SQN_PLAN_MAX_INPUTS };

typedef struct OxAttr {
  const char *name;
  OxAttrKind kind;
  int64_t i;
  float f;
  const char *s;
  int64_t ints[OX_MAX_INTS];
  int nints;
} OxAttr;

typedef struct OxNode {
  const char *name, *op;   /* node name (the plan op's), ONNX op type */
  const char *in[OX_MAX_IN]; /* "" for an omitted optional input */
  int nin;
  const char *out;
  OxAttr attr[OX_MAX_ATTRS];
  int nattr;
} OxNode;

typedef struct OxGraph {
  const char *name;        /* the network's */
  OxNode *nodes;
  int nnodes, node_cap;
  OxTensor *inits;
  int ninits, init_cap;
  Shape input, output;     /* C, H, W of the graph input "input" and output "logits" */
  bool dynamic_batch;      /* the first dimension is the symbol "batch" (else 1) */
  void **blocks;           /* the arena */
  int nblocks, block_cap;
  bool oom;
} OxGraph;

void ox_init(OxGraph *g, const char *name);
void ox_free(OxGraph *g);
/* Zeroed arena memory; NULL (and g->oom) when out of memory. */
void *ox_alloc(OxGraph *g, size_t n);
/* A formatted string in the arena ("" when out of memory). */
const char *ox_fmt(OxGraph *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends a node; its inputs and attributes follow with the calls below. NULL when out of memory,
   which every ox_in / ox_attr_* accepts. */
OxNode *ox_node(OxGraph *g, const char *op, const char *name, const char *out);
void ox_in(OxNode *nd, const char *tensor);
void ox_attr_int(OxNode *nd, const char *name, int64_t v);
void ox_attr_float(OxNode *nd, const char *name, float v);
void ox_attr_str(OxNode *nd, const char *name, const char *v);
void ox_attr_ints(OxNode *nd, const char *name, const int64_t *v, int n);

/* An initializer with borrowed data; returns its name. */
const char *ox_init_tensor(OxGraph *g, const char *name, OxType type, int ndim, const int64_t *dims, const void *data);
/* A 1-D int64 initializer with the values copied; returns its name. */
const char *ox_const_i64(OxGraph *g, const char *name, const int64_t *v, int n);
/* A float scalar initializer (0-D), copied; returns its name. */
const char *ox_const_f32(OxGraph *g, const char *name, float v);
#endif
