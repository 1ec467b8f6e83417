/* test_report.c - report.html from hand-made run folders (runtime/report/): the embedded data (valid JSON,
   the log's steps and epochs as columns, a long log averaged into at most 4000 points, the candidate
   probabilities, pruning, the pareto architectures, the run states), escaping (hostile names in the log,
   pareto.json and arch.svg never reach the page as markup), the SVG sanitizer's whitelist, the notes for
   missing or broken parts, and the errors for folders that are not run folders.
   test_report DIR writes the folders under DIR and keeps them (the browser test loads their reports):
   DIR/search (a search with pruning, a latency table and a hostile arch.svg), DIR/train, DIR/long. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "json_min.h"
#include "report.h"

static int failures;
#define CHECK(cond, ...)                                                                                               \
  do {                                                                                                                 \
    if (!(cond)) {                                                                                                     \
      failures++;                                                                                                      \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);                                        \
      fprintf(stderr, __VA_ARGS__);                                                                                    \
      fputc('\n', stderr);                                                                                             \
    }                                                                                                                  \
  } while (0)

static void write_file(const char *dir, const char *name, const char *text) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f || fputs(text, f) < 0 || fclose(f) != 0) fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno)), exit(1);
}

static char *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  rewind(f);
  char *buf = malloc((size_t)n + 1);
  *len = fread(buf, 1, (size_t)n, f);
  buf[*len] = 0;
  fclose(f);
  return buf;
}

static void make_dir(const char *path) {
  if (mkdir(path, 0777) != 0 && errno != EEXIST) fprintf(stderr, "cannot create %s: %s\n", path, strerror(errno)), exit(1);
}

/* ---- the page's data: the JSON between <script type="application/json" id="sqn-data"> and </script> ---- */

typedef struct Page {
  char *html, *data;
  size_t len, data_len;
} Page;

static bool load_page(const char *dir, Page *p) {
  char path[4096];
  snprintf(path, sizeof path, "%s/report.html", dir);
  *p = (Page){0};
  if (!(p->html = read_all(path, &p->len))) return false;
  const char *open = "<script type=\"application/json\" id=\"sqn-data\">";
  char *a = strstr(p->html, open), *b = a ? strstr(a, "</script>") : NULL;
  if (!b) return false;
  a += strlen(open);
  p->data_len = (size_t)(b - a);
  p->data = malloc(p->data_len + 1);
  memcpy(p->data, a, p->data_len);
  p->data[p->data_len] = 0;
  return true;
}

static void free_page(Page *p) { free(p->html), free(p->data); }

static int count(const char *hay, const char *needle) {
  int k = 0;
  for (const char *q = hay; (q = strstr(q, needle)); q += strlen(needle)) k++;
  return k;
}

/* The raw text of the value at a dotted path ("step.columns.loss", "pareto.architectures.3.ms") as a new string,
   or NULL. */
static char *get(const Page *p, const char *path) {
  char err[200];
  JsonIn j;
  json_in_init(&j, p->data, p->data_len, err, sizeof err);
  char part[128];
  for (const char *q = path; *q;) {
    size_t k = strcspn(q, ".");
    snprintf(part, sizeof part, "%.*s", (int)k, q);
    q += k + (q[k] == '.');
    bool first = true, found = false;
    if (json_peek(&j) == '{') {
      char *key;
      size_t kl;
      json_eat(&j, '{');
      while (!found && json_member(&j, &first, &key, &kl) && key) {
        found = !strcmp(key, part);
        free(key);
        if (!found && !json_skip(&j)) return NULL;
      }
    } else if (json_peek(&j) == '[') {
      bool more;
      int want = atoi(part), at = 0;
      json_eat(&j, '[');
      while (!found && json_element(&j, &first, &more) && more) {
        if (at++ == want) found = true;
        else if (!json_skip(&j)) return NULL;
      }
    }
    if (!found) return NULL;
  }
  size_t from = (json_peek(&j), j.pos);
  if (!json_skip(&j)) return NULL;
  char *out = malloc(j.pos - from + 1);
  memcpy(out, p->data + from, j.pos - from);
  out[j.pos - from] = 0;
  return out;
}

static bool is(const Page *p, const char *path, const char *want) {
  char *v = get(p, path);
  bool ok = v && !strcmp(v, want);
  if (!ok) fprintf(stderr, "  %s = %s, expected %s\n", path, v ? v : "(missing)", want);
  free(v);
  return ok;
}

