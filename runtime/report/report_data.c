/* report_data.c - reads a run folder into the report's embedded data (report_internal.h):
   - log.jsonl, the lines --train and --search append: "run" (the settings of each invocation), "step",
     "epoch", "probs" (a search's candidate probabilities after each epoch), "pruned" and "derive". Steps
     and epochs become columns (every scalar member of their lines, by name); a long log is read twice,
     first to count, then to average its lines into at most MAX_POINTS points per series, so memory does
     not grow with the run;
   - pareto.json (a search's scored architectures), last/best.safetensors.json (the run state), and the
     list of the folder's files.
   Strings reach the page only through js_str; lines that are not JSON are counted and named in a note. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "atomic_file.h"
#include "report_internal.h"

enum { MAX_POINTS = 4000, MAX_COLS = 32, MAX_PROB_LINES = 400, MAX_LIST = 2000, MAX_FILES = 200 };
#define MAX_JSON_FILE (64L << 20) /* pareto.json and the run states: larger ones are not read */

/* ---- one log line ---- */

typedef enum { COL_NUM, COL_BOOL, COL_STR } ColKind;

typedef struct Member {
  char *key;
  ColKind kind;
  double num;    /* COL_NUM (NaN for null), COL_BOOL (0 or 1) */
  char *str;     /* COL_STR */
} Member;

typedef struct SbProbs {  /* one superblock of a "probs" line */
  char **cand;
  int ncand;
  double *p;
  int np;
} SbProbs;

typedef struct Line {
  char *type;
  Member m[MAX_COLS];
  int nm;
  double entropy_sum;     /* an epoch line's superblocks: the mean entropy is a column */
  int entropy_n;
  SbProbs *sb;            /* a probs line's superblocks */
  int nsb;
} Line;

static void line_free(Line *l) {
  free(l->type);
  for (int i = 0; i < l->nm; i++) free(l->m[i].key), free(l->m[i].str);
  for (int s = 0; s < l->nsb; s++) {
    for (int k = 0; k < l->sb[s].ncand; k++) free(l->sb[s].cand[k]);
    free(l->sb[s].cand), free(l->sb[s].p);
  }
  free(l->sb);
  *l = (Line){0};
}

static bool parse_strings(JsonIn *j, char ***out, int *n) {
  bool first = true, more;
  if (!json_eat(j, '[')) return false;
  while (json_element(j, &first, &more) && more) {
    char *s;
    size_t len;
    if (json_peek(j) != '"') return json_fail(j, "expected a string");
    if (!json_string(j, &s, &len)) return false;
    char **grown = realloc(*out, sizeof *grown * (size_t)(*n + 1));
    if (!grown) return free(s), json_fail(j, "out of memory");
    (*out = grown)[(*n)++] = s;
  }
  return !j->failed;
}

static bool parse_numbers(JsonIn *j, double **out, int *n) {
  bool first = true, more;
  if (!json_eat(j, '[')) return false;
  while (json_element(j, &first, &more) && more) {
    double v = NAN;
    if (json_peek(j) == 'n' ? !json_skip(j) : !json_number(j, &v)) return false;
    double *grown = realloc(*out, sizeof *grown * (size_t)(*n + 1));
    if (!grown) return json_fail(j, "out of memory");
    (*out = grown)[(*n)++] = v;
  }
  return !j->failed;
}

/* "superblocks": [{...}, ...]: candidates and p arrays (probs lines), entropy numbers (epoch lines). */
static bool parse_superblocks(JsonIn *j, Line *l) {
  bool first = true, more;
  if (!json_eat(j, '[')) return false;
  while (json_element(j, &first, &more) && more) {
    if (json_peek(j) != '{') {
      if (!json_skip(j)) return false;
      continue;
    }
    SbProbs *grown = realloc(l->sb, sizeof *grown * (size_t)(l->nsb + 1));
    if (!grown) return json_fail(j, "out of memory");
    SbProbs *sb = &(l->sb = grown)[l->nsb++];
    *sb = (SbProbs){0};
    bool f2 = true;
    char *key;
    size_t kl;
    json_eat(j, '{');
    while (json_member(j, &f2, &key, &kl) && key) {
      char c = json_peek(j);
      bool ok;
      if (!strcmp(key, "candidates") && c == '[') ok = parse_strings(j, &sb->cand, &sb->ncand);
      else if (!strcmp(key, "p") && c == '[') ok = parse_numbers(j, &sb->p, &sb->np);
      else if (!strcmp(key, "entropy") && (c == '-' || (c >= '0' && c <= '9'))) {
        double h;
        if ((ok = json_number(j, &h)) && isfinite(h)) l->entropy_sum += h, l->entropy_n++;
      } else ok = json_skip(j);
      free(key);
      if (!ok) return false;
    }
    if (j->failed) return false;
  }
  return !j->failed;
}

