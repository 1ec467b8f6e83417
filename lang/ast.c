/* ast.c - constructors and small helpers for syntax tree nodes. */
#include "ast.h"

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
  return g;
}

Arg *ast_arg_append(Arg *list, Arg *item) {
  if (!list) return item;
  Arg *p = list;
  while (p->next) p = p->next;
  p->next = item;
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
  static const char *names[] = {"+", "-", "*", "/", "//", "%", "==", "!=", "<",
                                "<=", ">", ">=", "&&", "||", "-", "!"};
  return names[op];
}

static const char *join_args(Arena *a, const Arg *g) {
  const char *out = "";
  for (; g; g = g->next)
    out = arena_printf(a, "%s%s%s%s%s", out, *out ? ", " : "", g->name ? g->name : "", g->name ? "=" : "",
                       ast_expr_text(a, g->value));
  return out;
}

const char *ast_expr_text(Arena *a, const Expr *e) {
  switch (e->kind) {
  case EX_INT: return arena_printf(a, "%lld", (long long)e->ival);
  case EX_FLOAT: return e->percent ? arena_printf(a, "%g%%", e->fval * 100) : arena_printf(a, "%g", e->fval);
  case EX_BOOL: return e->ival ? "true" : "false";
  case EX_STRING: return arena_printf(a, "\"%s\"", e->str);
  case EX_IDENT: return e->str;
  case EX_MEMBER: return arena_printf(a, "%s.%s", ast_expr_text(a, e->a), e->str);
  case EX_UNARY: return arena_printf(a, "%s%s", ast_operator_text(e->op), ast_expr_text(a, e->a));
  case EX_BINARY:
    return arena_printf(a, "(%s %s %s)", ast_expr_text(a, e->a), ast_operator_text(e->op), ast_expr_text(a, e->b));
  case EX_COND:
    return arena_printf(a, "(%s ? %s : %s)", ast_expr_text(a, e->a), ast_expr_text(a, e->b), ast_expr_text(a, e->c));
  case EX_CALL: return arena_printf(a, "%s(%s)", e->str, join_args(a, e->args));
  case EX_TUPLE: return arena_printf(a, "(%s)", join_args(a, e->args));
  case EX_LIST: return arena_printf(a, "[%s]", join_args(a, e->args));
  case EX_RANGE: return arena_printf(a, "%s -> %s", ast_expr_text(a, e->a), ast_expr_text(a, e->b));
  case EX_DIMS: {
    const char *out = "";
    for (int i = 0; i < e->ndims; i++) out = arena_printf(a, "%s%s%d", out, i ? "x" : "", e->dims[i]);
    return out;
  }
  }
  return "?";
}
