/* weights_bind.h - binding a weights file (TensorSet) to a plan's parameters by state_dict name. */
#ifndef SQN_WEIGHTS_BIND_H
#define SQN_WEIGHTS_BIND_H
#include "plan.h"
#include "tensor_set.h"

/* params[i] = data of plan parameter i (NULL for absent architecture weights). Where a network takes its weights
   from a search with width choices, a tensor narrower than the supernet's is its leading slice, copied into
   *slices (created then; NULL otherwise), which the caller frees once params are no longer used. */
bool weights_bind(const Plan *p, const TensorSet *w, const float **params, TensorSet **slices, char *err, size_t n);
#endif
