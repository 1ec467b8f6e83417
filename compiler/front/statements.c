/* statements.c - runs the statements of a block or a function: assignments, asserts, `for` loops
   over lists, `if`/`else` (the branch not taken builds nothing) and a function's `return`. */
#include <string.h>
#include "elab.h"

static void run_let(Elab *e, Scope *ns, const Stmt *st) {
  Value v = eval_expr(e, ns, st->value);
  if (!strcmp(st->name, "in") || !strcmp(st->name, "cin"))
    elab_error(e, st->loc, "pick another name", "`%s` is the block's input and cannot be reassigned", st->name);
  scope_bind(e, ns, st->name, v);
}

static void run_assert(Elab *e, Scope *ns, const Decl *owner, const Stmt *st) {
  Value v = eval_expr(e, ns, st->value);
  if (v.kind == V_BOOL && !v.i)
    elab_error(e, st->loc, NULL, "assertion failed in `%s`: %s", owner->name,
               st->message ? st->message : ast_expr_text(e->a, st->value));
  else if (v.kind != V_BOOL && v.kind != V_ERROR)
    elab_error(e, st->loc, NULL, "assert needs a bool, got %s", value_to_string(e, v));
}

/* `for x in LIST { ... }`: the body once per item, x and its assignments visible after the loop. */
static void run_for(Elab *e, Scope *ns, const Decl *owner, const Stmt *st) {
  Value list = eval_expr(e, ns, st->value);
  int n;
  const Value *items = list_items(e, list, st->value->loc, &n);
  if (!items) return;
  int errors = e->d->errors;
  for (int i = 0; i < n && !ns->result && e->d->errors == errors && elab_loop_step(e, st->loc); i++) {
    scope_bind(e, ns, st->name, items[i]);
    run_statements(e, ns, owner, st->body);
  }
}

static void run_if(Elab *e, Scope *ns, const Decl *owner, const Stmt *st) {
  Value c = eval_expr(e, ns, st->value);
  if (c.kind == V_ERROR) return;
  if (c.kind != V_BOOL) {
    elab_error(e, st->loc, "compare with ==, !=, <, ... to get a bool", "the condition of `if` must be a bool, got %s",
               value_to_string(e, c));
    return;
  }
  run_statements(e, ns, owner, c.i ? st->body : st->orelse);
}

static void run_return(Elab *e, Scope *ns, const Decl *owner, const Stmt *st) {
  if (owner->kind != DECL_FUNCTION) { /* resolve.c reports it first; kept for safety */
    elab_error(e, st->loc, "a block's result is `out = ...`", "`return` outside a function");
    return;
  }
  Value *v = ARENA_NEW(e->a, Value);
  *v = eval_expr(e, ns, st->value);
  ns->result = v;
}

void run_statements(Elab *e, Scope *ns, const Decl *owner, const Stmt *body) {
  for (const Stmt *st = body; st && !ns->result && !e->abort && !diag_too_many(e->d); st = st->next) {
    switch (st->kind) {
    case STMT_LET: run_let(e, ns, st); break;
    case STMT_ASSERT: run_assert(e, ns, owner, st); break;
    case STMT_FOR: run_for(e, ns, owner, st); break;
    case STMT_IF: run_if(e, ns, owner, st); break;
    case STMT_RETURN: run_return(e, ns, owner, st); break;
    }
  }
}
