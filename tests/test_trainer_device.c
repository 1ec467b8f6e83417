/* test_trainer_device.c - the trainer's path for a device whose memory is not host memory (trainer_device.c:
   separate host copies, padded blocks, staging, uploads and downloads), without a GPU: a "device" backend that
   says its memory is not the host's (BackendDevice.host false, CUDA's 256-byte alignment) while it is the CPU
   backend underneath (its hooks on host memory, train_node, backward_step), without BN + activation fusion (as
   CUDA).
   A step, an update and a second step on it must give what the CPU trainer (host memory as the device, no
   copies) gives: loss, every gradient, the mixing weights' gradient, the weights with BN running statistics,
   the momentum buffers, the logits of trainer_forward. Everything agrees to 1e-5 (the CPU trainer fuses BN and
   ReLU; any rounding difference is amplified by the ill-conditioned batch norms of tiny inputs), in practice
   bit for bit.
   With --against PLAN2 (the same source compiled differently, e.g. sqnc --recompute all vs act), the second
   trainer is the CPU trainer on PLAN2 instead: what the backward pass recomputes must not change a result.
   usage: test_trainer_device PLAN [--against PLAN2] (a network or a space) */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "test_util.h"
#include "trainer_internal.h"
#include "weights_init.h"

/* The CPU backend with its device hooks (host memory underneath), said not to be host memory. */
static BackendDevice fake_device;
static Backend fake_backend;

static void fake_setup(void) {
  fake_device = *backend_cpu.dev;
  fake_device.host = false, fake_device.align = 256; /* as CUDA's */
  fake_backend = backend_cpu;
  fake_backend.name = "hostdev", fake_backend.dev = &fake_device, fake_backend.train_bn_act = false;
}

static uint64_t rng = 12345;
static float rnd(void) {
  rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
  return (float)((rng >> 40) / 16777216.0);
}

static void near(const char *what, const float *a, const float *b, size_t n) {
  double worst = 0, scale = 1e-30;
  for (size_t i = 0; i < n; i++) scale = fabs(b[i]) > scale ? fabs(b[i]) : scale;
  for (size_t i = 0; i < n; i++) worst = fabs((double)a[i] - b[i]) > worst ? fabs((double)a[i] - b[i]) : worst;
  if (worst > 1e-5 * scale) fprintf(stderr, "%s: max |diff| %.3g (scale %.3g)\n", what, worst, scale);
  CHECK(worst <= 1e-5 * scale);
}

typedef struct Run {
  Shape in;
  float *x, *mix;
  unsigned char *lab;
  int maxc;
} Run;

static bool step(Trainer *t, const Run *r, TrainStats *st, char *err) {
  return (!r->mix || trainer_set_mix(t, r->mix, r->in.n, err, 512)) && trainer_step(t, r->x, r->in, r->lab, st, err, 512);
}

static void compare(const Plan *p, Trainer *a, Trainer *b, const Run *r, const char *when) {
  char what[600];
  for (int i = 0; i < p->nparams; i++)
    if (trainer_param_grad(b, i))
      snprintf(what, sizeof what, "%s grad %s", when, p->params[i].name),
          near(what, trainer_param_grad(a, i), trainer_param_grad(b, i), (size_t)p->params[i].numel);
  if (r->mix) near("mix grad", trainer_mix_grad(a), trainer_mix_grad(b), (size_t)p->nsb * r->maxc * r->in.n);
}

static void update(const Plan *p, Trainer *t) {
  if (!p->nsb) return trainer_sgd(t, 0.05, 0.9, 1e-4);
  double *dth = calloc((size_t)p->nsb * 64, sizeof *dth);
  for (int i = 0; i < p->nsb * 64; i++) dth[i] = 0.01 * (i % 7) - 0.03;
  trainer_sgd_weights(t, 0.05, 0.9, 1e-4);
  trainer_adam_arch(t, dth, 0.01, 0);
  free(dth);
}

static void compare_state(const Plan *p, Trainer *a, Trainer *b) {
  TensorSet *wa = trainer_weights(a), *wb = trainer_weights(b), *oa = trainer_optimizer_state(a),
            *ob = trainer_optimizer_state(b);
  for (int i = 0; i < p->nparams; i++) near(wa->t[i].name, wa->t[i].data, wb->t[i].data, (size_t)p->params[i].numel);
  CHECK(oa && ob && oa->n == ob->n && oa->n > 0);
  for (int i = 0; oa && ob && i < oa->n && i < ob->n; i++)
    near(oa->t[i].name, oa->t[i].data, ob->t[i].data, (size_t)tensor_numel(&oa->t[i]));
  tensor_set_free(oa), tensor_set_free(ob);
}

