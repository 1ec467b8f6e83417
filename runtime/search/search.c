/* search.c - Gumbel-softmax mixing, theta gradients, resource costs and pruning (search.h). */
#include "search.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json_min.h"

static int max_candidates(const Plan *p) {
  int m = 1;
  for (int s = 0; s < p->nsb; s++) m = p->sb[s].ncand > m ? p->sb[s].ncand : m;
  return m;
}


/* Costs at every width pair from the plan's width costs: MACs and parameters as they are; a latency (measured at the
   supernet's widths) scaled by the pair's share of the candidate's MACs there. */
bool cost_widths(CostTable *c) {
  const Plan *p = c->p;
  for (int i = 0; c->wcand && i < c->nsb * c->maxc; i++) free(c->wcand[i]); /* again, for another objective */
  free(c->wcand);
  c->wcand = calloc((size_t)c->nsb * c->maxc + 1, sizeof *c->wcand);
  if (!c->wcand) return false;
  for (int s = 0; s < p->nsb; s++)
    for (int k = 0; k < p->sb[s].ncand; k++) {
      const PlanCandidate *cd = &p->sb[s].cand[k];
      if (!cd->wcost) continue;
      int np = plan_width_pairs(p, cd);
      double *w = c->wcand[s * c->maxc + k] = malloc(sizeof *w * (size_t)np), base = c->cand[s * c->maxc + k];
      if (!w) return false;
      for (int j = 0; j < np; j++) {
        const PlanWidthCost *x = &cd->wcost[j];
        if (x->macs < 0) w[j] = -1;
        else if (c->objective == PLAN_OBJ_MACS) w[j] = (double)x->macs * 1e-9;
        else if (c->objective == PLAN_OBJ_PARAMS) w[j] = (double)x->params * 1e-6;
        else w[j] = cd->macs > 0 ? base * (double)x->macs / (double)cd->macs : base;
      }
    }
  return true;
}

bool cost_from_plan(const Plan *p, PlanObjective obj, CostTable *c) {
  memset(c, 0, sizeof *c);
  c->p = p, c->nsb = p->nsb, c->maxc = max_candidates(p), c->objective = obj;
  c->cand = calloc((size_t)c->nsb * c->maxc + 1, sizeof *c->cand);
  if (!c->cand) return false;
  double scale = obj == PLAN_OBJ_PARAMS ? 1e-6 : 1e-9;
  c->unit = obj == PLAN_OBJ_PARAMS ? "M params" : "GMACs";
  for (int s = 0; s < p->nsb; s++)
    for (int k = 0; k < p->sb[s].ncand; k++)
      c->cand[s * c->maxc + k] = (double)(obj == PLAN_OBJ_PARAMS ? p->sb[s].cand[k].params : p->sb[s].cand[k].macs) * scale;
  c->fixed = (double)(obj == PLAN_OBJ_PARAMS ? p->costs.params_fixed : p->costs.macs_fixed) * scale;
  return obj == PLAN_OBJ_LATENCY || cost_widths(c);
}

void cost_free(CostTable *c) {
  for (int i = 0; c->wcand && i < c->nsb * c->maxc; i++) free(c->wcand[i]);
  free(c->wcand), free(c->cand);
  c->cand = NULL, c->wcand = NULL;
}

static const double *width_costs(const CostTable *c, int sb, int k) { return c->wcand ? c->wcand[sb * c->maxc + k] : NULL; }

double cost_of(const CostTable *c, const int *choice) {
  double total = c->fixed;
  for (int s = 0; s < c->nsb; s++) {
    const double *w = width_costs(c, s, choice[s]);
    const PlanCandidate *cd = &c->p->sb[s].cand[choice[s]];
    if (!w) {
      total += c->cand[s * c->maxc + choice[s]];
      continue;
    }
    int a = cd->cost_in < 0 ? 0 : choice[cd->cost_in], b = cd->cost_out < 0 ? 0 : choice[cd->cost_out];
    total += w[a * plan_width_count(c->p, cd->cost_out) + b];
  }
  return total;
}

