/* checkpoint.c - writing and reading training checkpoints (checkpoint.h). */
#include "checkpoint.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "atomic_file.h"
#include "json_min.h"
#include "safetensors.h"

#define FORMAT_TAG "sqn-checkpoint-1"

static void add_pair(JsonOut *o, const char *key, const char *value, bool first) {
  if (!first) json_raw(o, ",", 1);
  json_str(o, key, strlen(key));
  json_raw(o, ":", 1);
  json_str(o, value, strlen(value));
}

/* safetensors metadata values are strings: every field as text. */
static char *metadata_json(const RunState *s) {
  char v[10][64];
  snprintf(v[0], 64, "%d", s->epoch);
  snprintf(v[1], 64, "%ld", s->step);
  snprintf(v[2], 64, "%.17g", s->lr);
  snprintf(v[3], 64, "%" PRIu64, s->seed);
  snprintf(v[4], 64, "%.17g", s->best_miou);
  snprintf(v[5], 64, "%d", s->best_epoch);
  snprintf(v[6], 64, "%.17g", s->last_loss);
  snprintf(v[7], 64, "%ld", s->adam_steps);
  snprintf(v[8], 64, "%.17g", s->budget_lambda);
  snprintf(v[9], 64, "%.17g", s->skip_mu);
  static const char *keys[10] = {"epoch",     "step",       "lr",         "seed",          "best_miou",
                                 "best_epoch", "last_loss", "adam_steps", "budget_lambda", "skip_mu"};
  JsonOut o = {0};
  json_raw(&o, "{", 1);
  add_pair(&o, "format", FORMAT_TAG, true);
  for (int i = 0; i < 10; i++) add_pair(&o, keys[i], v[i], false);
  add_pair(&o, "pruned", s->pruned, false);
  json_raw(&o, "}", 2); /* with the NUL */
  if (o.oom) json_out_free(&o);
  return o.p;
}

char *run_state_json(const RunState *s) {
  char *buf = malloc(512);
  if (buf)
    snprintf(buf, 512,
             "{\"epoch\": %d, \"step\": %ld, \"lr\": %.9g, \"seed\": %" PRIu64 ", \"best_miou\": %.6f, "
             "\"best_epoch\": %d, \"last_loss\": %.6f}\n",
             s->epoch, s->step, s->lr, s->seed, s->best_miou, s->best_epoch, s->last_loss);
  return buf;
}

static bool write_json_copy(const char *path, const RunState *s, char *err, size_t n) {
  char jpath[4096];
  snprintf(jpath, sizeof jpath, "%s.json", path);
  char *text = run_state_json(s);
  bool ok = text ? atomic_write(jpath, text, strlen(text), err, n) : (snprintf(err, n, "out of memory"), false);
  free(text);
  return ok;
}

static bool append_all(TensorSet *to, const TensorSet *from) {
  for (int i = 0; from && i < from->n; i++) {
    const NamedTensor *t = &from->t[i];
    if (!tensor_set_add(to, t->name, t->dtype, t->ndim, t->dims, t->data)) return false;
  }
  return true;
}

bool checkpoint_save(const char *path, const TensorSet *weights, const TensorSet *optimizer, const RunState *s,
                     char *err, size_t n) {
  TensorSet *all = tensor_set_new();
  char *meta = metadata_json(s);
  bool ok = all && meta && append_all(all, weights) && append_all(all, optimizer);
  if (!ok) snprintf(err, n, "out of memory writing %s", path);
  ok = ok && safetensors_write(all, path, meta, err, n) && write_json_copy(path, s, err, n);
  tensor_set_free(all);
  free(meta);
  return ok;
}

/* Pulls the string values of the metadata object into the run state. */
static bool parse_metadata(const char *json, RunState *s, char *err, size_t n) {
  JsonIn j;
  json_in_init(&j, json, strlen(json), err, n);
  bool first = true, tagged = false;
  char *key = NULL, *val = NULL;
  size_t kl, vl;
  if (!json_eat(&j, '{')) return false;
  while (json_member(&j, &first, &key, &kl) && key) {
    if (!json_string(&j, &val, &vl)) break;
    if (!strcmp(key, "format")) tagged = !strcmp(val, FORMAT_TAG);
    else if (!strcmp(key, "epoch")) s->epoch = atoi(val);
    else if (!strcmp(key, "step")) s->step = atol(val);
    else if (!strcmp(key, "lr")) s->lr = strtod(val, NULL);
    else if (!strcmp(key, "seed")) s->seed = strtoull(val, NULL, 10);
    else if (!strcmp(key, "best_miou")) s->best_miou = strtod(val, NULL);
    else if (!strcmp(key, "best_epoch")) s->best_epoch = atoi(val);
    else if (!strcmp(key, "last_loss")) s->last_loss = strtod(val, NULL);
    else if (!strcmp(key, "adam_steps")) s->adam_steps = atol(val);
    else if (!strcmp(key, "budget_lambda")) s->budget_lambda = strtod(val, NULL);
    else if (!strcmp(key, "skip_mu")) s->skip_mu = strtod(val, NULL);
    else if (!strcmp(key, "pruned")) snprintf(s->pruned, sizeof s->pruned, "%s", val);
    free(key), free(val);
    key = val = NULL;
  }
  free(key), free(val);
  if (j.failed) return false;
  if (!tagged) return snprintf(err, n, "not an sqn training checkpoint (no \"format\": \"%s\" metadata)", FORMAT_TAG), false;
  return true;
}

bool checkpoint_load(const char *path, TensorSet **weights, TensorSet **optimizer, RunState *s, char *err, size_t n) {
  char *meta = NULL;
  TensorSet *all = safetensors_read_ex(path, &meta, err, n);
  *weights = *optimizer = NULL;
  if (!all) return false;
  memset(s, 0, sizeof *s);
  bool ok = meta ? parse_metadata(meta, s, err, n)
                 : (snprintf(err, n, "not an sqn training checkpoint (no run state in its metadata)"), false);
  TensorSet *w = tensor_set_new(), *o = tensor_set_new();
  for (int i = 0; ok && i < all->n; i++) {
    const NamedTensor *t = &all->t[i];
    bool state = !strncmp(t->name, "momentum.", 9) || !strncmp(t->name, "adam_m.", 7) || !strncmp(t->name, "adam_v.", 7);
    TensorSet *to = state ? o : w;
    if (!tensor_set_add(to, t->name, t->dtype, t->ndim, t->dims, t->data)) ok = snprintf(err, n, "out of memory") < 0;
  }
  tensor_set_free(all);
  free(meta);
  if (!ok) return tensor_set_free(w), tensor_set_free(o), false;
  *weights = w, *optimizer = o;
  return true;
}