/* One log line as a JSON object: its type, scalar members and superblocks. */
static bool parse_line(const char *text, size_t len, Line *l, char *err, size_t n) {
  JsonIn j;
  json_in_init(&j, text, len, err, n);
  *l = (Line){0};
  bool first = true;
  char *key;
  size_t kl;
  if (!json_eat(&j, '{')) return false;
  while (json_member(&j, &first, &key, &kl) && key) {
    char c = json_peek(&j);
    Member m = {.key = key, .kind = COL_NUM, .num = NAN};
    bool ok, keep = true;
    if (c == '"') {
      size_t sl;
      ok = json_string(&j, &m.str, &sl);
      m.kind = COL_STR;
      if (ok && !strcmp(key, "type") && !l->type) l->type = m.str, m.str = NULL, keep = false;
    } else if (c == 't' || c == 'f') {
      ok = json_skip(&j), m.kind = COL_BOOL, m.num = c == 't';
    } else if (c == 'n') {
      ok = json_skip(&j);
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      ok = json_number(&j, &m.num);
    } else {
      ok = !strcmp(key, "superblocks") && c == '[' ? parse_superblocks(&j, l) : json_skip(&j);
      keep = false;
    }
    if (ok && keep && l->nm < MAX_COLS) l->m[l->nm++] = m;
    else free(m.key), free(m.str);
    if (!ok) return line_free(l), false;
  }
  if (j.failed || !json_end(&j)) return line_free(l), false;
  return true;
}

static const Member *member(const Line *l, const char *key) {
  for (int i = 0; i < l->nm; i++)
    if (!strcmp(l->m[i].key, key)) return &l->m[i];
  return NULL;
}

static double member_num(const Line *l, const char *key) {
  const Member *m = member(l, key);
  return m && m->kind != COL_STR ? m->num : NAN;
}

/* ---- series: the columns of the step or epoch lines, averaged into at most MAX_POINTS points ---- */

typedef struct Column {
  char *name;
  ColKind kind;
  double *sum;   /* per point: the sum of the finite values (COL_BOOL: the last value) */
  int *cnt;
  char **str;    /* COL_STR: the last value */
} Column;

typedef struct Series {
  long lines, seen, per_point;
  int npoints;
  Column col[MAX_COLS];
  int ncols;
  bool oom;
} Series;

static void series_start(Series *s, long lines) {
  s->lines = lines;
  s->per_point = lines > MAX_POINTS ? (lines + MAX_POINTS - 1) / MAX_POINTS : 1;
  s->npoints = (int)((lines + s->per_point - 1) / s->per_point);
}

static Column *series_column(Series *s, const char *name, ColKind kind) {
  for (int i = 0; i < s->ncols; i++)
    if (!strcmp(s->col[i].name, name)) return s->col[i].kind == kind ? &s->col[i] : NULL;
  if (s->ncols == MAX_COLS || s->npoints == 0) return NULL;
  Column *c = &s->col[s->ncols];
  size_t np = (size_t)s->npoints;
  *c = (Column){strdup(name), kind, calloc(np, sizeof(double)), calloc(np, sizeof(int)),
                kind == COL_STR ? calloc(np, sizeof(char *)) : NULL};
  if (!c->name || !c->sum || !c->cnt || (kind == COL_STR && !c->str)) {
    free(c->name), free(c->sum), free(c->cnt), free(c->str);
    s->oom = true;
    return NULL;
  }
  s->ncols++;
  return c;
}

static void series_add_value(Series *s, int at, const char *name, ColKind kind, double v, const char *str) {
  Column *c = series_column(s, name, kind);
  if (!c) return;
  if (kind == COL_NUM) {
    if (isfinite(v)) c->sum[at] += v, c->cnt[at]++;
  } else if (kind == COL_BOOL) {
    c->sum[at] = v, c->cnt[at] = 1;
  } else {
    char *copy = strdup(str);
    if (!copy) return (void)(s->oom = true);
    free(c->str[at]);
    c->str[at] = copy, c->cnt[at] = 1;
  }
}