/* The number of elements of the array at path (-1 when it is not one). */
static int length(const Page *p, const char *path) {
  char *v = get(p, path), err[100];
  if (!v || v[0] != '[') return free(v), -1;
  JsonIn j;
  json_in_init(&j, v, strlen(v), err, sizeof err);
  bool first = true, more;
  int n = 0;
  json_eat(&j, '[');
  while (json_element(&j, &first, &more) && more && json_skip(&j)) n++;
  free(v);
  return n;
}

static double number(const Page *p, const char *path) {
  char *v = get(p, path);
  double d = v && strcmp(v, "null") ? strtod(v, NULL) : NAN;
  free(v);
  return d;
}

static bool data_valid(const Page *p) {
  char err[200];
  JsonIn j;
  json_in_init(&j, p->data, p->data_len, err, sizeof err);
  bool ok = json_skip(&j) && json_end(&j);
  if (!ok) fprintf(stderr, "  the embedded data is not JSON: %s\n", err);
  return ok;
}

/* What no page may contain, whatever the folder held: markup or script from a file, loads from elsewhere.
   The embedded data may hold any text (it is JSON that JSON.parse reads, and the page puts its strings into
   the document as text only), but no '<' or '>', so that it cannot end its script element. */
static void check_safe(const Page *p, const char *what) {
  CHECK(count(p->html, "<script") == 2, "%s: %d <script elements", what, count(p->html, "<script"));
  CHECK(count(p->html, "</script>") == 2, "%s: %d </script>", what, count(p->html, "</script>"));
  char *markup = strdup(p->html), *data = strstr(markup, p->data);
  if (data) memset(data, ' ', p->data_len); /* the page without its data */
  const char *bad[] = {"alert(", "onload", "onerror", "onclick", "javascript:", "http://evil", "<foreignObject", "<img",
                       "<iframe", "src=", "<b>", "<i>", "<style>evil", "xlink:href", "style=", NULL};
  for (int i = 0; bad[i]; i++) CHECK(!strstr(markup, bad[i]), "%s: the page contains %s", what, bad[i]);
  free(markup);
  CHECK(!strchr(p->data, '<') && !strchr(p->data, '>'), "%s: a '<' or '>' in the embedded data", what);
  CHECK(strstr(p->html, "Content-Security-Policy") != NULL, "%s: no CSP", what);
}

/* ---- the folders ---- */

static const char *CANDS[4] = {"ir_k3_e1", "ir_k3_e6", "k5</script><b>x", "skip"};

/* A search of 5 epochs x 6 steps over 3 superblocks of 4 candidates; candidate 3 of superblock 1 pruned after
   epoch 2 (once as a JSON line, once as the plain-text line of older versions), one line that is not JSON. */
