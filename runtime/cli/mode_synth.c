/* mode_synth.c - the --make-synthetic command line (mode_synth.h). */
#include "mode_synth.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "synth.h"

static bool int_arg(const char *opt, const char *v, long lo, long hi, long *out) {
  char *end;
  long x = v ? strtol(v, &end, 10) : 0;
  if (!v || *end || end == v || x < lo || x > hi)
    return fprintf(stderr, "sqnrun: bad %s '%s' (an integer from %ld to %ld)\n", opt, v ? v : "", lo, hi), false;
  *out = x;
  return true;
}

int mode_make_synthetic(int argc, char **argv) {
  const char *dir = NULL;
  long ntrain = 200, nval = 50, seed = 1, h = 256, w = 512;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    bool ok = true;
    if (!strcmp(a, "--make-synthetic")) dir = v, ok = v != NULL;
    else if (!strcmp(a, "--train")) ok = int_arg(a, v, 0, 1000000, &ntrain);
    else if (!strcmp(a, "--val")) ok = int_arg(a, v, 0, 1000000, &nval);
    else if (!strcmp(a, "--seed")) ok = int_arg(a, v, 0, 0x7fffffffL, &seed);
    else if (!strcmp(a, "--size")) {
      char tail;
      int hh, ww;
      ok = v && sscanf(v, "%dx%d%c", &hh, &ww, &tail) == 2 && hh >= 16 && ww >= 16 && hh <= 8192 && ww <= 8192;
      if (!ok) fprintf(stderr, "sqnrun: bad --size '%s' (HxW, e.g. 256x512, each side 16..8192)\n", v ? v : "");
      h = hh, w = ww;
    } else {
      fprintf(stderr, "sqnrun: --make-synthetic takes DIR, --train N, --val M, --size HxW and --seed S, not '%s'\n", a);
      return 2;
    }
    if (!ok) {
      if (!v) fprintf(stderr, "sqnrun: option '%s' needs a value\n", a);
      return 2;
    }
    i++;
  }
  char err[512];
  if (!synth_write_dataset(dir, (int)ntrain, (int)nval, (int)h, (int)w, (uint64_t)seed, err, sizeof err))
    return fprintf(stderr, "sqnrun: %s\n", err), 1;
  printf("wrote %ld train and %ld val images of %ldx%ld to %s (Cityscapes layout: leftImg8bit/, gtFine/)\n", ntrain, nval,
         h, w, dir);
  return 0;
}
