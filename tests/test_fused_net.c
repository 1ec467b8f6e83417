/* test_fused_net.c NET.plan... - the CPU backend's fused inverted residuals (cpu_fused_ir, Backend.run_group) on
   whole networks: with seeded random weights and input at the plan's size, the fused run's logits are those of the
   op-by-op run (executor_set_fuse(false)) within 1e-4 abs and 1e-5 of max |logit| (sgemm rounding only), 99.99% of
   the class ids agree, every inverted residual runs fused (also where sqnc put a block's output in its input's slot:
   the executor gives it a buffer of its own), and no more activation memory is laid out. A search space
   is run with a seeded random choice per superblock (executor_new_arch, what --profile measures). */
#include <math.h>
#include <stdlib.h>
#include "cpu_grad.h"
#include "executor.h"
#include "plan.h"
#include "shapes.h"
#include "test_util.h"
#include "weights_init.h"

static uint64_t seed = 12345;
static uint32_t next_u32(void) { return (uint32_t)((seed = seed * 6364136223846793005ULL + 1442695040888963407ULL) >> 33); }

static Executor *make(const Plan *p, const TensorSet *w, const int *choice, bool fuse, char *err, size_t n) {
  Executor *x = p->is_space ? executor_new_arch(p, w, NULL, choice, err, n) : executor_new(p, w, NULL, err, n);
  if (x) executor_set_fuse(x, fuse);
  return x;
}

/* Runs the plan both ways and compares. */
static void check_plan(const char *path) {
  char err[1024];
  Plan *p = plan_read_file(path, err, sizeof err);
  TensorSet *w = p ? weights_init(p, 11) : NULL;
  int choice[64] = {0};
  for (int s = 0; p && s < p->nsb && s < 64; s++) choice[s] = (int)(next_u32() % (uint32_t)p->sb[s].ncand);
  Executor *a = w ? make(p, w, choice, false, err, sizeof err) : NULL, *b = a ? make(p, w, choice, true, err, sizeof err) : NULL;
  CHECK(a && b);
  if (!a || !b) {
    fprintf(stderr, "%s: %s\n", path, err);
    executor_free(a), tensor_set_free(w), plan_free(p);
    return;
  }
  Shape in = {1, p->input.c, p->input.h, p->input.w}, sa, sb;
  float *input = malloc(shape_numel(in) * sizeof *input);
  for (size_t i = 0; i < shape_numel(in); i++) input[i] = (float)(next_u32() / 4294967296.0 * 4 - 2);
  CHECK(executor_run(a, input, in, err, sizeof err) && executor_run(b, input, in, err, sizeof err));
  const float *ya = executor_output(a, &sa), *yb = executor_output(b, &sb);
  int kernels = 0, groups = executor_fused_groups(b);
  for (int k = 0; k < p->nkernels; k++) { /* in a space: the chosen candidates' */
    const PlanKernel *pk = &p->kernels[k];
    kernels += pk->kind == PLAN_KERNEL_INVERTED_RESIDUAL &&
               (!p->is_space || pk->superblock < 0 || pk->candidate < 0 || pk->candidate == choice[pk->superblock]);
  }
  size_t px = (size_t)sa.n * sa.h * sa.w, differ = 0;
  unsigned char *ca = malloc(px), *cb = malloc(px);
  cpu_argmax_channels(ya, sa, ca), cpu_argmax_channels(yb, sb, cb);
  double big = 0, worst = 0;
  for (size_t i = 0; i < shape_numel(sa); i++) big = fmax(big, fabs(ya[i]));
  for (size_t i = 0; i < shape_numel(sa); i++) worst = fmax(worst, isnan(yb[i]) ? INFINITY : fabs((double)ya[i] - yb[i]));
  for (size_t i = 0; i < px; i++) differ += ca[i] != cb[i];
  printf("%s: %d of %d inverted residuals fused; max |diff| %.3g (max |logit| %.3g); %zu of %zu ids differ; "
         "activations %.1f -> %.1f MiB\n", p->name, groups, kernels, worst, big, differ, px,
         executor_peak_bytes(a) / 1048576.0, executor_peak_bytes(b) / 1048576.0);
  CHECK(groups > 0 && groups == kernels);
  CHECK(worst <= 1e-4 && worst <= 1e-5 * big);
  CHECK(differ * 10000 <= px);
  CHECK(executor_peak_bytes(b) <= executor_peak_bytes(a));
  executor_free(a), executor_free(b), free(ca), free(cb), free(input), tensor_set_free(w), plan_free(p);
}

int main(int argc, char **argv) {
  if (argc < 2) return fprintf(stderr, "usage: test_fused_net PLAN...\n"), 2;
  for (int i = 1; i < argc; i++) check_plan(argv[i]);
  return test_summary();
}
