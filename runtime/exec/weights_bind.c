/* weights_bind.c - matches a weights file to a plan: every parameter present with its shape and
   dtype, no tensor the network does not have (BN's num_batches_tracked and the supernet buffers
   ops_cost / gumbel_temperature, and the momentum.* optimizer state of sqn training checkpoints, are
   accepted and ignored). A fixed network given a supernet's weights (a search's checkpoint) takes
   each superblock's tensors from the candidate it chose, and where the search chose widths, the leading channels
   of each tensor (FBNetV2's masks keep the first channels). Errors name the tensor. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "weights_bind.h"

static void shape_text(char *buf, size_t n, int ndim, const int64_t *dims) {
  size_t used = (size_t)snprintf(buf, n, "[");
  for (int i = 0; i < ndim && used < n; i++) used += (size_t)snprintf(buf + used, n - used, "%s%lld", i ? ", " : "", (long long)dims[i]);
  if (used < n) snprintf(buf + used, n - used, "]");
}

/* Where a fixed network's parameter is in a supernet's weights: encoder.residuals.N.op.REST is
   encoder.residuals.N.ops.CAND.REST, CAND the candidate the network chose in superblock N (weight
   inheritance: a derived network starts from its search), and where the space chose the stem, head or decoder,
   PREFIX.REST is PREFIX.ops.CAND.REST (encoder.conv1., encoder.last_conv., decoder.); every other name is the same. */
static const char *supernet_name(const Plan *p, const char *name, char *buf, size_t n) {
  int sb, used = 0;
  for (int s = 0; s < p->nsb; s++) { /* a chosen stem, head or decoder: PREFIX.REST is PREFIX.ops.CAND.REST */
    const PlanSuperblock *part = &p->sb[s];
    const char *prefix = part->is_stem ? "encoder.conv1." : part->is_head ? "encoder.last_conv." : part->is_decoder ? "decoder." : NULL;
    size_t len = prefix ? strlen(prefix) : 0;
    if (!prefix || part->ncand != 1 || strncmp(name, prefix, len)) continue;
    snprintf(buf, n, "%sops.%s.%s", prefix, part->cand[0].name, name + len);
    return buf;
  }
  if (sscanf(name, "encoder.residuals.%d.op.%n", &sb, &used) != 1 || !used || sb < 0 || sb >= p->nsb ||
      p->sb[sb].ncand != 1)
    return name;
  snprintf(buf, n, "encoder.residuals.%d.ops.%s.%s", sb, p->sb[sb].cand[0].name, name + used);
  return buf;
}

/* Weights of a supernet (a search's checkpoint) given to a fixed network. */
static bool is_supernet(const Plan *p, const TensorSet *w) {
  if (p->is_space) return false;
  for (int i = 0; i < w->n; i++)
    if ((!strncmp(w->t[i].name, "encoder.residuals.", 18) && strstr(w->t[i].name, ".ops.")) ||
        !strncmp(w->t[i].name, "decoder.ops.", 12) || !strncmp(w->t[i].name, "encoder.conv1.ops.", 18) ||
        !strncmp(w->t[i].name, "encoder.last_conv.ops.", 22))
      return true;
  return false;
}

static bool ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && !strcmp(s + a - b, suffix);
}

/* A search with width choices: its weights hold their theta. */
static bool has_widths(const TensorSet *w) {
  for (int i = 0; i < w->n; i++)
    if (!strncmp(w->t[i].name, "encoder.stages.", 15) && ends_with(w->t[i].name, ".width.gumble_arch_params")) return true;
  return false;
}

/* t's leading want[0] x want[1] x ... block, row-major, into *slices; NULL when out of memory. */
static const float *leading_slice(const NamedTensor *t, const PlanParam *pp, TensorSet **slices) {
  int64_t dims[SQN_PLAN_MAX_DIMS], numel = 1;
  for (int d = 0; d < pp->ndim; d++) dims[d] = pp->dims[d], numel *= dims[d];
  if (!*slices && !(*slices = tensor_set_new())) return NULL;
  NamedTensor *s = tensor_set_add(*slices, pp->name, DT_F32, pp->ndim, dims, NULL);
  if (!s) return NULL;
  float *out = s->data;
  const float *in = t->data;
  for (int64_t i = 0; i < numel; i++) { /* the source offset of output element i */
    int64_t rest = i, at = 0, stride = 1;
    for (int d = pp->ndim - 1; d >= 0; d--) {
      at += (rest % dims[d]) * stride;
      rest /= dims[d], stride *= t->dims[d];
    }
    out[i] = in[at];
  }
  return out;
}