static void series_add(Series *s, const Line *l) {
  if (s->seen >= s->lines) return; /* the log grew between the two passes */
  int at = (int)(s->seen++ / s->per_point);
  for (int i = 0; i < l->nm; i++) series_add_value(s, at, l->m[i].key, l->m[i].kind, l->m[i].num, l->m[i].str);
  if (l->entropy_n) series_add_value(s, at, "mean_entropy", COL_NUM, l->entropy_sum / l->entropy_n, NULL);
}

static void series_json(JsonOut *o, const Series *s) {
  int np = s->lines ? (int)((s->seen + s->per_point - 1) / s->per_point) : 0;
  buf_f(o, "{\"lines\": %ld, \"per_point\": %ld, \"columns\": {", s->seen, s->per_point);
  for (int i = 0; i < s->ncols; i++) {
    const Column *c = &s->col[i];
    buf_s(o, i ? ", " : "");
    js_cstr(o, c->name);
    buf_s(o, ": [");
    for (int k = 0; k < np; k++) {
      buf_s(o, k ? "," : "");
      if (!c->cnt[k]) buf_s(o, "null");
      else if (c->kind == COL_STR) js_cstr(o, c->str[k]);
      else if (c->kind == COL_BOOL) buf_s(o, c->sum[k] != 0 ? "true" : "false");
      else js_num(o, c->sum[k] / c->cnt[k]);
    }
    buf_s(o, "]");
  }
  buf_s(o, "}}");
}

static void series_free(Series *s) {
  for (int i = 0; i < s->ncols; i++) {
    Column *c = &s->col[i];
    if (c->str)
      for (int k = 0; k < s->npoints; k++) free(c->str[k]);
    free(c->name), free(c->sum), free(c->cnt), free(c->str);
  }
  *s = (Series){0};
}

/* ---- the log ---- */

typedef struct Pruned {
  int sb, epoch;
  char *cand;
  double p;
} Pruned;

typedef struct LogRead {
  Series step, epoch;
  long nprobs, probs_every, probs_seen;
  JsonOut probs, candidates, runs, derive;
  int nprobs_kept, nruns;
  Pruned pruned[MAX_LIST];
  int npruned;
  long bad, other, first_bad;
  char first_bad_err[256];
  bool search_fields;
} LogRead;

static void scalars_json(JsonOut *o, const Line *l) {
  buf_s(o, "{");
  for (int i = 0; i < l->nm; i++) {
    const Member *m = &l->m[i];
    buf_s(o, i ? ", " : "");
    js_cstr(o, m->key);
    buf_s(o, ": ");
    if (m->kind == COL_STR) js_cstr(o, m->str);
    else if (m->kind == COL_BOOL) buf_s(o, m->num != 0 ? "true" : "false");
    else js_num(o, m->num);
  }
  buf_s(o, "}");
}

static void add_probs(LogRead *r, const Line *l) {
  long k = r->probs_seen++;
  if (k % r->probs_every != 0 && k != r->nprobs - 1) return;
  JsonOut *o = &r->probs;
  buf_s(o, r->nprobs_kept++ ? ",\n{\"epoch\": " : "{\"epoch\": ");
  js_num(o, member_num(l, "epoch"));
  buf_s(o, ", \"p\": [");
  for (int s = 0; s < l->nsb; s++) {
    buf_s(o, s ? ", [" : "[");
    for (int c = 0; c < l->sb[s].np; c++) buf_s(o, c ? "," : ""), js_num(o, l->sb[s].p[c]);
    buf_s(o, "]");
  }
  buf_s(o, "]}");
  json_out_free(&r->candidates); /* the names of the last line */
  buf_s(&r->candidates, "[");
  for (int s = 0; s < l->nsb; s++) {
    buf_s(&r->candidates, s ? ", [" : "[");
    for (int c = 0; c < l->sb[s].ncand; c++) buf_s(&r->candidates, c ? ", " : ""), js_cstr(&r->candidates, l->sb[s].cand[c]);
    buf_s(&r->candidates, "]");
  }
  buf_s(&r->candidates, "]");
}

