/* phase_progress.h - progress of a long phase that is not training (profiling candidates, exporting,
   deriving): "NAME [#####.....] 12/40 3.1 s, ETA 0m09s", redrawn in place on a terminal, one line every
   10 s (and at the end) otherwise, on stderr. Quiet phases (quiet = true) print nothing. */
#ifndef SQN_PHASE_PROGRESS_H
#define SQN_PHASE_PROGRESS_H
#include <stdbool.h>

typedef struct PhaseProgress {
  const char *name;
  long total;
  double start, last_print;
  bool tty, quiet, open;
} PhaseProgress;

void phase_begin(PhaseProgress *p, const char *name, long total, bool quiet);
void phase_tick(PhaseProgress *p, long done); /* done of total finished */
void phase_end(PhaseProgress *p);             /* the final line ("NAME: N done in X s") */
void phase_break(PhaseProgress *p);           /* ends an open line before an error message */
#endif
