/* loader.c - the batch loader of loader.h. Work is split into tasks, one per sample position of the
   epoch; worker threads take them in order and write each sample straight into its place in a
   batch slot. A ring of slots holds the batches being filled and the one the caller holds; a task
   waits until its batch has a slot, which bounds the prefetch. Each sample's augmentation comes
   from its own random stream (seed, epoch, dataset index), so the bytes do not depend on which
   thread did the work or when. */
#include "loader.h"
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "image_io.h"
#include "err.h"

#define LOADER_MAX_THREADS 256
#define LOADER_MAX_SCALE 16.0

typedef struct {
  int batch;                 /* batch of the epoch this slot fills or holds; -1: none */
  int n, done;               /* samples in that batch, samples finished */
  int h, w;                  /* sample size; 0 until the first sample of the batch sets it */
  int size_from;             /* dataset index of the sample that set it */
  float *image;
  unsigned char *labels;
  size_t image_cap, labels_cap; /* in elements */
  int err_pos;               /* position of the first failed sample in the batch; INT_MAX: none */
  char err[768];
} Slot;

struct Loader {
  Dataset *d;
  int batch, threads, nslots;
  AugmentOptions aug;
  bool augment; /* any augmentation at all */
  bool shuffle, drop_last;
  uint64_t seed;
  int samples, batches; /* per epoch */
  int shard_rank, shard_size; /* this process's part of every batch (loader_set_shard); 0 of 1: all of it */
  int *order;           /* dataset index of each sample position of the epoch */
  int epoch;
  bool started, failed, quit;
  char fail_msg[768];
  Slot *slots;
  int next_task;  /* next sample position to hand to a worker */
  int active;     /* workers busy with a task */
  int next_batch; /* next batch for loader_next */
  int held;       /* batch the caller holds, or -1 */
  pthread_mutex_t mu;
  pthread_cond_t work, done;
  pthread_t *tids;
  int nthreads;
};


/* ---- random numbers: splitmix64 streams keyed by (seed, epoch, index) ---- */

static uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static uint64_t next64(uint64_t *state) { return mix64(*state += 0x9e3779b97f4a7c15ull); }

static uint64_t stream(uint64_t seed, uint64_t epoch, uint64_t index, uint64_t purpose) {
  return mix64(mix64(mix64(seed ^ purpose) + epoch) + index);
}

/* Uniform in 0..n-1 (n >= 1). */
static int below(uint64_t *state, int n) { return (int)(next64(state) % (uint64_t)n); }

/* ---- augmentation ---- */

typedef struct {
  int sh, sw;   /* the scaled image */
  int oh, ow;   /* the output (crop, or the scaled image) */
  int y0, x0;   /* the crop's corner in the scaled image */
  bool flip;
} AugPlan;

static AugPlan plan_augment(const Loader *l, int index, int h, int w) {
  uint64_t st = stream(l->seed, (uint64_t)l->epoch, (uint64_t)index, 0xA06);
  const AugmentOptions *a = &l->aug;
  double u = (double)(next64(&st) >> 11) * 0x1.0p-53, s = a->scale_min + (a->scale_max - a->scale_min) * u;
  AugPlan p = {.sh = (int)fmax(1, lround(h * s)), .sw = (int)fmax(1, lround(w * s))};
  p.oh = a->crop_h ? a->crop_h : p.sh, p.ow = a->crop_w ? a->crop_w : p.sw;
  p.y0 = p.sh > p.oh ? below(&st, p.sh - p.oh + 1) : 0;
  p.x0 = p.sw > p.ow ? below(&st, p.sw - p.ow + 1) : 0;
  p.flip = a->flip && (next64(&st) >> 63);
  return p;
}

/* Where output coordinate o (0..n-1) samples the source of length len (scaled to slen), in one
   axis: the two bilinear taps and weight (half-pixel centres, as align_corners=False), the
   nearest source pixel for labels, and -1 for padding. */
typedef struct {
  int lo, hi, nearest;
  float t;
} Tap;

static void axis_taps(Tap *taps, int n, int start, bool flip, int slen, int len) {
  double k = (double)len / slen;
  for (int o = 0; o < n; o++) {
    int pos = start + (flip ? n - 1 - o : o);
    if (pos >= slen) {
      taps[o] = (Tap){-1, -1, -1, 0};
      continue;
    }
    double f = fmin(fmax((pos + 0.5) * k - 0.5, 0), len - 1);
    int lo = (int)f;
    taps[o] = (Tap){lo, lo + 1 < len ? lo + 1 : lo, (int)fmin(len - 1, floor((pos + 0.5) * k)), (float)(f - lo)};
  }
}