/* A pruned candidate: the JSON line, or the plain-text line that older versions wrote. Its epoch is the
   one of the next epoch line (pruning is logged before the epoch's line). */
static void add_pruned(LogRead *r, const Line *l, const char *text) {
  if (r->npruned >= MAX_LIST) return;
  Pruned *p = &r->pruned[r->npruned];
  *p = (Pruned){.sb = -1, .p = NAN, .epoch = -1};
  if (l) {
    const Member *c = member(l, "candidate");
    double sb = member_num(l, "superblock");
    p->sb = sb >= 0 && sb < 1e9 ? (int)sb : -1, p->p = member_num(l, "p");
    p->cand = strdup(c && c->kind == COL_STR ? c->str : "");
  } else {
    char name[256] = "";
    sscanf(text, "pruned superblock %d candidate %255s (p = %lf", &p->sb, name, &p->p);
    p->cand = strdup(name);
  }
  if (p->cand) r->npruned++;
}

static void pruned_json(JsonOut *o, const LogRead *r) {
  buf_s(o, "[");
  for (int i = 0; i < r->npruned; i++) {
    const Pruned *p = &r->pruned[i];
    buf_f(o, "%s{\"epoch\": %d, \"superblock\": %d, \"candidate\": ", i ? ", " : "", p->epoch, p->sb);
    js_cstr(o, p->cand);
    buf_s(o, ", \"p\": ");
    js_num(o, p->p);
    buf_s(o, "}");
  }
  buf_s(o, "]");
}

static bool is_search_field(const char *k) {
  return !strcmp(k, "ce_loss") || !strcmp(k, "expected_cost") || !strcmp(k, "resource_loss");
}

/* One pass over the log. counting: only the number of step, epoch and probs lines. */
static bool read_log(FILE *f, LogRead *r, bool counting) {
  char *text = NULL;
  size_t cap = 0;
  long lineno = 0, steps = 0, epochs = 0, probs = 0;
  ssize_t len;
  rewind(f);
  while ((len = getline(&text, &cap, f)) > 0) {
    lineno++;
    bool complete = text[len - 1] == '\n'; /* the last line of a run that is writing it may not be */
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r')) len--;
    if (len == 0) continue;
    Line l;
    char why[200];
    if (!parse_line(text, (size_t)len, &l, why, sizeof why)) {
      bool legacy_prune = !strncmp(text, "pruned superblock ", 18);
      if (!counting && legacy_prune) {
        text[len] = 0;
        add_pruned(r, NULL, text);
      } else if (!counting && !legacy_prune && complete && !r->bad++) {
        r->first_bad = lineno;
        snprintf(r->first_bad_err, sizeof r->first_bad_err, "%s", why);
      }
      continue;
    }
    const char *t = l.type ? l.type : "";
    if (!strcmp(t, "step")) steps++;
    else if (!strcmp(t, "epoch")) epochs++;
    else if (!strcmp(t, "probs")) probs++;
    if (counting) {
      line_free(&l);
      continue;
    }
    for (int i = 0; i < l.nm; i++) r->search_fields |= is_search_field(l.m[i].key);
    if (!strcmp(t, "step")) {
      series_add(&r->step, &l);
    } else if (!strcmp(t, "epoch")) {
      series_add(&r->epoch, &l);
      double e = member_num(&l, "epoch");
      for (int i = r->npruned - 1; i >= 0 && r->pruned[i].epoch < 0; i--) r->pruned[i].epoch = e >= 0 && e < 1e9 ? (int)e : 0;
    } else if (!strcmp(t, "probs")) {
      add_probs(r, &l);
    } else if (!strcmp(t, "pruned")) {
      add_pruned(r, &l, NULL);
    } else if (!strcmp(t, "run")) {
      const Member *mode = member(&l, "mode");
      r->search_fields |= mode && mode->kind == COL_STR && !strcmp(mode->str, "search");
      if (r->nruns < MAX_LIST) buf_s(&r->runs, r->nruns++ ? ",\n" : ""), scalars_json(&r->runs, &l);
    } else if (!strcmp(t, "derive")) {
      json_out_free(&r->derive);
      scalars_json(&r->derive, &l);
    } else {
      r->other++;
    }
    line_free(&l);
  }
  free(text);
  if (counting) {
    series_start(&r->step, steps), series_start(&r->epoch, epochs);
    r->nprobs = probs;
    r->probs_every = probs > MAX_PROB_LINES ? (probs + MAX_PROB_LINES - 1) / MAX_PROB_LINES : 1;
  }
  return !ferror(f);
}

