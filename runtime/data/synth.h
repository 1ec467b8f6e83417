/* synth.h - a built-in synthetic street-scene generator for training and testing without the
   Cityscapes download: perspective street scenes (sky, buildings with windows, road with lane
   markings, sidewalks, cars, buses, trucks, persons, riders on bicycles, poles, traffic signs and
   lights, trees, vegetation, terrain, walls and fences) labelled with the 19 Cityscapes train ids,
   with random camera, lighting, colours and noise, so that a per-pixel colour lookup cannot solve
   them: the class of a pixel depends on its context. Deterministic by (seed, index) alone.
   Implementation: synth_scene.c (layout, static scene, lighting), synth_objects.c (objects),
   synth_write.c (the dataset writer); docs/data.md describes the scenes. */
#ifndef SQN_SYNTH_H
#define SQN_SYNTH_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Generator indices of the val split start here, so that train and val images differ. */
#define SYNTH_VAL_OFFSET (1 << 20)

/* Renders scene (seed, index) at h x w: rgb receives h*w*3 bytes (RGB, row-major), train_ids h*w
   train ids (0..18; 255 = ignore, used for the ego vehicle's hood). The same (seed, index, h, w)
   always gives the same bytes, whichever thread calls it. Does nothing when h or w is not positive
   or a buffer is NULL. */
void synth_render(uint64_t seed, int index, int h, int w, unsigned char *rgb, unsigned char *train_ids);

/* Writes ntrain + nval rendered scenes in the Cityscapes layout under dir (created as needed):
   dir/leftImg8bit/{train,val}/synth/synth_%06d_leftImg8bit.png and
   dir/gtFine/{train,val}/synth/synth_%06d_gtFine_labelIds.png (labelIds, via
   cityscapes_train_to_label; ignore -> 0 "unlabeled"). Train image i is scene (seed, i), val image
   i is scene (seed, SYNTH_VAL_OFFSET + i), numbered i in its file name. Each label file is written
   before its image, each file atomically (temporary file + rename), so every listed image has its
   label. False with a message naming the path on an error. */
bool synth_write_dataset(const char *dir, int ntrain, int nval, int h, int w, uint64_t seed, char *err,
                         size_t errlen);

#endif
