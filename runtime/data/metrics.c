/* metrics.c - confusion matrices and the cityscapesScripts scores (see metrics.h). */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cityscapes.h"

const char *const seg_category_names[SEG_CITYSCAPES_CATEGORIES] = {
    "flat", "construction", "object", "nature", "sky", "human", "vehicle"};

/* labels.py: the category of each evaluated label, by train id. */
static const signed char category_of_train[CITYSCAPES_NUM_CLASSES] = {
    0, 0,       /* road, sidewalk: flat */
    1, 1, 1,    /* building, wall, fence: construction */
    2, 2, 2,    /* pole, traffic light, traffic sign: object */
    3, 3,       /* vegetation, terrain: nature */
    4,          /* sky */
    5, 5,       /* person, rider: human */
    6, 6, 6, 6, 6, 6 /* car, truck, bus, train, motorcycle, bicycle: vehicle */
};

int seg_category_of(int train_id) {
  if (train_id < 0 || train_id >= CITYSCAPES_NUM_CLASSES) return -1;
  return category_of_train[train_id];
}

bool confusion_init(Confusion *c, int classes) {
  memset(c, 0, sizeof *c);
  if (classes < 1 || classes > SEG_MAX_CLASSES) return false;
  size_t k = (size_t)classes;
  c->m = calloc(k * k + k, sizeof *c->m);
  if (!c->m) return false;
  c->other = c->m + k * k;
  c->classes = classes;
  return true;
}

void confusion_free(Confusion *c) {
  free(c->m);
  memset(c, 0, sizeof *c);
}

void confusion_clear(Confusion *c) {
  if (!c->m) return;
  size_t k = (size_t)c->classes;
  memset(c->m, 0, (k * k + k) * sizeof *c->m);
  c->ignored = 0;
}

void confusion_add(Confusion *c, const unsigned char *gt, const unsigned char *pred, size_t n, int ignore) {
  if (!c->m) return;
  const unsigned k = (unsigned)c->classes;
  uint64_t *m = c->m, *other = c->other, ign = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned g = gt[i], p = pred[i];
    if ((int)g == ignore || g >= k) {
      ign++;
      continue;
    }
    if (p < k) m[(size_t)g * k + p]++;
    else other[g]++;
  }
  c->ignored += ign;
}

void confusion_merge(Confusion *into, const Confusion *from) {
  if (!into->m || !from->m || into->classes != from->classes) return;
  size_t k = (size_t)into->classes, total = k * k + k;
  for (size_t i = 0; i < total; i++) into->m[i] += from->m[i];
  into->ignored += from->ignored;
}

void seg_metrics(const Confusion *c, SegMetrics *m) {
  memset(m, 0, sizeof *m);
  const double nan = NAN;
  m->miou = m->cat_miou = m->pixel_acc = m->mean_acc = nan;
  for (int i = 0; i < SEG_MAX_CLASSES; i++) m->iou[i] = nan;
  for (int i = 0; i < 8; i++) m->cat_iou[i] = nan;
  if (!c->m) return;
  const int k = c->classes;
  m->classes = k;

  /* Row sums (other[] included), column sums, the diagonal. */
  uint64_t *row = calloc((size_t)k * 2, sizeof *row);
  if (!row) return;
  uint64_t *col = row + k, diag = 0, total = 0;
  for (int g = 0; g < k; g++) {
    const uint64_t *r = c->m + (size_t)g * (size_t)k;
    uint64_t s = c->other[g];
    for (int p = 0; p < k; p++) {
      s += r[p];
      col[p] += r[p];
    }
    row[g] = s;
    diag += r[g];
    total += s;
  }
  m->pixels = total;

  double sum = 0, acc_sum = 0;
  int nvalid = 0, nacc = 0;
  for (int i = 0; i < k; i++) {
    uint64_t tp = c->m[(size_t)i * (size_t)k + (size_t)i];
    uint64_t fn = row[i] - tp, fp = col[i] - tp;
    uint64_t denom = tp + fp + fn;
    if (denom) {
      m->valid[i] = true;
      m->iou[i] = (double)tp / (double)denom;
      sum += m->iou[i];
      nvalid++;
    }
    if (row[i]) {
      acc_sum += (double)tp / (double)row[i];
      nacc++;
    }
  }
  if (nvalid) m->miou = sum / nvalid;
  if (nacc) m->mean_acc = acc_sum / nacc;
  if (total) m->pixel_acc = (double)diag / (double)total;

  if (k == CITYSCAPES_NUM_CLASSES) {
    m->ncat = SEG_CITYSCAPES_CATEGORIES;
    uint64_t tp[SEG_CITYSCAPES_CATEGORIES] = {0}, rows[SEG_CITYSCAPES_CATEGORIES] = {0},
             cols_out[SEG_CITYSCAPES_CATEGORIES] = {0};
    for (int g = 0; g < k; g++) {
      int cg = category_of_train[g];
      rows[cg] += row[g];
      for (int p = 0; p < k; p++) {
        uint64_t v = c->m[(size_t)g * (size_t)k + (size_t)p];
        int cp = category_of_train[p];
        if (cg == cp) tp[cg] += v;
        else cols_out[cp] += v; /* gt outside the predicted category: a false positive of it */
      }
    }
    double csum = 0;
    int cvalid = 0;
    for (int j = 0; j < SEG_CITYSCAPES_CATEGORIES; j++) {
      uint64_t denom = tp[j] + cols_out[j] + (rows[j] - tp[j]);
      if (denom) {
        m->cat_valid[j] = true;
        m->cat_iou[j] = (double)tp[j] / (double)denom;
        csum += m->cat_iou[j];
        cvalid++;
      }
    }
    if (cvalid) m->cat_miou = csum / cvalid;
  }
  free(row);
}

