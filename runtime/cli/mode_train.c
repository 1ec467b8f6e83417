/* mode_train.c - the training loop behind `sqnrun NET.plan --train`: datasets and loader, LR
   schedule, one trainer step per batch with a progress line, a JSON-lines log, evaluation after every
   epoch, last/best checkpoints in the run folder, --resume, and the clear stop on non-finite values.
   `--eval` (mode_eval) shares the dataset setup and the evaluator. Under mpirun each rank trains on its shard
   of every batch and rank 0 writes (mode_dist.h). */
#include "mode_train.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "checkpoint.h"
#include "cityscapes.h"
#include "cpu_ops.h"
#include "epoch.h"
#include "evaluate.h"
#include "loader.h"
#include "mode_dist.h"
#include "report.h"
#include "weights_file.h"
#include "run_dir.h"
#include "shapes.h"
#include "train_progress.h"
#include "trainer.h"
#include "clock.h"

typedef struct Run {
  const Plan *p;
  const CliArgs *a;
  int epochs, batch, crop_h, crop_w;
  double lr, momentum, wd;
  Dataset *train, *val;
  Loader *loader;
  Trainer *t;
  RunState st;
  char dir[1024], last[1100], best[1100];
  RunDir rd;
  int saved_epoch; /* epochs in the checkpoint on disk (last.safetensors) */
  FILE *log;
} Run;

/* Synthetic images default to the network's input size. */
static bool open_split(const Plan *p, const CliArgs *a, const char *split, int count, Dataset **d, char *err, size_t n) {
  DatasetOptions o = {count, p->input.h, p->input.w, (uint64_t)a->seed};
  if (a->synth_size.h) o.synth_h = a->synth_size.h, o.synth_w = a->synth_size.w;
  char e2[512];
  if (!(*d = dataset_open(a->data, split, &o, e2, sizeof e2))) return snprintf(err, n, "%s", e2), false;
  return true;
}

/* Settings: the plan's train block, overridden by the command line. */
static bool settings(Run *r, char *err, size_t n) {
  const PlanTrain *pt = &r->p->train;
  const CliArgs *a = r->a;
  r->epochs = a->epochs ? a->epochs : pt->epochs ? pt->epochs : 10;
  r->batch = a->batch ? a->batch : pt->batch ? pt->batch : 8;
  r->crop_h = pt->crop_h, r->crop_w = pt->crop_w;
  if (a->crop.h) r->crop_h = a->crop.h, r->crop_w = a->crop.w;
  if (!r->crop_h) r->crop_h = r->p->input.h, r->crop_w = r->p->input.w;
  Shape *sh = malloc(sizeof *sh * (size_t)r->p->nnodes);
  char why[1024];
  bool fits = sh && plan_shapes(r->p, (Shape){0, 3, r->crop_h, r->crop_w}, sh, why, sizeof why);
  free(sh);
  if (!fits) return snprintf(err, n, "bad crop %dx%d: %s", r->crop_h, r->crop_w, why), false;
  if (!trainer_check_input(r->p, (Shape){r->batch, 3, r->crop_h, r->crop_w}, a->backend, why, sizeof why))
    return snprintf(err, n, "bad crop %dx%d: %s", r->crop_h, r->crop_w, why), false;
  r->lr = a->lr >= 0 ? a->lr : pt->lr;
  r->momentum = pt->momentum, r->wd = pt->weight_decay;
  return true;
}

static double lr_at(const Run *r, int epoch, long step, long total) {
  const PlanTrain *pt = &r->p->train;
  switch (pt->schedule) {
  case PLAN_SCHED_STEP: {
    double f = (double)epoch / r->epochs, lr = r->lr;
    for (int i = 0; i < pt->nmilestones; i++)
      if (f >= pt->milestones[i]) lr *= pt->gamma > 0 ? pt->gamma : 0.1;
    return lr;
  }
  case PLAN_SCHED_POLY: return r->lr * pow(1.0 - (double)step / (total > 0 ? total : 1), pt->poly_power);
  default: return r->lr;
  }
}

