/* builtins.c - the primitive ops of .sqn (conv, bn, activations, pooling, resize, ...) and scalar
   functions (round, min, ...): argument binding, type checks, shape inference, IR node creation. */
#include <math.h>
#include <string.h>
#include <stdlib.h>
#include "builtins.h"


typedef struct OpSpec {
  const char *name;
  const char *params[MAXP]; /* positional order */
  int nrequired;
  bool variadic;            /* extra positional tensors (concat) */
  bool is_op;               /* builds IR nodes (takes a name / sequential index) */
} OpSpec;

/* The ops come from plan/ops.def (the rows .sqn cannot call get no name here), then the scalar functions. */
#define UNPAREN(...) __VA_ARGS__
_Static_assert(OP_MAX_PARAMS <= MAXP, "ops.def allows more parameters than a call can bind");
static const OpSpec specs[] = {
#define OP(id, nm, min_in, max_in, fl, required, params) \
  {((fl) & OPF_CALLABLE) ? nm : NULL, {UNPAREN params}, required, ((fl) & OPF_VARIADIC) != 0, true},
#include "ops.def"
#undef OP
    {"round", {"x"}, 1, false, false},
    {"floor", {"x"}, 1, false, false},
    {"ceil", {"x"}, 1, false, false},
    {"abs", {"x"}, 1, false, false},
    {"min", {"a", "b"}, 2, true, false},
    {"max", {"a", "b"}, 2, true, false},
    {"int", {"x"}, 1, false, false},
    {"float", {"x"}, 1, false, false},
    {"tap", {"i"}, 1, false, false},
    {"len", {"x"}, 1, false, false},
    {"range", {"start", "stop", "step"}, 1, false, false},
    {"split", {"x", "parts"}, 2, false, true}, /* builds slice nodes; not an op row */
};
#define NSPECS ((int)(sizeof specs / sizeof specs[0]))

static const OpSpec *find_spec(const char *name) {
  if (!strcmp(name, "swish")) name = "silu"; /* the one alias */
  for (int i = 0; i < NSPECS; i++)
    if (specs[i].name && !strcmp(specs[i].name, name)) return &specs[i];
  return NULL;
}

bool builtin_is_op(const char *name) {
  const OpSpec *s = find_spec(name);
  return s && s->is_op;
}
bool builtin_is_function(const char *name) {
  const OpSpec *s = find_spec(name);
  return s && !s->is_op;
}

/* Names a builtin accepts as named arguments (its parameters, and name= for ops); NULL if unknown. */
const char *const *builtin_param_names(const char *name, int *n) {
  static const char *names[MAXP + 1];
  const OpSpec *sp = find_spec(name);
  if (!sp) return NULL;
  *n = 0;
  for (int i = 0; i < MAXP && sp->params[i]; i++) names[(*n)++] = sp->params[i];
  if (sp->is_op) names[(*n)++] = "name";
  return names;
}

const char *const *builtin_names(int *n) {
  static const char *names[NSPECS];
  *n = 0;
  for (int i = 0; i < NSPECS; i++)
    if (specs[i].name) names[(*n)++] = specs[i].name;
  return names;
}

static int param_index(const OpSpec *sp, const char *name) {
  for (int i = 0; i < MAXP && sp->params[i]; i++)
    if (!strcmp(sp->params[i], name)) return i;
  return -1;
}

static bool bind_named(Elab *e, Scope *s, const OpSpec *sp, const Arg *g, Bound *b) {
  if (!strcmp(g->name, "name") && sp->is_op) {
    Value v = eval_expr(e, s, g->value);
    if (v.kind != V_STRING) {
      elab_error(e, g->loc, "write name=\"conv_1.0\"", "name= must be a string");
      return false;
    }
    b->name = v.s;
    return true;
  }
  int k = param_index(sp, g->name);
  if (k < 0) {
    const char *cands[MAXP + 1];
    int n = 0;
    for (; n < MAXP && sp->params[n]; n++) cands[n] = sp->params[n];
    if (sp->is_op) cands[n++] = "name";
    elab_error(e, g->loc, hint_unknown_param(e, sp->name, g->name, cands, n), "`%s` has no parameter `%s`", sp->name,
               g->name);
    return false;
  }
  if (b->has[k]) {
    elab_error(e, g->loc, NULL, "parameter `%s` of `%s` is given twice", g->name, sp->name);
    return false;
  }
  b->v[k] = eval_expr(e, s, g->value);
  b->has[k] = true;
  b->loc[k] = g->loc;
  return b->v[k].kind != V_ERROR;
}

