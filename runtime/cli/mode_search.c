/* mode_search.c - `sqnrun SPACE.plan --search`: trains the supernet's weights (SGD) and architecture
   parameters (Adam) together on each batch, with per-sample Gumbel-softmax mixing at an annealed
   temperature and the resource loss of the plan's objective; prunes improbable candidates after each
   epoch; logs, checkpoints and resumes like --train; finally derives a network (derive.h). Under mpirun each rank
   takes its shard of every batch, theta's gradient is summed over the ranks, and rank 0 alone writes and
   derives (mode_dist.h). */
#include "mode_search.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "checkpoint.h"
#include "derive.h"
#include "epoch.h"
#include "json_min.h"
#include "loader.h"
#include "dist.h"
#include "mode_dist.h"
#include "report.h"
#include "weights_file.h"
#include "run_dir.h"
#include "search.h"
#include "shapes.h"
#include "train_progress.h"
#include "trainer.h"
#include "clock.h"

typedef struct Run {
  const Plan *p;
  const CliArgs *a;
  int epochs, warmup, batch, crop_h, crop_w, samples;
  double lr, momentum, wd, alpha, arch_lr;
  PlanObjective objective;
  Dataset *train, *val;
  Loader *loader;
  Trainer *t;
  Search s;
  RunState st;
  char dir[1024], last[1100];
  RunDir rd;
  int saved_epoch; /* epochs in the checkpoint on disk (last.safetensors) */
  FILE *log;
  float *mix;
  double *dtheta;
  CostTable latency;        /* --lut, whatever the objective: derive reports (and may target) latency */
  bool have_latency;
} Run;

static bool settings(Run *r, char *err, size_t n) {
  const Plan *p = r->p;
  const CliArgs *a = r->a;
  r->epochs = a->epochs ? a->epochs : p->search.epochs ? p->search.epochs : 10;
  r->warmup = a->warmup_epochs >= 0 ? a->warmup_epochs : p->search.warmup_epochs;
  r->batch = a->batch ? a->batch : p->train.batch ? p->train.batch : 8;
  r->crop_h = p->train.crop_h, r->crop_w = p->train.crop_w;
  if (a->crop.h) r->crop_h = a->crop.h, r->crop_w = a->crop.w;
  if (!r->crop_h || r->crop_h > p->input.h || r->crop_w > p->input.w) r->crop_h = p->input.h, r->crop_w = p->input.w;
  r->lr = a->lr >= 0 ? a->lr : p->train.lr;
  r->momentum = p->train.momentum, r->wd = p->train.weight_decay;
  r->alpha = a->alpha >= 0 ? a->alpha : p->search.alpha;
  r->arch_lr = a->arch_lr >= 0 ? a->arch_lr : p->search.arch_lr;
  r->samples = a->samples >= 0 ? a->samples : p->search.samples;
  r->objective = p->search.objective;
  if (a->objective) {
    int o = 0;
    while (o < PLAN_OBJ__COUNT && strcmp(a->objective, plan_objective_name((PlanObjective)o))) o++;
    if (o == PLAN_OBJ__COUNT) return snprintf(err, n, "bad --objective '%s' (macs, params or latency)", a->objective), false;
    r->objective = (PlanObjective)o;
  }
  Shape *sh = malloc(sizeof *sh * (size_t)p->nnodes);
  char why[1024];
  bool fits = sh && plan_shapes(p, (Shape){0, 3, r->crop_h, r->crop_w}, sh, why, sizeof why);
  free(sh);
  if (!fits) return snprintf(err, n, "bad crop %dx%d: %s", r->crop_h, r->crop_w, why), false;
  if (!trainer_check_input(p, (Shape){r->batch, 3, r->crop_h, r->crop_w}, a->backend, why, sizeof why))
    return snprintf(err, n, "bad crop %dx%d: %s", r->crop_h, r->crop_w, why), false;
  return true;
}

