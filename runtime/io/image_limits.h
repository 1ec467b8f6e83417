/* image_limits.h - the largest images sqnrun reads or writes (image_io.h and the codecs). */
#ifndef SQN_IMAGE_LIMITS_H
#define SQN_IMAGE_LIMITS_H
/* Images wider or taller than IMAGE_MAX_DIM, or of more than IMAGE_MAX_PIXELS pixels (16384 x 8192:
   a few hundred bytes of PNG or JPEG can declare gigabytes of pixels, as PIL's decompression-bomb
   check knows), are refused from their headers, before any pixel memory is allocated. */
#define IMAGE_MAX_DIM 32768
#define IMAGE_MAX_PIXELS (1u << 27)
#endif
