/* test_dataset.c - tests of the training data pipeline (runtime/data/): the synthetic
   street-scene generator (determinism, speed, class frequencies, and a per-pixel colour lookup
   baseline that must stay well below 90% accuracy), synth_write_dataset and the Cityscapes layout
   (listing, pairing, .jpg images, every user error), the labelId -> trainId mapping, the
   "synthetic" dataset, and the loader (same batches with 0, 1 and 4 threads, epochs, labels staying
   aligned with the image under scale/crop/flip, padding, normalization, batches of mixed sizes,
   bad options, corrupt files named in the error). Writes under a mkdtemp folder, removed at the
   end; meant to run under ASan/UBSan too. Prints "N passed, M failed". */
#include <ftw.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <jpeglib.h>
#include <png.h>
#include "cityscapes.h"
#include "dataset.h"
#include "image_io.h"
#include "loader.h"
#include "synth.h"
#include "test_util.h"

/* Timing is checked only in optimized builds without sanitizers. */

/* Checks that expr (a call that reports through err) fails with substr in its message. */
#define CHECK_FAILS(expr, substr)                                                                  \
  do {                                                                                           \
    char err[1024] = "";                                                                         \
    bool _ok = (expr);                                                                           \
    CHECK(!_ok);                                                                                 \
    if (strstr(err, substr)) t_passed++;                                                         \
    else {                                                                                       \
      t_failed++;                                                                                \
      fprintf(stderr, "%s:%d: error \"%s\" lacks \"%s\"\n", __FILE__, __LINE__, err, substr);    \
    }                                                                                            \
  } while (0)

/* Checks that dataset_open(spec, split, o) fails with substr in its message. */
#define CHECK_OPEN_FAILS(spec, split, o, substr) CHECK_FAILS(open_and_close(spec, split, o, err, sizeof err), substr)

static bool open_and_close(const char *spec, const char *split, const DatasetOptions *o, char *err, size_t n) {
  Dataset *d = dataset_open(spec, split, o, err, n);
  dataset_close(d);
  return d != NULL;
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* ---- files ---- */

static void make_dirs(const char *path) {
  char buf[512];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1; *p; p++)
    if (*p == '/') *p = 0, mkdir(buf, 0755), *p = '/';
  mkdir(buf, 0755);
}

static bool write_bytes(const char *path, const void *d, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return false;
  bool ok = fwrite(d, 1, n, f) == n;
  return (fclose(f) == 0) && ok;
}

static bool write_rgb_png(const char *path, const unsigned char *rgb, int h, int w) {
  png_image img;
  memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  img.width = (png_uint_32)w, img.height = (png_uint_32)h, img.format = PNG_FORMAT_RGB;
  bool ok = png_image_write_to_file(&img, path, 0, rgb, 0, NULL);
  png_image_free(&img);
  return ok;
}

static bool write_jpeg(const char *path, const unsigned char *rgb, int h, int w) {
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr jerr;
  unsigned char *mem = NULL;
  unsigned long len = 0;
  c.err = jpeg_std_error(&jerr);
  jpeg_create_compress(&c);
  jpeg_mem_dest(&c, &mem, &len);
  c.image_width = (JDIMENSION)w, c.image_height = (JDIMENSION)h, c.input_components = 3, c.in_color_space = JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 95, TRUE);
  jpeg_start_compress(&c, TRUE);
  for (int y = 0; y < h; y++) {
    JSAMPROW row = (JSAMPROW)(rgb + (size_t)y * w * 3);
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  bool ok = write_bytes(path, mem, len);
  free(mem);
  return ok;
}

