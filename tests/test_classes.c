/* test_classes.c NET.plan... - class-id runs (executor_run_classes): on each fixed network, with seeded random weights
   and input at the plan's size, the fused final upsampling + argmax gives exactly the class ids of the full run's
   logits (cpu_argmax_channels), and lays out no more activation memory (less where the full-resolution logits had a
   buffer slot of their own: they are never stored). */
#include <stdlib.h>
#include "cpu_grad.h"
#include "executor.h"
#include "plan.h"
#include "shapes.h"
#include "test_util.h"
#include "weights_init.h"

static void check_plan(const char *path) {
  char err[1024];
  Plan *p = plan_read_file(path, err, sizeof err);
  TensorSet *w = p ? weights_init(p, 7) : NULL;
  Executor *x = w ? executor_new(p, w, NULL, err, sizeof err) : NULL;
  CHECK(x != NULL);
  if (!x) {
    fprintf(stderr, "%s: %s\n", path, err);
    tensor_set_free(w), plan_free(p);
    return;
  }
  Shape in = {1, p->input.c, p->input.h, p->input.w}, ls, cs;
  float *input = malloc(shape_numel(in) * sizeof *input);
  uint64_t s = 99;
  for (size_t i = 0; i < shape_numel(in); i++) s = s * 6364136223846793005ULL + 1442695040888963407ULL, input[i] = (float)((s >> 40) / 16777216.0 * 4 - 2);
  CHECK(executor_run(x, input, in, err, sizeof err));
  const float *logits = executor_output(x, &ls);
  size_t px = (size_t)ls.n * ls.h * ls.w, differ = 0;
  unsigned char *want = malloc(px);
  cpu_argmax_channels(logits, ls, want);
  size_t full = executor_peak_bytes(x);
  executor_free(x);
  x = executor_new(p, w, NULL, err, sizeof err); /* a fresh one: its arena is only what the class-id run lays out */
  bool fused = false;
  const unsigned char *got = x ? executor_run_classes(x, input, in, &cs, &fused, err, sizeof err) : NULL;
  CHECK(got != NULL && fused && cs.n == ls.n && cs.c == 1 && cs.h == ls.h && cs.w == ls.w);
  for (size_t i = 0; got && i < px; i++) differ += got[i] != want[i];
  size_t lean = x ? executor_peak_bytes(x) : 0;
  printf("%s: %zu of %zu class ids differ; activations %.1f MiB -> %.1f MiB\n", p->name, differ, px, full / 1048576.0,
         lean / 1048576.0);
  CHECK(differ == 0);
  CHECK(lean <= full); /* less where the logits had a slot of their own (the small nets), never more */
  executor_free(x), free(want), free(input), tensor_set_free(w), plan_free(p);
}

int main(int argc, char **argv) {
  if (argc < 2) return fprintf(stderr, "usage: test_classes NET.plan...\n"), 2;
  for (int i = 1; i < argc; i++) check_plan(argv[i]);
  return test_summary();
}
