/* test_image_io.c - tests of the runtime's image I/O (runtime/io/): the Cityscapes
   tables; palette and gray label PNGs written and read back exactly; PNGs of every color type and
   bit depth (interlaced too) and JPEGs (RGB, gray, progressive, Adobe CMYK) written here with
   libpng / libjpeg and read back; the normalization at known pixels; and missing, empty, garbage,
   truncated, corrupted, mutated and oversized files, which must give errors, not crashes or leaks.
   Self-contained (writes under a mkdtemp folder, removed at the end); meant to run under
   ASan/UBSan. Prints "N passed, M failed". */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <png.h>
#include <jpeglib.h>
#include "cityscapes.h"
#include "image_io.h"
#include "test_util.h"


/* Checks that expr (a bool call with err) fails with substr in its message. */
#define CHECK_FAILS(expr, substr)                                                                  \
  do {                                                                                           \
    char err[512] = "";                                                                          \
    bool _ok = (expr);                                                                           \
    CHECK(!_ok);                                                                                 \
    if (strstr(err, substr)) t_passed++;                                                         \
    else {                                                                                       \
      t_failed++;                                                                                \
      fprintf(stderr, "%s:%d: error \"%s\" lacks \"%s\"\n", __FILE__, __LINE__, err, substr);    \
    }                                                                                            \
  } while (0)

static uint32_t rng = 12345;
static unsigned rnd(void) {
  rng = rng * 1103515245u + 12345u;
  return (rng >> 16) & 0x7fff;
}

static bool write_bytes(const char *path, const void *d, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return false;
  bool ok = fwrite(d, 1, n, f) == n;
  return (fclose(f) == 0) && ok;
}

static unsigned char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *d = malloc(len > 0 ? (size_t)len : 1);
  *n = fread(d, 1, (size_t)len, f);
  fclose(f);
  return d;
}

/* ---- fixtures written with libpng / libjpeg directly ---- */

/* Writes a PNG from packed rows (rowbytes each, as PNG stores them: big-endian 16-bit samples,
   sub-byte pixels packed MSB first). palette/trns optional. */
static void write_png_full(const char *path, int w, int h, int color_type, int depth, const unsigned char *data,
                           size_t rowbytes, const png_color *pal, int npal, const unsigned char *trns, int ntrns,
                           png_color_16 *trns_color, bool interlace) {
  FILE *f = fopen(path, "wb");
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    fprintf(stderr, "fixture %s: libpng failed\n", path);
    exit(2);
  }
  png_init_io(png, f);
  png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, color_type,
               interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  if (pal) png_set_PLTE(png, info, pal, npal);
  if (trns || trns_color) png_set_tRNS(png, info, trns, ntrns, trns_color);
  png_write_info(png, info);
  png_bytep *rows = malloc(sizeof *rows * (size_t)h);
  for (int y = 0; y < h; y++) rows[y] = (png_bytep)(uintptr_t)(data + rowbytes * (size_t)y);
  png_write_image(png, rows);
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  free(rows);
  fclose(f);
}

static void write_png_raw(const char *path, int w, int h, int color_type, int depth, const unsigned char *data,
                          size_t rowbytes, const png_color *pal, int npal, const unsigned char *trns, int ntrns,
                          bool interlace) {
  write_png_full(path, w, h, color_type, depth, data, rowbytes, pal, npal, trns, ntrns, NULL, interlace);
}

static void write_png_raw_trns(const char *path, int w, int h, int color_type, int depth, const unsigned char *data,
                               size_t rowbytes, png_color_16 *trns_color) {
  write_png_full(path, w, h, color_type, depth, data, rowbytes, NULL, 0, NULL, 0, trns_color, false);
}

/* Writes a JPEG of h*w*comps samples in color space cs. */
static void write_jpeg(const char *path, int w, int h, const unsigned char *px, int comps, J_COLOR_SPACE cs,
                       int quality, bool progressive) {
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr jerr;
  c.err = jpeg_std_error(&jerr);
  jpeg_create_compress(&c);
  unsigned char *mem = NULL;
  unsigned long memlen = 0;
  jpeg_mem_dest(&c, &mem, &memlen);
  c.image_width = (JDIMENSION)w, c.image_height = (JDIMENSION)h;
  c.input_components = comps, c.in_color_space = cs;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, quality, TRUE);
  if (progressive) jpeg_simple_progression(&c);
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = (JSAMPROW)(uintptr_t)(px + (size_t)c.next_scanline * (size_t)w * (size_t)comps);
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  write_bytes(path, mem, memlen);
  free(mem);
}

/* ---- tests ---- */

