/* derive_write.c - the tables and the network file that deriving writes (derive.h): pareto.csv and
   pareto.json (every scored architecture: mIoU, GMACs, latency, on the front, chosen, its candidates)
   and derived.sqn, a `network` over the searched space that sqnc compiles into a fixed plan. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

bool derive_write_tables(const Search *s, const Arch *a, int na, const DeriveOptions *o, char *err, size_t n) {
  AtomicFile af;
  FILE *f = open_in(&af, o->out_dir, "pareto.csv", err, n);
  if (!f) return false;
  fprintf(f, "index,miou,gmacs,latency_ms,pareto,chosen,most_probable,candidates\n");
  for (int i = 0; i < na; i++) {
    fprintf(f, "%d,%.6f,%.6f,%.4f,%d,%d,%d,", i, a[i].miou, a[i].gmacs, a[i].ms, a[i].pareto, a[i].chosen,
            a[i].most_probable);
    write_choice(f, s, a[i].choice, " ");
    fputc('\n', f);
  }
  if (!atomic_close(&af, true, err, n)) return false;
  if (!(f = open_in(&af, o->out_dir, "pareto.json", err, n))) return false;
  fprintf(f, "{\"space\": \"%s\", \"val_images\": %d, \"architectures\": [\n", s->p->name, o->val_limit);
  for (int i = 0; i < na; i++) {
    fprintf(f, "  {\"miou\": %.6f, \"gmacs\": %.6f, \"latency_ms\": %.4f, \"pareto\": %s, \"chosen\": %s, "
               "\"most_probable\": %s, \"candidates\": [\"", a[i].miou, a[i].gmacs, a[i].ms,
            a[i].pareto ? "true" : "false", a[i].chosen ? "true" : "false", a[i].most_probable ? "true" : "false");
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

bool derive_write_sqn(const Search *s, const Arch *c, const DeriveOptions *o, char *err, size_t n) {
  char name[256], abs[PATH_MAX];
  if (!o->space_file) return snprintf(err, n, "the plan does not name the .sqn file of its space"), false;
  const char *imp = realpath(o->space_file, abs) ? abs : o->space_file;
  AtomicFile af;
  FILE *f = open_in(&af, o->out_dir, "derived.sqn", err, n);
  if (!f) return false;
  network_name(s->p->name, name, sizeof name);
  fprintf(f, "// derived.sqn - the network sqnrun --search derived from space `%s`: val mIoU %.4f (supernet\n"
             "// weights, %d val images), %.3f GMACs at the space's input size",
          s->p->name, c->miou, o->val_limit, c->gmacs);
  if (c->ms >= 0) fprintf(f, ", %.3f ms predicted by the latency table", c->ms);
  fprintf(f, ".\n// Compile with `sqnc derived.sqn -o derived.plan`; train with `sqnrun derived.plan --train`.\n");
  fprintf(f, "import \"%s\"\n\nnetwork %s = %s [\n", imp, name, s->p->name);
  for (int i = 0; i < s->nsb; i++) {
    const PlanCandidate *k = &s->p->sb[i].cand[c->choice[i]];
    fprintf(f, "  %s,%*s// superblock %d: %s\n", k->name, (int)(32 - strlen(k->name) > 0 ? 32 - strlen(k->name) : 1), "",
            i, k->display ? k->display : k->name);
  }
  fprintf(f, "]\n");
  return atomic_close(&af, true, err, n);
}
