/* metrics.h - semantic segmentation metrics as cityscapesScripts computes them
   (cityscapesscripts/evaluation/evalPixelLevelSemanticLabeling.py), on train ids.

   A Confusion counts pixels by (ground truth, prediction). cityscapesScripts keeps a 34 x 34 matrix
   over labelIds and leaves the ignoreInEval rows and columns out of every score; over train ids the
   same scores come out of a classes x classes matrix plus:
     - gt pixels equal to `ignore` (or outside 0..classes-1) are not counted at all (only their
       number, in `ignored`): cityscapesScripts counts them in rows that no score reads (a
       prediction on such a pixel is neither a true nor a false positive);
     - predictions outside 0..classes-1 (e.g. 255) on an evaluated gt pixel go to other[gt]: like a
       prediction of an ignoreInEval labelId in cityscapesScripts, such a pixel is a false negative
       of its gt class (and category) and a false positive of no class.

   Scores (seg_metrics), for class c with TP = m[c][c], FN = row sum of c (other[c] included) - TP,
   FP = column sum of c over the other rows:
     IoU(c) = TP / (TP + FP + FN), NaN (valid[c] false) when TP + FP + FN == 0, i.e. when the class
     has neither gt nor predicted pixels; mIoU is the mean over the valid classes (getScoreAverage:
     NaN entries skipped; a class that is only predicted has IoU 0 and counts). NaN when none is.
   With classes == 19 (Cityscapes train ids), the 7 categories flat, construction, object, nature,
   sky, human, vehicle (labels.py order; "void" holds only ignored labels and is NaN upstream, so it
   is left out) are scored as getIouScoreForCategory does: TP = every pixel whose gt and prediction
   both lie in the category (a confusion inside the category counts as correct), FN = the rows of
   the category minus TP, FP = the category's columns over the rows of classes outside it; the
   category mIoU is the mean over valid categories. Pixels whose gt is ignored count nowhere.
   Not in cityscapesScripts' default output (its pixel accuracy is off by default):
     pixel_acc = sum of the diagonal / evaluated pixels; mean_acc = mean over classes with gt pixels
     of m[c][c] / row sum of c (other[c] included). Both NaN when there are no evaluated pixels. */
#ifndef SQN_METRICS_H
#define SQN_METRICS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SEG_MAX_CLASSES 256
#define SEG_CITYSCAPES_CATEGORIES 7

typedef struct Confusion {
  int classes;
  uint64_t *m;       /* classes x classes, m[gt * classes + pred] */
  uint64_t *other;   /* [classes]: pixels of gt class g predicted as a value >= classes (one
                        allocation with m: other == m + classes * classes) */
  uint64_t ignored;  /* gt pixels left out: equal to the ignore value or outside 0..classes-1 */
} Confusion;

/* 1 <= classes <= SEG_MAX_CLASSES; zeroed counts. False (and *c zeroed) on a bad count or OOM. */
bool confusion_init(Confusion *c, int classes);
void confusion_free(Confusion *c);  /* safe on a zeroed or freed Confusion */
void confusion_clear(Confusion *c); /* all counts to 0 */
/* n pixels of train ids. A gt equal to ignore (ignore < 0: none) or >= classes is skipped (counted
   in c->ignored); a pred >= classes on an evaluated gt counts in c->other[gt]. */
void confusion_add(Confusion *c, const unsigned char *gt, const unsigned char *pred, size_t n, int ignore);
/* into += from; both must have the same number of classes (otherwise nothing happens). */
void confusion_merge(Confusion *into, const Confusion *from);

typedef struct SegMetrics {
  int classes;
  double iou[SEG_MAX_CLASSES];
  bool valid[SEG_MAX_CLASSES]; /* class had gt or pred pixels; iou[] is NaN where not */
  double miou;                 /* mean over valid classes (NaN if none) */
  double cat_iou[8];
  bool cat_valid[8];
  int ncat;                    /* 7 when classes == 19, else 0 */
  double cat_miou;             /* mean over valid categories (NaN if none) */
  double pixel_acc;
  double mean_acc;
  uint64_t pixels;             /* evaluated pixels: gt not ignored (sum of m and other) */
} SegMetrics;

/* The Cityscapes categories (flat, construction, object, nature, sky, human, vehicle) and the
   category index 0..6 of train id t (-1 outside 0..18). */
extern const char *const seg_category_names[SEG_CITYSCAPES_CATEGORIES];
int seg_category_of(int train_id);

void seg_metrics(const Confusion *c, SegMetrics *m);
/* A table: per-class IoU (and pixel share), category IoU, mIoU, category mIoU, pixel accuracy.
   class_names may be NULL (then "class N"); "n/a" marks NaN scores. */
void seg_metrics_print(FILE *out, const SegMetrics *m, const char *const *class_names);
/* One JSON object (NaN scores written as null):
   {"classes":19,"pixels":N,"ignored":N,"miou":x,"cat_miou":x,"pixel_acc":x,"mean_acc":x,
    "class_iou":{"road":x,...},"category_iou":{"flat":x,...},"confusion":[[...],...],
    "pred_other":[...]} ("confusion" rows are gt, columns pred; "category_iou" is {} unless
   classes == 19). c may be NULL (then "ignored", "confusion" and "pred_other" are left out).
   class_names may be NULL (then "class N"). */
void seg_metrics_json(FILE *out, const SegMetrics *m, const Confusion *c, const char *const *class_names);

#endif