/* Writes image (PNG, or JPEG when jpg) and labelIds of one sample of ROOT/{leftImg8bit,gtFine}/split/city. */
static void write_pair(const char *root, const char *split, const char *city, const char *stem, const unsigned char *rgb,
                       const unsigned char *label_ids, int h, int w, bool jpg) {
  char dir[512], path[700], err[256];
  snprintf(dir, sizeof dir, "%s/leftImg8bit/%s/%s", root, split, city);
  make_dirs(dir);
  snprintf(path, sizeof path, "%s/%s_leftImg8bit.%s", dir, stem, jpg ? "jpg" : "png");
  CHECK(jpg ? write_jpeg(path, rgb, h, w) : write_rgb_png(path, rgb, h, w));
  snprintf(dir, sizeof dir, "%s/gtFine/%s/%s", root, split, city);
  make_dirs(dir);
  snprintf(path, sizeof path, "%s/%s_gtFine_labelIds.png", dir, stem);
  CHECK(image_write_gray_png(path, label_ids, h, w, err, sizeof err));
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

/* ---- the generator ---- */

static void test_synth_determinism(void) {
  int h = 60, w = 120;
  size_t n = (size_t)h * w;
  unsigned char *a = malloc(n * 3), *b = malloc(n * 3), *la = malloc(n), *lb = malloc(n);
  synth_render(5, 3, h, w, a, la);
  synth_render(5, 3, h, w, b, lb);
  CHECK(!memcmp(a, b, n * 3) && !memcmp(la, lb, n));
  synth_render(5, 4, h, w, b, lb);
  CHECK(memcmp(a, b, n * 3) != 0);
  synth_render(6, 3, h, w, b, lb);
  CHECK(memcmp(a, b, n * 3) != 0);
  bool valid = true;
  for (int i = 0; i < 30; i++) {
    synth_render(1, i, h, w, a, la);
    for (size_t k = 0; k < n; k++) valid &= la[k] < CITYSCAPES_NUM_CLASSES || la[k] == 255;
  }
  CHECK(valid);
  synth_render(1, 0, 0, w, a, la); /* nothing to do, no crash */
  synth_render(1, 0, 1, 1, a, la);
  CHECK(la[0] < CITYSCAPES_NUM_CLASSES);
  free(a), free(b), free(la), free(lb);
}

/* Prints the rendering time for people reading the log; not a pass/fail check (a loaded machine would make
   it flaky: speed claims live in bench/). */
static void test_synth_speed(void) {
  int h = 256, w = 512, reps = 10;
  unsigned char *rgb = malloc((size_t)h * w * 3), *ids = malloc((size_t)h * w);
  double t0 = now_ms();
  for (int i = 0; i < reps; i++) synth_render(9, i, h, w, rgb, ids);
  double ms = (now_ms() - t0) / reps;
  printf("synth_render 256x512: %.1f ms per image (information only)\n", ms);
  free(rgb), free(ids);
}

enum { BINS = 8 * 8 * 8, NCLS = CITYSCAPES_NUM_CLASSES };

static int color_bin(const unsigned char *p) { return (p[0] >> 5) * 64 + (p[1] >> 5) * 8 + (p[2] >> 5); }

/* Class frequencies over 20 train images, and the colour-lookup baseline: the majority class of
   each 8x8x8 RGB bin on 20 train images, scored on 20 val images. */
static void test_synth_quality(void) {
  int h = 256, w = 512, nimg = 20;
  size_t n = (size_t)h * w;
  unsigned char *rgb = malloc(n * 3), *ids = malloc(n);
  long long(*votes)[NCLS] = calloc(BINS, sizeof *votes), freq[NCLS] = {0}, total = 0;
  for (int i = 0; i < nimg; i++) {
    synth_render(2024, i, h, w, rgb, ids);
    for (size_t k = 0; k < n; k++)
      if (ids[k] < NCLS) votes[color_bin(rgb + 3 * k)][ids[k]]++, freq[ids[k]]++, total++;
  }
  int best[BINS];
  for (int b = 0; b < BINS; b++) {
    best[b] = -1;
    for (int c = 0; c < NCLS; c++)
      if (votes[b][c] > 0 && (best[b] == -1 || votes[b][c] > votes[b][best[b]])) best[b] = c;
  }
  long long inter[NCLS] = {0}, uni[NCLS] = {0}, correct = 0, valid = 0;
  for (int i = 0; i < nimg; i++) {
    synth_render(2024, SYNTH_VAL_OFFSET + i, h, w, rgb, ids);
    for (size_t k = 0; k < n; k++) {
      if (ids[k] >= NCLS) continue;
      int p = best[color_bin(rgb + 3 * k)], t = ids[k];
      valid++;
      if (p == t) correct++, inter[t]++, uni[t]++;
      else {
        uni[t]++;
        if (p >= 0) uni[p]++;
      }
    }
  }
  double miou = 0;
  int present = 0;
  for (int c = 0; c < NCLS; c++)
    if (uni[c]) miou += (double)inter[c] / uni[c], present++;
  double acc = (double)correct / valid;
  miou /= present ? present : 1;
  printf("class frequencies over %d synthetic images (%%):", nimg);
  for (int c = 0; c < NCLS; c++) printf(" %s %.2f%s", cityscapes_class_names[c], 100.0 * freq[c] / total, c < NCLS - 1 ? "," : "\n");
  printf("colour-lookup baseline (8x8x8 RGB bins, %d train -> %d val images): pixel accuracy %.1f%%, mIoU %.1f%%\n",
         nimg, nimg, 100 * acc, 100 * miou);
  static const struct {
    int id;
    double min_pct;
  } needed[] = {{0, 10}, {1, 1}, {2, 5}, {8, 2}, {10, 1}, {13, 1}, {11, 0.05}, {5, 0.1}, {7, 0.01}};
  for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++) {
    double pct = 100.0 * freq[needed[i].id] / total;
    if (pct < needed[i].min_pct) fprintf(stderr, "class %s: %.3f%% of pixels\n", cityscapes_class_names[needed[i].id], pct);
    CHECK(pct >= needed[i].min_pct);
  }
  CHECK(acc < 0.9);
  free(rgb), free(ids), free(votes);
}

/* ---- the Cityscapes layout ---- */

