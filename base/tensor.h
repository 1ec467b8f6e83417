/* tensor.h - the one shape type of sqn, for the compiler's IR, plans and the runtime's kernels alike:
   NCHW, float32 data. n is the batch; shapes of a network's nodes (in the IR and in plans) have n = 0,
   since the batch is chosen at run time. */
#ifndef SQN_TENSOR_H
#define SQN_TENSOR_H
#include <stddef.h>

typedef struct Shape {
  int n, c, h, w;
} Shape;

/* The shape of one sample (n = 0) and of a batch of n of them. */
static inline Shape shape_chw(int c, int h, int w) { return (Shape){0, c, h, w}; }
static inline Shape shape_batch(Shape s, int n) { return (Shape){n, s.c, s.h, s.w}; }
/* Elements of a batch: n x c x h x w (0 for a per-sample shape: see shape_sample_numel). */
static inline size_t shape_numel(Shape s) { return (size_t)s.n * s.c * s.h * s.w; }
static inline size_t shape_sample_numel(Shape s) { return (size_t)s.c * s.h * s.w; }
#endif