double cost_expected(const CostTable *c, int sb, int k, const double *prob) {
  const double *w = width_costs(c, sb, k);
  if (!w) return c->cand[sb * c->maxc + k];
  const PlanCandidate *cd = &c->p->sb[sb].cand[k];
  int na = plan_width_count(c->p, cd->cost_in), nb = plan_width_count(c->p, cd->cost_out), M = c->maxc, wi = cd->cost_in, wo = cd->cost_out;
  double e = 0;
  for (int a = 0; a < na; a++)
    for (int b = 0; b < nb; b++) {
      if (w[a * nb + b] < 0) continue;
      if (wi == wo) e += a == b ? prob[wi * M + a] * w[a * nb + b] : 0;
      else e += (wi < 0 ? 1 : prob[wi * M + a]) * (wo < 0 ? 1 : prob[wo * M + b]) * w[a * nb + b];
    }
  return e;
}

void cost_bounds(const CostTable *c, int sb, int k, double *lo, double *hi) {
  const double *w = width_costs(c, sb, k);
  if (!w) {
    *lo = *hi = c->cand[sb * c->maxc + k];
    return;
  }
  *lo = INFINITY, *hi = -INFINITY;
  for (int j = 0; j < plan_width_pairs(c->p, &c->p->sb[sb].cand[k]); j++)
    if (w[j] >= 0) *lo = w[j] < *lo ? w[j] : *lo, *hi = w[j] > *hi ? w[j] : *hi;
  if (*lo > *hi) *lo = *hi = 0;
}

void cost_width_grad(const CostTable *c, int sb, int k, double pk, const double *prob, double *dprob) {
  const double *w = width_costs(c, sb, k);
  if (!w) return;
  const PlanCandidate *cd = &c->p->sb[sb].cand[k];
  int na = plan_width_count(c->p, cd->cost_in), nb = plan_width_count(c->p, cd->cost_out), M = c->maxc, wi = cd->cost_in, wo = cd->cost_out;
  for (int a = 0; a < na; a++)
    for (int b = 0; b < nb; b++) {
      double v = w[a * nb + b];
      if (v < 0) continue;
      if (wi == wo) {
        if (a == b) dprob[wi * M + a] += pk * v;
        continue;
      }
      if (wi >= 0) dprob[wi * M + a] += pk * (wo < 0 ? 1 : prob[wo * M + b]) * v;
      if (wo >= 0) dprob[wo * M + b] += pk * (wi < 0 ? 1 : prob[wi * M + a]) * v;
    }
}

bool search_init(Search *s, const Plan *p) {
  memset(s, 0, sizeof *s);
  s->p = p, s->nsb = p->nsb, s->maxc = max_candidates(p);
  s->active = calloc((size_t)s->nsb * s->maxc + 1, sizeof *s->active);
  if (!s->active) return false;
  for (int i = 0; i < p->nsb; i++)
    for (int k = 0; k < p->sb[i].ncand; k++) s->active[i * s->maxc + k] = true;
  return true;
}

void search_free(Search *s) {
  free(s->active);
  cost_free(&s->cost);
}

void search_probs(const Search *s, Trainer *t, int sb, double *prob) {
  const float *th = trainer_theta(t, sb);
  int nc = s->p->sb[sb].ncand;
  double mx = -INFINITY, sum = 0;
  for (int k = 0; k < nc; k++)
    if (s->active[sb * s->maxc + k] && th[k] > mx) mx = th[k];
  for (int k = 0; k < nc; k++) sum += prob[k] = s->active[sb * s->maxc + k] ? exp(th[k] - mx) : 0;
  for (int k = 0; k < nc; k++) prob[k] /= sum;
}

