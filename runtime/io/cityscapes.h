/* cityscapes.h - the Cityscapes label definitions of cityscapesScripts
   (cityscapesscripts/helpers/labels.py): the 19 evaluated classes (train ids 0..18) with their
   names and palette colors, the full labelId table (ids 0..33 and license plate, -1) with the
   official labelId -> trainId mapping (255 = ignore), and the 256-entry palette of the label PNGs
   that sqnrun writes. Used by the image writer and, later, the dataset loader and the evaluator. */
#ifndef SQN_CITYSCAPES_H
#define SQN_CITYSCAPES_H
#include <stddef.h>

#define CITYSCAPES_NUM_CLASSES 19
#define CITYSCAPES_IGNORE 255
#define CITYSCAPES_NUM_LABELS 35 /* labelIds 0..33 plus license plate */

typedef struct {
  const char *name;        /* as in labels.py: "road", "traffic light", "license plate", ... */
  int id;                  /* labelId, the value in gtFine *_labelIds.png; -1 for license plate */
  unsigned char train_id;  /* 0..18, or 255 (ignored in training and evaluation) */
  unsigned char color[3];  /* RGB */
} CityscapesLabel;

/* The labels.py table in its order (labelIds 0..33, then license plate). License plate's trainId is
   -1 in labels.py; here it is 255 (ignore): it never appears in labelId images anyway. */
extern const CityscapesLabel cityscapes_labels[CITYSCAPES_NUM_LABELS];

/* Names and colors of train ids 0..18: road, sidewalk, building, wall, fence, pole, traffic light,
   traffic sign, vegetation, terrain, sky, person, rider, car, truck, bus, train, motorcycle,
   bicycle. */
extern const char *const cityscapes_class_names[CITYSCAPES_NUM_CLASSES];
extern const unsigned char cityscapes_class_colors[CITYSCAPES_NUM_CLASSES][3];

/* labelId -> trainId: 7 road -> 0, ..., 33 bicycle -> 18; 0..6, 9, 10, 14..16, 18, 29, 30, -1
   and every value outside -1..33 -> 255. */
unsigned char cityscapes_label_to_train(int label_id);
/* The same over a whole labelId image, in place (n pixels). */
void cityscapes_labels_to_train(unsigned char *px, size_t n);
/* trainId -> labelId for submissions to the evaluation server (0 -> 7 road, ..., 18 -> 33
   bicycle); -1 for anything outside 0..18 (255 included). */
int cityscapes_train_to_label(int train_id);
/* The 256-entry palette of label PNGs: entries 0..18 the class colors, every other entry (255 =
   ignore included) black. */
void cityscapes_palette(unsigned char pal[256][3]);

#endif
