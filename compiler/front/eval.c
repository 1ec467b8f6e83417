/* eval.c - evaluates .sqn expressions: scalars, tuples, tensors, conditionals and calls. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "elab.h"

Value v_int(int64_t i) { return (Value){.kind = V_INT, .i = i}; }
Value v_float(double f) { return (Value){.kind = V_FLOAT, .f = f}; }
Value v_bool(bool b) { return (Value){.kind = V_BOOL, .i = b}; }
Value v_tensor(int node) { return (Value){.kind = V_TENSOR, .node = node}; }
Value v_error(void) { return (Value){.kind = V_ERROR}; }

const char *value_kind_name(ValueKind k) {
  static const char *names[] = {"nothing", "int", "float", "bool", "string", "tensor", "tuple", "error", "callable"};
  return names[k];
}

const char *value_to_string(Elab *e, Value v) {
  switch (v.kind) {
  case V_INT: return arena_printf(e->a, "%lld", (long long)v.i);
  case V_FLOAT: return arena_printf(e->a, "%g", v.f);
  case V_BOOL: return v.i ? "true" : "false";
  case V_STRING: return arena_printf(e->a, "\"%s\"", v.s);
  case V_TENSOR: {
    Shape s = e->g->nodes[v.node].out;
    return arena_printf(e->a, "tensor %dx%dx%d", s.c, s.h, s.w);
  }
  case V_TUPLE: {
    const char *out = "(";
    for (int i = 0; i < v.n; i++)
      out = arena_printf(e->a, "%s%s%s", out, i ? ", " : "", value_to_string(e, v.items[i]));
    return arena_printf(e->a, "%s)", out);
  }
  case V_CALLABLE:
    return arena_printf(e->a, "%s `%s`", builtin_is_op(v.s) ? "op" : elab_find(e, DECL_FUNCTION, v.s) ? "function"
                                         : builtin_is_function(v.s) ? "function" : "block", v.s);
  default: return value_kind_name(v.kind);
  }
}

bool value_equal(Value a, Value b) {
  if ((a.kind == V_INT || a.kind == V_FLOAT) && (b.kind == V_INT || b.kind == V_FLOAT)) {
    double x = a.kind == V_INT ? (double)a.i : a.f, y = b.kind == V_INT ? (double)b.i : b.f;
    return x == y;
  }
  if (a.kind != b.kind) return false;
  switch (a.kind) {
  case V_BOOL: return a.i == b.i;
  case V_STRING: case V_CALLABLE: return !strcmp(a.s, b.s);
  case V_TENSOR: return a.node == b.node;
  case V_TUPLE:
    if (a.n != b.n) return false;
    for (int i = 0; i < a.n; i++)
      if (!value_equal(a.items[i], b.items[i])) return false;
    return true;
  default: return true;
  }
}

/* Errors raised while a block is being instantiated also say where it was instantiated from. */
/* The blocks being instantiated, innermost first (at most 4), as notes after an error or a warning. */
static void instantiation_notes(Elab *e) {
  int shown = 0;
  for (Scope *s = e->scope; s && shown < 4; s = s->parent) {
    if (!s->block || !s->call_site.file) continue;
    if (!diag_too_many(e->d))
      diag_note(e->d, s->call_site, "in %s `%s` instantiated here", s->block->is_decoder ? "decoder" : "block",
                s->block->name);
    shown++;
  }
}

void elab_error(Elab *e, SrcLoc loc, const char *hint, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  diag_error(e->d, loc, hint, "%s", msg);
  instantiation_notes(e);
}

void elab_warning(Elab *e, SrcLoc loc, const char *hint, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  diag_warning(e->d, loc, hint, "%s", msg);
  instantiation_notes(e);
}

bool scope_lookup(const Scope *s, const char *name, Value *out) {
  const Binding *b = name_map_get(&s->index, name);
  if (b) *out = b->value;
  return b != NULL;
}

void scope_bind(Elab *e, Scope *s, const char *name, Value v) {
  Binding *b = s->index.a ? name_map_get(&s->index, name) : NULL;
  if (b) { /* rebinding (a loop variable, x = x -> relu): the newest value is all that is ever read */
    b->value = v;
    return;
  }
  b = ARENA_NEW(e->a, Binding);
  b->name = name;
  b->value = v;
  b->next = s->vars;
  s->vars = b;
  s->index.a = e->a;
  name_map_put(&s->index, name, b);
}