static unsigned char lerp2(const unsigned char *a, const unsigned char *b, const unsigned char *c,
                           const unsigned char *d, float tx, float ty) {
  float top = *a + (*b - *a) * tx, bottom = *c + (*d - *c) * tx;
  return (unsigned char)(top + (bottom - top) * ty + 0.5f);
}

/* Scale, crop, pad and flip in one pass: out_rgb p->oh x p->ow x 3, out_ids p->oh x p->ow. */
static bool apply_augment(const AugPlan *p, const unsigned char *rgb, const unsigned char *ids, int h, int w,
                          unsigned char *out_rgb, unsigned char *out_ids) {
  Tap *rows = malloc(sizeof *rows * (size_t)p->oh), *cols = malloc(sizeof *cols * (size_t)p->ow);
  if (!rows || !cols) return free(rows), free(cols), false;
  axis_taps(rows, p->oh, p->y0, false, p->sh, h);
  axis_taps(cols, p->ow, p->x0, p->flip, p->sw, w);
  for (int oy = 0; oy < p->oh; oy++) {
    const Tap *ry = &rows[oy];
    unsigned char *o = out_rgb + (size_t)oy * p->ow * 3, *ol = out_ids + (size_t)oy * p->ow;
    for (int ox = 0; ox < p->ow; ox++, o += 3) {
      const Tap *cx = &cols[ox];
      if (ry->lo < 0 || cx->lo < 0) {
        o[0] = o[1] = o[2] = 0, ol[ox] = 255;
        continue;
      }
      const unsigned char *a = rgb + ((size_t)ry->lo * w + cx->lo) * 3, *b = rgb + ((size_t)ry->lo * w + cx->hi) * 3;
      const unsigned char *c = rgb + ((size_t)ry->hi * w + cx->lo) * 3, *d = rgb + ((size_t)ry->hi * w + cx->hi) * 3;
      for (int ch = 0; ch < 3; ch++) o[ch] = lerp2(a + ch, b + ch, c + ch, d + ch, cx->t, ry->t);
      ol[ox] = ids[(size_t)ry->nearest * w + cx->nearest];
    }
  }
  free(rows), free(cols);
  return true;
}

/* ---- slots ---- */

/* Positions [*lo, *hi) of batch b that this process loads: its shard of the batch's samples. */
static void shard_range(const Loader *l, int b, int *lo, int *hi) {
  int left = l->samples - b * l->batch, n = left < l->batch ? left : l->batch;
  *lo = (int)((long)n * l->shard_rank / l->shard_size), *hi = (int)((long)n * (l->shard_rank + 1) / l->shard_size);
}

static int batch_size_of(const Loader *l, int b) {
  int lo, hi;
  shard_range(l, b, &lo, &hi);
  return hi - lo;
}

/* The first sample position from t on that is in this process's shard (samples when none is left). */
static int in_shard(const Loader *l, int t) {
  while (t < l->samples) {
    int b = t / l->batch, p = t % l->batch, lo, hi;
    shard_range(l, b, &lo, &hi);
    if (p >= lo && p < hi) break;
    t = p < lo ? b * l->batch + lo : (b + 1) * l->batch;
  }
  return t;
}

static int shard_first(const Loader *l, int b) {
  int lo, hi;
  shard_range(l, b, &lo, &hi);
  return b * l->batch + lo;
}

/* Prepares slot s for batch b (-1: none). Sizes reset unless a crop fixes them. */
static void reset_slot(Loader *l, Slot *s, int b) {
  s->batch = b, s->n = b >= 0 ? batch_size_of(l, b) : 0, s->done = 0;
  s->h = s->w = 0, s->size_from = -1, s->err_pos = INT_MAX, s->err[0] = 0;
}

static Slot *slot_of(Loader *l, int b) { return &l->slots[b % l->nslots]; }

static void record_error(Slot *s, int pos, const char *msg) {
  if (pos < s->err_pos) s->err_pos = pos, snprintf(s->err, sizeof s->err, "%s", msg);
}

/* With the lock held: fixes the slot's sample size with the first sample, or checks a later one
   against it. On success *image and *labels point at sample pos's place. */
