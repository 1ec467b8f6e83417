/* test_gpu_train.c - one training step on the CUDA backend against the CPU backend (test_gpu train_network |
   train_space): the same weights, batch, labels (some ignored) and, for a space, mixing weights; compared are
   the loss, every parameter gradient, the mixing weights' gradient, and after an SGD step every weight and
   BN running statistic; for the network also with frozen BN (--freeze-bn). Tolerance 1e-3 relative to each tensor's largest magnitude: both backends compute in
   float32 (cuDNN with FMA math, no TF32) but sum in other orders (conv algorithms, cuDNN's BN and reduction
   kernels against the CPU's double accumulations, atomic adds in the resize backward), which moves results by
   ~1e-6 relative per op and grows through the backward pass; a wrong index or formula is off by O(1). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "test_gpu.h"
#include "trainer.h"
#include "weights_init.h"

#define TOL 1e-3

/* gpu_compare's tolerance is relative to max(1, max |ref|): scaled here to the tensor's own magnitude, but
   not below `floor` (gradients that are rounding noise, e.g. of conv biases that a BN cancels). */
static void compare_rel(const char *what, const float *got, const float *ref, size_t n, double floor) {
  double mx = floor > 1e-12 ? floor : 1e-12;
  for (size_t i = 0; i < n; i++) mx = fabs(ref[i]) > mx ? fabs(ref[i]) : mx;
  gpu_compare(what, got, ref, n, mx < 1 ? TOL * mx : TOL);
}

/* 1e-2 of the largest gradient of the CPU's step: the gradients of BN weights whose terms nearly cancel
   (1e-5 of the largest and less) move by 0.5% when d loss / d logits moves by 1e-6 relative (measured on
   the CPU with small_quick at 128x256), so they are held to 1e-5 of the largest gradient instead. */
static double grad_floor(const Plan *p, const Trainer *cpu) {
  double mx = 0;
  for (int i = 0; i < p->nparams; i++) {
    const float *g = trainer_param_grad(cpu, i);
    for (int64_t k = 0; g && k < p->params[i].numel; k++) mx = fabs(g[k]) > mx ? fabs(g[k]) : mx;
  }
  return 1e-2 * mx;
}

typedef struct Batch {
  Shape in;
  float *x;
  unsigned char *labels;
  float *mix; /* supernets: softmax mixing weights [sb][maxc][batch] */
} Batch;

static int max_cand(const Plan *p) {
  int m = 1;
  for (int s = 0; s < p->nsb; s++) m = p->sb[s].ncand > m ? p->sb[s].ncand : m;
  return m;
}

static Batch make_batch(const Plan *p, Shape in) {
  Batch b = {in, malloc(shape_numel(in) * sizeof(float)), malloc((size_t)in.n * in.h * in.w), NULL};
  size_t px = (size_t)in.n * in.h * in.w;
  float *u = malloc(px * sizeof *u);
  rnd_fill(b.x, shape_numel(in), -2, 2);
  rnd_fill(u, px, 0, 1);
  for (size_t i = 0; i < px; i++) b.labels[i] = u[i] < 0.1f ? 255 : (unsigned char)(u[i] * 997) % p->classes;
  free(u);
  if (p->nsb > 0 && in.n > 0) {
    size_t M = (size_t)max_cand(p), count = (size_t)p->nsb * M * (size_t)in.n;
    b.mix = calloc(count < 1u << 30 ? count : 1, sizeof *b.mix);
    for (int s = 0; s < p->nsb; s++)
      for (int j = 0; j < in.n; j++) {
        float w[SQN_PLAN_MAX_INPUTS], sum = 0;
        rnd_fill(w, (size_t)p->sb[s].ncand, 0.1f, 1.0f);
        for (int k = 0; k < p->sb[s].ncand; k++) sum += w[k];
        for (int k = 0; k < p->sb[s].ncand; k++) b.mix[((size_t)s * M + k) * in.n + j] = w[k] / sum;
      }
  }
  return b;
}

