/* image_codecs.h - private to the image I/O (image_io.c, image_png.c, image_jpeg.c): the decoders
   work on a whole file already in memory, the PNG encoder writes a file atomically. Not for other
   users: include image_io.h instead. */
#ifndef SQN_IMAGE_CODECS_H
#define SQN_IMAGE_CODECS_H
#include <stdbool.h>
#include <stddef.h>

#include "image_limits.h"

/* PNG bytes -> h*w*3 RGB (see image_read_rgb8 for the conversions). */
bool imgpng_decode_rgb8(const unsigned char *data, size_t len, unsigned char **rgb, int *h, int *w,
                        char *err, size_t n);
/* PNG bytes -> h*w gray values or palette indices (see image_read_gray_png). */
bool imgpng_decode_gray8(const unsigned char *data, size_t len, unsigned char **px, int *h, int *w,
                         char *err, size_t n);
/* Writes h*w bytes as an 8-bit PNG: with the Cityscapes 256-entry palette when palette is true,
   else grayscale. Atomic (temp file + rename). */
bool imgpng_write(const char *path, const unsigned char *px, int h, int w, bool palette, char *err,
                  size_t n);
/* JPEG bytes -> h*w*3 RGB. */
bool imgjpeg_decode_rgb8(const unsigned char *data, size_t len, unsigned char **rgb, int *h, int *w,
                         char *err, size_t n);
#endif
