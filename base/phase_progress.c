/* phase_progress.c - progress lines for long phases (phase_progress.h). */
#include "phase_progress.h"
#include "clock.h"
#include <stdio.h>
#include <unistd.h>

void phase_begin(PhaseProgress *p, const char *name, long total, bool quiet) {
  *p = (PhaseProgress){.name = name, .total = total, .start = now_s(), .tty = isatty(2), .quiet = quiet};
  p->last_print = p->start;
}

static void format_eta(double s, char *buf, size_t n) {
  if (s < 0 || s > 1e7) snprintf(buf, n, "?");
  else if (s >= 3600) snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
  else snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)s % 60);
}

void phase_tick(PhaseProgress *p, long done) {
  if (p->quiet) return;
  double t = now_s();
  if (done < p->total && t - p->last_print < (p->tty ? 0.1 : 10)) return;
  p->last_print = t;
  char bar[21], eta[32];
  int filled = p->total > 0 ? (int)(20 * done / p->total) : 20;
  for (int i = 0; i < 20; i++) bar[i] = i < filled ? '#' : '.';
  bar[20] = 0;
  double elapsed = t - p->start;
  format_eta(done > 0 ? elapsed / (double)done * (double)(p->total - done) : -1, eta, sizeof eta);
  fprintf(stderr, "%s%s [%s] %ld/%ld %.1f s, ETA %s%s", p->tty ? "\r" : "", p->name, bar, done, p->total, elapsed,
          eta, p->tty ? "\033[K" : "\n");
  p->open = p->tty;
  fflush(stderr);
}

void phase_break(PhaseProgress *p) {
  if (p->open) fputc('\n', stderr);
  p->open = false;
}

void phase_end(PhaseProgress *p) {
  if (p->quiet) return;
  fprintf(stderr, "%s%s: %ld done in %.1f s\n", p->open ? "\r\033[K" : "", p->name, p->total, now_s() - p->start);
  p->open = false;
}
