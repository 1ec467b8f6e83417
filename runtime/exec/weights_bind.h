/* weights_bind.h - binding a weights file (TensorSet) to a plan's parameters by state_dict name. */
#ifndef SQN_WEIGHTS_BIND_H
#define SQN_WEIGHTS_BIND_H
#include "plan.h"
#include "tensor_set.h"

/* params[i] = data of plan parameter i (NULL for absent architecture weights). */
bool weights_bind(const Plan *p, const TensorSet *w, const float **params, char *err, size_t n);
#endif