/* splitmix64 of (seed, step, index): the same noise for the same draw, whatever happened before. */
static double uniform_at(uint64_t seed, long step, uint64_t index) {
  uint64_t z = seed * 0x9e3779b97f4a7c15ULL ^ (uint64_t)step * 0xbf58476d1ce4e5b9ULL ^ index * 0x94d049bb133111ebULL;
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return ((z >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

void search_mix(const Search *s, Trainer *t, double tau, uint64_t seed, long step, int first, int batch, float *w) {
  int M = s->maxc;
  memset(w, 0, sizeof *w * (size_t)s->nsb * M * batch);
  double *z = malloc(sizeof *z * (size_t)M);
  for (int i = 0; i < s->nsb; i++) {
    const float *th = trainer_theta(t, i);
    int nc = s->p->sb[i].ncand;
    for (int b = 0; b < batch; b++) {
      double mx = -INFINITY, sum = 0;
      for (int k = 0; k < nc; k++) {
        if (!s->active[i * M + k]) continue;
        double g = -log(-log(uniform_at(seed, step, ((uint64_t)i * M + k) * 65536u + (uint64_t)(first + b))));
        z[k] = (th[k] + g) / tau;
        mx = z[k] > mx ? z[k] : mx;
      }
      for (int k = 0; k < nc; k++)
        if (s->active[i * M + k]) sum += z[k] = exp(z[k] - mx);
      for (int k = 0; k < nc; k++)
        if (s->active[i * M + k]) w[((size_t)i * M + k) * batch + b] = (float)(z[k] / sum);
    }
  }
  free(z);
}

void search_theta_grad_ce(const Search *s, Trainer *t, const float *w, int batch, double tau, double *dtheta) {
  int M = s->maxc;
  const float *dw = trainer_mix_grad(t);
  for (int i = 0; i < s->nsb; i++) {
    int nc = s->p->sb[i].ncand;
    for (int k = 0; k < M; k++) dtheta[i * M + k] = 0;
    for (int b = 0; b < batch; b++) { /* softmax Jacobian: dz_k = y_k (dw_k - sum_j y_j dw_j) / tau */
      double dot = 0;
      for (int k = 0; k < nc; k++) dot += (double)w[((size_t)i * M + k) * batch + b] * dw[((size_t)i * M + k) * batch + b];
      for (int k = 0; k < nc; k++) {
        size_t at = ((size_t)i * M + k) * batch + b;
        if (s->active[i * M + k]) dtheta[i * M + k] += w[at] * (dw[at] - dot) / tau;
      }
    }
  }
}

/* The log line of a pruned candidate (before its epoch's line in log.jsonl). */
static void log_pruned(FILE *log, int sb, const char *name, double p, double below) {
  JsonOut quoted = {0};
  json_str(&quoted, name, strlen(name));
  fprintf(log, "{\"type\": \"pruned\", \"superblock\": %d, \"candidate\": %.*s, \"p\": %.6g, \"below\": %.6g}\n", sb,
          quoted.oom ? 2 : (int)quoted.len, quoted.oom ? "\"\"" : quoted.p, p, below);
  json_out_free(&quoted);
}

int search_prune(Search *s, Trainer *t, double below, FILE *log) {
  int M = s->maxc, pruned = 0;
  double *prob = malloc(sizeof *prob * (size_t)M);
  for (int i = 0; i < s->nsb; i++) {
    int nc = s->p->sb[i].ncand, left = 0;
    search_probs(s, t, i, prob);
    for (int k = 0; k < nc; k++) left += s->active[i * M + k];
    for (int k = 0; k < nc && left > 1; k++) {
      if (!s->active[i * M + k] || prob[k] >= below) continue;
      s->active[i * M + k] = false, left--, pruned++;
      if (log) log_pruned(log, i, s->p->sb[i].cand[k].name, prob[k], below);
    }
  }
  free(prob);
  return pruned;
}

double search_entropy(const Search *s, Trainer *t, int sb, int *top, double *top_p) {
  double *prob = malloc(sizeof *prob * (size_t)s->maxc), h = 0;
  search_probs(s, t, sb, prob);
  *top = 0, *top_p = 0;
  for (int k = 0; k < s->p->sb[sb].ncand; k++) {
    if (prob[k] > 0) h -= prob[k] * log(prob[k]);
    if (prob[k] > *top_p) *top_p = prob[k], *top = k;
  }
  free(prob);
  return h;
}
