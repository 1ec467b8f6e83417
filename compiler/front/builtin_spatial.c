/* builtin_spatial.c - the IR builders of maxpool, pad, slice and channel_shuffle: argument ranges and
   the shape checks, each error located at the call with a hint. */
#include <math.h>
#include "builtins.h"

/* k, stride (default k, as avgpool), pad (default 0, at most half the kernel as PyTorch requires) and
   dilation (default 1) into at. */
static bool maxpool_args(Elab *e, const Expr *call, const Bound *b, OpAttr *at) {
  int k[2], st[2], pad[2], dil[2];
  if (!opt_pair(e, b, 1, "maxpool kernel", 1, k) || !positive(e, call->loc, "maxpool kernel", k, 2, 1) ||
      !opt_pair(e, b, 2, "maxpool stride", 1, st) || !opt_pair(e, b, 3, "maxpool pad", 0, pad) ||
      !opt_pair(e, b, 4, "maxpool dilation", 1, dil))
    return false;
  if (!b->has[2]) st[0] = k[0], st[1] = k[1];
  if (!positive(e, call->loc, "maxpool stride", st, 2, 1) || !positive(e, call->loc, "maxpool pad", pad, 2, 0) ||
      !positive(e, call->loc, "maxpool dilation", dil, 2, 1))
    return false;
  if (pad[0] * 2 > k[0] || pad[1] * 2 > k[1]) {
    elab_error(e, call->loc, "padding is -inf, so a window of padding alone would have no maximum",
               "maxpool pad %dx%d must be at most half the kernel %dx%d", pad[0], pad[1], k[0], k[1]);
    return false;
  }
  at->kh = k[0], at->kw = k[1], at->sh = st[0], at->sw = st[1], at->ph = pad[0], at->pw = pad[1];
  at->dh = dil[0], at->dw = dil[1];
  return true;
}

Value builtin_maxpool(Elab *e, Scope *s, const Expr *call, Bound *b) {
  if (!need_tensor(e, b->v[0], call->loc, "maxpool", "x")) return v_error();
  Shape in = shape_of(e, b->v[0]), out;
  OpAttr at = op_attr_default();
  if (!maxpool_args(e, call, b, &at)) return v_error();
  op_shape(OP_MAXPOOL, &at, &in, 1, in, in, &out);
  if (out.h < 1 || out.w < 1) {
    elab_error(e, call->loc, "pass a larger --input, or a smaller kernel or dilation",
               "maxpool window %dx%d is larger than its %dx%d (padded) input", op_window(at.kh, at.dh),
               op_window(at.kw, at.dw), in.h + 2 * at.ph, in.w + 2 * at.pw);
    return v_error();
  }
  return builtin_attr_node(e, s, call, b, OP_MAXPOOL, &at, out);
}

Value builtin_pad(Elab *e, Scope *s, const Expr *call, Bound *b) {
  if (!need_tensor(e, b->v[0], call->loc, "pad", "x")) return v_error();
  Shape in = shape_of(e, b->v[0]), out;
  OpAttr at = op_attr_default();
  if (!builtin_margins(e, call, b, "pad", &at)) return v_error();
  if (b->has[5]) {
    Value v = b->v[5];
    if (v.kind != V_INT && v.kind != V_FLOAT) {
      elab_error(e, b->loc[5], "e.g. value=0 or value=-1.5", "pad value must be a number, got %s",
                 value_to_string(e, v));
      return v_error();
    }
    at.pad_value = v.kind == V_INT ? (double)v.i : v.f;
    if (!isfinite(at.pad_value) || fabs(at.pad_value) > 3.4e38) {
      elab_error(e, b->loc[5], NULL, "pad value %g is not a finite float", at.pad_value);
      return v_error();
    }
  }
  op_shape(OP_PAD, &at, &in, 1, in, in, &out);
  return builtin_attr_node(e, s, call, b, OP_PAD, &at, out);
}

