/* mode_check_step.h - `sqnrun NET_OR_SPACE.plan [--weights W] --check-step DIR --dump OUTDIR`: one
   training step (train-mode BN, no update) on a batch given as NumPy files, dumping the loss, the
   logits and every parameter's gradient under its state_dict name, so that any network or supernet
   can be compared with a PyTorch implementation tensor by tensor. */
#ifndef SQN_MODE_CHECK_STEP_H
#define SQN_MODE_CHECK_STEP_H
#include "cli_args.h"
#include "plan.h"

/* DIR holds input.npy (float32 N x C x H x W), labels.npy (N x H x W train ids, int64/int32/uint8, 255
   ignored) and, for a supernet, mix_weights.npy (float32 superblocks x candidates x N). OUTDIR (--dump) gets
   loss.npy, logits.npy, grad.<name>.npy for every trainable parameter, grad.mix_weights.npy for a
   supernet and after.<name>.npy for every BN running statistic (after the step's update). */
int mode_check_step(const Plan *p, const CliArgs *a);
#endif
