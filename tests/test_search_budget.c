/* test_search_budget.c SMALL.plan LARGE.plan - the resource term's forms (runtime/search/search_budget.c) on
   one space compiled at two input sizes: the theta gradient of every form (absolute alpha, relative alpha,
   budget multiplier, skip limit) against central differences of the loss it reports; relative costs give
   the same gradient at both sizes where absolute costs do not; a budget given as a fraction of the cost range
   is met at both sizes with the same settings, against a pull towards dear candidates; a skip limit holds
   against a pull towards skips; budgets outside the space's range are refused or warned about. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "plan.h"
#include "search.h"
#include "test_util.h"
#include "trainer.h"

typedef struct Space { Plan *p; Trainer *t; Search s; } Space;

static bool open_space(const char *path, Space *sp, char *err, size_t n) {
  memset(sp, 0, sizeof *sp);
  sp->p = plan_read_file(path, err, n);
  sp->t = sp->p ? trainer_new(sp->p, NULL, 1, NULL, err, n) : NULL;
  return sp->t && search_init(&sp->s, sp->p) && cost_from_plan(sp->p, PLAN_OBJ_MACS, &sp->s.cost);
}

static void close_space(Space *sp) {
  search_free(&sp->s);
  trainer_free(sp->t);
  plan_free(sp->p);
}

/* theta = small multiples of 1/1024 (exact in float, so theta +- h is too). */
static void set_theta(Space *sp, unsigned seed) {
  for (int i = 0; i < sp->s.nsb; i++) {
    float *th = trainer_theta(sp->t, i);
    for (int k = 0; k < sp->p->sb[i].ncand; k++) th[k] = (float)((int)((seed = seed * 1103515245u + 12345u) >> 16) % 1025 - 512) / 1024.0f;
  }
}

static double loss_at(Space *sp, double *scratch) {
  ResourceTerm r;
  memset(scratch, 0, sizeof *scratch * (size_t)sp->s.nsb * sp->s.maxc);
  search_theta_grad_resource(&sp->s, sp->t, scratch, &r);
  return r.loss;
}

/* Worst |analytic - numeric| / (|numeric| + floor) over a few theta entries of every superblock. */
static double gradient_error(Space *sp) {
  size_t nm = (size_t)sp->s.nsb * sp->s.maxc;
  double *g = calloc(nm, sizeof *g), *scratch = calloc(nm, sizeof *scratch), worst = 0, h = 1.0 / 64, scale = 0;
  loss_at(sp, g);
  for (size_t i = 0; i < nm; i++) scale = fmax(scale, fabs(g[i]));
  for (int i = 0; i < sp->s.nsb; i++)
    for (int k = 0; k < sp->p->sb[i].ncand; k += 3) {
      float *th = trainer_theta(sp->t, i), keep = th[k];
      th[k] = keep + (float)h;
      double up = loss_at(sp, scratch);
      th[k] = keep - (float)h;
      double down = loss_at(sp, scratch);
      th[k] = keep;
      double num = (up - down) / (2 * h), an = g[(size_t)i * sp->s.maxc + k];
      worst = fmax(worst, fabs(an - num) / (fabs(num) + 1e-3 * scale));
    }
  free(g), free(scratch);
  return worst;
}

static void gradients(Space *sp) {
  BudgetSettings forms[4] = {{false, 0.2, 0, -1, 0.05, 1}, {true, 0.7, 0, -1, 0.05, 1}, {false, 0.2, 0, 0.3, 0.05, 1},
                             {true, 0.5, 0, -1, 0.05, 0.25}};
  char err[512];
  for (int f = 0; f < 4; f++) {
    CHECK(budget_init(&sp->s, &forms[f], err, sizeof err));
    sp->s.budget.lambda = 1.7, sp->s.budget.mu = 2.3; /* used where the form has them */
    set_theta(sp, 11u + (unsigned)f);
    double e = gradient_error(sp);
    printf("form %d: gradient vs central differences: worst relative error %.3g\n", f, e);
    CHECK(e < 2e-3);
  }
}

