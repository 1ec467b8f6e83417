/* test_metrics.c - tests of runtime/data/metrics.c: hand-made confusions with hand-computed IoUs
   (perfect prediction, all wrong, a class absent from gt and prediction, a class only predicted,
   ignore pixels, predictions outside the classes, Cityscapes categories with confusions inside a
   category), a randomized comparison with a literal transcription of cityscapesScripts'
   getIouScoreForLabel / getIouScoreForCategory over labelIds, merging, clearing, the table and the
   JSON (validated with the strict parser of json_min.c). Prints "N passed, M failed". */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cityscapes.h"
#include "json_min.h"
#include "metrics.h"
#include "test_util.h"

#define CHECK_NEAR(a, b)                                                                         \
  do {                                                                                         \
    double _a = (a), _b = (b);                                                                 \
    if (fabs(_a - _b) <= 1e-12) t_passed++;                                                    \
    else {                                                                                     \
      t_failed++;                                                                              \
      fprintf(stderr, "%s:%d: %s == %.15g, expected %.15g\n", __FILE__, __LINE__, #a, _a, _b); \
    }                                                                                          \
  } while (0)

static void add(Confusion *c, const unsigned char *gt, const unsigned char *pred, size_t n, int ignore) {
  confusion_add(c, gt, pred, n, ignore);
}

static void test_init(void) {
  Confusion c;
  CHECK(!confusion_init(&c, 0));
  CHECK(c.m == NULL);
  CHECK(!confusion_init(&c, 257));
  CHECK(confusion_init(&c, 256));
  CHECK(c.other == c.m + 256 * 256);
  confusion_free(&c);
  CHECK(c.m == NULL);
  confusion_free(&c); /* twice is fine */
}

static void test_perfect(void) {
  Confusion c;
  SegMetrics m;
  CHECK(confusion_init(&c, 3));
  const unsigned char gt[] = {0, 0, 1, 2, 2, 2};
  add(&c, gt, gt, sizeof gt, 255);
  seg_metrics(&c, &m);
  for (int i = 0; i < 3; i++) {
    CHECK(m.valid[i]);
    CHECK_NEAR(m.iou[i], 1.0);
  }
  CHECK_NEAR(m.miou, 1.0);
  CHECK_NEAR(m.pixel_acc, 1.0);
  CHECK_NEAR(m.mean_acc, 1.0);
  CHECK_EQ_I64(m.pixels, 6);
  CHECK_EQ_I64(m.ncat, 0);
  CHECK(isnan(m.cat_miou));
  CHECK_EQ_I64(c.m[2 * 3 + 2], 3);
  confusion_free(&c);
}

static void test_all_wrong(void) {
  Confusion c;
  SegMetrics m;
  CHECK(confusion_init(&c, 2));
  const unsigned char gt[] = {0, 0, 1}, pred[] = {1, 1, 0};
  add(&c, gt, pred, 3, 255);
  seg_metrics(&c, &m);
  CHECK(m.valid[0] && m.valid[1]);
  CHECK_NEAR(m.iou[0], 0.0);
  CHECK_NEAR(m.iou[1], 0.0);
  CHECK_NEAR(m.miou, 0.0);
  CHECK_NEAR(m.pixel_acc, 0.0);
  CHECK_NEAR(m.mean_acc, 0.0);
  confusion_free(&c);
}

/* Class 3 absent everywhere (NaN, out of the mean); class 2 only predicted (IoU 0, in the mean). */
static void test_absent_and_only_predicted(void) {
  Confusion c;
  SegMetrics m;
  CHECK(confusion_init(&c, 4));
  const unsigned char gt[] = {0, 0, 0, 1, 1}, pred[] = {0, 0, 2, 1, 0};
  add(&c, gt, pred, 5, 255);
  seg_metrics(&c, &m);
  CHECK_NEAR(m.iou[0], 2.0 / 4.0); /* tp 2, fn 1 (->2), fp 1 (1->0) */
  CHECK_NEAR(m.iou[1], 1.0 / 2.0); /* tp 1, fn 1 */
  CHECK(m.valid[2]);
  CHECK_NEAR(m.iou[2], 0.0);       /* fp 1 only */
  CHECK(!m.valid[3]);
  CHECK(isnan(m.iou[3]));
  CHECK_NEAR(m.miou, (0.5 + 0.5 + 0.0) / 3.0);
  CHECK_NEAR(m.pixel_acc, 3.0 / 5.0);
  CHECK_NEAR(m.mean_acc, (2.0 / 3.0 + 1.0 / 2.0) / 2.0);
  confusion_free(&c);

  /* Nothing at all: every score NaN. */
  CHECK(confusion_init(&c, 4));
  seg_metrics(&c, &m);
  CHECK(isnan(m.miou) && isnan(m.pixel_acc) && isnan(m.mean_acc));
  CHECK_EQ_I64(m.pixels, 0);
  confusion_free(&c);
}

static void test_ignore(void) {
  Confusion c;
  SegMetrics m;
  CHECK(confusion_init(&c, 2));
  /* Predictions on ignored gt are no false positives. */
  const unsigned char gt[] = {0, 255, 255, 1}, pred[] = {0, 1, 0, 1};
  add(&c, gt, pred, 4, 255);
  CHECK_EQ_I64(c.ignored, 2);
  seg_metrics(&c, &m);
  CHECK_NEAR(m.iou[0], 1.0);
  CHECK_NEAR(m.iou[1], 1.0);
  CHECK_EQ_I64(m.pixels, 2);
  /* ignore < 0: gt values >= classes are still left out. */
  confusion_clear(&c);
  CHECK_EQ_I64(c.ignored, 0);
  add(&c, gt, pred, 4, -1);
  CHECK_EQ_I64(c.ignored, 2);
  CHECK_EQ_I64(c.m[0] + c.m[1] + c.m[2] + c.m[3], 2);
  confusion_free(&c);

  /* An ignore value inside the classes (0 here). */
  CHECK(confusion_init(&c, 3));
  const unsigned char gt2[] = {0, 0, 1, 2}, pred2[] = {1, 2, 1, 2};
  add(&c, gt2, pred2, 4, 0);
  CHECK_EQ_I64(c.ignored, 2);
  seg_metrics(&c, &m);
  CHECK(!m.valid[0]);
  CHECK_NEAR(m.iou[1], 1.0);
  CHECK_NEAR(m.iou[2], 1.0);
  confusion_free(&c);
}

/* A prediction >= classes: a false negative of its gt class, a false positive of none. */
static void test_pred_out_of_range(void) {
  Confusion c;
  SegMetrics m;
  CHECK(confusion_init(&c, 2));
  const unsigned char gt[] = {0, 0, 1}, pred[] = {0, 255, 1};
  add(&c, gt, pred, 3, 255);
  CHECK_EQ_I64(c.other[0], 1);
  CHECK_EQ_I64(c.other[1], 0);
  seg_metrics(&c, &m);
  CHECK_NEAR(m.iou[0], 0.5);
  CHECK_NEAR(m.iou[1], 1.0);
  CHECK_NEAR(m.pixel_acc, 2.0 / 3.0);
  CHECK_NEAR(m.mean_acc, (0.5 + 1.0) / 2.0);
  CHECK_EQ_I64(m.pixels, 3);
  confusion_free(&c);
}

/* The Cityscapes case used for the category and output tests:
   road x4 -> road, road, road, sidewalk; sidewalk x2 -> sidewalk, car; car x3 -> car, truck, road;
   person -> rider; two ignored pixels predicted car and road. */
static const unsigned char cs_gt[] = {0, 0, 0, 0, 1, 1, 13, 13, 13, 11, 255, 255};
static const unsigned char cs_pred[] = {0, 0, 0, 1, 1, 13, 13, 14, 0, 12, 13, 0};

static void test_categories(void) {
  Confusion c;
  SegMetrics m;
  CHECK(confusion_init(&c, 19));
  add(&c, cs_gt, cs_pred, sizeof cs_gt, 255);
  seg_metrics(&c, &m);
  CHECK_NEAR(m.iou[0], 3.0 / 5.0);  /* tp 3, fn 1, fp 1 (car->road) */
  CHECK_NEAR(m.iou[1], 1.0 / 3.0);  /* tp 1, fn 1, fp 1 */
  CHECK_NEAR(m.iou[13], 1.0 / 4.0); /* tp 1, fn 2, fp 1 (sidewalk->car; the ignored pixel is none) */
  CHECK_NEAR(m.iou[14], 0.0);
  CHECK_NEAR(m.iou[11], 0.0);
  CHECK_NEAR(m.iou[12], 0.0);
  int nvalid = 0;
  for (int i = 0; i < 19; i++) nvalid += m.valid[i];
  CHECK_EQ_I64(nvalid, 6);
  CHECK_NEAR(m.miou, (0.6 + 1.0 / 3.0 + 0.25) / 6.0);
  CHECK_NEAR(m.pixel_acc, 5.0 / 10.0);
  CHECK_EQ_I64(m.ncat, 7);
  CHECK_STR(seg_category_names[0], "flat");
  CHECK_STR(seg_category_names[6], "vehicle");
  CHECK_EQ_I64(seg_category_of(18), 6);
  CHECK_EQ_I64(seg_category_of(10), 4);
  CHECK_EQ_I64(seg_category_of(255), -1);
  /* flat: tp 3 + 1 (road->sidewalk, inside flat) + 1 = 5, fn 1 (sidewalk->car), fp 1 (car->road) */
  CHECK_NEAR(m.cat_iou[0], 5.0 / 7.0);
  /* vehicle: tp 2 (car->car, car->truck), fn 1 (car->road), fp 1 (sidewalk->car) */
  CHECK_NEAR(m.cat_iou[6], 2.0 / 4.0);
  /* human: person->rider is a category hit */
  CHECK_NEAR(m.cat_iou[5], 1.0);
  CHECK(m.cat_valid[0] && m.cat_valid[5] && m.cat_valid[6]);
  CHECK(!m.cat_valid[1] && !m.cat_valid[2] && !m.cat_valid[3] && !m.cat_valid[4]);
  CHECK(isnan(m.cat_iou[4]));
  CHECK_NEAR(m.cat_miou, (5.0 / 7.0 + 0.5 + 1.0) / 3.0);
  confusion_free(&c);
}

/* labels.py: category of labelIds 0..33 (0 void, 1 flat, ..., 7 vehicle). */
static const int cat_of_label[34] = {0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2,
                                     3, 3, 3, 3, 4, 4, 5, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7};

static bool ignore_in_eval(int id) { return cityscapes_label_to_train(id) == 255; }

/* getIouScoreForLabel over the 34 x 34 labelId matrix. */
static double up_label_iou(const uint64_t cm[34][34], int l) {
  if (ignore_in_eval(l)) return NAN;
  long long tp = (long long)cm[l][l], fn = -tp, fp = 0;
  for (int j = 0; j < 34; j++) fn += (long long)cm[l][j];
  for (int i = 0; i < 34; i++)
    if (!ignore_in_eval(i) && i != l) fp += (long long)cm[i][l];
  long long d = tp + fp + fn;
  return d ? (double)tp / (double)d : NAN;
}

/* getIouScoreForCategory. */
static double up_cat_iou(const uint64_t cm[34][34], int cat) {
  bool in[34];
  int n = 0;
  for (int l = 0; l < 34; l++) n += (in[l] = cat_of_label[l] == cat && !ignore_in_eval(l));
  if (!n) return NAN;
  long long tp = 0, rows = 0, fp = 0;
  for (int i = 0; i < 34; i++)
    for (int j = 0; j < 34; j++) {
      if (in[i] && in[j]) tp += (long long)cm[i][j];
      if (in[i]) rows += (long long)cm[i][j];
      if (!ignore_in_eval(i) && cat_of_label[i] != cat && in[j]) fp += (long long)cm[i][j];
    }
  long long d = tp + fp + rows - tp;
  return d ? (double)tp / (double)d : NAN;
}

static uint32_t rng = 2024;
static unsigned rnd(unsigned n) {
  rng = rng * 1664525u + 1013904223u;
  return (rng >> 8) % n;
}

/* Random labelId images: the train-id scores must equal the upstream formulas on labelIds. */
static void test_vs_upstream(void) {
  static uint64_t cm[34][34];
  enum { N = 20000 };
  static unsigned char gt[N], pred[N];
  for (int round = 0; round < 20; round++) {
    memset(cm, 0, sizeof cm);
    int skew = (int)rnd(4); /* sometimes leave classes out entirely */
    for (int i = 0; i < N; i++) {
      int g = (int)rnd(34);
      if (skew && g >= 26) g = 7 + (int)rnd(4);
      int p = rnd(3) ? g : (int)rnd(34); /* mostly right */
      if (rnd(5) == 0 && cat_of_label[g] == 7) p = 26 + (int)rnd(8); /* vehicle mix-ups */
      if (skew == 2 && p == 21) p = 23;
      cm[g][p]++;
      gt[i] = cityscapes_label_to_train(g);
      pred[i] = cityscapes_label_to_train(p);
    }
    Confusion a, b;
    CHECK(confusion_init(&a, 19));
    CHECK(confusion_init(&b, 19));
    add(&a, gt, pred, N / 3, 255);
    add(&b, gt + N / 3, pred + N / 3, N - N / 3, 255);
    confusion_merge(&a, &b);
    SegMetrics m;
    seg_metrics(&a, &m);
    double sum = 0;
    int nv = 0, bad = 0;
    for (int l = 0; l < 34; l++) {
      int t = cityscapes_label_to_train(l);
      if (t == 255) continue;
      double u = up_label_iou(cm, l);
      if (isnan(u) != !m.valid[t] || (!isnan(u) && fabs(u - m.iou[t]) > 1e-12)) bad++;
      if (!isnan(u)) sum += u, nv++;
    }
    CHECK_EQ_I64(bad, 0);
    CHECK_NEAR(m.miou, sum / nv);
    double csum = 0;
    int cn = 0;
    bad = 0;
    for (int cat = 1; cat <= 7; cat++) {
      double u = up_cat_iou(cm, cat);
      if (isnan(u) != !m.cat_valid[cat - 1] || (!isnan(u) && fabs(u - m.cat_iou[cat - 1]) > 1e-12)) bad++;
      if (!isnan(u)) csum += u, cn++;
    }
    CHECK_EQ_I64(bad, 0);
    CHECK_NEAR(m.cat_miou, csum / cn);
    CHECK_NEAR(isnan(up_cat_iou(cm, 0)) ? 1 : 0, 1); /* void is NaN upstream: left out here */
    confusion_free(&a);
    confusion_free(&b);
  }
}

static void test_merge_clear(void) {
  Confusion all, x, y, z;
  CHECK(confusion_init(&all, 19) && confusion_init(&x, 19) && confusion_init(&y, 19) && confusion_init(&z, 5));
  size_t n = sizeof cs_gt, h = 5;
  add(&all, cs_gt, cs_pred, n, 255);
  add(&x, cs_gt, cs_pred, h, 255);
  add(&y, cs_gt + h, cs_pred + h, n - h, 255);
  confusion_merge(&x, &y);
  CHECK(!memcmp(all.m, x.m, (19 * 19 + 19) * sizeof *x.m));
  CHECK_EQ_I64(x.ignored, all.ignored);
  confusion_merge(&x, &z); /* other class count: nothing happens */
  CHECK(!memcmp(all.m, x.m, (19 * 19 + 19) * sizeof *x.m));
  confusion_clear(&x);
  uint64_t s = x.ignored;
  for (int i = 0; i < 19 * 19 + 19; i++) s += x.m[i];
  CHECK_EQ_I64(s, 0);
  confusion_free(&all);
  confusion_free(&x);
  confusion_free(&y);
  confusion_free(&z);
}

static void test_output(void) {
  Confusion c;
  SegMetrics m;
  CHECK(confusion_init(&c, 19));
  add(&c, cs_gt, cs_pred, sizeof cs_gt, 255);
  seg_metrics(&c, &m);

  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  CHECK(f != NULL);
  if (!f) return;
  seg_metrics_json(f, &m, &c, cityscapes_class_names);
  fclose(f);
  JsonIn j;
  char err[256] = "";
  json_in_init(&j, buf, len, err, sizeof err);
  bool ok = json_skip(&j) && json_end(&j);
  CHECK(ok);
  if (!ok) fprintf(stderr, "JSON: %s\n%s", err, buf);
  CHECK(buf[0] == '{');
  CHECK(strstr(buf, "\"classes\":19,\"pixels\":10,\"ignored\":2,") != NULL);
  CHECK(strstr(buf, "\"miou\":0.1972222222") != NULL);
  CHECK(strstr(buf, "\"pixel_acc\":0.5,") != NULL);
  CHECK(strstr(buf, "\"road\":0.6,\"sidewalk\":0.3333333333,\"building\":null") != NULL);
  CHECK(strstr(buf, "\"traffic light\":null") != NULL);
  CHECK(strstr(buf, "\"category_iou\":{\"flat\":0.7142857143,\"construction\":null") != NULL);
  CHECK(strstr(buf, "\"human\":1,\"vehicle\":0.5}") != NULL);
  CHECK(strstr(buf, "\"confusion\":[[3,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0],[0,1,0,0,0,0,0,0,0,0,0,0,0,1,0") != NULL);
  CHECK(strstr(buf, "\"pred_other\":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}") != NULL);
  free(buf);

  /* Without names or confusion, and a name that needs escaping. */
  Confusion c2;
  CHECK(confusion_init(&c2, 2));
  const unsigned char g2[] = {0, 1}, p2[] = {0, 255};
  add(&c2, g2, p2, 2, 255);
  seg_metrics(&c2, &m);
  const char *names[] = {"a\"b\\c", NULL};
  f = open_memstream(&buf, &len);
  seg_metrics_json(f, &m, NULL, names);
  fclose(f);
  json_in_init(&j, buf, len, err, sizeof err);
  CHECK(json_skip(&j) && json_end(&j));
  CHECK(strstr(buf, "\"a\\\"b\\\\c\":1,\"class 1\":0}") != NULL);
  CHECK(strstr(buf, "\"category_iou\":{}") != NULL);
  CHECK(strstr(buf, "confusion") == NULL);
  free(buf);
  confusion_free(&c2);

  seg_metrics(&c, &m);
  f = open_memstream(&buf, &len);
  seg_metrics_print(f, &m, cityscapes_class_names);
  fclose(f);
  CHECK(strstr(buf, "road") && strstr(buf, "0.6000") && strstr(buf, "n/a"));
  CHECK(strstr(buf, "mIoU") && strstr(buf, "0.1972") && strstr(buf, "(over 6 of 19 classes)"));
  CHECK(strstr(buf, "vehicle") && strstr(buf, "0.5000") && strstr(buf, "category mIoU"));
  CHECK(strstr(buf, "pixel accuracy") && strstr(buf, "0.5000"));
  if (getenv("SQN_TEST_VERBOSE")) fputs(buf, stdout);
  free(buf);
  confusion_free(&c);
}

int main(void) {
  test_init();
  test_perfect();
  test_all_wrong();
  test_absent_and_only_predicted();
  test_ignore();
  test_pred_out_of_range();
  test_categories();
  test_vs_upstream();
  test_merge_clear();
  test_output();
  return test_summary();
}