static void test_write_and_list(void) {
  char *root = tmp_path("cs");
  char err[1024] = "";
  CHECK(synth_write_dataset(root, 5, 3, 48, 96, 11, err, sizeof err));
  CHECK_STR(err, "");
  Dataset *d = dataset_open(root, "train", NULL, err, sizeof err);
  CHECK(d != NULL);
  if (!d) return;
  CHECK_EQ_I64(dataset_size(d), 5);
  char want[600];
  snprintf(want, sizeof want, "%s/leftImg8bit/train/synth/synth_000003_leftImg8bit.png", root);
  CHECK_STR(dataset_name(d, 3), want);
  CHECK(dataset_name(d, 5) == NULL && dataset_name(d, -1) == NULL);
  for (int i = 1; i < 5; i++) CHECK(strcmp(dataset_name(d, i - 1), dataset_name(d, i)) < 0);
  /* each pair: the image and labels that the generator rendered (ignore -> "unlabeled" -> ignore) */
  unsigned char *rgb, *ids, *rrgb = malloc(48 * 96 * 3), *rids = malloc(48 * 96);
  int h, w;
  for (int i = 0; i < 5; i++) {
    CHECK(dataset_load(d, i, &rgb, &ids, &h, &w, err, sizeof err));
    CHECK(h == 48 && w == 96);
    synth_render(11, i, 48, 96, rrgb, rids);
    if (rgb) CHECK(!memcmp(rgb, rrgb, 48 * 96 * 3) && !memcmp(ids, rids, 48 * 96));
    free(rgb), free(ids);
  }
  CHECK_FAILS(dataset_load(d, 7, &rgb, &ids, &h, &w, err, sizeof err), "out of range");
  dataset_close(d);
  /* val: the scenes of the val offset, the same as the "synthetic" dataset's val split */
  d = dataset_open(root, "val", NULL, err, sizeof err);
  DatasetOptions o = {3, 48, 96, 11};
  Dataset *s = dataset_open("synthetic", "val", &o, err, sizeof err);
  CHECK(d && s && dataset_size(d) == 3 && dataset_size(s) == 3);
  for (int i = 0; d && s && i < 3; i++) {
    unsigned char *rgb2, *ids2;
    int h2, w2;
    CHECK(dataset_load(d, i, &rgb, &ids, &h, &w, err, sizeof err));
    CHECK(dataset_load(s, i, &rgb2, &ids2, &h2, &w2, err, sizeof err));
    if (rgb && rgb2) CHECK(h == h2 && w == w2 && !memcmp(rgb, rgb2, (size_t)h * w * 3) && !memcmp(ids, ids2, (size_t)h * w));
    free(rgb), free(ids), free(rgb2), free(ids2);
  }
  CHECK_STR(dataset_name(s, 2), "synthetic:1048578");
  dataset_close(d), dataset_close(s);
  free(rrgb), free(rids);
}

/* Cities sorted, files sorted, other files ignored, .jpg images accepted. */
static void test_listing_order_and_jpeg(void) {
  char *root = tmp_path("order");
  int h = 16, w = 24;
  unsigned char rgb[16 * 24 * 3], lab[16 * 24];
  for (int k = 0; k < h * w; k++) rgb[3 * k] = (unsigned char)(k % w * 8), rgb[3 * k + 1] = (unsigned char)(k / w * 12), rgb[3 * k + 2] = 150, lab[k] = 7;
  write_pair(root, "train", "zurich", "zurich_000001", rgb, lab, h, w, false);
  write_pair(root, "train", "aachen", "aachen_000002", rgb, lab, h, w, true);
  write_pair(root, "train", "aachen", "aachen_000001", rgb, lab, h, w, false);
  char path[600];
  snprintf(path, sizeof path, "%s/leftImg8bit/train/aachen/README.txt", root);
  CHECK(write_bytes(path, "x", 1));
  char err[1024];
  Dataset *d = dataset_open(root, "train", NULL, err, sizeof err);
  CHECK(d && dataset_size(d) == 3);
  if (!d) return;
  CHECK(strstr(dataset_name(d, 0), "aachen/aachen_000001_leftImg8bit.png") != NULL);
  CHECK(strstr(dataset_name(d, 1), "aachen/aachen_000002_leftImg8bit.jpg") != NULL);
  CHECK(strstr(dataset_name(d, 2), "zurich/zurich_000001_leftImg8bit.png") != NULL);
  unsigned char *img, *ids;
  int ih, iw;
  CHECK(dataset_load(d, 1, &img, &ids, &ih, &iw, err, sizeof err));
  if (img) {
    int maxdiff = 0;
    for (int k = 0; k < h * w * 3; k++) maxdiff = abs(img[k] - rgb[k]) > maxdiff ? abs(img[k] - rgb[k]) : maxdiff;
    CHECK(ih == h && iw == w && ids[0] == 0); /* labelId 7 is road: train id 0 */
    CHECK(maxdiff < 24);                       /* JPEG is lossy */
  }
  free(img), free(ids);
  dataset_close(d);
}