static void make_search(const char *dir) {
  make_dir(dir);
  char path[4096];
  snprintf(path, sizeof path, "%s/log.jsonl", dir);
  FILE *f = fopen(path, "w");
  fprintf(f, "{\"type\": \"run\", \"mode\": \"search\", \"invocation\": \"new\", \"from_epoch\": 0, \"started\": "
             "\"2026-01-01T00:00:00+0000\", \"space\": \"tiny <i>\", \"epochs\": 5, \"lr\": 0.05, \"alpha\": 2}\n");
  long step = 0;
  for (int e = 1; e <= 5; e++) {
    for (int s = 0; s < 6; s++, step++)
      fprintf(f, "{\"type\": \"step\", \"step\": %ld, \"ce_loss\": %.4f, \"resource_loss\": %.4f, \"expected_cost\": %.4f, "
                 "\"temperature\": %.3f, \"lr\": 0.05, \"grad_norm\": %.3f}\n",
              step + 1, 3.0 - 0.05 * step, 0.1 - 0.001 * step, 0.07 - 0.0005 * step, 5.0 / e, 10.0 + s);
    if (e == 3) fprintf(f, "this line is not JSON\n");
    if (e == 2) {
      fprintf(f, "{\"type\": \"pruned\", \"superblock\": 1, \"candidate\": \"skip\", \"p\": 0.003, \"below\": 0.005}\n");
      fprintf(f, "pruned superblock 2 candidate skip (p = 0.0040 < 0.0050)\n");
    }
    fprintf(f, "{\"type\": \"probs\", \"epoch\": %d, \"superblocks\": [", e);
    for (int b = 0; b < 3; b++) {
      fprintf(f, "%s{\"candidates\": [", b ? ", " : "");
      for (int c = 0; c < 4; c++) {
        char esc[64];
        snprintf(esc, sizeof esc, "%s", CANDS[c]);
        fprintf(f, "%s\"%s\"", c ? ", " : "", esc);
      }
      double p[4] = {0.25 + 0.1 * e * (b == 0), 0.25, 0.25 - 0.04 * e * (b == 0), 0.25 - 0.06 * e * (b == 0)};
      if (b && e >= 2) p[3] = 0, p[0] = 0.5;
      fprintf(f, "], \"p\": [%.4f, %.4f, %.4f, %.4f]}", p[0], p[1], p[2], p[3]);
    }
    fprintf(f, "]}\n");
    fprintf(f, "{\"type\": \"epoch\", \"epoch\": %d, \"step\": %ld, \"ce_loss\": %.4f, \"resource_loss\": 0.09, "
               "\"expected_cost\": 0.06, \"cost_unit\": \"GMACs\", \"temperature\": %.3f, \"pruned\": %d, \"seconds\": %.2f, "
               "\"superblocks\": [{\"entropy\": 1.2, \"top\": \"ir_k3_e1\", \"p\": 0.5}, {\"entropy\": 1.0, \"top\": \"x\", \"p\": 0.5}]}\n",
            e, step, 3.0 - 0.3 * e, 5.0 / e, e == 2 ? 2 : 0, 10.0 + e);
  }
  fprintf(f, "{\"type\": \"derive\", \"seconds\": 4.50}\n");
  fclose(f);
  /* 9 architectures, 3 on the front, one chosen; latency for all but one */
  snprintf(path, sizeof path, "%s/pareto.json", dir);
  f = fopen(path, "w");
  fprintf(f, "{\"space\": \"tiny </script>\", \"val_images\": 20, \"architectures\": [\n");
  for (int i = 0; i < 9; i++)
    fprintf(f, "  {\"miou\": %.4f, \"gmacs\": %.4f, \"latency_ms\": %.4f, \"pareto\": %s, \"chosen\": %s, \"most_probable\": %s, "
               "\"candidates\": [\"ir_k3_e1\", \"<img src=x onerror=alert(1)>\", \"skip\"]}%s\n",
            0.1 + 0.01 * i, 0.04 + 0.002 * ((i * 7) % 9), i == 4 ? -1.0 : 2.0 + 0.1 * i, i % 3 == 0 ? "true" : "false",
            i == 3 ? "true" : "false", i == 0 ? "true" : "false", i < 8 ? "," : "");
  fprintf(f, "]}\n");
  fclose(f);
  write_file(dir, "last.safetensors.json", "{\"epoch\": 5, \"step\": 30, \"lr\": 0.05, \"seed\": 1, \"best_miou\": -1.000000, "
                                           "\"best_epoch\": -1, \"last_loss\": 1.5}\n");
  /* arch.svg: a drawing with everything the sanitizer must leave out */
  write_file(dir, "arch.svg",
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- a comment -->\n"
             "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" width=\"300\" height=\"100\" "
             "viewBox=\"0 0 300 100\" onload=\"alert(1)\">\n"
             "<defs><marker id=\"arrow\" markerWidth=\"8\" markerHeight=\"8\" refX=\"7\" refY=\"4\" orient=\"auto\">"
             "<path d=\"M0,0 L8,4 L0,8 z\" fill=\"#444\"/></marker></defs>\n"
             "<script>alert(1)</script><script><![CDATA[ alert(2) ]]></script>\n"
             "<style>evil { }</style>\n"
             "<rect x=\"0\" y=\"0\" width=\"300\" height=\"100\" fill=\"white\" style=\"fill:url(http://evil/x)\"/>\n"
             "<rect x=\"10\" y=\"10\" width=\"50\" height=\"30\" fill=\"url(http://evil/y)\" stroke='#123' onclick=\"alert(3)\"/>\n"
             "<line x1=\"60\" y1=\"25\" x2=\"100\" y2=\"25\" stroke=\"#444\" marker-end=\"url(#arrow)\"/>\n"
             "<foreignObject width=\"10\" height=\"10\"><div xmlns=\"http://www.w3.org/1999/xhtml\"><img src=\"x\"/></div></foreignObject>\n"
             "<a xlink:href=\"javascript:alert(4)\"><text x=\"5\" y=\"5\">link</text></a>\n"
             "<g><title>block &lt;k3&gt; &amp; &#x41;&#66; <![CDATA[<b>cdata</b>]]></title>"
             "<rect x=\"100\" y=\"10\" width=\"50\" height=\"30\" rx=\"4\" fill=\"#cde\"/></g>\n"
             "<text x=\"150\" y=\"90\" text-anchor=\"middle\" font-size=\"12\">stage 1: 16-&gt;24</text>\n"
             "</svg>\n");
}

