/* builtin_ops.c - each primitive op: type checks, shape inference and the IR node(s) it makes. */
#include <math.h>
#include <string.h>
#include "builtins.h"

bool need_tensor(Elab *e, Value v, SrcLoc loc, const char *op, const char *what) {
  if (v.kind == V_TENSOR) return true;
  if (v.kind != V_ERROR)
    elab_error(e, loc, NULL, "`%s` needs a tensor for `%s`, got %s", op, what, value_to_string(e, v));
  return false;
}

Shape shape_of(Elab *e, Value v) { return e->g->nodes[v.node].out; }

static bool shape_in_limits(Elab *e, SrcLoc loc, OpKind k, Shape out) {
  if (out.c <= IR_MAX_DIM && out.h <= IR_MAX_DIM && out.w <= IR_MAX_DIM &&
      (int64_t)out.c * out.h * out.w <= IR_MAX_TENSOR_ELEMS)
    return true;
  elab_error(e, loc, "check the sizes: at most 1000000 per dimension and 2^36 elements per tensor",
             "%s output %dx%dx%d is too large", op_name(k), out.c, out.h, out.w);
  return false;
}

static Value tensor_or_error(int id) { return id < 0 ? v_error() : v_tensor(id); }

/* Returns -1 (after an error) when the output shape is beyond the limits. */
int new_node(Elab *e, Scope *s, OpKind k, const int *in, int n, SrcLoc loc, const char *name, Shape out) {
  if (!shape_in_limits(e, loc, k, out)) return -1;
  int id = elab_add_node(e, k, in, n, loc, scope_next_name(e, s, name));
  e->g->nodes[id].out = out;
  return id;
}

bool opt_int(Elab *e, const Bound *b, int i, const char *what, int64_t dflt, int64_t *out) {
  if (!b->has[i]) {
    *out = dflt;
    return true;
  }
  return value_as_int(e, b->v[i], b->loc[i], what, out);
}

bool opt_pair(Elab *e, const Bound *b, int i, const char *what, int dflt, int out[2]) {
  if (!b->has[i]) {
    out[0] = out[1] = dflt;
    return true;
  }
  return value_as_pair(e, b->v[i], b->loc[i], what, out);
}

bool opt_bool(Elab *e, const Bound *b, int i, const char *what, bool dflt, bool *out) {
  if (!b->has[i]) {
    *out = dflt;
    return true;
  }
  if (b->v[i].kind != V_BOOL) {
    elab_error(e, b->loc[i], "write true or false", "%s must be a bool, got %s", what, value_to_string(e, b->v[i]));
    return false;
  }
  *out = b->v[i].i != 0;
  return true;
}

bool positive(Elab *e, SrcLoc loc, const char *what, const int *v, int n, int min) {
  for (int i = 0; i < n; i++)
    if (v[i] < min || v[i] > 100000) {
      elab_error(e, loc, NULL, "%s must be %s, got %d", what, min ? "positive" : "zero or more", v[i]);
      return false;
    }
  return true;
}

/* The output shape of op k on inputs in[0..n) by the shared rule (plan/op.h), as sqnrun will recompute it. */
static Shape shape_by_rule(OpKind k, const OpAttr *a, const Shape *in, int n, Shape fixed, Shape like, bool *fits) {
  Shape out = fixed;
  *fits = op_shape(k, a, in, n, fixed, like, &out);
  return out;
}

typedef struct ConvGeom {
  int64_t cout, groups;
  int k[2], st[2], dil[2], pad[2];
  bool bias;
} ConvGeom;

