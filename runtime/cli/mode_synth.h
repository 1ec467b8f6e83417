/* mode_synth.h - `sqnrun --make-synthetic DIR [--train N] [--val M] [--size HxW] [--seed S]`: writes
   the built-in synthetic street scenes in the Cityscapes layout (synth.h), so the real loader reads them. */
#ifndef SQN_MODE_SYNTH_H
#define SQN_MODE_SYNTH_H
#include "cli_args.h"
#include "plan.h"

/* p is NULL: the mode takes no plan. */
int mode_make_synthetic(const Plan *p, const CliArgs *a);
#endif