static bool claim_place(Loader *l, Slot *s, int pos, int index, int h, int w, float **image, unsigned char **labels) {
  char msg[768];
  if (s->h == 0) {
    size_t px = (size_t)h * (size_t)w, need_img = px * 3 * (size_t)s->n, need_lab = px * (size_t)s->n;
    if (need_img > s->image_cap) {
      float *p = realloc(s->image, need_img * sizeof *p);
      if (!p) return snprintf(msg, sizeof msg, "%s: out of memory for a %dx%d batch of %d", dataset_name(l->d, index), w, h, s->n),
                     record_error(s, pos, msg), false;
      s->image = p, s->image_cap = need_img;
    }
    if (need_lab > s->labels_cap) {
      unsigned char *p = realloc(s->labels, need_lab);
      if (!p) return snprintf(msg, sizeof msg, "%s: out of memory", dataset_name(l->d, index)), record_error(s, pos, msg), false;
      s->labels = p, s->labels_cap = need_lab;
    }
    s->h = h, s->w = w, s->size_from = index;
  } else if (s->h != h || s->w != w) {
    snprintf(msg, sizeof msg,
             "images in one batch differ in size: %s is %dx%d, %s is %dx%d (evaluate full images at batch 1, "
             "or give a crop size)", dataset_name(l->d, index), w, h, dataset_name(l->d, s->size_from), s->w, s->h);
    record_error(s, pos, msg);
    return false;
  }
  size_t px = (size_t)h * (size_t)w;
  *image = s->image + px * 3 * (size_t)pos, *labels = s->labels + px * (size_t)pos;
  return true;
}

/* Loads, augments and normalizes sample position t (dataset index `index`) into its slot. Called
   without the lock; takes it only to claim the sample's place and to report. */
static void run_task(Loader *l, int t, int index) {
  Slot *s = slot_of(l, t / l->batch);
  int pos = t - shard_first(l, t / l->batch), h, w;
  unsigned char *rgb, *ids, *arg = NULL, *aid = NULL;
  char why[768] = "";
  bool ok = dataset_load(l->d, index, &rgb, &ids, &h, &w, why, sizeof why);
  if (ok && l->augment) {
    AugPlan p = plan_augment(l, index, h, w);
    size_t px = (size_t)p.oh * (size_t)p.ow;
    arg = malloc(px * 3), aid = malloc(px);
    ok = arg && aid && apply_augment(&p, rgb, ids, h, w, arg, aid);
    if (!ok) snprintf(why, sizeof why, "%s: out of memory augmenting it", dataset_name(l->d, index));
    free(rgb), free(ids);
    rgb = arg, ids = aid, h = p.oh, w = p.ow;
  }
  float *image = NULL;
  unsigned char *labels = NULL;
  pthread_mutex_lock(&l->mu);
  if (!ok) record_error(s, pos, why);
  else ok = claim_place(l, s, pos, index, h, w, &image, &labels);
  pthread_mutex_unlock(&l->mu);
  if (ok) {
    image_normalize_rgb8(rgb, h, w, image);
    memcpy(labels, ids, (size_t)h * (size_t)w);
  }
  free(rgb), free(ids);
}

/* ---- workers ---- */

static bool task_ready(const Loader *l) {
  if (l->next_task >= l->samples) return false;
  int b = l->next_task / l->batch;
  return l->slots[b % l->nslots].batch == b;
}

/* With the lock held: counts task t as done. */
static void finish_task(Loader *l, int t) {
  Slot *s = slot_of(l, t / l->batch);
  if (s->batch == t / l->batch && ++s->done == s->n) pthread_cond_broadcast(&l->done);
}

static void *worker_main(void *arg) {
  Loader *l = arg;
  pthread_mutex_lock(&l->mu);
  for (;;) {
    while (!l->quit && !task_ready(l)) pthread_cond_wait(&l->work, &l->mu);
    if (l->quit) break;
    int t = l->next_task, index = l->order[t];
    l->next_task = in_shard(l, t + 1);
    l->active++;
    pthread_mutex_unlock(&l->mu);
    run_task(l, t, index);
    pthread_mutex_lock(&l->mu);
    finish_task(l, t);
    if (--l->active == 0) pthread_cond_broadcast(&l->done);
  }
  pthread_mutex_unlock(&l->mu);
  return NULL;
}