/* Reads and range-checks conv's arguments; pad defaults to dilation * (k - 1) / 2 ("same" for odd k). */
static bool conv_args(Elab *e, const Expr *call, const Bound *b, ConvGeom *c) {
  if (!value_as_int(e, b->v[1], b->loc[1], "conv output channels", &c->cout) || !opt_pair(e, b, 2, "k", 1, c->k) ||
      !opt_pair(e, b, 3, "stride", 1, c->st) || !opt_pair(e, b, 4, "dilation", 1, c->dil) ||
      !opt_int(e, b, 5, "groups", 1, &c->groups) || !opt_bool(e, b, 6, "bias", false, &c->bias))
    return false;
  if (!positive(e, call->loc, "conv kernel", c->k, 2, 1) || !positive(e, call->loc, "conv stride", c->st, 2, 1) ||
      !positive(e, call->loc, "conv dilation", c->dil, 2, 1))
    return false;
  if (c->k[0] > 4096 || c->k[1] > 4096 || c->dil[0] > 4096 || c->dil[1] > 4096) {
    elab_error(e, call->loc, NULL, "conv kernel and dilation must be at most 4096");
    return false;
  }
  c->pad[0] = c->dil[0] * (c->k[0] - 1) / 2;
  c->pad[1] = c->dil[1] * (c->k[1] - 1) / 2;
  if (b->has[7] && (!opt_pair(e, b, 7, "pad", 0, c->pad) || !positive(e, call->loc, "conv pad", c->pad, 2, 0)))
    return false;
  if (c->cout < 1 || c->cout > IR_MAX_DIM) {
    elab_error(e, call->loc, NULL, "conv output channels must be 1 to %d, got %lld", IR_MAX_DIM, (long long)c->cout);
    return false;
  }
  return true;
}

/* The weight and the MACs of one conv stay within the limits, so that costs never overflow. */
static bool conv_cost_ok(Elab *e, const Expr *call, const ConvGeom *c, Shape in, Shape out) {
  double weight = (double)c->cout * (double)(in.c / c->groups) * c->k[0] * c->k[1];
  double macs = weight * out.h * out.w;
  if (weight <= (double)IR_MAX_TENSOR_ELEMS && macs <= (double)IR_MAX_CONV_MACS) return true;
  elab_error(e, call->loc, NULL, "conv is too large: %.3g weights, %.3g MACs (limits 2^36 and 1e13)", weight, macs);
  return false;
}

/* An even kernel cannot pad "same": the default pad dilation * (k - 1) / 2 rounds down, so the output
   loses a row or column against ceil(input / stride), and an add or concat further on fails. */
static void warn_even_kernel(Elab *e, const Expr *call, const ConvGeom *c, Shape in, Shape out) {
  int want_h = (in.h + c->st[0] - 1) / c->st[0], want_w = (in.w + c->st[1] - 1) / c->st[1];
  if ((c->k[0] % 2 && c->k[1] % 2) || (out.h == want_h && out.w == want_w)) return;
  elab_warning(e, call->loc,
               "an even kernel has no centre: give pad= explicitly (and crop or resize what it is combined with), "
               "or use an odd kernel",
               "conv %dx%d pads %dx%d (dilation * (k - 1) / 2, rounded down), so its %dx%d input gives %dx%d, not %dx%d",
               c->k[0], c->k[1], c->pad[0], c->pad[1], in.h, in.w, out.h, out.w, want_h, want_w);
}

static Value op_conv(Elab *e, Scope *s, const Expr *call, Bound *b) {
  if (!need_tensor(e, b->v[0], call->loc, "conv", "x")) return v_error();
  Shape in = shape_of(e, b->v[0]);
  ConvGeom c;
  if (!conv_args(e, call, b, &c)) return v_error();
  if (c.groups < 1 || in.c % c.groups || c.cout % c.groups) {
    elab_error(e, call->loc, "groups must divide both the input and the output channels",
               "conv with groups=%lld cannot map %d to %lld channels", (long long)c.groups, in.c, (long long)c.cout);
    return v_error();
  }
  OpAttr at = op_attr_default();
  at.kh = c.k[0], at.kw = c.k[1], at.sh = c.st[0], at.sw = c.st[1], at.ph = c.pad[0], at.pw = c.pad[1];
  at.dh = c.dil[0], at.dw = c.dil[1], at.groups = (int)c.groups, at.bias = c.bias;
  bool fits;
  Shape out = shape_by_rule(OP_CONV, &at, &in, 1, (Shape){0, (int)c.cout, 0, 0}, in, &fits);
  if (out.h < 1 || out.w < 1) {
    elab_error(e, call->loc, "the input is too small for this kernel; use a larger --input",
               "conv %dx%d (dilation %d) on a %dx%dx%d input produces an empty output", c.k[0], c.k[1], c.dil[0],
               in.c, in.h, in.w);
    return v_error();
  }
  if (!conv_cost_ok(e, call, &c, in, out)) return v_error();
  if (!b->has[7]) warn_even_kernel(e, call, &c, in, out);
  int id = new_node(e, s, OP_CONV, &b->v[0].node, 1, call->loc, b->name, out);
  if (id < 0) return v_error();
  IrNode *n = &e->g->nodes[id];
  n->attr = at;
  int wd[4] = {(int)c.cout, in.c / (int)c.groups, c.k[0], c.k[1]};
  ir_add_param(e->g, id, PARAM_CONV_WEIGHT, arena_printf(e->a, "%s.weight", n->name), 4, wd);
  if (c.bias) ir_add_param(e->g, id, PARAM_CONV_BIAS, arena_printf(e->a, "%s.bias", n->name), 1, wd);
  return v_tensor(id);
}

