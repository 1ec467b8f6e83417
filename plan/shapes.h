/* shapes.h - shape inference at run time: the plan's static shapes are those of the input size it
   was compiled for; for another input size every node's shape is recomputed from its attributes. */
#ifndef SQN_SHAPES_H
#define SQN_SHAPES_H
#include "plan.h"

/* Fills out[nnodes]; false with an explanation (which op, which shapes, the valid multiple) when
   the network cannot take this input size. */
bool plan_shapes(const Plan *p, Shape input, Shape *out, char *err, size_t errlen);
/* The pooling window of an avgpool node for input shape `in` (its kernel, or with pool_fit the
   kernel clipped to the padded input). */
void plan_pool_window(const PlanNode *nd, Shape in, int *kh, int *kw);
/* The network's output stride (input height / encoder output height at the compiled size). */
int plan_output_stride(const Plan *p);
/* MACs of the convolutions at these shapes (as upstream countmacs counts them). */
int64_t plan_macs(const Plan *p, const Shape *shapes);
#endif
