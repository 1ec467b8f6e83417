/* test_dist_threads.c BACKEND PLAN - the trainer's data-parallel step (trainer_set_data_parallel) with 2, 3 and 4 ranks
   (4: shards of 1 and 2 samples; 2 and 3 again with gradients summed in small buckets during the backward pass) run as threads (dist_threads.c) against one trainer on the whole batch of 6: the loss and valid pixels, every
   parameter gradient, and every BN running statistic after the forward (SyncBN). The labels ignore more pixels in
   the first samples, so the ranks' valid pixels differ and the loss scaling matters; every rank must end with the
   same gradients, bit for bit. On "cpu" (CI) this checks the trainer's side; on "cuda" (ctest -L gpu) the CUDA
   backend's: SyncBN on cuDNN, the loss scaling on the device and the gradient sums through the host (the threads
   share one GPU, which NCCL refuses, so SQN_DIST_GPU=host), and exits 77 without a GPU. Tolerance: each tensor
   within TOL of its largest magnitude (a floor of 1e-2 of the largest gradient, as test_gpu_train.c): the ranks sum
   in another order than one process, ~1e-7 relative per op, growing through the backward pass. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dist.h"
#include "dist_threads.h"
#include "test_util.h"
#include "trainer.h"
#include "weights_init.h"

enum { N = 6 };

typedef struct Result {
  double loss;
  long valid;
  float **grad;   /* per parameter (NULL: not trainable) */
  TensorSet *w;   /* weights after the forward: BN running statistics */
  bool ok;
  char err[1024];
} Result;

typedef struct Ctx {
  const Plan *p;
  const TensorSet *w;
  const char *backend;
  Shape in;
  const float *x;
  const unsigned char *lab;
  Result res[DIST_THREADS_MAX];
} Ctx;

static TensorSet *clone(const TensorSet *w) {
  TensorSet *c = tensor_set_new();
  for (int i = 0; c && i < w->n; i++)
    if (!tensor_set_add(c, w->t[i].name, w->t[i].dtype, w->t[i].ndim, w->t[i].dims, w->t[i].data)) abort();
  return c;
}

static double tol_of(const char *backend) { return strcmp(backend, "cpu") ? 1e-3 : 1e-4; }

/* One step of samples [b0, b1) on a trainer of its own (data-parallel when ranks > 1); its results kept. */
static Result run_step(const Ctx *c, int b0, int b1, bool parallel) {
  Result r = {0};
  char err[1024];
  Trainer *t = trainer_new(c->p, c->w, 1, c->backend, err, sizeof err);
  const Shape s = {b1 - b0, c->in.c, c->in.h, c->in.w};
  const size_t img = (size_t)c->in.c * c->in.h * c->in.w, px = (size_t)c->in.h * c->in.w;
  TrainStats st;
  r.ok = t && (!parallel || trainer_set_data_parallel(t, true, err, sizeof err)) &&
         trainer_step(t, c->x + (size_t)b0 * img, s, c->lab + (size_t)b0 * px, &st, err, sizeof err);
  if (!r.ok) {
    snprintf(r.err, sizeof r.err, "%s", err);
    fprintf(stderr, "%s step of samples [%d, %d): %s\n", c->backend, b0, b1, err);
    trainer_free(t);
    return r;
  }
  r.loss = st.loss, r.valid = st.valid_pixels;
  r.grad = calloc((size_t)c->p->nparams, sizeof *r.grad);
  for (int i = 0; i < c->p->nparams; i++) {
    const float *g = trainer_param_grad(t, i);
    if (g && (r.grad[i] = malloc((size_t)c->p->params[i].numel * sizeof(float))))
      memcpy(r.grad[i], g, (size_t)c->p->params[i].numel * sizeof(float));
  }
  r.w = clone(trainer_weights(t));
  trainer_free(t);
  return r;
}

static void free_result(const Plan *p, Result *r) {
  for (int i = 0; r->grad && i < p->nparams; i++) free(r->grad[i]);
  free(r->grad);
  tensor_set_free(r->w);
}

static void rank_main(int rank, void *arg) {
  Ctx *c = arg;
  const int R = dist_size(); /* the loader's shards: positions [N*r/R, N*(r+1)/R), uneven for R = 4 */
  c->res[rank] = run_step(c, N * rank / R, N * (rank + 1) / R, true);
}

static double max_abs(const float *v, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) m = fabs(v[i]) > m ? fabs(v[i]) : m;
  return m;
}

/* got against ref within tol of max(|ref|, floor); the worst relative difference so far in *worst. */
static void compare(const char *what, const float *got, const float *ref, size_t n, double floor, double tol,
                    double *worst) {
  const double scale = fmax(max_abs(ref, n), floor);
  double d = 0;
  for (size_t i = 0; i < n; i++) d = fmax(d, fabs((double)got[i] - ref[i]));
  if (scale > 0) *worst = fmax(*worst, d / scale);
  if (!(d <= tol * scale)) fprintf(stderr, "  %s: max |difference| %.3g, allowed %.3g\n", what, d, tol * scale);
  CHECK(d <= tol * scale);
}

