/* candidate_sets.c - expands a stage's `choose SET` into its candidates. A set is a list of block
   calls, a comprehension over them (`[ir(k=k, e=e) for k in (3, 5) for e in (3, 6)]`), another set
   by name or by call with arguments (`choose irs(ks=(3, 5, 7))`), or `a + b` of those. Every
   candidate comes out as a plain block call with the set's parameters and loop variables written in
   (`ir(k=3, e=6)`), so it is named, displayed and written into derived.sqn like a hand-written one. */
#include <string.h>
#include "elab.h"

#define MAX_SET_DEPTH 16

typedef struct Expansion {
  Choice *out;
  int n, cap;
  const char *set_name;
} Expansion;

static const char *sanitize(Elab *e, const char *text) {
  char *s = arena_strdup(e->a, text);
  int n = 0;
  for (const char *p = text; *p; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')) s[n++] = *p;
    else if (n && s[n - 1] != '_') s[n++] = '_';
  }
  while (n && s[n - 1] == '_') n--;
  s[n] = 0;
  return s;
}

Choice choice_of(Elab *e, const char *name, const Expr *call) {
  Choice c = {.expr = call, .display = ast_expr_text(e->a, call)};
  c.name = name ? name : sanitize(e, c.display);
  return c;
}

/* A literal expression for a value bound while expanding (lists print as [a, b]: a one-item tuple
   would read back as a number). */
static Expr *literal(Elab *e, Value v, SrcLoc loc) {
  Expr *x = ast_expr(e->a, EX_INT, loc);
  switch (v.kind) {
  case V_INT: x->ival = v.i; break;
  case V_FLOAT: x->kind = EX_FLOAT, x->fval = v.f; break;
  case V_BOOL: x->kind = EX_BOOL, x->ival = v.i; break;
  case V_STRING: x->kind = EX_STRING, x->str = v.s; break;
  case V_CALLABLE: x->kind = EX_IDENT, x->str = v.s; break;
  case V_TUPLE:
    x->kind = EX_LIST, x->nargs = v.n;
    for (int i = 0; i < v.n; i++) x->args = ast_arg_append(x->args, ast_arg(e->a, NULL, literal(e, v.items[i], loc), loc));
    break;
  default: return NULL;
  }
  return x;
}

static bool bound(Scope *env, const char *name, Value *v) {
  for (Scope *p = env; p; p = p->parent)
    if (scope_lookup(p, name, v)) return true;
  return false;
}

/* x with every name bound in env replaced by its value (a called name by the callable it holds). */
static Expr *substitute(Elab *e, Scope *env, const Expr *x, int depth) {
  if (!x || depth > 64) return (Expr *)x;
  Value v;
  if (x->kind == EX_IDENT && bound(env, x->str, &v)) {
    Expr *lit = literal(e, v, x->loc);
    if (lit) return lit;
  }
  Expr *c = ARENA_NEW(e->a, Expr);
  *c = *x;
  if (x->kind == EX_CALL && bound(env, x->str, &v) && v.kind == V_CALLABLE) c->str = v.s;
  c->a = substitute(e, env, x->a, depth + 1);
  c->b = substitute(e, env, x->b, depth + 1);
  c->c = substitute(e, env, x->c, depth + 1);
  c->args = NULL;
  for (const Arg *g = x->args; g; g = g->next)
    c->args = ast_arg_append(c->args, ast_arg(e->a, g->name, substitute(e, env, g->value, depth + 1), g->loc));
  return c;
}

static bool expand(Elab *e, Scope *env, const Expr *x, Expansion *out, int depth);

static bool add_choice(Elab *e, Scope *env, const char *name, const Expr *x, Expansion *out) {
  x = substitute(e, env, x, 0);
  if (x->kind != EX_CALL && x->kind != EX_IDENT) {
    elab_error(e, x->loc, "a candidate is a block call, e.g. `inverse_residual(k=3, e=6)`",
               "candidate `%s` of set `%s` is not a block call", ast_expr_text(e->a, x), out->set_name);
    return false;
  }
  if (out->n == out->cap) {
    elab_error(e, x->loc, NULL, "set `%s` has more than %d candidates", out->set_name, out->cap);
    return false;
  }
  Choice c = choice_of(e, name, x);
  for (int i = 0; i < out->n; i++)
    if (!strcmp(out->out[i].name, c.name)) {
      elab_error(e, x->loc, "give each candidate different arguments or its own `name = ...`",
                 "set `%s` has two candidates named `%s`", out->set_name, c.name);
      return false;
    }
  out->out[out->n++] = c;
  return true;
}

/* A list item or a comprehension's element: a nested set, or one candidate. */
static bool is_set_expr(const Elab *e, const Expr *x) {
  return x->kind == EX_LIST || x->kind == EX_COMP || (x->kind == EX_BINARY && x->op == OPR_ADD) ||
         ((x->kind == EX_IDENT || x->kind == EX_CALL) && elab_find(e, DECL_CANDIDATES, x->str) &&
          !elab_find(e, DECL_BLOCK, x->str));
}

static bool expand_item(Elab *e, Scope *env, const char *name, const Expr *x, Expansion *out, int depth) {
  if (!name && is_set_expr(e, x)) return expand(e, env, x, out, depth + 1);
  return add_choice(e, env, name, x, out);
}

