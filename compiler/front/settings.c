/* settings.c - the `search { ... }` and `train { ... }` settings of a space or network. */
#include <string.h>
#include "space.h"

void setting_unknown(Elab *e, const Setting *st, const char *where, const char *const *keys, int n) {
  const char *best = diag_closest(st->key, keys, n);
  const char *all = "";
  for (int i = 0; i < n; i++) all = arena_printf(e->a, "%s%s%s", all, i ? ", " : "", keys[i]);
  elab_error(e, st->loc, best ? arena_printf(e->a, "did you mean `%s`?", best) : arena_printf(e->a, "known settings: %s", all),
             "unknown %s setting `%s`", where, st->key);
}

/* Value i of a setting, evaluated as an expression (DIMS and ranges are read by the callers). */
bool setting_value(Elab *e, Scope *s, const Setting *st, int i, Value *out) {
  const Arg *g = st->values;
  for (int k = 0; k < i && g; k++) g = g->next;
  if (!g || st->has_body) {
    elab_error(e, st->loc, NULL, "`%s` needs a value", st->key);
    return false;
  }
  *out = eval_expr(e, s, g->value);
  return out->kind != V_ERROR;
}

static bool one_number(Elab *e, const Setting *st, double lo, double hi, double *out) {
  Scope s = {0};
  Value v;
  if (st->nvalues != 1) {
    elab_error(e, st->loc, NULL, "`%s` takes one value, got %d", st->key, st->nvalues);
    return false;
  }
  if (!setting_value(e, &s, st, 0, &v)) return false;
  if (v.kind != V_INT && v.kind != V_FLOAT) {
    elab_error(e, st->values->loc, NULL, "`%s` must be a number, got %s", st->key, value_to_string(e, v));
    return false;
  }
  double x = v.kind == V_INT ? (double)v.i : v.f;
  if (!(x >= lo && x <= hi)) {
    elab_error(e, st->values->loc, NULL, "`%s` must be between %g and %g, got %g", st->key, lo, hi, x);
    return false;
  }
  *out = x;
  return true;
}

static void one_int(Elab *e, const Setting *st, int lo, int hi, int *out) {
  double x;
  if (!one_number(e, st, lo, hi, &x)) return;
  if (x != (int)x) elab_error(e, st->values->loc, NULL, "`%s` must be a whole number, got %g", st->key, x);
  else *out = (int)x;
}

/* A budget's unit: its factor to the objective's own unit (GMACs, M params, ms); 0 if it is not one. */
static double target_unit(Objective o, const char *u) {
  static const struct { Objective o; const char *name; double f; } units[] = {
      {OBJ_MACS, "G", 1}, {OBJ_MACS, "GMACs", 1}, {OBJ_MACS, "M", 1e-3}, {OBJ_MACS, "MMACs", 1e-3},
      {OBJ_PARAMS, "M", 1}, {OBJ_PARAMS, "K", 1e-3}, {OBJ_PARAMS, "k", 1e-3},
      {OBJ_LATENCY, "ms", 1}, {OBJ_LATENCY, "us", 1e-3}, {OBJ_LATENCY, "s", 1e3}};
  for (size_t i = 0; i < sizeof units / sizeof *units; i++)
    if (units[i].o == o && !strcmp(units[i].name, u)) return units[i].f;
  return 0;
}

static const char *const objective_units[] = {"G, GMACs, M or MMACs", "M or K (parameters)", "ms, us or s"};

/* `target VALUE [UNIT]` after the objective's name: an absolute budget, or `target 30%` of the cost range. */
static void read_target(Elab *e, const Setting *st, const Arg *g, SearchSettings *s) {
  const char *form = "write e.g. `objective macs target 0.05G`, `objective latency target 2ms` or `objective macs target 30%`";
  const Expr *v = g ? g->value : NULL;
  if (!v || (v->kind != EX_FLOAT && v->kind != EX_INT)) {
    elab_error(e, v ? v->loc : st->loc, form, "`target` needs a number");
    return;
  }
  double x = v->kind == EX_INT ? (double)v->ival : v->fval;
  const Expr *u = g->next ? g->next->value : NULL;
  if (v->percent) {
    if (u) elab_error(e, u->loc, form, "a percentage target takes no unit");
    else if (!(x > 0 && x < 1))
      elab_error(e, v->loc, "the cheapest architecture is 0%, the dearest 100%", "target must be between 0%% and 100%%");
    else s->target_fraction = x;
    return;
  }
  double f = 1;
  if (u && (u->kind != EX_IDENT || !(f = target_unit(s->objective, u->str)))) {
    elab_error(e, u->loc, arena_printf(e->a, "units for objective %s: %s", (const char *[]){"macs", "params", "latency"}[s->objective],
                                       objective_units[s->objective]), "bad target unit `%s`", u->kind == EX_IDENT ? u->str : "?");
    return;
  }
  if (!(x > 0 && x * f < 1e9)) elab_error(e, v->loc, form, "target must be positive, got %g", x);
  else s->target = x * f;
}