static void test_cityscapes(void) {
  static const int train_of[34] = {255, 255, 255, 255, 255, 255, 255, 0,  1,  255, 255, 2,
                                   3,   4,   255, 255, 255, 5,   255, 6,  7,  8,   9,   10,
                                   11,  12,  13,  14,  15,  255, 255, 16, 17, 18};
  for (int id = 0; id < 34; id++) CHECK_EQ_I64(cityscapes_label_to_train(id), train_of[id]);
  CHECK_EQ_I64(cityscapes_label_to_train(-1), 255);
  CHECK_EQ_I64(cityscapes_label_to_train(34), 255);
  CHECK_EQ_I64(cityscapes_label_to_train(255), 255);
  for (int i = 0; i < CITYSCAPES_NUM_LABELS; i++) { /* the table agrees with the function */
    const CityscapesLabel *l = &cityscapes_labels[i];
    CHECK_EQ_I64(l->id, i < 34 ? i : -1);
    CHECK_EQ_I64(l->train_id, cityscapes_label_to_train(l->id));
    if (l->train_id != 255) {
      CHECK_STR(l->name, cityscapes_class_names[l->train_id]);
      CHECK(!memcmp(l->color, cityscapes_class_colors[l->train_id], 3));
    }
  }
  CHECK_STR(cityscapes_labels[34].name, "license plate");
  static const unsigned char colors[19][3] = {
      {128, 64, 128}, {244, 35, 232}, {70, 70, 70},  {102, 102, 156}, {190, 153, 153}, {153, 153, 153}, {250, 170, 30},
      {220, 220, 0},  {107, 142, 35}, {152, 251, 152}, {70, 130, 180}, {220, 20, 60},  {255, 0, 0},     {0, 0, 142},
      {0, 0, 70},     {0, 60, 100},   {0, 80, 100},  {0, 0, 230},     {119, 11, 32}};
  static const char *const names[19] = {"road",  "sidewalk",   "building", "wall",   "fence",
                                        "pole",  "traffic light", "traffic sign", "vegetation", "terrain",
                                        "sky",   "person",     "rider",    "car",    "truck",
                                        "bus",   "train",      "motorcycle", "bicycle"};
  for (int t = 0; t < 19; t++) {
    CHECK(!memcmp(cityscapes_class_colors[t], colors[t], 3));
    CHECK_STR(cityscapes_class_names[t], names[t]);
    CHECK_EQ_I64(cityscapes_label_to_train(cityscapes_train_to_label(t)), t);
  }
  CHECK_EQ_I64(cityscapes_train_to_label(0), 7);
  CHECK_EQ_I64(cityscapes_train_to_label(18), 33);
  CHECK_EQ_I64(cityscapes_train_to_label(255), -1);
  CHECK_EQ_I64(cityscapes_train_to_label(19), -1);
  unsigned char pal[256][3];
  cityscapes_palette(pal);
  CHECK(!memcmp(pal, colors, sizeof colors));
  int nonblack = 0;
  for (int i = 19; i < 256; i++) nonblack += pal[i][0] | pal[i][1] | pal[i][2];
  CHECK_EQ_I64(nonblack, 0);
  unsigned char img[40];
  for (int i = 0; i < 40; i++) img[i] = (unsigned char)(i < 36 ? i : 200 + i);
  cityscapes_labels_to_train(img, 40);
  for (int i = 0; i < 40; i++) CHECK_EQ_I64(img[i], i < 34 ? train_of[i] : 255);
}

/* The folder holds only the files we expect: no temp file left behind by the atomic writers. */
static int count_tmp_files(void) {
  DIR *d = opendir(tmpdir);
  int n = 0;
  for (struct dirent *e; d && (e = readdir(d));)
    if (strstr(e->d_name, ".tmp.")) n++;
  if (d) closedir(d);
  return n;
}