/* Weights: a checkpoint (--resume), a weights file (--weights) or the reference initialization. */
static bool start_trainer(Run *r, char *err, size_t n) {
  TensorSet *w = NULL, *opt = NULL;
  r->st = (RunState){.lr = r->lr, .seed = (uint64_t)r->a->seed, .best_miou = -1, .best_epoch = -1};
  if (r->a->resume) {
    char e2[512];
    if (!checkpoint_load(r->last, &w, &opt, &r->st, e2, sizeof e2))
      return snprintf(err, n, "cannot resume from %s: %s (hint: --resume continues a run in --out DIR)", r->last, e2),
             false;
    r->saved_epoch = r->st.epoch;
    if (r->st.seed != (uint64_t)r->a->seed)
      fprintf(stderr, "sqnrun: resuming with the run's seed %llu\n", (unsigned long long)r->st.seed);
  } else if (r->a->weights && !(w = weights_load(r->a->weights, err, n))) {
    return false;
  }
  r->t = trainer_new(r->p, w, r->st.seed, r->a->backend, err, n);
  bool ok = r->t && (!opt || trainer_load_optimizer_state(r->t, opt, err, n));
  tensor_set_free(w), tensor_set_free(opt);
  if (ok) trainer_freeze_bn(r->t, r->a->freeze_bn);
  return ok;
}

static bool setup(Run *r, char *err, size_t n) {
  const CliArgs *a = r->a;
  if (!trainer_backend_ok(a->backend, err, n)) return false;
  if (!settings(r, err, n)) return false;
  if (a->threads > 0) cpu_set_threads(a->threads);
  snprintf(r->dir, sizeof r->dir, "%s", a->run_dir ? a->run_dir : "");
  if (!a->run_dir) snprintf(r->dir, sizeof r->dir, "run-%s", r->p->name ? r->p->name : "net");
  snprintf(r->last, sizeof r->last, "%s/last.safetensors", r->dir);
  snprintf(r->best, sizeof r->best, "%s/best.safetensors", r->dir);
  if (!open_split(r->p, a, "train", a->synth_train, &r->train, err, n) ||
      !open_split(r->p, a, "val", a->synth_val, &r->val, err, n))
    return false;
  AugmentOptions aug = {r->crop_h, r->crop_w, 0.5, 2.0, true};
  if (!(r->loader = loader_new(r->train, r->batch, &aug, true, true, (uint64_t)a->seed, a->workers, err, n)))
    return false;
  if (loader_batches_per_epoch(r->loader) < 1)
    return snprintf(err, n, "the training split has %d images, fewer than one batch of %d", dataset_size(r->train),
                    r->batch), false;
  if (!dist_run_dir_open(&r->rd, r->dir, cli_run_dir_use(r->a), err, n) || !start_trainer(r, err, n) ||
      !dist_run_start(r->loader, r->batch, r->t, err, n))
    return false;
  return (r->log = dist_run_log_open(&r->rd, a->resume, r->st.epoch, err, n)) != NULL;
}

/* A training step of one epoch (epoch.h): the LR of the schedule, the trainer's step, SGD, the log line. */
typedef struct TrainEpoch {
  Run *r;
  int epoch;
  long total;        /* steps of the whole run, for the poly schedule */
  double lr;         /* of the last step */
  TrainStats ts;     /* of the last step */
} TrainEpoch;

static bool train_step(void *ctx, const Batch *b, double *loss, char *err, size_t n) {
  TrainEpoch *e = ctx;
  Run *r = e->r;
  e->lr = lr_at(r, e->epoch, r->st.step, e->total);
  if (!trainer_step(r->t, b->image, (Shape){b->n, 3, b->h, b->w}, b->labels, &e->ts, err, n)) return false;
  trainer_sgd(r->t, e->lr, r->momentum, r->wd);
  r->st.step++, r->st.lr = e->lr, r->st.last_loss = e->ts.loss;
  *loss = e->ts.loss;
  return true;
}

