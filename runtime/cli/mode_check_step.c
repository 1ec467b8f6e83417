/* mode_check_step.c - one dumped training step (mode_check_step.h). */
#include "mode_check_step.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "weights_file.h"
#include "npy.h"
#include "trainer.h"

static bool load(const char *dir, const char *file, NamedTensor *t, char *err, size_t n) {
  char path[2048], e2[512];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  if (!npy_read(path, t, e2, sizeof e2)) return snprintf(err, n, "%.1000s: %s", path, e2), false;
  return true;
}

/* Labels of any integer type as uint8 train ids; values outside 0..255 are an error. */
static unsigned char *labels_u8(const NamedTensor *t, char *err, size_t n) {
  int64_t count = tensor_numel(t);
  unsigned char *out = malloc((size_t)count + 1);
  for (int64_t i = 0; out && i < count; i++) {
    int64_t v = t->dtype == DT_I64 ? ((int64_t *)t->data)[i] : t->dtype == DT_I32 ? ((int32_t *)t->data)[i]
              : t->dtype == DT_U8 ? ((unsigned char *)t->data)[i] : -1;
    if (v < 0 || v > 255) {
      free(out);
      return snprintf(err, n, "labels.npy: value %lld at %lld is not a train id or 255 (int64, int32 or uint8 expected)",
                      (long long)v, (long long)i), NULL;
    }
    out[i] = (unsigned char)v;
  }
  return out;
}

static bool dump(const char *out, const char *prefix, const char *name, DType dt, int ndim, const int64_t *dims,
                 const void *data, char *err, size_t n) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s%s.npy", out, prefix, name);
  NamedTensor t = {.name = path, .dtype = dt, .ndim = ndim, .data = (void *)data};
  memcpy(t.dims, dims, sizeof(int64_t) * (size_t)ndim);
  if (!tensor_nbytes(dt, ndim, dims, &t.nbytes)) return snprintf(err, n, "bad shape for %s", name), false;
  char e2[512];
  if (!npy_write(path, &t, e2, sizeof e2)) return snprintf(err, n, "%.1000s: %s", path, e2), false;
  return true;
}

static bool dump_all(const Plan *p, Trainer *t, const char *out, double loss, int batch, char *err, size_t n) {
  float l = (float)loss;
  Shape ls;
  const float *logits = trainer_logits(t, &ls);
  int64_t ld[4] = {ls.n, ls.c, ls.h, ls.w};
  bool ok = dump(out, "", "loss", DT_F32, 0, ld, &l, err, n) && dump(out, "", "logits", DT_F32, 4, ld, logits, err, n);
  TensorSet *w = trainer_weights(t);
  int written = 2;
  for (int i = 0; ok && i < p->nparams; i++) {
    const NamedTensor *pt = &w->t[i];
    if (p->params[i].role == PLAN_PARAM_BN_MEAN || p->params[i].role == PLAN_PARAM_BN_VAR)
      ok = dump(out, "after.", pt->name, DT_F32, pt->ndim, pt->dims, pt->data, err, n), written++;
    else if (p->params[i].trainable && p->params[i].role != PLAN_PARAM_ARCH)
      ok = dump(out, "grad.", pt->name, DT_F32, pt->ndim, pt->dims, trainer_param_grad(t, i), err, n), written++;
  }
  if (ok && p->is_space) {
    int maxc = 1;
    for (int s = 0; s < p->nsb; s++) maxc = p->sb[s].ncand > maxc ? p->sb[s].ncand : maxc;
    int64_t md[3] = {p->nsb, maxc, batch};
    ok = dump(out, "grad.", "mix_weights", DT_F32, 3, md, trainer_mix_grad(t), err, n), written++;
  }
  if (ok) printf("wrote %d files to %s (loss.npy, logits.npy, grad.<name>.npy, after.<running stat>.npy)\n", written, out);
  return ok;
}

int mode_check_step(const Plan *p, const CliArgs *a) {
  const char *dir = a->check_step, *out = a->dump, *weights = a->weights, *backend = a->backend;
  char err[4096] = "";
  NamedTensor in = {0}, lab = {0}, mix = {0};
  TensorSet *w = NULL;
  Trainer *t = NULL;
  unsigned char *labels = NULL;
  bool ok = load(dir, "input.npy", &in, err, sizeof err) && load(dir, "labels.npy", &lab, err, sizeof err) &&
            (!p->is_space || load(dir, "mix_weights.npy", &mix, err, sizeof err));
  if (ok && (in.dtype != DT_F32 || in.ndim != 4)) ok = snprintf(err, sizeof err, "input.npy must be float32 N x C x H x W") < 0;
  if (ok && (lab.ndim != 3 || lab.dims[0] != in.dims[0] || lab.dims[1] != in.dims[2] || lab.dims[2] != in.dims[3]))
    ok = snprintf(err, sizeof err, "labels.npy must be N x H x W matching input.npy") < 0;
  ok = ok && (labels = labels_u8(&lab, err, sizeof err)) != NULL;
  ok = ok && (!weights || (w = weights_load(weights, err, sizeof err)) != NULL);
  ok = ok && (t = trainer_new(p, w, 1, backend, err, sizeof err)) != NULL;
  Shape s = {(int)in.dims[0], (int)in.dims[1], (int)in.dims[2], (int)in.dims[3]};
  if (ok && p->is_space) {
    size_t want = 0;
    int maxc = 1;
    for (int b = 0; b < p->nsb; b++) maxc = p->sb[b].ncand > maxc ? p->sb[b].ncand : maxc;
    want = (size_t)p->nsb * maxc * s.n;
    if (mix.dtype != DT_F32 || (size_t)tensor_numel(&mix) != want)
      ok = snprintf(err, sizeof err, "mix_weights.npy must be float32 %d x %d x %d (superblocks x candidates x batch)",
                    p->nsb, maxc, s.n) < 0;
    ok = ok && trainer_set_mix(t, mix.data, s.n, err, sizeof err);
  }
  TrainStats st;
  if (ok) trainer_keep_logits(t, true);
  ok = ok && trainer_step(t, in.data, s, labels, &st, err, sizeof err);
  if (ok && mkdir(out, 0777) != 0 && errno != EEXIST) ok = snprintf(err, sizeof err, "cannot create %s: %s", out, strerror(errno)) < 0;
  if (ok) printf("%s: loss %.8f over %ld pixels, gradient norm %.6g\n", p->name, st.loss, st.valid_pixels, st.grad_norm);
  ok = ok && dump_all(p, t, out, st.loss, s.n, err, sizeof err);
  if (!ok) fprintf(stderr, "sqnrun: %s\n", err);
  trainer_free(t);
  tensor_set_free(w);
  free(labels);
  npy_free(&in), npy_free(&lab), npy_free(&mix);
  return ok ? 0 : 1;
}