/* The resource gradient's L2 difference between the two sizes, relative to its norm. */
static double size_ratio_gap(Space *a, Space *b, bool relative) {
  BudgetSettings s = {relative, 0.5, 0, -1, 0.05, 1};
  char err[512];
  CHECK(budget_init(&a->s, &s, err, sizeof err) && budget_init(&b->s, &s, err, sizeof err));
  set_theta(a, 5), set_theta(b, 5);
  size_t nm = (size_t)a->s.nsb * a->s.maxc;
  double *ga = calloc(nm, sizeof *ga), *gb = calloc(nm, sizeof *gb), d = 0, na = 0;
  loss_at(a, ga), loss_at(b, gb);
  for (size_t i = 0; i < nm; i++) d += (ga[i] - gb[i]) * (ga[i] - gb[i]), na += ga[i] * ga[i];
  free(ga), free(gb);
  return sqrt(d / na);
}

/* d X / d theta into g (added) and X: X is the expected relative cost, or with to_skip the expected skip fraction. */
static double pull_gradient(Space *sp, bool to_skip, double *g) {
  Search probe = sp->s;
  ResourceTerm r;
  probe.budget.target = -1, probe.budget.relative = true;
  probe.budget.alpha = to_skip ? 0 : 1, probe.budget.skip_limit = to_skip ? 0 : 1, probe.budget.mu = 1;
  search_theta_grad_resource(&probe, sp->t, g, &r);
  return to_skip ? r.skip_fraction : r.relative_cost;
}

/* Gradient steps on theta from uniform: the resource term minus a concave pull, pull * log(0.05 + X), towards
   the dear (or with to_skip the skipping) candidates, the multipliers stepping after each. Returns the term
   averaged over the last quarter of the steps. */
static ResourceTerm descend(Space *sp, const BudgetSettings *bs, double pull, bool to_skip, int steps) {
  char err[512];
  ResourceTerm r = {0}, mean = {0};
  CHECK(budget_init(&sp->s, bs, err, sizeof err));
  size_t nm = (size_t)sp->s.nsb * sp->s.maxc;
  double *g = calloc(nm, sizeof *g), *gp = calloc(nm, sizeof *gp);
  for (int i = 0; i < sp->s.nsb; i++) memset(trainer_theta(sp->t, i), 0, sizeof(float) * (size_t)sp->p->sb[i].ncand);
  for (int it = 0; it < steps; it++) {
    memset(g, 0, nm * sizeof *g), memset(gp, 0, nm * sizeof *gp);
    search_theta_grad_resource(&sp->s, sp->t, g, &r);
    double x = pull_gradient(sp, to_skip, gp);
    for (int i = 0; i < sp->s.nsb; i++) {
      float *th = trainer_theta(sp->t, i);
      for (int k = 0; k < sp->p->sb[i].ncand; k++) {
        size_t at = (size_t)i * sp->s.maxc + k;
        th[k] -= (float)(20 * (g[at] - pull / (0.05 + x) * gp[at]));
      }
    }
    budget_step(&sp->s, &r);
    if (it >= steps - steps / 4)
      mean.relative_cost += r.relative_cost / (steps / 4), mean.expected_cost += r.expected_cost / (steps / 4),
          mean.skip_fraction += r.skip_fraction / (steps / 4);
  }
  free(g), free(gp);
  return mean;
}

