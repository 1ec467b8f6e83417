/* dataset_cityscapes.c - the datasets of dataset.h: listing a folder in the Cityscapes layout
   (sorted cities, sorted files, each image paired with its gtFine labelIds PNG), loading a pair
   (PNG/JPEG image, 8-bit labelIds PNG mapped to train ids), and the "synthetic" dataset rendered on
   the fly by synth.h. Errors name the path and say what was expected. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cityscapes.h"
#include "dataset.h"
#include "image_io.h"
#include "synth.h"
#include "err.h"

#define LAYOUT_HINT                                                                                      \
  "expected a folder in the Cityscapes layout, ROOT/leftImg8bit/<split>/<city>/<stem>_leftImg8bit.png " \
  "with ROOT/gtFine/<split>/<city>/<stem>_gtFine_labelIds.png, or \"synthetic\""

static const char image_suffix[] = "_leftImg8bit";
static const char label_suffix[] = "_gtFine_labelIds.png";

struct Dataset {
  int n;
  char **images, **labels; /* folders: the pairs, in listing order */
  bool synthetic;
  int synth_h, synth_w, first_index;
  uint64_t seed;
  char *synth_names; /* n names of 24 bytes */
};


/* A malloc'd formatted string (NULL when out of memory). */
static char *strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *strf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int len = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *s = len >= 0 ? malloc((size_t)len + 1) : NULL;
  if (!s) return NULL;
  va_start(ap, fmt);
  vsnprintf(s, (size_t)len + 1, fmt, ap);
  va_end(ap);
  return s;
}

static bool is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* ---- sorted folder listings ---- */

typedef struct {
  char **v;
  int n, cap;
} Names;

static bool names_push(Names *a, char *s) {
  if (!s) return false;
  if (a->n == a->cap) {
    int cap = a->cap ? 2 * a->cap : 16;
    char **v = realloc(a->v, sizeof *v * (size_t)cap);
    if (!v) return free(s), false;
    a->v = v, a->cap = cap;
  }
  a->v[a->n++] = s;
  return true;
}

static void names_free(Names *a) {
  for (int i = 0; i < a->n; i++) free(a->v[i]);
  free(a->v);
  memset(a, 0, sizeof *a);
}

static int by_bytes(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The entries of folder path, hidden ones skipped, sorted bytewise: the sub-folders when folders is
   true, else the regular files. */
static bool list_folder(const char *path, bool folders, Names *out, char *err, size_t errlen) {
  DIR *dir = opendir(path);
  if (!dir) return err_set(err, errlen, "cannot read folder %s: %s", path, strerror(errno));
  bool ok = true;
  struct dirent *e;
  while (ok && (e = readdir(dir))) {
    if (e->d_name[0] == '.') continue;
    char *full = strf("%s/%s", path, e->d_name);
    bool wanted = full && (folders ? is_dir(full) : is_file(full));
    free(full);
    if (wanted) ok = names_push(out, strf("%s", e->d_name));
  }
  closedir(dir);
  if (!ok) return names_free(out), err_set(err, errlen, "out of memory listing %s", path);
  if (out->n > 1) qsort(out->v, (size_t)out->n, sizeof *out->v, by_bytes);
  return true;
}

/* ---- the Cityscapes layout ---- */

/* The stem of a "<stem>_leftImg8bit.png|.jpg|.jpeg" file name (malloc'd), or NULL if it is not one. */
static char *image_stem(const char *name) {
  static const char *const exts[] = {".png", ".jpg", ".jpeg"};
  size_t len = strlen(name), slen = strlen(image_suffix);
  for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
    size_t elen = strlen(exts[i]);
    if (len > slen + elen && !strcmp(name + len - elen, exts[i]) &&
        !strncmp(name + len - elen - slen, image_suffix, slen))
      return strf("%.*s", (int)(len - elen - slen), name);
  }
  return NULL;
}

/* "train, val" for the hint about a missing split: the folders under ROOT/leftImg8bit. */
static void existing_splits(const char *root, char *buf, size_t n) {
  buf[0] = 0;
  char *dir = strf("%s/leftImg8bit", root);
  Names splits = {0};
  if (dir && list_folder(dir, true, &splits, NULL, 0))
    for (int i = 0; i < splits.n; i++)
      snprintf(buf + strlen(buf), n - strlen(buf), "%s%s", i ? ", " : "", splits.v[i]);
  names_free(&splits);
  free(dir);
}