static bool costs(Run *r, char *err, size_t n) {
  if (r->a->lut) {
    if (!cost_from_lut(r->p, r->a->lut, &r->latency, err, n)) return false;
    r->have_latency = true;
  }
  if (r->objective == PLAN_OBJ_LATENCY) {
    if (!r->a->lut)
      return snprintf(err, n, "space %s asks for latency (its `search { objective latency }`): give its table with "
                              "--lut lut.json (measure it with sqnrun SPACE.plan --profile -o lut.json), or search on "
                              "MACs with --objective macs", r->p->name), false;
    return cost_from_lut(r->p, r->a->lut, &r->s.cost, err, n);
  }
  if (!cost_from_plan(r->p, r->objective, &r->s.cost)) return snprintf(err, n, "out of memory"), false;
  return true;
}

/* The resource term's form: the plan's (a budget only where the objective is the plan's: its unit is). */
static bool budget(Run *r, char *err, size_t n) {
  const PlanSearch *ps = &r->p->search;
  bool own = r->objective == ps->objective;
  if (!own && ps->target > 0)
    fprintf(stderr, "sqnrun: warning: --objective %s drops the plan's budget (%g %s): it is in another unit\n",
            plan_objective_name(r->objective), ps->target, plan_objective_unit(ps->objective));
  BudgetSettings b = {ps->costs_relative, r->alpha, own ? ps->target : 0, ps->target_fraction, ps->budget_lr, ps->skip_limit};
  if (!budget_init(&r->s, &b, err, n)) return false;
  r->s.budget.lambda = r->st.budget_lambda, r->s.budget.mu = r->st.skip_mu; /* 0 unless resumed */
  return true;
}

static bool open_data(Run *r, char *err, size_t n) {
  const CliArgs *a = r->a;
  DatasetOptions o = {a->synth_train, r->p->input.h, r->p->input.w, (uint64_t)a->seed}, v = o;
  if (a->synth_size.h) o.synth_h = a->synth_size.h, o.synth_w = a->synth_size.w;
  v.synth_count = a->synth_val, v.synth_h = o.synth_h, v.synth_w = o.synth_w;
  if (!(r->train = dataset_open(a->data, "train", &o, err, n)) || !(r->val = dataset_open(a->data, "val", &v, err, n)))
    return false;
  AugmentOptions aug = {r->crop_h, r->crop_w, 0.5, 2.0, true};
  return (r->loader = loader_new(r->train, r->batch, &aug, true, true, (uint64_t)a->seed, a->workers, err, n)) != NULL;
}

/* "sb:k,..." <-> the active flags. */
static void pruned_to_text(const Search *s, char *out, size_t n) {
  size_t k = 0;
  out[0] = 0;
  for (int i = 0; i < s->nsb; i++)
    for (int c = 0; c < s->p->sb[i].ncand; c++)
      if (!s->active[i * s->maxc + c] && k + 16 < n) k += (size_t)snprintf(out + k, n - k, "%s%d:%d", k ? "," : "", i, c);
}

static void pruned_from_text(Search *s, const char *text) {
  for (const char *q = text; *q;) {
    int i, c, used = 0;
    if (sscanf(q, "%d:%d%n", &i, &c, &used) != 2) break;
    if (i >= 0 && i < s->nsb && c >= 0 && c < s->p->sb[i].ncand) s->active[i * s->maxc + c] = false;
    q += used;
    if (*q == ',') q++;
  }
}