static void test_label_pngs(void) {
  enum { H = 37, W = 53 };
  unsigned char labels[H * W];
  for (int i = 0; i < H * W; i++) labels[i] = (unsigned char)(i % 23 < 19 ? i % 23 : i % 23 == 19 ? 255 : 100 + i % 23);
  char err[256] = "";
  const char *pp = tmp_path("pred_color.png");
  CHECK(image_write_palette_png(pp, labels, H, W, err, sizeof err));
  CHECK_STR(err, "");
  CHECK(image_sniff(pp) == IMAGE_PNG);

  /* The file is an 8-bit palette PNG with the full 256-entry Cityscapes palette. */
  FILE *f = fopen(pp, "rb");
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct(png);
  if (f && !setjmp(png_jmpbuf(png))) {
    png_init_io(png, f);
    png_read_info(png, info);
    CHECK_EQ_I64(png_get_color_type(png, info), PNG_COLOR_TYPE_PALETTE);
    CHECK_EQ_I64(png_get_bit_depth(png, info), 8);
    CHECK_EQ_I64(png_get_image_width(png, info), W);
    CHECK_EQ_I64(png_get_image_height(png, info), H);
    png_colorp pal = NULL;
    int npal = 0;
    png_get_PLTE(png, info, &pal, &npal);
    CHECK_EQ_I64(npal, 256);
    if (npal == 256) {
      CHECK(pal[0].red == 128 && pal[0].green == 64 && pal[0].blue == 128);
      CHECK(pal[13].red == 0 && pal[13].green == 0 && pal[13].blue == 142);
      CHECK(pal[18].red == 119 && pal[18].green == 11 && pal[18].blue == 32);
      CHECK(pal[255].red == 0 && pal[255].green == 0 && pal[255].blue == 0);
    }
  } else CHECK(!"libpng could not read the palette PNG");
  png_destroy_read_struct(&png, &info, NULL);
  if (f) fclose(f);

  /* Indices back exactly; colors through the RGB reader. */
  unsigned char *px = NULL, *rgb = NULL;
  int h = 0, w = 0;
  CHECK(image_read_gray_png(pp, &px, &h, &w, err, sizeof err));
  CHECK(h == H && w == W && px && !memcmp(px, labels, sizeof labels));
  free(px);
  CHECK(image_read_rgb8(pp, &rgb, &h, &w, err, sizeof err));
  CHECK(h == H && w == W);
  int bad = 0;
  for (int i = 0; rgb && i < H * W; i++) {
    static const unsigned char black[3] = {0, 0, 0};
    const unsigned char *want = labels[i] < 19 ? cityscapes_class_colors[labels[i]] : black;
    bad += memcmp(rgb + 3 * i, want, 3) != 0;
  }
  CHECK_EQ_I64(bad, 0);
  free(rgb);

  /* Gray: every byte value, exactly. */
  unsigned char all[16 * 16];
  for (int i = 0; i < 256; i++) all[i] = (unsigned char)(255 - i);
  const char *gp = tmp_path("pred_ids.png");
  CHECK(image_write_gray_png(gp, all, 16, 16, err, sizeof err));
  CHECK(image_read_gray_png(gp, &px, &h, &w, err, sizeof err));
  CHECK(h == 16 && w == 16 && px && !memcmp(px, all, sizeof all));
  free(px);
  CHECK(image_read_rgb8(gp, &rgb, &h, &w, err, sizeof err));
  bad = 0;
  for (int i = 0; rgb && i < 256; i++) bad += rgb[3 * i] != all[i] || rgb[3 * i + 1] != all[i] || rgb[3 * i + 2] != all[i];
  CHECK_EQ_I64(bad, 0);
  free(rgb);

  /* Overwriting an existing file (atomically) works; a 1x1 image too. */
  unsigned char one = 7;
  CHECK(image_write_gray_png(gp, &one, 1, 1, err, sizeof err));
  CHECK(image_read_gray_png(gp, &px, &h, &w, err, sizeof err));
  CHECK(h == 1 && w == 1 && px && px[0] == 7);
  free(px);
  CHECK_EQ_I64(count_tmp_files(), 0);

  /* Bad arguments and unwritable places. */
  CHECK_FAILS(image_write_gray_png(tmp_path("x.png"), labels, 0, 5, err, sizeof err), "empty image");
  CHECK_FAILS(image_write_palette_png(tmp_path("x.png"), labels, -1, 5, err, sizeof err), "empty image");
  CHECK_FAILS(image_write_palette_png(tmp_path("x.png"), NULL, 5, 5, err, sizeof err), "empty image");
  CHECK_FAILS(image_write_gray_png(tmp_path("x.png"), labels, 1, 40000, err, sizeof err), "image too large");
  CHECK_FAILS(image_write_palette_png(tmp_path("no/such/dir/x.png"), labels, H, W, err, sizeof err),
              "no/such/dir/x.png: No such file or directory");
  CHECK_FAILS(image_write_palette_png("/proc/version", labels, H, W, err, sizeof err), "cannot");
  CHECK(access(tmp_path("x.png"), F_OK) != 0);
  CHECK_EQ_I64(count_tmp_files(), 0);
}

/* Reads path with image_read_rgb8 and compares with want (h*w*3) exactly. */
static void expect_rgb(const char *path, int W, int H, const unsigned char *want, int line) {
  unsigned char *rgb = NULL;
  int h = 0, w = 0;
  char err[256] = "";
  bool ok = image_read_rgb8(path, &rgb, &h, &w, err, sizeof err);
  if (ok && h == H && w == W && !memcmp(rgb, want, (size_t)W * H * 3)) t_passed++;
  else {
    t_failed++;
    fprintf(stderr, "%s:%d: %s reads as %dx%d (%s), expected %dx%d with the expected pixels\n", __FILE__, line, path,
            w, h, ok ? "pixels differ" : err, W, H);
  }
  free(rgb);
}
#define EXPECT_RGB(path, w, h, want) expect_rgb(path, w, h, want, __LINE__)