static void test_layout_errors(void) {
  char *root = tmp_path("errs");
  CHECK_OPEN_FAILS(tmp_path("nowhere"), "train", NULL, "No such file or directory");
  CHECK_OPEN_FAILS(tmp_path("nowhere"), "train", NULL, "leftImg8bit/<split>/<city>");
  CHECK_OPEN_FAILS("", "train", NULL, "no dataset given");
  char file[600];
  snprintf(file, sizeof file, "%s/plain_file", tmpdir);
  write_bytes(file, "x", 1);
  CHECK_OPEN_FAILS(file, "train", NULL, "is not a folder");
  make_dirs(root);
  CHECK_OPEN_FAILS(root, "train", NULL, "no leftImg8bit/train in");
  CHECK_OPEN_FAILS(root, "../x", NULL, "bad split name");
  char dir[600];
  snprintf(dir, sizeof dir, "%s/leftImg8bit/train/city", root);
  make_dirs(dir);
  CHECK_OPEN_FAILS(root, "val", NULL, "splits found: train");
  CHECK_OPEN_FAILS(root, "train", NULL, "no gtFine/train in");
  snprintf(dir, sizeof dir, "%s/gtFine/train/city", root);
  make_dirs(dir);
  CHECK_OPEN_FAILS(root, "train", NULL, "no images in");
  /* an image without its label */
  char *cs = tmp_path("cs_missing"), err[1024], label[700], image[700];
  CHECK(synth_write_dataset(cs, 3, 0, 20, 30, 1, err, sizeof err));
  snprintf(label, sizeof label, "%s/gtFine/train/synth/synth_000001_gtFine_labelIds.png", cs);
  snprintf(image, sizeof image, "%s/leftImg8bit/train/synth/synth_000001_leftImg8bit.png", cs);
  CHECK(unlink(label) == 0);
  char want[1500];
  snprintf(want, sizeof want, "missing label for %s: expected %s", image, label);
  CHECK_OPEN_FAILS(cs, "train", NULL, want);
}

/* Errors found when a sample is loaded: sizes, label format, corrupt files; through dataset_load and the loader. */
static void test_load_errors(void) {
  char *cs = tmp_path("cs_bad"), err[1024], path[700];
  CHECK(synth_write_dataset(cs, 4, 0, 20, 30, 2, err, sizeof err));
  unsigned char small[10 * 12 * 3] = {0};
  snprintf(path, sizeof path, "%s/gtFine/train/synth/synth_000000_gtFine_labelIds.png", cs);
  CHECK(image_write_gray_png(path, small, 10, 12, err, sizeof err)); /* wrong size */
  snprintf(path, sizeof path, "%s/gtFine/train/synth/synth_000001_gtFine_labelIds.png", cs);
  CHECK(write_rgb_png(path, small, 10, 12)); /* RGB, not 8-bit single channel */
  snprintf(path, sizeof path, "%s/leftImg8bit/train/synth/synth_000002_leftImg8bit.png", cs);
  CHECK(write_bytes(path, "\x89PNG\r\n\x1a\nbroken", 14)); /* corrupt image */
  Dataset *d = dataset_open(cs, "train", NULL, err, sizeof err);
  CHECK(d != NULL);
  if (!d) return;
  unsigned char *rgb, *ids;
  int h, w;
  CHECK_FAILS(dataset_load(d, 0, &rgb, &ids, &h, &w, err, sizeof err), "image and label sizes differ");
  CHECK_FAILS(dataset_load(d, 0, &rgb, &ids, &h, &w, err, sizeof err), "synth_000000_leftImg8bit.png is 30x20");
  CHECK_FAILS(dataset_load(d, 1, &rgb, &ids, &h, &w, err, sizeof err), "synth_000001_gtFine_labelIds.png: not a label image");
  CHECK_FAILS(dataset_load(d, 1, &rgb, &ids, &h, &w, err, sizeof err), "8-bit single-channel");
  CHECK_FAILS(dataset_load(d, 2, &rgb, &ids, &h, &w, err, sizeof err), path);
  CHECK(rgb == NULL && ids == NULL);
  CHECK(dataset_load(d, 3, &rgb, &ids, &h, &w, err, sizeof err));
  free(rgb), free(ids);
  /* through the loader: the first failing sample of the batch is named, the epoch ends, a new one restarts */
  for (int threads = 0; threads <= 3; threads += 3) {
    Loader *l = loader_new(d, 4, NULL, false, false, 1, threads, err, sizeof err);
    Batch b;
    CHECK(l && loader_start_epoch(l, 0, err, sizeof err));
    CHECK_FAILS(loader_next(l, &b, err, sizeof err), "synth_000000_leftImg8bit.png is 30x20");
    CHECK_FAILS(loader_next(l, &b, err, sizeof err), "sizes differ");
    CHECK(loader_start_epoch(l, 1, err, sizeof err));
    CHECK_FAILS(loader_next(l, &b, err, sizeof err), "sizes differ");
    loader_free(l);
    l = loader_new(d, 1, NULL, false, false, 1, threads, err, sizeof err);
    CHECK(l && loader_start_epoch(l, 0, err, sizeof err));
    CHECK_FAILS(loader_next(l, &b, err, sizeof err), "sizes differ");
    CHECK(loader_start_epoch(l, 0, err, sizeof err));
    loader_free(l);
  }
  AugmentOptions crop = {8, 8, 1, 1, false};
  Loader *l = loader_new(d, 1, &crop, false, false, 1, 2, err, sizeof err);
  Batch b;
  CHECK(l && loader_start_epoch(l, 0, err, sizeof err));
  for (int i = 0; i < 2; i++) CHECK(!loader_next(l, &b, err, sizeof err));
  CHECK(loader_start_epoch(l, 0, err, sizeof err));
  loader_free(l);
  dataset_close(d);
  /* the corrupt image alone, through a crop loader with workers */
  char *one = tmp_path("cs_corrupt");
  CHECK(synth_write_dataset(one, 3, 0, 20, 30, 2, err, sizeof err));
  snprintf(path, sizeof path, "%s/leftImg8bit/train/synth/synth_000001_leftImg8bit.png", one);
  CHECK(write_bytes(path, "garbage!", 8));
  d = dataset_open(one, "train", NULL, err, sizeof err);
  l = loader_new(d, 1, &crop, false, false, 1, 2, err, sizeof err);
  CHECK(l && loader_start_epoch(l, 0, err, sizeof err));
  CHECK(loader_next(l, &b, err, sizeof err) && b.first_index == 0);
  CHECK_FAILS(loader_next(l, &b, err, sizeof err), "synth_000001_leftImg8bit.png: not a PNG or JPEG image");
  loader_free(l);
  dataset_close(d);
}

