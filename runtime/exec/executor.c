/* executor.c - runs the forward program of a fixed network (inference: BN uses its running
   statistics) on a backend (backend.h): binds the weights, recomputes shapes for the input size, lays
   the activations out in one arena from the buffer slots sqnc planned (compiler/passes/memplan.c; elementwise
   ops the plan put in their input's slot run in place), and has the backend compute node by node. The arena
   is the backend's device memory (backend.h BackendDevice; on the CPU, host memory): the input is uploaded,
   the taps are downloaded, the output is read where it lies (downloaded only where device memory is not host
   memory), and per-node times come from the device's timestamps. */
#include "executor.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend.h"
#include "cpu_grad.h"
#include "cpu_ops.h"
#include "shapes.h"
#include "weights_bind.h"

struct Executor {
  const Plan *p;
  const float **param;   /* per plan parameter */
  TensorSet *slices;     /* narrower slices of a width search's tensors (weights_bind), or NULL */
  float **buf;           /* per node: its slot in the arena, for the current run */
  int *uses;             /* consumers per node */
  int *slot, nslots;     /* the plan's buffer slots (nodes without one get their own) */
  size_t *slot_off;      /* per slot: byte offset in the arena */
  float *arena;          /* every activation of a run, in the backend's device memory */
  size_t arena_bytes;
  Shape *shapes;     /* per node, for the current input size */
  const Backend *be;
  const BackendDevice *dev; /* be->dev */
  void *be_state;        /* the backend's prepared network */
  int batch;
  const float *output;
  void *host_out;        /* the output of the last run, downloaded where device memory is not host memory */
  size_t host_out_cap;
  double *times;         /* per-node profile accumulator, NULL when off */
  int tap_node[8], ntaps; /* nodes whose outputs are copied out during a run */
  void *tap_buf[8];
  size_t tap_cap[8];
  Shape out_shape;
  bool *skip;            /* per node: not run (candidates not chosen in a space); NULL = none */
  int stop;              /* nodes from here on are neither laid out nor run (a class-id run's fused tail) */
  bool no_fuse;          /* executor_set_fuse(false): class-id runs take the full run and a separate argmax */
  unsigned char *labels; /* the class ids of the last executor_run_classes */
  size_t labels_cap;
  int *mix_from;         /* per mix node: the chosen input index; NULL for fixed networks */
  int *group;            /* per node: the plan kernel the backend runs as one group this run (run at its head;
                            its other nodes but the output neither run nor get memory), or -1 */
};

static Executor *executor_create(const Plan *p, const TensorSet *weights, const char *backend, char *err, size_t n);

Executor *executor_new(const Plan *p, const TensorSet *weights, const char *backend, char *err, size_t n) {
  if (p->is_space) {
    snprintf(err, n, "%s is a search space: inference needs a fixed network (sqnc a `network` file)", p->name);
    return NULL;
  }
  return executor_create(p, weights, backend, err, n);
}

Executor *executor_new_arch(const Plan *p, const TensorSet *weights, const char *backend, const int *choice, char *err,
                            size_t n) {
  for (int s = 0; s < p->nsb; s++)
    if (choice[s] < 0 || choice[s] >= p->sb[s].ncand)
      return snprintf(err, n, "superblock %d has no candidate %d", s, choice[s]), NULL;
  Executor *x = executor_create(p, weights, backend, err, n);
  if (!x || !p->is_space) return x;
  x->skip = calloc((size_t)p->nnodes, sizeof *x->skip);
  x->mix_from = calloc((size_t)p->nnodes, sizeof *x->mix_from);
  if (!x->skip || !x->mix_from) return executor_free(x), snprintf(err, n, "out of memory"), NULL;
  for (int i = 0; i < p->nnodes; i++) {
    const PlanNode *nd = &p->nodes[i];
    x->skip[i] = nd->superblock >= 0 && nd->candidate >= 0 && nd->candidate != choice[nd->superblock];
    if (nd->kind == OP_MIX || nd->kind == OP_WIDTH) x->mix_from[i] = choice[nd->superblock];
  }
  return x;
}