static const char *class_name(const char *const *names, int i, char *buf, size_t n) {
  if (names && names[i]) return names[i];
  snprintf(buf, n, "class %d", i);
  return buf;
}

static void print_score(FILE *out, double v) {
  if (isnan(v)) fprintf(out, "%8s", "n/a");
  else fprintf(out, "%8.4f", v);
}

void seg_metrics_print(FILE *out, const SegMetrics *m, const char *const *class_names) {
  char buf[32];
  fprintf(out, "%-16s %8s\n", "class", "IoU");
  fprintf(out, "--------------------------\n");
  for (int i = 0; i < m->classes; i++) {
    fprintf(out, "%-16s ", class_name(class_names, i, buf, sizeof buf));
    print_score(out, m->iou[i]);
    fputc('\n', out);
  }
  fprintf(out, "--------------------------\n");
  int nvalid = 0;
  for (int i = 0; i < m->classes; i++) nvalid += m->valid[i];
  fprintf(out, "%-16s ", "mIoU");
  print_score(out, m->miou);
  fprintf(out, "   (over %d of %d classes)\n", nvalid, m->classes);
  if (m->ncat) {
    fprintf(out, "\n%-16s %8s\n", "category", "IoU");
    fprintf(out, "--------------------------\n");
    for (int j = 0; j < m->ncat; j++) {
      fprintf(out, "%-16s ", seg_category_names[j]);
      print_score(out, m->cat_iou[j]);
      fputc('\n', out);
    }
    fprintf(out, "--------------------------\n");
    fprintf(out, "%-16s ", "category mIoU");
    print_score(out, m->cat_miou);
    fputc('\n', out);
  }
  fprintf(out, "\n%-16s ", "pixel accuracy");
  print_score(out, m->pixel_acc);
  fprintf(out, "\n%-16s ", "mean accuracy");
  print_score(out, m->mean_acc);
  fprintf(out, "\n%-16s %8llu\n", "pixels", (unsigned long long)m->pixels);
}

static void json_num(FILE *out, double v) {
  if (isnan(v) || isinf(v)) fputs("null", out);
  else fprintf(out, "%.10g", v);
}

static void json_string_out(FILE *out, const char *s) {
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') fprintf(out, "\\%c", *p);
    else if (*p < 0x20) fprintf(out, "\\u%04x", *p);
    else fputc(*p, out);
  }
  fputc('"', out);
}

void seg_metrics_json(FILE *out, const SegMetrics *m, const Confusion *c, const char *const *class_names) {
  char buf[32];
  fprintf(out, "{\"classes\":%d,\"pixels\":%llu", m->classes, (unsigned long long)m->pixels);
  if (c) fprintf(out, ",\"ignored\":%llu", (unsigned long long)c->ignored);
  fputs(",\"miou\":", out);
  json_num(out, m->miou);
  fputs(",\"cat_miou\":", out);
  json_num(out, m->cat_miou);
  fputs(",\"pixel_acc\":", out);
  json_num(out, m->pixel_acc);
  fputs(",\"mean_acc\":", out);
  json_num(out, m->mean_acc);
  fputs(",\"class_iou\":{", out);
  for (int i = 0; i < m->classes; i++) {
    if (i) fputc(',', out);
    json_string_out(out, class_name(class_names, i, buf, sizeof buf));
    fputc(':', out);
    json_num(out, m->iou[i]);
  }
  fputs("},\"category_iou\":{", out);
  for (int j = 0; j < m->ncat; j++) {
    if (j) fputc(',', out);
    json_string_out(out, seg_category_names[j]);
    fputc(':', out);
    json_num(out, m->cat_iou[j]);
  }
  fputc('}', out);
  if (c && c->m) {
    int k = c->classes;
    fputs(",\"confusion\":[", out);
    for (int g = 0; g < k; g++) {
      fputs(g ? ",[" : "[", out);
      for (int p = 0; p < k; p++)
        fprintf(out, p ? ",%llu" : "%llu", (unsigned long long)c->m[(size_t)g * (size_t)k + (size_t)p]);
      fputc(']', out);
    }
    fputs("],\"pred_other\":[", out);
    for (int g = 0; g < k; g++) fprintf(out, g ? ",%llu" : "%llu", (unsigned long long)c->other[g]);
    fputc(']', out);
  }
  fputs("}\n", out);
}
