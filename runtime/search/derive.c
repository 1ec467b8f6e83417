/* derive.c - sampling, scoring and choosing architectures from a searched supernet (derive.h). */
#include "derive.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cpu_grad.h"
#include "dist.h"
#include "loader.h"
#include "metrics.h"
#include "phase_progress.h"

typedef struct ValSet { int nb; Batch *b; } ValSet; /* the validation batches, loaded once */

static bool load_val(Dataset *val, const DeriveOptions *o, ValSet *v, char *err, size_t n) {
  AugmentOptions none = {0, 0, 1.0, 1.0, false};
  int limit = o->val_limit > 0 && o->val_limit < dataset_size(val) ? o->val_limit : dataset_size(val);
  Loader *l = loader_new(val, o->val_batch, &none, false, false, 0, 2, err, n);
  if (!l || !loader_start_epoch(l, 0, err, n)) return loader_free(l), false;
  v->b = calloc((size_t)limit + 1, sizeof *v->b), v->nb = 0;
  Batch b;
  for (int seen = 0; seen < limit && (err[0] = 0, loader_next(l, &b, err, n));) {
    Batch *c = &v->b[v->nb++];
    *c = b;
    size_t px = (size_t)b.n * b.h * b.w;
    c->image = malloc(px * 3 * sizeof(float)), c->labels = malloc(px);
    memcpy(c->image, b.image, px * 3 * sizeof(float)), memcpy(c->labels, b.labels, px);
    seen += b.n;
  }
  loader_free(l);
  return !err[0];
}

static void free_val(ValSet *v) {
  for (int i = 0; i < v->nb; i++) free(v->b[i].image), free(v->b[i].labels);
  free(v->b);
}

/* One-hot mixing weights and only the chosen candidates running. */
static bool select_arch(const Search *s, Trainer *t, const int *choice, int batch, char *err, size_t n) {
  int M = s->maxc;
  float *w = calloc((size_t)s->nsb * M * batch + 1, sizeof *w);
  bool *active = calloc((size_t)s->nsb * M + 1, sizeof *active);
  for (int i = 0; i < s->nsb; i++) {
    active[i * M + choice[i]] = true;
    for (int b = 0; b < batch; b++) w[((size_t)i * M + choice[i]) * batch + b] = 1;
  }
  bool ok = trainer_set_mix(t, w, batch, err, n);
  trainer_set_active(t, active, M);
  free(w), free(active);
  return ok;
}

static bool score(const Search *s, Trainer *t, const ValSet *v, Arch *a, char *err, size_t n) {
  Confusion c;
  if (!confusion_init(&c, s->p->classes)) return snprintf(err, n, "out of memory"), false;
  unsigned char *pred = NULL;
  bool ok = true;
  for (int i = 0; ok && i < v->nb; i++) {
    const Batch *b = &v->b[i];
    Shape in = {b->n, 3, b->h, b->w}, out;
    ok = select_arch(s, t, a->choice, b->n, err, n) && trainer_forward(t, b->image, in, err, n);
    if (!ok) break;
    const float *logits = trainer_logits(t, &out);
    size_t px = (size_t)out.n * out.h * out.w;
    pred = realloc(pred, px);
    cpu_argmax_channels(logits, out, pred);
    confusion_add(&c, b->labels, pred, px, 255);
  }
  SegMetrics m;
  if (ok) seg_metrics(&c, &m), a->miou = m.miou;
  free(pred);
  confusion_free(&c);
  return ok;
}

static void sample_arch(const Search *s, Trainer *t, uint64_t *rng, int *choice) {
  double *prob = malloc(sizeof *prob * (size_t)s->maxc);
  for (int i = 0; i < s->nsb; i++) {
    search_probs(s, t, i, prob);
    *rng = *rng * 6364136223846793005ULL + 1442695040888963407ULL;
    double u = ((*rng >> 11) + 0.5) / 9007199254740992.0, acc = 0;
    int k = 0, last = 0;
    for (; k < s->p->sb[i].ncand; k++) {
      if (prob[k] > 0) last = k;
      if ((acc += prob[k]) >= u && prob[k] > 0) break;
    }
    choice[i] = k < s->p->sb[i].ncand ? k : last;
  }
  free(prob);
}

