/* shapes.c - recomputes node shapes for an input size with the compiler's rule (op_shape: conv,
   pooling, resize by scale/size/like, crop, concat, broadcasting) and explains the first op that breaks. */
#include "shapes.h"
#include <stdio.h>

int plan_output_stride(const Plan *p) {
  if (p->encoder_output < 0) return 1;
  int h = p->nodes[p->encoder_output].out.h;
  return h > 0 && p->input.h % h == 0 ? p->input.h / h : 1;
}

void plan_pool_window(const PlanNode *nd, Shape in, int *kh, int *kw) { op_pool_window(&nd->attr, in, kh, kw); }

/* Shape of node nd from its inputs' shapes (op_shape, the compiler's rule); h or w <= 0 means the op
   does not fit. */
static Shape node_shape(const PlanNode *nd, const Shape *sh, bool *ok) {
  Shape in[SQN_PLAN_MAX_INPUTS], o = nd->out;
  for (int k = 0; k < nd->ninputs; k++) in[k] = sh[nd->inputs[k]];
  Shape like = nd->resize_mode == RESIZE_LIKE && nd->like >= 0 ? sh[nd->like] : nd->out;
  *ok = op_shape(nd->kind, &nd->attr, in, nd->ninputs, nd->out, like, &o);
  return o;
}

static void explain(const Plan *p, const PlanNode *nd, const Shape *sh, Shape input, char *err, size_t n) {
  Shape a = nd->ninputs ? sh[nd->inputs[0]] : input, b = nd->ninputs > 1 ? sh[nd->inputs[1]] : a;
  char second[48] = "", window[48] = "", where[320] = "";
  if (nd->loc.file) snprintf(where, sizeof where, " at %s:%d:%d", nd->loc.file, nd->loc.line, nd->loc.col);
  if (nd->ninputs > 1) snprintf(second, sizeof second, " and %dx%dx%d", b.c, b.h, b.w);
  if (nd->kind == OP_AVGPOOL || nd->kind == OP_CONV) snprintf(window, sizeof window, " with a %dx%d window", nd->kh, nd->kw);
  snprintf(err, n,
           "network %s cannot take a %dx%dx%d input: %s %s%s (node %d%s) gets %dx%dx%d%s "
           "(hint: use a height and width that are multiples of %d and large enough; it was compiled for %dx%d)",
           p->name, input.c, input.h, input.w, op_name(nd->kind), nd->name ? nd->name : "", window, nd->id, where, a.c, a.h, a.w,
           second, plan_output_stride(p), p->input.h, p->input.w);
}

bool plan_shapes(const Plan *p, Shape input, Shape *out, char *err, size_t n) {
  if (input.c != p->input.c)
    return snprintf(err, n, "the input has %d channels, network %s takes %d", input.c, p->name, p->input.c), false;
  for (int i = 0; i < p->nnodes; i++) {
    const PlanNode *nd = &p->nodes[i];
    bool ok;
    out[i] = nd->kind == OP_INPUT ? input : node_shape(nd, out, &ok);
    if (nd->kind == OP_INPUT) continue;
    if (!ok || out[i].h < 1 || out[i].w < 1 || out[i].h > SQN_PLAN_MAX_DIM || out[i].w > SQN_PLAN_MAX_DIM) {
      explain(p, nd, out, input, err, n);
      return false;
    }
  }
  return true;
}

int64_t plan_macs(const Plan *p, const Shape *sh) {
  int64_t total = 0;
  for (int i = 0; i < p->nnodes; i++) {
    const PlanNode *nd = &p->nodes[i];
    if (nd->kind != OP_CONV) continue;
    int cin = sh[nd->inputs[0]].c;
    total += (int64_t)sh[i].c * sh[i].h * sh[i].w * nd->kh * nd->kw * (cin / nd->groups);
  }
  return total;
}
