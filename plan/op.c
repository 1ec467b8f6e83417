/* op.c - the op table generated from ops.def, and the shape rule of every op (op.h). */
#include "op.h"
#include <math.h>
#include <string.h>

#define UNPAREN(...) __VA_ARGS__
static const OpInfo ops[OP__COUNT] = {
#define OP(id, nm, min_in, max_in, fl, required, params) [OP_##id] = {nm, min_in, max_in, fl, required, {UNPAREN params}},
#include "ops.def"
#undef OP
};

const OpInfo *op_info(OpKind k) { return (unsigned)k < OP__COUNT ? &ops[k] : NULL; }

const char *op_name(OpKind k) { return (unsigned)k < OP__COUNT ? ops[k].name : "?"; }

bool op_from_name(const char *name, OpKind *out) {
  for (int i = 0; i < OP__COUNT; i++)
    if (!strcmp(ops[i].name, name)) return *out = (OpKind)i, true;
  return false;
}

static bool broadcast(int a, int b, int *o) {
  if (a == b || b == 1) *o = a;
  else if (a == 1) *o = b;
  else return false;
  return true;
}

void op_pool_window(const OpAttr *a, Shape in, int *kh, int *kw) {
  *kh = a->kh, *kw = a->kw;
  if (!a->pool_fit) return;
  if (*kh > in.h + 2 * a->ph) *kh = in.h + 2 * a->ph;
  if (*kw > in.w + 2 * a->pw) *kw = in.w + 2 * a->pw;
}

bool op_shape(OpKind k, const OpAttr *a, const Shape *in, int nin, Shape fixed, Shape like, Shape *out) {
  Shape x = nin ? in[0] : fixed, o = {0, x.c, x.h, x.w};
  switch (k) {
  case OP_CONV:
    o = (Shape){0, fixed.c, op_conv_out(x.h, a->kh, a->sh, a->ph, a->dh), op_conv_out(x.w, a->kw, a->sw, a->pw, a->dw)};
    break;
  case OP_AVGPOOL: {
    int kh, kw;
    op_pool_window(a, x, &kh, &kw);
    if (x.h + 2 * a->ph < kh || x.w + 2 * a->pw < kw) o.h = o.w = 0;
    else o.h = (x.h + 2 * a->ph - kh) / a->sh + 1, o.w = (x.w + 2 * a->pw - kw) / a->sw + 1;
    break;
  }
  case OP_GAP: case OP_GMP: o.h = o.w = 1; break;
  case OP_MAXPOOL: /* PyTorch max_pool2d, ceil_mode=False; an empty output when the window does not fit */
    if (x.h + 2 * a->ph < op_window(a->kh, a->dh) || x.w + 2 * a->pw < op_window(a->kw, a->dw)) o.h = o.w = 0;
    else o.h = op_conv_out(x.h, a->kh, a->sh, a->ph, a->dh), o.w = op_conv_out(x.w, a->kw, a->sw, a->pw, a->dw);
    break;
  case OP_PAD: o.h = x.h + a->crop[0] + a->crop[1], o.w = x.w + a->crop[2] + a->crop[3]; break;
  case OP_SLICE: o.c = a->slice[1] - a->slice[0]; break;
  case OP_BILINEAR: case OP_NEAREST:
    if (a->resize_mode == RESIZE_SCALE) o.h = (int)floor(x.h * a->scale), o.w = (int)floor(x.w * a->scale);
    else if (a->resize_mode == RESIZE_LIKE) o.h = like.h, o.w = like.w;
    else o.h = fixed.h, o.w = fixed.w;
    break;
  case OP_CROP: o.h = x.h - a->crop[0] - a->crop[1], o.w = x.w - a->crop[2] - a->crop[3]; break;
  case OP_CONCAT:
    for (int i = 1; i < nin; i++) {
      if (in[i].h != x.h || in[i].w != x.w) return false;
      o.c += in[i].c;
    }
    break;
  case OP_ADD: case OP_SUB: case OP_MUL: case OP_MIX:
    for (int i = 1; i < nin; i++)
      if (!broadcast(o.c, in[i].c, &o.c) || !broadcast(o.h, in[i].h, &o.h) || !broadcast(o.w, in[i].w, &o.w)) return false;
    break;
  default: break; /* input, bn, activations, softmax, channel_shuffle, zero, output keep their input's shape */
  }
  *out = o;
  return true;
}
