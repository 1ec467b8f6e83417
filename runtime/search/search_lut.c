/* search_lut.c - reads a latency lookup table written by `sqnrun --profile` (mode_profile.c) into a
   CostTable (search.h), checking that it was measured for this space: same superblocks, same
   candidates in the same order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json_min.h"
#include "search.h"
#include "tensor_set.h"

typedef struct LutCtx { const Plan *p; CostTable *c; char *err; size_t n; } LutCtx;

static bool read_candidates(LutCtx *x, JsonIn *j, int sb) {
  bool first = true, more;
  int k = 0;
  if (!json_eat(j, '[')) return false;
  while (json_element(j, &first, &more) && more) {
    bool f2 = true;
    char *key = NULL, *name = NULL;
    size_t kl, nl;
    double ms = -1;
    if (!json_eat(j, '{')) return false;
    while (json_member(j, &f2, &key, &kl) && key) {
      if (!strcmp(key, "name")) free(name), name = NULL; /* a repeated key: the last one counts */
      bool ok = !strcmp(key, "name") ? json_string(j, &name, &nl) : !strcmp(key, "ms") ? json_number(j, &ms) : json_skip(j);
      free(key), key = NULL;
      if (!ok) return free(name), false;
    }
    if (j->failed) return free(name), false;
    bool match = sb < x->p->nsb && k < x->p->sb[sb].ncand && name && !strcmp(name, x->p->sb[sb].cand[k].name);
    if (!match) {
      snprintf(x->err, x->n, "superblock %d candidate %d is '%s' in the table, '%s' in the plan: the table was measured "
                             "for another space (run sqnrun SPACE.plan --profile -o lut.json again)", sb, k, name ? name : "?",
               sb < x->p->nsb && k < x->p->sb[sb].ncand ? x->p->sb[sb].cand[k].name : "(none)");
      return free(name), false;
    }
    free(name);
    if (ms < 0) return snprintf(x->err, x->n, "superblock %d candidate %d has no \"ms\"", sb, k), false;
    x->c->cand[sb * x->c->maxc + k++] = ms;
  }
  if (!j->failed && k != x->p->sb[sb].ncand)
    return snprintf(x->err, x->n, "superblock %d has %d candidates in the table, %d in the plan", sb, k, x->p->sb[sb].ncand), false;
  return !j->failed;
}

static bool read_superblocks(LutCtx *x, JsonIn *j) {
  bool first = true, more;
  int sb = 0;
  if (!json_eat(j, '[')) return false;
  while (json_element(j, &first, &more) && more) {
    bool f2 = true;
    char *key = NULL;
    size_t kl;
    if (sb >= x->p->nsb) return snprintf(x->err, x->n, "the table has more superblocks than the plan's %d: it was measured for another space", x->p->nsb), false;
    if (!json_eat(j, '{')) return false;
    while (json_member(j, &f2, &key, &kl) && key) {
      bool ok = !strcmp(key, "candidates") ? read_candidates(x, j, sb) : json_skip(j);
      free(key), key = NULL;
      if (!ok) return false;
    }
    sb++;
  }
  if (!j->failed && sb != x->p->nsb)
    return snprintf(x->err, x->n, "the table has %d superblocks, the plan %d: it was measured for another space (run sqnrun SPACE.plan --profile -o lut.json again)", sb, x->p->nsb), false;
  return !j->failed;
}

bool cost_from_lut(const Plan *p, const char *path, CostTable *c, char *err, size_t n) {
  size_t len;
  char e2[512];
  unsigned char *text = tensor_file_read(path, &len, e2, sizeof e2);
  if (!text) return snprintf(err, n, "latency table %s: %s", path, e2), false;
  if (!cost_from_plan(p, PLAN_OBJ_MACS, c)) return free(text), snprintf(err, n, "out of memory"), false;
  c->unit = "ms", c->objective = PLAN_OBJ_LATENCY, c->fixed = -1;
  for (int i = 0; i < c->nsb * c->maxc; i++) c->cand[i] = 0;
  LutCtx x = {p, c, e2, sizeof e2};
  e2[0] = 0;
  JsonIn j;
  json_in_init(&j, (const char *)text, len, e2, sizeof e2);
  bool first = true, ok = json_eat(&j, '{');
  char *key = NULL;
  size_t kl;
  while (ok && json_member(&j, &first, &key, &kl) && key) {
    ok = !strcmp(key, "superblocks") ? read_superblocks(&x, &j) : !strcmp(key, "fixed_ms") ? json_number(&j, &c->fixed) : json_skip(&j);
    free(key), key = NULL;
  }
  ok = ok && !j.failed && json_end(&j);
  free(text);
  if (ok && c->fixed < 0) ok = snprintf(e2, sizeof e2, "no \"fixed_ms\"") < 0;
  if (!ok) return cost_free(c), snprintf(err, n, "latency table %s: %s", path, e2[0] ? e2 : "not a table written by --profile"), false;
  if (!cost_widths(c)) return cost_free(c), snprintf(err, n, "out of memory"), false;
  return true;
}
