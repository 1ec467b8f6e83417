/* image_png.c - PNG with libpng: decoding a file held in memory to 8-bit RGB or to 8-bit gray /
   palette indices, and writing 8-bit palette or gray label maps atomically. libpng reports errors
   by longjmp; every libpng call runs in a small function that did the setjmp, while everything to
   free lives in a context struct owned by its caller, which cleans up on either path. So a bad
   file gives false and a message, never an exit or a leak, and no local is clobbered. */
#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "atomic_file.h"
#include "cityscapes.h"
#include "image_codecs.h"
#include "err.h"

/* First member of both contexts: what the error handler fills in. */
typedef struct {
  char msg[200];  /* libpng's message, or ours */
  bool truncated; /* the reader ran out of bytes */
  bool too_large; /* IHDR over IMAGE_MAX_DIM (msg has the size) */
  int errnum;     /* the writer's errno */
} PngErr;

static void on_error(png_structp png, png_const_charp msg) {
  PngErr *e = png_get_error_ptr(png);
  if (!e->truncated && !e->too_large && !e->errnum) snprintf(e->msg, sizeof e->msg, "%s", msg ? msg : "error");
  png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg) { (void)png, (void)msg; }

static const char *color_type_name(int ct) {
  switch (ct) {
  case PNG_COLOR_TYPE_GRAY: return "grayscale";
  case PNG_COLOR_TYPE_GRAY_ALPHA: return "grayscale+alpha";
  case PNG_COLOR_TYPE_RGB: return "RGB";
  case PNG_COLOR_TYPE_RGB_ALPHA: return "RGBA";
  case PNG_COLOR_TYPE_PALETTE: return "palette";
  default: return "unknown";
  }
}

/* ---- reading ---- */

typedef struct {
  PngErr e;
  const unsigned char *data;
  size_t len, pos;
  png_structp png;
  png_infop info;
  unsigned char *px;
  png_bytep *rows;
  int h, w;
  bool gray; /* decode to one byte per pixel (labels) instead of RGB */
  char wrong[96]; /* gray mode: the PNG type that is not a label image */
} PngRead;

static void read_mem(png_structp png, png_bytep out, size_t n) {
  PngRead *r = png_get_io_ptr(png);
  if (n > r->len - r->pos) {
    r->e.truncated = true;
    png_error(png, "truncated");
  }
  memcpy(out, r->data + r->pos, n);
  r->pos += n;
}

