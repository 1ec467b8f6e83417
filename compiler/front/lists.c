/* lists.c - lists and tuples in .sqn: indexing (Python's negative indices), len, range, `+`
   concatenation and comprehensions `[f(x) for x in xs if c]`, whose names stay inside them. */
#include <string.h>
#include "elab.h"

#define MAX_LIST_ITEMS 100000

const Value *list_items(Elab *e, Value v, SrcLoc loc, int *n) {
  if (v.kind == V_TUPLE) {
    *n = v.n;
    return v.items;
  }
  if (v.kind != V_ERROR)
    elab_error(e, loc, v.kind == V_INT ? "to count, write range(n)" : "a list is [a, b, ...], a tuple (a, b, ...)",
               "cannot iterate over %s", value_to_string(e, v));
  return NULL;
}

static Value make_list(Elab *e, const Value *items, int n) {
  Value v = {.kind = V_TUPLE, .n = n};
  v.items = ARENA_ARRAY(e->a, Value, n ? n : 1);
  if (n) memcpy(v.items, items, sizeof *items * (size_t)n);
  return v;
}

static Value too_long(Elab *e, SrcLoc loc, long long n) {
  elab_error(e, loc, NULL, "a list of %lld items is longer than the %d allowed", n, MAX_LIST_ITEMS);
  return v_error();
}

Value eval_index(Elab *e, Scope *s, const Expr *x) {
  Value obj = eval_expr(e, s, x->a), idx = eval_expr(e, s, x->b);
  if (obj.kind == V_ERROR || idx.kind == V_ERROR) return v_error();
  if (obj.kind != V_TUPLE) {
    elab_error(e, x->loc, obj.kind == V_TENSOR ? "channels are taken with slice(x, start, end); sizes are x.c, x.h, x.w" : NULL,
               "`[ ]` indexes a list or tuple, got %s", value_to_string(e, obj));
    return v_error();
  }
  int64_t i;
  if (!value_as_int(e, idx, x->b->loc, "an index", &i)) return v_error();
  int64_t k = i < 0 ? i + obj.n : i;
  if (k < 0 || k >= obj.n) {
    elab_error(e, x->b->loc, obj.n ? arena_printf(e->a, "indices go from 0 to %d, or from -%d to -1 counting from the end", obj.n - 1, obj.n)
                                   : "the list is empty",
               "index %lld is out of range for a list of %d", (long long)i, obj.n);
    return v_error();
  }
  return obj.items[k];
}

Value list_concat(Elab *e, Value a, Value b) {
  if ((long long)a.n + b.n > MAX_LIST_ITEMS) return too_long(e, (SrcLoc){0}, (long long)a.n + b.n);
  Value v = make_list(e, a.items, a.n + b.n);
  if (b.n) memcpy(v.items + a.n, b.items, sizeof *b.items * (size_t)b.n);
  v.n = a.n + b.n;
  return v;
}

static Value range(Elab *e, const Value *args, int n, SrcLoc loc) {
  int64_t a[3] = {0, 0, 1};
  for (int i = 0; i < n; i++)
    if (!value_as_int(e, args[i], loc, "an argument of range", &a[i])) return v_error();
  int64_t start = n == 1 ? 0 : a[0], stop = n == 1 ? a[0] : a[1], step = n == 3 ? a[2] : 1;
  if (step == 0) {
    elab_error(e, loc, NULL, "range() step must not be zero");
    return v_error();
  }
  long double count = step > 0 ? ((long double)stop - start + step - 1) / step : ((long double)start - stop - step - 1) / -step;
  if (count > MAX_LIST_ITEMS) return too_long(e, loc, (long long)count);
  int len = count > 0 ? (int)count : 0;
  Value v = make_list(e, NULL, 0);
  v.items = ARENA_ARRAY(e->a, Value, len ? len : 1);
  for (int i = 0; i < len; i++) v.items[i] = v_int(start + (int64_t)i * step);
  v.n = len;
  return v;
}

Value list_builtin(Elab *e, const char *name, const Value *args, int n, SrcLoc loc) {
  if (!strcmp(name, "range")) return range(e, args, n, loc);
  if (args[0].kind == V_TUPLE) return v_int(args[0].n);
  if (args[0].kind == V_STRING) return v_int((int64_t)strlen(args[0].s));
  elab_error(e, loc, args[0].kind == V_TENSOR ? "a tensor's sizes are x.c, x.h and x.w" : NULL,
             "len() needs a list, tuple or string, got %s", value_to_string(e, args[0]));
  return v_error();
}

typedef struct Collected {
  Value *items;
  int n, cap;
} Collected;

static bool collect(Elab *e, Collected *c, Value v, SrcLoc loc) {
  if (c->n == MAX_LIST_ITEMS) return too_long(e, loc, (long long)c->n + 1), false;
  if (c->n == c->cap) {
    c->cap = c->cap ? c->cap * 2 : 16;
    Value *grown = ARENA_ARRAY(e->a, Value, c->cap);
    if (c->n) memcpy(grown, c->items, sizeof *grown * (size_t)c->n);
    c->items = grown;
  }
  c->items[c->n++] = v;
  return true;
}

/* The clauses from g on, in scope in; the element for each binding that passes every `if`. */
static bool expand(Elab *e, Scope *in, const Arg *g, const Expr *element, Collected *out) {
  if (!g) {
    Value v = eval_expr(e, in, element);
    return v.kind != V_ERROR && collect(e, out, v, element->loc);
  }
  const Expr *clause = g->value;
  Value v = eval_expr(e, in, clause->a);
  if (v.kind == V_ERROR) return false;
  if (clause->kind == EX_IF) {
    if (v.kind != V_BOOL) {
      elab_error(e, clause->loc, "compare with ==, !=, <, ... to get a bool", "the `if` of a comprehension needs a bool, got %s",
                 value_to_string(e, v));
      return false;
    }
    return !v.i || expand(e, in, g->next, element, out);
  }
  int n;
  const Value *items = list_items(e, v, clause->a->loc, &n);
  if (!items) return false;
  for (int i = 0; i < n; i++) {
    scope_bind(e, in, clause->str, items[i]);
    if (!elab_loop_step(e, clause->loc) || !expand(e, in, g->next, element, out)) return false;
  }
  return true;
}

Value eval_comprehension(Elab *e, Scope *s, const Expr *x) {
  Scope in = scope_inner(s);
  Collected out = {0};
  bool ok = expand(e, &in, x->args, x->a, &out);
  scope_leave(s, &in);
  return ok ? make_list(e, out.items, out.n) : v_error();
}