static bool bind_args(Elab *e, Scope *s, const OpSpec *sp, const Expr *call, const Value *pos, int npos,
                      const Arg *named, Bound *b) {
  int nparams = 0;
  while (nparams < MAXP && sp->params[nparams]) nparams++;
  for (int i = 0; i < npos; i++) {
    if (i < nparams && !(sp->variadic && i >= sp->nrequired)) {
      b->v[i] = pos[i];
      b->has[i] = true;
      b->loc[i] = call->loc;
    } else if (sp->variadic && b->nextra < 16) {
      b->extra[b->nextra++] = pos[i];
    } else {
      elab_error(e, call->loc, NULL, "`%s` takes at most %d positional arguments, got %d", sp->name, nparams, npos);
      return false;
    }
  }
  bool ok = true;
  for (const Arg *g = named; g; g = g->next)
    if (g->name && !bind_named(e, s, sp, g, b)) ok = false;
  for (int i = 0; ok && i < sp->nrequired; i++)
    if (!b->has[i]) {
      elab_error(e, call->loc, NULL, "`%s` needs its `%s` argument", sp->name, sp->params[i]);
      ok = false;
    }
  return ok;
}

static double num(Value v) { return v.kind == V_INT ? (double)v.i : v.f; }

static Value scalar_function(Elab *e, Scope *s, const OpSpec *sp, const Expr *call, Bound *b) {
  if (!strcmp(sp->name, "tap")) {
    int64_t i;
    if (!s->taps) {
      elab_error(e, call->loc, "tap(i) names the output of superblock i; use it in the space's `decoder` line",
                 "tap() is only available in a space's decoder arguments");
      return v_error();
    }
    if (!value_as_int(e, b->v[0], call->loc, "tap index", &i)) return v_error();
    if (i < 0 || i >= s->ntaps) {
      elab_error(e, call->loc, arena_printf(e->a, "superblocks are numbered 0 to %d", s->ntaps - 1),
                 "tap(%lld) is out of range", (long long)i);
      return v_error();
    }
    return s->taps[i];
  }
  if (!strcmp(sp->name, "len") || !strcmp(sp->name, "range")) {
    int given = 0, last = 0;
    while (given < 3 && b->has[given]) given++;
    for (int i = 0; i < 3; i++) last = b->has[i] ? i + 1 : last;
    if (last > given) { /* e.g. range(5, step=2) */
      elab_error(e, call->loc, "write range(stop), range(start, stop) or range(start, stop, step)", "range() is missing an argument");
      return v_error();
    }
    return list_builtin(e, sp->name, b->v, given, call->loc);
  }
  int n = sp->nrequired + b->nextra;
  Value args[18];
  for (int i = 0; i < sp->nrequired; i++) args[i] = b->v[i];
  for (int i = 0; i < b->nextra; i++) args[sp->nrequired + i] = b->extra[i];
  for (int i = 0; i < n; i++)
    if (args[i].kind != V_INT && args[i].kind != V_FLOAT) {
      elab_error(e, call->loc, NULL, "`%s` needs numbers, got %s", sp->name, value_to_string(e, args[i]));
      return v_error();
    }
  const char *f = sp->name;
  double x = num(args[0]);
  bool to_int = !strcmp(f, "round") || !strcmp(f, "floor") || !strcmp(f, "ceil") || !strcmp(f, "int");
  if ((to_int && !(fabs(x) < 9.0e15)) || (!strcmp(f, "abs") && args[0].kind == V_INT && args[0].i == INT64_MIN)) {
    elab_error(e, call->loc, NULL, "`%s(%g)` does not fit in an integer", f, x);
    return v_error();
  }
  if (!strcmp(f, "round")) return v_int((int64_t)nearbyint(x)); /* half to even, as Python's round */
  if (!strcmp(f, "floor")) return v_int((int64_t)floor(x));
  if (!strcmp(f, "ceil")) return v_int((int64_t)ceil(x));
  if (!strcmp(f, "int")) return v_int((int64_t)trunc(x));
  if (!strcmp(f, "float")) return v_float(x);
  if (!strcmp(f, "abs")) return args[0].kind == V_INT ? v_int(llabs(args[0].i)) : v_float(fabs(x));
  Value best = args[0];
  bool want_min = !strcmp(f, "min");
  for (int i = 1; i < n; i++)
    if (want_min ? num(args[i]) < num(best) : num(args[i]) > num(best)) best = args[i];
  return best;
}

Value builtin_call(Elab *e, Scope *s, const Expr *call, const Value *pos, int npos, const Arg *named) {
  const OpSpec *sp = find_spec(call->str);
  if (sp->is_op && !elab_can_add_nodes(e, call->loc)) return v_error();
  Bound b;
  memset(&b, 0, sizeof b);
  if (!bind_args(e, s, sp, call, pos, npos, named, &b)) return v_error();
  if (!sp->is_op) return scalar_function(e, s, sp, call, &b);
  if (!strcmp(sp->name, "split")) return builtin_split(e, s, call, &b);
  return builtin_op_builder(sp->name)(e, s, call, &b);
}