static void make_train(const char *dir, int steps, int epochs) {
  make_dir(dir);
  char path[4096];
  snprintf(path, sizeof path, "%s/log.jsonl", dir);
  FILE *f = fopen(path, "w");
  fprintf(f, "{\"type\": \"run\", \"mode\": \"train\", \"invocation\": \"new\", \"from_epoch\": 0, \"network\": \"net\", \"epochs\": %d}\n",
          epochs);
  int per = steps / epochs;
  for (int e = 1, s = 0; e <= epochs; e++) {
    for (int k = 0; k < per; k++, s++)
      fprintf(f, "{\"type\": \"step\", \"epoch\": %d, \"step\": %d, \"loss\": %.6f, \"lr\": %.6g, \"grad_norm\": 3.5, "
                 "\"images_per_s\": 40.0}\n", e, s + 1, 2.0 + (s % 7) * 0.01, 0.05 * (1 - (double)s / steps));
    if (e == 2 && epochs > 2) fprintf(f, "{\"type\": \"run\", \"mode\": \"train\", \"invocation\": \"resume\", \"from_epoch\": 2, "
                                          "\"network\": \"net\", \"epochs\": %d, \"workers\": 4}\n", epochs);
    fprintf(f, "{\"type\": \"epoch\", \"epoch\": %d, \"step\": %d, \"train_loss\": %.4f, \"val_miou\": %.4f, \"val_pixel_acc\": 0.8, "
               "\"lr\": 0.05, \"seconds\": %.2f, \"best\": %s}\n", e, e * per, 2.0 - 0.1 * e, 0.1 + 0.05 * e, 3.0 + e,
            e == epochs ? "true" : "false");
  }
  fclose(f);
  write_file(dir, "best.safetensors.json", "{\"epoch\": 3, \"step\": 12, \"lr\": 0.05, \"seed\": 1, \"best_miou\": 0.25}\n");
}

static bool write_report(const char *dir, char *err, size_t n) {
  char path[4200];
  return report_write(dir, path, sizeof path, err, n);
}

/* ---- the checks ---- */