static Value op_bn(Elab *e, Scope *s, const Expr *call, Bound *b) {
  if (!need_tensor(e, b->v[0], call->loc, "bn", "x")) return v_error();
  Shape in = shape_of(e, b->v[0]);
  int id = new_node(e, s, OP_BN, &b->v[0].node, 1, call->loc, b->name, in);
  if (id < 0) return v_error();
  const char *nm = e->g->nodes[id].name;
  int d[1] = {in.c};
  static const ParamRole roles[4] = {PARAM_BN_WEIGHT, PARAM_BN_BIAS, PARAM_BN_MEAN, PARAM_BN_VAR};
  for (int i = 0; i < 4; i++)
    ir_add_param(e->g, id, roles[i], arena_printf(e->a, "%s.%s", nm, ir_param_role_name(roles[i])), 1, d);
  return v_tensor(id);
}

Value builtin_unary(Elab *e, Scope *s, const Expr *call, Bound *b, OpKind k) {
  if (!need_tensor(e, b->v[0], call->loc, op_name(k), "x")) return v_error();
  return tensor_or_error(new_node(e, s, k, &b->v[0].node, 1, call->loc, b->name, shape_of(e, b->v[0])));
}
static Value op_relu(Elab *e, Scope *s, const Expr *c, Bound *b) { return builtin_unary(e, s, c, b, OP_RELU); }
static Value op_relu6(Elab *e, Scope *s, const Expr *c, Bound *b) { return builtin_unary(e, s, c, b, OP_RELU6); }
static Value op_sigmoid(Elab *e, Scope *s, const Expr *c, Bound *b) { return builtin_unary(e, s, c, b, OP_SIGMOID); }
static Value op_hswish(Elab *e, Scope *s, const Expr *c, Bound *b) { return builtin_unary(e, s, c, b, OP_HSWISH); }
static Value op_zero(Elab *e, Scope *s, const Expr *c, Bound *b) { return builtin_unary(e, s, c, b, OP_ZERO); }

int builtin_node(Elab *e, Scope *s, OpKind k, const int *in, int n, SrcLoc loc, bool counted, const char *name,
                 Shape out) {
  if (counted) return new_node(e, s, k, in, n, loc, name, out);
  /* operators (+, -, *) take no sequential index: only calls do, as in nn.Sequential */
  int id = elab_add_node(e, k, in, n, loc, arena_printf(e->a, "%s%s", s->prefix, op_name(k)));
  e->g->nodes[id].out = out;
  return id;
}

Value builtin_broadcast(Elab *e, Scope *s, OpKind k, Value a, Value b, SrcLoc loc, bool counted, const char *name) {
  Shape in[2] = {shape_of(e, a), shape_of(e, b)}, x = in[0], y = in[1];
  OpAttr at = op_attr_default();
  bool fits;
  Shape o = shape_by_rule(k, &at, in, 2, x, x, &fits);
  if (!fits) {
    elab_error(e, loc, "shapes must match, or be 1 where they differ (broadcast)",
               "cannot %s tensors of shapes %dx%dx%d and %dx%dx%d",
               k == OP_ADD ? "add" : k == OP_SUB ? "subtract" : "multiply", x.c, x.h, x.w, y.c, y.h, y.w);
    return v_error();
  }
  int ids[2] = {a.node, b.node};
  return tensor_or_error(builtin_node(e, s, k, ids, 2, loc, counted, name, o));
}

