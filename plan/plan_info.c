/* plan_info.c - `sqnrun FILE.plan --info`: a summary of a validated plan for people, or the same
   facts as one JSON object. Also the names of the plan's enum values. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "plan.h"

const char *plan_objective_name(PlanObjective o) {
  static const char *const names[PLAN_OBJ__COUNT] = {"macs", "params", "latency"};
  return (unsigned)o < PLAN_OBJ__COUNT ? names[o] : "?";
}

const char *plan_objective_unit(PlanObjective o) {
  static const char *const units[PLAN_OBJ__COUNT] = {"GMACs", "M params", "ms"};
  return (unsigned)o < PLAN_OBJ__COUNT ? units[o] : "?";
}

const char *plan_schedule_name(PlanLrSchedule s) {
  static const char *const names[PLAN_SCHED__COUNT] = {"step", "poly", "constant"};
  return (unsigned)s < PLAN_SCHED__COUNT ? names[s] : "?";
}

const char *plan_kernel_kind_name(PlanKernelKind k) {
  static const char *const names[PLAN_KERNEL__COUNT] = {"single", "conv", "inverted_residual", "elementwise"};
  return (unsigned)k < PLAN_KERNEL__COUNT ? names[k] : "?";
}

int plan_widths(const Plan *p, int sb, int *out) {
  int k = 0;
  for (; sb >= 0 && sb < p->nsb && k < p->sb[sb].ncand && k < SQN_PLAN_MAX_INPUTS; k++) out[k] = p->sb[sb].cand[k].width;
  return k;
}

int plan_width_count(const Plan *p, int ws) { return ws < 0 ? 1 : p->sb[ws].ncand; }

int plan_width_pairs(const Plan *p, const PlanCandidate *c) {
  return plan_width_count(p, c->cost_in) * plan_width_count(p, c->cost_out);
}

/* ---- shared helpers ---- */


/* The least and most MACs of superblock s's candidates, at every width pair they may have. */
static void cand_range(const Plan *p, const PlanSuperblock *s, int64_t *mn, int64_t *mx) {
  *mn = *mx = 0;
  bool any = false;
  for (int k = 0; k < s->ncand; k++)
    for (int j = -1; j < (s->cand[k].wcost ? plan_width_pairs(p, &s->cand[k]) : 0); j++) {
      int64_t m = j < 0 ? s->cand[k].macs : s->cand[k].wcost[j].macs;
      if (m < 0) continue;
      if (!any || m < *mn) *mn = m;
      if (!any || m > *mx) *mx = m;
      any = true;
    }
}

static const char *cand_name(const PlanCandidate *c) {
  return c->name ? c->name : c->display ? c->display : "?";
}

static bool same_candidates(const PlanSuperblock *a, const PlanSuperblock *b) {
  if (a->ncand != b->ncand) return false;
  for (int k = 0; k < a->ncand; k++)
    if (strcmp(cand_name(&a->cand[k]), cand_name(&b->cand[k]))) return false;
  return true;
}

/* All superblocks offer the same candidate list (the usual search space). */
static bool uniform_candidates(const Plan *p) {
  for (int s = 1; s < p->nsb; s++)
    if (!same_candidates(&p->sb[0], &p->sb[s])) return false;
  return p->nsb > 0;
}

/* ---- text ---- */

/* 1234567 -> "1,234,567" */
static const char *grouped(char *buf, int64_t v) {
  char tmp[32];
  int n = snprintf(tmp, sizeof tmp, "%" PRId64, v), o = 0;
  for (int i = 0; i < n; i++) {
    if (i > 0 && tmp[i - 1] != '-' && (n - i) % 3 == 0) buf[o++] = ',';
    buf[o++] = tmp[i];
  }
  buf[o] = 0;
  return buf;
}

/* 4470000000 -> "4.47 G" */
static const char *si(char *buf, int64_t v) {
  static const char *const unit[] = {"", " K", " M", " G", " T", " P"};
  double d = (double)v;
  int u = 0;
  while (d >= 1000 && u < 5) d /= 1000, u++;
  snprintf(buf, 32, u ? "%.3g%s" : "%.0f%s", d, unit[u]);
  return buf;
}