static bool start_trainer(Run *r, char *err, size_t n) {
  TensorSet *w = NULL, *opt = NULL;
  const CliArgs *a = r->a;
  r->st = (RunState){.lr = r->lr, .seed = (uint64_t)a->seed, .best_miou = -1, .best_epoch = -1};
  if (a->resume) {
    char e2[1024];
    if (!checkpoint_load(r->last, &w, &opt, &r->st, e2, sizeof e2))
      return snprintf(err, n, "cannot resume from %s: %s (hint: --resume continues a search in --out DIR)", r->last, e2), false;
    r->saved_epoch = r->st.epoch;
  } else if (a->weights && !(w = weights_load(a->weights, err, n))) {
    return false;
  }
  r->t = trainer_new(r->p, w, r->st.seed, a->backend, err, n);
  bool ok = r->t && (!opt || trainer_load_optimizer_state(r->t, opt, err, n));
  tensor_set_free(w), tensor_set_free(opt);
  if (!ok) return false;
  trainer_set_adam_steps(r->t, r->st.adam_steps);
  pruned_from_text(&r->s, r->st.pruned);
  trainer_set_active(r->t, r->s.active, r->s.maxc);
  size_t nm = (size_t)r->s.nsb * r->s.maxc;
  r->mix = malloc(sizeof *r->mix * nm * (size_t)r->batch + 1), r->dtheta = calloc(nm + 1, sizeof *r->dtheta);
  return r->mix && r->dtheta ? true : (snprintf(err, n, "out of memory"), false);
}

static bool setup(Run *r, char *err, size_t n) {
  const CliArgs *a = r->a;
  if (!trainer_backend_ok(a->backend, err, n)) return false;
  if (!settings(r, err, n) || !search_init(&r->s, r->p) || !costs(r, err, n)) return err[0] ? false : (snprintf(err, n, "out of memory"), false);
  if (a->threads > 0) cpu_set_threads(a->threads);
  snprintf(r->dir, sizeof r->dir, "%s", a->run_dir ? a->run_dir : "");
  if (!a->run_dir) snprintf(r->dir, sizeof r->dir, "search-%s", r->p->name ? r->p->name : "space");
  snprintf(r->last, sizeof r->last, "%s/last.safetensors", r->dir);
  if (!open_data(r, err, n)) return false;
  if (!dist_run_dir_open(&r->rd, r->dir, cli_run_dir_use(r->a), err, n) || !start_trainer(r, err, n) ||
      !budget(r, err, n) || !dist_run_start(r->loader, r->batch, r->t, err, n))
    return false;
  return (r->log = dist_run_log_open(&r->rd, a->resume, r->st.epoch, err, n)) != NULL;
}

/* x0 at the first search epoch after warm-up (and during warm-up), x1 at the last, geometric between. */
static double per_phase(const Run *r, int epoch, double x0, double x1) {
  int span = r->epochs - 1 - r->warmup, at = epoch - r->warmup;
  if (at <= 0) return span > 0 || at < 0 ? x0 : x1;
  return span > 0 ? x0 * pow(x1 / x0, (double)(at < span ? at : span) / span) : x1;
}

static double temperature(const Run *r, int epoch) {
  double t0 = r->p->search.temp_start > 0 ? r->p->search.temp_start : 5, t1 = r->p->search.temp_end > 0 ? r->p->search.temp_end : 1;
  return per_phase(r, epoch, t0, t1);
}

static double arch_lr_at(const Run *r, int epoch) {
  const PlanSearch *ps = &r->p->search;
  bool schedule = ps->arch_lr_end > 0 && r->a->arch_lr < 0; /* --arch-lr: constant */
  return schedule ? per_phase(r, epoch, r->arch_lr, ps->arch_lr_end) : r->arch_lr;
}

static double lr_at(const Run *r, int epoch) {
  const PlanTrain *pt = &r->p->train;
  double f = (double)epoch / r->epochs, lr = r->lr;
  if (pt->schedule == PLAN_SCHED_STEP)
    for (int i = 0; i < pt->nmilestones; i++) lr *= f >= pt->milestones[i] ? (pt->gamma > 0 ? pt->gamma : 0.1) : 1;
  if (pt->schedule == PLAN_SCHED_POLY) lr *= pow(1 - f, pt->poly_power);
  return lr;
}

typedef struct EpochStats { double ce, res, cost, rel, skip; int steps; } EpochStats;