static Value op_binary(Elab *e, Scope *s, const Expr *call, Bound *b, OpKind k) {
  if (!need_tensor(e, b->v[0], call->loc, op_name(k), "a") || !need_tensor(e, b->v[1], call->loc, op_name(k), "b"))
    return v_error();
  return builtin_broadcast(e, s, k, b->v[0], b->v[1], call->loc, true, b->name);
}
static Value op_add(Elab *e, Scope *s, const Expr *c, Bound *b) { return op_binary(e, s, c, b, OP_ADD); }
static Value op_mul(Elab *e, Scope *s, const Expr *c, Bound *b) { return op_binary(e, s, c, b, OP_MUL); }

static Value op_concat(Elab *e, Scope *s, const Expr *call, Bound *b) {
  Value items[IR_MAX_INPUTS + 17];
  int n = 0;
  if (b->v[0].kind == V_TUPLE && b->v[0].n > IR_MAX_INPUTS) {
    elab_error(e, call->loc, "concatenate in two steps", "concat takes at most %d tensors, got %d", IR_MAX_INPUTS, b->v[0].n);
    return v_error();
  }
  if (b->v[0].kind == V_TUPLE) /* concat([a, b, c]) */
    for (int i = 0; i < b->v[0].n; i++) items[n++] = b->v[0].items[i];
  else
    items[n++] = b->v[0];
  for (int i = 0; i < b->nextra; i++) items[n++] = b->extra[i];
  if (n > IR_MAX_INPUTS) {
    elab_error(e, call->loc, "concatenate in two steps", "concat takes at most %d tensors, got %d", IR_MAX_INPUTS, n);
    return v_error();
  }
  int in[IR_MAX_INPUTS];
  Shape shapes[IR_MAX_INPUTS];
  for (int i = 0; i < n; i++) {
    if (!need_tensor(e, items[i], call->loc, "concat", "its inputs")) return v_error();
    shapes[i] = shape_of(e, items[i]);
    if (i && (shapes[i].h != shapes[0].h || shapes[i].w != shapes[0].w)) {
      elab_error(e, call->loc, "resize the inputs to the same height and width first",
                 "concat input %d is %dx%d but input 0 is %dx%d", i, shapes[i].h, shapes[i].w, shapes[0].h, shapes[0].w);
      return v_error();
    }
    in[i] = items[i].node;
  }
  OpAttr at = op_attr_default();
  bool fits;
  Shape out = shape_by_rule(OP_CONCAT, &at, shapes, n, shapes[0], shapes[0], &fits);
  return tensor_or_error(new_node(e, s, OP_CONCAT, in, n, call->loc, b->name, out));
}

static Value op_avgpool(Elab *e, Scope *s, const Expr *call, Bound *b) {
  if (!need_tensor(e, b->v[0], call->loc, "avgpool", "x")) return v_error();
  Shape in = shape_of(e, b->v[0]);
  int k[2], st[2], pad[2];
  bool cip, fit;
  if (!opt_pair(e, b, 1, "avgpool kernel", 1, k) || !positive(e, call->loc, "avgpool kernel", k, 2, 1) ||
      !opt_pair(e, b, 2, "avgpool stride", 1, st) || !opt_pair(e, b, 3, "avgpool pad", 0, pad) ||
      !opt_bool(e, b, 4, "count_include_pad", true, &cip) || !opt_bool(e, b, 5, "fit", false, &fit))
    return v_error();
  OpAttr at = op_attr_default();
  at.kh = k[0], at.kw = k[1], at.ph = pad[0], at.pw = pad[1], at.count_include_pad = cip, at.pool_fit = fit;
  op_pool_window(&at, in, &k[0], &k[1]); /* with fit the window follows small inputs: at most the padded input */
  if (!b->has[2]) st[0] = k[0], st[1] = k[1];
  if (!positive(e, call->loc, "avgpool stride", st, 2, 1) || !positive(e, call->loc, "avgpool pad", pad, 2, 0))
    return v_error();
  if (pad[0] * 2 > k[0] || pad[1] * 2 > k[1]) {
    elab_error(e, call->loc, NULL, "avgpool pad %dx%d must be at most half the kernel %dx%d", pad[0], pad[1], k[0], k[1]);
    return v_error();
  }
  at.sh = st[0], at.sw = st[1];
  bool fits;
  Shape out = shape_by_rule(OP_AVGPOOL, &at, &in, 1, in, in, &fits);
  if (out.h < 1 || out.w < 1) {
    elab_error(e, call->loc,
               "the network input is too small for this pooling window: pass a larger --input, or fit=true to "
               "shrink the window to the input (lr_aspp: pool_fit=true)",
               "avgpool window %dx%d is larger than its %dx%d input", k[0], k[1], in.h + 2 * pad[0],
               in.w + 2 * pad[1]);
    return v_error();
  }
  int id = new_node(e, s, OP_AVGPOOL, &b->v[0].node, 1, call->loc, b->name, out);
  if (id < 0) return v_error();
  e->g->nodes[id].attr = at;
  return v_tensor(id);
}

