/* weights_init.c - deterministic parameter initialization (Kaiming-normal fan-out for convs, as
   upstream's SqueezeNASNetCityscapes does) with a small counter-based RNG (splitmix64). */
#include "weights_init.h"
#include <math.h>
#include <stdlib.h>

static uint64_t splitmix64(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static double uniform01(uint64_t *s) { return ((splitmix64(s) >> 11) + 0.5) * (1.0 / 9007199254740992.0); }

static double normal(uint64_t *s) { /* Box-Muller */
  return sqrt(-2.0 * log(uniform01(s))) * cos(6.283185307179586 * uniform01(s));
}

static void fill(const Plan *p, const PlanParam *pp, float *v, uint64_t *rng) {
  const PlanNode *nd = &p->nodes[pp->node];
  int64_t n = pp->numel;
  double fan_out = (double)nd->out.c * nd->kh * nd->kw;
  double fan_in = pp->role == PLAN_PARAM_CONV_BIAS ? (double)p->nodes[nd->inputs[0]].out.c / nd->groups * nd->kh * nd->kw : 1;
  for (int64_t i = 0; i < n; i++) {
    switch (pp->role) {
    case PLAN_PARAM_CONV_WEIGHT: v[i] = (float)(normal(rng) * sqrt(2.0 / fan_out)); break;
    case PLAN_PARAM_CONV_BIAS: v[i] = (float)((2 * uniform01(rng) - 1) / sqrt(fan_in)); break;
    case PLAN_PARAM_BN_WEIGHT: case PLAN_PARAM_BN_VAR: v[i] = 1; break;
    default: v[i] = 0; break;
    }
  }
}

TensorSet *weights_init(const Plan *p, uint64_t seed) {
  TensorSet *s = tensor_set_new();
  uint64_t rng = seed;
  for (int i = 0; s && i < p->nparams; i++) {
    const PlanParam *pp = &p->params[i];
    int64_t dims[SQN_PLAN_MAX_DIMS];
    for (int d = 0; d < pp->ndim; d++) dims[d] = pp->dims[d];
    NamedTensor *t = tensor_set_add(s, pp->name, DT_F32, pp->ndim, dims, NULL);
    if (!t) {
      tensor_set_free(s);
      return NULL;
    }
    fill(p, pp, t->data, &rng);
  }
  return s;
}
