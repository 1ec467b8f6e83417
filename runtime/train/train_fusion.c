/* train_fusion.c - finds the BN -> ReLU/ReLU6 pairs that the trainer runs fused (train_fusion.h).
   A pair (i, j = i + 1) is fused only where that cannot change a result:
   - j is i's only consumer, i is not the network output, and both belong to the same candidate (so a
     skipped candidate skips both);
   - forward: the BN writes j's buffer at i's turn. j's slot may be that of i's input (a value recomputed for
     the backward pass dies at i): the fused kernels read each channel's statistics before writing the
     channel, element for element, so they work in place (test_cpu_grad checks it);
   - backward: i's step must follow j's step directly, so that j's output gradient and its (recomputed)
     output are still where they were (the fused kernel reads each element before it writes dx). */
#include "train_fusion.h"
#include <stdlib.h>

/* index of the backward step of node i, or -1 */
static int *backward_step_of(const Plan *p) {
  int *at = malloc(sizeof(int) * ((size_t)p->nnodes + 1));
  if (!at) return NULL;
  for (int i = 0; i < p->nnodes; i++) at[i] = -1;
  for (int s = 0; s < p->grad.nsteps; s++)
    if (p->grad.steps[s].kind == PLAN_STEP_BACKWARD) at[p->grad.steps[s].node] = s;
  return at;
}

static bool fusable(const Plan *p, const int *uses, const int *step, int i) {
  const PlanNode *bn = &p->nodes[i], *act = &p->nodes[i + 1];
  if (bn->kind != OP_BN || (act->kind != OP_RELU && act->kind != OP_RELU6)) return false;
  if (act->ninputs != 1 || act->inputs[0] != i || uses[i] != 1 || p->output == i || bn->ninputs != 1) return false;
  if (bn->superblock != act->superblock || bn->candidate != act->candidate) return false;
  const PlanTrainNode *g = p->grad.node;
  return step[i] >= 0 && step[i + 1] >= 0 && step[i] == step[i + 1] + 1 && g[i].grad_slot >= 0 && g[i + 1].grad_slot >= 0;
}

int *train_fusion_bn_act(const Plan *p) {
  int *bn_act = malloc(sizeof(int) * ((size_t)p->nnodes + 1)), *uses = calloc((size_t)p->nnodes + 1, sizeof(int));
  int *step = backward_step_of(p);
  if (!bn_act || !uses || !step) return free(bn_act), free(uses), free(step), NULL;
  for (int i = 0; i < p->nnodes; i++)
    for (int k = 0; k < p->nodes[i].ninputs; k++) uses[p->nodes[i].inputs[k]]++;
  for (int i = 0; i < p->nnodes; i++) bn_act[i] = i + 1 < p->nnodes && fusable(p, uses, step, i) ? i + 1 : -1;
  free(uses), free(step);
  return bn_act;
}
