/* loader.h - batches for training and evaluation: samples of a Dataset, augmented (random scale,
   crop, horizontal flip), normalized as upstream (x/255 - ImageNet mean) / std into float NCHW
   tensors, with their train-id labels. Background threads (pthreads) decode and augment ahead of
   the trainer. Results depend only on (seed, epoch, sample index), never on the number of threads
   or on timing. Implementation: loader.c; docs/data.md describes the augmentation. */
#ifndef SQN_LOADER_H
#define SQN_LOADER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "dataset.h"

/* Training augmentation, per sample: scale by s uniform in [scale_min, scale_max] (bilinear for the
   image, nearest for labels; output size round(h*s) x round(w*s)), then a random crop_h x crop_w
   window (the scaled image padded at the bottom and right with 0 image / 255 label when it is
   smaller), then a horizontal flip with probability 1/2 when flip is set. crop 0x0: no crop (the
   whole scaled image). Scales 0..0 mean 1..1. NULL options: none of it (evaluation). */
typedef struct AugmentOptions {
  int crop_h, crop_w;
  double scale_min, scale_max;
  bool flip;
} AugmentOptions;

typedef struct Batch {
  int n, h, w;
  float *image;           /* n x 3 x h x w: (x/255 - mean) / std, ImageNet mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225) */
  unsigned char *labels;  /* n x h x w train ids (255 = ignore, padding included) */
  int first_index;        /* dataset index of the first sample */
  int offset;             /* position of the first sample in its batch (a data-parallel shard's start; else 0) */
  const int *indices;     /* dataset indices of the n samples */
} Batch;

typedef struct Loader Loader;

/* batch >= 1 samples per batch; shuffle: a new order each epoch; drop_last: leave out the last
   partial batch; threads: background workers (0: load in loader_next, on the caller's thread).
   The dataset must outlive the loader. NULL with a message on bad options. */
Loader *loader_new(Dataset *d, int batch, const AugmentOptions *a, bool shuffle, bool drop_last, uint64_t seed,
                   int threads, char *err, size_t errlen);
/* Starts epoch e (>= 0), abandoning what is left of the current one: the order is a shuffle drawn
   from (seed, e) (dataset order without shuffle), the augmentation of each sample is drawn from
   (seed, e, dataset index). The workers start prefetching at once. */
bool loader_start_epoch(Loader *l, int epoch, char *err, size_t errlen);
/* The next batch of the epoch: true with *b filled (the buffers belong to the loader and stay valid
   until the next call); false at the end of the epoch (err empty) or on an error (err set, naming
   the file, e.g. a corrupt image; the epoch is over: start another). Without a crop, the images of
   a batch must have one size: different sizes are an error at batch > 1 (fine at batch 1). */
bool loader_next(Loader *l, Batch *b, char *err, size_t errlen);
int loader_batches_per_epoch(const Loader *l);
/* Data-parallel runs: this process loads only its shard of every batch, positions [n*rank/size, n*(rank+1)/size) of
   a batch of n (the same order, augmentation and batch boundaries as one process loading all of it), so Batch.n is
   the shard's size (0 for an empty shard: first_index -1) and Batch.offset its first position; shards may differ in
   size by one. Before the first epoch; false on bad arguments. */
bool loader_set_shard(Loader *l, int rank, int size);
void loader_free(Loader *l);

#endif
