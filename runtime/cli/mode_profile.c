/* mode_profile.c - measures the latency lookup table (mode_profile.h). Probe architectures cover
   every candidate: probe j runs candidate j mod ncand in every superblock. Each probe runs warm-up
   passes, then `iters` timed passes with per-node timing; a candidate's latency is the median over
   its passes of the sum of its nodes' times, the fixed part the median of everything outside the
   candidates. The spread (p90 - p10) / median is reported as the noise. */
#include "mode_profile.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "atomic_file.h"
#include "cpu_ops.h"
#include "executor.h"
#include "mode_bench.h"
#include "phase_progress.h"
#include "weights_file.h"
#include "shapes.h"
#include "weights_init.h"

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double quantile(double *v, int n, double q) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  double at = q * (n - 1);
  int i = (int)at;
  return i + 1 < n ? v[i] + (at - i) * (v[i + 1] - v[i]) : v[n - 1];
}

typedef struct Samples { double *v; int n; } Samples; /* per candidate and for the fixed part: ms per pass */

/* One probe: `iters` timed passes, adding each pass's per-candidate and fixed sums to the samples. */
static bool run_probe(const Plan *p, const TensorSet *w, const CliArgs *a, const int *choice, const float *in, Shape is,
                      int maxc, Samples *cand, Samples *fixed, PhaseProgress *pp, long *passes, char *err, size_t n) {
  Executor *x = executor_new_arch(p, w, a->backend, choice, err, n);
  if (!x) return false;
  double *times = calloc((size_t)p->nnodes, sizeof *times);
  bool ok = times != NULL;
  if (!ok) snprintf(err, n, "out of memory");
  for (int i = 0; ok && i < a->warmup; i++)
    if ((ok = executor_run(x, in, is, err, n))) phase_tick(pp, ++*passes);
  if (ok) executor_profile(x, times);
  for (int it = 0; ok && it < a->iters; it++) {
    memset(times, 0, sizeof *times * (size_t)p->nnodes);
    if (!(ok = executor_run(x, in, is, err, n))) break;
    phase_tick(pp, ++*passes);
    double fix = 0, *per = calloc((size_t)p->nsb + 1, sizeof *per);
    for (int i = 0; i < p->nnodes; i++) {
      const PlanNode *nd = &p->nodes[i];
      if (nd->superblock >= 0 && nd->candidate >= 0) per[nd->superblock] += times[i];
      else fix += times[i];
    }
    for (int s = 0; s < p->nsb; s++) {
      Samples *c = &cand[s * maxc + choice[s]];
      c->v[c->n++] = per[s] * 1e3;
    }
    fixed->v[fixed->n++] = fix * 1e3;
    free(per);
  }
  free(times);
  executor_free(x);
  return ok;
}

