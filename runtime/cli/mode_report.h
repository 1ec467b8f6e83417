/* mode_report.h - `sqnrun --report RUNDIR` (mode_report.c): one self-contained report.html of a
   training run or a search, from the files in its run folder. */
#ifndef SQN_MODE_REPORT_H
#define SQN_MODE_REPORT_H
#include "cli_args.h"
#include "plan.h"

/* p is NULL (the mode takes no plan). Returns the exit code: 0 ok, 1 the folder or a file in it failed. */
int mode_report(const Plan *p, const CliArgs *a);
#endif