static void test_synthetic_errors(void) {
  DatasetOptions bad_count = {-1, 0, 0, 1}, bad_size = {10, 0, 64, 1}, ok = {0, 0, 0, 1};
  CHECK_OPEN_FAILS("synthetic", "test", NULL, "splits train and val");
  CHECK_OPEN_FAILS("synthetic", "train", &bad_count, "count -1");
  CHECK_OPEN_FAILS("synthetic", "train", &bad_size, "64x0");
  char err[1024];
  Dataset *d = dataset_open("synthetic", "train", &ok, err, sizeof err);
  CHECK(d && dataset_size(d) == 1000);
  CHECK_STR(dataset_name(d, 7), "synthetic:7");
  unsigned char *rgb, *ids;
  int h, w;
  CHECK(dataset_load(d, 0, &rgb, &ids, &h, &w, err, sizeof err) && h == 256 && w == 512);
  free(rgb), free(ids);
  dataset_close(d);
  d = dataset_open("synthetic", NULL, NULL, err, sizeof err);
  CHECK(d && dataset_size(d) == 1000);
  dataset_close(d);
  CHECK_FAILS(synth_write_dataset(tmp_path("w"), -1, 0, 8, 8, 1, err, sizeof err), "image counts");
  CHECK_FAILS(synth_write_dataset(tmp_path("w"), 1, 0, 0, 8, 1, err, sizeof err), "image size");
  char under_file[600];
  snprintf(under_file, sizeof under_file, "%s/plain_file/sub", tmpdir);
  CHECK_FAILS(synth_write_dataset(under_file, 1, 0, 8, 8, 1, err, sizeof err), "cannot create folder");
}

/* labelIds -> train ids, through the loader at batch 1 without augmentation. */
static void test_label_mapping(void) {
  static const unsigned char label_ids[] = {0, 1, 4, 6, 7, 8, 9, 11, 12, 13, 17, 19, 20, 21, 22, 23,
                                            24, 25, 26, 27, 28, 31, 32, 33, 34, 200, 255, 5, 14, 29, 30, 3};
  static const unsigned char train_ids[] = {255, 255, 255, 255, 0,  1,  255, 2,  3,   4,   5,   6,   7, 8,   9,   10,
                                            11,  12,  13,  14,  15, 16, 17,  18, 255, 255, 255, 255, 255, 255, 255, 255};
  unsigned char rgb[4 * 8 * 3] = {0};
  char *root = tmp_path("map"), err[1024];
  write_pair(root, "val", "x", "x_0", rgb, label_ids, 4, 8, false);
  Dataset *d = dataset_open(root, "val", NULL, err, sizeof err);
  Loader *l = d ? loader_new(d, 1, NULL, false, false, 0, 1, err, sizeof err) : NULL;
  Batch b;
  CHECK(l && loader_start_epoch(l, 0, err, sizeof err) && loader_next(l, &b, err, sizeof err));
  if (l && b.labels) CHECK(b.n == 1 && b.h == 4 && b.w == 8 && !memcmp(b.labels, train_ids, 32));
  for (int i = 0; i < 32; i++) CHECK_EQ_I64(cityscapes_label_to_train(label_ids[i]), train_ids[i]);
  CHECK(l && !loader_next(l, &b, err, sizeof err) && err[0] == 0);
  loader_free(l);
  dataset_close(d);
}