static bool write_lut(const Plan *p, const CliArgs *a, Shape is, Samples *cand, Samples *fixed, int maxc,
                      const char *path, char *err, size_t n) {
  AtomicFile af;
  if (!atomic_open(&af, path, err, n)) return false;
  FILE *f = af.f;
  double fix = quantile(fixed->v, fixed->n, 0.5), worst = 0;
  fprintf(f, "{\"space\": \"%s\", \"backend\": \"%s\", \"threads\": %d, \"input\": [%d, %d, %d], \"unit\": \"ms\",\n"
             " \"iters\": %d, \"fixed_ms\": %.5f, \"fixed_spread\": %.4f,\n \"superblocks\": [\n",
          p->name, a->backend ? a->backend : "cpu", a->threads > 0 ? a->threads : (int)sysconf(_SC_NPROCESSORS_ONLN), is.c, is.h, is.w, a->iters, fix,
          (quantile(fixed->v, fixed->n, 0.9) - quantile(fixed->v, fixed->n, 0.1)) / (fix > 0 ? fix : 1));
  for (int s = 0; s < p->nsb; s++) {
    fprintf(f, "  {\"index\": %d, \"candidates\": [", s);
    for (int k = 0; k < p->sb[s].ncand; k++) {
      Samples *c = &cand[s * maxc + k];
      double med = quantile(c->v, c->n, 0.5), spread = med > 1e-3 ? (quantile(c->v, c->n, 0.9) - quantile(c->v, c->n, 0.1)) / med : 0;
      worst = spread > worst ? spread : worst;
      fprintf(f, "%s{\"name\": \"%s\", \"ms\": %.5f, \"spread\": %.4f}", k ? ", " : "", p->sb[s].cand[k].name, med, spread);
    }
    fprintf(f, "]}%s\n", s + 1 < p->nsb ? "," : "");
  }
  fprintf(f, "]}\n");
  if (!atomic_close(&af, true, err, n)) return false;
  printf("latency table of %s (%dx%dx%d, %s backend, %d passes per candidate): fixed part %.3f ms; "
         "largest candidate spread (p90-p10)/median %.1f%% -> %s\n",
         p->name, is.c, is.h, is.w, a->backend ? a->backend : "cpu", a->iters, fix, worst * 100, path);
  return true;
}

int mode_profile(const Plan *p, const CliArgs *a) {
  if (!p->is_space) return fprintf(stderr, "sqnrun: --profile measures a search space; %s is a fixed network (use --bench --profile-ops)\n", p->name), 2;
  char err[4096];
  Shape is = bench_input(p, a);
  if (a->threads >= 0) cpu_set_threads(a->threads);
  TensorSet *w = a->weights ? weights_load(a->weights, err, sizeof err) : weights_init(p, 1);
  if (!w) return fprintf(stderr, "sqnrun: %s\n", a->weights ? err : "out of memory"), 1;
  int maxc = 1;
  for (int s = 0; s < p->nsb; s++) maxc = p->sb[s].ncand > maxc ? p->sb[s].ncand : maxc;
  int passes = (maxc + 1) * a->iters;
  Samples *cand = calloc((size_t)p->nsb * maxc, sizeof *cand), fixed = {calloc((size_t)passes * maxc + 1, sizeof(double)), 0};
  for (int i = 0; i < p->nsb * maxc; i++) cand[i].v = calloc((size_t)passes + 1, sizeof(double));
  size_t numel = shape_numel(is);
  float *in = malloc(numel * sizeof *in);
  for (size_t i = 0; i < numel; i++) in[i] = (float)((i * 2654435761u % 1000) / 250.0 - 2.0);
  int *choice = malloc(sizeof *choice * (size_t)p->nsb);
  bool ok = true;
  /* progress per pass: probes x (warm-up + timed passes) */
  char phase[300];
  snprintf(phase, sizeof phase, "profiling %s", p->name);
  fprintf(stderr, "profiling %s at %dx%dx%d: %d probe architectures x (%d warm-up + %d timed passes)\n", p->name, is.c,
          is.h, is.w, maxc, a->warmup, a->iters);
  PhaseProgress pp;
  long done = 0;
  phase_begin(&pp, phase, (long)maxc * (a->warmup + a->iters), false);
  for (int j = 0; ok && j < maxc; j++) {
    for (int s = 0; s < p->nsb; s++) choice[s] = j % p->sb[s].ncand;
    ok = run_probe(p, w, a, choice, in, is, maxc, cand, &fixed, &pp, &done, err, sizeof err);
  }
  if (ok) phase_end(&pp);
  else phase_break(&pp);
  ok = ok && write_lut(p, a, is, cand, &fixed, maxc, a->output, err, sizeof err);
  if (!ok) fprintf(stderr, "sqnrun: %s\n", err);
  for (int i = 0; i < p->nsb * maxc; i++) free(cand[i].v);
  free(cand), free(fixed.v), free(in), free(choice);
  tensor_set_free(w);
  return ok ? 0 : 1;
}
