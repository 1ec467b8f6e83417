/* test_inherit.c SPACE.plan DERIVED.plan SUPERNET.safetensors - weight inheritance: the derived network
   given the supernet's weights computes the same logits as the supernet with one-hot mixing of the
   candidates the network chose (both with batch-statistics BN, as the derivation scores them), on a
   random batch. Also: the network takes the supernet's weights for the stem, head and decoder too. Where the space
   chooses widths, the supernet's width choices take the widths of the network's stages, and the network's tensors
   are the leading slices of the supernet's (exact where no layer's width follows its input's: test it there). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "plan.h"
#include "tensor_set.h"
#include "test_util.h"
#include "trainer.h"
#include "weights_file.h"

/* The network's superblock for the space's sb: the same index in the encoder, the same part for a stem, head or
   decoder choice; -1 for a width choice (or none). */
static int net_superblock(const Plan *space, const Plan *net, int sb) {
  const PlanSuperblock *s = &space->sb[sb];
  if (s->is_width) return -1;
  if (!s->is_decoder && !s->is_stem && !s->is_head) return sb;
  for (int i = 0; i < net->nsb; i++) /* the network's superblock of the same part */
    if (net->sb[i].is_decoder == s->is_decoder && net->sb[i].is_stem == s->is_stem && net->sb[i].is_head == s->is_head)
      return i;
  return -1;
}

/* The index in the space's superblock sb of the candidate (or width) the network chose there; -1 if none. */
static int chosen(const Plan *space, const Plan *net, int sb) {
  const PlanSuperblock *s = &space->sb[sb];
  int j = net_superblock(space, net, sb), width = 0;
  if (j < 0 && !s->is_width) return -1;
  for (int i = 0; j < 0 && i < net->nsb; i++) /* a width choice: the cout of the network's superblocks of that stage */
    if (net->sb[i].stage == s->stage && !net->sb[i].is_decoder && !net->sb[i].is_stem && !net->sb[i].is_head)
      width = net->sb[i].cout;
  for (int k = 0; k < s->ncand; k++)
    if (j < 0 ? s->cand[k].width == width : !strcmp(s->cand[k].name, net->sb[j].cand[0].name)) return k;
  return -1;
}

static bool one_hot(Trainer *t, const Plan *space, const Plan *net, int batch, char *err, size_t n) {
  int maxc = 1;
  for (int i = 0; i < space->nsb; i++) maxc = space->sb[i].ncand > maxc ? space->sb[i].ncand : maxc;
  float *w = calloc((size_t)space->nsb * maxc * batch, sizeof *w);
  bool *active = calloc((size_t)space->nsb * maxc, sizeof *active);
  bool ok = w && active;
  for (int i = 0; ok && i < space->nsb; i++) {
    int k = chosen(space, net, i);
    if (k < 0) ok = false, snprintf(err, n, "superblock %d: the network's choice is not in the space", i);
    else active[i * maxc + k] = true;
    for (int b = 0; ok && b < batch; b++) w[((size_t)i * maxc + k) * batch + b] = 1;
  }
  ok = ok && trainer_set_mix(t, w, batch, err, n);
  if (ok) trainer_set_active(t, active, maxc);
  free(w), free(active);
  return ok;
}

static const float *logits_of(Trainer *t, const float *x, Shape in, Shape *out, char *err, size_t n) {
  trainer_keep_running_stats(t, true);
  return trainer_forward(t, x, in, err, n) ? trainer_logits(t, out) : NULL;
}

int main(int argc, char **argv) {
  if (argc != 4) return fprintf(stderr, "usage: test_inherit SPACE.plan DERIVED.plan SUPERNET.safetensors\n"), 2;
  char err[1024] = "";
  Plan *space = plan_read_file(argv[1], err, sizeof err), *net = space ? plan_read_file(argv[2], err, sizeof err) : NULL;
  TensorSet *w = net ? weights_load(argv[3], err, sizeof err) : NULL;
  if (!w) return fprintf(stderr, "test_inherit: %s\n", err), 1;
  Trainer *ts = trainer_new(space, w, 1, NULL, err, sizeof err);
  Trainer *tn = ts ? trainer_new(net, w, 1, NULL, err, sizeof err) : NULL; /* the supernet's names, mapped */
  CHECK(tn != NULL);
  if (!tn) return fprintf(stderr, "test_inherit: %s\n", err), 1;
  int batch = 2;
  Shape in = {batch, 3, space->input.h, space->input.w}, os, on;
  size_t nx = (size_t)batch * 3 * in.h * in.w;
  float *x = malloc(nx * sizeof *x);
  srand(7);
  for (size_t i = 0; i < nx; i++) x[i] = (float)rand() / RAND_MAX * 2 - 1;
  CHECK(one_hot(ts, space, net, batch, err, sizeof err));
  const float *ls = logits_of(ts, x, in, &os, err, sizeof err);
  float *supernet = NULL;
  size_t nl = (size_t)os.n * os.c * os.h * os.w;
  if (ls) supernet = malloc(nl * sizeof *supernet), memcpy(supernet, ls, nl * sizeof *supernet);
  const float *ln = logits_of(tn, x, in, &on, err, sizeof err);
  CHECK(ls && ln && on.c == os.c && on.h == os.h && on.w == os.w);
  double maxdiff = 0, maxabs = 0;
  for (size_t i = 0; supernet && ln && i < nl; i++) {
    maxdiff = fmax(maxdiff, fabs((double)supernet[i] - ln[i]));
    maxabs = fmax(maxabs, fabs((double)supernet[i]));
  }
  printf("derived network with inherited weights vs supernet with one-hot mixing: max |diff| %.3g (max |logit| %.3g)\n",
         maxdiff, maxabs);
  CHECK(maxabs > 0 && maxdiff <= 1e-4 * (1 + maxabs)); /* float32, different fusion of the same ops */
  free(supernet), free(x);
  trainer_free(ts), trainer_free(tn);
  tensor_set_free(w);
  plan_free(space), plan_free(net);
  return test_summary();
}