static bool search_step(Run *r, const Batch *b, double tau, bool warm, double lr, double arch_lr, EpochStats *es, double *ce,
                        char *err, size_t n) {
  search_mix(&r->s, r->t, tau, r->st.seed, r->st.step, b->offset, b->n, r->mix); /* Gumbel noise per global sample */
  TrainStats ts;
  if (!trainer_set_mix(r->t, r->mix, b->n, err, n) ||
      !trainer_step(r->t, b->image, (Shape){b->n, 3, b->h, b->w}, b->labels, &ts, err, n))
    return false;
  ResourceTerm rt;
  search_theta_grad_ce(&r->s, r->t, r->mix, b->n, tau, r->dtheta);
  dist_allreduce_f64(r->dtheta, (size_t)r->s.nsb * r->s.maxc);
  search_theta_grad_resource(&r->s, r->t, r->dtheta, &rt);
  trainer_sgd_weights(r->t, lr, r->momentum, r->wd);
  if (!warm) trainer_adam_arch(r->t, r->dtheta, arch_lr, 0), budget_step(&r->s, &rt);
  r->st.step++, r->st.lr = lr, r->st.last_loss = ts.loss;
  r->st.budget_lambda = r->s.budget.lambda, r->st.skip_mu = r->s.budget.mu;
  es->ce += ts.loss, es->res += rt.loss, es->cost += rt.expected_cost, es->rel += rt.relative_cost;
  es->skip += rt.skip_fraction, es->steps++;
  *ce = ts.loss;
  fprintf(r->log, "{\"type\": \"step\", \"step\": %ld, \"ce_loss\": %.6f, \"resource_loss\": %.6f, \"expected_cost\": %.6f, "
                  "\"relative_cost\": %.6f, \"skip_fraction\": %.6f, \"lambda\": %.6g, \"mu\": %.6g, "
                  "\"temperature\": %.4f, \"lr\": %.6g, \"arch_lr\": %.6g, \"grad_norm\": %.6g}\n",
          r->st.step, ts.loss, rt.loss, rt.expected_cost, rt.relative_cost, rt.skip_fraction, r->s.budget.lambda,
          r->s.budget.mu, tau, lr, arch_lr, ts.grad_norm);
  return true;
}

/* A search step of one epoch (epoch.h). */
typedef struct SearchEpoch {
  Run *r;
  double tau, lr, arch_lr;
  bool warm;
  EpochStats *es;
} SearchEpoch;

static bool search_epoch_step(void *ctx, const Batch *b, double *loss, char *err, size_t n) {
  SearchEpoch *e = ctx;
  return search_step(e->r, b, e->tau, e->warm, e->lr, e->arch_lr, e->es, loss, err, n);
}

static bool run_epoch(Run *r, int e, Progress *pg, EpochStats *es, char *err, size_t n) {
  SearchEpoch se = {r, temperature(r, e), lr_at(r, e), arch_lr_at(r, e), e < r->warmup, es};
  EpochStep step = {search_epoch_step, NULL, &se};
  double mean_loss;
  return epoch_run(r->loader, e, epoch_steps(r->loader, r->a->max_steps), pg, &step, &mean_loss, err, n);
}

static void put(JsonOut *o, const char *s) { json_raw(o, s, strlen(s)); }

/* The candidate probabilities after the epoch (and its pruning; 0 for pruned candidates), per superblock
   with the candidates' names: {"type": "probs", "epoch": N, "superblocks": [{"candidates": [...], "p": [...]}]}.
   A line of its own, before the epoch's line: the epoch line stays short enough for run_log_open, which
   finds it to trim the log on --resume, and the report draws its heat map from these. */