static void test_png_types(void) {
  enum { W = 13, H = 7, N = W * H };
  unsigned char want[N * 3], raw[N * 8];
  unsigned char v[N * 4]; /* random 8-bit samples */
  for (int i = 0; i < N * 4; i++) v[i] = (unsigned char)rnd();

  /* RGB 8, plain and interlaced */
  memcpy(want, v, N * 3);
  write_png_raw(tmp_path("rgb8.png"), W, H, PNG_COLOR_TYPE_RGB, 8, v, W * 3, NULL, 0, NULL, 0, false);
  EXPECT_RGB(tmp_path("rgb8.png"), W, H, want);
  write_png_raw(tmp_path("rgb8i.png"), W, H, PNG_COLOR_TYPE_RGB, 8, v, W * 3, NULL, 0, NULL, 0, true);
  EXPECT_RGB(tmp_path("rgb8i.png"), W, H, want);

  png_color_16 tc = {.red = v[0], .green = v[1], .blue = v[2]}; /* RGB with a transparent color: ignored */
  write_png_raw_trns(tmp_path("rgb8t.png"), W, H, PNG_COLOR_TYPE_RGB, 8, v, W * 3, &tc);
  EXPECT_RGB(tmp_path("rgb8t.png"), W, H, want);

  /* RGBA 8: alpha dropped */
  for (int i = 0; i < N; i++) memcpy(want + 3 * i, v + 4 * i, 3);
  write_png_raw(tmp_path("rgba8.png"), W, H, PNG_COLOR_TYPE_RGB_ALPHA, 8, v, W * 4, NULL, 0, NULL, 0, false);
  EXPECT_RGB(tmp_path("rgba8.png"), W, H, want);

  /* gray 8 and gray+alpha 8 */
  for (int i = 0; i < N; i++) memset(want + 3 * i, v[i], 3);
  write_png_raw(tmp_path("gray8.png"), W, H, PNG_COLOR_TYPE_GRAY, 8, v, W, NULL, 0, NULL, 0, false);
  EXPECT_RGB(tmp_path("gray8.png"), W, H, want);
  for (int i = 0; i < N; i++) raw[2 * i] = v[i], raw[2 * i + 1] = v[N + i];
  write_png_raw(tmp_path("graya8.png"), W, H, PNG_COLOR_TYPE_GRAY_ALPHA, 8, raw, W * 2, NULL, 0, NULL, 0, true);
  EXPECT_RGB(tmp_path("graya8.png"), W, H, want);

  /* gray 1/2/4: expanded to 8 bits by scaling (1 -> 255, 2-bit x85, 4-bit x17) */
  static const int depths[3] = {1, 2, 4};
  for (int k = 0; k < 3; k++) {
    int d = depths[k], per = 8 / d, maxv = (1 << d) - 1;
    size_t rb = (size_t)(W + per - 1) / (size_t)per;
    memset(raw, 0, sizeof raw);
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++) {
        int s = v[y * W + x] & maxv;
        raw[(size_t)y * rb + (size_t)(x / per)] |= (unsigned char)(s << (8 - d * (x % per + 1)));
        memset(want + 3 * (y * W + x), s * 255 / maxv, 3);
      }
    char name[32];
    snprintf(name, sizeof name, "gray%d.png", d);
    write_png_raw(tmp_path(name), W, H, PNG_COLOR_TYPE_GRAY, d, raw, rb, NULL, 0, NULL, 0, k == 1);
    EXPECT_RGB(tmp_path(name), W, H, want);
    /* with a transparent gray level (tRNS): ignored */
    png_color_16 tc = {.gray = 1};
    write_png_raw_trns(tmp_path("gray_trns.png"), W, H, PNG_COLOR_TYPE_GRAY, d, raw, rb, &tc);
    EXPECT_RGB(tmp_path("gray_trns.png"), W, H, want);
  }

  /* 16-bit: the high byte of each sample (big-endian in the file) */
  for (int i = 0; i < N * 3; i++) raw[2 * i] = v[i], raw[2 * i + 1] = v[(i + 7) % (N * 4)];
  memcpy(want, v, N * 3);
  write_png_raw(tmp_path("rgb16.png"), W, H, PNG_COLOR_TYPE_RGB, 16, raw, W * 6, NULL, 0, NULL, 0, false);
  EXPECT_RGB(tmp_path("rgb16.png"), W, H, want);
  for (int i = 0; i < N; i++) {
    for (int c = 0; c < 4; c++) raw[8 * i + 2 * c] = v[4 * i + c], raw[8 * i + 2 * c + 1] = (unsigned char)(c * 50 + 3);
    memcpy(want + 3 * i, v + 4 * i, 3);
  }
  write_png_raw(tmp_path("rgba16.png"), W, H, PNG_COLOR_TYPE_RGB_ALPHA, 16, raw, W * 8, NULL, 0, NULL, 0, true);
  EXPECT_RGB(tmp_path("rgba16.png"), W, H, want);
  for (int i = 0; i < N; i++) raw[2 * i] = v[i], raw[2 * i + 1] = 0xff, memset(want + 3 * i, v[i], 3);
  write_png_raw(tmp_path("gray16.png"), W, H, PNG_COLOR_TYPE_GRAY, 16, raw, W * 2, NULL, 0, NULL, 0, false);
  EXPECT_RGB(tmp_path("gray16.png"), W, H, want);

  /* palette 8-bit (with tRNS, ignored) and 4-bit; the gray reader gives the indices */
  png_color pal[16];
  for (int i = 0; i < 16; i++)
    pal[i].red = (png_byte)(i * 16 + 1), pal[i].green = (png_byte)(255 - i * 9), pal[i].blue = (png_byte)(i * i);
  unsigned char trns[3] = {0, 128, 255};
  unsigned char idx[N];
  for (int i = 0; i < N; i++) {
    idx[i] = (unsigned char)(v[i] % 16);
    want[3 * i] = pal[idx[i]].red, want[3 * i + 1] = pal[idx[i]].green, want[3 * i + 2] = pal[idx[i]].blue;
  }
  write_png_raw(tmp_path("pal8.png"), W, H, PNG_COLOR_TYPE_PALETTE, 8, idx, W, pal, 16, trns, 3, false);
  EXPECT_RGB(tmp_path("pal8.png"), W, H, want);
  size_t rb4 = (W + 1) / 2;
  memset(raw, 0, sizeof raw);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) raw[(size_t)y * rb4 + (size_t)x / 2] |= (unsigned char)(idx[y * W + x] << (x % 2 ? 0 : 4));
  write_png_raw(tmp_path("pal4.png"), W, H, PNG_COLOR_TYPE_PALETTE, 4, raw, rb4, pal, 16, NULL, 0, true);
  EXPECT_RGB(tmp_path("pal4.png"), W, H, want);
  unsigned char *px = NULL;
  int h = 0, w = 0;
  char err[256];
  CHECK(image_read_gray_png(tmp_path("pal4.png"), &px, &h, &w, err, sizeof err));
  CHECK(h == H && w == W && px && !memcmp(px, idx, N));
  free(px);
  CHECK(image_read_gray_png(tmp_path("gray8.png"), &px, &h, &w, err, sizeof err));
  CHECK(h == H && w == W && px && !memcmp(px, v, N));
  free(px);

  /* The label reader refuses what is not an 8-bit gray / palette PNG, with the reason. */
  CHECK_FAILS(image_read_gray_png(tmp_path("rgb8.png"), &px, &h, &w, err, sizeof err), "got 8-bit RGB");
  CHECK(px == NULL);
  CHECK_FAILS(image_read_gray_png(tmp_path("gray16.png"), &px, &h, &w, err, sizeof err), "got 16-bit grayscale");
  CHECK_FAILS(image_read_gray_png(tmp_path("gray4.png"), &px, &h, &w, err, sizeof err), "got 4-bit grayscale");
  CHECK_FAILS(image_read_gray_png(tmp_path("graya8.png"), &px, &h, &w, err, sizeof err), "grayscale+alpha");
}