static void print_costs_text(const Plan *p, FILE *out) {
  char a[32], b[32], c[32], d[32];
  const PlanCosts *k = &p->costs;
  if (p->is_space) {
    fprintf(out, "MACs         %s .. %s over the space's architectures (%s .. %s)\n", si(a, k->macs_min),
            si(b, k->macs_max), grouped(c, k->macs_min), grouped(d, k->macs_max));
    fprintf(out, "             fixed part %s; the whole supernet %s\n", si(a, k->macs_fixed), si(b, k->macs_all));
  } else {
    fprintf(out, "MACs         %s (%s)\n", si(a, k->macs_max), grouped(b, k->macs_max));
  }
}

static void print_header_text(const Plan *p, FILE *out) {
  char a[32], b[32];
  fprintf(out, "network      %s (%s)\n", p->name ? p->name : "(unnamed)", p->is_space ? "search space" : "fixed network");
  fprintf(out, "plan         format %u, %s bytes\n", p->version, grouped(a, (int64_t)p->file_size));
  fprintf(out, "input        %dx%dx%d\n", p->input.c, p->input.h, p->input.w);
  fprintf(out, "classes      %d\n", p->classes);
  fprintf(out, "nodes        %d\n", p->nnodes);
  fprintf(out, "parameters   %s trainable in %d tensors (+ %s BN running statistics)\n", grouped(a, p->param_numel_trainable),
          p->nparams, grouped(b, p->param_numel - p->param_numel_trainable));
  fprintf(out, "kernels      %d fused kernels\n", p->nkernels);
  fprintf(out, "GPU kernels  ");
  if (!p->nptx) fprintf(out, "none (compile with sqnc --target sm_XY to run on --backend cuda)\n");
  for (int i = 0; i < p->nptx; i++)
    fprintf(out, "%s%s (PTX .target %s, %zu bytes)%s", i ? ", " : "", p->ptx[i].target, p->ptx[i].ptx_cpu,
            p->ptx[i].len, i + 1 == p->nptx ? "\n" : "");
  print_costs_text(p, out);
}

static void print_superblocks_text(const Plan *p, FILE *out) {
  char a[32], b[32];
  fprintf(out, "superblocks  %d\n", p->nsb);
  if (!p->nsb) return;
  fprintf(out, "    #  stage   cin -> cout  stride  residual  cands   min MACs   max MACs\n"); /* stage 1-based */
  for (int s = 0; s < p->nsb; s++) {
    const PlanSuperblock *sb = &p->sb[s];
    int64_t mn, mx;
    cand_range(p, sb, &mn, &mx);
    char stage[16];
    snprintf(stage, sizeof stage, sb->is_decoder ? "dec" : sb->is_stem ? "stem" : sb->is_head ? "head" : "%d", sb->stage + 1);
    if (sb->is_width) /* a stage's width choice: its widths, and the head and decoder's extra cost */
      fprintf(out, "  %3d  %5s  %4d .. %-4d  %6s  %-8s  %5d  %9s  %9s\n", sb->index, stage, sb->cand[0].width,
              sb->cand[sb->ncand - 1].width, "-", "width", sb->ncand, si(a, mn), si(b, mx));
    else
      fprintf(out, "  %3d  %5s  %4d -> %-4d  %6d  %-8s  %5d  %9s  %9s\n", sb->index, stage, sb->cin, sb->cout,
              sb->stride, sb->residual ? "yes" : "no", sb->ncand, si(a, mn), si(b, mx));
  }
}

static void print_cand_list(const PlanSuperblock *sb, FILE *out) {
  for (int k = 0; k < sb->ncand; k++) fprintf(out, "%s%s", k ? ", " : "", cand_name(&sb->cand[k]));
  fputc('\n', out);
}

static void print_candidates_text(const Plan *p, FILE *out) {
  if (!p->nsb) return;
  if (p->is_space && uniform_candidates(p)) {
    fprintf(out, "candidates   (every superblock, %d) ", p->sb[0].ncand);
    print_cand_list(&p->sb[0], out);
    return;
  }
  fprintf(out, "%s\n", p->is_space ? "candidates" : "choices");
  for (int s = 0; s < p->nsb; s++) {
    fprintf(out, "  %3d: ", s);
    print_cand_list(&p->sb[s], out);
  }
}

