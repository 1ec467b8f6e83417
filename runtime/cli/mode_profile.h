/* mode_profile.h - `sqnrun SPACE.plan --profile [--input 3xHxW] [--backend cpu] [--iters N] -o lut.json`:
   the latency lookup table of a search space, measured on this machine: every candidate of every
   superblock at its real shapes (batch 1, inference mode), plus the fixed parts, so that the sum
   over a derived network predicts its latency. */
#ifndef SQN_MODE_PROFILE_H
#define SQN_MODE_PROFILE_H
#include "cli_args.h"
#include "plan.h"

int mode_profile(const Plan *p, const CliArgs *a);
#endif
