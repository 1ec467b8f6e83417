/* ast.c - constructors and small helpers for syntax tree nodes. */
#include "ast.h"
#include <stdlib.h>

Expr *ast_expr(Arena *a, ExprKind kind, SrcLoc loc) {
  Expr *e = ARENA_NEW(a, Expr);
  e->kind = kind;
  e->loc = loc;
  return e;
}

Arg *ast_arg(Arena *a, const char *name, Expr *value, SrcLoc loc) {
  Arg *g = ARENA_NEW(a, Arg);
  g->name = name;
  g->value = value;
  g->loc = loc;
  g->tail = g;
  return g;
}

Arg *ast_arg_append(Arg *list, Arg *item) {
  if (!list) return item;
  if (!item) return list;
  list->tail->next = item;
  list->tail = item->tail;
  return list;
}

int ast_arg_count(const Arg *list) {
  int n = 0;
  for (; list; list = list->next) n++;
  return n;
}

const char *ast_type_name(TypeName t) {
  static const char *names[] = {"any", "int", "float", "bool", "tensor", "tuple", "string"};
  return names[t];
}

const char *ast_operator_text(Operator op) {
  static const char *names[] = {"+", "-", "*", "/", "%", "==", "!=", "<",
                                "<=", ">", ">=", "&&", "||", "-", "!"};
  return names[op];
}

static const char *expr_text(Arena *a, const Expr *e, int depth);

/* At most the first MAX_TEXT_ARGS items: a list of a million items prints as its start. */
#define MAX_TEXT_ARGS 16
static const char *join_args(Arena *a, const Arg *g, int depth) {
  const char *out = "";
  for (int i = 0; g; g = g->next, i++)
    if (i == MAX_TEXT_ARGS) return arena_printf(a, "%s, ...", out);
    else out = arena_printf(a, "%s%s%s%s%s", out, *out ? ", " : "", g->name ? g->name : "", g->name ? "=" : "",
                       expr_text(a, g->value, depth + 1));
  return out;
}

const char *ast_expr_text(Arena *a, const Expr *e) { return expr_text(a, e, 0); }

/* The shortest of %g and %.17g that reads back as the same double (0.1 stays "0.1"). */
static const char *float_text(Arena *a, double v) {
  const char *t = arena_printf(a, "%g", v);
  return strtod(t, NULL) == v ? t : arena_printf(a, "%.17g", v);
}

/* Deeply nested expressions are abbreviated, so printing never recurses without bound. */
static const char *expr_text(Arena *a, const Expr *e, int depth) {
  if (depth > 64) return "...";
  switch (e->kind) {
  case EX_INT: return arena_printf(a, "%lld", (long long)e->ival);
  case EX_FLOAT: return e->percent ? arena_printf(a, "%g%%", e->fval * 100) : float_text(a, e->fval);
  case EX_BOOL: return e->ival ? "true" : "false";
  case EX_STRING: return arena_printf(a, "\"%s\"", e->str);
  case EX_IDENT: return e->str;
  case EX_MEMBER: return arena_printf(a, "%s.%s", expr_text(a, e->a, depth + 1), e->str);
  case EX_UNARY: return arena_printf(a, "%s%s", ast_operator_text(e->op), expr_text(a, e->a, depth + 1));
  case EX_BINARY:
    return arena_printf(a, "(%s %s %s)", expr_text(a, e->a, depth + 1), ast_operator_text(e->op), expr_text(a, e->b, depth + 1));
  case EX_COND:
    return arena_printf(a, "(%s ? %s : %s)", expr_text(a, e->a, depth + 1), expr_text(a, e->b, depth + 1), expr_text(a, e->c, depth + 1));
  case EX_CALL: return arena_printf(a, "%s(%s)", e->str, join_args(a, e->args, depth));
  case EX_TUPLE: return arena_printf(a, "(%s)", join_args(a, e->args, depth));
  case EX_LIST: return arena_printf(a, "[%s]", join_args(a, e->args, depth));
  case EX_RANGE: return arena_printf(a, "%s -> %s", expr_text(a, e->a, depth + 1), expr_text(a, e->b, depth + 1));
  case EX_INDEX: return arena_printf(a, "%s[%s]", expr_text(a, e->a, depth + 1), expr_text(a, e->b, depth + 1));
  case EX_FOR: return arena_printf(a, "for %s in %s", e->str, expr_text(a, e->a, depth + 1));
  case EX_IF: return arena_printf(a, "if %s", expr_text(a, e->a, depth + 1));
  case EX_COMP: {
    const char *out = expr_text(a, e->a, depth + 1);
    for (const Arg *g = e->args; g; g = g->next) out = arena_printf(a, "%s %s", out, expr_text(a, g->value, depth + 1));
    return arena_printf(a, "[%s]", out);
  }
  case EX_DIMS: {
    const char *out = "";
    for (int i = 0; i < e->ndims; i++) out = arena_printf(a, "%s%s%d", out, i ? "x" : "", e->dims[i]);
    return out;
  }
  }
  return "?";
}