/* An op without arguments whose shape the rule gives: gap, gmp (C x 1 x 1), softmax (its input's). */
static Value op_plain(Elab *e, Scope *s, const Expr *call, Bound *b, OpKind k) {
  if (!need_tensor(e, b->v[0], call->loc, op_name(k), "x")) return v_error();
  Shape in = shape_of(e, b->v[0]);
  OpAttr at = op_attr_default();
  bool fits;
  return tensor_or_error(new_node(e, s, k, &b->v[0].node, 1, call->loc, b->name,
                                  shape_by_rule(k, &at, &in, 1, in, in, &fits)));
}
static Value op_gap(Elab *e, Scope *s, const Expr *c, Bound *b) { return op_plain(e, s, c, b, OP_GAP); }
static Value op_gmp(Elab *e, Scope *s, const Expr *c, Bound *b) { return op_plain(e, s, c, b, OP_GMP); }
static Value op_softmax(Elab *e, Scope *s, const Expr *c, Bound *b) { return op_plain(e, s, c, b, OP_SOFTMAX); }

/* Output size of a resize: exactly one of scale=, size=, like=, recorded in *at so that sqnrun recomputes
   it for other input sizes (op_shape). Scale follows PyTorch: floor(in * scale). */
static bool resize_target(Elab *e, const Expr *call, Bound *b, Shape in, Shape *out, OpAttr *at) {
  int given = b->has[1] + b->has[2] + b->has[3];
  if (given != 1) {
    elab_error(e, call->loc, "e.g. bilinear(x, scale=2), bilinear(x, size=(64, 128)) or bilinear(x, like=y)",
               "`%s` needs exactly one of scale=, size= or like=", call->str);
    return false;
  }
  Shape fixed = in, like = in;
  if (b->has[1]) {
    Value v = b->v[1];
    if (v.kind != V_INT && v.kind != V_FLOAT) {
      elab_error(e, b->loc[1], NULL, "scale must be a number, got %s", value_to_string(e, v));
      return false;
    }
    double f = v.kind == V_INT ? (double)v.i : v.f;
    if (!(f > 0 && f <= 1024)) {
      elab_error(e, b->loc[1], NULL, "scale must be positive, got %g", f);
      return false;
    }
    at->resize_mode = RESIZE_SCALE, at->scale = f;
  } else if (b->has[2]) {
    int sz[2];
    if (!value_as_pair(e, b->v[2], b->loc[2], "size", sz) || !positive(e, b->loc[2], "size", sz, 2, 1)) return false;
    fixed.h = sz[0], fixed.w = sz[1];
    at->resize_mode = RESIZE_SIZE;
  } else {
    if (!need_tensor(e, b->v[3], b->loc[3], call->str, "like")) return false;
    like = shape_of(e, b->v[3]);
    at->resize_mode = RESIZE_LIKE, at->like = b->v[3].node;
  }
  bool fits;
  *out = shape_by_rule(OP_BILINEAR, at, &in, 1, fixed, like, &fits);
  if (out->h < 1 || out->w < 1) {
    elab_error(e, call->loc, NULL, "`%s` produces an empty %dx%d output", call->str, out->h, out->w);
    return false;
  }
  return true;
}