bool value_as_int(Elab *e, Value v, SrcLoc loc, const char *what, int64_t *out) {
  if (v.kind == V_INT) {
    *out = v.i;
    return true;
  }
  if (v.kind == V_FLOAT && v.f == floor(v.f) && fabs(v.f) < 1e15) {
    *out = (int64_t)v.f;
    return true;
  }
  if (v.kind != V_ERROR)
    elab_error(e, loc, v.kind == V_FLOAT ? "use round(), floor() or ceil() to make an int" : NULL,
               "%s must be an int, got %s", what, value_to_string(e, v));
  return false;
}

/* An int n means (n, n); a tuple (a, b) means itself. */
static bool fits_int(Elab *e, int64_t x, SrcLoc loc, const char *what) {
  if (x >= -1000000000 && x <= 1000000000) return true;
  elab_error(e, loc, NULL, "%s is out of range: %lld", what, (long long)x);
  return false;
}

bool value_as_pair(Elab *e, Value v, SrcLoc loc, const char *what, int out[2]) {
  int64_t x;
  if (v.kind == V_TUPLE && v.n == 2) {
    for (int i = 0; i < 2; i++) {
      if (!value_as_int(e, v.items[i], loc, what, &x) || !fits_int(e, x, loc, what)) return false;
      out[i] = (int)x;
    }
    return true;
  }
  if (v.kind == V_TUPLE) {
    elab_error(e, loc, "write (h, w) or a single int", "%s must be an int or a pair, got %d values", what, v.n);
    return false;
  }
  if (!value_as_int(e, v, loc, what, &x) || !fits_int(e, x, loc, what)) return false;
  out[0] = out[1] = (int)x;
  return true;
}

static bool is_number(Value v) { return v.kind == V_INT || v.kind == V_FLOAT; }
static double num(Value v) { return v.kind == V_INT ? (double)v.i : v.f; }

/* A variable visible from s: its own, then (through comprehension scopes) its block's; blocks see
   only their own names. */
static bool lookup_visible(const Scope *s, const char *name, Value *v) {
  for (const Scope *p = s; p; p = p->parent) {
    if (scope_lookup(p, name, v)) return true;
    if (p->block && !p->transparent) break;
  }
  return false;
}

static bool is_callable_name(const Elab *e, const char *name) {
  return builtin_is_op(name) || builtin_is_function(name) || elab_find(e, DECL_BLOCK, name) ||
         elab_find(e, DECL_FUNCTION, name);
}

const char *eval_callee(Elab *e, Scope *s, const char *name, SrcLoc loc) {
  Value v;
  if (!lookup_visible(s, name, &v)) return name;
  if (v.kind == V_CALLABLE) return v.s;
  if (v.kind != V_ERROR)
    elab_error(e, loc, is_callable_name(e, name) ? arena_printf(e->a, "the variable `%s` hides the %s of that name: rename it", name,
                                                                builtin_is_op(name) ? "op" : "block or function")
                                                 : NULL,
               "`%s` is %s, not an op, block or function", name, value_to_string(e, v));
  return NULL;
}

Scope scope_inner(Scope *s) {
  Scope in = *s;
  in.vars = NULL;
  in.index = (NameMap){0};
  in.parent = s;
  in.transparent = true;
  return in;
}

void scope_leave(Scope *s, const Scope *inner) { s->counter = inner->counter; }

static Value eval_identifier(Elab *e, Scope *s, const Expr *x) {
  Value v;
  if (lookup_visible(s, x->str, &v)) return v;
  if (is_callable_name(e, x->str)) return (Value){.kind = V_CALLABLE, .s = x->str}; /* e.g. act = relu */
  const char *names[64];
  int n = 0;
  for (Scope *p = s; p && n < 60; p = p->parent) {
    for (Binding *b = p->vars; b && n < 60; b = b->next) names[n++] = b->name;
    if (p->block && !p->transparent) break;
  }
  const char *best = diag_closest(x->str, names, n);
  char hint[128];
  if (best) snprintf(hint, sizeof hint, "did you mean `%s`?", best);
  else if (elab_find(e, DECL_BLOCK, x->str)) snprintf(hint, sizeof hint, "`%s` is a block: call it, e.g. `%s(x)` or `x -> %s`", x->str, x->str, x->str);
  else if (s->block) snprintf(hint, sizeof hint, "inside a block the names are its parameters, `in`, `cin`, `cout`, `stride` and earlier assignments");
  else snprintf(hint, sizeof hint, "settings see only literals; `residual` also sees stride, cin and cout");
  elab_error(e, x->loc, hint, "unknown name `%s`", x->str);
  return v_error();
}

