/* fuzz_readers.c - libFuzzer targets for the runtime's file readers, which read what users hand to
   sqnrun: plans (FUZZ_PLAN), PyTorch .pth files (FUZZ_PTH), safetensors files (FUZZ_SAFETENSORS),
   PNG/JPEG images (FUZZ_IMAGE), NumPy .npy arrays (FUZZ_NPY), latency tables (FUZZ_LUT), training
   checkpoints (FUZZ_CHECKPOINT) and datasets in the Cityscapes layout (FUZZ_DATASET).
   Each must return a result or an error message, never crash, leak or read out of bounds; a target
   aborts (a finding) when a reader fails without saying why. The readers that take a path read the
   input through /proc/self/fd/N of a memfd (or of an unlinked temporary file). With SQN_FUZZ_DIAG set
   in the environment the targets print what the readers said (for triaging a reproducer:
   SQN_FUZZ_DIAG=1 fuzz_image FILE). */
#define _GNU_SOURCE /* memfd_create */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plan.h"
#include "pth.h"
#include "safetensors.h"

#if defined(FUZZ_IMAGE) || defined(FUZZ_NPY) || defined(FUZZ_LUT) || defined(FUZZ_CHECKPOINT)
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>
/* The path of a file holding d[0..n): one memfd, rewritten for every input. */
static const char *input_file(const void *d, size_t n) {
  static int fd = -1;
  static char path[64];
  if (fd < 0) {
    fd = memfd_create("sqn_fuzz_input", 0);
    if (fd < 0) { /* no memfd: an unlinked temporary file works the same through /proc/self/fd */
      const char *dir = getenv("TMPDIR");
      char tmp[4096];
      snprintf(tmp, sizeof tmp, "%s/sqn_fuzz_input.XXXXXX", dir && *dir ? dir : "/tmp");
      fd = mkstemp(tmp);
      if (fd >= 0) unlink(tmp);
    }
    if (fd < 0) perror("fuzz_readers: cannot create the input file"), abort();
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  }
  if (ftruncate(fd, 0) != 0) perror("fuzz_readers: ftruncate"), abort();
  for (size_t off = 0; off < n;) {
    ssize_t w = pwrite(fd, (const char *)d + off, n - off, (off_t)off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) perror("fuzz_readers: write"), abort();
    off += (size_t)w;
  }
  return path;
}
#endif

/* With $SQN_FUZZ_DIAG: the reader's verdict on stderr. */
__attribute__((unused)) static void diag(const char *what, bool ok, const char *err) {
  static int on = -1;
  if (on < 0) {
    const char *v = getenv("SQN_FUZZ_DIAG");
    on = v && *v && *v != '0';
  }
  if (on) fprintf(stderr, "%s: %s%s\n", what, ok ? "ok" : "error: ", ok ? "" : err);
}

/* Reads the last byte of a result the reader says is len bytes long: ASan reports a shorter buffer. */
__attribute__((unused)) static void touch_last(const void *p, size_t len) {
  if (len) (void)*(volatile const unsigned char *)((const unsigned char *)p + len - 1);
}

#if defined(FUZZ_IMAGE) || defined(FUZZ_DATASET)
#include "image_io.h"
/* Images the readers must decode because they are within IMAGE_MAX_DIM and IMAGE_MAX_PIXELS, but which are too big to
   decode under the fuzzer's memory and time limits: a few bytes can legitimately declare a huge
   image (an arithmetic-coded JPEG may end its data early and decode to gray: the standard allows
   it; a PNG compresses 1032:1 and packs 8 pixels a byte), and 32768 x 32768 is 3 GiB of RGB and
   12 GiB normalized. The targets skip inputs whose PNG IHDR or first JPEG SOF declares more pixels
   than this, unless they are over IMAGE_MAX_DIM or IMAGE_MAX_PIXELS (the refusal is fuzzed). */
