/* mode_bench_train.c - `sqnrun NET.plan --bench --train [--batch B] [--input CxHxW]` (mode_bench.h): the time
   of one training step (training-mode forward, loss, backward, SGD update) on random data, with warm-up,
   median and spread, images/s, and memory (the trainer's buffers and the process's peak RSS). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include "cpu_ops.h"
#include "mode_bench.h"
#include "weights_file.h"
#include "trainer.h"
#include "clock.h"

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Normal-ish inputs and labels with a few ignored pixels, from a fixed LCG. */
static void random_batch(float *x, size_t nx, unsigned char *lab, size_t nl, int classes) {
  uint64_t s = 42;
  for (size_t i = 0; i < nx; i++) s = s * 6364136223846793005ULL + 1442695040888963407ULL, x[i] = (float)((s >> 40) / 16777216.0 * 4 - 2);
  for (size_t i = 0; i < nl; i++) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    unsigned v = (unsigned)(s >> 33) % (unsigned)(classes + 1);
    lab[i] = v == (unsigned)classes ? 255 : (unsigned char)v;
  }
}

/* A supernet step mixes its candidates: random positive weights summing to 1 per sample. */
static bool set_random_mix(Trainer *t, const Plan *p, int batch, char *err, size_t n) {
  int maxc = 0;
  for (int s = 0; s < p->nsb; s++) maxc = p->sb[s].ncand > maxc ? p->sb[s].ncand : maxc;
  size_t count = (size_t)p->nsb * maxc * batch;
  float *w = calloc(count + 1, sizeof *w);
  uint64_t r = 9;
  for (int s = 0; s < p->nsb; s++)
    for (int b = 0; b < batch; b++) {
      double sum = 0;
      for (int k = 0; k < p->sb[s].ncand; k++) {
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        sum += w[((size_t)s * maxc + k) * batch + b] = (float)((r >> 40) / 16777216.0 + 0.05);
      }
      for (int k = 0; k < p->sb[s].ncand; k++) w[((size_t)s * maxc + k) * batch + b] /= (float)sum;
    }
  bool ok = w && trainer_set_mix(t, w, batch, err, n);
  free(w);
  return ok;
}

static void report(const Plan *p, Shape in, double *t, int n, size_t bytes, bool json) {
  qsort(t, (size_t)n, sizeof *t, cmp_double);
  double med = n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double rss = ru.ru_maxrss / 1024.0, mib = bytes / 1048576.0;
  if (json) {
    printf("{\"network\": \"%s\", \"mode\": \"train_step\", \"input\": [%d, %d, %d, %d], \"iters\": %d, \"min_ms\": %.3f, "
           "\"median_ms\": %.3f, \"max_ms\": %.3f, \"images_per_s\": %.3f, \"trainer_mib\": %.2f, \"peak_rss_mib\": %.2f}\n",
           p->name, in.n, in.c, in.h, in.w, n, t[0] * 1e3, med * 1e3, t[n - 1] * 1e3, in.n / med, mib, rss);
    return;
  }
  printf("network     %s, training step, batch %d, input %dx%dx%d\n", p->name, in.n, in.c, in.h, in.w);
  printf("step time   min %.1f ms, median %.1f ms, max %.1f ms (%d steps), %.2f images/s\n", t[0] * 1e3, med * 1e3,
         t[n - 1] * 1e3, n, in.n / med);
  printf("memory      trainer buffers, weights, gradients, momentum %.1f MiB; peak process RSS %.1f MiB\n", mib, rss);
}

/* --profile-ops: seconds per step by op kind, forward and backward. */
static void print_profile(const Plan *p, const double *fwd, const double *bwd, int steps) {
  double by[2][OP__COUNT] = {{0}}, total = 0;
  int count[OP__COUNT] = {0};
  for (int i = 0; i < p->nnodes; i++) {
    by[0][p->nodes[i].kind] += fwd[i] / steps, by[1][p->nodes[i].kind] += bwd[i] / steps;
    total += (fwd[i] + bwd[i]) / steps, count[p->nodes[i].kind]++;
  }
  printf("where a step's time goes (per op kind, ms):\n  %-10s %6s %10s %10s %7s\n", "op", "nodes", "forward", "backward", "share");
  for (int k = 0; k < OP__COUNT; k++)
    if (by[0][k] + by[1][k] > 0)
      printf("  %-10s %6d %10.1f %10.1f %6.1f%%\n", op_name((OpKind)k), count[k], by[0][k] * 1e3, by[1][k] * 1e3,
             100 * (by[0][k] + by[1][k]) / total);
}

int mode_bench_train(const Plan *p, const CliArgs *a) {
  char err[1024];
  Shape in = bench_input(p, a);
  in.n = a->batch ? a->batch : 2;
  if (a->threads >= 0) cpu_set_threads(a->threads);
  TensorSet *w = a->weights ? weights_load(a->weights, err, sizeof err) : NULL;
  if (a->weights && !w) return fprintf(stderr, "sqnrun: %s\n", err), 1;
  Trainer *t = trainer_new(p, w, 1, a->backend, err, sizeof err);
  tensor_set_free(w);
  if (!t) return fprintf(stderr, "sqnrun: %s\n", err), 1;
  size_t nx = shape_numel(in), nl = (size_t)in.n * in.h * in.w;
  float *x = malloc(nx * sizeof *x);
  unsigned char *lab = malloc(nl);
  double *times = malloc(sizeof *times * (size_t)a->iters);
  random_batch(x, nx, lab, nl, p->classes);
  bool ok = !p->is_space || set_random_mix(t, p, in.n, err, sizeof err);
  for (int i = 0; ok && i < a->warmup + a->iters; i++) {
    TrainStats st;
    double t0 = now_s();
    ok = trainer_step(t, x, in, lab, &st, err, sizeof err);
    if (ok) trainer_sgd(t, 1e-4, 0.9, 1e-5);
    if (i >= a->warmup) times[i - a->warmup] = now_s() - t0;
  }
  if (ok) report(p, in, times, a->iters, trainer_bytes(t), a->json);
  if (ok && a->profile_ops && !a->json) {
    double *fwd = calloc((size_t)p->nnodes, sizeof *fwd), *bwd = calloc((size_t)p->nnodes, sizeof *bwd);
    trainer_profile(t, fwd, bwd);
    for (int i = 0; ok && i < a->iters; i++) {
      TrainStats st;
      ok = trainer_step(t, x, in, lab, &st, err, sizeof err);
    }
    trainer_profile(t, NULL, NULL);
    if (ok) print_profile(p, fwd, bwd, a->iters);
    free(fwd), free(bwd);
  }
  if (!ok) fprintf(stderr, "sqnrun: %s\n", err);
  free(x), free(lab), free(times);
  trainer_free(t);
  return ok ? 0 : 1;
}