static Value eval_member(Elab *e, Scope *s, const Expr *x) {
  Value obj = eval_expr(e, s, x->a);
  if (obj.kind == V_ERROR) return obj;
  if (obj.kind == V_TENSOR) {
    Shape sh = e->g->nodes[obj.node].out;
    if (!strcmp(x->str, "c")) return v_int(sh.c);
    if (!strcmp(x->str, "h")) return v_int(sh.h);
    if (!strcmp(x->str, "w")) return v_int(sh.w);
    static const char *fields[] = {"c", "h", "w"};
    const char *best = diag_closest(x->str, fields, 3);
    elab_error(e, x->loc, best ? arena_printf(e->a, "did you mean `.%s`?", best) : "tensors have .c, .h and .w",
               "tensor has no field `%s`", x->str);
    return v_error();
  }
  elab_error(e, x->loc, NULL, "`.%s` needs a tensor, got %s", x->str, value_to_string(e, obj));
  return v_error();
}

static Value int_overflow(Elab *e, SrcLoc loc, Operator op) {
  elab_error(e, loc, "integers are 64-bit", "integer overflow in `%s`", ast_operator_text(op));
  return v_error();
}

/* Integer arithmetic (Python semantics for % and //), checked for overflow. */
static Value int_arith(Elab *e, Operator op, int64_t a, int64_t b, SrcLoc loc) {
  int64_t r;
  switch (op) {
  case OPR_ADD: return __builtin_add_overflow(a, b, &r) ? int_overflow(e, loc, op) : v_int(r);
  case OPR_SUB: return __builtin_sub_overflow(a, b, &r) ? int_overflow(e, loc, op) : v_int(r);
  case OPR_MUL: return __builtin_mul_overflow(a, b, &r) ? int_overflow(e, loc, op) : v_int(r);
  case OPR_MOD:
    if (b == -1) return v_int(0); /* also avoids INT64_MIN % -1 */
    r = a % b;
    return v_int(r != 0 && (r < 0) != (b < 0) ? r + b : r);
  default: return v_error();
  }
}

static Value arith(Elab *e, Operator op, Value a, Value b, SrcLoc loc) {
  if ((op == OPR_DIV || op == OPR_MOD) && num(b) == 0) {
    elab_error(e, loc, NULL, "division by zero");
    return v_error();
  }
  if (a.kind == V_INT && b.kind == V_INT && op != OPR_DIV && op < OPR_EQ) return int_arith(e, op, a.i, b.i, loc);
  double x = num(a), y = num(b);
  switch (op) {
  case OPR_ADD: return v_float(x + y);
  case OPR_SUB: return v_float(x - y);
  case OPR_MUL: return v_float(x * y);
  case OPR_DIV: return v_float(x / y);
  case OPR_MOD: {
    double r = fmod(x, y); /* Python semantics: the result has the divisor's sign */
    return v_float(r != 0 && (r < 0) != (y < 0) ? r + y : r);
  }
  case OPR_LT: return v_bool(x < y);
  case OPR_LE: return v_bool(x <= y);
  case OPR_GT: return v_bool(x > y);
  case OPR_GE: return v_bool(x >= y);
  default: return v_error();
  }
}

static bool as_bool(Elab *e, Value v, SrcLoc loc, const char *what, bool *out) {
  if (v.kind == V_BOOL) {
    *out = v.i != 0;
    return true;
  }
  if (v.kind != V_ERROR)
    elab_error(e, loc, "compare with ==, !=, <, ... to get a bool", "%s must be a bool, got %s", what,
               value_to_string(e, v));
  return false;
}