static void log_probs(Run *r, int e) {
  JsonOut o = {0};
  char num[40];
  double *prob = malloc(sizeof *prob * (size_t)r->s.maxc);
  if (!prob) return;
  snprintf(num, sizeof num, "%d", e + 1);
  put(&o, "{\"type\": \"probs\", \"epoch\": "), put(&o, num), put(&o, ", \"superblocks\": [");
  for (int i = 0; i < r->s.nsb; i++) {
    const PlanSuperblock *sb = &r->p->sb[i];
    search_probs(&r->s, r->t, i, prob);
    put(&o, i ? ", {\"candidates\": [" : "{\"candidates\": [");
    for (int c = 0; c < sb->ncand; c++) put(&o, c ? ", " : ""), json_str(&o, sb->cand[c].name, strlen(sb->cand[c].name));
    put(&o, "], \"p\": [");
    for (int c = 0; c < sb->ncand; c++) {
      if (isfinite(prob[c])) snprintf(num, sizeof num, "%s%.4g", c ? ", " : "", prob[c]);
      else snprintf(num, sizeof num, "%snull", c ? ", " : ""); /* valid JSON whatever theta became */
      put(&o, num);
    }
    put(&o, "]}");
  }
  put(&o, "]}\n");
  if (!o.oom) fwrite(o.p, 1, o.len, r->log);
  json_out_free(&o);
  free(prob);
}

/* The epoch's log line: losses, expected cost, and per superblock entropy and top candidate. */
static void log_epoch(Run *r, int e, const EpochStats *es, int pruned, double seconds) {
  int steps = es->steps ? es->steps : 1;
  log_probs(r, e);
  fprintf(r->log, "{\"type\": \"epoch\", \"epoch\": %d, \"step\": %ld, \"ce_loss\": %.6f, \"resource_loss\": %.6f, "
                  "\"expected_cost\": %.6f, \"cost_unit\": \"%s\", \"relative_cost\": %.6f, \"skip_fraction\": %.6f, "
                  "\"lambda\": %.6g, \"mu\": %.6g, \"temperature\": %.4f, \"pruned\": %d, \"seconds\": %.2f, \"superblocks\": [",
          e + 1, r->st.step, es->ce / steps, es->res / steps, es->cost / steps, r->s.cost.unit, es->rel / steps,
          es->skip / steps, r->s.budget.lambda, r->s.budget.mu, temperature(r, e), pruned, seconds);
  for (int i = 0; i < r->s.nsb; i++) {
    int top;
    double p, h = search_entropy(&r->s, r->t, i, &top, &p);
    fprintf(r->log, "%s{\"entropy\": %.4f, \"top\": \"%s\", \"p\": %.4f}", i ? ", " : "", h, r->p->sb[i].cand[top].name, p);
  }
  fprintf(r->log, "]}\n");
  fflush(r->log);
  if (dist_writer())
    fprintf(stderr, "epoch %d/%d: CE %.4f, resource %.4f, expected cost %.4f %s (%.0f%% of the range), skips %.0f%%, "
                    "temperature %.2f, %d pruned, %.1f s\n",
            e + 1, r->epochs, es->ce / steps, es->res / steps, es->cost / steps, r->s.cost.unit, 100 * es->rel / steps,
            100 * es->skip / steps, temperature(r, e), pruned, seconds);
}

static bool save(Run *r, int epochs_done, char *err, size_t n) {
  r->st.epoch = epochs_done;
  r->st.adam_steps = trainer_adam_steps(r->t);
  pruned_to_text(&r->s, r->st.pruned, sizeof r->st.pruned);
  TensorSet *opt = dist_writer() ? trainer_optimizer_state(r->t) : NULL;
  bool ok = !dist_writer() || checkpoint_save(r->last, trainer_weights(r->t), opt, &r->st, err, n);
  tensor_set_free(opt);
  if (ok) r->saved_epoch = epochs_done;
  return ok;
}

/* Every rank, each with its trainer back to one process: the architectures' scoring is split over the ranks,
   rank 0 picks and writes (derive.h). */