static void read_objective(Elab *e, const Setting *st, SearchSettings *s) {
  static const char *names[] = {"macs", "params", "latency"};
  const Expr *x = st->values ? st->values->value : NULL;
  const Arg *rest = st->values ? st->values->next : NULL;
  if (!x || x->kind != EX_IDENT) {
    elab_error(e, st->loc, "write `objective macs`, `objective params` or `objective latency`, optionally with `target ...`",
               "bad objective");
    return;
  }
  int i = 0;
  while (i < 3 && strcmp(x->str, names[i])) i++;
  if (i == 3) {
    const char *best = diag_closest(x->str, names, 3);
    elab_error(e, x->loc, best ? arena_printf(e->a, "did you mean `%s`?", best) : "use macs, params or latency",
               "unknown objective `%s`", x->str);
    return;
  }
  s->objective = (Objective)i, s->target = 0, s->target_fraction = -1;
  if (!rest) return;
  const Expr *t = rest->value;
  if (t->kind != EX_IDENT || strcmp(t->str, "target") || st->nvalues > 4) {
    elab_error(e, t->loc, "write e.g. `objective macs target 0.05G`", "after the objective only `target VALUE [UNIT]` may follow");
    return;
  }
  read_target(e, st, rest->next, s);
}

static void read_costs(Elab *e, const Setting *st, SearchSettings *s) {
  const Expr *x = st->values ? st->values->value : NULL;
  if (st->nvalues == 1 && x->kind == EX_IDENT && !strcmp(x->str, "relative")) s->costs_relative = true;
  else if (st->nvalues == 1 && x->kind == EX_IDENT && !strcmp(x->str, "absolute")) s->costs_relative = false;
  else elab_error(e, st->loc, "relative: fractions of the space's cost range (the same alpha at any input size); "
                              "absolute: the objective's unit at the plan's input size", "write `costs relative` or `costs absolute`");
}

/* `arch_lr 0.01` or `arch_lr 0.01 -> 0.001` (geometric over the search epochs after warm-up). */
static void read_arch_lr(Elab *e, const Setting *st, SearchSettings *s) {
  const Expr *x = st->values ? st->values->value : NULL;
  double v;
  if (st->nvalues == 1 && x->kind == EX_RANGE) {
    const Expr *ends[2] = {x->a, x->b};
    double out[2];
    for (int i = 0; i < 2; i++) {
      if (ends[i]->kind != EX_FLOAT && ends[i]->kind != EX_INT) {
        elab_error(e, ends[i]->loc, "write e.g. `arch_lr 0.01 -> 0.001`", "bad arch_lr schedule");
        return;
      }
      out[i] = ends[i]->kind == EX_INT ? (double)ends[i]->ival : ends[i]->fval;
      if (!(out[i] > 0 && out[i] <= 10)) {
        elab_error(e, ends[i]->loc, NULL, "`arch_lr` must be between 0 and 10, got %g", out[i]);
        return;
      }
    }
    s->arch_lr = out[0], s->arch_lr_end = out[1];
  } else if (one_number(e, st, 0, 10, &v)) {
    s->arch_lr = v, s->arch_lr_end = 0;
  }
}

static void read_temperature(Elab *e, const Setting *st, SearchSettings *s) {
  const Expr *x = st->values ? st->values->value : NULL;
  if (st->nvalues == 1 && x->kind == EX_RANGE && (x->a->kind == EX_FLOAT || x->a->kind == EX_INT) &&
      (x->b->kind == EX_FLOAT || x->b->kind == EX_INT)) {
    s->temp_start = x->a->kind == EX_INT ? (double)x->a->ival : x->a->fval;
    s->temp_end = x->b->kind == EX_INT ? (double)x->b->ival : x->b->fval;
    if (s->temp_start > 0 && s->temp_end > 0 && s->temp_start <= 1000) return;
    elab_error(e, x->loc, NULL, "temperatures must be positive");
    return;
  }
  double t;
  if (st->nvalues == 1 && x->kind != EX_RANGE && one_number(e, st, 1e-6, 1000, &t)) s->temp_start = s->temp_end = t;
  else if (!(st->nvalues == 1 && x->kind != EX_RANGE))
    elab_error(e, st->loc, "write e.g. `temperature 5.0 -> 1.0`", "bad temperature schedule");
}