static void print_settings_text(const Plan *p, FILE *out) {
  const PlanSearch *s = &p->search;
  const PlanTrain *t = &p->train;
  fprintf(out, "search       objective %s, alpha %g, temperature %g -> %g, prune below %g%%, %d samples,\n",
          plan_objective_name(s->objective), s->alpha, s->temp_start, s->temp_end, s->prune_below * 100, s->samples);
  fprintf(out, "             %d epochs (%d warm-up), architecture lr %g", s->epochs, s->warmup_epochs, s->arch_lr);
  if (s->arch_lr_end > 0) fprintf(out, " -> %g", s->arch_lr_end);
  fprintf(out, ", %s costs", s->costs_relative ? "relative" : "absolute");
  if (s->target > 0) fprintf(out, ", target %g %s", s->target, plan_objective_unit(s->objective));
  if (s->target_fraction >= 0) fprintf(out, ", target %g%% of the cost range", s->target_fraction * 100);
  if (s->skip_limit < 1) fprintf(out, ", skip limit %g%%", s->skip_limit * 100);
  fputc('\n', out);
  fprintf(out, "train        SGD lr %g, momentum %g, weight decay %g, %s schedule", t->lr, t->momentum,
          t->weight_decay, plan_schedule_name(t->schedule));
  if (t->schedule == PLAN_SCHED_STEP) {
    fprintf(out, " (x%g at", t->gamma);
    for (int i = 0; i < t->nmilestones; i++) fprintf(out, "%s %g%%", i ? "," : "", t->milestones[i] * 100);
    fputc(')', out);
  } else if (t->schedule == PLAN_SCHED_POLY) {
    fprintf(out, " (power %g)", t->poly_power);
  }
  fprintf(out, ",\n             %d epochs, batch %d, crop %dx%d\n", t->epochs, t->batch, t->crop_h, t->crop_w);
}

/* ---- JSON ---- */

static void json_str(FILE *out, const char *s) {
  if (!s) {
    fputs("null", out);
    return;
  }
  fputc('"', out);
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\') fprintf(out, "\\%c", ch);
    else if (ch < 0x20 || ch == 0x7f) fprintf(out, "\\u%04x", ch);
    else fputc(ch, out);
  }
  fputc('"', out);
}

static void json_candidate(FILE *out, const PlanCandidate *c) {
  fputs("{\"name\": ", out);
  json_str(out, c->name);
  fputs(", \"display\": ", out);
  json_str(out, c->display);
  fprintf(out, ", \"is_zero\": %s, \"is_identity\": %s, \"macs\": %" PRId64 ", \"params\": %" PRId64,
          c->is_zero ? "true" : "false", c->is_identity ? "true" : "false", c->macs, c->params);
  if (c->width) fprintf(out, ", \"width\": %d", c->width);
  fputc('}', out);
}

static void json_superblock(FILE *out, const Plan *p, const PlanSuperblock *sb) {
  int64_t mn, mx;
  cand_range(p, sb, &mn, &mx);
  fprintf(out, "{\"index\": %d, \"stage\": %d, \"decoder\": %s, \"cin\": %d, \"cout\": %d, \"stride\": %d, \"residual\": %s, ",
          sb->index, sb->stage, sb->is_decoder ? "true" : "false", sb->cin, sb->cout, sb->stride, sb->residual ? "true" : "false");
  fprintf(out, "\"width\": %s, \"width_in\": %d, \"width_out\": %d, \"stem\": %s, \"head\": %s, ",
          sb->is_width ? "true" : "false", sb->width_in, sb->width_out, sb->is_stem ? "true" : "false",
          sb->is_head ? "true" : "false");
  fprintf(out, "\"macs_min\": %" PRId64 ", \"macs_max\": %" PRId64 ", \"candidates\": [", mn, mx);
  for (int k = 0; k < sb->ncand; k++) {
    if (k) fputs(", ", out);
    json_candidate(out, &sb->cand[k]);
  }
  fputs("]}", out);
}

/* Shortest of %.15g / %.17g that reads back as the same double. */
static const char *num(char *buf, double v) {
  snprintf(buf, 32, "%.15g", v);
  if (strtod(buf, NULL) != v) snprintf(buf, 32, "%.17g", v);
  return buf;
}

