/* image_jpeg.c - JPEG decoding with libjpeg(-turbo) from a file held in memory to 8-bit RGB.
   libjpeg's error_exit normally exits the process: here it longjmps back to the function that did
   the setjmp, with everything to free in a context struct owned by its caller. Warnings that mean
   the data is damaged (premature end of file, corrupt entropy data, ...) are errors too: libjpeg
   would otherwise fill the rest of the image with gray and carry on. Benign ones (extraneous bytes
   before a marker, unknown JFIF revision, bad ICC marker, unknown Adobe transform) are ignored.
   Progressive files are limited to MAX_SCANS scans (a known denial-of-service vector). */
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h> /* before jpeglib.h, which needs FILE and size_t */
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>
#include "image_codecs.h"
#include "err.h"

#define MAX_SCANS 1000

typedef struct {
  struct jpeg_error_mgr pub; /* first: libjpeg passes &pub around as cinfo->err */
  jmp_buf jmp;
  char msg[JMSG_LENGTH_MAX];
  bool truncated, too_large, too_many_scans;
} JpegErr;

typedef struct {
  JpegErr e;
  struct jpeg_decompress_struct cinfo;
  struct jpeg_progress_mgr progress;
  bool created;
  unsigned char *px;  /* the h*w*3 result */
  unsigned char *row; /* one CMYK row for the conversion */
  int h, w;
} JpegRead;

static void on_error_exit(j_common_ptr cinfo) {
  JpegErr *e = (JpegErr *)cinfo->err;
  if (!e->msg[0]) cinfo->err->format_message(cinfo, e->msg);
  longjmp(e->jmp, 1);
}

static void on_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return; /* trace messages */
  int code = cinfo->err->msg_code;
  if (code == JWRN_EXTRANEOUS_DATA || code == JWRN_JFIF_MAJOR || code == JWRN_BOGUS_ICC || code == JWRN_ADOBE_XFORM) {
    cinfo->err->num_warnings++;
    return;
  }
  JpegErr *e = (JpegErr *)cinfo->err;
  if (code == JWRN_JPEG_EOF) e->truncated = true;
  else cinfo->err->format_message(cinfo, e->msg);
  longjmp(e->jmp, 1);
}

static void on_output_message(j_common_ptr cinfo) { (void)cinfo; }

static void on_progress(j_common_ptr cinfo) {
  j_decompress_ptr d = (j_decompress_ptr)cinfo;
  if (d->input_scan_number > MAX_SCANS) {
    JpegErr *e = (JpegErr *)cinfo->err;
    e->too_many_scans = true;
    longjmp(e->jmp, 1);
  }
}

/* Scales a*b/255 with rounding, for 0 <= a, b <= 255. */
static unsigned char mul255(unsigned a, unsigned b) {
  unsigned t = a * b + 128;
  return (unsigned char)((t + (t >> 8)) >> 8);
}

static bool decode(JpegRead *r, const unsigned char *data, size_t len) {
  j_decompress_ptr c = &r->cinfo;
  if (setjmp(r->e.jmp)) return false;
  jpeg_create_decompress(c);
  r->created = true;
  r->progress.progress_monitor = on_progress;
  c->progress = &r->progress;
  jpeg_mem_src(c, data, (unsigned long)len);
  jpeg_read_header(c, TRUE);
  if (c->image_width > IMAGE_MAX_DIM || c->image_height > IMAGE_MAX_DIM ||
      (uint64_t)c->image_width * c->image_height > IMAGE_MAX_PIXELS) {
    snprintf(r->e.msg, sizeof r->e.msg, "image too large: %ux%u (the limits are %d on a side and %u pixels)",
             (unsigned)c->image_width, (unsigned)c->image_height, IMAGE_MAX_DIM, IMAGE_MAX_PIXELS);
    r->e.too_large = true;
    return false;
  }
  /* Adobe CMYK/YCCK: libjpeg gives CMYK (YCCK converted), stored inverted when there is an Adobe
     marker (Photoshop's convention); converted below as PIL does. Everything else: RGB. */
  bool cmyk = c->jpeg_color_space == JCS_CMYK || c->jpeg_color_space == JCS_YCCK;
  c->out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  c->dct_method = JDCT_ISLOW;
  c->do_fancy_upsampling = TRUE;
  jpeg_start_decompress(c);
  int comps = cmyk ? 4 : 3;
  if (c->output_components != comps || c->output_width != c->image_width || c->output_height != c->image_height)
    ERREXIT(c, JERR_BAD_J_COLORSPACE);
  size_t w = c->output_width, h = c->output_height;
  r->w = (int)w, r->h = (int)h;
  r->px = malloc(w * h * 3);
  if (cmyk) r->row = malloc(w * 4);
  if (!r->px || (cmyk && !r->row)) ERREXIT1(c, JERR_OUT_OF_MEMORY, 0);
  bool inverted = c->saw_Adobe_marker;
  while (c->output_scanline < c->output_height) {
    unsigned char *dst = r->px + (size_t)c->output_scanline * w * 3;
    JSAMPROW rows[1] = {cmyk ? r->row : dst};
    if (jpeg_read_scanlines(c, rows, 1) != 1) ERREXIT(c, JERR_INPUT_EOF);
    if (cmyk)
      for (size_t x = 0; x < w; x++) {
        const unsigned char *s = r->row + 4 * x;
        unsigned k = inverted ? s[3] : 255u - s[3];
        for (int i = 0; i < 3; i++) dst[3 * x + i] = mul255(inverted ? s[i] : 255u - s[i], k);
      }
  }
  jpeg_finish_decompress(c);
  return true;
}

bool imgjpeg_decode_rgb8(const unsigned char *data, size_t len, unsigned char **rgb, int *h, int *w, char *err,
                         size_t n) {
  JpegRead r;
  memset(&r, 0, sizeof r);
  *rgb = NULL, *h = *w = 0;
  r.cinfo.err = jpeg_std_error(&r.e.pub);
  r.e.pub.error_exit = on_error_exit;
  r.e.pub.emit_message = on_message;
  r.e.pub.output_message = on_output_message;
  bool ok = decode(&r, data, len);
  if (r.created) jpeg_destroy_decompress(&r.cinfo);
  free(r.row);
  if (ok) {
    *rgb = r.px, *h = r.h, *w = r.w;
    return true;
  }
  free(r.px);
  if (r.e.truncated) return err_set(err, n, "truncated JPEG file");
  if (r.e.too_large) return err_set(err, n, "%s", r.e.msg);
  if (r.e.too_many_scans) return err_set(err, n, "corrupt JPEG: more than %d scans", MAX_SCANS);
  return err_set(err, n, "corrupt JPEG: %s", r.e.msg);
}
