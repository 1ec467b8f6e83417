/* dataset.h - segmentation datasets for training and evaluation: a folder in the Cityscapes layout
   (leftImg8bit/<split>/<city>/<stem>_leftImg8bit.png or .jpg, paired with
   gtFine/<split>/<city>/<stem>_gtFine_labelIds.png) or "synthetic" (street scenes of synth.h,
   rendered on the fly). Samples come back as RGB bytes and Cityscapes train ids (0..18, 255 =
   ignore). Listing is sorted and deterministic; every problem a user can cause (missing folders,
   unpaired images, mismatched sizes, wrong label PNGs, empty splits) is an error message that names
   the path and says what was expected. dataset_load may be called from several threads at once.
   Implementation: dataset_cityscapes.c. docs/data.md has the details. */
#ifndef SQN_DATASET_H
#define SQN_DATASET_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Dataset Dataset;

/* For the "synthetic" dataset: the number of images of the split (0: 1000 for train, 200 for val),
   their size (0: 256 x 512) and the generator's seed. Ignored for folders. */
typedef struct DatasetOptions {
  int synth_count;
  int synth_h, synth_w;
  uint64_t seed;
} DatasetOptions;

/* spec: a folder in the Cityscapes layout, or "synthetic" (train: scenes (seed, 0..count-1), val:
   scenes (seed, SYNTH_VAL_OFFSET + i), exactly as synth_write_dataset writes them). split: "train",
   "val" or any folder name under leftImg8bit/ ("synthetic" has train and val). o may be NULL
   (defaults). NULL with a message in err on an error. */
Dataset *dataset_open(const char *spec, const char *split, const DatasetOptions *o, char *err, size_t errlen);
int dataset_size(const Dataset *d);
/* Sample i's name: the image path, or "synthetic:N" with N the generator index. NULL when i is out of
   range. Valid until dataset_close. */
const char *dataset_name(const Dataset *d, int i);
/* Loads sample i: *rgb h*w*3 bytes (RGB, row-major) and *ids h*w train ids, both malloc'd (the
   caller frees). False with a message naming the file on an error (then *rgb, *ids are NULL). */
bool dataset_load(Dataset *d, int i, unsigned char **rgb, unsigned char **ids, int *h, int *w, char *err,
                  size_t errlen);
void dataset_close(Dataset *d);

#endif