#define FUZZ_MAX_PIXELS (4096u * 4096u)

static uint32_t be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t be32(const uint8_t *p) { return be16(p) << 16 | be16(p + 2); }

/* The size a PNG or JPEG declares, as libpng/libjpeg find it: the IHDR that must come first, or the
   first start-of-frame marker (walking the segments as libjpeg does). False if none. */
static bool declared_size(const uint8_t *d, size_t n, uint32_t *w, uint32_t *h) {
  if (n >= 24 && !memcmp(d, "\x89PNG\r\n\x1a\n", 8) && !memcmp(d + 12, "IHDR", 4))
    return *w = be32(d + 16), *h = be32(d + 20), true;
  if (n < 4 || d[0] != 0xff || d[1] != 0xd8) return false;
  for (size_t i = 2; i + 4 <= n;) {
    if (d[i] != 0xff || d[i + 1] == 0xff) { /* libjpeg skips bytes up to a marker */
      i++;
      continue;
    }
    uint8_t m = d[i + 1];
    if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) /* SOFn */
      return i + 9 <= n ? (*h = be16(d + i + 5), *w = be16(d + i + 7), true) : false;
    if (m == 0x01 || (m >= 0xd0 && m <= 0xd9)) i += 2; /* TEM, RSTn, SOI, EOI: no length */
    else i += 2 + be16(d + i + 2);
  }
  return false;
}

static bool too_many_pixels(const uint8_t *d, size_t n) {
  uint32_t w, h;
  return declared_size(d, n, &w, &h) && w <= IMAGE_MAX_DIM && h <= IMAGE_MAX_DIM &&
         (uint64_t)w * h <= IMAGE_MAX_PIXELS && (uint64_t)w * h > FUZZ_MAX_PIXELS;
}
#endif