static void test_jpeg(void) {
  enum { W = 64, H = 48 };
  static unsigned char img[H * W * 3], gray[H * W], cmyk[H * W * 4];
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) { /* smooth, so that JPEG keeps it close */
      unsigned char *p = img + 3 * (y * W + x);
      p[0] = (unsigned char)(x * 4), p[1] = (unsigned char)(y * 5), p[2] = (unsigned char)(128 + (x - y));
      gray[y * W + x] = (unsigned char)(x * 2 + y * 2);
      unsigned char *q = cmyk + 4 * (y * W + x); /* Adobe (inverted) CMYK: R = C*K/255, ... */
      q[0] = 255, q[1] = 0, q[2] = 255, q[3] = 200;
    }
  struct {
    const char *name;
    const unsigned char *px;
    int comps;
    J_COLOR_SPACE cs;
    bool progressive;
  } cases[] = {{"rgb.jpg", img, 3, JCS_RGB, false},
               {"rgb_progressive.jpg", img, 3, JCS_RGB, true},
               {"gray.jpg", gray, 1, JCS_GRAYSCALE, false},
               {"cmyk.jpg", cmyk, 4, JCS_CMYK, false}};
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    const char *path = tmp_path(cases[k].name);
    write_jpeg(path, W, H, cases[k].px, cases[k].comps, cases[k].cs, 95, cases[k].progressive);
    CHECK(image_sniff(path) == IMAGE_JPEG);
    unsigned char *rgb = NULL;
    int h = 0, w = 0;
    char err[256] = "";
    CHECK(image_read_rgb8(path, &rgb, &h, &w, err, sizeof err));
    CHECK_STR(err, "");
    CHECK(h == H && w == W);
    if (!rgb || h != H || w != W) {
      free(rgb);
      continue;
    }
    int maxdiff = 0;
    double sum = 0;
    for (int i = 0; i < H * W; i++)
      for (int c = 0; c < 3; c++) {
        int want = cases[k].comps == 3 ? cases[k].px[3 * i + c]
                   : cases[k].comps == 1 ? cases[k].px[i]
                                         : (c == 1 ? 0 : 200); /* C*K/255: 255*200/255, 0, 200 */
        int d = abs(rgb[3 * i + c] - want);
        if (d > maxdiff) maxdiff = d;
        sum += d;
        if (cases[k].comps == 1 && c > 0 && rgb[3 * i + c] != rgb[3 * i]) maxdiff = 999; /* gray: R = G = B */
      }
    if (maxdiff <= 12 && sum / (H * W * 3) < 2.0) t_passed++;
    else {
      t_failed++;
      fprintf(stderr, "%s:%d: %s: max diff %d, mean %.3f\n", __FILE__, __LINE__, cases[k].name, maxdiff, sum / (H * W * 3));
    }
    free(rgb);
  }
  unsigned char *px = NULL;
  int h, w;
  CHECK_FAILS(image_read_gray_png(tmp_path("rgb.jpg"), &px, &h, &w, err, sizeof err), "not a label image: a JPEG");
}