/* ---- the other files ---- */

static char *read_whole(const char *path, size_t *len, char *err, size_t n) {
  FILE *f = fopen(path, "rb");
  if (!f) return snprintf(err, n, "%s", strerror(errno)), NULL;
  char *buf = NULL;
  if (fseek(f, 0, SEEK_END) == 0) {
    long size = ftell(f);
    if (size > MAX_JSON_FILE) snprintf(err, n, "larger than %ld MiB", MAX_JSON_FILE >> 20);
    else if (size >= 0 && (buf = malloc((size_t)size + 1))) {
      rewind(f);
      *len = fread(buf, 1, (size_t)size, f);
      buf[*len] = 0;
      if (ferror(f)) free(buf), buf = NULL, snprintf(err, n, "%s", strerror(errno));
    } else snprintf(err, n, "out of memory");
  } else snprintf(err, n, "%s", strerror(errno));
  fclose(f);
  return buf;
}

/* One scored architecture of pareto.json. */
static bool pareto_arch(JsonIn *j, JsonOut *o) {
  bool first = true;
  char *key;
  size_t kl;
  double miou = NAN, gmacs = NAN, ms = NAN;
  bool flags[3] = {false, false, false};
  static const char *flag_names[3] = {"pareto", "chosen", "most_probable"};
  char **cand = NULL;
  int ncand = 0;
  if (!json_eat(j, '{')) return false;
  while (json_member(j, &first, &key, &kl) && key) {
    char c = json_peek(j);
    bool ok = true, num = c == '-' || (c >= '0' && c <= '9'), handled = false;
    if (num && !strcmp(key, "miou")) ok = json_number(j, &miou), handled = true;
    else if (num && !strcmp(key, "gmacs")) ok = json_number(j, &gmacs), handled = true;
    else if (num && !strcmp(key, "latency_ms")) ok = json_number(j, &ms), handled = true;
    else if (c == '[' && !strcmp(key, "candidates") && !cand) ok = parse_strings(j, &cand, &ncand), handled = true;
    for (int f = 0; f < 3 && !handled; f++)
      if (!strcmp(key, flag_names[f]) && (c == 't' || c == 'f')) flags[f] = c == 't', ok = json_skip(j), handled = true;
    if (!handled) ok = json_skip(j);
    free(key);
    if (!ok) break;
  }
  bool ok = !j->failed;
  if (ok) {
    buf_s(o, "{\"miou\": "), js_num(o, miou);
    buf_s(o, ", \"gmacs\": "), js_num(o, gmacs);
    buf_s(o, ", \"ms\": "), js_num(o, ms >= 0 ? ms : NAN); /* -1: no latency table */
    for (int f = 0; f < 3; f++) buf_f(o, ", \"%s\": %s", flag_names[f], flags[f] ? "true" : "false");
    buf_s(o, ", \"candidates\": [");
    for (int k = 0; k < ncand; k++) buf_s(o, k ? ", " : ""), js_cstr(o, cand[k]);
    buf_s(o, "]}");
  }
  for (int k = 0; k < ncand; k++) free(cand[k]);
  free(cand);
  return ok;
}