static void log_step(void *ctx, const Batch *b, double loss, double images_per_s) {
  TrainEpoch *e = ctx;
  (void)b;
  fprintf(e->r->log, "{\"type\": \"step\", \"epoch\": %d, \"step\": %ld, \"loss\": %.6f, \"lr\": %.6g, "
                     "\"grad_norm\": %.6g, \"images_per_s\": %.3f}\n",
          e->epoch + 1, e->r->st.step, loss, e->lr, e->ts.grad_norm, images_per_s);
}

/* One epoch of steps; false with err set when a step fails (the last checkpoint stays as it was). */
static bool run_epoch(Run *r, int epoch, Progress *pg, double *mean_loss, char *err, size_t n) {
  int nb = epoch_steps(r->loader, r->a->max_steps);
  TrainEpoch e = {.r = r, .epoch = epoch, .total = (long)nb * r->epochs};
  EpochStep step = {train_step, log_step, &e};
  return epoch_run(r->loader, epoch, nb, pg, &step, mean_loss, err, n);
}

static bool end_epoch(Run *r, int epoch, double mean_loss, double seconds, char *err, size_t n) {
  Confusion c;
  SegMetrics m = {0};
  if (!confusion_init(&c, r->p->classes)) return snprintf(err, n, "out of memory"), false;
  bool ok = evaluate_dataset(r->p, trainer_weights(r->t), r->a->backend, r->val, r->a->val_limit, r->a->workers, &c,
                             err, n);
  if (ok) seg_metrics(&c, &m);
  confusion_free(&c);
  if (!ok) return false;
  r->st.epoch = epoch + 1;
  bool best = m.miou > r->st.best_miou;
  if (best) r->st.best_miou = m.miou, r->st.best_epoch = epoch + 1;
  /* The log line first, then best, then last: last.safetensors is what --resume continues from, so
     a run killed anywhere in between redoes this epoch and rewrites all three identically. */
  fprintf(r->log, "{\"type\": \"epoch\", \"epoch\": %d, \"step\": %ld, \"train_loss\": %.6f, \"val_miou\": %.6f, "
                  "\"val_pixel_acc\": %.6f, \"lr\": %.6g, \"seconds\": %.2f, \"best\": %s}\n",
          epoch + 1, r->st.step, mean_loss, m.miou, m.pixel_acc, r->st.lr, seconds, best ? "true" : "false");
  fflush(r->log);
  TensorSet *opt = dist_writer() ? trainer_optimizer_state(r->t) : NULL;
  ok = !dist_writer() || ((!best || checkpoint_save(r->best, trainer_weights(r->t), NULL, &r->st, err, n)) &&
                          checkpoint_save(r->last, trainer_weights(r->t), opt, &r->st, err, n));
  tensor_set_free(opt);
  if (ok) r->saved_epoch = r->st.epoch;
  progress_epoch(epoch, r->epochs, mean_loss, m.miou, m.pixel_acc, seconds, best);
  return ok;
}

/* The settings of this invocation as the log's "run" line (report.h). */
static void log_run(Run *r) {
  const CliArgs *a = r->a;
  const PlanTrain *pt = &r->p->train;
  RunLine l;
  char crop[32];
  snprintf(crop, sizeof crop, "%dx%d", r->crop_h, r->crop_w);
  run_line_begin(&l, "train", a->resume, r->st.epoch);
  run_line_str(&l, "plan", a->plan), run_line_str(&l, "network", r->p->name);
  run_line_str(&l, "data", a->data), run_line_str(&l, "backend", a->backend ? a->backend : "cpu");
  run_line_num(&l, "epochs", r->epochs), run_line_num(&l, "batch", r->batch), run_line_str(&l, "crop", crop);
  run_line_num(&l, "steps_per_epoch", epoch_steps(r->loader, a->max_steps));
  run_line_num(&l, "lr", r->lr), run_line_num(&l, "momentum", r->momentum), run_line_num(&l, "weight_decay", r->wd);
  run_line_str(&l, "schedule", plan_schedule_name(pt->schedule));
  run_line_str(&l, "weights", a->resume ? NULL : a->weights), run_line_bool(&l, "freeze_bn", a->freeze_bn);
  run_line_num(&l, "seed", (double)r->st.seed), run_line_num(&l, "workers", a->workers);
  run_line_num(&l, "threads", a->threads), run_line_num(&l, "val_limit", a->val_limit > 0 ? a->val_limit : NAN);
  run_line_num(&l, "stop_after", a->stop_after > 0 ? a->stop_after : NAN);
  run_line_end(&l, r->log);
}

