/* train_fusion.h - where the trainer may run a training-mode BN and the ReLU/ReLU6 it feeds as one op
   (backend.h BackendTrain.bn_act): one pass over memory in the forward pass, in the recomputation and in
   the backward pass instead of two or three. Decided from the plan's graph and its buffer plan. */
#ifndef SQN_TRAIN_FUSION_H
#define SQN_TRAIN_FUSION_H
#include "plan.h"

/* Per node: for a BN node whose activation can be fused into it, that activation's node; else -1.
   NULL when out of memory. The caller frees it. */
int *train_fusion_bn_act(const Plan *p);
#endif