static Executor *executor_create(const Plan *p, const TensorSet *weights, const char *backend, char *err, size_t n) {
  const Backend *be = backend_get(backend, err, n);
  if (!be) return NULL;
  Executor *x = calloc(1, sizeof *x);
  x->p = p;
  x->param = calloc((size_t)p->nparams + 1, sizeof *x->param);
  x->buf = calloc((size_t)p->nnodes, sizeof *x->buf);
  x->uses = calloc((size_t)p->nnodes, sizeof *x->uses);
  x->slot = malloc(sizeof *x->slot * (size_t)p->nnodes);
  for (int i = 0; i < p->nnodes; i++) x->nslots = p->nodes[i].slot >= x->nslots ? p->nodes[i].slot + 1 : x->nslots;
  for (int i = 0; i < p->nnodes; i++) x->slot[i] = p->nodes[i].slot >= 0 ? p->nodes[i].slot : x->nslots + i;
  x->nslots += p->nnodes;
  x->slot_off = calloc((size_t)x->nslots + 1, sizeof *x->slot_off);
  x->shapes = calloc((size_t)p->nnodes, sizeof *x->shapes);
  x->group = malloc(sizeof *x->group * (size_t)(p->nnodes + 1));
  x->be = be, x->dev = be->dev;
  x->stop = p->nnodes;
  for (int i = 0; i < p->nnodes; i++)
    for (int k = 0; k < p->nodes[i].ninputs; k++) x->uses[p->nodes[i].inputs[k]]++;
  if (!x->group) {
    executor_free(x);
    return snprintf(err, n, "out of memory"), NULL;
  }
  for (int i = 0; i < p->nnodes; i++) x->group[i] = -1;
  if (!weights_bind(p, weights, x->param, &x->slices, err, n)) {
    executor_free(x);
    return NULL;
  }
  if (!(x->be_state = be->prepare(p, x->param, x->uses, err, n))) {
    executor_free(x);
    return NULL;
  }
  return x;
}

static Shape shape_of(const Executor *x, int node) {
  Shape sh = x->shapes[node];
  return (Shape){x->batch, sh.c, sh.h, sh.w};
}

static void arena_free(Executor *x) {
  if (x->arena) x->dev->free(x->be_state, x->arena);
  x->arena = NULL, x->arena_bytes = 0;
}

static bool arena_alloc(Executor *x, size_t total, char *err, size_t n) {
  arena_free(x);
  if (!backend_dev_fits(x->dev, total, "the activations", "use a smaller --input", err, n) ||
      !(x->arena = backend_dev_alloc(x->dev, x->be_state, total, "activations", err, n)))
    return false;
  x->arena_bytes = total;
  return true;
}

/* Whether a tap watches a node of kernel k other than its output. */
static bool taps_inside(const Executor *x, const PlanKernel *k) {
  for (int t = 0; t < x->ntaps; t++)
    for (int j = 0; j < k->nnodes; j++)
      if (x->tap_node[t] == k->nodes[j] && k->nodes[j] != k->output) return true;
  return false;
}

/* The groups the backend runs in one call this run: not with --no-fuse, not past a class-id run's stop, not where a
   tap reads inside. Where sqnc put the output in the input's slot (op by op, the input is dead by then), the group
   would overwrite its input while still reading it: its output gets a buffer of its own (the node's private slot).
   The nodes sqnc placed in place after it then write the old slot, which holds nothing else until they are done. The
   in-place residual add is the exception the backend handles (Backend.run_group). */
static void choose_groups(Executor *x) {
  const Plan *p = x->p;
  const int plan_slots = x->nslots - p->nnodes; /* slot plan_slots + i: node i's own */
  for (int i = 0; i < p->nnodes; i++) x->group[i] = -1;
  for (int i = 0; x->be->group_at && !x->no_fuse && i < x->stop; i++) {
    const int g = x->be->group_at(x->be_state, i);
    if (g < 0 || (x->skip && x->skip[i])) continue;
    const PlanKernel *k = &p->kernels[g];
    const bool residual = p->nodes[k->output].kind == OP_ADD; /* may write over its input (cpu_fused_ir) */
    if (k->output >= x->stop || taps_inside(x, k)) continue;
    if (!residual && x->slot[k->output] == x->slot[p->nodes[i].inputs[0]]) x->slot[k->output] = plan_slots + k->output;
    for (int j = 0; j < k->nnodes; j++) x->group[k->nodes[j]] = g;
  }
}