static bool check_root(const char *root, const char *split, char *err, size_t errlen) {
  struct stat st;
  if (stat(root, &st) != 0) return err_set(err, errlen, "dataset %s: %s (%s)", root, strerror(errno), LAYOUT_HINT);
  if (!S_ISDIR(st.st_mode)) return err_set(err, errlen, "dataset %s is not a folder (%s)", root, LAYOUT_HINT);
  if (!*split || strchr(split, '/') || !strcmp(split, ".") || !strcmp(split, ".."))
    return err_set(err, errlen, "bad split name \"%s\": expected a folder name such as train or val", split);
  return true;
}

/* Adds the images of one city folder with their labels; a missing label is an error. */
static bool add_city(Dataset *d, Names *images, Names *labels, const char *img_dir, const char *gt_dir,
                     const char *city, char *err, size_t errlen) {
  char *dir = strf("%s/%s", img_dir, city);
  Names files = {0};
  bool ok = dir && list_folder(dir, false, &files, err, errlen);
  for (int i = 0; ok && i < files.n; i++) {
    char *stem = image_stem(files.v[i]);
    if (!stem) continue;
    char *image = strf("%s/%s", dir, files.v[i]), *label = strf("%s/%s/%s%s", gt_dir, city, stem, label_suffix);
    free(stem);
    if (!image || !label) ok = err_set(err, errlen, "out of memory");
    else if (!is_file(label)) ok = err_set(err, errlen, "missing label for %s: expected %s", image, label);
    if (ok) {
      names_push(images, image), names_push(labels, label);
      ok = images->n == labels->n && images->n == d->n + 1;
      if (!ok) err_set(err, errlen, "out of memory");
      d->n = images->n;
    } else {
      free(image), free(label);
    }
  }
  if (!dir) err_set(err, errlen, "out of memory");
  names_free(&files);
  free(dir);
  return ok;
}

static Dataset *open_folder(const char *root, const char *split, char *err, size_t errlen) {
  if (!check_root(root, split, err, errlen)) return NULL;
  char *img_dir = strf("%s/leftImg8bit/%s", root, split), *gt_dir = strf("%s/gtFine/%s", root, split);
  Dataset *d = calloc(1, sizeof *d);
  Names cities = {0}, images = {0}, labels = {0};
  bool ok = img_dir && gt_dir && d;
  if (!ok) err_set(err, errlen, "out of memory");
  if (ok && !is_dir(img_dir)) {
    char found[256];
    existing_splits(root, found, sizeof found);
    ok = err_set(err, errlen, "no leftImg8bit/%s in %s: expected the images as %s/<city>/<stem>_leftImg8bit.png%s%s%s",
              split, root, img_dir, *found ? " (splits found: " : " (hint: unpack leftImg8bit_trainvaltest.zip into the dataset folder",
              found, ")");
  }
  if (ok && !is_dir(gt_dir))
    ok = err_set(err, errlen, "no gtFine/%s in %s: expected the labels as %s/<city>/<stem>%s (hint: unpack gtFine_trainvaltest.zip into the dataset folder)",
              split, root, gt_dir, label_suffix);
  ok = ok && list_folder(img_dir, true, &cities, err, errlen);
  for (int i = 0; ok && i < cities.n; i++) ok = add_city(d, &images, &labels, img_dir, gt_dir, cities.v[i], err, errlen);
  if (ok && d->n == 0)
    ok = err_set(err, errlen, "no images in %s: expected %s/<city>/<stem>_leftImg8bit.png (or .jpg)", img_dir, img_dir);
  if (ok) d->images = images.v, d->labels = labels.v;
  else names_free(&images), names_free(&labels), free(d), d = NULL;
  names_free(&cities);
  free(img_dir), free(gt_dir);
  return d;
}

static bool load_pair(const Dataset *d, int i, unsigned char **rgb, unsigned char **ids, int *h, int *w, char *err,
                      size_t errlen) {
  char why[512] = "";
  int lh = 0, lw = 0;
  if (!image_read_rgb8(d->images[i], rgb, h, w, why, sizeof why)) return err_set(err, errlen, "%s: %s", d->images[i], why);
  if (!image_read_gray_png(d->labels[i], ids, &lh, &lw, why, sizeof why))
    return err_set(err, errlen, "%s: %s (labels must be 8-bit single-channel PNGs of Cityscapes labelIds, like *%s)",
                d->labels[i], why, label_suffix);
  if (lh != *h || lw != *w)
    return err_set(err, errlen, "image and label sizes differ: %s is %dx%d, %s is %dx%d", d->images[i], *w, *h,
                d->labels[i], lw, lh);
  cityscapes_labels_to_train(*ids, (size_t)*h * (size_t)*w);
  return true;
}

