/* test_train_step.c - golden test of the training program: two SGD steps of lat_small (published
   weights, train-mode BN, batch 2 at 128x256, lr 0.05, momentum 0.9, weight decay 1e-5) against
   PyTorch (tests/train_ref/make_sgd_ref.py, float64 reference in tests/data/sgd_step/): the loss of
   both steps, every parameter's step-1 gradient and every state_dict entry after step 2.
   usage: test_train_step PLAN DATA_DIR WEIGHTS.pth (exit 77 = skipped when the weights are absent) */
#include <math.h>
#include <string.h>
#include <unistd.h>
#include "npy.h"
#include "pth.h"
#include "test_util.h"
#include "trainer.h"

static double rel_l2(const float *a, const float *b, size_t n, double *max_abs) {
  double num = 0, den = 0;
  *max_abs = 0;
  for (size_t i = 0; i < n; i++) {
    double d = (double)a[i] - b[i];
    num += d * d, den += (double)b[i] * b[i];
    if (fabs(d) > *max_abs) *max_abs = fabs(d);
  }
  return den > 0 ? sqrt(num / den) : sqrt(num);
}

/* Compares our tensor with the reference `prefix.name`: relative L2 <= tol, or for a reference that is
   zero up to rounding (BN-cancelled biases), max |diff| <= abs_tol. */
static void compare(const TensorSet *ref, const char *prefix, const char *name, const float *ours, size_t n, double tol,
                    double abs_tol, double *worst) {
  char key[512];
  snprintf(key, sizeof key, "%s.%s", prefix, name);
  const NamedTensor *r = tensor_set_find(ref, key);
  CHECK(r != NULL);
  if (!r || (size_t)tensor_numel(r) != n) return;
  double max_abs, rel = rel_l2(ours, r->data, n, &max_abs);
  double rms = 0;
  for (size_t i = 0; i < n; i++) rms += (double)((float *)r->data)[i] * ((float *)r->data)[i];
  bool near_zero = sqrt(rms / (double)n) < 1e-9;
  bool ok = near_zero ? max_abs <= abs_tol : rel <= tol;
  if (!near_zero && rel > *worst) *worst = rel;
  if (!ok) fprintf(stderr, "  %s: rel L2 %.3g (tol %.1g), max |diff| %.3g\n", key, rel, tol, max_abs);
  CHECK(ok);
}

static float *load_npy(const char *dir, const char *file, NamedTensor *t) {
  char path[1024], err[256];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  if (!npy_read(path, t, err, sizeof err)) return fprintf(stderr, "%s: %s\n", path, err), NULL;
  return t->data;
}

int main(int argc, char **argv) {
  if (argc != 4) return fprintf(stderr, "usage: test_train_step PLAN DATA_DIR WEIGHTS.pth\n"), 2;
  if (access(argv[3], R_OK)) return printf("SKIPPED: %s not found (the shared reference data)\n", argv[3]), 77;
  char err[512], path[1024];
  Plan *p = plan_read_file(argv[1], err, sizeof err);
  TensorSet *w0 = pth_read(argv[3], err, sizeof err);
  snprintf(path, sizeof path, "%s/ref.pth", argv[2]);
  TensorSet *ref = pth_read(path, err, sizeof err);
  NamedTensor in = {0}, lab = {0}, loss = {0};
  if (!p || !w0 || !ref || !load_npy(argv[2], "input.npy", &in) || !load_npy(argv[2], "labels.npy", &lab) ||
      !load_npy(argv[2], "loss.npy", &loss))
    return fprintf(stderr, "setup failed: %s\n", err), 1;
  Trainer *t = trainer_new(p, w0, 0, NULL, err, sizeof err);
  if (!t) return fprintf(stderr, "trainer_new: %s\n", err), 1;
  Shape s = {(int)in.dims[0], (int)in.dims[1], (int)in.dims[2], (int)in.dims[3]};
  TrainStats st[2];
  double worst_grad = 0, worst_after = 0;
  for (int step = 0; step < 2; step++) {
    bool ok = trainer_step(t, in.data, s, lab.data, &st[step], err, sizeof err);
    if (!ok) fprintf(stderr, "step %d: %s\n", step + 1, err);
    CHECK(ok);
    if (!ok) return test_summary();
    double want = ((double *)loss.data)[step];
    printf("step %d: loss %.9f (PyTorch float64 %.9f), gradient norm %.6g\n", step + 1, st[step].loss, want,
           st[step].grad_norm);
    CHECK(fabs(st[step].loss - want) <= 1e-4 * fabs(want));
    for (int i = 0; step == 0 && i < p->nparams; i++)
      if (p->params[i].trainable)
        compare(ref, "grad1", p->params[i].name, trainer_param_grad(t, i), (size_t)p->params[i].numel, 1e-4, 1e-5,
                &worst_grad);
    trainer_sgd(t, 0.05, 0.9, 1e-5);
  }
  TensorSet *w = trainer_weights(t);
  for (int i = 0; i < p->nparams; i++)
    compare(ref, "after2", p->params[i].name, w->t[i].data, (size_t)p->params[i].numel, 1e-4, 1e-5, &worst_after);
  printf("worst relative L2: step-1 gradients %.3g, state after step 2 %.3g\n", worst_grad, worst_after);
  trainer_free(t);
  npy_free(&in), npy_free(&lab), npy_free(&loss);
  tensor_set_free(w0), tensor_set_free(ref);
  plan_free(p);
  return test_summary();
}
