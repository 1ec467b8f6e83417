/* resolve.c - name resolution over every block, used or not: each name refers to a parameter, an
   implicit name or an earlier assignment, each call to an op or a block, each named argument to a
   parameter of its callee. Shape-independent errors are thus reported for library files too. */
#include <string.h>
#include "elab.h"

#define MAX_DEPTH 200
typedef struct Names {
  Arena *a;
  const char **v; /* in order of definition, for did-you-mean hints */
  int n, cap;
  NameMap set;
} Names;

static bool known(const Names *ns, const char *name) { return name_map_get(&ns->set, name) != NULL; }

static void add(Names *ns, const char *name) {
  if (known(ns, name)) return;
  if (ns->n == ns->cap) {
    ns->cap = ns->cap ? ns->cap * 2 : 64;
    const char **v = ARENA_ARRAY(ns->a, const char *, ns->cap);
    if (ns->n) memcpy(v, ns->v, sizeof *v * (size_t)ns->n);
    ns->v = v;
  }
  ns->v[ns->n++] = name;
  name_map_put(&ns->set, name, (void *)name);
}

static void hint_error(Elab *e, SrcLoc loc, const char *word, const char *const *cands, int n, const char *fallback,
                       const char *fmt, const char *a, const char *b) {
  const char *best = diag_closest(word, cands, n);
  char msg[256];
  snprintf(msg, sizeof msg, fmt, a, b);
  diag_error(e->d, loc, best ? arena_printf(e->a, "did you mean `%s`?", best) : fallback, "%s", msg);
}

static void check_named(Elab *e, const Expr *x) {
  const char *names[40];
  int n = 0;
  const Decl *blk = elab_find(e, DECL_BLOCK, x->str);
  if (!blk) blk = elab_find(e, DECL_FUNCTION, x->str);
  if (blk) {
    for (const Param *p = blk->params; p && n < 37; p = p->next) names[n++] = p->name;
    if (blk->kind == DECL_BLOCK) names[n++] = "cout", names[n++] = "stride", names[n++] = "name";
  } else {
    const char *const *bn = builtin_param_names(x->str, &n);
    for (int i = 0; i < n; i++) names[i] = bn[i];
  }
  for (const Arg *g = x->args; g; g = g->next) {
    bool ok = !g->name;
    for (int i = 0; i < n && !ok; i++) ok = !strcmp(names[i], g->name);
    if (ok) continue;
    diag_error(e->d, g->loc, hint_unknown_param(e, x->str, g->name, names, n),
               blk ? (blk->kind == DECL_BLOCK ? "block `%s` has no parameter `%s`" : "function `%s` has no parameter `%s`")
                   : "`%s` has no parameter `%s`", x->str, g->name);
  }
}

static bool is_callable(const Elab *e, const char *name) {
  return builtin_is_op(name) || builtin_is_function(name) || elab_find(e, DECL_BLOCK, name) ||
         elab_find(e, DECL_FUNCTION, name);
}

/* A call of a variable (an op or block passed as an argument) is checked when it runs. */
static void check_callee(Elab *e, Names *ns, const Expr *x) {
  if (known(ns, x->str)) return;
  if (is_callable(e, x->str)) {
    check_named(e, x);
    return;
  }
  diag_error(e->d, x->loc, hint_unknown_callee(e, x->str, false), "unknown op or block `%s`", x->str);
}

/* Returns false when the expression nests too deeply (reported once; the block is abandoned). */
static bool check_expr(Elab *e, Names *ns, const Expr *x, int depth) {
  if (!x) return true;
  if (depth > MAX_DEPTH) {
    diag_error(e->d, x->loc, "split it into several statements", "expression nested more than %d levels deep", MAX_DEPTH);
    return false;
  }
  if (x->kind == EX_IDENT && !known(ns, x->str) && !is_callable(e, x->str))
    hint_error(e, x->loc, x->str, ns->v, ns->n, "a block sees its parameters, in, cin, cout, stride and earlier assignments",
               "unknown name `%s`%s", x->str, "");
  if (x->kind == EX_CALL) check_callee(e, ns, x);
  if (x->kind == EX_COMP) { /* the clauses first: they define the names the element uses */
    bool ok = true;
    for (const Arg *g = x->args; g && ok; g = g->next) {
      ok = check_expr(e, ns, g->value->a, depth + 1);
      if (g->value->kind == EX_FOR) add(ns, g->value->str);
    }
    return ok && check_expr(e, ns, x->a, depth + 1);
  }
  bool ok = check_expr(e, ns, x->a, depth + 1) && check_expr(e, ns, x->b, depth + 1) &&
            check_expr(e, ns, x->c, depth + 1);
  for (const Arg *g = x->args; g && ok; g = g->next) ok = check_expr(e, ns, g->value, depth + 1);
  return ok;
}

/* Statements in order: what they assign is known after them (in either branch of an `if`). */
static bool check_statements(Elab *e, Names *ns, const Decl *d, const Stmt *body) {
  for (const Stmt *s = body; s && !diag_too_many(e->d); s = s->next) {
    if (!check_expr(e, ns, s->value, 0)) return false;
    if (s->kind == STMT_LET) add(ns, s->name);
    if (s->kind == STMT_FOR) add(ns, s->name);
    if (s->kind == STMT_RETURN && d->kind != DECL_FUNCTION)
      diag_error(e->d, s->loc, "a block's result is `out = ...`", "`return` outside a function");
    if ((s->kind == STMT_FOR || s->kind == STMT_IF) &&
        (!check_statements(e, ns, d, s->body) || !check_statements(e, ns, d, s->orelse)))
      return false;
  }
  return true;
}

static bool returns(const Stmt *body) {
  for (const Stmt *s = body; s; s = s->next)
    if (s->kind == STMT_RETURN || ((s->kind == STMT_FOR || s->kind == STMT_IF) && (returns(s->body) || returns(s->orelse))))
      return true;
  return false;
}

static void resolve_block(Elab *e, const Decl *d) {
  Names ns = {.a = e->a, .set = {.a = e->a}};
  static const char *implicit[] = {"in", "cin", "cout", "stride"};
  if (d->kind == DECL_BLOCK)
    for (int i = 0; i < 4; i++) add(&ns, implicit[i]);
  if (d->is_decoder) add(&ns, "classes"), add(&ns, "image");
  for (const Param *p = d->params; p; p = p->next) {
    if (!check_expr(e, &ns, p->deflt, 0)) return;
    add(&ns, p->name);
  }
  if (check_statements(e, &ns, d, d->body) && d->kind == DECL_FUNCTION && !returns(d->body))
    diag_error(e->d, d->loc, "end it with `return VALUE`, or write `def f(x) = VALUE`", "function `%s` never returns a value",
               d->name);
}

bool resolve_blocks(Elab *e) {
  int before = e->d->errors;
  for (int i = 0; i < e->ndecls; i++)
    if (e->decls[i]->kind == DECL_BLOCK || e->decls[i]->kind == DECL_FUNCTION) resolve_block(e, e->decls[i]);
  return e->d->errors == before;
}