static void budgets(Space *a, Space *b) {
  BudgetSettings s = {false, 0, 0, 0.3, 0.05, 1};
  for (int i = 0; i < 2; i++) {
    Space *sp = i ? b : a;
    ResourceTerm free_run = descend(sp, &(BudgetSettings){true, 0, 0, -1, 0.05, 1}, 0.1, false, 4000);
    ResourceTerm r = descend(sp, &s, 0.1, false, 4000);
    printf("%dx%d: without a budget the pull reaches %.1f%% of the cost range; with `target 30%%`: %.1f%% (%.4g GMACs), "
           "lambda %.3g\n", sp->p->input.h, sp->p->input.w, 100 * free_run.relative_cost, 100 * r.relative_cost, r.expected_cost,
           sp->s.budget.lambda);
    CHECK(free_run.relative_cost > 0.5);
    CHECK(fabs(r.relative_cost - 0.3) < 0.02);
    CHECK(sp->s.budget.lambda > 0);
  }
  /* an absolute budget: the same target in GMACs at the plan's size */
  double target = a->s.budget.lo + 0.4 * a->s.budget.range;
  ResourceTerm r = descend(a, &(BudgetSettings){false, 0, target, -1, 0.05, 1}, 0.1, false, 4000);
  printf("absolute budget %.4g GMACs: expected cost %.4g\n", target, r.expected_cost);
  CHECK(fabs(r.expected_cost - target) < 0.02 * a->s.budget.range);
}

static void skip_limit(Space *a) {
  ResourceTerm free_run = descend(a, &(BudgetSettings){true, 0, 0, -1, 0.05, 1}, 0.1, true, 4000);
  ResourceTerm r = descend(a, &(BudgetSettings){true, 0, 0, -1, 0.05, 0.2}, 0.1, true, 4000);
  printf("pull towards skips: %.1f%% skip without a limit, %.1f%% with `skip_limit 20%%` (mu %.3g)\n",
         100 * free_run.skip_fraction, 100 * r.skip_fraction, a->s.budget.mu);
  CHECK(free_run.skip_fraction > 0.6); /* the first superblock of a stage cannot skip */
  CHECK(r.skip_fraction < 0.22 && r.skip_fraction > 0.15);
  int *choice = calloc((size_t)a->s.nsb, sizeof *choice), skips = 0;
  for (int i = 0; i < a->s.nsb; i++)
    for (int k = 0; k < a->p->sb[i].ncand; k++)
      if (a->p->sb[i].cand[k].is_zero && i % 2 == 0) choice[i] = k, skips++;
  CHECK(skips > 0);
  CHECK_EQ_I64(arch_skips(&a->s, choice), skips);
  free(choice);
}

static void refusals(Space *a) {
  char err[512] = "";
  double lo = a->s.budget.lo, hi = lo + a->s.budget.range;
  CHECK(!budget_init(&a->s, &(BudgetSettings){false, 0, lo * 0.9, -1, 0.05, 1}, err, sizeof err));
  printf("below the cheapest: %s\n", err);
  CHECK(strstr(err, "below the space's cheapest architecture") && strstr(err, "target 30%"));
  CHECK(budget_init(&a->s, &(BudgetSettings){false, 0, hi * 1.5, -1, 0.05, 1}, err, sizeof err)); /* warns */
  CHECK(a->s.budget.target > 1);
}

int main(int argc, char **argv) {
  if (argc != 3) return fprintf(stderr, "usage: test_search_budget SMALL.plan LARGE.plan\n"), 2;
  char err[1024];
  Space a, b;
  if (!open_space(argv[1], &a, err, sizeof err) || !open_space(argv[2], &b, err, sizeof err))
    return fprintf(stderr, "test_search_budget: %s\n", err), 1;
  gradients(&a);
  double gap_abs = size_ratio_gap(&a, &b, false), gap_rel = size_ratio_gap(&a, &b, true);
  printf("resource gradient, %dx%d vs %dx%d: absolute costs differ by %.3g (relative L2), relative costs by %.3g\n",
         a.p->input.h, a.p->input.w, b.p->input.h, b.p->input.w, gap_abs, gap_rel);
  CHECK(gap_abs > 1);
  CHECK(gap_rel < 0.02);
  budgets(&a, &b);
  skip_limit(&a);
  refusals(&a);
  close_space(&a), close_space(&b);
  return test_summary();
}
