/* image_io.h - image files for the runtime: PNG (libpng) and JPEG (libjpeg-turbo) input for
   `sqnrun --infer in.png`, normalized as upstream (torchvision ToTensor + Normalize with the
   ImageNet mean/std), and label-map output as an 8-bit palette PNG in the Cityscapes colors or as
   an 8-bit grayscale PNG of train ids. The format is detected by its magic bytes, never by the
   file name. Every function reports problems through err ("cannot open: ...", "not a PNG or JPEG
   image", "truncated PNG file", "corrupt JPEG: ...", "image too large: ...") without the path,
   which the caller prefixes; none of them exits, prints or leaks on a bad file.
   Implementation: image_io.c (sniffing, file reading, normalization, the public readers),
   image_png.c (libpng), image_jpeg.c (libjpeg); cityscapes.h has the classes and colors. */
#ifndef SQN_IMAGE_IO_H
#define SQN_IMAGE_IO_H
#include <stdbool.h>
#include <stddef.h>
#include "image_limits.h"
#include "tensor_set.h"


typedef enum { IMAGE_UNKNOWN = 0, IMAGE_PNG, IMAGE_JPEG } ImageFormat;

/* The format of the file at path by its first bytes; IMAGE_UNKNOWN when it cannot be read or is
   neither PNG nor JPEG (e.g. a .npy file). Lets a caller choose between an image and an array. */
ImageFormat image_sniff(const char *path);

/* ImageNet statistics used by upstream (torchvision.transforms.Normalize). */
extern const float image_mean[3], image_std[3];

/* Reads a PNG (1/2/4/8/16-bit gray, gray+alpha, RGB, RGBA or palette; interlaced or not) or JPEG
   (gray, YCbCr, RGB, CMYK/YCCK; baseline or progressive) file as 8-bit RGB, row-major, h*w*3 bytes
   in *rgb (caller frees). Bit-identical to PIL's Image.open(path).convert('RGB') (checked on PNGs
   of every mode and on baseline, progressive, 4:2:0/4:2:2/4:4:4, gray and Adobe CMYK JPEGs):
   alpha and tRNS are dropped (not composited), 16-bit samples keep their high byte, gAMA, iCCP and
   sRGB are ignored. One difference: 16-bit grayscale keeps its high byte too, where PIL clips the
   16-bit value to 255. */
bool image_read_rgb8(const char *path, unsigned char **rgb, int *h, int *w, char *err, size_t errlen);

/* Reads a PNG or JPEG file (as image_read_rgb8) and returns a float32 1 x 3 x H x W tensor
   normalized as upstream: (x/255 - mean) / std per channel, computed in float32 in torchvision's
   order (bit-identical to ToTensor()+Normalize()). out->name is a copy of path. On failure *out is
   zeroed. Free with free(out->data), free(out->name). */
bool image_read_normalized(const char *path, NamedTensor *out, char *err, size_t errlen);

/* The normalization of image_read_normalized on pixels already in memory: rgb is h*w*3 bytes
   (HWC); dst receives 3*h*w floats (CHW). For the dataset loader (crop/resize before this). */
void image_normalize_rgb8(const unsigned char *rgb, int h, int w, float *dst);

/* Writes labels (h*w train ids, row-major: 0..18 the Cityscapes classes, anything else, 255 =
   ignore included, black) as an 8-bit palette (indexed) PNG with a 256-entry palette, so the file
   keeps the ids (PIL: np.array(Image.open(f)) gives them back) and shows the Cityscapes colors.
   Atomic: written to PATH.tmp.XXXXXX, then renamed over path. */
bool image_write_palette_png(const char *path, const unsigned char *labels, int h, int w, char *err,
                             size_t errlen);

/* Writes labels (h*w bytes) as an 8-bit grayscale PNG (the values as they are). Atomic. */
bool image_write_gray_png(const char *path, const unsigned char *labels, int h, int w, char *err,
                          size_t errlen);

/* Reads an 8-bit grayscale PNG label image (e.g. gtFine *_labelIds.png) into h*w bytes in *px
   (caller frees). A palette PNG (any bit depth) gives its indices, so the files of
   image_write_palette_png read back as ids. Other PNG types (RGB, alpha, 16-bit, gray below 8
   bits) and non-PNG files are refused with a message. */
bool image_read_gray_png(const char *path, unsigned char **px, int *h, int *w, char *err, size_t errlen);

#endif
