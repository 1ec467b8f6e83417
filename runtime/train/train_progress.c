/* train_progress.c - the training progress display (train_progress.h); rank 0 alone shows it in a data-parallel run. */
#include "train_progress.h"
#include "clock.h"
#include "dist.h"
#include <stdio.h>
#include <time.h>
#include <unistd.h>

void progress_init(Progress *p, int epochs) {
  *p = (Progress){.epochs = epochs, .tty = isatty(2), .start = now_s()};
}

static void format_eta(double s, char *buf, size_t n) {
  if (s < 0 || s > 1e7) snprintf(buf, n, "?");
  else if (s >= 3600) snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
  else snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)s % 60);
}

void progress_step(Progress *p, int epoch, int step, int steps, double loss, double images_per_s) {
  if (dist_rank() != 0) return;
  p->ema_rate = p->steps_done ? 0.9 * p->ema_rate + 0.1 * images_per_s : images_per_s;
  if (step == 1) p->epoch_loss_sum = 0, p->epoch_loss_n = 0;
  p->epoch_loss_sum += loss, p->epoch_loss_n++;
  p->steps_done++;
  double t = now_s();
  if (!p->tty && t - p->last_print < 10 && step != steps) return;
  p->last_print = t;
  char eta[32];
  double per_step = (t - p->start) / p->steps_done;
  format_eta(per_step * ((double)(steps - step) + (double)steps * (p->epochs - epoch - 1)), eta, sizeof eta);
  char bar[21];
  int filled = steps ? 20 * step / steps : 20;
  for (int i = 0; i < 20; i++) bar[i] = i < filled ? '#' : '.';
  bar[20] = 0;
  fprintf(stderr, "%sepoch %d/%d [%s] %d/%d loss %.4f (avg %.4f) %.2f img/s ETA %s%s", p->tty ? "\r" : "", epoch + 1,
          p->epochs, bar, step, steps, loss, p->epoch_loss_sum / p->epoch_loss_n, p->ema_rate, eta, p->tty ? "\033[K" : "\n");
  p->open = p->tty;
  fflush(stderr);
}

void progress_break(Progress *p) {
  if (p->open) fputc('\n', stderr);
  p->open = false;
}

void progress_epoch(int epoch, int epochs, double loss, double miou, double pixel_acc, double seconds, bool best) {
  if (dist_rank() != 0) return;
  fprintf(stderr, "%sepoch %d/%d: train loss %.4f, val mIoU %.4f, pixel acc %.4f, %.1f s%s\n", isatty(2) ? "\r\033[K" : "",
          epoch + 1, epochs, loss, miou, pixel_acc, seconds, best ? " (best)" : "");
}
