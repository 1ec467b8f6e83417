/* onnx_ir.c - the ONNX graph under construction (onnx_ir.h): an arena of malloc'd blocks freed
   together, growable node and initializer tables, and small builders for nodes, attributes and
   constant tensors. Out of memory is sticky (g->oom): builders then do nothing and return "" or NULL,
   and the exporter reports it once at the end. */
#include "onnx_ir.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ox_init(OxGraph *g, const char *name) {
  *g = (OxGraph){.name = name};
}

void ox_free(OxGraph *g) {
  for (int i = 0; i < g->nblocks; i++) free(g->blocks[i]);
  free(g->blocks);
  free(g->nodes);
  free(g->inits);
  *g = (OxGraph){0};
}

/* Grows *v (elements of size sz) to hold at least need; false (and oom) on failure. */
static bool grow(OxGraph *g, void **v, int *cap, int need, size_t sz) {
  if (need <= *cap) return true;
  int ncap = *cap ? *cap * 2 : 64;
  while (ncap < need) ncap *= 2;
  void *nv = realloc(*v, (size_t)ncap * sz);
  if (!nv) return g->oom = true, false;
  memset((char *)nv + (size_t)*cap * sz, 0, (size_t)(ncap - *cap) * sz);
  *v = nv, *cap = ncap;
  return true;
}

void *ox_alloc(OxGraph *g, size_t n) {
  if (g->oom || !grow(g, (void **)&g->blocks, &g->block_cap, g->nblocks + 1, sizeof *g->blocks)) return NULL;
  void *b = calloc(1, n ? n : 1);
  if (!b) return g->oom = true, NULL;
  return g->blocks[g->nblocks++] = b;
}

const char *ox_fmt(OxGraph *g, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int len = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *s = len >= 0 ? ox_alloc(g, (size_t)len + 1) : NULL;
  if (!s) return "";
  va_start(ap, fmt);
  vsnprintf(s, (size_t)len + 1, fmt, ap);
  va_end(ap);
  return s;
}

OxNode *ox_node(OxGraph *g, const char *op, const char *name, const char *out) {
  if (g->oom || !grow(g, (void **)&g->nodes, &g->node_cap, g->nnodes + 1, sizeof *g->nodes)) return NULL;
  OxNode *nd = &g->nodes[g->nnodes++];
  *nd = (OxNode){.name = name, .op = op, .out = out};
  return nd;
}

void ox_in(OxNode *nd, const char *tensor) {
  if (nd && nd->nin < OX_MAX_IN) nd->in[nd->nin++] = tensor;
}

static OxAttr *attr(OxNode *nd, const char *name, OxAttrKind kind) {
  if (!nd || nd->nattr == OX_MAX_ATTRS) return NULL;
  OxAttr *a = &nd->attr[nd->nattr++];
  *a = (OxAttr){.name = name, .kind = kind};
  return a;
}

void ox_attr_int(OxNode *nd, const char *name, int64_t v) {
  OxAttr *a = attr(nd, name, OXA_INT);
  if (a) a->i = v;
}

void ox_attr_float(OxNode *nd, const char *name, float v) {
  OxAttr *a = attr(nd, name, OXA_FLOAT);
  if (a) a->f = v;
}

void ox_attr_str(OxNode *nd, const char *name, const char *v) {
  OxAttr *a = attr(nd, name, OXA_STRING);
  if (a) a->s = v;
}

void ox_attr_ints(OxNode *nd, const char *name, const int64_t *v, int n) {
  OxAttr *a = attr(nd, name, OXA_INTS);
  if (!a) return;
  a->nints = n < OX_MAX_INTS ? n : OX_MAX_INTS;
  memcpy(a->ints, v, sizeof *v * (size_t)a->nints);
}

const char *ox_init_tensor(OxGraph *g, const char *name, OxType type, int ndim, const int64_t *dims, const void *data) {
  if (g->oom || !grow(g, (void **)&g->inits, &g->init_cap, g->ninits + 1, sizeof *g->inits)) return "";
  OxTensor *t = &g->inits[g->ninits++];
  *t = (OxTensor){.name = name, .type = type, .ndim = ndim, .data = data, .numel = 1};
  for (int d = 0; d < ndim && d < SQN_PLAN_MAX_DIMS; d++) t->dims[d] = dims[d], t->numel *= (size_t)dims[d];
  return name;
}

const char *ox_const_i64(OxGraph *g, const char *name, const int64_t *v, int n) {
  int64_t *copy = ox_alloc(g, sizeof *v * (size_t)n);
  if (!copy) return "";
  memcpy(copy, v, sizeof *v * (size_t)n);
  int64_t dims[1] = {n};
  return ox_init_tensor(g, name, OX_INT64, 1, dims, copy);
}

const char *ox_const_f32(OxGraph *g, const char *name, float v) {
  float *copy = ox_alloc(g, sizeof *copy);
  if (!copy) return "";
  *copy = v;
  return ox_init_tensor(g, name, OX_FLOAT, 0, NULL, copy);
}