/* report.html at the end of a run that went well; a failure is only a warning. */
static void write_report(Run *r) {
  char err[4096], path[4200];
  if (!dist_writer()) return;
  fflush(r->log);
  if (!report_write(r->dir, path, sizeof path, err, sizeof err)) fprintf(stderr, "sqnrun: warning: no report: %s\n", err);
  else printf("report: %s\n", path);
}

static void teardown(Run *r) {
  if (r->log) fclose(r->log);
  run_dir_close(&r->rd, r->log != NULL);
  trainer_free(r->t);
  loader_free(r->loader);
  dataset_close(r->train);
  dataset_close(r->val);
}

int mode_train(const Plan *p, const CliArgs *a) {
  char err[4096] = "";
  Run r = {.p = p, .a = a};
  if (p->is_space) {
    fprintf(stderr, "sqnrun: %s is a search space: --train needs a fixed network (use --search for a space)\n", p->name);
    return 2;
  }
  bool ok = setup(&r, err, sizeof err);
  if (ok && r.st.epoch >= r.epochs) printf("%s: already trained for %d epochs\n", r.dir, r.st.epoch);
  if (ok && dist_writer())
    fprintf(stderr, "training %s: %d epochs from epoch %d, batch %d, crop %dx%d, lr %g, %d steps per epoch -> %s\n",
            p->name, r.epochs, r.st.epoch + 1, r.batch, r.crop_h, r.crop_w, r.lr,
            epoch_steps(r.loader, a->max_steps),
            r.dir);
  if (ok) log_run(&r);
  Progress pg;
  progress_init(&pg, r.epochs);
  int last = a->stop_after > 0 && r.st.epoch + a->stop_after < r.epochs ? r.st.epoch + a->stop_after : r.epochs;
  for (int e = r.st.epoch; ok && e < last; e++) {
    double t0 = now_s(), mean_loss = 0;
    ok = run_epoch(&r, e, &pg, &mean_loss, err, sizeof err) && end_epoch(&r, e, mean_loss, now_s() - t0, err, sizeof err);
  }
  if (!ok) {
    progress_break(&pg);
    fprintf(stderr, "sqnrun: %s\n", err);
    if (r.saved_epoch > 0) fprintf(stderr, "sqnrun: the last good checkpoint is %s (epoch %d)\n", r.last, r.saved_epoch);
  } else if (last < r.epochs) {
    printf("stopped after epoch %d of %d as asked; continue with --resume --out %s\n", last, r.epochs, r.dir);
  } else {
    printf("best val mIoU %.4f (epoch %d); checkpoints: %s, %s; log: %s/log.jsonl\n", r.st.best_miou, r.st.best_epoch,
           r.best, r.last, r.dir);
  }
  if (ok) write_report(&r);
  teardown(&r);
  return ok ? 0 : 1;
}

int mode_eval(const Plan *p, const CliArgs *a) {
  char err[4096] = "";
  if (a->threads > 0) cpu_set_threads(a->threads);
  Dataset *val = NULL;
  TensorSet *w = NULL;
  Confusion c = {0};
  SegMetrics m;
  bool ok = open_split(p, a, "val", a->synth_val, &val, err, sizeof err) && (w = weights_load(a->weights, err, sizeof err)) &&
            confusion_init(&c, p->classes) &&
            evaluate_dataset(p, w, a->backend, val, a->val_limit, a->workers, &c, err, sizeof err);
  if (ok) {
    seg_metrics(&c, &m);
    const char *const *names = p->classes == CITYSCAPES_NUM_CLASSES ? cityscapes_class_names : NULL;
    if (a->json) seg_metrics_json(stdout, &m, &c, names);
    else seg_metrics_print(stdout, &m, names);
  } else {
    fprintf(stderr, "sqnrun: %s\n", err);
  }
  confusion_free(&c);
  tensor_set_free(w);
  dataset_close(val);
  return ok ? 0 : 1;
}