static bool expand_clauses(Elab *e, Scope *env, const Arg *g, const Expr *element, Expansion *out, int depth) {
  if (!g) return expand_item(e, env, NULL, element, out, depth);
  const Expr *clause = g->value;
  Value v = eval_expr(e, env, clause->a);
  if (v.kind == V_ERROR) return false;
  if (clause->kind == EX_IF) {
    if (v.kind != V_BOOL) {
      elab_error(e, clause->loc, NULL, "the `if` of a comprehension needs a bool, got %s", value_to_string(e, v));
      return false;
    }
    return !v.i || expand_clauses(e, env, g->next, element, out, depth);
  }
  int n;
  const Value *items = list_items(e, v, clause->a->loc, &n);
  if (!items) return false;
  Scope in = {.parent = env};
  for (int i = 0; i < n; i++) {
    scope_bind(e, &in, clause->str, items[i]);
    if (!elab_loop_step(e, clause->loc) || !expand_clauses(e, &in, g->next, element, out, depth)) return false;
  }
  return true;
}

static const Param *set_param(const Decl *set, const char *name, int index) {
  int k = 0;
  for (const Param *p = set->params; p; p = p->next, k++)
    if (name ? !strcmp(p->name, name) : k == index) return p;
  return NULL;
}

/* `NAME` or `NAME(args)` of a set: its parameters bound (arguments evaluated in env), then its body. */
static bool expand_named_set(Elab *e, Scope *env, const Expr *use, Expansion *out, int depth) {
  const Decl *set = elab_find(e, DECL_CANDIDATES, use->str);
  Scope ps = {0};
  int npos = 0;
  for (const Arg *g = use->kind == EX_CALL ? use->args : NULL; g; g = g->next) {
    const Param *p = set_param(set, g->name, g->name ? -1 : npos++);
    Value v;
    if (!p && g->name)
      return elab_error(e, g->loc, NULL, "candidate set `%s` has no parameter `%s`", set->name, g->name), false;
    if (!p) return elab_error(e, g->loc, NULL, "candidate set `%s` takes %d parameters", set->name, npos - 1), false;
    if (scope_lookup(&ps, p->name, &v))
      return elab_error(e, g->loc, NULL, "parameter `%s` of candidate set `%s` is given twice", p->name, set->name), false;
    v = eval_expr(e, env, g->value);
    if (v.kind == V_ERROR) return false;
    scope_bind(e, &ps, p->name, v);
  }
  for (const Param *p = set->params; p; p = p->next) {
    Value v;
    if (scope_lookup(&ps, p->name, &v)) continue;
    if (!p->deflt) {
      elab_error(e, use->loc, arena_printf(e->a, "write `%s(%s=...)`", set->name, p->name),
                 "candidate set `%s` needs parameter `%s`", set->name, p->name);
      return false;
    }
    v = eval_expr(e, &ps, p->deflt);
    if (v.kind == V_ERROR) return false;
    scope_bind(e, &ps, p->name, v);
  }
  const char *outer = out->set_name;
  out->set_name = set->name;
  bool ok = expand(e, &ps, set->set, out, depth + 1);
  out->set_name = outer;
  return ok;
}

static bool expand(Elab *e, Scope *env, const Expr *x, Expansion *out, int depth) {
  if (depth > MAX_SET_DEPTH) {
    elab_error(e, x->loc, "a set may not (indirectly) contain itself", "candidate sets nested more than %d deep",
               MAX_SET_DEPTH);
    return false;
  }
  switch (x->kind) {
  case EX_LIST:
    for (const Arg *g = x->args; g; g = g->next)
      if (!expand_item(e, env, g->name, g->value, out, depth)) return false;
    return true;
  case EX_COMP: {
    Scope in = {.parent = env};
    return expand_clauses(e, &in, x->args, x->a, out, depth);
  }
  case EX_BINARY:
    return x->op == OPR_ADD && expand(e, env, x->a, out, depth + 1) && expand(e, env, x->b, out, depth + 1);
  case EX_IDENT: case EX_CALL:
    if (elab_find(e, DECL_CANDIDATES, x->str)) return expand_named_set(e, env, x, out, depth);
    elab_error(e, x->loc, "define it with `candidates NAME = [ ... ]` or import it", "unknown candidate set `%s`",
               x->str);
    return false;
  default:
    elab_error(e, x->loc, "write a list [a(), b()], a comprehension [a(k=k) for k in (3, 5)] or a set's name",
               "`%s` is not a candidate set", ast_expr_text(e->a, x));
    return false;
  }
}

int candidate_set_expand(Elab *e, const Expr *use, Choice *out, int cap, const char **set_name) {
  bool inline_set = use->kind == EX_LIST || use->kind == EX_COMP; /* choose [ir(k=3), skip] */
  Expansion ex = {out, 0, cap, inline_set ? "(the list written here)" : use->kind == EX_IDENT || use->kind == EX_CALL ? use->str : "?"};
  *set_name = ex.set_name;
  if (!inline_set && ((use->kind != EX_IDENT && use->kind != EX_CALL) || !elab_find(e, DECL_CANDIDATES, use->str))) {
    elab_error(e, use->loc, "define it with `candidates NAME = [ ... ]` or import it", "unknown candidate set `%s`",
               ast_expr_text(e->a, use));
    return -1;
  }
  Scope env = {0};
  if (!expand(e, &env, use, &ex, 0)) return -1;
  if (ex.n == 0) {
    elab_error(e, use->loc, NULL, "candidate set `%s` is empty", ex.set_name);
    return -1;
  }
  return ex.n;
}