/* Every dimension of t at least the plan's, one larger: a slice of a wider supernet's tensor. */
static bool sliceable(const NamedTensor *t, const PlanParam *pp) {
  bool larger = false, fits = t->ndim == pp->ndim;
  for (int d = 0; fits && d < pp->ndim; d++) fits = t->dims[d] >= pp->dims[d], larger = larger || t->dims[d] > pp->dims[d];
  return fits && larger;
}

static bool bind_one(const Plan *p, const PlanParam *pp, const TensorSet *w, int supernet, const float **out,
                     TensorSet **slices, char *err, size_t n) {
  char buf[512];
  const char *name = supernet ? supernet_name(p, pp->name, buf, sizeof buf) : pp->name;
  const NamedTensor *t = tensor_set_find(w, name);
  int64_t want[SQN_PLAN_MAX_DIMS];
  for (int d = 0; d < pp->ndim; d++) want[d] = pp->dims[d];
  char ws[128], gs[128];
  shape_text(ws, sizeof ws, pp->ndim, want);
  if (!t && name != pp->name)
    return snprintf(err, n, "missing tensor '%s' in the supernet's weights (for the network's '%s', float32 %s): "
                            "the weights come from a search of another space", name, pp->name, ws), false;
  if (!t) return snprintf(err, n, "missing tensor '%s' (the network needs float32 %s)", pp->name, ws), false;
  shape_text(gs, sizeof gs, t->ndim, t->dims);
  bool same = t->ndim == pp->ndim;
  for (int d = 0; same && d < pp->ndim; d++) same = t->dims[d] == want[d];
  if (t->dtype != DT_F32)
    return snprintf(err, n, "tensor '%s' is %s, the network needs float32", pp->name, dtype_name(t->dtype)), false;
  if (!same && supernet == 2 && sliceable(t, pp)) { /* the search chose a narrower width */
    *out = leading_slice(t, pp, slices);
    return *out ? true : (snprintf(err, n, "out of memory for a slice of '%s'", name), false);
  }
  if (!same) return snprintf(err, n, "tensor '%s' has shape %s, the network needs %s", pp->name, gs, ws), false;
  *out = t->data;
  return true;
}

/* Buffers upstream's state_dicts carry that a plan does not need. */
static bool ignorable(const char *name) {
  return ends_with(name, ".num_batches_tracked") || ends_with(name, ".ops_cost") || ends_with(name, ".gumbel_temperature") ||
         !strncmp(name, "momentum.", 9) || !strncmp(name, "adam_m.", 7) || !strncmp(name, "adam_v.", 7); /* optimizer
                                                                      state in sqn training checkpoints */
}

static bool name_in_plan(const Plan *p, const char *name) {
  for (int i = 0; i < p->nparams; i++)
    if (!strcmp(p->params[i].name, name)) return true;
  return false;
}

/* In a supernet's weights, the other candidates and the architecture parameters. */
static bool supernet_only(const char *name) {
  return (!strncmp(name, "encoder.residuals.", 18) && (strstr(name, ".ops.") || ends_with(name, ".gumble_arch_params"))) ||
         (!strncmp(name, "encoder.stages.", 15) && ends_with(name, ".width.gumble_arch_params")) ||
         !strncmp(name, "decoder.ops.", 12) || !strcmp(name, "decoder.gumble_arch_params") ||
         !strncmp(name, "encoder.conv1.ops.", 18) || !strcmp(name, "encoder.conv1.gumble_arch_params") ||
         !strncmp(name, "encoder.last_conv.ops.", 22) || !strcmp(name, "encoder.last_conv.gumble_arch_params");
}

bool weights_bind(const Plan *p, const TensorSet *w, const float **params, TensorSet **slices, char *err, size_t n) {
  int supernet = is_supernet(p, w) ? 1 + has_widths(w) : 0; /* 2: a search with width choices */
  *slices = NULL;
  for (int i = 0; i < p->nparams; i++) {
    if (p->params[i].role == PLAN_PARAM_ARCH && !tensor_set_find(w, p->params[i].name)) {
      params[i] = NULL; /* architecture weights are optional: a search starts them at zero */
      continue;
    }
    if (!bind_one(p, &p->params[i], w, supernet, &params[i], slices, err, n))
      return tensor_set_free(*slices), *slices = NULL, false;
  }
  for (int i = 0; i < w->n; i++)
    if (!ignorable(w->t[i].name) && !(supernet && supernet_only(w->t[i].name)) && !name_in_plan(p, w->t[i].name))
      return tensor_set_free(*slices), *slices = NULL,
             snprintf(err, n, "unexpected tensor '%s' in the weights: network %s has no such parameter", w->t[i].name,
                      p->name), false;
  return true;
}