static bool derive(Run *r, char *err, size_t n) {
  if (!trainer_set_data_parallel(r->t, false, err, n)) return false;
  const char *space_file = r->p->space_file ? r->p->space_file : r->p->nsb ? r->p->sb[0].loc.file : NULL;
  const Budget *b = &r->s.budget;
  double target = b->target >= 0 && b->target < 1 ? b->lo + b->target * b->range : 0; /* the budget, in cost units */
  DeriveOptions o = {r->samples,  r->a->derive_val, 4, r->st.seed, r->a->target_macs, r->a->target_ms, target,
                     r->p->search.skip_limit, r->have_latency ? &r->latency : NULL, space_file, r->dir};
  return derive_run(&r->s, r->t, r->val, &o, err, n);
}

/* "alpha 2", "alpha 0.1 on relative costs" or "budget 0.05 GMACs = 30% of the range 0.03 .. 0.1", and the skip limit. */
static void describe_resource(const Run *r, char *out, size_t n) {
  const Budget *b = &r->s.budget;
  size_t k;
  if (b->target >= 0)
    k = (size_t)snprintf(out, n, "budget %.4g %s = %.0f%% of the range %.4g .. %.4g", b->lo + b->target * b->range,
                         r->s.cost.unit, 100 * b->target, b->lo, b->lo + b->range);
  else
    k = (size_t)snprintf(out, n, "alpha %g%s", b->alpha, b->relative ? " on relative costs" : "");
  if (b->skip_limit < 1 && k < n) snprintf(out + k, n - k, ", skips <= %.0f%%", 100 * b->skip_limit);
}

/* The settings of this invocation as the log's "run" line (report.h). */
static void log_run(Run *r) {
  const CliArgs *a = r->a;
  const PlanSearch *ps = &r->p->search;
  RunLine l;
  char crop[32];
  snprintf(crop, sizeof crop, "%dx%d", r->crop_h, r->crop_w);
  run_line_begin(&l, "search", a->resume, r->st.epoch);
  run_line_str(&l, "plan", a->plan), run_line_str(&l, "space", r->p->name);
  run_line_num(&l, "superblocks", r->p->nsb);
  run_line_str(&l, "data", a->data), run_line_str(&l, "backend", a->backend ? a->backend : "cpu");
  run_line_num(&l, "epochs", r->epochs), run_line_num(&l, "warmup_epochs", r->warmup);
  run_line_num(&l, "batch", r->batch), run_line_str(&l, "crop", crop);
  run_line_num(&l, "steps_per_epoch", epoch_steps(r->loader, a->max_steps));
  run_line_num(&l, "lr", r->lr), run_line_num(&l, "momentum", r->momentum), run_line_num(&l, "weight_decay", r->wd);
  run_line_str(&l, "objective", plan_objective_name(r->objective)), run_line_str(&l, "cost_unit", r->s.cost.unit);
  run_line_num(&l, "alpha", r->alpha), run_line_num(&l, "arch_lr", r->arch_lr);
  run_line_num(&l, "arch_lr_end", ps->arch_lr_end > 0 && a->arch_lr < 0 ? ps->arch_lr_end : NAN);
  run_line_str(&l, "costs", r->s.budget.relative ? "relative" : "absolute");
  run_line_num(&l, "cost_min", r->s.budget.lo), run_line_num(&l, "cost_max", r->s.budget.lo + r->s.budget.range);
  run_line_num(&l, "budget", r->s.budget.target >= 0 ? r->s.budget.lo + r->s.budget.target * r->s.budget.range : NAN);
  run_line_num(&l, "budget_lr", r->s.budget.lr);
  run_line_num(&l, "skip_limit", r->s.budget.skip_limit < 1 ? r->s.budget.skip_limit : NAN);
  run_line_num(&l, "temperature_start", ps->temp_start > 0 ? ps->temp_start : 5);
  run_line_num(&l, "temperature_end", ps->temp_end > 0 ? ps->temp_end : 1);
  run_line_num(&l, "prune_below", ps->prune_below);
  run_line_num(&l, "samples", r->samples), run_line_num(&l, "derive_val", a->derive_val);
  run_line_num(&l, "target_macs", a->target_macs > 0 ? a->target_macs : NAN);
  run_line_num(&l, "target_ms", a->target_ms > 0 ? a->target_ms : NAN);
  run_line_str(&l, "lut", a->lut), run_line_str(&l, "weights", a->resume ? NULL : a->weights);
  run_line_num(&l, "seed", (double)r->st.seed), run_line_num(&l, "workers", a->workers);
  run_line_num(&l, "threads", a->threads), run_line_num(&l, "stop_after", a->stop_after > 0 ? a->stop_after : NAN);
  run_line_end(&l, r->log);
}

