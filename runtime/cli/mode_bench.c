/* mode_bench.c - batch-1 latency as trtexec reports it: warm-up runs, then timed runs; min, median,
   mean, p90, p99, throughput, achieved GMAC/s, and peak memory (activations and process RSS). */
#include "mode_bench.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include "cpu_ops.h"
#include "executor.h"
#include "weights_file.h"
#include "bench_profile.h"
#include "shapes.h"
#include "weights_init.h"
#include "clock.h"

typedef struct BenchStats {
  double min, median, mean, p90, p99; /* seconds */
  int n;
} BenchStats;

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double percentile(const double *sorted, int n, double q) { /* nearest rank */
  int k = (int)(q * n + 0.999999) - 1;
  return sorted[k < 0 ? 0 : k >= n ? n - 1 : k];
}

static BenchStats summarize(double *t, int n) {
  qsort(t, (size_t)n, sizeof *t, cmp_double);
  BenchStats s = {.min = t[0], .n = n};
  for (int i = 0; i < n; i++) s.mean += t[i] / n;
  s.median = n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
  s.p90 = percentile(t, n, 0.90);
  s.p99 = percentile(t, n, 0.99);
  return s;
}

Shape bench_input(const Plan *p, const CliArgs *a) {
  Shape s = a->input_shape.c ? a->input_shape : p->input;
  return (Shape){1, s.c, s.h, s.w};
}

static void print_stats(const Plan *p, Shape in, double gmacs, const BenchStats *s, double peak_act, double rss,
                        const char *output, bool json) {
  if (json) {
    printf("{\"network\": \"%s\", \"output\": \"%s\", \"input\": [1, %d, %d, %d], \"iters\": %d, \"min_ms\": %.4f, \"median_ms\": %.4f, "
           "\"mean_ms\": %.4f, \"p90_ms\": %.4f, \"p99_ms\": %.4f, \"throughput_ips\": %.4f, \"gmacs\": %.6f, "
           "\"gmac_per_s\": %.3f, \"peak_activation_mib\": %.2f, \"peak_rss_mib\": %.2f}\n",
           p->name, output, in.c, in.h, in.w, s->n, s->min * 1e3, s->median * 1e3, s->mean * 1e3,
           s->p90 * 1e3, s->p99 * 1e3, 1 / s->median, gmacs, gmacs / s->median, peak_act, rss);
    return;
  }
  printf("network     %s, batch 1, input %dx%dx%d, %.3f GMACs; output %s\n", p->name, in.c, in.h, in.w, gmacs, output);
  printf("latency     min %.2f ms, median %.2f ms, mean %.2f ms, p90 %.2f ms, p99 %.2f ms (%d runs)\n", s->min * 1e3,
         s->median * 1e3, s->mean * 1e3, s->p90 * 1e3, s->p99 * 1e3, s->n);
  printf("throughput  %.2f images/s, %.1f GMAC/s\n", 1 / s->median, gmacs / s->median);
  printf("memory      peak activations %.1f MiB, peak process RSS %.1f MiB\n", peak_act, rss);
}

/* One run: the logits, or with --classes the class ids (executor_run_classes; *fused says how). */
static bool one_run(Executor *x, const float *in, Shape is, const CliArgs *a, bool *fused, char *err, size_t n) {
  Shape s;
  if (!a->classes) return executor_run(x, in, is, err, n);
  return executor_run_classes(x, in, is, &s, fused, err, n) != NULL;
}

static bool timed_runs(Executor *x, const float *in, Shape is, const CliArgs *a, double *t, bool *fused, char *err,
                       size_t n) {
  for (int i = 0; i < a->warmup; i++)
    if (!one_run(x, in, is, a, fused, err, n)) return false;
  for (int i = 0; i < a->iters; i++) {
    double t0 = now_s();
    if (!one_run(x, in, is, a, fused, err, n)) return false;
    t[i] = now_s() - t0;
  }
  return true;
}

/* Extra timed runs with per-node timing (kept apart so the latency figures carry no timer overhead). */
static int profile(Executor *x, const Plan *p, const Shape *sh, const float *in, Shape is, const CliArgs *a,
                   char *err, size_t n) {
  double *times = calloc((size_t)p->nnodes, sizeof *times);
  executor_profile(x, times);
  bool ok = true;
  for (int i = 0; ok && i < a->iters; i++) ok = executor_run(x, in, is, err, n);
  executor_profile(x, NULL);
  if (ok) bench_print_profile(p, sh, executor_groups(x), times, a->iters, 15);
  else fprintf(stderr, "sqnrun: %s\n", err);
  free(times);
  return ok ? 0 : 1;
}

static int run(const Plan *p, const CliArgs *a, TensorSet *w, Shape is) {
  char err[1024];
  Shape *sh = malloc(sizeof *sh * (size_t)p->nnodes);
  bool fits = plan_shapes(p, (Shape){0, is.c, is.h, is.w}, sh, err, sizeof err);
  double gmacs = fits ? (double)plan_macs(p, sh) / 1e9 : 0;
  if (!fits) return free(sh), fprintf(stderr, "sqnrun: %s\n", err), 1;
  Executor *x = executor_new(p, w, a->backend, err, sizeof err);
  if (!x) return free(sh), fprintf(stderr, "sqnrun: %s\n", err), 1;
  executor_set_fuse(x, !a->no_fuse);
  size_t numel = shape_numel(is);
  float *in = NULL;
  if ((a->classes || executor_reserve(x, is, err, sizeof err)) && !(in = malloc(numel * sizeof *in))) /* --classes: the
                                                                         run lays out its smaller arena itself */
    snprintf(err, sizeof err, "out of memory for a %dx%dx%d input", is.c, is.h, is.w);
  if (!in) return free(sh), executor_free(x), fprintf(stderr, "sqnrun: %s\n", err), 1;
  uint64_t s = 42;
  for (size_t i = 0; i < numel; i++) s = s * 6364136223846793005ULL + 1442695040888963407ULL, in[i] = (float)((s >> 40) / 16777216.0 * 4 - 2);
  double *t = malloc(sizeof *t * (size_t)a->iters);
  int rc = 0;
  bool fused = false;
  if (!timed_runs(x, in, is, a, t, &fused, err, sizeof err)) rc = 1, fprintf(stderr, "sqnrun: %s\n", err);
  else {
    BenchStats st = summarize(t, a->iters);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    const char *output = !a->classes ? "logits" : fused ? "classes (upsampling fused with the argmax)" : "classes";
    print_stats(p, is, gmacs, &st, executor_peak_bytes(x) / 1048576.0, ru.ru_maxrss / 1024.0, output, a->json);
    if (a->profile_ops && !a->json) rc = profile(x, p, sh, in, is, a, err, sizeof err);
  }
  free(sh);
  free(t);
  free(in);
  executor_free(x);
  return rc;
}

int mode_bench(const Plan *p, const CliArgs *a) {
  Shape is = bench_input(p, a);
  if (a->threads >= 0) cpu_set_threads(a->threads);
  char err[1024];
  TensorSet *w = a->weights ? weights_load(a->weights, err, sizeof err) : weights_init(p, 1);
  if (!w) return fprintf(stderr, "sqnrun: %s\n", a->weights ? err : "out of memory"), 1;
  int rc = run(p, a, w, is);
  tensor_set_free(w);
  return rc;
}
