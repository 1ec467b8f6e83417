/* derive_write.c - the tables and the network file that deriving writes (derive.h): pareto.csv and
   pareto.json (every scored architecture: mIoU, GMACs, latency, on the front, chosen, its candidates)
   and derived.sqn, a `network` over the searched space that sqnc compiles into a fixed plan. So that
   the run folder can be moved or shared, the space's source is copied into RUNDIR/space/ with the
   files it imports from next to it (found as sqnc finds them: relative to the importing file; their
   layout relative to each other kept), and derived.sqn imports the copy by a relative path,
   `import "space/NAME.sqn"`. Standard-library imports (std/...) are left to sqnc's own library. */
#include <errno.h>
#include <math.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "atomic_file.h"
#include "derive.h"

/* Opens DIR/NAME for an atomic write (atomic_file.h). */
static FILE *open_in(AtomicFile *af, const char *dir, const char *name, char *err, size_t n) {
  char path[1200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return atomic_open(af, path, err, n) ? af->f : NULL;
}

static void write_choice(FILE *f, const Search *s, const int *choice, const char *sep) {
  for (int i = 0; i < s->nsb; i++) fprintf(f, "%s%s", i ? sep : "", s->p->sb[i].cand[choice[i]].name);
}

/* A number with printf format fmt, or `missing` ("null" in JSON, "" in CSV) for a latency of -1 (no
   latency table) or a value that is not finite (an mIoU that could not be measured). */
static void number_or(FILE *f, const char *fmt, double v, bool latency, const char *missing) {
  if (!isfinite(v) || (latency && v < 0)) fputs(missing, f);
  else fprintf(f, fmt, v);
}

bool derive_write_tables(const Search *s, const Arch *a, int na, const DeriveOptions *o, char *err, size_t n) {
  AtomicFile af;
  FILE *f = open_in(&af, o->out_dir, "pareto.csv", err, n);
  if (!f) return false;
  fprintf(f, "index,miou,gmacs,latency_ms,pareto,chosen,most_probable,candidates\n");
  for (int i = 0; i < na; i++) {
    fprintf(f, "%d,", i);
    number_or(f, "%.6f,", a[i].miou, false, ","), number_or(f, "%.6f,", a[i].gmacs, false, ",");
    number_or(f, "%.4f,", a[i].ms, true, ",");
    fprintf(f, "%d,%d,%d,", a[i].pareto, a[i].chosen, a[i].most_probable);
    write_choice(f, s, a[i].choice, " ");
    fputc('\n', f);
  }
  if (!atomic_close(&af, true, err, n)) return false;
  if (!(f = open_in(&af, o->out_dir, "pareto.json", err, n))) return false;
  fprintf(f, "{\"space\": \"%s\", \"val_images\": %d, \"architectures\": [\n", s->p->name, o->val_limit);
  for (int i = 0; i < na; i++) {
    fputs("  {\"miou\": ", f), number_or(f, "%.6f", a[i].miou, false, "null");
    fputs(", \"gmacs\": ", f), number_or(f, "%.6f", a[i].gmacs, false, "null");
    fputs(", \"latency_ms\": ", f), number_or(f, "%.4f", a[i].ms, true, "null");
    fprintf(f, ", \"skips\": %d", a[i].skips);
    fprintf(f, ", \"pareto\": %s, \"chosen\": %s, \"most_probable\": %s, \"candidates\": [\"", a[i].pareto ? "true" : "false",
            a[i].chosen ? "true" : "false", a[i].most_probable ? "true" : "false");
    write_choice(f, s, a[i].choice, "\", \"");
    fprintf(f, "\"]}%s\n", i + 1 < na ? "," : "");
  }
  fprintf(f, "]}\n");
  return atomic_close(&af, true, err, n);
}

/* An identifier for the network: the space's name with _derived. */
static void network_name(const char *space, char *out, size_t n) {
  size_t k = 0;
  for (const char *c = space ? space : "net"; *c && k + 9 < n; c++)
    out[k++] = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_' ? *c : '_';
  snprintf(out + k, n - k, "_derived");
}

/* ---- the space's sources ---- */

typedef struct Source {
  char *real;     /* real path */
  char *text;     /* the whole file, NUL-terminated */
  size_t len;
} Source;

typedef struct Sources {
  Source *f;      /* f[0]: the space's file, then what it imports, transitively */
  int n, cap;
} Sources;

static char *read_text(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t cap = 0, n = 0, got = 1;
  while (f && got) {
    if (n + 4096 + 1 > cap) {
      char *b = realloc(buf, cap = 2 * cap + 8192);
      if (!b) break;
      buf = b;
    }
    n += got = fread(buf + n, 1, cap - n - 1, f);
  }
  bool ok = f && buf && !got && !ferror(f);
  int e = errno;
  if (f) fclose(f);
  if (!ok) return free(buf), errno = e ? e : ENOMEM, NULL;
  buf[n] = 0;
  *len = n;
  return buf;
}

/* Adds the file at real path `real` (once). */
static bool add_source(Sources *s, const char *real, char *err, size_t n) {
  for (int i = 0; i < s->n; i++)
    if (!strcmp(s->f[i].real, real)) return true;
  if (s->n == s->cap) {
    Source *f = realloc(s->f, sizeof *f * (size_t)(s->cap = s->cap ? 2 * s->cap : 8));
    if (!f) return snprintf(err, n, "out of memory"), false;
    s->f = f;
  }
  Source *f = &s->f[s->n];
  if (!(f->real = strdup(real)) || !(f->text = read_text(real, &f->len)))
    return snprintf(err, n, "cannot read %s: %s", real, strerror(errno)), free(f->real), false;
  s->n++;
  return true;
}

static void free_sources(Sources *s) {
  for (int i = 0; i < s->n; i++) free(s->f[i].real), free(s->f[i].text);
  free(s->f);
}

static bool ident_char(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

/* From the opening quote at t[i]: the string's text into out (escapes undone); returns the index
   after it (a string ends at its quote or, unterminated, at the line's end). */
static size_t read_string(const char *t, size_t i, char *out, size_t n) {
  size_t k = 0;
  for (i++; t[i] && t[i] != '"' && t[i] != '\n'; i++) {
    if (t[i] == '\\' && t[i + 1] && t[i + 1] != '\n') i++;
    if (k + 1 < n) out[k++] = t[i];
  }
  if (n) out[k] = 0;
  return t[i] == '"' ? i + 1 : i;
}

/* The next `import "PATH"` of a .sqn text from *pos on, outside comments and other strings. */
static bool next_import(const char *t, size_t *pos, char *path, size_t n) {
  size_t i = *pos;
  while (t[i]) {
    if (t[i] == '/' && t[i + 1] == '/') i += strcspn(t + i, "\n");
    else if (t[i] == '/' && t[i + 1] == '*') {
      const char *end = strstr(t + i + 2, "*/");
      i = end ? (size_t)(end - t) + 2 : i + strlen(t + i);
    } else if (t[i] == '"') i = read_string(t, i, NULL, 0);
    else if (!strncmp(t + i, "import", 6) && (i == 0 || !ident_char(t[i - 1])) && !ident_char(t[i + 6])) {
      size_t j = i + 6 + strspn(t + i + 6, " \t");
      if (t[j] != '"') i = j;
      else return *pos = read_string(t, j, path, n), true;
    } else i++;
  }
  return *pos = i, false;
}

/* The space's file and, transitively, the relative imports sqnc finds next to their importers. */
static bool collect_sources(Sources *s, const char *space_file, char *err, size_t n) {
  char real[PATH_MAX], path[PATH_MAX], cand[2 * PATH_MAX + 2];
  if (!realpath(space_file, real)) return snprintf(err, n, "cannot read %s: %s", space_file, strerror(errno)), false;
  if (!add_source(s, real, err, n)) return false;
  for (int k = 0; k < s->n; k++) {
    size_t pos = 0;
    while (next_import(s->f[k].text, &pos, path, sizeof path)) {
      if (path[0] == '/') continue; /* absolute: the copy imports it as it is */
      snprintf(cand, sizeof cand, "%.*s/%s", (int)(strrchr(s->f[k].real, '/') - s->f[k].real), s->f[k].real, path);
      if (realpath(cand, real) && !add_source(s, real, err, n)) return false;
    }
  }
  return true;
}

/* Length of the folder holding every source ("/a/b" of /a/b/x.sqn and /a/b/c/y.sqn). */
static size_t common_folder(const Sources *s) {
  size_t len = (size_t)(strrchr(s->f[0].real, '/') - s->f[0].real);
  for (int i = 1; i < s->n; i++) {
    const char *p = s->f[i].real;
    while (len > 0 && (strncmp(p, s->f[0].real, len) || p[len] != '/'))
      while (--len > 0 && s->f[0].real[len] != '/') {}
  }
  return len;
}

/* Writes OUT/space/REL for every source; *space_rel = REL of the space's file (in s). */
static bool copy_sources(const Sources *s, const char *out_dir, const char **space_rel, char *err, size_t n) {
  size_t root = common_folder(s);
  char dest[PATH_MAX + 1200];
  for (int i = 0; i < s->n; i++) {
    const char *rel = s->f[i].real + root + 1;
    snprintf(dest, sizeof dest, "%s/space/%s", out_dir, rel);
    for (char *c = dest + strlen(out_dir) + 1; (c = strchr(c, '/')); *c++ = '/') { /* the folders */
      *c = 0;
      if (mkdir(dest, 0777) != 0 && errno != EEXIST)
        return snprintf(err, n, "cannot create %s: %s", dest, strerror(errno)), false;
    }
    if (!atomic_write(dest, s->f[i].text, s->f[i].len, err, n)) return false;
    if (i == 0) *space_rel = rel;
  }
  return true;
}

/* ---- derived.sqn ---- */

/* `{ widths W1 W2 ... }`, one per stage, where the space chooses widths: a stage's chosen width, or its fixed
   channels (the cout of its superblocks). */
static void write_widths(FILE *f, const Search *s, const Arch *c) {
  const Plan *p = s->p;
  bool any = false;
  for (int i = 0; i < p->nsb; i++) any = any || p->sb[i].is_width;
  if (!any) return;
  fprintf(f, " {\n  widths");
  for (int i = 0; i < search_encoder_superblocks(s); i++) {
    const PlanSuperblock *sb = &p->sb[i];
    if (i > 0 && sb->stage == p->sb[i - 1].stage) continue; /* a stage's first superblock speaks for it */
    fprintf(f, " %d", sb->width_out >= 0 ? p->sb[sb->width_out].cand[c->choice[sb->width_out]].width : sb->cout);
  }
  fprintf(f, "\n}");
}

bool derive_write_sqn(const Search *s, const Arch *c, const DeriveOptions *o, char *err, size_t n) {
  char name[256];
  const char *rel = NULL;
  if (!o->space_file) return snprintf(err, n, "the plan does not name the .sqn file of its space"), false;
  Sources src = {0};
  bool ok = collect_sources(&src, o->space_file, err, n) && copy_sources(&src, o->out_dir, &rel, err, n);
  AtomicFile af;
  FILE *f = ok ? open_in(&af, o->out_dir, "derived.sqn", err, n) : NULL;
  if (!f) return free_sources(&src), false;
  network_name(s->p->name, name, sizeof name);
  fprintf(f, "// derived.sqn - the network sqnrun --search derived from space `%s`: val mIoU %.4f (supernet\n"
             "// weights, %d val images), %.3f GMACs at the space's input size",
          s->p->name, c->miou, o->val_limit, c->gmacs);
  if (c->ms >= 0) fprintf(f, ", %.3f ms predicted by the latency table", c->ms);
  fprintf(f, ".\n// Compile with `sqnc derived.sqn -o derived.plan`; train with `sqnrun derived.plan --train`.\n");
  fprintf(f, "// space/ holds a copy of the space's source (and what it imports), so this folder compiles wherever it is.\n");
  fprintf(f, "// Weights inherited from the search: `sqnrun derived.plan --train --weights last.safetensors` (the\n"
             "// supernet checkpoint next to this file: each superblock takes the tensors of the candidate chosen here).\n");
  fprintf(f, "import \"space/%s\"\n\nnetwork %s = %s [\n", rel, name, s->p->name);
  free_sources(&src);
  for (int i = 0; i < s->nsb; i++) {
    const PlanCandidate *k = &s->p->sb[i].cand[c->choice[i]];
    int pad = (int)(32 - strlen(k->name) > 0 ? 32 - strlen(k->name) : 1);
    const PlanSuperblock *sb = &s->p->sb[i];
    if (sb->is_width) continue; /* in `widths` below */
    if (sb->is_decoder || sb->is_stem || sb->is_head)
      fprintf(f, "  %s,%*s// the %s: %s\n", k->name, pad, "", sb->is_stem ? "stem" : sb->is_head ? "head" : "decoder",
              k->display ? k->display : k->name);
    else fprintf(f, "  %s,%*s// superblock %d: %s\n", k->name, pad, "", i, k->display ? k->display : k->name);
  }
  fprintf(f, "]");
  write_widths(f, s, c);
  fprintf(f, "\n");
  return atomic_close(&af, true, err, n);
}