static void compare_ranks(const Ctx *c, const Result *ref, int R) {
  const Plan *p = c->p;
  const double tol = tol_of(c->backend);
  double gmax = 0, worst = 0;
  for (int i = 0; i < p->nparams; i++)
    if (ref->grad[i]) gmax = fmax(gmax, max_abs(ref->grad[i], (size_t)p->params[i].numel));
  const Result *r0 = &c->res[0];
  printf("%s, %d ranks: loss %.7f (one process %.7f), valid pixels %ld (%ld)\n", c->backend, R, r0->loss, ref->loss,
         r0->valid, ref->valid);
  CHECK(r0->valid == ref->valid);
  CHECK(fabs(r0->loss - ref->loss) <= tol * fabs(ref->loss));
  char what[600];
  for (int i = 0; i < p->nparams; i++) {
    const size_t n = (size_t)p->params[i].numel;
    for (int k = 1; k < R; k++) { /* every rank holds the same sums */
      CHECK(c->res[k].loss == r0->loss);
      CHECK(!ref->grad[i] || !memcmp(c->res[k].grad[i], r0->grad[i], n * sizeof(float)));
      CHECK(!memcmp(c->res[k].w->t[i].data, r0->w->t[i].data, n * sizeof(float)));
    }
    if (ref->grad[i]) {
      snprintf(what, sizeof what, "grad %s", p->params[i].name);
      compare(what, r0->grad[i], ref->grad[i], n, 1e-2 * gmax, tol, &worst);
    }
    snprintf(what, sizeof what, "after the forward %s", p->params[i].name); /* running statistics */
    compare(what, r0->w->t[i].data, ref->w->t[i].data, n, 1e-3, tol, &worst);
  }
  printf("  worst difference %.3g of each tensor's scale (allowed %.0e)\n", worst, tol);
}

/* A bucket size that is not one is refused with a message naming the variable. */
static void bad_bucket(const Ctx *c) {
  char err[1024] = "";
  setenv("SQN_DIST_BUCKET_MB", "4x", 1);
  Trainer *t = trainer_new(c->p, c->w, 1, c->backend, err, sizeof err);
  CHECK(t && !trainer_set_data_parallel(t, true, err, sizeof err) && strstr(err, "SQN_DIST_BUCKET_MB=4x is not a size"));
  trainer_free(t);
  unsetenv("SQN_DIST_BUCKET_MB");
}

int main(int argc, char **argv) {
  if (argc != 3) return fprintf(stderr, "usage: test_dist_threads BACKEND PLAN\n"), 2;
  char err[1024];
  Plan *p = plan_read_file(argv[2], err, sizeof err);
  if (!p) return fprintf(stderr, "%s\n", err), 1;
  setenv("SQN_DIST_GPU", "host", 1); /* threads share one GPU: NCCL would refuse them */
  Ctx c = {.p = p, .w = weights_init(p, 7), .backend = argv[1], .in = {N, p->input.c, p->input.h, p->input.w}};
  const size_t img = (size_t)c.in.c * c.in.h * c.in.w, px = (size_t)c.in.h * c.in.w;
  float *x = malloc(N * img * sizeof *x);
  unsigned char *lab = malloc(N * px);
  uint64_t s = 99;
  for (size_t i = 0; i < N * img; i++) s = s * 6364136223846793005ULL + 1442695040888963407ULL, x[i] = (float)((s >> 40) / 4194304.0 - 2.0);
  for (int b = 0; b < N; b++)
    for (size_t i = 0; i < px; i++) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      const double u = (s >> 11) * 0x1.0p-53;
      lab[b * px + i] = u < 0.05 + 0.1 * b ? 255 : (unsigned char)((s >> 20) % (uint64_t)p->classes);
    }
  c.x = x, c.lab = lab;
  Result ref = run_step(&c, 0, N, false);
  if (!ref.ok && strcmp(argv[1], "cpu") && strstr(ref.err, "no NVIDIA GPU")) {
    printf("SKIP: %s\n", ref.err);
    return 77;
  }
  CHECK(ref.ok);
  /* 2, 3 and 4 ranks with the default bucket (4 MiB: more than this net's gradients, so summed after the backward
     pass), then 2 and 3 with 10 KiB buckets, summed while the backward pass runs: a stretch sent before its last
     gradient is in would differ from one process (this seam's sums finish at once) */
  static const struct { int ranks; const char *bucket; } runs[] = {{2, NULL}, {3, NULL}, {4, NULL}, {2, "0.01"}, {3, "0.01"}};
  for (size_t k = 0; ref.ok && k < sizeof runs / sizeof runs[0]; k++) {
    const int R = runs[k].ranks;
    if (runs[k].bucket) setenv("SQN_DIST_BUCKET_MB", runs[k].bucket, 1);
    printf("%d ranks, bucket %s MiB\n", R, runs[k].bucket ? runs[k].bucket : "4");
    dist_threads_run(R, rank_main, &c);
    bool all = true;
    for (int r = 0; r < R; r++) all = all && c.res[r].ok;
    CHECK(all);
    if (all) compare_ranks(&c, &ref, R);
    for (int r = 0; r < R; r++) free_result(p, &c.res[r]), c.res[r] = (Result){0};
  }
  unsetenv("SQN_DIST_BUCKET_MB");
  bad_bucket(&c);
  free_result(p, &ref);
  tensor_set_free((TensorSet *)c.w);
  free(x), free(lab);
  plan_free(p);
  return test_summary();
}
