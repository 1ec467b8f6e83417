/* weights_init.h - fresh parameters for a plan, initialized as the reference code does. */
#ifndef SQN_WEIGHTS_INIT_H
#define SQN_WEIGHTS_INIT_H
#include <stdint.h>
#include "plan.h"
#include "tensor_set.h"

/* Conv weights Kaiming-normal (fan-out, ReLU gain: std = sqrt(2 / (cout * kh * kw))), conv biases
   uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) as PyTorch's default, BN weight 1, bias 0, running mean 0,
   running var 1, architecture weights 0. Deterministic for a seed. NULL if out of memory. */
TensorSet *weights_init(const Plan *p, uint64_t seed);
#endif
