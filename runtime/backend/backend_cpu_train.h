/* backend_cpu_train.h - the CPU backend's training entry points (backend.h): forward in training mode
   and the backward of every op, through the kernels of cpu_grad.h. */
#ifndef SQN_BACKEND_CPU_TRAIN_H
#define SQN_BACKEND_CPU_TRAIN_H
#include "backend.h"

bool cpu_train_node(const BackendTrain *t, int i);
bool cpu_backward_step(const BackendTrain *t, const PlanGradStep *s);
/* Shared with backend_cpu.c: the ops that compute the same in inference and training. */
bool backend_cpu_forward_op(const BackendRun *r, int i);
#endif
