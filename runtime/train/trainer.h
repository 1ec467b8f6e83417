/* trainer.h - one training step of a plan on a backend: the forward program in training mode, the
   pixel-wise cross-entropy loss, the compiler's backward program, and the optimizer update (SGD with
   momentum and weight decay, as torch.optim.SGD). The trainer owns the live weights (a TensorSet
   with exactly the plan's parameters, by state_dict name) and the optimizer state. They live in the
   backend's device memory, and the host copies are brought up to date where this interface hands them
   out (trainer_device.h); on the CPU backend that memory is the host's, and they are the same. */
#ifndef SQN_TRAINER_H
#define SQN_TRAINER_H
#include <stdbool.h>
#include <stdint.h>
#include "cpu_ops.h"
#include "plan.h"
#include "tensor_set.h"

typedef struct Trainer Trainer;

typedef struct TrainStats {
  double loss;            /* mean cross-entropy over the valid pixels */
  long valid_pixels;      /* pixels whose label is not 255 */
  double grad_norm;       /* L2 norm over every parameter gradient */
} TrainStats;

/* weights: a state_dict to start from (checked against the plan by name, dtype and shape; extra
   entries such as num_batches_tracked are ignored as in inference), or NULL for the reference
   initialization (weights_init) with `seed`. The trainer copies what it needs. */
Trainer *trainer_new(const Plan *p, const TensorSet *weights, uint64_t seed, const char *backend, char *err, size_t n);
/* Whether `backend` can train (the modes that train check before they set anything up); false with a message. */
bool trainer_backend_ok(const char *backend, char *err, size_t n);
/* Whether batches of shape `in` can train: logits of the input's size, and (CPU backend) training
   buffers that fit in this machine's memory. Checked before a run creates anything. */
bool trainer_check_input(const Plan *p, Shape in, const char *backend, char *err, size_t n);
/* Forward (training mode), loss against labels (uint8 train ids, N x H x W at the input size, 255 =
   ignore) and backward: leaves every parameter's gradient in the trainer. Errors: bad label values,
   an input size the network cannot take, a non-finite loss or gradient (naming the first bad tensor). */
bool trainer_step(Trainer *t, const float *images, Shape in, const unsigned char *labels, TrainStats *st, char *err,
                  size_t n);
/* Data-parallel training (docs/distributed.md, trainer_dist.c): on, every rank of the job (dist.h) runs the same
   steps on its shard of the global batch; the loss is the global batch's mean, BN uses the global batch's statistics
   (SyncBN), and the gradients after trainer_step are the global batch's (summed over the ranks), so the updates
   equal one process's on the whole batch. Turning it on makes every rank's parameters rank 0's (a collective call:
   every rank at once; on a GPU it also joins the job's GPUs: BackendDevice.dist_join). False with a message where
   the backend has no data-parallel path. Off by default. */
bool trainer_set_data_parallel(Trainer *t, bool on, char *err, size_t n);
/* How a device backend sums over the ranks (e.g. "by NCCL 2.27.3 on each rank's GPU"), "" where it is dist.h on the
   host (the CPU backend) or data parallelism is off. */
const char *trainer_data_parallel_how(const Trainer *t);
/* Supernets (plans of a search space): the mixing weights of the next steps, w[sb][cand][batch] for
   every superblock (superblock-major, then candidate, then sample), copied. The batch of the next
   step must be `batch`. After a step, trainer_mix_grad gives d loss / d w in the same layout. */
bool trainer_set_mix(Trainer *t, const float *w, int batch, char *err, size_t n);
const float *trainer_mix_grad(const Trainer *t);
/* Candidates that no longer run (pruned, or not chosen when evaluating one architecture): their
   nodes are skipped in the forward and backward programs and take no memory; their mixing weight
   must be 0. active[sb * max_cand + cand]; NULL = all active. */
void trainer_set_active(Trainer *t, const bool *active, int max_cand);
/* Forward only, training-mode BN unless frozen (evaluating architectures of a supernet with batch
   statistics); the logits are then at trainer_logits. */
bool trainer_forward(Trainer *t, const float *images, Shape in, char *err, size_t n);
/* SGD step over the plan's update list: d = g + wd * w; buf = momentum * buf + d (buf = d on the first
   step); w -= lr * buf. */
void trainer_sgd(Trainer *t, double lr, double momentum, double weight_decay);
/* The update split of a search: SGD for the weights only (architecture parameters untouched) ... */
void trainer_sgd_weights(Trainer *t, double lr, double momentum, double weight_decay);
/* ... and Adam (PyTorch's defaults: betas 0.9, 0.999, eps 1e-8; weight decay wd) for the architecture
   parameters theta, whose gradient the caller provides: dtheta[sb][cand]. */
void trainer_adam_arch(Trainer *t, const double *dtheta, double lr, double weight_decay);
/* Architecture parameters theta of superblock sb (ncand floats, the live values). */
float *trainer_theta(Trainer *t, int sb);
/* The live weights (every plan parameter, float32, plan order), and the SGD momentum buffers as
   "momentum.<name>" (only those that exist yet). */
TensorSet *trainer_weights(Trainer *t);
TensorSet *trainer_optimizer_state(Trainer *t);
/* trainer_optimizer_state also holds Adam's moments of the architecture parameters as adam_m.<name>
   and adam_v.<name>; their step count is trainer_adam_steps (restore with trainer_set_adam_steps). */
long trainer_adam_steps(const Trainer *t);
void trainer_set_adam_steps(Trainer *t, long steps);
/* Restores momentum buffers saved by trainer_optimizer_state; false with a message on a mismatch. */
bool trainer_load_optimizer_state(Trainer *t, const TensorSet *s, char *err, size_t n);
/* Gradient of plan parameter i after the last step (NULL if not trainable). */
const float *trainer_param_grad(const Trainer *t, int i);
/* The logits (N x classes x H x W) of the last trainer_forward, or of the last trainer_step when
   trainer_keep_logits is on (the step's backward pass reuses their buffer otherwise: NULL). */
const float *trainer_logits(const Trainer *t, Shape *shape);
void trainer_keep_logits(Trainer *t, bool keep);
/* Per-node timing: when on, forward and backward seconds are added to fwd[node] and bwd[node]. */
void trainer_profile(Trainer *t, double *fwd, double *bwd);
/* BN in eval mode (running statistics frozen) instead of batch statistics. */
void trainer_freeze_bn(Trainer *t, bool frozen);
/* Training-mode BN without updating the running statistics (scoring architectures of a supernet). */
void trainer_keep_running_stats(Trainer *t, bool keep);
/* Bytes held: activation and gradient buffers, parameters, gradients and optimizer state. */
size_t trainer_bytes(const Trainer *t);
void trainer_free(Trainer *t);
#endif
