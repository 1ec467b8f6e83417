/* executor.h - runs a fixed network's forward program (inference mode) on a backend (backend.h):
   binds the plan's parameters to a weights file by state_dict name, then executes the nodes in
   order, freeing each activation after its last use. */
#ifndef SQN_EXECUTOR_H
#define SQN_EXECUTOR_H
#include "cpu_ops.h"
#include "plan.h"
#include "tensor_set.h"

typedef struct Executor Executor;

/* Checks every plan parameter against `weights` (name, dtype float32, shape) and rejects tensors the
   network does not have; prepares the network on `backend` (NULL or "cpu", or "cuda"; see backend.h). The
   weights must outlive the executor. NULL with a message on error. */
Executor *executor_new(const Plan *p, const TensorSet *weights, const char *backend, char *err, size_t errlen);
/* One architecture of a search space: choice[sb] is the candidate that runs in superblock sb (the
   others are skipped; the mixing is the chosen candidate's output). For latency tables and scoring.
   Architecture parameters may be absent from the weights. */
Executor *executor_new_arch(const Plan *p, const TensorSet *weights, const char *backend, const int *choice, char *err,
                            size_t errlen);
/* Runs the network on input [n, c, h, w]: c as compiled, any h x w the network accepts (shapes are
   recomputed when they differ from the compiled size; an unsupported size is an explained error). */
bool executor_run(Executor *x, const float *input, Shape in, char *err, size_t errlen);
/* The shapes and activation memory for inputs [n, c, h, w], without running: sizes that cannot fit
   are refused before the caller allocates the input (executor_run does this itself). */
bool executor_reserve(Executor *x, Shape in, char *err, size_t errlen);
/* The network output (logits at input resolution) of the last run, in host memory (the CPU backend's arena,
   or downloaded from a GPU), owned by the executor. */
const float *executor_output(const Executor *x, Shape *shape);
/* Runs the network for per-pixel class ids only (u8, n x h x w; *out = [n, 1, h, w], owned by the executor):
   where the network ends in a bilinear resize to the output (every published network and the std decoders) and
   the activations are host memory, that resize is fused with the argmax (cpu_bilinear_argmax: the full-resolution
   logits are neither laid out nor written; *fused = true); elsewhere a full run and its argmax. The same ids
   either way (torch.argmax's). The logits (executor_output) are not available after a fused run. */
const unsigned char *executor_run_classes(Executor *x, const float *input, Shape in, Shape *out, bool *fused, char *err,
                                          size_t errlen);
/* Run-time fusions on (the default) or off (`--no-fuse`: for comparisons): the class-id run's upsampling + argmax,
   and the backend's fused groups (on the CPU: whole inverted residuals, cpu_fused_ir). */
void executor_set_fuse(Executor *x, bool on);
/* The fused groups the last run (or reserve) used, and per node the plan kernel it was computed in (-1: on its own;
   nnodes entries, valid until the next run): its head carries the group's time in a profile. */
int executor_fused_groups(const Executor *x);
const int *executor_groups(const Executor *x);
size_t executor_peak_bytes(const Executor *x);
/* Per-node timing: when on, every run adds each node's seconds to times[node] (nnodes entries). */
void executor_profile(Executor *x, double *times);
/* Keeps a copy of node `node`'s output of every later run (buffers are reused within a run);
   returns the tap index, or -1 when out of taps (8). */
int executor_add_tap(Executor *x, int node);
const float *executor_tap(const Executor *x, int tap, Shape *shape);
void executor_free(Executor *x);
#endif
