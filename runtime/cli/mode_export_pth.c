/* mode_export_pth.c - `sqnrun NET.plan --weights W --export-pth OUT.pth`: the weights back to PyTorch,
   as a zip-format state_dict (pth_write.h) with upstream's names that load_state_dict(strict=True)
   accepts. The weights are first checked against the plan (weights_bind: every parameter present
   with its shape, nothing foreign), then the state_dict is assembled in the plan's order (upstream's
   module order) with the buffers upstream's modules have and a plan does not: after each BN's
   running_var its num_batches_tracked (int64 scalar), and for a search space (the supernet) after each
   superblock's gumble_arch_params its ops_cost [candidates] and gumbel_temperature [1]. Buffers are
   taken from W when it has them (a .pth saved by PyTorch), otherwise they get upstream's constructor
   values (0, zeros, 1.0); absent architecture weights are zeros, as a search starts them. Optimizer
   state in W (momentum.*, adam_m.*, adam_v.* of sqn checkpoints) is left out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mode_export.h"
#include "phase_progress.h"
#include "pth_write.h"
#include "weights_bind.h"
#include "weights_file.h"

typedef struct Export {
  const TensorSet *in;
  const float *const *bound; /* per plan parameter: its data (weights_bind: a supernet's candidate, a slice) */
  TensorSet *out;
  int nbuffers;
  char *err;
  size_t n;
} Export;

static bool add(Export *x, const char *name, DType dt, int ndim, const int64_t *dims, const void *data) {
  if (tensor_set_add(x->out, name, dt, ndim, dims, data)) return true;
  return snprintf(x->err, x->n, "cannot add tensor '%s' (out of memory)", name), false;
}

/* A plan parameter as weights_bind found it in W, or zeros for absent architecture weights. */
static bool add_param(Export *x, const PlanParam *pp, int i) {
  int64_t dims[TENSOR_MAX_DIMS];
  for (int d = 0; d < pp->ndim; d++) dims[d] = pp->dims[d];
  return add(x, pp->name, DT_F32, pp->ndim, dims, x->bound[i]);
}

static void shape_text(char *buf, size_t n, DType dt, int ndim, const int64_t *dims) {
  size_t used = (size_t)snprintf(buf, n, "%s [", dtype_name(dt));
  for (int i = 0; i < ndim && used < n; i++) used += (size_t)snprintf(buf + used, n - used, "%s%lld", i ? ", " : "", (long long)dims[i]);
  if (used < n) snprintf(buf + used, n - used, "]");
}

/* A buffer the plan does not have: W's, which must have upstream's dtype and shape, else `dflt`. */
static bool add_buffer(Export *x, const char *name, DType dt, int ndim, const int64_t *dims, const void *dflt) {
  const NamedTensor *t = tensor_set_find(x->in, name);
  bool same = t && t->dtype == dt && t->ndim == ndim;
  for (int d = 0; same && d < ndim; d++) same = t->dims[d] == dims[d];
  if (t && !same) {
    char got[128], want[128];
    shape_text(got, sizeof got, t->dtype, t->ndim, t->dims);
    shape_text(want, sizeof want, dt, ndim, dims);
    return snprintf(x->err, x->n, "tensor '%s' is %s, upstream's is %s", name, got, want), false;
  }
  x->nbuffers++;
  return add(x, name, dt, ndim, dims, t ? t->data : dflt);
}

/* `prefix` of NAME = "prefix.last": the module path. */
static void module_of(const char *name, char *out, size_t n) {
  const char *dot = strrchr(name, '.');
  snprintf(out, n, "%.*s", dot ? (int)(dot - name) : (int)strlen(name), name);
}

/* After a BN's running_var: num_batches_tracked. */
static bool add_bn_buffers(Export *x, const PlanParam *pp) {
  char mod[900], name[1000];
  int64_t zero = 0;
  module_of(pp->name, mod, sizeof mod);
  snprintf(name, sizeof name, "%s.num_batches_tracked", mod);
  return add_buffer(x, name, DT_I64, 0, NULL, &zero);
}

/* After a superblock's gumble_arch_params [candidates, 1]: ops_cost and gumbel_temperature. */
static bool add_arch_buffers(Export *x, const PlanParam *pp) {
  char mod[900], name[1000];
  int64_t ncand = pp->dims[0], one = 1;
  float temperature = 1.0f;
  module_of(pp->name, mod, sizeof mod);
  snprintf(name, sizeof name, "%s.ops_cost", mod);
  if (!add_buffer(x, name, DT_F32, 1, &ncand, NULL)) return false;
  snprintf(name, sizeof name, "%s.gumbel_temperature", mod);
  return add_buffer(x, name, DT_F32, 1, &one, &temperature);
}

