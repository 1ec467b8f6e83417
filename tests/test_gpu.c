/* test_gpu.c - the CUDA backend against the CPU backend (label gpu). Without a usable GPU it prints
   "SKIP: ..." and exits 77. With one it compiles plans with sqnc --target sm_XY for the GPU, runs them
   through the executor on "cpu" and "cuda" with the same random input and weights (BN statistics
   randomized so folding matters) and compares the outputs (relative tolerance 1e-3; cuDNN runs with
   CUDNN_FMA_MATH, no TF32: SQN_CUDA_TF32 is unset here), and launches every kernel of the module
   (test_gpu_kernels.c).
   train_network and train_space compare a training step (test_gpu_train.c).
   usage: test_gpu network|space|kernels|train_network|train_space SQNC FILE.sqn OUTDIR */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cuda_driver.h"
#include "executor.h"
#include "test_gpu.h"
#include "test_util.h"
#include "weights_init.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

void rnd_fill(float *v, size_t n, float lo, float hi) {
  for (size_t i = 0; i < n; i++) {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    v[i] = lo + (hi - lo) * (float)((rng >> 40) / 16777216.0);
  }
}

void gpu_check(bool ok, const char *what) {
  if (!ok) fprintf(stderr, "FAIL %s\n", what);
  CHECK(ok);
}

bool gpu_compare(const char *what, const float *got, const float *ref, size_t n, double tol) {
  double scale = 1, worst = 0;
  size_t at = 0;
  bool nan_bad = false;
  for (size_t i = 0; i < n; i++) scale = ref[i] == ref[i] && fabs(ref[i]) > scale ? fabs(ref[i]) : scale;
  for (size_t i = 0; i < n; i++) {
    if ((got[i] != got[i]) != (ref[i] != ref[i])) nan_bad = true, at = i;
    double d = fabs((double)got[i] - ref[i]);
    if (d > worst) worst = d, at = i;
  }
  bool ok = !nan_bad && worst <= tol * scale;
  printf("%s %s: %zu values, max |diff| %.3g (scale %.3g) at %zu: %g vs %g\n", ok ? "ok  " : "FAIL", what, n, worst,
         scale, at, n ? got[at] : 0.0f, n ? ref[at] : 0.0f);
  CHECK(ok);
  return ok;
}

/* sqnc FILE --input 3xHxW [--target sm_XY] -o OUT; false (and a failed check) when it fails. */
static bool compile(const char *sqnc, const char *src, const char *input, int cc, const char *out) {
  char cmd[4096], target[32] = "";
  if (cc) snprintf(target, sizeof target, " --target sm_%d", cc);
  snprintf(cmd, sizeof cmd, "'%s' '%s' --input %s%s -q -o '%s'", sqnc, src, input, target, out);
  int rc = system(cmd);
  if (rc != 0) fprintf(stderr, "failed (%d): %s\n", rc, cmd);
  CHECK(rc == 0);
  return rc == 0;
}

/* The reference initialization with BN statistics and affine parameters made non-trivial. */
static TensorSet *random_weights(const Plan *p) {
  TensorSet *w = weights_init(p, 7);
  for (int i = 0; w && i < p->nparams; i++) {
    const PlanParam *pp = &p->params[i];
    NamedTensor *t = tensor_set_find(w, pp->name);
    if (!t) continue;
    if (pp->role == PLAN_PARAM_BN_WEIGHT || pp->role == PLAN_PARAM_BN_VAR) rnd_fill(t->data, (size_t)pp->numel, 0.5f, 1.5f);
    if (pp->role == PLAN_PARAM_BN_BIAS || pp->role == PLAN_PARAM_BN_MEAN) rnd_fill(t->data, (size_t)pp->numel, -0.2f, 0.2f);
    if (pp->role == PLAN_PARAM_CONV_BIAS) rnd_fill(t->data, (size_t)pp->numel, -0.1f, 0.1f);
  }
  return w;
}

/* One input through both backends (choice NULL: a fixed network); outputs compared. */
static void compare_run(const Plan *p, const TensorSet *w, const int *choice, Shape in, const char *what) {
  char err[1024];
  Executor *x[2];
  const char *names[2] = {"cpu", "cuda"};
  for (int b = 0; b < 2; b++) {
    x[b] = choice ? executor_new_arch(p, w, names[b], choice, err, sizeof err) : executor_new(p, w, names[b], err, sizeof err);
    if (!x[b]) fprintf(stderr, "%s on %s: %s\n", what, names[b], err);
  }
  CHECK(x[0] && x[1]);
  float *input = malloc(shape_numel(in) * sizeof *input);
  rnd_fill(input, shape_numel(in), -2, 2);
  const float *y[2] = {NULL, NULL};
  Shape ys[2];
  for (int b = 0; b < 2 && x[0] && x[1]; b++) {
    bool ok = executor_run(x[b], input, in, err, sizeof err);
    if (!ok) fprintf(stderr, "%s on %s: %s\n", what, names[b], err);
    CHECK(ok);
    y[b] = ok ? executor_output(x[b], &ys[b]) : NULL;
  }
  if (y[0] && y[1]) {
    CHECK(shape_numel(ys[0]) == shape_numel(ys[1]));
    gpu_compare(what, y[1], y[0], shape_numel(ys[0]), 1e-3);
  }
  free(input);
  executor_free(x[0]), executor_free(x[1]);
}