static void most_probable(const Search *s, Trainer *t, int *choice) {
  for (int i = 0; i < s->nsb; i++) {
    double p;
    search_entropy(s, t, i, &choice[i], &p);
  }
}

static bool same_arch(const int *a, const int *b, int nsb) { return !memcmp(a, b, sizeof *a * (size_t)nsb); }

/* Distinct architectures: the most probable one, then up to o->samples draws. */
static int sample_all(const Search *s, Trainer *t, const DeriveOptions *o, Arch *a) {
  uint64_t rng = o->seed * 2654435761u + 17;
  int na = 0;
  for (int tries = 0; na < o->samples + 1 && tries < 20 * (o->samples + 1); tries++) {
    int *c = malloc(sizeof *c * (size_t)s->nsb);
    if (na == 0) most_probable(s, t, c);
    else sample_arch(s, t, &rng, c);
    bool dup = false;
    for (int j = 0; j < na && !dup; j++) dup = same_arch(a[j].choice, c, s->nsb);
    if (dup) { free(c); continue; }
    a[na] = (Arch){.choice = c, .ms = -1, .most_probable = na == 0};
    na++;
  }
  return na;
}

/* Pareto front over (cost, mIoU): no other architecture is at most as costly and strictly better. */
static void mark_pareto(Arch *a, int na, bool by_ms) {
  for (int i = 0; i < na; i++) {
    double ci = by_ms ? a[i].ms : a[i].gmacs;
    a[i].pareto = true;
    for (int j = 0; j < na && a[i].pareto; j++) {
      double cj = by_ms ? a[j].ms : a[j].gmacs;
      if (j != i && cj <= ci && a[j].miou >= a[i].miou && (cj < ci || a[j].miou > a[i].miou)) a[i].pareto = false;
    }
  }
}

/* The cost a budget is about: --target-ms, else --target-macs, else the plan's budget; < 0: no budget. */
static double budget_cost(const Arch *a, const DeriveOptions *o, double *limit) {
  *limit = o->target_ms > 0 ? o->target_ms : o->target_macs > 0 ? o->target_macs : o->target_cost > 0 ? o->target_cost : -1;
  return o->target_ms > 0 ? a->ms : o->target_macs > 0 ? a->gmacs : a->cost;
}

static bool within(const Arch *a, const DeriveOptions *o, const Search *s, bool skips_too) {
  double limit, c = budget_cost(a, o, &limit);
  if (limit > 0 && c > limit) return false;
  return !skips_too || o->skip_limit >= 1 || a->skips <= (int)floor(o->skip_limit * search_encoder_superblocks(s) + 1e-9);
}

/* The best mIoU within the budget and the skip limit; else within the budget alone; else the cheapest. */
static int pick(const Search *s, Arch *a, int na, const DeriveOptions *o) {
  for (int pass = 0; pass < 2; pass++) {
    int best = -1;
    for (int i = 0; i < na; i++)
      if (within(&a[i], o, s, pass == 0) && (best < 0 || a[i].miou > a[best].miou)) best = i;
    if (best >= 0) return best;
  }
  int best = 0;
  double limit;
  for (int i = 1; i < na; i++)
    if (budget_cost(&a[i], o, &limit) < budget_cost(&a[best], o, &limit)) best = i;
  return best;
}

/* Under mpirun every rank scores every size-th architecture; the sums give all ranks every mIoU (and how many
   ranks failed, so that none waits for the others). */