/* Without workers: the caller's thread produces batch b. */
static void produce_inline(Loader *l, int b) {
  for (int t = shard_first(l, b); t < shard_first(l, b) + batch_size_of(l, b); t++) {
    run_task(l, t, l->order[t]);
    pthread_mutex_lock(&l->mu);
    finish_task(l, t);
    pthread_mutex_unlock(&l->mu);
  }
}

/* ---- the API ---- */

static bool check_options(const Dataset *d, int batch, const AugmentOptions *a, int threads, char *err, size_t errlen) {
  if (!d || dataset_size(d) <= 0) return err_set(err, errlen, "no dataset, or an empty one");
  if (batch < 1) return err_set(err, errlen, "batch size must be at least 1 (got %d)", batch);
  if (threads < 0 || threads > LOADER_MAX_THREADS)
    return err_set(err, errlen, "loader threads must be 0..%d (got %d)", LOADER_MAX_THREADS, threads);
  if (!a) return true;
  if (a->crop_h < 0 || a->crop_w < 0 || (a->crop_h == 0) != (a->crop_w == 0) || a->crop_h > IMAGE_MAX_DIM ||
      a->crop_w > IMAGE_MAX_DIM)
    return err_set(err, errlen, "crop size %dx%d: give both sides (1..%d), or 0x0 for no crop", a->crop_w, a->crop_h,
                IMAGE_MAX_DIM);
  bool no_scale = a->scale_min == 0 && a->scale_max == 0;
  if (!no_scale && !(a->scale_min > 0 && a->scale_min <= a->scale_max && a->scale_max <= LOADER_MAX_SCALE))
    return err_set(err, errlen, "scale range %g..%g: need 0 < min <= max <= %g", a->scale_min, a->scale_max, LOADER_MAX_SCALE);
  return true;
}

static bool start_workers(Loader *l, char *err, size_t errlen) {
  l->tids = calloc((size_t)(l->threads ? l->threads : 1), sizeof *l->tids);
  if (!l->tids) return err_set(err, errlen, "out of memory");
  for (int i = 0; i < l->threads; i++) {
    int rc = pthread_create(&l->tids[i], NULL, worker_main, l);
    if (rc) return err_set(err, errlen, "cannot start loader thread %d of %d: %s", i + 1, l->threads, strerror(rc));
    l->nthreads++;
  }
  return true;
}

Loader *loader_new(Dataset *d, int batch, const AugmentOptions *a, bool shuffle, bool drop_last, uint64_t seed,
                   int threads, char *err, size_t errlen) {
  if (err && errlen) err[0] = 0;
  if (!check_options(d, batch, a, threads, err, errlen)) return NULL;
  int n = dataset_size(d), batches = drop_last ? n / batch : (n + batch - 1) / batch;
  if (batches == 0)
    return err_set(err, errlen, "the dataset has %d images, fewer than one batch of %d (and drop_last is set)", n, batch), NULL;
  Loader *l = calloc(1, sizeof *l);
  if (!l) return err_set(err, errlen, "out of memory"), NULL;
  l->d = d, l->batch = batch, l->threads = threads, l->shuffle = shuffle, l->drop_last = drop_last, l->seed = seed;
  l->aug = a ? *a : (AugmentOptions){0};
  if (l->aug.scale_min == 0 && l->aug.scale_max == 0) l->aug.scale_min = l->aug.scale_max = 1;
  l->augment = l->aug.crop_h || l->aug.flip || l->aug.scale_min != 1 || l->aug.scale_max != 1;
  l->samples = drop_last ? batches * batch : n, l->batches = batches;
  l->nslots = 1 + (threads + batch - 1) / batch;
  if (l->nslots < 2) l->nslots = 2;
  l->held = -1, l->shard_size = 1;
  pthread_mutex_init(&l->mu, NULL);
  pthread_cond_init(&l->work, NULL);
  pthread_cond_init(&l->done, NULL);
  l->order = malloc(sizeof *l->order * (size_t)n);
  l->slots = calloc((size_t)l->nslots, sizeof *l->slots);
  for (int i = 0; l->slots && i < l->nslots; i++) reset_slot(l, &l->slots[i], -1);
  bool ok = l->order && l->slots;
  if (!ok) err_set(err, errlen, "out of memory");
  if (ok && !start_workers(l, err, errlen)) ok = false;
  if (!ok) loader_free(l), l = NULL;
  return l;
}

