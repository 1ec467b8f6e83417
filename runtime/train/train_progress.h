/* train_progress.h - what a person sees while training: a progress line per step (redrawn in place
   on a terminal, one line every few seconds otherwise) with loss, images/s and ETA, and a summary
   line per epoch. */
#ifndef SQN_TRAIN_PROGRESS_H
#define SQN_TRAIN_PROGRESS_H
#include <stdbool.h>

typedef struct Progress {
  int epochs;
  bool tty;
  double start, last_print, ema_rate; /* images/s, smoothed */
  double epoch_loss_sum;              /* this epoch's losses so far: "avg" is the epoch's mean so far */
  int epoch_loss_n;
  long steps_done;
  bool open;                          /* a progress line is on screen without its newline */
} Progress;

void progress_init(Progress *p, int epochs);
void progress_step(Progress *p, int epoch, int step, int steps, double loss, double images_per_s);
void progress_epoch(int epoch, int epochs, double loss, double miou, double pixel_acc, double seconds, bool best);
void progress_break(Progress *p); /* ends an open progress line before an error message */
#endif