/* pareto.json into {"space", "val_images", "architectures": [...]}. */
static bool pareto_json(const char *text, size_t len, JsonOut *o, char *err, size_t n) {
  JsonIn j;
  json_in_init(&j, text, len, err, n);
  bool first = true, seen_archs = false;
  char *key;
  size_t kl;
  if (!json_eat(&j, '{')) return false;
  buf_s(o, "{");
  int members = 0;
  while (json_member(&j, &first, &key, &kl) && key) {
    char c = json_peek(&j);
    bool ok = true;
    if (!strcmp(key, "space") && c == '"') {
      char *s;
      size_t sl;
      if ((ok = json_string(&j, &s, &sl))) buf_s(o, members++ ? ", \"space\": " : "\"space\": "), js_str(o, s, sl), free(s);
    } else if (!strcmp(key, "val_images") && (c == '-' || (c >= '0' && c <= '9'))) {
      double v;
      if ((ok = json_number(&j, &v))) buf_s(o, members++ ? ", \"val_images\": " : "\"val_images\": "), js_num(o, v);
    } else if (!strcmp(key, "architectures") && c == '[' && !seen_archs) {
      bool f2 = true, more;
      int na = 0;
      seen_archs = true;
      buf_s(o, members++ ? ", \"architectures\": [" : "\"architectures\": [");
      json_eat(&j, '[');
      while (ok && json_element(&j, &f2, &more) && more) {
        buf_s(o, na++ ? ",\n" : "\n");
        ok = pareto_arch(&j, o);
      }
      ok = ok && !j.failed;
      buf_s(o, "]");
    } else {
      ok = json_skip(&j);
    }
    free(key);
    if (!ok) return false;
  }
  if (j.failed || !json_end(&j)) return false;
  if (!seen_archs) return snprintf(err, n, "no \"architectures\" array"), false;
  buf_s(o, "}");
  return true;
}