Value builtin_slice(Elab *e, Scope *s, const Expr *call, Bound *b) {
  if (!need_tensor(e, b->v[0], call->loc, "slice", "x")) return v_error();
  Shape in = shape_of(e, b->v[0]), out;
  int64_t lo, hi;
  if (!value_as_int(e, b->v[1], b->loc[1], "slice start", &lo) || !value_as_int(e, b->v[2], b->loc[2], "slice end", &hi))
    return v_error();
  if (lo < 0 || hi > in.c || lo >= hi) {
    elab_error(e, call->loc, "slice(x, start, end) keeps channels start..end-1: 0 <= start < end <= channels",
               "slice [%lld, %lld) is out of range for a %d-channel input", (long long)lo, (long long)hi, in.c);
    return v_error();
  }
  OpAttr at = op_attr_default();
  at.slice[0] = (int)lo, at.slice[1] = (int)hi;
  op_shape(OP_SLICE, &at, &in, 1, in, in, &out);
  return builtin_attr_node(e, s, call, b, OP_SLICE, &at, out);
}

Value builtin_channel_shuffle(Elab *e, Scope *s, const Expr *call, Bound *b) {
  if (!need_tensor(e, b->v[0], call->loc, "channel_shuffle", "x")) return v_error();
  Shape in = shape_of(e, b->v[0]);
  int64_t g;
  if (!value_as_int(e, b->v[1], b->loc[1], "channel_shuffle groups", &g)) return v_error();
  if (g < 1 || g > in.c || in.c % g) {
    elab_error(e, call->loc, "groups must divide the channels (ShuffleNet uses 2)",
               "channel_shuffle with groups=%lld cannot split %d channels", (long long)g, in.c);
    return v_error();
  }
  OpAttr at = op_attr_default();
  at.groups = (int)g;
  return builtin_attr_node(e, s, call, b, OP_CHANNEL_SHUFFLE, &at, in);
}

/* split(x, parts): a list of channel slices, `parts` equal ones (an int dividing the channels) or one
   per size of a tuple (summing to the channels). Not an op: it builds `slice` nodes. */
Value builtin_split(Elab *e, Scope *s, const Expr *call, Bound *b) {
  if (!need_tensor(e, b->v[0], call->loc, "split", "x")) return v_error();
  Shape in = shape_of(e, b->v[0]);
  int sizes[64], n = 0;
  int64_t v, sum = 0;
  if (b->v[1].kind == V_TUPLE) {
    for (int i = 0; i < b->v[1].n; i++) {
      if (n == 64 || !value_as_int(e, b->v[1].items[i], b->loc[1], "a split size", &v)) return v_error();
      if (v < 1 || v > in.c) return elab_error(e, b->loc[1], NULL, "split size %lld is not between 1 and %d", (long long)v, in.c), v_error();
      sizes[n++] = (int)v, sum += v;
    }
  } else {
    if (!value_as_int(e, b->v[1], b->loc[1], "split parts", &v)) return v_error();
    if (v < 1 || v > 64 || in.c % v)
      return elab_error(e, b->loc[1], "give the sizes instead, e.g. split(x, (16, 8))",
                        "split into %lld equal parts does not divide %d channels", (long long)v, in.c), v_error();
    for (n = 0; n < v; n++) sizes[n] = in.c / (int)v;
    sum = in.c;
  }
  if (sum != in.c)
    return elab_error(e, b->loc[1], NULL, "split sizes add up to %lld, not the input's %d channels", (long long)sum, in.c),
           v_error();
  Value list = {.kind = V_TUPLE, .n = n, .items = ARENA_ARRAY(e->a, Value, n)};
  for (int i = 0, start = 0; i < n; start += sizes[i++]) {
    OpAttr at = op_attr_default();
    at.slice[0] = start, at.slice[1] = start + sizes[i];
    Shape out;
    op_shape(OP_SLICE, &at, &in, 1, in, in, &out);
    if ((list.items[i] = builtin_attr_node(e, s, call, b, OP_SLICE, &at, out)).kind == V_ERROR) return v_error();
  }
  return list;
}