/* One step (and an SGD update) on backend `name`; NULL with a failed check when it fails. */
static Trainer *step(const Plan *p, const TensorSet *w, const Batch *b, const char *name, bool frozen, TrainStats *st) {
  char err[1024];
  Trainer *t = trainer_new(p, w, 1, name, err, sizeof err);
  if (t) trainer_freeze_bn(t, frozen);
  bool ok = t && (!b->mix || trainer_set_mix(t, b->mix, b->in.n, err, sizeof err)) &&
            trainer_step(t, b->x, b->in, b->labels, st, err, sizeof err);
  if (!ok) fprintf(stderr, "training step on %s: %s\n", name, err);
  gpu_check(ok, "training step");
  if (!ok) return trainer_free(t), NULL;
  return t;
}

static void compare_steps(const Plan *p, Trainer *cpu, Trainer *gpu, const TrainStats *sc, const TrainStats *sg) {
  char what[600];
  printf("loss: cpu %.7f, cuda %.7f; valid pixels %ld, %ld\n", sc->loss, sg->loss, sc->valid_pixels, sg->valid_pixels);
  gpu_check(sc->valid_pixels == sg->valid_pixels, "valid pixels");
  gpu_check(fabs(sc->loss - sg->loss) <= TOL * fabs(sc->loss), "loss");
  double floor = grad_floor(p, cpu);
  for (int i = 0; i < p->nparams; i++) {
    const float *gc = trainer_param_grad(cpu, i), *gg = trainer_param_grad(gpu, i);
    if (!gc || !gg) continue;
    snprintf(what, sizeof what, "grad %s", p->params[i].name);
    compare_rel(what, gg, gc, (size_t)p->params[i].numel, floor);
  }
  if (p->nsb) {
    snprintf(what, sizeof what, "grad mixing weights");
    compare_rel(what, trainer_mix_grad(gpu), trainer_mix_grad(cpu), (size_t)p->nsb * max_cand(p) * 2, 0);
  }
}

/* After SGD: every weight, BN running statistics included (the forward updated them). */
static void compare_weights(const Plan *p, Trainer *cpu, Trainer *gpu) {
  TensorSet *wc = trainer_weights(cpu), *wg = trainer_weights(gpu);
  char what[600];
  for (int i = 0; i < p->nparams; i++) {
    snprintf(what, sizeof what, "after SGD %s", p->params[i].name);
    compare_rel(what, wg->t[i].data, wc->t[i].data, (size_t)p->params[i].numel, 1e-3);
  }
}

/* A step and an SGD update on both backends, compared; frozen: BN with its running statistics. */
static void compare_pair(const Plan *p, const TensorSet *w, const Batch *b, bool frozen) {
  TrainStats sc, sg;
  printf("%s BN:\n", frozen ? "frozen" : "training-mode");
  Trainer *cpu = step(p, w, b, "cpu", frozen, &sc), *gpu = cpu ? step(p, w, b, "cuda", frozen, &sg) : NULL;
  if (cpu && gpu) {
    compare_steps(p, cpu, gpu, &sc, &sg);
    if (p->nsb) trainer_sgd_weights(cpu, 0.05, 0.9, 1e-4), trainer_sgd_weights(gpu, 0.05, 0.9, 1e-4);
    else trainer_sgd(cpu, 0.05, 0.9, 1e-4), trainer_sgd(gpu, 0.05, 0.9, 1e-4);
    compare_weights(p, cpu, gpu);
  }
  trainer_free(cpu), trainer_free(gpu);
}

void gpu_train_tests(const Plan *p) {
  TensorSet *w = weights_init(p, 7);
  Batch b = make_batch(p, (Shape){2, 3, 128, 256}); /* the compiled size; smaller ones condition BN worse */
  compare_pair(p, w, &b, false);
  if (!p->nsb) compare_pair(p, w, &b, true);
  free(b.x), free(b.labels), free(b.mix);
  tensor_set_free(w);
}