static void check_search(const char *dir) {
  char err[4096];
  make_search(dir);
  CHECK(write_report(dir, err, sizeof err), "%s", err);
  Page p;
  if (!load_page(dir, &p)) {
    CHECK(false, "no page with data in %s", dir);
    return;
  }
  CHECK(data_valid(&p), "data");
  check_safe(&p, "search");
  CHECK(is(&p, "kind", "\"search\""), "kind");
  CHECK(is(&p, "step.lines", "30") && is(&p, "step.per_point", "1"), "steps");
  CHECK(length(&p, "step.columns.ce_loss") == 30 && length(&p, "step.columns.step") == 30, "step columns");
  CHECK(is(&p, "step.columns.ce_loss.0", "3") && is(&p, "step.columns.grad_norm.5", "15"), "step values");
  CHECK(is(&p, "epoch.lines", "5") && length(&p, "epoch.columns.seconds") == 5, "epochs");
  CHECK(is(&p, "epoch.columns.cost_unit.0", "\"GMACs\"") && is(&p, "epoch.columns.mean_entropy.0", "1.1"), "epoch columns");
  CHECK(is(&p, "probs.lines", "5") && length(&p, "probs.epochs") == 5 && length(&p, "probs.candidates") == 3, "probs");
  CHECK(length(&p, "probs.candidates.2") == 4 && length(&p, "probs.epochs.4.p.1") == 4, "probs shape");
  CHECK(is(&p, "probs.epochs.1.p.1.3", "0") && is(&p, "probs.epochs.4.epoch", "5"), "probs values");
  CHECK(is(&p, "probs.candidates.0.2", "\"k5\\u003c/script\\u003e\\u003cb\\u003ex\""), "escaped candidate name");
  CHECK(length(&p, "pruned") == 2 && is(&p, "pruned.0.epoch", "2") && is(&p, "pruned.1.superblock", "2") &&
            is(&p, "pruned.1.candidate", "\"skip\"") && is(&p, "pruned.1.p", "0.004"), "pruned");
  CHECK(is(&p, "log.bad_lines", "1"), "bad lines");
  CHECK(strstr(p.html, "log.jsonl: a line that is not JSON was skipped (line 26: byte 0: ") != NULL, "a note on the line that is not JSON");
  CHECK(is(&p, "derive.seconds", "4.5") && length(&p, "runs") == 1 && is(&p, "runs.0.alpha", "2"), "derive, runs");
  CHECK(is(&p, "runs.0.space", "\"tiny \\u003ci\\u003e\""), "escaped run setting");
  CHECK(length(&p, "pareto.architectures") == 9 && is(&p, "pareto.val_images", "20"), "pareto");
  CHECK(is(&p, "pareto.architectures.4.ms", "null") && is(&p, "pareto.architectures.3.chosen", "true") &&
            is(&p, "pareto.architectures.3.pareto", "true") && is(&p, "pareto.architectures.0.most_probable", "true"),
        "pareto flags");
  CHECK(fabs(number(&p, "pareto.architectures.2.ms") - 2.2) < 1e-9, "pareto ms");
  CHECK(is(&p, "pareto.space", "\"tiny \\u003c/script\\u003e\""), "pareto space escaped");
  CHECK(is(&p, "state.step", "30") && is(&p, "best", "null"), "states");
  CHECK(length(&p, "files") >= 4 && is(&p, "files.0.name", "\"arch.svg\""), "files");
  /* the sanitized arch.svg: drawing kept, the rest gone, ids prefixed, references rewritten */
  const char *svg = strstr(p.html, "<div class=\"arch\" id=\"arch-svg\" hidden>");
  CHECK(svg && strstr(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"300\""), "the svg element");
  CHECK(svg && count(svg, "<rect") == 3, "rects");
  CHECK(strstr(p.html, "<marker id=\"arch-arrow\"") && strstr(p.html, "marker-end=\"url(#arch-arrow)\""), "ids prefixed");
  CHECK(strstr(p.html, "<rect x=\"10\" y=\"10\" width=\"50\" height=\"30\" stroke=\"#123\"/>"), "unsafe attributes removed");
  CHECK(strstr(p.html, "block &lt;k3&gt; &amp; AB &lt;b&gt;cdata&lt;/b&gt;</title>"), "text re-escaped");
  CHECK(strstr(p.html, "stage 1: 16-&gt;24</text>"), "text");
  CHECK(!strstr(p.html, ">link<"), "the link and its text are left out");
  CHECK(strstr(p.html, "arch.svg: 5 elements left out"), "a note on the dropped elements");
  free_page(&p);
}

static void check_train(const char *dir) {
  char err[4096];
  make_train(dir, 12, 3);
  CHECK(write_report(dir, err, sizeof err), "%s", err);
  Page p;
  if (!load_page(dir, &p)) {
    CHECK(false, "no page with data in %s", dir);
    return;
  }
  CHECK(data_valid(&p), "data");
  check_safe(&p, "train");
  CHECK(is(&p, "kind", "\"train\"") && is(&p, "probs", "null") && is(&p, "pareto", "null"), "a training run");
  CHECK(is(&p, "step.lines", "12") && length(&p, "step.columns.loss") == 12 && length(&p, "epoch.columns.val_miou") == 3, "columns");
  CHECK(is(&p, "epoch.columns.best.2", "true") && is(&p, "epoch.columns.best.0", "false"), "booleans");
  CHECK(length(&p, "runs") == 2 && is(&p, "runs.1.invocation", "\"resume\""), "two invocations");
  CHECK(is(&p, "best.best_miou", "0.25") && is(&p, "state", "null"), "states");
  CHECK(!strstr(p.html, "id=\"arch-svg\"") && !strstr(p.html, "No arch.svg"), "no architecture, no note for a training run");
  free_page(&p);
}

/* 10,000 steps: 3 steps per point, 3,334 points, each the mean of its steps. */
static void check_long(const char *dir) {
  char err[4096];
  make_train(dir, 10000, 4);
  CHECK(write_report(dir, err, sizeof err), "%s", err);
  Page p;
  if (!load_page(dir, &p)) {
    CHECK(false, "no page with data in %s", dir);
    return;
  }
  CHECK(is(&p, "step.lines", "10000") && is(&p, "step.per_point", "3"), "binning");
  CHECK(length(&p, "step.columns.step") == 3334 && length(&p, "step.columns.loss") == 3334, "points");
  CHECK(is(&p, "step.columns.step.0", "2") && is(&p, "step.columns.step.3333", "10000"), "bin means");
  CHECK(fabs(number(&p, "step.columns.loss.1") - (2.0 + (3 + 4 + 5) / 3.0 * 0.01)) < 1e-8, "bin mean of the loss");
  free_page(&p);
}

