/* image_io.c - the public image readers and writers of image_io.h: reads the file, detects PNG or
   JPEG by its magic bytes (never the name), hands the bytes to image_png.c / image_jpeg.c, and
   normalizes RGB pixels as torchvision's ToTensor() + Normalize(ImageNet mean, std). */
#include "image_io.h"
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "image_codecs.h"
#include "err.h"

const float image_mean[3] = {0.485f, 0.456f, 0.406f};
const float image_std[3] = {0.229f, 0.224f, 0.225f};

static const unsigned char png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
static const unsigned char jpeg_magic[3] = {0xff, 0xd8, 0xff};

static ImageFormat sniff(const unsigned char *d, size_t len) {
  if (len >= sizeof png_magic && !memcmp(d, png_magic, sizeof png_magic)) return IMAGE_PNG;
  if (len >= sizeof jpeg_magic && !memcmp(d, jpeg_magic, sizeof jpeg_magic)) return IMAGE_JPEG;
  return IMAGE_UNKNOWN;
}

ImageFormat image_sniff(const char *path) {
  unsigned char d[8];
  FILE *f = fopen(path, "rb");
  if (!f) return IMAGE_UNKNOWN;
  size_t len = fread(d, 1, sizeof d, f);
  fclose(f);
  return sniff(d, len);
}

/* The message for a file that is neither PNG nor JPEG, naming what it looks like. */
static bool not_an_image(const unsigned char *d, size_t len, char *err, size_t n) {
  if (len < sizeof png_magic && !memcmp(d, png_magic, len)) return err_set(err, n, "truncated PNG file");
  if (len < sizeof jpeg_magic && !memcmp(d, jpeg_magic, len)) return err_set(err, n, "truncated JPEG file");
  static const struct {
    const char *magic;
    size_t len, at;
    const char *what;
  } known[] = {{"\x93NUMPY", 6, 0, "a NumPy .npy file"}, {"GIF8", 4, 0, "GIF"}, {"BM", 2, 0, "BMP"},
               {"WEBP", 4, 8, "WebP"},                   {"II*", 4, 0, "TIFF"}, {"MM\0*", 4, 0, "TIFF"},
               {"PK\3\4", 4, 0, "a zip archive"}};
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
    if (len >= known[i].at + known[i].len && !memcmp(d + known[i].at, known[i].magic, known[i].len))
      return err_set(err, n, "not a PNG or JPEG image (looks like %s)", known[i].what);
  return err_set(err, n, "not a PNG or JPEG image");
}

/* The whole regular file at path, malloc'd (caller frees). */
static unsigned char *read_file(const char *path, size_t *len, char *err, size_t n) {
  FILE *f = fopen(path, "rb");
  if (!f) return err_set(err, n, "cannot open: %s", strerror(errno)), NULL;
  struct stat st;
  unsigned char *buf = NULL;
  if (fstat(fileno(f), &st) != 0) err_set(err, n, "cannot read: %s", strerror(errno));
  else if (!S_ISREG(st.st_mode)) err_set(err, n, "not a regular file");
  else if (st.st_size == 0) err_set(err, n, "empty file");
  else if ((uint64_t)st.st_size > SIZE_MAX / 2) err_set(err, n, "file too large");
  else if (!(buf = malloc((size_t)st.st_size))) err_set(err, n, "out of memory");
  else {
    *len = fread(buf, 1, (size_t)st.st_size, f);
    if (*len != (size_t)st.st_size || ferror(f)) {
      err_set(err, n, "cannot read: %s", ferror(f) ? strerror(errno) : "the file changed size while reading");
      free(buf), buf = NULL;
    }
  }
  fclose(f);
  return buf;
}

bool image_read_rgb8(const char *path, unsigned char **rgb, int *h, int *w, char *err, size_t errlen) {
  *rgb = NULL, *h = *w = 0;
  if (err && errlen) err[0] = 0;
  size_t len = 0;
  unsigned char *d = read_file(path, &len, err, errlen);
  if (!d) return false;
  bool ok;
  switch (sniff(d, len)) {
  case IMAGE_PNG: ok = imgpng_decode_rgb8(d, len, rgb, h, w, err, errlen); break;
  case IMAGE_JPEG: ok = imgjpeg_decode_rgb8(d, len, rgb, h, w, err, errlen); break;
  default: ok = not_an_image(d, len, err, errlen); break;
  }
  free(d);
  return ok;
}

void image_normalize_rgb8(const unsigned char *rgb, int h, int w, float *dst) {
  /* Per channel and byte value: torchvision's float32 ops in its order, x.div(255).sub(mean).div(std). */
  float lut[3][256];
  for (int c = 0; c < 3; c++)
    for (int v = 0; v < 256; v++) lut[c][v] = ((float)v / 255.0f - image_mean[c]) / image_std[c];
  size_t plane = (size_t)h * (size_t)w;
  for (int c = 0; c < 3; c++) {
    float *o = dst + plane * (size_t)c;
    const unsigned char *s = rgb + c;
    for (size_t i = 0; i < plane; i++) o[i] = lut[c][s[3 * i]];
  }
}

bool image_read_normalized(const char *path, NamedTensor *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  unsigned char *rgb;
  int h, w;
  if (!image_read_rgb8(path, &rgb, &h, &w, err, errlen)) return false;
  size_t nbytes = (size_t)h * (size_t)w * 3 * sizeof(float);
  float *data = malloc(nbytes);
  char *name = strdup(path);
  if (!data || !name) {
    free(rgb), free(data), free(name);
    return err_set(err, errlen, "out of memory");
  }
  image_normalize_rgb8(rgb, h, w, data);
  free(rgb);
  out->name = name;
  out->dtype = DT_F32;
  out->ndim = 4;
  out->dims[0] = 1, out->dims[1] = 3, out->dims[2] = h, out->dims[3] = w;
  out->data = data;
  out->nbytes = nbytes;
  return true;
}

bool image_read_gray_png(const char *path, unsigned char **px, int *h, int *w, char *err, size_t errlen) {
  *px = NULL, *h = *w = 0;
  if (err && errlen) err[0] = 0;
  size_t len = 0;
  unsigned char *d = read_file(path, &len, err, errlen);
  if (!d) return false;
  bool ok;
  switch (sniff(d, len)) {
  case IMAGE_PNG: ok = imgpng_decode_gray8(d, len, px, h, w, err, errlen); break;
  case IMAGE_JPEG: ok = err_set(err, errlen, "not a label image: a JPEG file (label images must be PNG)"); break;
  default: ok = not_an_image(d, len, err, errlen); break;
  }
  free(d);
  return ok;
}

bool image_write_palette_png(const char *path, const unsigned char *labels, int h, int w, char *err,
                             size_t errlen) {
  if (err && errlen) err[0] = 0;
  return imgpng_write(path, labels, h, w, true, err, errlen);
}

bool image_write_gray_png(const char *path, const unsigned char *labels, int h, int w, char *err, size_t errlen) {
  if (err && errlen) err[0] = 0;
  return imgpng_write(path, labels, h, w, false, err, errlen);
}