#if defined(FUZZ_PLAN)
/* Mutated plans would almost all stop at the checksum: fix it up so the structural checks are fuzzed. */
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
  char err[512] = "";
  unsigned char *buf = malloc(n ? n : 1);
  memcpy(buf, d, n);
  if (n >= SQN_PLAN_OFF_CRC + 4) {
    uint32_t crc = plan_checksum(buf, n);
    for (int i = 0; i < 4; i++) buf[SQN_PLAN_OFF_CRC + i] = (unsigned char)(crc >> (8 * i));
  }
  Plan *p = plan_read_mem(buf, n, err, sizeof err);
  free(buf);
  diag("plan_read_mem", p != NULL, err);
  if (!p && !err[0]) abort(); /* a refusal must say why */
  if (p) {
    FILE *devnull = fopen("/dev/null", "w");
    plan_print_info(p, devnull, false); /* a plan that reads must also print */
    plan_print_info(p, devnull, true);
    fclose(devnull);
  }
  plan_free(p);
  return 0;
}
#elif defined(FUZZ_PTH)
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
  char err[512] = "";
  TensorSet *s = pth_read_mem(d, n, err, sizeof err);
  diag("pth_read_mem", s != NULL, err);
  if (!s && !err[0]) abort();
  tensor_set_free(s);
  return 0;
}
#elif defined(FUZZ_SAFETENSORS)
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
  char err[512] = "", *meta = NULL;
  TensorSet *s = safetensors_read_mem(d, n, &meta, err, sizeof err);
  diag("safetensors_read_mem", s != NULL, err);
  if (!s && !err[0]) abort();
  unsigned char *out = NULL;
  size_t outlen = 0;
  if (s && !safetensors_encode(s, meta, &out, &outlen, err, sizeof err)) abort(); /* what reads re-encodes */
  free(out);
  free(meta);
  tensor_set_free(s);
  return 0;
}
#elif defined(FUZZ_IMAGE)
/* PNG and JPEG (image_png.c, image_jpeg.c, image_io.c): the input as an RGB image normalized for the
   network (image_read_normalized, through image_read_rgb8) and as a label image (image_read_gray_png). */
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
  if (too_many_pixels(d, n)) return 0;
  const char *path = input_file(d, n);
  char err[512] = "";
  NamedTensor t;
  bool ok = image_read_normalized(path, &t, err, sizeof err);
  diag("image_read_normalized", ok, err);
  if (ok) {
    if (t.ndim != 4 || t.dims[0] != 1 || t.dims[1] != 3 || t.dims[2] < 1 || t.dims[3] < 1 ||
        t.dims[2] > IMAGE_MAX_DIM || t.dims[3] > IMAGE_MAX_DIM ||
        t.nbytes != (size_t)(t.dims[2] * t.dims[3]) * 3 * sizeof(float) || !t.name)
      abort();
    touch_last(t.data, t.nbytes);
    free(t.data), free(t.name);
  } else if (!err[0]) {
    abort();
  }
  unsigned char *px = NULL;
  int h = -1, w = -1;
  err[0] = 0;
  ok = image_read_gray_png(path, &px, &h, &w, err, sizeof err);
  diag("image_read_gray_png", ok, err);
  if (ok) {
    if (h < 1 || w < 1 || h > IMAGE_MAX_DIM || w > IMAGE_MAX_DIM || !px) abort();
    touch_last(px, (size_t)h * (size_t)w);
    free(px);
  } else if (!err[0] || px || h || w) {
    abort(); /* a refusal says why and leaves no result */
  }
  (void)image_sniff(path);
  return 0;
}
#elif defined(FUZZ_NPY)
#include "npy.h"
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
  char err[512] = "";
  NamedTensor t;
  bool ok = npy_read(input_file(d, n), &t, err, sizeof err);
  diag("npy_read", ok, err);
  if (ok) {
    size_t nb = 0;
    if (!tensor_nbytes(t.dtype, t.ndim, t.dims, &nb) || nb != t.nbytes || !t.data || !t.name) abort();
    if (t.nbytes > n) abort(); /* the data is in the file */
    touch_last(t.data, t.nbytes);
    npy_free(&t);
  } else if (!err[0]) {
    abort();
  }
  return 0;
}
#elif defined(FUZZ_LUT)
#include "search.h"
/* The table is checked against a plan: the space compiled from tests/fuzz_corpus/01_tiny_space.sqn
   at build time (FUZZ_LUT_PLAN, tests/fuzz.cmake), or the plan file named by $SQN_FUZZ_LUT_PLAN. */
static const Plan *lut_plan(void) {
  static Plan *p;
  if (!p) {
    const char *path = getenv("SQN_FUZZ_LUT_PLAN");
#ifdef FUZZ_LUT_PLAN
    if (!path || !*path) path = FUZZ_LUT_PLAN;
#endif
    char err[512] = "";
    p = path && *path ? plan_read_file(path, err, sizeof err) : NULL;
    if (!p || !p->is_space || p->nsb < 1) {
      fprintf(stderr, "fuzz_lut: needs the plan of a search space in $SQN_FUZZ_LUT_PLAN (%s: %s)\n",
              path ? path : "unset", p ? "not a search space" : err);
      exit(2);
    }
  }
  return p;
}

#ifdef FUZZ_TRAINER_STUBS
/* search.c's mixing and theta-gradient code needs the trainer, which the fuzz build leaves out (it
   would pull in the whole runtime); cost_from_lut never reaches it. */
