/* test_trainer_device.c - the trainer's device path (trainer_device.c) without a GPU: a "device" backend
   whose memory hooks are host memory and whose loss and SGD hooks are written out here, with the CPU
   backend's train_node and backward_step. A step, an update and a second step on it must give what the CPU
   trainer gives (loss, every gradient, the mixing weights' gradient, the weights with BN running statistics,
   the momentum buffers, the logits of trainer_forward). The fake XENT takes d loss / d logits from
   cpu_softmax_xent (any rounding difference there is amplified by the ill-conditioned batch norms of tiny
   inputs) and sums per-pixel losses as the device path does: everything agrees to 1e-5, in practice bit
   for bit but the loss.
   usage: test_trainer_device PLAN (a network or a space) */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "backend_cpu_train.h"
#include "cpu_grad.h"
#include "test_util.h"
#include "trainer_internal.h"
#include "weights_init.h"

static void *h_alloc(void *s, size_t bytes, char *err, size_t n) {
  (void)s, (void)err, (void)n;
  return aligned_alloc(64, (bytes + 63) / 64 * 64);
}
static void h_free(void *s, void *p) { (void)s, free(p); }
static bool h_copy(void *s, void *dst, const void *src, size_t bytes, char *err, size_t n) {
  (void)s, (void)err, (void)n;
  memcpy(dst, src, bytes);
  return true;
}
static bool h_zero(void *s, void *dst, size_t bytes, char *err, size_t n) {
  (void)s, (void)err, (void)n;
  memset(dst, 0, bytes);
  return true;
}
static bool h_sync(void *s, char *err, size_t n) { return (void)s, (void)err, (void)n, true; }
static int fake_state;
static void *h_prepare(const Plan *p, char *err, size_t n) { return (void)p, (void)err, (void)n, &fake_state; }
static void h_release(void *s) { CHECK(s == &fake_state); }

/* kernel_abi.h XENT */
static bool h_xent(void *s, float *loss, float *dlogits, const float *logits, const unsigned char *labels, int n, int c,
                   long hw, int ignore, float inv, char *err, size_t errlen) {
  (void)s, (void)err, (void)errlen;
  for (long p = 0; p < n * hw; p++) {
    const float *x = logits + (p / hw) * c * hw + p % hw;
    double mx = -INFINITY, sum = 0;
    for (int k = 0; k < c; k++) mx = x[k * hw] > mx ? x[k * hw] : mx;
    for (int k = 0; k < c; k++) sum += exp(x[k * hw] - mx);
    bool valid = labels[p] != ignore;
    loss[p] = valid ? (float)(log(sum) - (x[labels[p] * hw] - mx)) : 0.0f;
  }
  (void)inv; /* d loss / d logits as the CPU computes them, bit for bit (the loss above is what the kernel gives) */
  if (dlogits) cpu_softmax_xent(logits, (Shape){n, c, (int)hw, 1}, labels, ignore, dlogits, NULL);
  return true;
}

/* kernel_abi.h SGD: trainer.c's arithmetic */
static bool h_sgd(void *s, float *w, const float *g, float *mom, size_t n, float lr, float m, float wd, bool first,
                  char *err, size_t errlen) {
  (void)s, (void)err, (void)errlen;
  for (size_t k = 0; k < n; k++) {
    float d = g[k] + wd * w[k];
    if (mom) mom[k] = first ? d : m * mom[k] + d, d = mom[k];
    w[k] -= lr * d;
  }
  return true;
}

static const BackendDevice host_device = {.alloc = h_alloc, .free = h_free, .upload = h_copy, .download = h_copy,
                                          .copy = h_copy, .zero = h_zero, .sync = h_sync, .prepare_train = h_prepare,
                                          .xent = h_xent, .sgd = h_sgd};
static const Backend host_backend = {.name = "hostdev", .release = h_release, .train_node = cpu_train_node,
                                     .backward_step = cpu_backward_step, .dev = &host_device};

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

int main(int argc, char **argv) {
  if (argc != 2) return fprintf(stderr, "usage: test_trainer_device PLAN\n"), 2;
  char err[512];
  Plan *p = plan_read_file(argv[1], err, sizeof err);
  if (!p) return fprintf(stderr, "%s: %s\n", argv[1], err), 1;
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
  Trainer *dev = trainer_new_on(p, w, 3, &host_backend, err, sizeof err);
  CHECK(cpu && dev);
  TrainStats sa, sb;
  for (int it = 0; cpu && dev && it < 2; it++) {
    bool ok = step(cpu, &r, &sa, err) && step(dev, &r, &sb, err);
    if (!ok) fprintf(stderr, "step %d: %s\n", it, err);
    CHECK(ok);
    if (!ok) break;
    printf("step %d: loss %.7f (cpu) %.7f (device path), %ld pixels\n", it, sa.loss, sb.loss, sb.valid_pixels);
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
  return test_summary();
}