static Value eval_binary(Elab *e, Scope *s, const Expr *x) {
  if (x->op == OPR_AND || x->op == OPR_OR) { /* short-circuit */
    bool a, b;
    if (!as_bool(e, eval_expr(e, s, x->a), x->a->loc, "left side of the condition", &a)) return v_error();
    if (x->op == OPR_AND ? !a : a) return v_bool(a);
    if (!as_bool(e, eval_expr(e, s, x->b), x->b->loc, "right side of the condition", &b)) return v_error();
    return v_bool(b);
  }
  Value a = eval_expr(e, s, x->a);
  Value b = eval_expr(e, s, x->b);
  if (a.kind == V_ERROR || b.kind == V_ERROR) return v_error();
  if (x->op == OPR_EQ) return v_bool(value_equal(a, b));
  if (x->op == OPR_NE) return v_bool(!value_equal(a, b));
  if (a.kind == V_TENSOR || b.kind == V_TENSOR) return builtin_binary_tensor(e, s, x->op, a, b, x->loc);
  if (a.kind == V_TUPLE && b.kind == V_TUPLE && x->op == OPR_ADD) return list_concat(e, a, b);
  if (is_number(a) && is_number(b)) return arith(e, x->op, a, b, x->loc);
  elab_error(e, x->loc, NULL, "operator `%s` cannot combine %s and %s", ast_operator_text(x->op),
             value_to_string(e, a), value_to_string(e, b));
  return v_error();
}

static Value eval_unary(Elab *e, Scope *s, const Expr *x) {
  Value a = eval_expr(e, s, x->a);
  if (a.kind == V_ERROR) return a;
  if (x->op == OPR_NOT) {
    bool b;
    return as_bool(e, a, x->a->loc, "operand of !", &b) ? v_bool(!b) : v_error();
  }
  if (a.kind == V_INT) return a.i == INT64_MIN ? int_overflow(e, x->loc, OPR_NEG) : v_int(-a.i);
  if (a.kind == V_FLOAT) return v_float(-a.f);
  if (a.kind == V_TENSOR) return builtin_negate(e, s, a, x->loc);
  elab_error(e, x->loc, NULL, "cannot negate %s", value_to_string(e, a));
  return v_error();
}

static Value eval_cond(Elab *e, Scope *s, const Expr *x) {
  bool c;
  if (!as_bool(e, eval_expr(e, s, x->a), x->a->loc, "condition of `?:`", &c)) return v_error();
  return eval_expr(e, s, c ? x->b : x->c); /* only the chosen branch builds ops */
}

static Value eval_tuple(Elab *e, Scope *s, const Expr *x) {
  Value v = {.kind = V_TUPLE, .n = x->nargs};
  v.items = ARENA_ARRAY(e->a, Value, x->nargs ? x->nargs : 1);
  int i = 0;
  for (const Arg *g = x->args; g; g = g->next, i++) {
    if (g->name) {
      elab_error(e, g->loc, NULL, "named values are not allowed in a tuple or list");
      return v_error();
    }
    v.items[i] = eval_expr(e, s, g->value);
    if (v.items[i].kind == V_ERROR) return v_error();
  }
  return v;
}

static Value eval_call(Elab *e, Scope *s, const Expr *x);

#define MAX_EVAL_DEPTH 400

/* False (after one error) once the graph is as large as allowed; elaboration then stops. */
bool elab_can_add_nodes(Elab *e, SrcLoc loc) {
  if (e->abort) return false;
  if (e->g->nnodes < IR_MAX_NODES) return true;
  elab_error(e, loc, "a block may instantiate blocks that double the graph at every level",
             "the network has more than %d ops", IR_MAX_NODES);
  e->abort = true;
  return false;
}

#define MAX_LOOP_STEPS 1000000LL

bool elab_loop_step(Elab *e, SrcLoc loc) {
  if (e->abort) return false;
  if (++e->loop_steps <= MAX_LOOP_STEPS) return true;
  elab_error(e, loc, "loops and comprehensions nest too deeply or run too long; a network needs far fewer",
             "more than %lld loop iterations", MAX_LOOP_STEPS);
  e->abort = true;
  return false;
}

static Value eval_node(Elab *e, Scope *s, const Expr *x);

Value eval_expr(Elab *e, Scope *s, const Expr *x) {
  if (e->abort) return v_error();
  if (e->eval_depth >= MAX_EVAL_DEPTH) {
    elab_error(e, x->loc, "split it into several statements", "expression nested more than %d levels deep",
               MAX_EVAL_DEPTH);
    e->abort = true;
    return v_error();
  }
  e->eval_depth++;
  Value v = eval_node(e, s, x);
  e->eval_depth--;
  return v;
}

