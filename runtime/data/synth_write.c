/* synth_write.c - synth_write_dataset() of synth.h: renders scenes and writes them in the
   Cityscapes layout (RGB PNG images, labelIds gray PNGs), creating the folders. Holds the one RGB
   PNG writer of the data library (libpng's simplified API, temporary file + rename). */
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "atomic_file.h"
#include "cityscapes.h"
#include "image_io.h"
#include "synth.h"
#include "err.h"


/* mkdir -p path. */
static bool make_dirs(const char *path, char *err, size_t errlen) {
  char buf[4096];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return err_set(err, errlen, "path too long: %s", path);
  for (char *p = buf + 1;; p++) {
    if (*p != '/' && *p != 0) continue;
    char saved = *p;
    *p = 0;
    struct stat st;
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
      return err_set(err, errlen, "cannot create folder %s: %s", buf, strerror(errno));
    if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) return err_set(err, errlen, "cannot create folder %s: not a folder", buf);
    *p = saved;
    if (!saved) return true;
  }
}

/* Writes h*w*3 RGB bytes as an 8-bit RGB PNG, atomically. */
static bool write_rgb_png(const char *path, const unsigned char *rgb, int h, int w, char *err, size_t errlen) {
  AtomicFile f;
  if (!atomic_open(&f, path, err, errlen)) return false;
  png_image img;
  memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  img.width = (png_uint_32)w, img.height = (png_uint_32)h, img.format = PNG_FORMAT_RGB;
  bool ok = png_image_write_to_stdio(&img, f.f, 0, rgb, 0, NULL);
  ok = atomic_close(&f, ok, err, errlen);
  if (!ok && (img.warning_or_error & PNG_IMAGE_ERROR)) err_set(err, errlen, "cannot write %s: %s", path, img.message);
  png_image_free(&img);
  return ok;
}

/* Train ids -> Cityscapes labelIds in place; ignore (and anything unknown) -> 0 "unlabeled". */
static void train_to_label_ids(unsigned char *ids, size_t n) {
  for (size_t i = 0; i < n; i++) {
    int label = cityscapes_train_to_label(ids[i]);
    ids[i] = (unsigned char)(label < 0 ? 0 : label);
  }
}

static bool write_split(const char *dir, const char *split, int count, int first_index, int h, int w,
                        uint64_t seed, unsigned char *rgb, unsigned char *ids, char *err, size_t errlen) {
  char img_dir[4096], gt_dir[4096], img_path[4200], gt_path[4200];
  snprintf(img_dir, sizeof img_dir, "%s/leftImg8bit/%s/synth", dir, split);
  snprintf(gt_dir, sizeof gt_dir, "%s/gtFine/%s/synth", dir, split);
  if (count > 0 && (!make_dirs(img_dir, err, errlen) || !make_dirs(gt_dir, err, errlen))) return false;
  for (int i = 0; i < count; i++) {
    synth_render(seed, first_index + i, h, w, rgb, ids);
    train_to_label_ids(ids, (size_t)h * (size_t)w);
    snprintf(img_path, sizeof img_path, "%s/synth_%06d_leftImg8bit.png", img_dir, i);
    snprintf(gt_path, sizeof gt_path, "%s/synth_%06d_gtFine_labelIds.png", gt_dir, i);
    if (!image_write_gray_png(gt_path, ids, h, w, err, errlen)) return false;
    if (!write_rgb_png(img_path, rgb, h, w, err, errlen)) return false;
  }
  return true;
}

bool synth_write_dataset(const char *dir, int ntrain, int nval, int h, int w, uint64_t seed, char *err,
                         size_t errlen) {
  if (err && errlen) err[0] = 0;
  if (!dir || !*dir) return err_set(err, errlen, "no output folder given");
  if (strlen(dir) > 3800) return err_set(err, errlen, "output folder path too long: %s", dir);
  if (ntrain < 0 || nval < 0 || ntrain > SYNTH_VAL_OFFSET || nval > SYNTH_VAL_OFFSET)
    return err_set(err, errlen, "image counts must be in 0..%d (got %d train, %d val)", SYNTH_VAL_OFFSET, ntrain, nval);
  if (h <= 0 || w <= 0 || h > IMAGE_MAX_DIM || w > IMAGE_MAX_DIM)
    return err_set(err, errlen, "image size must be 1..%d on each side (got %dx%d)", IMAGE_MAX_DIM, w, h);
  unsigned char *rgb = malloc((size_t)h * (size_t)w * 3), *ids = malloc((size_t)h * (size_t)w);
  bool ok = rgb && ids;
  if (!ok) err_set(err, errlen, "out of memory for %dx%d images", w, h);
  ok = ok && write_split(dir, "train", ntrain, 0, h, w, seed, rgb, ids, err, errlen);
  ok = ok && write_split(dir, "val", nval, SYNTH_VAL_OFFSET, h, w, seed, rgb, ids, err, errlen);
  free(rgb);
  free(ids);
  return ok;
}
