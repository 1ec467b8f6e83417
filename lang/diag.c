/* diag.c - prints diagnostics with location, source line, caret and hint. */
#include "diag.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void diag_init(Diag *d, FILE *out) {
  memset(d, 0, sizeof *d);
  d->out = out ? out : stderr;
  d->max_errors = 20;
}

bool diag_too_many(const Diag *d) { return d->errors >= (d->max_errors ? d->max_errors : 20); }

/* Echoes the line of loc with a caret under its column. A long line is shown as a window of at most
   LINE_WINDOW characters around the column, marked with "..." where it is cut. */
#define LINE_WINDOW 160
static void print_source_line(FILE *out, SrcLoc loc) {
  if (!loc.file || !loc.file->text || loc.line <= 0) return;
  const char *p = loc.file->text;
  for (int l = 1; l < loc.line && *p; p++)
    if (*p == '\n') l++;
  const char *end = strchr(p, '\n');
  size_t n = end ? (size_t)(end - p) : strlen(p);
  size_t col = loc.col > 0 ? (size_t)loc.col - 1 : 0; /* 0-based */
  if (col > n) col = n;
  size_t from = col > LINE_WINDOW / 2 && n > LINE_WINDOW ? col - LINE_WINDOW / 2 : 0;
  if (from + LINE_WINDOW > n) from = n > LINE_WINDOW ? n - LINE_WINDOW : 0;
  size_t shown = n - from < LINE_WINDOW ? n - from : LINE_WINDOW;
  const char *lead = from ? "..." : "", *tail = from + shown < n ? "..." : "";
  fprintf(out, " %5d | %s%.*s%s\n       | %s", loc.line, lead, (int)shown, p + from, tail, from ? "   " : "");
  for (size_t i = from; i < col && i < from + shown; i++) fputc(p[i] == '\t' ? '\t' : ' ', out);
  fputs("^\n", out);
}

static void report(Diag *d, const char *kind, SrcLoc loc, const char *hint, const char *fmt,
                   va_list ap) {
  if (loc.file)
    fprintf(d->out, "%s:%d:%d: %s: ", loc.file->path, loc.line, loc.col, kind);
  else
    fprintf(d->out, "sqnc: %s: ", kind);
  vfprintf(d->out, fmt, ap);
  fputc('\n', d->out);
  print_source_line(d->out, loc);
  if (hint) fprintf(d->out, "       = hint: %s\n", hint);
}

void diag_error(Diag *d, SrcLoc loc, const char *hint, const char *fmt, ...) {
  d->errors++;
  int cap = d->max_errors ? d->max_errors : 20;
  if (d->errors > cap) return;
  va_list ap;
  va_start(ap, fmt);
  report(d, "error", loc, hint, fmt, ap);
  va_end(ap);
  if (d->errors == cap) fprintf(d->out, "sqnc: too many errors, stopping\n");
}

void diag_warning(Diag *d, SrcLoc loc, const char *hint, const char *fmt, ...) {
  d->warnings++;
  va_list ap;
  va_start(ap, fmt);
  report(d, "warning", loc, hint, fmt, ap);
  va_end(ap);
}

void diag_note(Diag *d, SrcLoc loc, const char *fmt, ...) {
  if (diag_too_many(d)) return; /* past the cap, errors are not shown: neither are their notes */
  va_list ap;
  va_start(ap, fmt);
  report(d, "note", loc, NULL, fmt, ap);
  va_end(ap);
}

/* Edits (insert, delete, substitute, swap two neighbours) from a to b: "cuot" is one swap from "cout". */
static int edit_distance(const char *a, const char *b) {
  int la = (int)strlen(a), lb = (int)strlen(b);
  if (la > 64 || lb > 64) return 99;
  int d[3][65]; /* rows i - 2, i - 1, i (mod 3) */
  for (int j = 0; j <= lb; j++) d[0][j] = j;
  for (int i = 1; i <= la; i++) {
    int *cur = d[i % 3], *up = d[(i - 1) % 3], *up2 = d[(i + 1) % 3];
    cur[0] = i;
    for (int j = 1; j <= lb; j++) {
      int best = up[j - 1] + (a[i - 1] != b[j - 1]);
      if (up[j] + 1 < best) best = up[j] + 1;
      if (cur[j - 1] + 1 < best) best = cur[j - 1] + 1;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && up2[j - 2] + 1 < best) best = up2[j - 2] + 1;
      cur[j] = best;
    }
  }
  return d[la % 3][lb];
}

const char *diag_closest(const char *word, const char *const *candidates, int n) {
  const char *best = NULL;
  int best_d = 99;
  int len = (int)strlen(word);
  int limit = len <= 4 ? 1 : len <= 7 ? 2 : 3; /* plausible: tanh is not tap, smal is small */
  for (int i = 0; i < n; i++) {
    if (!candidates[i]) continue;
    int dist = edit_distance(word, candidates[i]);
    if (dist < best_d && dist <= limit) {
      best_d = dist;
      best = candidates[i];
    }
  }
  return best;
}