float *trainer_theta(Trainer *t, int sb) {
  (void)t, (void)sb;
  abort();
}
const float *trainer_mix_grad(const Trainer *t) {
  (void)t;
  abort();
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
  const Plan *p = lut_plan();
  char err[512] = "";
  CostTable c;
  bool ok = cost_from_lut(p, input_file(d, n), &c, err, sizeof err);
  diag("cost_from_lut", ok, err);
  if (ok) {
    if (c.nsb != p->nsb || !c.cand || c.objective != PLAN_OBJ_LATENCY || c.fixed < 0) abort();
    int choice[64] = {0};
    if (c.nsb <= 64) (void)cost_of(&c, choice);
    touch_last(c.cand, (size_t)c.nsb * (size_t)c.maxc * sizeof *c.cand);
    cost_free(&c);
  } else if (!err[0]) {
    abort();
  }
  return 0;
}
#elif defined(FUZZ_CHECKPOINT)
#include "checkpoint.h"
/* A training checkpoint: checkpoint_load (safetensors_read_ex, then the run state from the metadata:
   parse_metadata over json_min.c). An input that starts with '{' is the __metadata__ object itself,
   wrapped here into a checkpoint with a weight and its momentum, so that mutations of the run state
   reach parse_metadata without first breaking the safetensors header length; anything else is the
   whole file. */
static const char ckpt_tensors[] = ",\"momentum.w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                                   "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
  unsigned char *file = NULL;
  size_t len = n;
  if (n && d[0] == '{') {
    static const char pre[] = "{\"__metadata__\":";
    size_t hlen = sizeof pre - 1 + n + sizeof ckpt_tensors - 1;
    len = 8 + hlen + 8;
    file = malloc(len);
    if (!file) return 0;
    for (int i = 0; i < 8; i++) file[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    memcpy(file + 8, pre, sizeof pre - 1);
    memcpy(file + 8 + sizeof pre - 1, d, n);
    memcpy(file + 8 + sizeof pre - 1 + n, ckpt_tensors, sizeof ckpt_tensors - 1);
    static const unsigned char data[8] = {0, 0, 0x80, 0x3f, 0, 0, 0, 0x40};
    memcpy(file + 8 + hlen, data, 8);
  }
  const char *path = input_file(file ? file : d, len);
  free(file);
  char err[512] = "";
  TensorSet *w = NULL, *o = NULL;
  RunState *s = malloc(sizeof *s); /* 8 KiB: not on the fuzzer's stack */
  if (!s) return 0;
  bool ok = checkpoint_load(path, &w, &o, s, err, sizeof err);
  diag("checkpoint_load", ok, err);
  if (ok) {
    if (!w || !o || memchr(s->pruned, 0, sizeof s->pruned) == NULL) abort();
  } else if (!err[0] || w || o) {
    abort();
  }
  tensor_set_free(w), tensor_set_free(o);
  free(s);
  return 0;
}
#elif defined(FUZZ_DATASET)
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>
#include "dataset.h"
/* A dataset folder in the Cityscapes layout (dataset_cityscapes.c, and the image readers through it).
   The input is split at every FUZZ_DATASET_SEP into parts; a part's first byte picks one of the
   paths below (modulo their number), the rest is that file's content (a path ending in '/' makes a
   folder instead). The files go under a fresh folder in $TMPDIR (or /tmp), which is then opened as
   the dataset's root (split "train") and every sample loaded. */
#define FUZZ_DATASET_SEP "\n--sqnfuzz--\n"
#define FUZZ_DATASET_MAX_FILES 32
#define FUZZ_DATASET_MAX_LOADS 16
static const char *const dataset_paths[] = {
    "leftImg8bit/train/aachen/aachen_000000_000019_leftImg8bit.png",
    "gtFine/train/aachen/aachen_000000_000019_gtFine_labelIds.png",
    "leftImg8bit/train/aachen/aachen_000001_000019_leftImg8bit.jpg",
    "gtFine/train/aachen/aachen_000001_000019_gtFine_labelIds.png",
    "leftImg8bit/train/bochum/bochum_000000_000313_leftImg8bit.jpeg",
    "gtFine/train/bochum/bochum_000000_000313_gtFine_labelIds.png",
    "leftImg8bit/train/bochum/x_leftImg8bit.png",
    "gtFine/train/bochum/x_gtFine_labelIds.png/", /* a folder where the label should be */
    "leftImg8bit/train/aachen/readme.txt",
    "leftImg8bit/train/zurich/",                   /* a city without images */
    "gtFine/train/",
    "leftImg8bit/train/aachen/.hidden_leftImg8bit.png",
    "leftImg8bit/train/_leftImg8bit.png",          /* a file where a city folder is expected */
    "leftImg8bit/val/aachen/aachen_000000_000019_leftImg8bit.png",
};
#define NPATHS (sizeof dataset_paths / sizeof dataset_paths[0])

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  remove(path);
  return 0;
}