static void check_errors(const char *base) {
  char err[4096], dir[4096];
  CHECK(!write_report("/nonexistent-sqn-run", err, sizeof err) && strstr(err, "cannot read the run folder /nonexistent-sqn-run"),
        "missing folder: %s", err);
  snprintf(dir, sizeof dir, "%s/empty", base);
  make_dir(dir);
  const char *left[] = {"log.jsonl", "pareto.json", "arch.svg", "report.html", NULL}; /* by an earlier run of the test */
  for (int i = 0; left[i]; i++) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, left[i]);
    unlink(path);
  }
  CHECK(!write_report(dir, err, sizeof err) && strstr(err, "is not a run folder of sqnrun --train or --search: it has no log.jsonl"),
        "no log: %s", err);
  write_file(dir, "log.jsonl", "hello\nworld\n");
  CHECK(!write_report(dir, err, sizeof err) && strstr(err, "log.jsonl is not a log of sqnrun --train or --search: line 1 is not JSON"),
        "not a log: %s", err);
  char path[4200];
  snprintf(path, sizeof path, "%s/report.html", dir);
  CHECK(access(path, F_OK) != 0, "no page for a folder that is not a run folder");
  snprintf(path, sizeof path, "%s/log.jsonl", dir);
  CHECK(!write_report(path, err, sizeof err) && strstr(err, "is not a folder"), "a file: %s", err);
  /* an empty log is a run that has not logged yet: a page with a note */
  write_file(dir, "log.jsonl", "");
  CHECK(write_report(dir, err, sizeof err), "empty log: %s", err);
  Page p;
  CHECK(load_page(dir, &p) && strstr(p.html, "log.jsonl has no step or epoch lines yet"), "empty log note");
  free_page(&p);
  /* broken parts are notes, not failures */
  write_file(dir, "log.jsonl", "{\"type\": \"step\", \"step\": 1, \"ce_loss\": 2}\n");
  write_file(dir, "pareto.json", "{\"architectures\": [{\"miou\": 0.1,}]}");
  write_file(dir, "arch.svg", "<svg><rect></svg>");
  CHECK(write_report(dir, err, sizeof err), "broken parts: %s", err);
  CHECK(load_page(dir, &p) && data_valid(&p), "page");
  CHECK(strstr(p.html, "pareto.json could not be read: byte ") != NULL, "pareto note");
  CHECK(strstr(p.html, "arch.svg is not shown: line 1: &lt;/svg&gt; does not close &lt;rect&gt;") != NULL, "svg note");
  CHECK(is(&p, "pareto", "null") && is(&p, "kind", "\"search\""), "left out");
  free_page(&p);
  const char *bad_svgs[] = {"<html></html>", "<svg><!DOCTYPE x [ <!ENTITY a \"b\"> ]></svg>", "<svg>&bogus;</svg>",
                            "<svg a=b></svg>", "<svg></svg><svg></svg>", "text<svg/>", NULL};
  for (int i = 0; bad_svgs[i]; i++) {
    write_file(dir, "arch.svg", bad_svgs[i]);
    CHECK(write_report(dir, err, sizeof err) && load_page(dir, &p) && strstr(p.html, "arch.svg is not shown: ") &&
              !strstr(p.html, "id=\"arch-svg\""), "svg %d is refused", i);
    free_page(&p);
  }
}

int main(int argc, char **argv) {
  char base[1024];
  if (argc > 1) {
    snprintf(base, sizeof base, "%.1000s", argv[1]);
    make_dir(base);
  } else {
    snprintf(base, sizeof base, "/tmp/sqn-report-XXXXXX");
    if (!mkdtemp(base)) return perror("mkdtemp"), 1;
  }
  char dir[1100];
  snprintf(dir, sizeof dir, "%s/search", base), check_search(dir);
  snprintf(dir, sizeof dir, "%s/train", base), check_train(dir);
  snprintf(dir, sizeof dir, "%s/long", base), check_long(dir);
  check_errors(base);
  if (failures) return fprintf(stderr, "%d checks failed (folders in %s)\n", failures, base), 1;
  printf("report: all checks passed (folders in %s)\n", base);
  return 0;
}
