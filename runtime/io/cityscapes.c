/* cityscapes.c - the Cityscapes label tables (cityscapesScripts labels.py) and the mappings
   between labelIds, trainIds and palette colors. */
#include "cityscapes.h"
#include <string.h>

#define IGN CITYSCAPES_IGNORE

const CityscapesLabel cityscapes_labels[CITYSCAPES_NUM_LABELS] = {
    /* name                  id  trainId  color */
    {"unlabeled", 0, IGN, {0, 0, 0}},
    {"ego vehicle", 1, IGN, {0, 0, 0}},
    {"rectification border", 2, IGN, {0, 0, 0}},
    {"out of roi", 3, IGN, {0, 0, 0}},
    {"static", 4, IGN, {0, 0, 0}},
    {"dynamic", 5, IGN, {111, 74, 0}},
    {"ground", 6, IGN, {81, 0, 81}},
    {"road", 7, 0, {128, 64, 128}},
    {"sidewalk", 8, 1, {244, 35, 232}},
    {"parking", 9, IGN, {250, 170, 160}},
    {"rail track", 10, IGN, {230, 150, 140}},
    {"building", 11, 2, {70, 70, 70}},
    {"wall", 12, 3, {102, 102, 156}},
    {"fence", 13, 4, {190, 153, 153}},
    {"guard rail", 14, IGN, {180, 165, 180}},
    {"bridge", 15, IGN, {150, 100, 100}},
    {"tunnel", 16, IGN, {150, 120, 90}},
    {"pole", 17, 5, {153, 153, 153}},
    {"polegroup", 18, IGN, {153, 153, 153}},
    {"traffic light", 19, 6, {250, 170, 30}},
    {"traffic sign", 20, 7, {220, 220, 0}},
    {"vegetation", 21, 8, {107, 142, 35}},
    {"terrain", 22, 9, {152, 251, 152}},
    {"sky", 23, 10, {70, 130, 180}},
    {"person", 24, 11, {220, 20, 60}},
    {"rider", 25, 12, {255, 0, 0}},
    {"car", 26, 13, {0, 0, 142}},
    {"truck", 27, 14, {0, 0, 70}},
    {"bus", 28, 15, {0, 60, 100}},
    {"caravan", 29, IGN, {0, 0, 90}},
    {"trailer", 30, IGN, {0, 0, 110}},
    {"train", 31, 16, {0, 80, 100}},
    {"motorcycle", 32, 17, {0, 0, 230}},
    {"bicycle", 33, 18, {119, 11, 32}},
    {"license plate", -1, IGN, {0, 0, 142}}, /* trainId -1 in labels.py */
};

const char *const cityscapes_class_names[CITYSCAPES_NUM_CLASSES] = {
    "road",       "sidewalk", "building", "wall",  "fence", "pole",  "traffic light",
    "traffic sign", "vegetation", "terrain", "sky", "person", "rider", "car",
    "truck",      "bus",      "train",    "motorcycle", "bicycle"};

const unsigned char cityscapes_class_colors[CITYSCAPES_NUM_CLASSES][3] = {
    {128, 64, 128}, {244, 35, 232}, {70, 70, 70},   {102, 102, 156}, {190, 153, 153},
    {153, 153, 153}, {250, 170, 30}, {220, 220, 0},  {107, 142, 35},  {152, 251, 152},
    {70, 130, 180}, {220, 20, 60},  {255, 0, 0},    {0, 0, 142},     {0, 0, 70},
    {0, 60, 100},   {0, 80, 100},   {0, 0, 230},    {119, 11, 32}};

unsigned char cityscapes_label_to_train(int label_id) {
  /* labelIds 0..33 sit at index id in the table. */
  if (label_id < 0 || label_id > 33) return IGN;
  return cityscapes_labels[label_id].train_id;
}

void cityscapes_labels_to_train(unsigned char *px, size_t n) {
  unsigned char lut[256];
  for (int i = 0; i < 256; i++) lut[i] = cityscapes_label_to_train(i);
  for (size_t i = 0; i < n; i++) px[i] = lut[px[i]];
}

int cityscapes_train_to_label(int train_id) {
  if (train_id < 0 || train_id >= CITYSCAPES_NUM_CLASSES) return -1;
  for (int i = 0; i < CITYSCAPES_NUM_LABELS; i++) /* the first label with that trainId, as labels.py */
    if (cityscapes_labels[i].train_id == train_id) return cityscapes_labels[i].id;
  return -1;
}

void cityscapes_palette(unsigned char pal[256][3]) {
  memset(pal, 0, 256 * 3);
  memcpy(pal, cityscapes_class_colors, sizeof cityscapes_class_colors);
}
