/* report_runline.c - the "run" line of log.jsonl (report.h). */
#include <math.h>
#include <string.h>
#include <time.h>
#include "report.h"
#include "report_internal.h"

static void key(RunLine *l, const char *k) {
  buf_s(&l->o, ", ");
  js_str(&l->o, k, strlen(k));
  buf_s(&l->o, ": ");
}

void run_line_begin(RunLine *l, const char *mode, bool resume, int from_epoch) {
  *l = (RunLine){0};
  char when[64] = "";
  time_t now = time(NULL);
  struct tm tm;
  if (localtime_r(&now, &tm)) strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S%z", &tm);
  buf_s(&l->o, "{\"type\": \"run\"");
  run_line_str(l, "mode", mode);
  run_line_str(l, "invocation", resume ? "resume" : "new");
  run_line_num(l, "from_epoch", from_epoch);
  run_line_str(l, "started", when);
  run_line_num(l, "unix_time", (double)now);
}

void run_line_str(RunLine *l, const char *k, const char *value) {
  key(l, k);
  if (value) js_str(&l->o, value, strlen(value)); /* valid JSON even for a path that is not UTF-8 */
  else buf_s(&l->o, "null");
}

void run_line_num(RunLine *l, const char *k, double value) {
  key(l, k);
  if (isfinite(value)) buf_f(&l->o, "%.10g", value);
  else buf_s(&l->o, "null");
}

void run_line_bool(RunLine *l, const char *k, bool value) {
  key(l, k);
  buf_s(&l->o, value ? "true" : "false");
}

bool run_line_end(RunLine *l, FILE *log) {
  buf_s(&l->o, "}\n");
  bool ok = !l->o.oom && fwrite(l->o.p, 1, l->o.len, log) == l->o.len && fflush(log) == 0;
  json_out_free(&l->o);
  return ok;
}