/* Runs libpng on r; false on any error (details in r->e / r->wrong). */
static bool decode(PngRead *r) {
  if (setjmp(png_jmpbuf(r->png))) return false;
  png_set_read_fn(r->png, r, read_mem);
  png_read_info(r->png, r->info);
  png_uint_32 w = png_get_image_width(r->png, r->info), h = png_get_image_height(r->png, r->info);
  int depth = png_get_bit_depth(r->png, r->info), ct = png_get_color_type(r->png, r->info);
  if (w > IMAGE_MAX_DIM || h > IMAGE_MAX_DIM || (uint64_t)w * h > IMAGE_MAX_PIXELS) {
    snprintf(r->e.msg, sizeof r->e.msg, "image too large: %lux%lu (the limits are %d on a side and %u pixels)",
             (unsigned long)w, (unsigned long)h, IMAGE_MAX_DIM, IMAGE_MAX_PIXELS);
    r->e.too_large = true;
    return false;
  }
  int channels = 3;
  if (r->gray) {
    channels = 1;
    if (ct == PNG_COLOR_TYPE_PALETTE) {
      if (depth < 8) png_set_packing(r->png); /* indices as they are, one per byte */
    } else if (ct != PNG_COLOR_TYPE_GRAY || depth != 8) {
      snprintf(r->wrong, sizeof r->wrong, "%d-bit %s", depth, color_type_name(ct));
      return false;
    }
  } else {
    if (ct == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(r->png);
    if (ct == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(r->png);
    if (depth == 16) png_set_strip_16(r->png);
    /* png_set_palette_to_rgb also turns a tRNS chunk into alpha: strip that too. */
    if ((ct & PNG_COLOR_MASK_ALPHA) || png_get_valid(r->png, r->info, PNG_INFO_tRNS)) png_set_strip_alpha(r->png);
    if (ct == PNG_COLOR_TYPE_GRAY || ct == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(r->png);
  }
  png_set_interlace_handling(r->png);
  png_read_update_info(r->png, r->info);
  size_t rowbytes = (size_t)w * (size_t)channels;
  if (png_get_rowbytes(r->png, r->info) != rowbytes || png_get_bit_depth(r->png, r->info) != 8)
    png_error(r->png, "unexpected pixel layout after conversion");
  r->w = (int)w, r->h = (int)h;
  r->px = malloc(rowbytes * h);
  r->rows = malloc(sizeof *r->rows * h);
  if (!r->px || !r->rows) png_error(r->png, "out of memory");
  for (png_uint_32 y = 0; y < h; y++) r->rows[y] = r->px + rowbytes * y;
  png_read_image(r->png, r->rows);
  png_read_end(r->png, NULL); /* checks the chunks after the image data up to IEND */
  return true;
}

static bool png_decode(const unsigned char *data, size_t len, bool gray, unsigned char **out, int *h, int *w,
                       char *err, size_t n) {
  PngRead r;
  memset(&r, 0, sizeof r);
  r.data = data, r.len = len, r.gray = gray;
  *out = NULL, *h = *w = 0;
  r.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &r.e, on_error, on_warning);
  if (r.png) r.info = png_create_info_struct(r.png);
  if (!r.png || !r.info) {
    png_destroy_read_struct(r.png ? &r.png : NULL, NULL, NULL);
    return err_set(err, n, "out of memory");
  }
  bool ok = decode(&r);
  png_destroy_read_struct(&r.png, &r.info, NULL);
  free(r.rows);
  if (ok) {
    *out = r.px, *h = r.h, *w = r.w;
    return true;
  }
  free(r.px);
  if (r.wrong[0])
    return err_set(err, n, "not a label image: expected an 8-bit grayscale or palette PNG, got %s", r.wrong);
  if (r.e.truncated) return err_set(err, n, "truncated PNG file");
  if (r.e.too_large) return err_set(err, n, "%s", r.e.msg);
  if (!strcmp(r.e.msg, "out of memory")) return err_set(err, n, "out of memory");
  return err_set(err, n, "corrupt PNG: %s", r.e.msg);
}

bool imgpng_decode_rgb8(const unsigned char *data, size_t len, unsigned char **rgb, int *h, int *w, char *err,
                        size_t n) {
  return png_decode(data, len, false, rgb, h, w, err, n);
}

bool imgpng_decode_gray8(const unsigned char *data, size_t len, unsigned char **px, int *h, int *w, char *err,
                         size_t n) {
  return png_decode(data, len, true, px, h, w, err, n);
}

/* ---- writing ---- */

typedef struct {
  PngErr e;
  png_structp png;
  png_infop info;
  FILE *f;
  png_bytep *rows;
} PngWrite;

static void write_file(png_structp png, png_bytep d, size_t n) {
  PngWrite *c = png_get_io_ptr(png);
  if (fwrite(d, 1, n, c->f) != n) {
    c->e.errnum = errno ? errno : EIO;
    png_error(png, "write failed");
  }
}

static void flush_file(png_structp png) { (void)png; }

static bool encode(PngWrite *c, const unsigned char *px, int h, int w, bool palette) {
  if (setjmp(png_jmpbuf(c->png))) return false;
  png_set_write_fn(c->png, c, write_file, flush_file);
  png_set_IHDR(c->png, c->info, (png_uint_32)w, (png_uint_32)h, 8,
               palette ? PNG_COLOR_TYPE_PALETTE : PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (palette) {
    png_color pal[256];
    unsigned char rgb[256][3];
    cityscapes_palette(rgb);
    for (int i = 0; i < 256; i++) pal[i].red = rgb[i][0], pal[i].green = rgb[i][1], pal[i].blue = rgb[i][2];
    png_set_PLTE(c->png, c->info, pal, 256);
  }
  png_write_info(c->png, c->info);
  c->rows = malloc(sizeof *c->rows * (size_t)h);
  if (!c->rows) png_error(c->png, "out of memory");
  for (int y = 0; y < h; y++) c->rows[y] = (png_bytep)(uintptr_t)(px + (size_t)w * (size_t)y);
  png_write_image(c->png, c->rows);
  png_write_end(c->png, NULL);
  return true;
}

bool imgpng_write(const char *path, const unsigned char *px, int h, int w, bool palette, char *err, size_t n) {
  if (!px || h <= 0 || w <= 0) return err_set(err, n, "empty image (%dx%d)", w, h);
  if (h > IMAGE_MAX_DIM || w > IMAGE_MAX_DIM)
    return err_set(err, n, "image too large: %dx%d (the limit is %dx%d)", w, h, IMAGE_MAX_DIM, IMAGE_MAX_DIM);
  AtomicFile file;
  if (!atomic_open(&file, path, err, n)) return false;
  PngWrite c;
  memset(&c, 0, sizeof c);
  c.f = file.f;
  c.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &c.e, on_error, on_warning);
  if (c.png) c.info = png_create_info_struct(c.png);
  bool ok = c.png && c.info && encode(&c, px, h, w, palette);
  if (!c.png || !c.info) snprintf(c.e.msg, sizeof c.e.msg, "out of memory");
  png_destroy_write_struct(c.png ? &c.png : NULL, c.info ? &c.info : NULL);
  free(c.rows);
  errno = c.e.errnum; /* what atomic_close reports when the encoder failed on a write */
  bool done = atomic_close(&file, ok, err, n);
  if (!done && !c.e.errnum && c.e.msg[0]) err_set(err, n, "cannot write %s: %s", path, c.e.msg);
  return done;
}
