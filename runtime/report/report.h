/* report.h - RUNDIR/report.html: one self-contained page (inline CSS, JavaScript drawing SVG, the data as
   inline JSON; nothing loaded from elsewhere) that shows a --train or --search run from the files in its
   folder: the loss, mIoU, learning-rate and search curves of log.jsonl, a search's candidate probabilities
   per superblock over the epochs, the pareto plot of pareto.json with details on hover, arch.svg, the
   settings and checkpoint states, the timings and the files. `sqnrun --report RUNDIR` writes it, and so do
   --train and --search when they end. */
#ifndef SQN_REPORT_H
#define SQN_REPORT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "json_min.h"

/* Reads run_dir and writes run_dir/report.html atomically (atomic_file.h); path receives its path. False
   with err when run_dir is not a run folder (no log.jsonl, or a log.jsonl that is not sqnrun's) or the page
   cannot be written; a missing or unreadable part (pareto.json, arch.svg, ...) is only a note on the page. */
bool report_write(const char *run_dir, char *path, size_t path_n, char *err, size_t n);

/* The line {"type": "run", "mode": ..., "invocation": "new"|"resume", "from_epoch": N, "started": TIME,
   settings...} that --train and --search append to log.jsonl when they start (each invocation, so a resumed
   run has one per resume): the settings the report shows. Members are added in order; run_line_end writes
   the line and frees it. */
typedef struct RunLine {
  JsonOut o;
} RunLine;
void run_line_begin(RunLine *l, const char *mode, bool resume, int from_epoch);
void run_line_str(RunLine *l, const char *key, const char *value); /* NULL: null */
void run_line_num(RunLine *l, const char *key, double value);      /* not finite: null */
void run_line_bool(RunLine *l, const char *key, bool value);
bool run_line_end(RunLine *l, FILE *log);
#endif