/* The same parameters in the same order (one source compiled twice). */
static bool same_params(const Plan *a, const Plan *b) {
  if (a->nparams != b->nparams || a->nsb != b->nsb) return false;
  for (int i = 0; i < a->nparams; i++)
    if (strcmp(a->params[i].name, b->params[i].name) || a->params[i].numel != b->params[i].numel) return false;
  return true;
}

int main(int argc, char **argv) {
  bool against = argc == 4 && !strcmp(argv[2], "--against");
  if (argc != 2 && !against) return fprintf(stderr, "usage: test_trainer_device PLAN [--against PLAN2]\n"), 2;
  char err[512];
  Plan *p = plan_read_file(argv[1], err, sizeof err), *p2 = against ? plan_read_file(argv[3], err, sizeof err) : p;
  if (!p || !p2) return fprintf(stderr, "%s: %s\n", argv[p ? 3 : 1], err), 1;
  if (!same_params(p, p2)) return fprintf(stderr, "%s and %s have different parameters\n", argv[1], argv[3]), 1;
  TensorSet *w = weights_init(p, 3);
  Shape is = p->nodes[0].out;
  Run r = {{2, is.c, is.h, is.w}, NULL, NULL, NULL, 1};
  size_t px = (size_t)2 * is.h * is.w;
  r.x = malloc(shape_numel(r.in) * sizeof *r.x), r.lab = malloc(px);
  for (size_t i = 0; i < shape_numel(r.in); i++) r.x[i] = 4 * rnd() - 2;
  for (size_t i = 0; i < px; i++) r.lab[i] = rnd() < 0.1f ? 255 : (unsigned char)(rnd() * p->classes) % p->classes;
  for (int s = 0; s < p->nsb; s++) r.maxc = p->sb[s].ncand > r.maxc ? p->sb[s].ncand : r.maxc;
  if (p->nsb) {
    r.mix = calloc((size_t)p->nsb * r.maxc * 2, sizeof *r.mix);
    for (int s = 0; s < p->nsb; s++)
      for (int k = 0; k < p->sb[s].ncand; k++)
        for (int b = 0; b < 2; b++) r.mix[((size_t)s * r.maxc + k) * 2 + b] = 1.0f / p->sb[s].ncand;
  }
  Trainer *cpu = trainer_new(p, w, 3, "cpu", err, sizeof err);
  fake_setup();
  Trainer *dev = against ? trainer_new(p2, w, 3, "cpu", err, sizeof err) : trainer_new_on(p, w, 3, &fake_backend, err, sizeof err);
  CHECK(cpu && dev);
  TrainStats sa, sb;
  for (int it = 0; cpu && dev && it < 2; it++) {
    bool ok = step(cpu, &r, &sa, err) && step(dev, &r, &sb, err);
    if (!ok) fprintf(stderr, "step %d: %s\n", it, err);
    CHECK(ok);
    if (!ok) break;
    printf("step %d: loss %.7f (cpu) %.7f (%s), %ld pixels\n", it, sa.loss, sb.loss, against ? argv[3] : "device memory path",
           sb.valid_pixels);
    CHECK(fabs(sa.loss - sb.loss) <= 1e-5 * fabs(sa.loss) && sa.valid_pixels == sb.valid_pixels);
    CHECK(fabs(sa.grad_norm - sb.grad_norm) <= 1e-5 * sa.grad_norm);
    compare(p, cpu, dev, &r, it ? "step 2" : "step 1");
    update(p, cpu), update(p, dev);
  }
  if (cpu && dev) {
    compare_state(p, cpu, dev);
    Shape la, lb;
    CHECK(trainer_forward(cpu, r.x, r.in, err, sizeof err) && trainer_forward(dev, r.x, r.in, err, sizeof err));
    const float *ya = trainer_logits(cpu, &la), *yb = trainer_logits(dev, &lb);
    CHECK(ya && yb && shape_numel(la) == shape_numel(lb));
    if (ya && yb) near("logits", yb, ya, shape_numel(la));
  }
  trainer_free(cpu), trainer_free(dev);
  free(r.x), free(r.lab), free(r.mix);
  tensor_set_free(w), plan_free(p);
  if (against) plan_free(p2);
  return test_summary();
}
