/* mode_synth.h - `sqnrun --make-synthetic DIR [--train N] [--val M] [--size HxW] [--seed S]`: writes
   the built-in synthetic street scenes in the Cityscapes layout (synth.h), so the real loader reads them. */
#ifndef SQN_MODE_SYNTH_H
#define SQN_MODE_SYNTH_H
int mode_make_synthetic(int argc, char **argv);
#endif