/* Per-node profiling on the GPU: every node that runs gets a non-negative time, the total is positive. */
static void profile_run(const Plan *p, const TensorSet *w, Shape in) {
  char err[1024];
  Executor *x = executor_new(p, w, "cuda", err, sizeof err);
  double *t = calloc((size_t)p->nnodes, sizeof *t), total = 0;
  float *input = calloc(shape_numel(in), sizeof *input);
  CHECK(x != NULL);
  if (x) executor_profile(x, t);
  bool ok = x && executor_run(x, input, in, err, sizeof err) && executor_run(x, input, in, err, sizeof err);
  if (!ok) fprintf(stderr, "profile: %s\n", x ? err : "no executor");
  CHECK(ok);
  bool nonneg = true;
  for (int i = 0; i < p->nnodes; i++) total += t[i], nonneg = nonneg && t[i] >= 0;
  CHECK(nonneg);
  printf("profile: %d nodes, %.3f ms per run\n", p->nnodes, total / 2 * 1e3);
  CHECK(total > 0);
  free(t), free(input);
  executor_free(x);
}

/* A plan without PTX: the CUDA backend says how to recompile it. */
static void no_kernels(const char *sqnc, const char *src, const char *dir, int cc) {
  char path[1024], err[1024];
  snprintf(path, sizeof path, "%s/no_ptx.plan", dir);
  if (!compile(sqnc, src, "3x64x128", 0, path)) return;
  Plan *p = plan_read_file(path, err, sizeof err);
  TensorSet *w = p ? weights_init(p, 1) : NULL;
  Executor *x = w && !p->is_space ? executor_new(p, w, "cuda", err, sizeof err) : NULL;
  char want[64];
  snprintf(want, sizeof want, "carries no GPU kernels for sm_%d", cc);
  printf("no PTX: %s\n", err);
  CHECK(p && w && !p->is_space && !x && strstr(err, want) && strstr(err, "sqnc --target"));
  executor_free(x), tensor_set_free(w), plan_free(p);
}

static void network_tests(const Plan *p, const char *sqnc, const char *src, const char *dir, int cc) {
  TensorSet *w = random_weights(p);
  compare_run(p, w, NULL, (Shape){2, 3, 128, 256}, "network 2x3x128x256");
  compare_run(p, w, NULL, (Shape){1, 3, 64, 128}, "network 1x3x64x128 (other shapes, other algorithms)");
  profile_run(p, w, (Shape){1, 3, 128, 256});
  tensor_set_free(w);
  no_kernels(sqnc, src, dir, cc);
}

/* Probe architectures as --profile runs them: candidate j mod ncand in every superblock. */
static void space_tests(const Plan *p) {
  TensorSet *w = random_weights(p);
  int maxc = 1, *choice = calloc((size_t)p->nsb + 1, sizeof *choice);
  for (int s = 0; s < p->nsb; s++) maxc = p->sb[s].ncand > maxc ? p->sb[s].ncand : maxc;
  for (int j = 0; j < maxc; j++) {
    char what[64];
    for (int s = 0; s < p->nsb; s++) choice[s] = j % p->sb[s].ncand;
    snprintf(what, sizeof what, "architecture %d of %s", j, p->name);
    compare_run(p, w, choice, (Shape){1, 3, 128, 256}, what);
  }
  free(choice);
  tensor_set_free(w);
}

int main(int argc, char **argv) {
  char why[512], err[1024], path[1024];
  if (argc != 5) return fprintf(stderr, "usage: test_gpu network|space|kernels|train_network|train_space SQNC FILE.sqn OUTDIR\n"), 2;
  if (!cuda_gpu_present(why, sizeof why)) return printf("SKIP: no NVIDIA GPU/driver (%s)\n", why), 77;
  int dev, cc;
  if (!cuda_device_open(&dev, &cc, err, sizeof err)) return fprintf(stderr, "%s\n", err), 1;
  unsetenv("SQN_CUDA_TF32");
  printf("GPU: sm_%d\n", cc);
  snprintf(path, sizeof path, "%s/%s_sm%d.plan", argv[4], argv[1], cc);
  if (!compile(argv[2], argv[3], "3x128x256", cc, path)) return test_summary();
  Plan *p = plan_read_file(path, err, sizeof err);
  if (!p) return fprintf(stderr, "%s: %s\n", path, err), 1;
  if (!strcmp(argv[1], "network")) network_tests(p, argv[2], argv[3], argv[4], cc);
  else if (!strcmp(argv[1], "space")) space_tests(p);
  else if (!strcmp(argv[1], "train_network") || !strcmp(argv[1], "train_space")) gpu_train_tests(p);
  else gpu_kernel_tests(p, cc);
  plan_free(p);
  return test_summary();
}
