/* onnx_write.c - OxGraph -> protobuf-c messages (the structs protoc-c generates from onnx.proto) -> file.
   Every message is allocated in the graph's arena; strings and int arrays point into the graph.
   Tensor data goes in raw_data as little-endian bytes whatever the host (ONNX's rule). The model is
   packed with protobuf_c_message_pack_to_buffer straight into an atomic file, so a failed or partial
   write leaves no output behind. The IR version is the oldest that carries the opset (7 for opset 13,
   8 for 14..18), which keeps older runtimes (TensorRT 8.x, OpenCV) reading the file. */
#include "onnx_write.h"
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "atomic_file.h"
#include "le.h"
#include "onnx.pb-c.h"

#define PRODUCER_VERSION "0.1.0" /* sqnrun's (cli_parse.c) */

static char *str(const char *s) { return (char *)s; } /* protobuf-c's fields are not const; packing only reads */

static Onnx__AttributeProto *attr_proto(OxGraph *g, OxAttr *a) {
  Onnx__AttributeProto *p = ox_alloc(g, sizeof *p);
  if (!p) return NULL;
  onnx__attribute_proto__init(p);
  p->name = str(a->name);
  p->has_type = 1;
  switch (a->kind) {
  case OXA_INT: p->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT, p->has_i = 1, p->i = a->i; break;
  case OXA_FLOAT: p->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT, p->has_f = 1, p->f = a->f; break;
  case OXA_STRING:
    p->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING, p->has_s = 1;
    p->s = (ProtobufCBinaryData){strlen(a->s), (uint8_t *)a->s};
    break;
  case OXA_INTS: p->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS, p->n_ints = (size_t)a->nints, p->ints = a->ints; break;
  }
  return p;
}

static Onnx__NodeProto *node_proto(OxGraph *g, OxNode *nd) {
  Onnx__NodeProto *p = ox_alloc(g, sizeof *p);
  char **out = ox_alloc(g, sizeof *out);
  Onnx__AttributeProto **attrs = ox_alloc(g, sizeof *attrs * (size_t)nd->nattr);
  if (!p || !out || !attrs) return NULL;
  onnx__node_proto__init(p);
  p->name = str(nd->name), p->op_type = str(nd->op);
  p->n_input = (size_t)nd->nin, p->input = (char **)nd->in;
  out[0] = str(nd->out);
  p->n_output = 1, p->output = out;
  for (int k = 0; k < nd->nattr; k++)
    if (!(attrs[k] = attr_proto(g, &nd->attr[k]))) return NULL;
  p->n_attribute = (size_t)nd->nattr, p->attribute = attrs;
  return p;
}

/* The tensor's elements as little-endian bytes, in the arena. */
static uint8_t *le_bytes(OxGraph *g, const OxTensor *t, size_t *len) {
  size_t es = t->type == OX_INT64 ? 8 : 4;
  uint8_t *b = ox_alloc(g, t->numel * es);
  *len = t->numel * es;
  for (size_t i = 0; b && i < t->numel; i++) {
    if (t->type == OX_INT64) le_put64(b + 8 * i, (uint64_t)((const int64_t *)t->data)[i]);
    else {
      uint32_t u;
      memcpy(&u, (const float *)t->data + i, 4);
      le_put32(b + 4 * i, u);
    }
  }
  return b;
}

static Onnx__TensorProto *tensor_proto(OxGraph *g, OxTensor *t) {
  Onnx__TensorProto *p = ox_alloc(g, sizeof *p);
  size_t len = 0;
  uint8_t *raw = le_bytes(g, t, &len);
  if (!p || !raw) return NULL;
  onnx__tensor_proto__init(p);
  p->name = str(t->name);
  p->n_dims = (size_t)t->ndim, p->dims = t->dims;
  p->has_data_type = 1, p->data_type = (int32_t)t->type;
  p->has_raw_data = 1, p->raw_data = (ProtobufCBinaryData){len, raw};
  return p;
}

static Onnx__TensorShapeProto__Dimension *dim_proto(OxGraph *g, int64_t v, const char *param) {
  Onnx__TensorShapeProto__Dimension *d = ox_alloc(g, sizeof *d);
  if (!d) return NULL;
  onnx__tensor_shape_proto__dimension__init(d);
  if (param) d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM, d->dim_param = str(param);
  else d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE, d->dim_value = v;
  return d;
}