static bool score_all(const Search *s, Trainer *t, const ValSet *v, Arch *a, int na, CostTable *macs,
                      const DeriveOptions *o, bool ok, char *err, size_t n) {
  int rank = dist_rank(), size = dist_size();
  PhaseProgress pp;
  phase_begin(&pp, "scoring architectures", na, rank != 0 || !ok);
  for (int i = 0; i < na; i++) {
    a[i].gmacs = cost_of(macs, a[i].choice);
    a[i].cost = cost_of(&s->cost, a[i].choice), a[i].skips = arch_skips(s, a[i].choice);
    if (o->latency) a[i].ms = cost_of(o->latency, a[i].choice);
    if (ok && i % size == rank) ok = score(s, t, v, &a[i], err, n);
    if (ok) phase_tick(&pp, i + 1);
  }
  if (ok) phase_end(&pp);
  else phase_break(&pp);
  if (size == 1) return ok;
  double *m = calloc((size_t)na + 1, sizeof *m);
  if (!m) return snprintf(err, n, "out of memory"), false;
  for (int i = rank; i < na; i += size) m[i] = a[i].miou;
  m[na] = ok ? 0 : 1;
  dist_allreduce_f64(m, (size_t)na + 1);
  for (int i = 0; i < na; i++) a[i].miou = m[i];
  bool failed = m[na] > 0;
  free(m);
  if (failed && ok) snprintf(err, n, "another rank failed while scoring architectures (its message is above)");
  return !failed;
}

bool derive_run(const Search *s, Trainer *t, Dataset *val, const DeriveOptions *o, char *err, size_t n) {
  ValSet v = {0};
  CostTable macs;
  if (!cost_from_plan(s->p, PLAN_OBJ_MACS, &macs)) return snprintf(err, n, "out of memory"), false;
  Arch *a = calloc((size_t)o->samples + 2, sizeof *a);
  int na = sample_all(s, t, o, a);
  bool ok = load_val(val, o, &v, err, n);
  trainer_keep_running_stats(t, true);
  if (dist_rank() == 0)
    fprintf(stderr, "deriving: scoring %d distinct architectures on %d validation batches%s\n", na, v.nb,
            dist_size() > 1 ? " (split over the ranks)" : "");
  ok = score_all(s, t, &v, a, na, &macs, o, ok, err, n); /* every rank joins its collective, even one that failed */
  trainer_keep_running_stats(t, false);
  trainer_set_active(t, s->active, s->maxc);
  if (ok) {
    if (o->target_ms > 0 && !o->latency) ok = snprintf(err, n, "--target-ms needs a latency table (--lut lut.json)") < 0;
  }
  if (ok && dist_rank() != 0) { /* rank 0 writes */
    for (int i = 0; i < na; i++) free(a[i].choice);
    free(a), free_val(&v), cost_free(&macs);
    return true;
  }
  if (ok) {
    mark_pareto(a, na, o->latency != NULL && o->target_ms > 0);
    int c = pick(s, a, na, o);
    a[c].chosen = true;
    char path[1100];
    snprintf(path, sizeof path, "%s/pareto.svg", o->out_dir);
    ok = derive_write_tables(s, a, na, o, err, n) && derive_write_pareto_svg(a, na, o->latency && o->target_ms > 0, path, err, n);
    snprintf(path, sizeof path, "%s/arch.svg", o->out_dir);
    ok = ok && derive_write_arch_svg(s, &a[c], path, err, n) && derive_write_sqn(s, &a[c], o, err, n);
    char lat[64] = "";
    if (a[c].ms >= 0) snprintf(lat, sizeof lat, ", %.3f ms predicted by the latency table", a[c].ms);
    if (ok)
      printf("derived: mIoU %.4f on %d val images, %.3f GMACs%s\n"
             "  network  %s/derived.sqn  (compile: sqnc %s/derived.sqn -o derived.plan)\n"
             "  pareto   %s/pareto.csv, pareto.json, pareto.svg  (%d architectures)\n"
             "  diagram  %s/arch.svg\n",
             a[c].miou, o->val_limit, a[c].gmacs, lat, o->out_dir, o->out_dir, o->out_dir, na, o->out_dir);
  }
  for (int i = 0; i < na; i++) free(a[i].choice);
  free(a);
  free_val(&v);
  cost_free(&macs);
  return ok;
}