static void json_settings(const Plan *p, FILE *out) {
  const PlanSearch *s = &p->search;
  const PlanTrain *t = &p->train;
  char a[32], b[32], c[32], d[32];
  fprintf(out, "  \"search\": {\"objective\": \"%s\", \"alpha\": %s, \"temp_start\": %s, \"temp_end\": %s, ",
          plan_objective_name(s->objective), num(a, s->alpha), num(b, s->temp_start), num(c, s->temp_end));
  fprintf(out, "\"prune_below\": %s, \"samples\": %d, \"warmup_epochs\": %d, \"arch_lr\": %s, \"epochs\": %d, ",
          num(a, s->prune_below), s->samples, s->warmup_epochs, num(b, s->arch_lr), s->epochs);
  fprintf(out, "\"arch_lr_end\": %s, \"costs\": \"%s\", \"target\": %s, \"target_fraction\": %s, ", num(a, s->arch_lr_end),
          s->costs_relative ? "relative" : "absolute", num(b, s->target), num(c, s->target_fraction));
  fprintf(out, "\"budget_lr\": %s, \"skip_limit\": %s},\n", num(a, s->budget_lr), num(b, s->skip_limit));
  fprintf(out, "  \"train\": {\"lr\": %s, \"momentum\": %s, \"weight_decay\": %s, \"schedule\": \"%s\", ",
          num(a, t->lr), num(b, t->momentum), num(c, t->weight_decay), plan_schedule_name(t->schedule));
  fputs("\"milestones\": [", out);
  for (int i = 0; i < t->nmilestones; i++) fprintf(out, "%s%s", i ? ", " : "", num(a, t->milestones[i]));
  fprintf(out, "], \"gamma\": %s, \"poly_power\": %s, \"epochs\": %d, \"batch\": %d, \"crop\": [%d, %d]}\n",
          num(d, t->gamma), num(b, t->poly_power), t->epochs, t->batch, t->crop_h, t->crop_w);
}

static void json_header(const Plan *p, FILE *out) {
  const PlanCosts *k = &p->costs;
  fputs("{\n  \"name\": ", out);
  json_str(out, p->name);
  fprintf(out, ",\n  \"kind\": \"%s\",\n  \"format_version\": %u,\n  \"file_size\": %" PRIu64 ",\n",
          p->is_space ? "space" : "network", p->version, p->file_size);
  fprintf(out, "  \"input\": [%d, %d, %d],\n  \"classes\": %d,\n  \"nodes\": %d,\n", p->input.c, p->input.h,
          p->input.w, p->classes, p->nnodes);
  fprintf(out, "  \"param_tensors\": %d,\n  \"params_total\": %" PRId64 ",\n  \"params_with_bn_stats\": %" PRId64 ",\n",
          p->nparams, p->param_numel_trainable, p->param_numel);
  fprintf(out, "  \"gpu_targets\": [");
  for (int i = 0; i < p->nptx; i++) fprintf(out, "%s\"%s\"", i ? ", " : "", p->ptx[i].target);
  fprintf(out, "],\n");
  fprintf(out, "  \"kernels\": %d,\n  \"macs_min\": %" PRId64 ",\n  \"macs_max\": %" PRId64 ",\n", p->nkernels,
          k->macs_min, k->macs_max);
  fprintf(out, "  \"macs_fixed\": %" PRId64 ",\n  \"macs_all\": %" PRId64 ",\n", k->macs_fixed, k->macs_all);
  fprintf(out, "  \"params_min\": %" PRId64 ",\n  \"params_max\": %" PRId64 ",\n", k->params_min, k->params_max);
}

static void print_json(const Plan *p, FILE *out) {
  json_header(p, out);
  fputs("  \"superblocks\": [", out);
  for (int s = 0; s < p->nsb; s++) {
    fputs(s ? ",\n    " : "\n    ", out);
    json_superblock(out, p, &p->sb[s]);
  }
  fputs(p->nsb ? "\n  ],\n" : "],\n", out);
  json_settings(p, out);
  fputs("}\n", out);
}

void plan_print_info(const Plan *p, FILE *out, bool json) {
  if (json) {
    print_json(p, out);
    return;
  }
  print_header_text(p, out);
  print_superblocks_text(p, out);
  print_candidates_text(p, out);
  print_settings_text(p, out);
}