static void test_normalize(void) {
  /* 2x3 RGB: white, black, red / (128, 64, 32), mid gray, (1, 2, 3) */
  static const unsigned char px[2 * 3 * 3] = {255, 255, 255, 0, 0, 0, 255, 0, 0, 128, 64, 32, 127, 127, 127, 1, 2, 3};
  const char *path = tmp_path("norm.png");
  write_png_raw(path, 3, 2, PNG_COLOR_TYPE_RGB, 8, px, 9, NULL, 0, NULL, 0, false);
  NamedTensor t;
  char err[256] = "";
  CHECK(image_read_normalized(path, &t, err, sizeof err));
  CHECK_STR(err, "");
  CHECK(t.dtype == DT_F32);
  CHECK_EQ_I64(t.ndim, 4);
  CHECK(t.dims[0] == 1 && t.dims[1] == 3 && t.dims[2] == 2 && t.dims[3] == 3);
  CHECK_EQ_I64(t.nbytes, 1 * 3 * 2 * 3 * 4);
  CHECK_STR(t.name, path);
  const float *d = t.data;
  if (!d) return;
  static const double mean[3] = {0.485, 0.456, 0.406}, std[3] = {0.229, 0.224, 0.225};
  int bad = 0;
  for (int c = 0; c < 3; c++) {
    /* known values, in double: white (1 - mean) / std, black -mean / std */
    double white = (1 - mean[c]) / std[c], black = -mean[c] / std[c];
    bad += fabs(d[c * 6 + 0] - white) > 1e-5;
    bad += fabs(d[c * 6 + 1] - black) > 1e-5;
    for (int i = 0; i < 6; i++) {
      /* CHW layout, and bit-identical to torchvision's float32 ops */
      float want = ((float)px[3 * i + c] / 255.0f - (float)mean[c]) / (float)std[c];
      bad += memcmp(&d[c * 6 + i], &want, 4) != 0;
      bad += fabs(d[c * 6 + i] - (px[3 * i + c] / 255.0 - mean[c]) / std[c]) > 1e-5;
    }
  }
  CHECK_EQ_I64(bad, 0);
  CHECK(fabs(d[0] - 2.2489083) < 2e-6 && fabs(d[6] - 2.4285715) < 2e-6 && fabs(d[12] - 2.64) < 2e-6);
  CHECK(fabs(d[1] + 2.1179039) < 2e-6 && fabs(d[7] + 2.0357143) < 2e-6 && fabs(d[13] + 1.8044444) < 2e-6);
  CHECK(fabs(d[2] - 2.2489083) < 2e-6 && fabs(d[8] + 2.0357143) < 2e-6 && fabs(d[14] + 1.8044444) < 2e-6);
  free(t.data);
  free(t.name);
  CHECK(image_mean[1] == 0.456f && image_std[2] == 0.225f);

  /* image_normalize_rgb8 is the same function on pixels in memory. */
  float buf[18];
  image_normalize_rgb8(px, 2, 3, buf);
  CHECK(image_read_normalized(path, &t, err, sizeof err));
  CHECK(t.data && !memcmp(buf, t.data, sizeof buf));
  free(t.data);
  free(t.name);

  /* On failure the tensor is zeroed, so freeing it is harmless. */
  CHECK_FAILS(image_read_normalized(tmp_path("missing.png"), &t, err, sizeof err), "cannot open");
  CHECK(t.data == NULL && t.name == NULL);
  free(t.data);
  free(t.name);
}