static void make_parents(char *path) { /* mkdir -p of everything before the last '/' */
  for (char *s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
    *s = 0;
    mkdir(path, 0755);
    *s = '/';
  }
}

static void write_part(const char *root, const uint8_t *p, size_t len) {
  if (len == 0 || too_many_pixels(p + 1, len - 1)) return;
  const char *rel = dataset_paths[p[0] % NPATHS];
  char path[8192];
  if (snprintf(path, sizeof path, "%s/%s", root, rel) >= (int)sizeof path) abort();
  make_parents(path);
  if (rel[strlen(rel) - 1] == '/') return;
  FILE *f = fopen(path, "wb");
  if (!f) return; /* e.g. a folder already has that name */
  if (fwrite(p + 1, 1, len - 1, f) != len - 1) perror("fuzz_dataset: write"), abort();
  if (fclose(f) != 0) perror("fuzz_dataset: close"), abort();
}

static char root[4096];

static void remove_root(void) { nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS); }

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
  if (!root[0]) {
    const char *tmp = getenv("TMPDIR");
    snprintf(root, sizeof root, "%s/sqn_fuzz_dataset.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(root)) perror("fuzz_dataset: mkdtemp"), abort();
    atexit(remove_root);
  }
  remove_root(); /* the previous input's tree, root included */
  if (mkdir(root, 0700) != 0) perror("fuzz_dataset: mkdir"), abort();
  const size_t seplen = sizeof FUZZ_DATASET_SEP - 1;
  const uint8_t *p = d, *end = d + n;
  for (int files = 0; p < end && files < FUZZ_DATASET_MAX_FILES; files++) {
    const uint8_t *sep = memmem(p, (size_t)(end - p), FUZZ_DATASET_SEP, seplen);
    const uint8_t *stop = sep ? sep : end;
    write_part(root, p, (size_t)(stop - p));
    p = sep ? sep + seplen : end;
  }
  char err[1024] = "";
  Dataset *ds = dataset_open(root, "train", NULL, err, sizeof err);
  diag("dataset_open", ds != NULL, err);
  if (!ds) {
    if (!err[0]) abort();
    return 0;
  }
  for (int i = 0; i < dataset_size(ds) && i < FUZZ_DATASET_MAX_LOADS; i++) {
    unsigned char *rgb = NULL, *ids = NULL;
    int h = -1, w = -1;
    err[0] = 0;
    if (!dataset_name(ds, i)) abort();
    bool ok = dataset_load(ds, i, &rgb, &ids, &h, &w, err, sizeof err);
    diag("dataset_load", ok, err);
    if (ok) {
      if (h < 1 || w < 1 || !rgb || !ids) abort();
      touch_last(rgb, (size_t)h * (size_t)w * 3);
      for (size_t k = 0; k < (size_t)h * (size_t)w; k++)
        if (ids[k] > 18 && ids[k] != 255) abort(); /* train ids only */
    } else if (!err[0] || rgb || ids) {
      abort();
    }
    free(rgb), free(ids);
  }
  dataset_close(ds);
  return 0;
}
#else
#error "define FUZZ_PLAN, FUZZ_PTH, FUZZ_SAFETENSORS, FUZZ_IMAGE, FUZZ_NPY, FUZZ_LUT, FUZZ_CHECKPOINT or FUZZ_DATASET"
#endif