/* A float tensor N x C x H x W, N the symbol "batch" or 1. */
static Onnx__ValueInfoProto *value_info(OxGraph *g, const char *name, Shape s) {
  Onnx__ValueInfoProto *vi = ox_alloc(g, sizeof *vi);
  Onnx__TypeProto *tp = ox_alloc(g, sizeof *tp);
  Onnx__TypeProto__Tensor *tt = ox_alloc(g, sizeof *tt);
  Onnx__TensorShapeProto *sp = ox_alloc(g, sizeof *sp);
  Onnx__TensorShapeProto__Dimension **dims = ox_alloc(g, 4 * sizeof *dims);
  if (!vi || !tp || !tt || !sp || !dims) return NULL;
  dims[0] = dim_proto(g, 1, g->dynamic_batch ? "batch" : NULL);
  dims[1] = dim_proto(g, s.c, NULL), dims[2] = dim_proto(g, s.h, NULL), dims[3] = dim_proto(g, s.w, NULL);
  onnx__tensor_shape_proto__init(sp);
  sp->n_dim = 4, sp->dim = dims;
  onnx__type_proto__tensor__init(tt);
  tt->has_elem_type = 1, tt->elem_type = OX_FLOAT, tt->shape = sp;
  onnx__type_proto__init(tp);
  tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE, tp->tensor_type = tt;
  onnx__value_info_proto__init(vi);
  vi->name = str(name), vi->type = tp;
  return g->oom ? NULL : vi;
}

/* The graph: nodes, initializers, input and output, ticking pp as it goes. */
static Onnx__GraphProto *graph_proto(OxGraph *g, PhaseProgress *pp) {
  Onnx__GraphProto *gp = ox_alloc(g, sizeof *gp);
  Onnx__NodeProto **nodes = ox_alloc(g, sizeof *nodes * (size_t)g->nnodes);
  Onnx__TensorProto **inits = ox_alloc(g, sizeof *inits * (size_t)g->ninits);
  Onnx__ValueInfoProto **in = ox_alloc(g, sizeof *in), **out = ox_alloc(g, sizeof *out);
  if (!gp || !nodes || !inits || !in || !out) return NULL;
  long done = 0;
  for (int i = 0; i < g->nnodes; i++, phase_tick(pp, ++done))
    if (!(nodes[i] = node_proto(g, &g->nodes[i]))) return NULL;
  for (int i = 0; i < g->ninits; i++, phase_tick(pp, ++done))
    if (!(inits[i] = tensor_proto(g, &g->inits[i]))) return NULL;
  if (!(in[0] = value_info(g, "input", g->input)) || !(out[0] = value_info(g, "logits", g->output))) return NULL;
  onnx__graph_proto__init(gp);
  gp->name = str(g->name);
  gp->n_node = (size_t)g->nnodes, gp->node = nodes;
  gp->n_initializer = (size_t)g->ninits, gp->initializer = inits;
  gp->n_input = 1, gp->input = in;
  gp->n_output = 1, gp->output = out;
  return gp;
}

static Onnx__ModelProto *model_proto(OxGraph *g, int opset, const char *doc, PhaseProgress *pp) {
  Onnx__ModelProto *m = ox_alloc(g, sizeof *m);
  Onnx__OperatorSetIdProto *os = ox_alloc(g, sizeof *os), **osv = ox_alloc(g, sizeof *osv);
  Onnx__GraphProto *gp = m && os && osv ? graph_proto(g, pp) : NULL;
  if (!gp) return NULL;
  onnx__operator_set_id_proto__init(os);
  os->domain = str(""), os->has_version = 1, os->version = opset;
  osv[0] = os;
  onnx__model_proto__init(m);
  m->has_ir_version = 1, m->ir_version = opset <= 13 ? 7 : 8;
  m->n_opset_import = 1, m->opset_import = osv;
  m->producer_name = str("sqnrun"), m->producer_version = str(PRODUCER_VERSION);
  m->doc_string = str(doc);
  m->graph = gp;
  return m;
}

typedef struct FileBuffer {
  ProtobufCBuffer base;
  FILE *f;
  bool ok;
} FileBuffer;

static void file_append(ProtobufCBuffer *b, size_t len, const uint8_t *data) {
  FileBuffer *fb = (FileBuffer *)b;
  if (fb->ok && len && fwrite(data, 1, len, fb->f) != len) fb->ok = false;
}

bool onnx_write(OxGraph *g, int opset, const char *doc, const char *path, PhaseProgress *pp, size_t *bytes,
                char *err, size_t n) {
  Onnx__ModelProto *m = model_proto(g, opset, doc, pp);
  if (!m) return snprintf(err, n, "out of memory"), false;
  *bytes = onnx__model_proto__get_packed_size(m);
  if (*bytes > INT32_MAX) /* protobuf parsers refuse messages of 2 GiB and more */
    return snprintf(err, n, "the model would be %zu bytes, over protobuf's 2 GiB limit", *bytes), false;
  AtomicFile af;
  if (!atomic_open(&af, path, err, n)) return false;
  FileBuffer fb = {.base = {file_append}, .f = af.f, .ok = true};
  size_t packed = onnx__model_proto__pack_to_buffer(m, &fb.base);
  phase_tick(pp, (long)g->nnodes + g->ninits + 1);
  return atomic_close(&af, fb.ok && packed == *bytes, err, n);
}