/* ---- the loader ---- */

typedef struct {
  int nbatches;
  size_t bytes;
  unsigned char *data; /* every batch's indices, image floats and labels, back to back */
} Run;

static void run_append(Run *r, const void *p, size_t n) {
  r->data = realloc(r->data, r->bytes + n);
  memcpy(r->data + r->bytes, p, n);
  r->bytes += n;
}

/* All the batches of one epoch. */
static Run run_epoch(Loader *l, int epoch) {
  Run r = {0};
  char err[1024];
  Batch b;
  CHECK(loader_start_epoch(l, epoch, err, sizeof err));
  while (loader_next(l, &b, err, sizeof err)) {
    size_t px = (size_t)b.n * b.h * b.w;
    run_append(&r, b.indices, sizeof(int) * (size_t)b.n);
    run_append(&r, b.image, px * 3 * sizeof(float));
    run_append(&r, b.labels, px);
    r.nbatches++;
  }
  CHECK_STR(err, "");
  return r;
}

static bool same_run(const Run *a, const Run *b) {
  return a->nbatches == b->nbatches && a->bytes == b->bytes && !memcmp(a->data, b->data, a->bytes);
}

static void test_loader_determinism(void) {
  DatasetOptions o = {10, 40, 80, 3};
  char err[1024];
  Dataset *d = dataset_open("synthetic", "train", &o, err, sizeof err);
  AugmentOptions aug = {32, 48, 0.5, 1.5, true};
  Run runs[3][2];
  int threads[3] = {1, 4, 0};
  for (int t = 0; t < 3; t++) {
    Loader *l = loader_new(d, 3, &aug, true, false, 77, threads[t], err, sizeof err);
    CHECK(l && loader_batches_per_epoch(l) == 4);
    if (!l) return;
    Batch b;
    CHECK(loader_start_epoch(l, 1, err, sizeof err) && loader_next(l, &b, err, sizeof err)); /* abandoned */
    for (int e = 0; e < 2; e++) runs[t][e] = run_epoch(l, e);
    loader_free(l);
  }
  for (int t = 1; t < 3; t++) CHECK(same_run(&runs[0][0], &runs[t][0]) && same_run(&runs[0][1], &runs[t][1]));
  CHECK(runs[0][0].nbatches == 4 && !same_run(&runs[0][0], &runs[0][1]));
  /* each epoch visits every sample once; the two orders differ */
  int order[2][10], k[2] = {0, 0};
  for (int e = 0; e < 2; e++) {
    Loader *l = loader_new(d, 3, &aug, true, false, 77, 2, err, sizeof err);
    Batch b;
    CHECK(loader_start_epoch(l, e, err, sizeof err));
    while (loader_next(l, &b, err, sizeof err))
      for (int i = 0; i < b.n; i++) order[e][k[e]++] = b.indices[i];
    CHECK(k[e] == 10 && b.n == 0);
    loader_free(l);
    int seen = 0;
    for (int i = 0; i < 10; i++) seen |= 1 << order[e][i];
    CHECK_EQ_I64(seen, 1023);
  }
  CHECK(memcmp(order[0], order[1], sizeof order[0]) != 0);
  /* drop_last, no shuffle: dataset order, 3 full batches */
  Loader *l = loader_new(d, 3, NULL, false, true, 77, 2, err, sizeof err);
  CHECK(l && loader_batches_per_epoch(l) == 3);
  Run plain = run_epoch(l, 0);
  CHECK(plain.nbatches == 3 && ((int *)plain.data)[0] == 0);
  loader_free(l);
  free(plain.data);
  for (int t = 0; t < 3; t++) free(runs[t][0].data), free(runs[t][1].data);
  dataset_close(d);
}

/* A dataset whose image colour encodes the label: blocks of 6x6 pixels, each one class, coloured
   with that class's palette colour. After scale/crop/flip, wherever the label is uniform around a
   pixel, the image there must have that class's colour; padding must be label 255 and image 0. */
static Dataset *open_block_dataset(int h, int w) {
  char *root = tmp_path("blocks"), err[1024];
  unsigned char *rgb = malloc((size_t)h * w * 3), *lab = malloc((size_t)h * w);
  uint32_t r = 99;
  for (int i = 0; i < 3; i++) {
    int cls[64][64];
    for (int by = 0; by < 64; by++)
      for (int bx = 0; bx < 64; bx++) r = r * 1103515245u + 12345u, cls[by][bx] = (int)((r >> 16) % NCLS);
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        int c = cls[y / 6][x / 6];
        memcpy(rgb + 3 * ((size_t)y * w + x), cityscapes_class_colors[c], 3);
        lab[(size_t)y * w + x] = (unsigned char)cityscapes_train_to_label(c);
      }
    char stem[32];
    snprintf(stem, sizeof stem, "b_%d", i);
    write_pair(root, "train", "b", stem, rgb, lab, h, w, false);
  }
  free(rgb), free(lab);
  return dataset_open(root, "train", NULL, err, sizeof err);
}