/* Whether node i holds no value this run (a group's node before its output). */
static bool elided(const Executor *x, int i) { return x->group[i] >= 0 && x->p->kernels[x->group[i]].output != i; }

/* Sizes the slots for the current shapes (each its largest member) and lays them out in one arena. */
static bool layout_arena(Executor *x, char *err, size_t n) {
  size_t *need = calloc((size_t)x->nslots, sizeof *need);
  choose_groups(x);
  for (int i = 0; i < x->stop; i++) {
    if (elided(x, i)) continue;
    size_t bytes = shape_numel(shape_of(x, i)) * sizeof(float);
    if (bytes > need[x->slot[i]]) need[x->slot[i]] = bytes;
  }
  size_t total = 0;
  for (int s = 0; s < x->nslots; s++) x->slot_off[s] = total, total += (need[s] + 63) & ~(size_t)63;
  free(need);
  if (total > x->arena_bytes && !arena_alloc(x, total, err, n)) return false;
  for (int i = 0; i < x->p->nnodes; i++) x->buf[i] = (float *)((char *)x->arena + x->slot_off[x->slot[i]]);
  return true;
}

/* In place is only right where the shapes agree at this input size (the plan checked the compiled one). */
static bool in_place_ok(const Executor *x, const PlanNode *nd) {
  if (!nd->ninputs || x->slot[nd->inputs[0]] != x->slot[nd->id]) return true;
  Shape a = x->shapes[nd->inputs[0]], o = x->shapes[nd->id];
  return a.c == o.c && a.h == o.h && a.w == o.w;
}

void executor_profile(Executor *x, double *times) { x->times = times; }

void executor_set_fuse(Executor *x, bool on) { x->no_fuse = !on; }

int executor_add_tap(Executor *x, int node) {
  if (x->ntaps == 8 || node < 0 || node >= x->p->nnodes) return -1;
  x->tap_node[x->ntaps] = node;
  return x->ntaps++;
}

const float *executor_tap(const Executor *x, int tap, Shape *shape) {
  if (shape) *shape = shape_of(x, x->tap_node[tap]);
  return x->tap_buf[tap];
}

/* Copies node i's output into the taps that watch it. */
static bool copy_taps(Executor *x, int i, char *err, size_t n) {
  for (int t = 0; t < x->ntaps; t++) {
    if (x->tap_node[t] != i) continue;
    size_t bytes = shape_numel(shape_of(x, i)) * sizeof(float);
    if (!backend_dev_read(x->dev, x->be_state, x->buf[i], bytes, true, &x->tap_buf[t], &x->tap_cap[t], err, n))
      return false;
  }
  return true;
}

/* A space's mixing with one chosen candidate: its output (zeros for the Zero op). */
static bool run_chosen(const Executor *x, const PlanNode *nd, float *y, char *err, size_t n) {
  int from = nd->inputs[x->mix_from[nd->id]];
  size_t bytes = shape_numel(shape_of(x, nd->id)) * sizeof *y;
  if (x->p->nodes[from].kind == OP_ZERO) return x->dev->zero(x->be_state, y, bytes, err, n);
  return x->buf[from] == y || x->dev->copy(x->be_state, y, x->buf[from], bytes, err, n);
}