/* The epoch's order: dataset order, or a Fisher-Yates shuffle drawn from (seed, epoch). */
static void make_order(Loader *l) {
  int n = dataset_size(l->d);
  for (int i = 0; i < n; i++) l->order[i] = i;
  if (!l->shuffle) return;
  uint64_t st = stream(l->seed, (uint64_t)l->epoch, 0, 0x5AFF1E);
  for (int i = n - 1; i > 0; i--) {
    int j = below(&st, i + 1), tmp = l->order[i];
    l->order[i] = l->order[j], l->order[j] = tmp;
  }
}

bool loader_start_epoch(Loader *l, int epoch, char *err, size_t errlen) {
  if (err && errlen) err[0] = 0;
  if (!l) return err_set(err, errlen, "no loader");
  if (epoch < 0) return err_set(err, errlen, "epoch must be >= 0 (got %d)", epoch);
  pthread_mutex_lock(&l->mu);
  l->next_task = l->samples; /* hand out nothing more of the old epoch */
  while (l->active > 0) pthread_cond_wait(&l->done, &l->mu);
  l->epoch = epoch;
  make_order(l);
  for (int i = 0; i < l->nslots; i++) reset_slot(l, &l->slots[i], i < l->batches ? i : -1);
  l->started = true, l->failed = false, l->fail_msg[0] = 0;
  l->next_task = in_shard(l, 0), l->next_batch = 0, l->held = -1;
  pthread_cond_broadcast(&l->work);
  pthread_mutex_unlock(&l->mu);
  return true;
}

/* With the lock held: gives the caller's previous batch's slot to the batch nslots further on. */
static void release_held(Loader *l) {
  if (l->held < 0) return;
  int next = l->held + l->nslots;
  reset_slot(l, slot_of(l, l->held), next < l->batches ? next : -1);
  l->held = -1;
  pthread_cond_broadcast(&l->work);
}

bool loader_next(Loader *l, Batch *b, char *err, size_t errlen) {
  if (err && errlen) err[0] = 0;
  memset(b, 0, sizeof *b);
  if (!l) return err_set(err, errlen, "no loader");
  if (!l->started) return err_set(err, errlen, "no epoch started: call loader_start_epoch first");
  if (l->failed) return err_set(err, errlen, "%s", l->fail_msg);
  pthread_mutex_lock(&l->mu);
  release_held(l);
  if (l->next_batch >= l->batches) return pthread_mutex_unlock(&l->mu), false;
  int k = l->next_batch;
  Slot *s = slot_of(l, k);
  if (l->threads == 0) {
    pthread_mutex_unlock(&l->mu);
    produce_inline(l, k);
    pthread_mutex_lock(&l->mu);
  }
  while (s->done < s->n) pthread_cond_wait(&l->done, &l->mu);
  bool ok = s->err_pos == INT_MAX;
  if (ok) {
    int first = shard_first(l, k);
    *b = (Batch){.n = s->n, .h = s->h, .w = s->w, .image = s->image, .labels = s->labels,
                 .first_index = s->n ? l->order[first] : -1, .offset = first - k * l->batch, .indices = l->order + first};
    l->held = k, l->next_batch++;
  } else {
    l->failed = true;
    snprintf(l->fail_msg, sizeof l->fail_msg, "%s", s->err);
  }
  pthread_mutex_unlock(&l->mu);
  return ok || err_set(err, errlen, "%s", l->fail_msg);
}

int loader_batches_per_epoch(const Loader *l) { return l ? l->batches : 0; }

bool loader_set_shard(Loader *l, int rank, int size) {
  if (!l || size < 1 || rank < 0 || rank >= size || l->started) return false;
  l->shard_rank = rank, l->shard_size = size;
  return true;
}

void loader_free(Loader *l) {
  if (!l) return;
  pthread_mutex_lock(&l->mu);
  l->quit = true;
  pthread_cond_broadcast(&l->work);
  pthread_mutex_unlock(&l->mu);
  for (int i = 0; i < l->nthreads; i++) pthread_join(l->tids[i], NULL);
  for (int i = 0; l->slots && i < l->nslots; i++) free(l->slots[i].image), free(l->slots[i].labels);
  pthread_cond_destroy(&l->work);
  pthread_cond_destroy(&l->done);
  pthread_mutex_destroy(&l->mu);
  free(l->slots), free(l->order), free(l->tids);
  free(l);
}
