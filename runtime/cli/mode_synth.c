/* mode_synth.c - `sqnrun --make-synthetic DIR` (mode_synth.h); its options are rows of cli_options.c. */
#include "mode_synth.h"
#include <stdint.h>
#include <stdio.h>
#include "synth.h"

int mode_make_synthetic(const Plan *p, const CliArgs *a) {
  (void)p;
  int h = a->make_size.h ? a->make_size.h : 256, w = a->make_size.h ? a->make_size.w : 512;
  char err[512];
  if (!synth_write_dataset(a->make_dir, a->make_train, a->make_val, h, w, (uint64_t)a->make_seed, err, sizeof err))
    return fprintf(stderr, "sqnrun: %s\n", err), 1;
  printf("wrote %d train and %d val images of %dx%d to %s (Cityscapes layout: leftImg8bit/, gtFine/)\n", a->make_train,
         a->make_val, h, w, a->make_dir);
  return 0;
}
