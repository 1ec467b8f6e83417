/* mode_report.c - `sqnrun --report RUNDIR`: writes RUNDIR/report.html (report.h) and prints its path. */
#include <stdio.h>
#include "mode_report.h"
#include "report.h"

int mode_report(const Plan *p, const CliArgs *a) {
  (void)p;
  char err[4096], path[4200];
  if (!report_write(a->report_dir, path, sizeof path, err, sizeof err)) return fprintf(stderr, "sqnrun: %s\n", err), 1;
  printf("report: %s\n", path);
  return 0;
}
