/* mode_infer.c - inference: reads a PNG/JPEG image (normalized with ImageNet mean/std as upstream) or a
   normalized NumPy array, runs the executor, writes the prediction as a Cityscapes-palette PNG, the train
   ids as a gray PNG, the float32 logits and/or the per-pixel argmax (uint8) as .npy. */
#include "mode_infer.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "cpu_grad.h"
#include "executor.h"
#include "image_io.h"
#include "npy.h"
#include "clock.h"
#include "weights_file.h"

/* Named like an image (then the image reader says what is wrong with its content). */
static bool has_image_suffix(const char *path) {
  const char *dot = strrchr(path, '.');
  return dot && (!strcasecmp(dot, ".png") || !strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg"));
}

static bool check_input(const Plan *p, const NamedTensor *t, char *err, size_t n) {
  if (t->dtype != DT_F32 || t->ndim != 4)
    return snprintf(err, n, "the input must be a float32 array N x C x H x W (normalized), got %s with %d dims",
                    dtype_name(t->dtype), t->ndim), false;
  if (t->dims[1] != p->input.c || t->dims[0] < 1 || t->dims[0] > 4096 || t->dims[2] > SQN_PLAN_MAX_DIM ||
      t->dims[3] > SQN_PLAN_MAX_DIM)
    return snprintf(err, n, "the input is %lldx%lldx%lldx%lld but network %s takes N x %d x H x W", (long long)t->dims[0],
                    (long long)t->dims[1], (long long)t->dims[2], (long long)t->dims[3], p->name, p->input.c), false;
  return true;
}

static bool write_logits(const char *path, const float *y, Shape s, char *err, size_t n) {
  NamedTensor t = {.dtype = DT_F32, .ndim = 4, .dims = {s.n, s.c, s.h, s.w}, .data = (void *)y,
                   .nbytes = shape_numel(s) * sizeof(float)};
  return npy_write(path, &t, err, n);
}

static bool wants_classes(const CliArgs *a) { return a->argmax || a->output || a->labels_png; }

/* The per-pixel outputs: argmax .npy and the PNGs (of the first image of the batch); s = [n, 1, h, w]. */
static bool write_classes(const CliArgs *a, const unsigned char *am, Shape s, char *err, size_t n) {
  NamedTensor t = {.dtype = DT_U8, .ndim = 3, .dims = {s.n, s.h, s.w}, .data = (void *)am, .nbytes = (size_t)s.n * s.h * s.w};
  bool ok = !a->argmax || npy_write(a->argmax, &t, err, n);
  if (ok && a->output) ok = image_write_palette_png(a->output, am, s.h, s.w, err, n);
  if (ok && a->labels_png) ok = image_write_gray_png(a->labels_png, am, s.h, s.w, err, n);
  return ok;
}

/* The logits (and the class ids from them) when --logits asks for them; else the class ids alone, the final
   upsampling fused with the argmax (executor_run_classes). */
static bool forward(Executor *x, const CliArgs *a, const float *in, Shape is, double *secs, char *err, size_t n) {
  Shape s;
  double t0 = now_s();
  if (a->logits || !wants_classes(a)) {
    if (!executor_run(x, in, is, err, n)) return false;
    *secs = now_s() - t0;
    const float *y = executor_output(x, &s);
    if (a->logits && !write_logits(a->logits, y, s, err, n)) return false;
    if (!wants_classes(a)) return true;
    unsigned char *am = malloc((size_t)s.n * s.h * s.w + 1);
    if (!am) return snprintf(err, n, "out of memory"), false;
    cpu_argmax_channels(y, s, am);
    bool ok = write_classes(a, am, (Shape){s.n, 1, s.h, s.w}, err, n);
    free(am);
    return ok;
  }
  bool fused;
  const unsigned char *am = executor_run_classes(x, in, is, &s, &fused, err, n);
  *secs = now_s() - t0;
  return am && write_classes(a, am, s, err, n);
}

/* Registers the --tap NAME=OUT.npy requests; false with a message for an unknown op name. */
static bool add_taps(Executor *x, const Plan *p, const CliArgs *a, char *err, size_t n) {
  for (int t = 0; t < a->taps.n; t++) {
    const char *eq = strchr(a->taps.v[t], '=');
    size_t len = eq ? (size_t)(eq - a->taps.v[t]) : 0;
    int node = -1;
    for (int i = 0; eq && i < p->nnodes && node < 0; i++)
      if (p->nodes[i].name && strlen(p->nodes[i].name) == len && !strncmp(p->nodes[i].name, a->taps.v[t], len)) node = i;
    if (!eq || !eq[1]) return snprintf(err, n, "bad --tap '%s' (write OP_NAME=OUT.npy)", a->taps.v[t]), false;
    if (node < 0)
      return snprintf(err, n, "--tap: network %s has no op named '%.*s' (sqnc --dump-ir lists them)", p->name, (int)len,
                      a->taps.v[t]), false;
    executor_add_tap(x, node);
  }
  return true;
}

static bool write_taps(const Executor *x, const CliArgs *a, char *err, size_t n) {
  for (int t = 0; t < a->taps.n; t++) {
    Shape s;
    const float *y = executor_tap(x, t, &s);
    if (!write_logits(strchr(a->taps.v[t], '=') + 1, y, s, err, n)) return false;
  }
  return true;
}

static int run(const Plan *p, const CliArgs *a, TensorSet *w, NamedTensor *in, char *err, size_t n) {
  Executor *x = executor_new(p, w, a->backend, err, n);
  if (!x) return fprintf(stderr, "sqnrun: %s\n", err), 1;
  executor_set_fuse(x, !a->no_fuse);
  if (!add_taps(x, p, a, err, n)) return fprintf(stderr, "sqnrun: %s\n", err), executor_free(x), 2;
  Shape is = {(int)in->dims[0], (int)in->dims[1], (int)in->dims[2], (int)in->dims[3]};
  double dt = 0;
  bool ok = forward(x, a, in->data, is, &dt, err, n);
  if (ok) fprintf(stderr, "sqnrun: %s: %dx%dx%dx%d in %.3f s, peak activations %.1f MiB\n", p->name, is.n, is.c,
                  is.h, is.w, dt, executor_peak_bytes(x) / 1048576.0);
  if (ok) ok = write_taps(x, a, err, n);
  if (!ok) fprintf(stderr, "sqnrun: %s\n", err);
  executor_free(x);
  return ok ? 0 : 1;
}

int mode_infer(const Plan *p, const CliArgs *a) {
  char err[1024];
  if (a->threads >= 0) cpu_set_threads(a->threads);
  TensorSet *w = weights_load(a->weights, err, sizeof err);
  if (!w) return fprintf(stderr, "sqnrun: %s\n", err), 1;
  NamedTensor in;
  int rc = 1;
  bool image = image_sniff(a->input) != IMAGE_UNKNOWN || has_image_suffix(a->input); /* else .npy */
  if (!(image ? image_read_normalized(a->input, &in, err, sizeof err) : npy_read(a->input, &in, err, sizeof err)))
    fprintf(stderr, "sqnrun: %s: %s\n", a->input, err);
  else {
    if (!check_input(p, &in, err, sizeof err)) fprintf(stderr, "sqnrun: %s: %s\n", a->input, err);
    else rc = run(p, a, w, &in, err, sizeof err);
    npy_free(&in);
  }
  tensor_set_free(w);
  return rc;
}