/* Upstream registers a superblock's architecture weights (and their buffers) before its candidates,
   the plan after them: the index of the first parameter of the superblock's module. */
static int arch_position(const Plan *p, int arch) {
  char mod[900];
  module_of(p->params[arch].name, mod, sizeof mod);
  size_t len = strlen(mod);
  for (int i = 0; i < arch; i++)
    if (!strncmp(p->params[i].name, mod, len) && p->params[i].name[len] == '.') return i;
  return arch;
}

static bool add_arch(Export *x, const PlanParam *pp, int i) { return add_param(x, pp, i) && add_arch_buffers(x, pp); }

/* The state_dict to write: the plan's parameters in its order (upstream's module order, architecture
   weights moved to the front of their superblock) with the buffers; NULL with err. */
static TensorSet *state_dict(const Plan *p, const TensorSet *w, const float *const *bound, int *nbuffers, char *err,
                             size_t n) {
  Export x = {.in = w, .bound = bound, .out = tensor_set_new(), .err = err, .n = n};
  int *at = calloc((size_t)p->nparams + 1, sizeof *at);
  bool ok = x.out && at;
  if (!ok) snprintf(err, n, "out of memory");
  for (int i = 0; ok && i < p->nparams; i++) at[i] = p->params[i].role == PLAN_PARAM_ARCH ? arch_position(p, i) : -1;
  for (int i = 0; ok && i < p->nparams; i++) {
    const PlanParam *pp = &p->params[i];
    for (int j = i; ok && j < p->nparams; j++)
      if (at[j] == i) ok = add_arch(&x, &p->params[j], j);
    if (pp->role == PLAN_PARAM_ARCH) continue;
    ok = ok && add_param(&x, pp, i);
    if (ok && pp->role == PLAN_PARAM_BN_VAR) ok = add_bn_buffers(&x, pp);
  }
  free(at);
  if (!ok) return tensor_set_free(x.out), NULL;
  *nbuffers = x.nbuffers;
  return x.out;
}

/* W fits the plan: weights_bind's checks (its messages name the tensor), and each parameter's data. */
static const float **bind(const Plan *p, const TensorSet *w, TensorSet **slices, char *err, size_t n) {
  const float **bound = calloc((size_t)p->nparams + 1, sizeof *bound);
  if (!bound) return snprintf(err, n, "out of memory"), NULL;
  if (weights_bind(p, w, bound, slices, err, n)) return bound;
  free(bound);
  return NULL;
}

static int optimizer_tensors(const TensorSet *w) {
  int k = 0;
  for (int i = 0; i < w->n; i++)
    k += !strncmp(w->t[i].name, "momentum.", 9) || !strncmp(w->t[i].name, "adam_m.", 7) || !strncmp(w->t[i].name, "adam_v.", 7);
  return k;
}

static void report(const Plan *p, const TensorSet *sd, int nbuffers, const CliArgs *a, int dropped) {
  size_t bytes = 0;
  for (int i = 0; i < sd->n; i++) bytes += sd->t[i].nbytes;
  fprintf(stderr, "sqnrun: wrote %s: %s %s, %d tensors (%d plan parameters + %d upstream buffers), %.2f MiB", a->export_pth,
          p->is_space ? "supernet of space" : "network", p->name, sd->n, sd->n - nbuffers, nbuffers, bytes / 1048576.0);
  if (dropped) fprintf(stderr, "; %d optimizer tensors of %s left out", dropped, a->weights);
  fputc('\n', stderr);
}

int mode_export_pth(const Plan *p, const CliArgs *a) {
  char err[1200], why[1000];
  TensorSet *w = weights_load(a->weights, err, sizeof err);
  if (!w) return fprintf(stderr, "sqnrun: %s\n", err), 1;
  int nbuffers = 0;
  TensorSet *sd = NULL, *slices = NULL;
  const float **bound = bind(p, w, &slices, why, sizeof why);
  if (!bound || !(sd = state_dict(p, w, bound, &nbuffers, why, sizeof why))) {
    fprintf(stderr, "sqnrun: %s does not fit %s %s: %s\n", a->weights, p->is_space ? "space" : "network", p->name, why);
    return free(bound), tensor_set_free(slices), tensor_set_free(w), 1;
  }
  free(bound), tensor_set_free(slices);
  PhaseProgress progress;
  phase_begin(&progress, "export-pth", sd->n, false);
  bool ok = pth_write(sd, a->export_pth, &progress, err, sizeof err);
  if (ok) phase_end(&progress), report(p, sd, nbuffers, a, optimizer_tensors(w));
  else phase_break(&progress), fprintf(stderr, "sqnrun: %s\n", err);
  tensor_set_free(sd);
  tensor_set_free(w);
  return ok ? 0 : 1;
}