/* A width choice with one chosen width: the input with the channels past it zeroed, sample by sample. */
static bool run_width_chosen(const Executor *x, const PlanNode *nd, float *y, char *err, size_t n) {
  Shape s = shape_of(x, nd->id);
  const float *in = x->buf[nd->inputs[0]];
  size_t bytes = shape_numel(s) * sizeof *y, plane = (size_t)s.h * s.w;
  int keep = x->p->sb[nd->superblock].cand[x->mix_from[nd->id]].width;
  if (keep >= s.c) return in == y || x->dev->copy(x->be_state, y, in, bytes, err, n);
  if (in != y && !x->dev->copy(x->be_state, y, in, bytes, err, n)) return false;
  for (int b = 0; b < s.n; b++)
    if (!x->dev->zero(x->be_state, y + ((size_t)b * s.c + keep) * plane, (size_t)(s.c - keep) * plane * sizeof *y, err, n))
      return false;
  return true;
}

/* Node i: the input, a chosen mixing, or the backend's op. */
static bool run_one(Executor *x, const BackendRun *r, int i, const float *input, char *err, size_t n) {
  const PlanNode *nd = &x->p->nodes[i];
  /* On host memory the consumers read the caller's input where it lies (no op writes a node's input: an in-place
     op whose slot is the input's then writes its own buffer in the arena); the output is never the caller's. */
  if (nd->kind == OP_INPUT && x->dev->host && i != x->p->output) return x->buf[i] = (float *)input, true;
  if (nd->kind == OP_INPUT)
    return x->dev->upload(x->be_state, x->buf[i], input, shape_numel(shape_of(x, i)) * sizeof(float), err, n);
  if (nd->kind == OP_MIX && x->mix_from) return run_chosen(x, nd, x->buf[i], err, n);
  if (nd->kind == OP_WIDTH && x->mix_from) return run_width_chosen(x, nd, x->buf[i], err, n);
  if (x->group[i] >= 0 && x->p->kernels[x->group[i]].nodes[0] != i) return true; /* computed with its group's head */
  if (x->group[i] >= 0) {
    if (x->be->run_group(x->be_state, r, x->group[i])) return true;
    return snprintf(err, n, "the fused kernel at node %d (%s): out of memory for its scratch; try --no-fuse", i,
                    nd->name ? nd->name : op_name(nd->kind)), false;
  }
  if (x->be->run_node(x->be_state, r, i)) return true;
  const char *why = x->dev->error(x->be_state);
  if (*why) return snprintf(err, n, "op %s (node %d) on the %s backend: %s", op_name(nd->kind), i, x->be->name, why), false;
  return snprintf(err, n, "op %s (node %d) cannot run in inference mode on the %s backend", op_name(nd->kind), i,
                  x->be->name), false;
}

/* Profiling: a timestamp before (2i) and after (2i + 1) each node, read once the run is done. */
static bool mark(const Executor *x, int k, char *err, size_t n) {
  return !x->times || x->dev->mark(x->be_state, k, err, n);
}

static bool add_times(Executor *x, char *err, size_t n) {
  const BackendDevice *d = x->dev;
  if (!d->sync(x->be_state, err, n)) return false;
  for (int i = 0; i < x->p->nnodes; i++) {
    double s;
    if (x->skip && x->skip[i]) continue;
    if (!d->elapsed(x->be_state, 2 * i, 2 * i + 1, &s, err, n)) return false;
    x->times[i] += s;
  }
  return true;
}

/* The output where the caller can read it: in the arena, or downloaded from the device. */
static bool finish_output(Executor *x, char *err, size_t n) {
  x->out_shape = shape_of(x, x->p->output);
  x->output = backend_dev_read(x->dev, x->be_state, x->buf[x->p->output], shape_numel(x->out_shape) * sizeof(float),
                               false, &x->host_out, &x->host_out_cap, err, n);
  return x->output != NULL;
}

bool executor_reserve(Executor *x, Shape in, char *err, size_t n) {
  if (in.n < 1) return snprintf(err, n, "batch must be at least 1"), false;
  if (!plan_shapes(x->p, (Shape){0, in.c, in.h, in.w}, x->shapes, err, n)) return false;
  x->batch = in.n;
  x->output = NULL;
  return layout_arena(x, err, n);
}

