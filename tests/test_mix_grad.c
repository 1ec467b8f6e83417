/* test_mix_grad.c PLAN - a supernet's gradient in its mixing weights, end to end: for every superblock (candidate
   mixes and width choices, whose width nodes mask several superblock outputs with the same weights), the
   directional derivative of the loss along d loss / d w from the trainer matches central finite differences,
   with BN frozen (running statistics) and in training mode. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "test_util.h"
#include "trainer.h"

typedef struct Batch { const float *x; Shape s; const unsigned char *lab; } Batch;

static double loss_with(Trainer *t, const Batch *b, const float *w) {
  TrainStats st;
  char err[512];
  if (!trainer_set_mix(t, w, b->s.n, err, sizeof err) || !trainer_step(t, b->x, b->s, b->lab, &st, err, sizeof err))
    return fprintf(stderr, "%s\n", err), NAN;
  return st.loss;
}

/* Superblock sb's weights w[sb][k][b] moved by h along its own gradient. */
static void moved(const float *w, const float *g, float *out, size_t n, size_t at, size_t len, double h, double gn) {
  memcpy(out, w, n * sizeof *w);
  for (size_t i = at; i < at + len; i++) out[i] = (float)(w[i] + h * g[i] / gn);
}

static void check_superblocks(Trainer *t, const Plan *p, const Batch *b, const char *mode, double h, double tol) {
  int maxc = 1, widths = 0;
  for (int i = 0; i < p->nsb; i++) maxc = p->sb[i].ncand > maxc ? p->sb[i].ncand : maxc;
  size_t per = (size_t)maxc * b->s.n, n = (size_t)p->nsb * per;
  float *w = malloc(n * sizeof *w), *g = malloc(n * sizeof *g), *v = malloc(n * sizeof *v);
  uint64_t r = 11;
  for (size_t i = 0; i < n; i++) r = r * 6364136223846793005ULL + 1, w[i] = (float)(0.2 + 0.6 * ((r >> 40) / 16777216.0));
  double l0 = loss_with(t, b, w), worst = 0;
  memcpy(g, trainer_mix_grad(t), n * sizeof *g);
  for (int sb = 0; sb < p->nsb; sb++) {
    double gn = 0;
    for (size_t i = sb * per; i < (sb + 1) * per; i++) gn += (double)g[i] * g[i];
    gn = sqrt(gn);
    if (gn < 1e-7) continue;
    moved(w, g, v, n, sb * per, per, h, gn);
    double lp = loss_with(t, b, v);
    moved(w, g, v, n, sb * per, per, -h, gn);
    double lm = loss_with(t, b, v);
    double fd = (lp - lm) / (2 * h), noise = 4 * FLT_EPSILON * fabs(l0) / (2 * h);
    double err = fabs(fd - gn) / fmax(gn, noise);
    worst = fmax(worst, err);
    widths += p->sb[sb].is_width;
    if (err > tol) fprintf(stderr, "  %s superblock %d%s: analytic %.6g, finite difference %.6g\n", mode, sb,
                           p->sb[sb].is_width ? " (width)" : "", gn, fd);
    CHECK(err <= tol);
  }
  printf("%s: %d superblocks (%d width choices), worst relative error %.3g\n", mode, p->nsb, widths, worst);
  CHECK(widths >= 2);
  free(w), free(g), free(v);
}

int main(int argc, char **argv) {
  if (argc != 2) return fprintf(stderr, "usage: test_mix_grad PLAN\n"), 2;
  char err[512];
  Plan *p = plan_read_file(argv[1], err, sizeof err);
  if (!p) return fprintf(stderr, "%s: %s\n", argv[1], err), 1;
  Shape s = {2, 3, p->input.h, p->input.w};
  size_t nx = shape_numel(s), nl = (size_t)s.n * s.h * s.w;
  float *x = malloc(nx * sizeof *x);
  unsigned char *lab = malloc(nl);
  uint64_t r = 7;
  for (size_t i = 0; i < nx; i++) r = r * 6364136223846793005ULL + 1442695040888963407ULL, x[i] = (float)((r >> 40) / 16777216.0 * 2 - 1);
  for (size_t i = 0; i < nl; i++) r = r * 6364136223846793005ULL + 1, lab[i] = (unsigned char)((r >> 33) % (unsigned)p->classes);
  Trainer *t = trainer_new(p, NULL, 3, NULL, err, sizeof err);
  CHECK(t != NULL);
  if (!t) return fprintf(stderr, "%s\n", err), test_summary();
  Batch b = {x, s, lab};
  trainer_freeze_bn(t, true);
  check_superblocks(t, p, &b, "frozen BN", 1e-2, 2e-2);
  trainer_freeze_bn(t, false);
  /* batch statistics couple every pixel: the loss curves more, as in test_train_gradcheck */
  check_superblocks(t, p, &b, "batch-statistics BN", 3e-3, 8e-2);
  trainer_free(t);
  free(x), free(lab);
  plan_free(p);
  return test_summary();
}
