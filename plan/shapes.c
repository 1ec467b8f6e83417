/* shapes.c - recomputes node shapes for an input size with the compiler's formulas (conv, pooling,
   resize by scale/size/like, crop, concat, broadcasting) and explains the first op that breaks. */
#include "shapes.h"
#include <math.h>
#include <stdio.h>

int plan_output_stride(const Plan *p) {
  if (p->encoder_output < 0) return 1;
  int h = p->nodes[p->encoder_output].out.h;
  return h > 0 && p->input.h % h == 0 ? p->input.h / h : 1;
}

static bool broadcast(int a, int b, int *o) {
  if (a == b || b == 1) *o = a;
  else if (a == 1) *o = b;
  else return false;
  return true;
}

void plan_pool_window(const PlanNode *nd, Shape in, int *kh, int *kw) {
  *kh = nd->kh, *kw = nd->kw;
  if (!nd->pool_fit) return;
  if (*kh > in.h + 2 * nd->ph) *kh = in.h + 2 * nd->ph;
  if (*kw > in.w + 2 * nd->pw) *kw = in.w + 2 * nd->pw;
}

static int conv_out(int in, int k, int s, int p, int d) { return (in + 2 * p - d * (k - 1) - 1) / s + 1; }

static Shape resized(const PlanNode *nd, Shape in, const Shape *sh) {
  Shape o = {0, in.c, nd->out.h, nd->out.w}; /* PLAN_RESIZE_SIZE: fixed */
  if (nd->resize_mode == PLAN_RESIZE_SCALE) o.h = (int)floor(in.h * nd->scale), o.w = (int)floor(in.w * nd->scale);
  if (nd->resize_mode == PLAN_RESIZE_LIKE) o.h = sh[nd->like].h, o.w = sh[nd->like].w;
  return o;
}

/* Shape of node nd from its inputs' shapes; h or w <= 0 means the op does not fit. */
static Shape node_shape(const PlanNode *nd, const Shape *sh, bool *ok) {
  Shape a = nd->ninputs ? sh[nd->inputs[0]] : nd->out, o = a;
  *ok = true;
  switch (nd->kind) {
  case PLAN_OP_CONV:
    return (Shape){0, nd->out.c, conv_out(a.h, nd->kh, nd->sh, nd->ph, nd->dh), conv_out(a.w, nd->kw, nd->sw, nd->pw, nd->dw)};
  case PLAN_OP_AVGPOOL: {
    int kh, kw;
    plan_pool_window(nd, a, &kh, &kw);
    if (a.h + 2 * nd->ph < kh || a.w + 2 * nd->pw < kw) return (Shape){0, a.c, 0, 0};
    return (Shape){0, a.c, (a.h + 2 * nd->ph - kh) / nd->sh + 1, (a.w + 2 * nd->pw - kw) / nd->sw + 1};
  }
  case PLAN_OP_GAP: return (Shape){0, a.c, 1, 1};
  case PLAN_OP_BILINEAR: case PLAN_OP_NEAREST: return resized(nd, a, sh);
  case PLAN_OP_CROP: return (Shape){0, a.c, a.h - nd->crop[0] - nd->crop[1], a.w - nd->crop[2] - nd->crop[3]};
  case PLAN_OP_CONCAT:
    for (int k = 1; k < nd->ninputs; k++) {
      Shape b = sh[nd->inputs[k]];
      *ok = *ok && b.h == a.h && b.w == a.w;
      o.c += b.c;
    }
    return o;
  case PLAN_OP_ADD: case PLAN_OP_MUL: case PLAN_OP_MIX:
    for (int k = 1; k < nd->ninputs; k++) {
      Shape b = sh[nd->inputs[k]];
      *ok = *ok && broadcast(o.c, b.c, &o.c) && broadcast(o.h, b.h, &o.h) && broadcast(o.w, b.w, &o.w);
    }
    return o;
  default: return o; /* input, bn, activations, zero, output keep their input's shape */
  }
}

static void explain(const Plan *p, const PlanNode *nd, const Shape *sh, Shape input, char *err, size_t n) {
  Shape a = nd->ninputs ? sh[nd->inputs[0]] : input, b = nd->ninputs > 1 ? sh[nd->inputs[1]] : a;
  char second[48] = "", window[48] = "", where[320] = "";
  if (nd->loc.file) snprintf(where, sizeof where, " at %s:%d:%d", nd->loc.file, nd->loc.line, nd->loc.col);
  if (nd->ninputs > 1) snprintf(second, sizeof second, " and %dx%dx%d", b.c, b.h, b.w);
  if (nd->kind == PLAN_OP_AVGPOOL || nd->kind == PLAN_OP_CONV) snprintf(window, sizeof window, " with a %dx%d window", nd->kh, nd->kw);
  snprintf(err, n,
           "network %s cannot take a %dx%dx%d input: %s %s%s (node %d%s) gets %dx%dx%d%s "
           "(hint: use a height and width that are multiples of %d and large enough; it was compiled for %dx%d)",
           p->name, input.c, input.h, input.w, plan_op_name(nd->kind), nd->name ? nd->name : "", window, nd->id, where, a.c, a.h, a.w,
           second, plan_output_stride(p), p->input.h, p->input.w);
}

bool plan_shapes(const Plan *p, Shape input, Shape *out, char *err, size_t n) {
  if (input.c != p->input.c)
    return snprintf(err, n, "the input has %d channels, network %s takes %d", input.c, p->name, p->input.c), false;
  for (int i = 0; i < p->nnodes; i++) {
    const PlanNode *nd = &p->nodes[i];
    bool ok;
    out[i] = nd->kind == PLAN_OP_INPUT ? input : node_shape(nd, out, &ok);
    if (nd->kind == PLAN_OP_INPUT) continue;
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
    if (nd->kind != PLAN_OP_CONV) continue;
    int cin = sh[nd->inputs[0]].c;
    total += (int64_t)sh[i].c * sh[i].h * sh[i].w * nd->kh * nd->kw * (cin / nd->groups);
  }
  return total;
}