static Value eval_node(Elab *e, Scope *s, const Expr *x) {
  switch (x->kind) {
  case EX_INT: return v_int(x->ival);
  case EX_FLOAT: return v_float(x->fval);
  case EX_BOOL: return v_bool(x->ival != 0);
  case EX_STRING: return (Value){.kind = V_STRING, .s = x->str};
  case EX_IDENT: return eval_identifier(e, s, x);
  case EX_MEMBER: return eval_member(e, s, x);
  case EX_UNARY: return eval_unary(e, s, x);
  case EX_BINARY: return eval_binary(e, s, x);
  case EX_COND: return eval_cond(e, s, x);
  case EX_TUPLE: case EX_LIST: return eval_tuple(e, s, x);
  case EX_CALL: return eval_call(e, s, x);
  case EX_INDEX: return eval_index(e, s, x);
  case EX_COMP: return eval_comprehension(e, s, x);
  case EX_FOR: case EX_IF: break; /* only inside EX_COMP */
  case EX_DIMS:
    elab_error(e, x->loc, "dimensions like 3x1024x2048 are only used by `input` and `crop` settings",
               "unexpected dimensions");
    return v_error();
  case EX_RANGE:
    elab_error(e, x->loc, "`a -> b` with numbers is only used by the `temperature` setting", "unexpected range");
    return v_error();
  }
  return v_error();
}

/* Evaluates call arguments: positional values in order, named ones kept as AST for the callee. */
static int eval_positional(Elab *e, Scope *s, const Expr *x, Value *pos, int cap, bool *ok) {
  int n = 0;
  bool seen_named = false;
  for (const Arg *g = x->args; g; g = g->next) {
    if (g->name) {
      seen_named = true;
      continue;
    }
    if (seen_named) {
      elab_error(e, g->loc, "put positional arguments before named ones", "positional argument after a named one");
      *ok = false;
    }
    if (n == cap) {
      elab_error(e, g->loc, NULL, "too many arguments (at most %d)", cap);
      *ok = false;
      return n;
    }
    pos[n] = eval_expr(e, s, g->value);
    if (pos[n].kind == V_ERROR) *ok = false;
    n++;
  }
  return n;
}

static Value eval_call(Elab *e, Scope *s, const Expr *x) {
  Value pos[16];
  bool ok = true;
  int npos = eval_positional(e, s, x, pos, 16, &ok);
  if (!ok) return v_error();
  const char *callee = eval_callee(e, s, x->str, x->loc);
  if (!callee) return v_error();
  if (callee != x->str) { /* through a variable: the call as if it named the callable */
    Expr *c = ARENA_NEW(e->a, Expr);
    *c = *x;
    c->str = callee;
    x = c;
  }
  if (s->in_function && (builtin_is_op(x->str) || elab_find(e, DECL_BLOCK, x->str))) {
    elab_error(e, x->loc, "a function computes numbers, tuples or strings; build ops in a `block`",
               "function calls %s `%s`", builtin_is_op(x->str) ? "op" : "block", x->str);
    return v_error();
  }
  if (builtin_is_op(x->str) || builtin_is_function(x->str)) return builtin_call(e, s, x, pos, npos, x->args);
  const Decl *fn = elab_find(e, DECL_FUNCTION, x->str);
  if (fn) return call_function(e, s, fn, x, pos, npos, x->args);
  const Decl *blk = elab_find(e, DECL_BLOCK, x->str);
  if (blk) {
    if (npos == 0 || pos[0].kind != V_TENSOR) {
      elab_error(e, x->loc, arena_printf(e->a, "write `%s(x, ...)` or `x -> %s(...)`", x->str, x->str),
                 "block `%s` needs an input tensor as its first argument", x->str);
      return v_error();
    }
    BlockCtx ctx = {.input = pos[0], .cout = -1, .stride = -1};
    return elab_call_block(e, s, blk, x, &ctx, pos + 1, npos - 1, x->args);
  }
  elab_error(e, x->loc, hint_unknown_callee(e, x->str, false), "unknown op or block `%s`", x->str);
  return v_error();
}