/* A flat JSON object file (the run states) with its scalar members. */
static bool flat_json(const char *text, size_t len, JsonOut *o, char *err, size_t n) {
  Line l;
  if (!parse_line(text, len, &l, err, n)) return false;
  if (l.type) { /* keep a "type" member the line parser set aside */
    Member *m = l.nm < MAX_COLS ? &l.m[l.nm++] : NULL;
    if (m) *m = (Member){strdup("type"), COL_STR, 0, l.type}, l.type = NULL;
  }
  scalars_json(o, &l);
  line_free(&l);
  return true;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The folder's files (not its lock or temporaries) with their sizes. */
static void files_json(const char *dir, JsonOut *o) {
  DIR *dp = opendir(dir);
  char *names[MAX_FILES];
  int k = 0;
  for (struct dirent *e; dp && (e = readdir(dp)) && k < MAX_FILES;)
    if (e->d_name[0] != '.' && !atomic_is_temporary(e->d_name) && (names[k] = strdup(e->d_name))) k++;
  if (dp) closedir(dp);
  qsort(names, (size_t)k, sizeof *names, by_name);
  buf_s(o, "[");
  for (int i = 0; i < k; i++) {
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    bool ok = stat(path, &st) == 0;
    buf_s(o, i ? ", {\"name\": " : "{\"name\": ");
    js_cstr(o, names[i]);
    buf_s(o, ", \"bytes\": ");
    js_num(o, ok && S_ISREG(st.st_mode) ? (double)st.st_size : NAN);
    buf_s(o, "}");
    free(names[i]);
  }
  buf_s(o, "]");
}

/* ---- the whole data object ---- */

void report_note(ReportData *d, const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  buf_s(&d->notes, line);
  buf_s(&d->notes, "\n");
}

/* A JSON file of the folder into "key": {...}; a note when it is there but cannot be used. */
static void optional_file(const char *dir, const char *name, const char *key, ReportData *d,
                          bool (*convert)(const char *, size_t, JsonOut *, char *, size_t)) {
  char path[4096], why[300] = "";
  size_t len = 0;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  buf_f(&d->json, ",\n\"%s\": ", key);
  if (access(path, F_OK) != 0) return buf_s(&d->json, "null");
  char *text = read_whole(path, &len, why, sizeof why);
  JsonOut part = {0};
  if (text && convert(text, len, &part, why, sizeof why) && !part.oom) json_raw(&d->json, part.p, part.len);
  else buf_s(&d->json, "null"), report_note(d, "%s could not be read: %s", name, why[0] ? why : "out of memory");
  json_out_free(&part);
  free(text);
}

static void log_read_free(LogRead *r) {
  series_free(&r->step), series_free(&r->epoch);
  json_out_free(&r->probs), json_out_free(&r->candidates), json_out_free(&r->runs), json_out_free(&r->derive);
  for (int i = 0; i < r->npruned; i++) free(r->pruned[i].cand);
}

bool report_data(const char *dir, ReportData *d, char *err, size_t n) {
  *d = (ReportData){0};
  struct stat st;
  if (stat(dir, &st) != 0) return snprintf(err, n, "cannot read the run folder %s: %s", dir, strerror(errno)), false;
  if (!S_ISDIR(st.st_mode)) return snprintf(err, n, "%s is not a folder (--report takes the run folder of a --train or --search run)", dir), false;
  char path[4096];
  snprintf(path, sizeof path, "%s/log.jsonl", dir);
  FILE *f = fopen(path, "r");
  if (!f && errno == ENOENT)
    return snprintf(err, n, "%s is not a run folder of sqnrun --train or --search: it has no log.jsonl", dir), false;
  if (!f) return snprintf(err, n, "cannot read %s: %s", path, strerror(errno)), false;
  LogRead r = {0};
  bool ok = read_log(f, &r, true) && read_log(f, &r, false);
  fclose(f);
  if (!ok) return log_read_free(&r), snprintf(err, n, "cannot read %s: %s", path, strerror(errno)), false;
  if (r.bad && !r.step.seen && !r.epoch.seen && !r.nruns && !r.nprobs) {
    snprintf(err, n, "%s is not a log of sqnrun --train or --search: line %ld is not JSON (%s)", path, r.first_bad,
             r.first_bad_err);
    return log_read_free(&r), false;
  }
  char abs[PATH_MAX];
  const char *shown = realpath(dir, abs) ? abs : dir;
  size_t len = strlen(shown);
  while (len > 1 && shown[len - 1] == '/') len--; /* "run/" */
  size_t from = len;
  while (from > 0 && shown[from - 1] != '/') from--;
  snprintf(d->name, sizeof d->name, "%.*s", (int)(len - from), shown + from);
  if (!d->name[0]) snprintf(d->name, sizeof d->name, "%.255s", shown);
  snprintf(d->path, sizeof d->path, "%.4095s", shown);
  snprintf(path, sizeof path, "%s/pareto.json", dir);
  d->search = r.search_fields || r.nprobs > 0 || access(path, F_OK) == 0;

  JsonOut *o = &d->json;
  buf_s(o, "{\"format\": 1, \"run\": ");
  js_cstr(o, d->name);
  buf_s(o, ", \"path\": ");
  js_cstr(o, shown);
  buf_f(o, ", \"kind\": \"%s\"", d->search ? "search" : "train");
  buf_s(o, ",\n\"step\": "), series_json(o, &r.step);
  buf_s(o, ",\n\"epoch\": "), series_json(o, &r.epoch);
  buf_s(o, ",\n\"probs\": ");
  if (r.nprobs_kept) {
    buf_f(o, "{\"lines\": %ld, \"candidates\": ", r.nprobs);
    json_raw(o, r.candidates.p, r.candidates.len);
    buf_s(o, ", \"epochs\": [\n");
    json_raw(o, r.probs.p, r.probs.len);
    buf_s(o, "]}");
  } else buf_s(o, "null");
  buf_s(o, ",\n\"pruned\": ");
  pruned_json(o, &r);
  buf_s(o, ",\n\"runs\": [");
  json_raw(o, r.runs.p, r.runs.len);
  buf_s(o, "],\n\"derive\": ");
  if (r.derive.len) json_raw(o, r.derive.p, r.derive.len);
  else buf_s(o, "null");
  buf_f(o, ",\n\"log\": {\"bad_lines\": %ld, \"other_lines\": %ld}", r.bad, r.other);
  if (r.bad == 1) report_note(d, "log.jsonl: a line that is not JSON was skipped (line %ld: %s)", r.first_bad, r.first_bad_err);
  if (r.bad > 1)
    report_note(d, "log.jsonl: %ld lines that are not JSON were skipped (the first, line %ld: %s)", r.bad, r.first_bad,
                r.first_bad_err);
  if (!r.step.seen && !r.epoch.seen) report_note(d, "log.jsonl has no step or epoch lines yet");
  if (r.step.oom || r.epoch.oom) report_note(d, "out of memory: some columns of the log are left out");
  log_read_free(&r);
  optional_file(dir, "pareto.json", "pareto", d, pareto_json);
  optional_file(dir, "last.safetensors.json", "state", d, flat_json);
  optional_file(dir, "best.safetensors.json", "best", d, flat_json);
  buf_s(o, ",\n\"files\": ");
  files_json(dir, o);
  buf_s(o, "}");
  if (o->oom || d->notes.oom) return report_data_free(d), snprintf(err, n, "out of memory"), false;
  return true;
}

void report_data_free(ReportData *d) {
  json_out_free(&d->json);
  json_out_free(&d->notes);
}