/* Every read of path fails, with one of the accepted messages, and leaves the outputs empty. */
static void expect_read_fails(const char *path, const char *a, const char *b, int line) {
  unsigned char *rgb = (unsigned char *)1;
  int h = -1, w = -1;
  char err[512] = "";
  bool ok = image_read_rgb8(path, &rgb, &h, &w, err, sizeof err);
  if (!ok && rgb == NULL && h == 0 && w == 0 && (strstr(err, a) || (b && strstr(err, b)))) t_passed++;
  else {
    t_failed++;
    fprintf(stderr, "%s:%d: reading %s: ok=%d, error \"%s\" (expected \"%s\"%s%s)\n", __FILE__, line, path, ok, err,
            a, b ? " or " : "", b ? b : "");
  }
  if (ok) free(rgb);
  NamedTensor t;
  ok = image_read_normalized(path, &t, err, sizeof err);
  CHECK(!ok && t.data == NULL);
  if (ok) free(t.data), free(t.name);
}
#define EXPECT_READ_FAILS(path, a, b) expect_read_fails(path, a, b, __LINE__)

static void test_bad_files(void) {
  char err[512];
  unsigned char *px;
  int h, w;
  EXPECT_READ_FAILS(tmp_path("missing.png"), "cannot open: No such file", NULL);
  EXPECT_READ_FAILS(tmpdir, "not a regular file", "cannot");
  write_bytes(tmp_path("empty.png"), "", 0);
  EXPECT_READ_FAILS(tmp_path("empty.png"), "empty file", NULL);
  CHECK_FAILS(image_read_gray_png(tmp_path("missing.png"), &px, &h, &w, err, sizeof err), "cannot open");
  CHECK_FAILS(image_read_gray_png(tmp_path("empty.png"), &px, &h, &w, err, sizeof err), "empty file");

  unsigned char junk[1000];
  for (size_t i = 0; i < sizeof junk; i++) junk[i] = (unsigned char)rnd();
  junk[0] = 'x';
  write_bytes(tmp_path("garbage.png"), junk, sizeof junk);
  EXPECT_READ_FAILS(tmp_path("garbage.png"), "not a PNG or JPEG image", NULL);
  CHECK(image_sniff(tmp_path("garbage.png")) == IMAGE_UNKNOWN);
  CHECK(image_sniff(tmp_path("missing.png")) == IMAGE_UNKNOWN);
  CHECK_FAILS(image_read_gray_png(tmp_path("garbage.png"), &px, &h, &w, err, sizeof err), "not a PNG or JPEG");
  write_bytes(tmp_path("a.npy"), "\x93NUMPY\x01\x00", 8);
  EXPECT_READ_FAILS(tmp_path("a.npy"), "looks like a NumPy .npy file", NULL);
  write_bytes(tmp_path("a.gif"), "GIF89a\x01\x00", 8);
  EXPECT_READ_FAILS(tmp_path("a.gif"), "not a PNG or JPEG image (looks like GIF)", NULL);
  /* The right magic followed by garbage. */
  memcpy(junk, "\x89PNG\r\n\x1a\n", 8);
  write_bytes(tmp_path("garbage2.png"), junk, sizeof junk);
  EXPECT_READ_FAILS(tmp_path("garbage2.png"), "corrupt PNG", NULL);
  memcpy(junk, "\xff\xd8\xff", 3);
  write_bytes(tmp_path("garbage.jpg"), junk, sizeof junk);
  EXPECT_READ_FAILS(tmp_path("garbage.jpg"), "corrupt JPEG", "truncated JPEG");

  /* Truncations at many lengths: a PNG (interlaced RGB) and a baseline and a progressive JPEG. */
  const char *sources[] = {"rgb8i.png", "pal8.png", "rgb.jpg", "rgb_progressive.jpg", "gray.jpg"};
  for (size_t s = 0; s < sizeof sources / sizeof sources[0]; s++) {
    size_t n = 0;
    unsigned char *d = slurp(tmp_path(sources[s]), &n);
    CHECK(d && n > 100);
    if (!d) continue;
    bool is_png = d[0] == 0x89;
    size_t cuts[] = {1, 2, 3, 5, 8, 9, 16, 24, 33, 34, 40, 50, 64, 100, n / 3, n / 2, n - 50, n - 13, n - 12, n - 2, n - 1};
    int failures = 0;
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
      if (cuts[i] >= n) continue;
      write_bytes(tmp_path("cut.img"), d, cuts[i]);
      unsigned char *rgb = NULL;
      char e[512] = "";
      bool ok = image_read_rgb8(tmp_path("cut.img"), &rgb, &h, &w, e, sizeof e);
      bool msg_ok = is_png ? (strstr(e, "truncated PNG file") || strstr(e, "corrupt PNG"))
                           : (strstr(e, "truncated JPEG file") || strstr(e, "corrupt JPEG"));
      if (ok || !msg_ok || rgb) {
        failures++;
        fprintf(stderr, "%s cut at %zu of %zu: ok=%d \"%s\"\n", sources[s], cuts[i], n, ok, e);
      }
      free(rgb);
      if (is_png && !strstr(sources[s], "rgb")) { /* the label reader too */
        ok = image_read_gray_png(tmp_path("cut.img"), &rgb, &h, &w, e, sizeof e);
        if (ok) failures++;
        free(rgb);
      }
    }
    CHECK_EQ_I64(failures, 0);
    /* Most cuts are plainly "truncated". */
    write_bytes(tmp_path("cut.img"), d, n / 2);
    EXPECT_READ_FAILS(tmp_path("cut.img"), is_png ? "truncated PNG file" : "truncated JPEG file", NULL);

    /* A flipped byte in the PNG image data fails its CRC. */
    if (is_png) {
      unsigned char *m = malloc(n);
      memcpy(m, d, n);
      m[n - 30] ^= 0x55;
      write_bytes(tmp_path("flip.png"), m, n);
      EXPECT_READ_FAILS(tmp_path("flip.png"), "corrupt PNG", NULL);
      free(m);
    }

    /* Random mutations: any result is fine as long as it is a clean one (ASan watches). */
    int clean = 0, runs = 300;
    unsigned char *m = malloc(n);
    for (int r = 0; r < runs; r++) {
      memcpy(m, d, n);
      int k = 1 + (int)(rnd() % 4);
      for (int j = 0; j < k; j++) m[rnd() % n] = (unsigned char)rnd();
      if (r % 3 == 0) m[8 + rnd() % 60] = (unsigned char)rnd(); /* hit the headers too */
      write_bytes(tmp_path("mut.img"), m, n);
      unsigned char *rgb = NULL;
      char e[512] = "";
      bool ok = image_read_rgb8(tmp_path("mut.img"), &rgb, &h, &w, e, sizeof e);
      clean += ok ? (rgb && h > 0 && w > 0) : (rgb == NULL && e[0] != 0);
      free(rgb);
      ok = image_read_gray_png(tmp_path("mut.img"), &rgb, &h, &w, e, sizeof e);
      free(rgb);
    }
    CHECK_EQ_I64(clean, runs);
    free(m);
    free(d);
  }

  /* Too large: refused from the header, before any pixel memory. */
  static unsigned char row[40000 / 8 + 1];
  write_png_raw(tmp_path("wide.png"), 40000, 1, PNG_COLOR_TYPE_GRAY, 1, row, sizeof row - 1, NULL, 0, NULL, 0, false);
  EXPECT_READ_FAILS(tmp_path("wide.png"), "image too large: 40000x1 (the limits are 32768 on a side and 134217728 pixels)", NULL);
  /* Within the side limit but over the pixel limit (one all-zero row repeated: a 20 KiB file). */
  static unsigned char row16k[16384 / 8];
  write_png_raw(tmp_path("bomb.png"), 16384, 8193, PNG_COLOR_TYPE_GRAY, 1, row16k, 0, NULL, 0, NULL, 0, false);
  EXPECT_READ_FAILS(tmp_path("bomb.png"), "image too large: 16384x8193", NULL);
  static unsigned char tall[40000];
  write_png_raw(tmp_path("tall.png"), 1, 40000, PNG_COLOR_TYPE_GRAY, 8, tall, 1, NULL, 0, NULL, 0, false);
  EXPECT_READ_FAILS(tmp_path("tall.png"), "image too large: 1x40000", NULL);
  CHECK_FAILS(image_read_gray_png(tmp_path("tall.png"), &px, &h, &w, err, sizeof err), "image too large");
  static unsigned char wide_gray[40000 * 8];
  write_jpeg(tmp_path("wide.jpg"), 40000, 8, wide_gray, 1, JCS_GRAYSCALE, 50, false);
  EXPECT_READ_FAILS(tmp_path("wide.jpg"), "image too large: 40000x8", NULL);
  /* The limit itself is fine. */
  static unsigned char edge[32768 / 8];
  write_png_raw(tmp_path("edge.png"), 32768, 1, PNG_COLOR_TYPE_GRAY, 1, edge, sizeof edge, NULL, 0, NULL, 0, false);
  unsigned char *rgb = NULL;
  CHECK(image_read_rgb8(tmp_path("edge.png"), &rgb, &h, &w, err, sizeof err) && h == 1 && w == 32768);
  free(rgb);
}

static void cleanup(void) {
  DIR *d = opendir(tmpdir);
  for (struct dirent *e; d && (e = readdir(d));)
    if (e->d_name[0] != '.') unlink(tmp_path(e->d_name));
  if (d) closedir(d);
  rmdir(tmpdir);
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/sqn_image_io_XXXXXX");
  if (!mkdtemp(tmpdir)) return perror("mkdtemp"), 2;
  test_cityscapes();
  test_label_pngs();
  test_png_types();
  test_jpeg();
  test_normalize();
  test_bad_files();
  cleanup();
  return test_summary();
}
