/* cpu_resize_index.h - the source indices and weights of bilinear and nearest resizing (cpu_resize.c),
   shared by the forward kernels and their exact adjoints (cpu_grad_misc.c). */
#ifndef SQN_CPU_RESIZE_INDEX_H
#define SQN_CPU_RESIZE_INDEX_H
#include <stdbool.h>

/* Per output index along one axis: the two source indices and their weights (PyTorch 1.13's CPU upsample). */
void cpu_linear_weights(int in, int out, bool align_corners, int *i0, int *i1, float *l0, float *l1);
/* PyTorch's nearest_idx: the source index of output index d. */
int cpu_nearest_src(int d, int in, int out);
#endif