/* ---- the synthetic dataset ---- */

static Dataset *open_synthetic(const char *split, const DatasetOptions *o, char *err, size_t errlen) {
  DatasetOptions opt = o ? *o : (DatasetOptions){0};
  bool val = !strcmp(split, "val");
  if (!val && strcmp(split, "train"))
    return err_set(err, errlen, "the synthetic dataset has the splits train and val, not \"%s\"", split), NULL;
  if (opt.synth_count == 0) opt.synth_count = val ? 200 : 1000;
  if (opt.synth_h == 0 && opt.synth_w == 0) opt.synth_h = 256, opt.synth_w = 512;
  if (opt.synth_count < 0 || opt.synth_count > SYNTH_VAL_OFFSET)
    return err_set(err, errlen, "synthetic image count %d out of range 1..%d", opt.synth_count, SYNTH_VAL_OFFSET), NULL;
  if (opt.synth_h <= 0 || opt.synth_w <= 0 || opt.synth_h > IMAGE_MAX_DIM || opt.synth_w > IMAGE_MAX_DIM)
    return err_set(err, errlen, "synthetic image size %dx%d out of range (1..%d on each side)", opt.synth_w, opt.synth_h,
                IMAGE_MAX_DIM), NULL;
  Dataset *d = calloc(1, sizeof *d);
  char *names = malloc((size_t)opt.synth_count * 24);
  if (!d || !names) return free(d), free(names), err_set(err, errlen, "out of memory"), NULL;
  d->synthetic = true, d->n = opt.synth_count, d->seed = opt.seed;
  d->synth_h = opt.synth_h, d->synth_w = opt.synth_w, d->first_index = val ? SYNTH_VAL_OFFSET : 0;
  d->synth_names = names;
  for (int i = 0; i < d->n; i++) snprintf(names + 24 * (size_t)i, 24, "synthetic:%d", d->first_index + i);
  return d;
}

static bool load_synthetic(const Dataset *d, int i, unsigned char **rgb, unsigned char **ids, int *h, int *w,
                           char *err, size_t errlen) {
  size_t px = (size_t)d->synth_h * (size_t)d->synth_w;
  *rgb = malloc(px * 3), *ids = malloc(px);
  if (!*rgb || !*ids) return err_set(err, errlen, "%s: out of memory", dataset_name(d, i));
  synth_render(d->seed, d->first_index + i, d->synth_h, d->synth_w, *rgb, *ids);
  *h = d->synth_h, *w = d->synth_w;
  return true;
}

/* ---- the API ---- */

Dataset *dataset_open(const char *spec, const char *split, const DatasetOptions *o, char *err, size_t errlen) {
  if (err && errlen) err[0] = 0;
  if (!spec || !*spec) return err_set(err, errlen, "no dataset given (%s)", LAYOUT_HINT), NULL;
  if (!split) split = "train";
  if (!strcmp(spec, "synthetic")) return open_synthetic(split, o, err, errlen);
  return open_folder(spec, split, err, errlen);
}

int dataset_size(const Dataset *d) { return d ? d->n : 0; }

const char *dataset_name(const Dataset *d, int i) {
  if (!d || i < 0 || i >= d->n) return NULL;
  return d->synthetic ? d->synth_names + 24 * (size_t)i : d->images[i];
}

bool dataset_load(Dataset *d, int i, unsigned char **rgb, unsigned char **ids, int *h, int *w, char *err,
                  size_t errlen) {
  *rgb = *ids = NULL, *h = *w = 0;
  if (err && errlen) err[0] = 0;
  if (!d || i < 0 || i >= d->n) return err_set(err, errlen, "sample %d out of range (the dataset has %d)", i, dataset_size(d));
  bool ok = d->synthetic ? load_synthetic(d, i, rgb, ids, h, w, err, errlen) : load_pair(d, i, rgb, ids, h, w, err, errlen);
  if (!ok) free(*rgb), free(*ids), *rgb = *ids = NULL, *h = *w = 0;
  return ok;
}

void dataset_close(Dataset *d) {
  if (!d) return;
  for (int i = 0; !d->synthetic && i < d->n; i++) free(d->images[i]), free(d->labels[i]);
  free(d->images), free(d->labels), free(d->synth_names);
  free(d);
}
