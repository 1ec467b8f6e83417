/* search_budget.c - the resource term of the search loss in its three forms (search.h): a weight alpha on
   the expected cost in absolute units (the paper's form), the same on costs relative to the space's cost
   range (the same alpha at any input size), or a budget: a Lagrange multiplier on (expected relative cost
   - target) that grows while the budget is exceeded and shrinks to 0 once it is met. A skip limit is a
   second such constraint, on the expected fraction of superblocks whose chosen candidate skips. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "search.h"

static bool is_skip(const PlanCandidate *c) { return c->is_zero || c->is_identity; }

/* Cheapest and dearest architecture of the whole space (pruned candidates included: the scale is fixed). */
/* With width choices it is a bound: each superblock at its cheapest (dearest) width pair on its own. */
static void cost_range(const Search *s, double *lo, double *hi) {
  *lo = *hi = s->cost.fixed;
  for (int i = 0; i < s->nsb; i++) {
    double mn = INFINITY, mx = -INFINITY;
    for (int k = 0; k < s->p->sb[i].ncand; k++) {
      double clo, chi;
      cost_bounds(&s->cost, i, k, &clo, &chi);
      mn = clo < mn ? clo : mn, mx = chi > mx ? chi : mx;
    }
    if (s->p->sb[i].ncand) *lo += mn, *hi += mx;
  }
}

bool budget_init(Search *s, const BudgetSettings *b, char *err, size_t n) {
  Budget *g = &s->budget;
  double lo, hi;
  cost_range(s, &lo, &hi);
  *g = (Budget){.relative = b->relative || b->target > 0 || b->target_fraction >= 0, .lo = lo, .range = hi - lo,
                .target = -1, .lr = b->lr, .skip_limit = b->skip_limit, .alpha = b->alpha};
  if (g->relative && !(g->range > 0)) {
    snprintf(err, n, "relative costs and budgets need a space whose architectures differ in cost: every architecture costs "
                     "%.6g %s (hint: `costs absolute` without a target)", lo, s->cost.unit);
    return false;
  }
  if (b->target_fraction >= 0) g->target = b->target_fraction;
  if (b->target > 0) {
    if (b->target < lo) {
      snprintf(err, n, "the budget %.6g %s is below the space's cheapest architecture (%.6g %s at this input size; the "
                       "dearest is %.6g): raise the target or give it as a fraction of the range, e.g. `target 30%%`",
               b->target, s->cost.unit, lo, s->cost.unit, hi);
      return false;
    }
    g->target = (b->target - lo) / g->range;
    if (g->target >= 1)
      fprintf(stderr, "sqnrun: warning: the budget %.6g %s is above the space's dearest architecture (%.6g %s): it never "
                      "binds, and the search has no resource pressure\n", b->target, s->cost.unit, hi, s->cost.unit);
  }
  return true;
}

/* The encoder's superblocks (not the decoder's choice, the last one where the space has it). */
static int encoder_superblocks(const Search *s) {
  int n = 0;
  while (n < s->nsb && !s->p->sb[n].is_width && !s->p->sb[n].is_stem && !s->p->sb[n].is_head && !s->p->sb[n].is_decoder) n++;
  return n;
}

/* Expected fraction of skipping superblocks and its gradient (added with weight w into dtheta). */
static double skip_fraction(const Search *s, Trainer *t, double w, double *dtheta, double *prob) {
  double total = 0;
  int nenc = encoder_superblocks(s);
  if (!nenc) return 0;
  for (int i = 0; i < nenc; i++) {
    const PlanSuperblock *sb = &s->p->sb[i];
    search_probs(s, t, i, prob);
    double ps = 0;
    for (int k = 0; k < sb->ncand; k++) ps += is_skip(&sb->cand[k]) ? prob[k] : 0;
    total += ps;
    if (w != 0)
      for (int k = 0; k < sb->ncand; k++) /* d p_skip / d theta_k = p_k (1[k skips] - p_skip) */
        if (s->active[i * s->maxc + k]) dtheta[i * s->maxc + k] += w / nenc * prob[k] * ((is_skip(&sb->cand[k]) ? 1 : 0) - ps);
  }
  return total / nenc;
}

/* The expected cost E[C] = fixed + sum_i sum_k p_ik E_widths[C_ik] (multilinear in the probabilities; width
   choices make a candidate's cost depend on them) and its derivative dE/dp into dprob. */
static double expected_cost(const Search *s, const double *prob, double *dprob) {
  int M = s->maxc;
  double e = s->cost.fixed;
  for (int i = 0; i < s->nsb; i++)
    for (int k = 0; k < s->p->sb[i].ncand; k++) {
      double ck = cost_expected(&s->cost, i, k, prob);
      e += prob[i * M + k] * ck;
      dprob[i * M + k] += ck;
      cost_width_grad(&s->cost, i, k, prob[i * M + k], prob, dprob);
    }
  return e;
}

void search_theta_grad_resource(const Search *s, Trainer *t, double *dtheta, ResourceTerm *out) {
  const Budget *g = &s->budget;
  int M = s->maxc;
  double *prob = malloc(sizeof *prob * (size_t)M * s->nsb + 1), *dprob = calloc((size_t)M * s->nsb + 1, sizeof *dprob);
  double scale = g->relative ? 1 / g->range : 1, weight = g->target >= 0 ? g->lambda : g->alpha;
  for (int i = 0; i < s->nsb; i++) search_probs(s, t, i, prob + (size_t)i * M);
  double expected = expected_cost(s, prob, dprob);
  for (int i = 0; i < s->nsb; i++) { /* d E / d theta_k = p_k (dE/dp_k - sum_j p_j dE/dp_j) */
    const double *p = prob + (size_t)i * M, *d = dprob + (size_t)i * M;
    double mean = 0;
    for (int k = 0; k < s->p->sb[i].ncand; k++) mean += p[k] * d[k];
    for (int k = 0; k < s->p->sb[i].ncand; k++)
      if (s->active[i * M + k]) dtheta[i * M + k] += weight * scale * p[k] * (d[k] - mean);
  }
  free(dprob);
  out->expected_cost = expected;
  out->relative_cost = g->range > 0 ? (expected - g->lo) / g->range : 0;
  double c = g->relative ? out->relative_cost : expected;
  out->loss = g->target >= 0 ? g->lambda * (c - g->target) : g->alpha * (g->relative ? c : c - s->cost.fixed);
  out->skip_fraction = skip_fraction(s, t, g->skip_limit < 1 ? g->mu : 0, dtheta, prob);
  if (g->skip_limit < 1) out->loss += g->mu * (out->skip_fraction - g->skip_limit);
  free(prob);
}

void budget_step(Search *s, const ResourceTerm *r) {
  Budget *g = &s->budget;
  if (g->target >= 0) g->lambda = fmax(0, g->lambda + g->lr * (r->relative_cost - g->target));
  if (g->skip_limit < 1) g->mu = fmax(0, g->mu + g->lr * (r->skip_fraction - g->skip_limit));
}

int arch_skips(const Search *s, const int *choice) {
  int k = 0;
  for (int i = 0; i < encoder_superblocks(s); i++) k += is_skip(&s->p->sb[i].cand[choice[i]]);
  return k;
}

int search_encoder_superblocks(const Search *s) { return encoder_superblocks(s); }
