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

bool cost_from_plan(const Plan *p, PlanObjective obj, CostTable *c) {
  memset(c, 0, sizeof *c);
  c->nsb = p->nsb, c->maxc = max_candidates(p), c->objective = obj;
  c->cand = calloc((size_t)c->nsb * c->maxc + 1, sizeof *c->cand);
  if (!c->cand) return false;
  double scale = obj == PLAN_OBJ_PARAMS ? 1e-6 : 1e-9;
  c->unit = obj == PLAN_OBJ_PARAMS ? "M params" : "GMACs";
  for (int s = 0; s < p->nsb; s++)
    for (int k = 0; k < p->sb[s].ncand; k++)
      c->cand[s * c->maxc + k] = (double)(obj == PLAN_OBJ_PARAMS ? p->sb[s].cand[k].params : p->sb[s].cand[k].macs) * scale;
  c->fixed = (double)(obj == PLAN_OBJ_PARAMS ? p->costs.params_fixed : p->costs.macs_fixed) * scale;
  return true;
}

void cost_free(CostTable *c) {
  free(c->cand);
  c->cand = NULL;
}

double cost_of(const CostTable *c, const int *choice) {
  double total = c->fixed;
  for (int s = 0; s < c->nsb; s++) total += c->cand[s * c->maxc + choice[s]];
  return total;
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
