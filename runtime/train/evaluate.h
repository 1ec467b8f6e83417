/* evaluate.h - segmentation quality of a network on a dataset split: every image at full size,
   batch 1, inference mode, argmax against the train-id labels, into a confusion matrix (metrics.h). */
#ifndef SQN_EVALUATE_H
#define SQN_EVALUATE_H
#include "dataset.h"
#include "metrics.h"
#include "plan.h"
#include "tensor_set.h"

/* Adds every image of `d` (at most `limit` of them when limit > 0) to c (initialized by the caller). */
bool evaluate_dataset(const Plan *p, const TensorSet *weights, const char *backend, Dataset *d, int limit,
                      int workers, Confusion *c, char *err, size_t n);
#endif
