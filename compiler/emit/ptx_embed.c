/* ptx_embed.c - what `sqnc --target` and `sqnc --emit-ptx` do: collect the GPU kernel variants a graph
   needs (the fixed library of kernel_abi.h plus one depthwise-convolution variant per geometry and
   epilogue found in the graph), have the generator (kgen.h) emit them as PTX per target, and embed the
   modules in the plan or write one .ptx file per kernel for people and tools to read. */
#include "ptx_embed.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "kgen.h"
#include "atomic_file.h"

static bool is_depthwise(const IrGraph *g, const IrNode *n) {
  if (n->kind != OP_CONV || n->groups <= 1 || n->ninputs < 1) return false;
  return n->groups == n->out.c && n->groups == g->nodes[n->inputs[0]].out.c;
}

static bool have_spec(const KernelSpec *v, int n, const KernelSpec *k) {
  for (int i = 0; i < n; i++)
    if (kernel_spec_equal(&v[i], k)) return true;
  return false;
}

int ptx_collect_specs(const IrGraph *g, KernelSpec **out) {
  int nlib = kernel_library_specs(NULL, 0), cap = nlib + 3 * g->nnodes, n;
  KernelSpec *v = malloc(sizeof *v * (size_t)cap);
  if (!v) return *out = NULL, -1;
  n = kernel_library_specs(v, cap);
  for (int i = 0; i < g->nnodes; i++) {
    const IrNode *c = &g->nodes[i];
    if (!is_depthwise(g, c)) continue;
    for (int act = KACT_NONE; act <= KACT_RELU6; act++) {
      KernelSpec k = {.family = KFAM_DWCONV, .act = act, .kh = c->kh, .kw = c->kw, .sh = c->sh, .sw = c->sw,
                      .dh = c->dh, .dw = c->dw};
      if (!have_spec(v, n, &k)) v[n++] = k;
    }
  }
  *out = v;
  return n;
}

/* Splits "sm_72,sm_75" into at most `cap` names (each checked by kgen_target_cpu); count or -1. */
static int split_targets(const char *csv, char names[][16], int cap, char *err, size_t errlen) {
  int n = 0;
  for (const char *s = csv; *s;) {
    size_t len = strcspn(s, ",");
    if (len == 0 || len >= 16) return snprintf(err, errlen, "bad target list '%s'", csv), -1;
    if (n == cap) return snprintf(err, errlen, "too many targets (at most %d)", cap), -1;
    memcpy(names[n], s, len);
    names[n][len] = 0;
    for (int j = 0; j < n; j++)
      if (!strcmp(names[j], names[n])) return snprintf(err, errlen, "target %s given twice", names[n]), -1;
    const char *cpu;
    if (!kgen_target_cpu(names[n], &cpu, err, errlen)) return -1;
    n++;
    s += len + (s[len] == ',');
  }
  if (n == 0) snprintf(err, errlen, "empty target list");
  return n ? n : -1;
}

bool ptx_check_targets(const char *targets, char *err, size_t errlen) {
  char names[PTX_MAX_TARGETS][16];
  return split_targets(targets, names, PTX_MAX_TARGETS, err, errlen) > 0;
}

bool ptx_embed(IrGraph *g, const char *targets, char *err, size_t errlen) {
  char names[PTX_MAX_TARGETS][16];
  int nt = split_targets(targets, names, PTX_MAX_TARGETS, err, errlen);
  if (nt < 0) return false;
  KernelSpec *specs;
  int ns = ptx_collect_specs(g, &specs);
  if (ns < 0) return snprintf(err, errlen, "out of memory"), false;
  g->ptx = arena_alloc(g->arena, sizeof *g->ptx * (size_t)nt);
  bool ok = true;
  for (int t = 0; ok && t < nt; t++) {
    const char *cpu;
    kgen_target_cpu(names[t], &cpu, err, errlen);
    char *text = kgen_emit_ptx(specs, ns, names[t], err, errlen);
    if (!(ok = text != NULL)) break;
    g->ptx[t] = (IrPtx){arena_strdup(g->arena, names[t]), arena_strdup(g->arena, cpu), arena_strdup(g->arena, text)};
    g->nptx = t + 1;
    free(text);
  }
  free(specs);
  return ok;
}

static bool make_dir(const char *path, char *err, size_t errlen) {
  if (mkdir(path, 0777) == 0 || errno == EEXIST) return true;
  snprintf(err, errlen, "cannot create folder %s: %s", path, strerror(errno));
  return false;
}

static bool write_text(const char *path, const char *text, char *err, size_t errlen) {
  return atomic_write(path, text, strlen(text), err, errlen);
}

/* DIR/<target>.ptx: the whole module (what --target embeds), then DIR/<target>/<kernel>.ptx for every
   kernel: each kernel alone in its module. */
int ptx_write_dir(const IrGraph *g, const char *targets, const char *dir, char *err, size_t errlen) {
  char names[PTX_MAX_TARGETS][16], path[4096], kname[SQN_KERNEL_NAME_MAX];
  int nt = split_targets(targets, names, PTX_MAX_TARGETS, err, errlen), written = 0;
  if (nt < 0 || !make_dir(dir, err, errlen)) return -1;
  KernelSpec *specs;
  int ns = ptx_collect_specs(g, &specs);
  if (ns < 0) return snprintf(err, errlen, "out of memory"), -1;
  for (int t = 0; written >= 0 && t < nt; t++) {
    char *module = kgen_emit_ptx(specs, ns, names[t], err, errlen);
    snprintf(path, sizeof path, "%s/%s.ptx", dir, names[t]);
    written = module && write_text(path, module, err, errlen) ? written + 1 : -1;
    free(module);
    snprintf(path, sizeof path, "%s/%s", dir, names[t]);
    if (written >= 0 && !make_dir(path, err, errlen)) written = -1;
    for (int k = 0; written >= 0 && k < ns; k++) {
      char *text = kgen_emit_ptx(&specs[k], 1, names[t], err, errlen);
      kernel_spec_name(&specs[k], kname, sizeof kname);
      snprintf(path, sizeof path, "%s/%s/%s.ptx", dir, names[t], kname);
      written = text && write_text(path, text, err, errlen) ? written + 1 : -1;
      free(text);
    }
  }
  free(specs);
  return written;
}
