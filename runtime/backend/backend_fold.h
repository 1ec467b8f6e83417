/* backend_fold.h - the inference-time rewrites every backend applies alike: BN folded into the preceding
   conv and relu/relu6 applied as that conv's epilogue, wherever the plan's fused kernels group them
   (KERNEL_CONV, KERNEL_INVERTED_RESIDUAL with folds_bn). Host arithmetic; backends copy the results
   where they need them. */
#ifndef SQN_BACKEND_FOLD_H
#define SQN_BACKEND_FOLD_H
#include <stdbool.h>
#include "plan.h"

typedef struct BackendFold {
  float **folded_w, **folded_b; /* per conv node with a folded BN: scaled weights and bias (owned), else NULL */
  bool *bn_folded;              /* per BN node: folded into its input conv, so it is the identity */
  bool *act_fused;              /* per relu/relu6 node: applied by its conv's epilogue */
  int *conv_act;                /* per conv node: CONV_ACT_* epilogue (cpu_ops.h) */
} BackendFold;

/* Decides and computes the folding for plan p with host parameters `param` and per-node consumer
   counts `uses`; false when out of memory (f is then safe to free). */
bool backend_fold(BackendFold *f, const Plan *p, const float *const *param, const int *uses);
/* No rewrites at all (training: every BN and activation computed on its own); false when out of memory. */
bool backend_fold_none(BackendFold *f, const Plan *p);
void backend_fold_free(BackendFold *f, const Plan *p);
/* Frees the folded weights and biases (a device backend has copied them), keeping the decisions. */
void backend_fold_drop_values(BackendFold *f, const Plan *p);
#endif