void settings_search(Elab *e, const Setting *body, SearchSettings *s) {
  static const char *keys[] = {"objective", "alpha", "temperature", "prune", "samples", "warmup", "arch_lr", "epochs",
                               "costs", "budget_lr", "skip_limit"};
  for (const Setting *st = body; st; st = st->next) {
    double x;
    if (!strcmp(st->key, "objective")) read_objective(e, st, s);
    else if (!strcmp(st->key, "alpha")) { if (one_number(e, st, 0, 1e6, &x)) s->alpha = x; }
    else if (!strcmp(st->key, "temperature")) read_temperature(e, st, s);
    else if (!strcmp(st->key, "prune")) { if (one_number(e, st, 0, 1, &x)) s->prune_below = x; }
    else if (!strcmp(st->key, "samples")) one_int(e, st, 1, 1000000, &s->samples);
    else if (!strcmp(st->key, "warmup")) one_int(e, st, 0, 100000, &s->warmup_epochs);
    else if (!strcmp(st->key, "arch_lr")) read_arch_lr(e, st, s);
    else if (!strcmp(st->key, "epochs")) one_int(e, st, 1, 100000, &s->epochs);
    else if (!strcmp(st->key, "costs")) read_costs(e, st, s);
    else if (!strcmp(st->key, "budget_lr")) { if (one_number(e, st, 0, 1000, &x)) s->budget_lr = x; }
    else if (!strcmp(st->key, "skip_limit")) { if (one_number(e, st, 0, 1, &x)) s->skip_limit = x; }
    else setting_unknown(e, st, "search", keys, 11);
  }
}

static void read_schedule(Elab *e, const Setting *st, TrainSettings *t) {
  const Expr *x = st->values ? st->values->value : NULL;
  const char *name = !x ? "" : x->kind == EX_IDENT ? x->str : x->kind == EX_CALL ? x->str : "";
  if (st->nvalues == 1 && !strcmp(name, "constant") && x->kind == EX_IDENT) {
    t->schedule = SCHED_CONSTANT;
  } else if (st->nvalues == 1 && !strcmp(name, "step")) {
    t->schedule = SCHED_STEP;
    if (x->kind == EX_CALL) {
      t->nmilestones = 0;
      if (x->nargs > 4) elab_error(e, x->loc, NULL, "at most 4 step milestones, got %d", x->nargs);
      for (const Arg *g = x->args; g && t->nmilestones < 4; g = g->next) {
        const Expr *m = g->value;
        double v = m->kind == EX_FLOAT ? m->fval : m->kind == EX_INT ? (double)m->ival : -1;
        if (!(v > 0 && v < 1)) elab_error(e, m->loc, NULL, "step milestones are fractions of the run, between 0 and 1");
        t->milestones[t->nmilestones++] = v;
      }
    }
  } else if (st->nvalues == 1 && !strcmp(name, "poly")) {
    t->schedule = SCHED_POLY;
    const Expr *p = x->kind == EX_CALL && x->nargs == 1 ? x->args->value : NULL;
    if (p && (p->kind == EX_FLOAT || p->kind == EX_INT) && !x->args->name)
      t->poly_power = p->kind == EX_INT ? (double)p->ival : p->fval;
    else if (x->kind == EX_CALL)
      elab_error(e, x->loc, "write e.g. `schedule poly(0.9)`", "poly() takes one number, the power");
  } else {
    elab_error(e, st->loc, "write `schedule step(0.5, 0.75)`, `schedule poly(0.9)` or `schedule constant`",
               "bad learning-rate schedule");
  }
}

static void read_crop(Elab *e, const Setting *st, TrainSettings *t) {
  const Expr *x = st->values ? st->values->value : NULL;
  if (st->nvalues == 1 && x->kind == EX_DIMS && x->ndims == 2) {
    t->crop_h = x->dims[0], t->crop_w = x->dims[1];
  } else if (st->nvalues == 1 && x->kind == EX_INT && x->ival > 0) {
    t->crop_h = t->crop_w = (int)x->ival;
  } else {
    elab_error(e, st->loc, "write e.g. `crop 768x768`", "bad crop size");
  }
}

void settings_train(Elab *e, const Setting *body, TrainSettings *t) {
  static const char *keys[] = {"lr", "momentum", "weight_decay", "schedule", "gamma", "epochs", "batch", "crop"};
  for (const Setting *st = body; st; st = st->next) {
    double x;
    if (!strcmp(st->key, "lr")) { if (one_number(e, st, 0, 100, &x)) t->lr = x; }
    else if (!strcmp(st->key, "momentum")) { if (one_number(e, st, 0, 1, &x)) t->momentum = x; }
    else if (!strcmp(st->key, "weight_decay")) { if (one_number(e, st, 0, 1, &x)) t->weight_decay = x; }
    else if (!strcmp(st->key, "schedule")) read_schedule(e, st, t);
    else if (!strcmp(st->key, "gamma")) { if (one_number(e, st, 0, 1, &x)) t->gamma = x; }
    else if (!strcmp(st->key, "epochs")) one_int(e, st, 1, 100000, &t->epochs);
    else if (!strcmp(st->key, "batch")) one_int(e, st, 1, 4096, &t->batch);
    else if (!strcmp(st->key, "crop")) read_crop(e, st, t);
    else setting_unknown(e, st, "train", keys, 8);
  }
}