bool executor_run(Executor *x, const float *input, Shape in, char *err, size_t n) {
  if (!executor_reserve(x, in, err, n)) return false;
  BackendRun r = {x->p, x->param, x->buf, x->shapes, x->batch};
  for (int i = 0; i < x->stop; i++) {
    if (!in_place_ok(x, &x->p->nodes[i]))
      return snprintf(err, n, "the buffer plan does not hold at this input size (node %d); recompile the plan for it", i), false;
    if (x->skip && x->skip[i]) continue;
    if (!mark(x, 2 * i, err, n) || !run_one(x, &r, i, input, err, n) || !mark(x, 2 * i + 1, err, n)) return false;
    if (x->ntaps && !copy_taps(x, i, err, n)) return false;
  }
  if (x->times && !add_times(x, err, n)) return false;
  return x->stop < x->p->nnodes || finish_output(x, err, n);
}

/* Where a class-id run can stop: at the final bilinear resize when it feeds only the output (the last two nodes),
   the activations are host memory and no tap watches it; -1 where there is none. */
static int classes_stop(const Executor *x) {
  const Plan *p = x->p;
  const int out = p->output, b = out - 1;
  if (!x->dev->host || out != p->nnodes - 1 || b < 1 || p->nodes[out].ninputs != 1 || p->nodes[out].inputs[0] != b ||
      p->nodes[b].kind != OP_BILINEAR || x->uses[b] != 1 || x->shapes[b].c > 256 || x->times || x->no_fuse)
    return -1;
  for (int t = 0; t < x->ntaps; t++)
    if (x->tap_node[t] >= b) return -1;
  return b;
}

const unsigned char *executor_run_classes(Executor *x, const float *input, Shape in, Shape *out, bool *fused, char *err,
                                          size_t n) {
  x->stop = x->p->nnodes;
  if (in.n < 1) return snprintf(err, n, "batch must be at least 1"), NULL;
  if (!plan_shapes(x->p, (Shape){0, in.c, in.h, in.w}, x->shapes, err, n)) return NULL; /* laid out by the run */
  x->batch = in.n;
  const int b = classes_stop(x);
  const Shape os = shape_of(x, x->p->output);
  const size_t px = (size_t)os.n * os.h * os.w;
  if (px > x->labels_cap) {
    free(x->labels);
    if (!(x->labels = malloc(px))) return x->labels_cap = 0, snprintf(err, n, "out of memory for the class ids"), NULL;
    x->labels_cap = px;
  }
  *out = (Shape){os.n, 1, os.h, os.w}, *fused = b >= 0;
  if (b < 0) {
    if (!executor_run(x, input, in, err, n)) return NULL;
    cpu_argmax_channels(x->output, x->out_shape, x->labels);
    return x->labels;
  }
  x->stop = b;
  bool ok = executor_run(x, input, in, err, n);
  x->stop = x->p->nnodes;
  if (!ok) return NULL;
  const int src = x->p->nodes[b].inputs[0];
  cpu_bilinear_argmax(x->buf[src], shape_of(x, src), x->labels, os.h, os.w, x->p->nodes[b].align_corners);
  return x->labels;
}

const float *executor_output(const Executor *x, Shape *shape) {
  if (shape) *shape = x->out_shape;
  return x->output;
}

size_t executor_peak_bytes(const Executor *x) { return x->arena_bytes; }

int executor_fused_groups(const Executor *x) {
  int count = 0;
  for (int i = 0; i < x->p->nnodes; i++) count += x->group[i] >= 0 && x->p->kernels[x->group[i]].nodes[0] == i;
  return count;
}

const int *executor_groups(const Executor *x) { return x->group; }

void executor_free(Executor *x) {
  if (!x) return;
  free(x->buf);
  arena_free(x);
  free(x->host_out);
  free(x->slot);
  free(x->slot_off);
  free(x->param);
  tensor_set_free(x->slices);
  free(x->uses);
  free(x->shapes);
  free(x->skip);
  free(x->mix_from);
  free(x->group);
  free(x->labels);
  if (x->be_state) x->be->release(x->be_state);
  for (int t = 0; t < x->ntaps; t++) free(x->tap_buf[t]);
  free(x);
}