/* The RGB byte that a normalized value came from. */
static int denormalize(float v, int c) { return (int)lround((v * image_std[c] + image_mean[c]) * 255); }

/* Checks batch b against the colour code; counts interior pixels checked and padding pixels. */
static void check_alignment(const Batch *b, long *checked, long *padded) {
  size_t plane = (size_t)b->h * b->w;
  bool ok = true;
  for (int s = 0; s < b->n; s++) {
    const unsigned char *lab = b->labels + plane * s;
    const float *img = b->image + plane * 3 * s;
    for (int y = 1; y < b->h - 1; y++)
      for (int x = 1; x < b->w - 1; x++) {
        int L = lab[(size_t)y * b->w + x];
        bool uniform = true;
        for (int dy = -1; dy <= 1; dy++)
          for (int dx = -1; dx <= 1; dx++) uniform &= lab[(size_t)(y + dy) * b->w + x + dx] == L;
        if (!uniform) continue;
        for (int c = 0; c < 3; c++) {
          int v = denormalize(img[plane * c + (size_t)y * b->w + x], c);
          if (L == 255) ok &= v == 0;
          else ok &= abs(v - cityscapes_class_colors[L][c]) <= 1;
        }
        if (L == 255) (*padded)++;
        else (*checked)++;
      }
  }
  CHECK(ok);
}

static void test_augment_alignment(void) {
  int h = 60, w = 90;
  Dataset *d = open_block_dataset(h, w);
  CHECK(d && dataset_size(d) == 3);
  if (!d) return;
  char err[1024];
  AugmentOptions aug = {48, 72, 0.6, 1.6, true};
  Loader *l = loader_new(d, 3, &aug, true, false, 5, 2, err, sizeof err);
  long checked = 0, padded = 0;
  for (int e = 0; e < 8; e++) {
    Batch b;
    CHECK(loader_start_epoch(l, e, err, sizeof err));
    while (loader_next(l, &b, err, sizeof err)) {
      CHECK(b.h == 48 && b.w == 72 && b.n == 3);
      check_alignment(&b, &checked, &padded);
    }
  }
  printf("augmentation: %ld interior pixels checked, %ld padding pixels\n", checked, padded);
  CHECK(checked > 20000 && padded > 300);
  loader_free(l);
  /* flip alone: each sample is the source or its mirror, image and labels alike; both happen */
  AugmentOptions flip = {0, 0, 0, 0, true};
  l = loader_new(d, 1, &flip, false, false, 5, 1, err, sizeof err);
  int same = 0, mirrored = 0;
  for (int e = 0; e < 6; e++) {
    Batch b;
    CHECK(loader_start_epoch(l, e, err, sizeof err));
    while (loader_next(l, &b, err, sizeof err)) {
      unsigned char *rgb, *ids;
      int sh, sw;
      CHECK(dataset_load(d, b.first_index, &rgb, &ids, &sh, &sw, err, sizeof err));
      if (!rgb) continue;
      bool is_same = true, is_mirror = true;
      for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
          int L = b.labels[y * w + x], R = denormalize(b.image[y * w + x], 0);
          is_same &= L == ids[y * w + x] && R == rgb[3 * (y * w + x)];
          is_mirror &= L == ids[y * w + w - 1 - x] && R == rgb[3 * (y * w + w - 1 - x)];
        }
      same += is_same, mirrored += is_mirror;
      CHECK(is_same || is_mirror);
      free(rgb), free(ids);
    }
  }
  CHECK(same > 0 && mirrored > 0);
  loader_free(l);
  dataset_close(d);
}

static void test_normalization(void) {
  unsigned char rgb[2 * 3 * 3] = {0, 0, 0, 255, 255, 255, 128, 64, 32, 10, 20, 30, 200, 100, 50, 1, 2, 3};
  unsigned char lab[6] = {7, 7, 7, 7, 7, 7};
  char *root = tmp_path("norm"), err[1024];
  write_pair(root, "train", "n", "n_0", rgb, lab, 2, 3, false);
  Dataset *d = dataset_open(root, "train", NULL, err, sizeof err);
  Loader *l = d ? loader_new(d, 1, NULL, false, false, 0, 1, err, sizeof err) : NULL;
  Batch b;
  CHECK(l && loader_start_epoch(l, 0, err, sizeof err) && loader_next(l, &b, err, sizeof err));
  if (!l || !b.image) return;
  const double mean[3] = {0.485, 0.456, 0.406}, std[3] = {0.229, 0.224, 0.225};
  double maxerr = 0;
  for (int c = 0; c < 3; c++)
    for (int k = 0; k < 6; k++) maxerr = fmax(maxerr, fabs(b.image[c * 6 + k] - (rgb[3 * k + c] / 255.0 - mean[c]) / std[c]));
  CHECK(maxerr < 1e-6);
  CHECK(fabs(b.image[0] - (-0.485 / 0.229)) < 1e-6 && fabs(b.image[1] - (0.515 / 0.229)) < 1e-6);
  CHECK(fabs(b.image[6 + 1] - (0.544 / 0.224)) < 1e-6 && fabs(b.image[12 + 1] - (0.594 / 0.225)) < 1e-6);
  float ref[18];
  image_normalize_rgb8(rgb, 2, 3, ref);
  CHECK(!memcmp(ref, b.image, sizeof ref));
  loader_free(l);
  dataset_close(d);
}