static Value op_resize(Elab *e, Scope *s, const Expr *call, Bound *b, OpKind k) {
  if (!need_tensor(e, b->v[0], call->loc, call->str, "x")) return v_error();
  Shape out;
  OpAttr at = op_attr_default();
  if (!resize_target(e, call, b, shape_of(e, b->v[0]), &out, &at)) return v_error();
  if (k == OP_BILINEAR && !opt_bool(e, b, 4, "align_corners", false, &at.align_corners)) return v_error();
  int id = new_node(e, s, k, &b->v[0].node, 1, call->loc, b->name, out);
  if (id < 0) return v_error();
  e->g->nodes[id].attr = at;
  return v_tensor(id);
}
static Value op_bilinear(Elab *e, Scope *s, const Expr *c, Bound *b) { return op_resize(e, s, c, b, OP_BILINEAR); }
static Value op_nearest(Elab *e, Scope *s, const Expr *c, Bound *b) { return op_resize(e, s, c, b, OP_NEAREST); }

/* crop's and pad's four margins, top, bottom, left, right (parameters 1..4, default 0), into at->crop. */
bool builtin_margins(Elab *e, const Expr *call, const Bound *b, const char *op, OpAttr *at) {
  static const char *what[4] = {"top", "bottom", "left", "right"};
  for (int i = 0; i < 4; i++) {
    int64_t c;
    if (!opt_int(e, b, i + 1, what[i], 0, &c)) return false;
    if (c < 0 || c > 100000) {
      elab_error(e, call->loc, NULL, "%s %s must be zero or more, got %lld", op, what[i], (long long)c);
      return false;
    }
    at->crop[i] = (int)c;
  }
  return true;
}

/* Makes the node of op k with attributes at and output shape out (after the caller's checks). */
Value builtin_attr_node(Elab *e, Scope *s, const Expr *call, const Bound *b, OpKind k, const OpAttr *at, Shape out) {
  int id = new_node(e, s, k, &b->v[0].node, 1, call->loc, b->name, out);
  if (id < 0) return v_error();
  e->g->nodes[id].attr = *at;
  return v_tensor(id);
}

static Value op_crop(Elab *e, Scope *s, const Expr *call, Bound *b) {
  if (!need_tensor(e, b->v[0], call->loc, "crop", "x")) return v_error();
  Shape in = shape_of(e, b->v[0]);
  OpAttr at = op_attr_default();
  if (!builtin_margins(e, call, b, "crop", &at)) return v_error();
  bool fits;
  Shape out = shape_by_rule(OP_CROP, &at, &in, 1, in, in, &fits);
  if (out.h < 1 || out.w < 1) {
    elab_error(e, call->loc, NULL, "crop removes the whole %dx%d input", in.h, in.w);
    return v_error();
  }
  return builtin_attr_node(e, s, call, b, OP_CROP, &at, out);
}

/* The IR builder of every op .sqn can call (ops.def's OPF_CALLABLE rows). */
static const OpBuilder builders[OP__COUNT] = {
    [OP_CONV] = op_conv,       [OP_BN] = op_bn,           [OP_RELU] = op_relu,         [OP_RELU6] = op_relu6,
    [OP_SIGMOID] = op_sigmoid, [OP_HSWISH] = op_hswish,   [OP_ADD] = op_add,           [OP_MUL] = op_mul,
    [OP_CONCAT] = op_concat,   [OP_AVGPOOL] = op_avgpool, [OP_GAP] = op_gap,           [OP_BILINEAR] = op_bilinear,
    [OP_NEAREST] = op_nearest, [OP_CROP] = op_crop,       [OP_ZERO] = op_zero,
    [OP_MAXPOOL] = builtin_maxpool, [OP_GMP] = op_gmp,    [OP_PAD] = builtin_pad,      [OP_SOFTMAX] = op_softmax,
    [OP_SLICE] = builtin_slice, [OP_CHANNEL_SHUFFLE] = builtin_channel_shuffle,
};

OpBuilder builtin_op_builder(const char *name) {
  OpKind k;
  if (!op_from_name(name, &k) || !(op_info(k)->flags & OPF_CALLABLE)) return NULL;
  return builders[k] ? builders[k] : builtin_eltwise_builder(k);
}