/* report.html at the end of a run that went well; a failure is only a warning. */
static void write_report(Run *r, bool derived) {
  char err[4096], path[4200];
  if (!dist_writer()) return;
  fflush(r->log);
  if (!report_write(r->dir, path, sizeof path, err, sizeof err)) fprintf(stderr, "sqnrun: warning: no report: %s\n", err);
  else printf(derived ? "  report   %s\n" : "report: %s\n", path);
}

static void teardown(Run *r) {
  if (r->log) fclose(r->log);
  run_dir_close(&r->rd, r->log != NULL);
  trainer_free(r->t);
  loader_free(r->loader);
  dataset_close(r->train);
  dataset_close(r->val);
  search_free(&r->s);
  cost_free(&r->latency);
  free(r->mix), free(r->dtheta);
}

int mode_search(const Plan *p, const CliArgs *a) {
  char err[4096] = "";
  if (!p->is_space || p->nsb == 0) {
    fprintf(stderr, "sqnrun: %s is a fixed network: --search needs a search space plan (use --train for a network)\n", p->name);
    return 2;
  }
  Run r = {.p = p, .a = a};
  bool ok = setup(&r, err, sizeof err);
  char form[300];
  if (ok) describe_resource(&r, form, sizeof form);
  if (ok && dist_writer())
    fprintf(stderr, "searching %s: %d superblocks, %d epochs (%d warm-up), batch %d, crop %dx%d, objective %s (%s), "
                    "%d steps per epoch -> %s\n",
            p->name, p->nsb, r.epochs, r.warmup, r.batch, r.crop_h, r.crop_w, plan_objective_name(r.objective), form,
            epoch_steps(r.loader, a->max_steps), r.dir);
  if (ok) log_run(&r);
  Progress pg;
  progress_init(&pg, r.epochs);
  int last = a->stop_after > 0 && r.st.epoch + a->stop_after < r.epochs ? r.st.epoch + a->stop_after : r.epochs;
  for (int e = r.st.epoch; ok && e < last; e++) {
    double t0 = now_s();
    EpochStats es = {0};
    ok = run_epoch(&r, e, &pg, &es, err, sizeof err);
    int pruned = 0;
    if (ok && e >= r.warmup) {
      pruned = search_prune(&r.s, r.t, p->search.prune_below, r.log);
      trainer_set_active(r.t, r.s.active, r.s.maxc);
      if (pruned && dist_writer()) fprintf(stderr, "pruned %d candidates below p = %g (details in %s/log.jsonl)\n", pruned, p->search.prune_below, r.dir);
    }
    if (ok) progress_break(&pg), log_epoch(&r, e, &es, pruned, now_s() - t0), ok = save(&r, e + 1, err, sizeof err);
  }
  bool derived = false;
  if (ok && last < r.epochs) {
    printf("stopped after epoch %d of %d as asked; continue with --resume --out %s\n", last, r.epochs, r.dir);
  } else if (ok) {
    double t0 = now_s();
    ok = derived = derive(&r, err, sizeof err);
    if (ok) fprintf(r.log, "{\"type\": \"derive\", \"seconds\": %.2f}\n", now_s() - t0);
  }
  if (ok) write_report(&r, derived);
  if (!ok) {
    progress_break(&pg);
    fprintf(stderr, "sqnrun: %s\n", err);
    if (r.saved_epoch > 0) fprintf(stderr, "sqnrun: the last good checkpoint is %s (epoch %d)\n", r.last, r.saved_epoch);
  }
  teardown(&r);
  return ok ? 0 : 1;
}