/* Full images of different sizes: fine at batch 1, an error naming both at batch 2. */
static void test_eval_sizes(void) {
  char *root = tmp_path("sizes"), err[1024];
  unsigned char rgb[24 * 30 * 3] = {0}, lab[24 * 30] = {0};
  write_pair(root, "val", "c", "c_a", rgb, lab, 20, 30, false);
  write_pair(root, "val", "c", "c_b", rgb, lab, 24, 30, false);
  Dataset *d = dataset_open(root, "val", NULL, err, sizeof err);
  Loader *l = loader_new(d, 1, NULL, false, false, 0, 2, err, sizeof err);
  Batch b;
  CHECK(l && loader_start_epoch(l, 0, err, sizeof err));
  CHECK(loader_next(l, &b, err, sizeof err) && b.h == 20 && b.w == 30 && b.first_index == 0);
  CHECK(loader_next(l, &b, err, sizeof err) && b.h == 24 && b.w == 30 && b.first_index == 1);
  CHECK(!loader_next(l, &b, err, sizeof err) && err[0] == 0);
  loader_free(l);
  l = loader_new(d, 2, NULL, false, false, 0, 2, err, sizeof err);
  CHECK(l && loader_start_epoch(l, 0, err, sizeof err));
  CHECK_FAILS(loader_next(l, &b, err, sizeof err), "images in one batch differ in size");
  CHECK_FAILS(loader_next(l, &b, err, sizeof err), "c_a_leftImg8bit.png");
  CHECK_FAILS(loader_next(l, &b, err, sizeof err), "c_b_leftImg8bit.png");
  loader_free(l);
  dataset_close(d);
}

static void test_loader_errors(void) {
  char err[1024];
  DatasetOptions o = {5, 16, 16, 1};
  Dataset *d = dataset_open("synthetic", "train", &o, err, sizeof err);
  AugmentOptions half_crop = {16, 0, 1, 1, false}, bad_scale = {0, 0, 2, 1, false}, neg = {8, 8, -1, 1, false};
  CHECK_FAILS(loader_new(d, 0, NULL, false, false, 0, 1, err, sizeof err) != NULL, "batch size");
  CHECK_FAILS(loader_new(d, 1, NULL, false, false, 0, -1, err, sizeof err) != NULL, "threads");
  CHECK_FAILS(loader_new(d, 1, &half_crop, false, false, 0, 1, err, sizeof err) != NULL, "crop size");
  CHECK_FAILS(loader_new(d, 1, &bad_scale, false, false, 0, 1, err, sizeof err) != NULL, "scale range");
  CHECK_FAILS(loader_new(d, 1, &neg, false, false, 0, 1, err, sizeof err) != NULL, "scale range");
  CHECK_FAILS(loader_new(d, 6, NULL, false, true, 0, 1, err, sizeof err) != NULL, "fewer than one batch");
  CHECK_FAILS(loader_new(NULL, 1, NULL, false, false, 0, 1, err, sizeof err) != NULL, "no dataset");
  Loader *l = loader_new(d, 6, NULL, false, false, 0, 1, err, sizeof err);
  Batch b;
  CHECK(l && loader_batches_per_epoch(l) == 1);
  CHECK_FAILS(loader_next(l, &b, err, sizeof err), "loader_start_epoch");
  CHECK_FAILS(loader_start_epoch(l, -1, err, sizeof err), "epoch");
  CHECK(loader_start_epoch(l, 0, err, sizeof err) && loader_next(l, &b, err, sizeof err) && b.n == 5);
  loader_free(l);
  loader_free(NULL);
  dataset_close(d);
  dataset_close(NULL);
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/sqn_dataset_XXXXXX");
  if (!mkdtemp(tmpdir)) return perror("mkdtemp"), 2;
  test_synth_determinism();
  test_synth_speed();
  test_synth_quality();
  test_write_and_list();
  test_listing_order_and_jpeg();
  test_layout_errors();
  test_load_errors();
  test_synthetic_errors();
  test_label_mapping();
  test_loader_determinism();
  test_augment_alignment();
  test_normalization();
  test_eval_sizes();
  test_loader_errors();
  nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  return test_summary();
}
