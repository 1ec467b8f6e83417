/* stats.c - `sqnc --stats`: per-layer table (name, op, shapes, kernel, MACs, params), superblock
   candidate costs for spaces, and totals; the same facts as one JSON object with --json. */
#include "stats.h"
#include <inttypes.h>

static bool has_cost(const IrNode *n) { return n->kind == OP_CONV || n->kind == OP_BN; }

static void fmt_gmacs(char *buf, size_t n, int64_t macs) { snprintf(buf, n, "%.6f", (double)macs / 1e9); }

static void print_layer_row(const IrGraph *g, const IrNode *n, FILE *out) {
  Shape in = g->nodes[n->inputs[0]].out;
  char kern[32] = "";
  if (n->kind == OP_CONV)
    snprintf(kern, sizeof kern, "%dx%d/%d d%d g%d", n->kh, n->kw, n->sh, n->dh, n->groups);
  fprintf(out, "%-58s %-5s %4dx%-4dx%-5d %4dx%-4dx%-5d %-16s %14" PRId64 " %9" PRId64 "\n", n->name ? n->name : "",
          op_name(n->kind), in.c, in.h, in.w, n->out.c, n->out.h, n->out.w, kern, n->macs, n->params);
}

static void print_superblocks(const IrGraph *g, FILE *out) {
  fprintf(out, "\n%-4s %-5s %-10s %-6s %-3s %-34s %14s %9s\n", "sb", "stage", "cin->cout", "stride", "res",
          "candidate", "MACs", "params");
  for (int s = 0; s < g->nsb; s++) {
    const IrSuperblock *sb = &g->sb[s];
    for (int k = 0; k < sb->ncand; k++) {
      const IrCandidate *c = &sb->cand[k];
      char io[24];
      snprintf(io, sizeof io, "%d->%d", sb->cin, sb->cout);
      fprintf(out, "%-4d %-5d %-10s %-6d %-3s %-34s %14" PRId64 " %9" PRId64 "%s\n", s, sb->stage + 1, k ? "" : io,
              sb->stride, sb->residual ? "yes" : "no", c->name, c->macs, c->params,
              c->is_zero ? "  (zero)" : c->is_identity ? "  (identity)" : sb->is_width ? "  (width: the head and decoder's part)"
                                                                                    : "");
    }
  }
}

void stats_print_table(const IrGraph *g, const IrCostTotals *t, FILE *out) {
  fprintf(out, "%s %s, input %dx%dx%d, %d classes\n\n", g->is_space ? "space" : "network", g->name, g->input.c,
          g->input.h, g->input.w, g->classes);
  if (!g->is_space) {
    fprintf(out, "%-58s %-5s %-16s %-16s %-16s %14s %9s\n", "layer", "op", "in", "out", "kernel", "MACs", "params");
    for (int i = 0; i < g->nnodes; i++)
      if (has_cost(&g->nodes[i])) print_layer_row(g, &g->nodes[i], out);
  }
  if (g->nsb) print_superblocks(g, out);
  char a[32], b[32];
  fprintf(out, "\n");
  if (g->is_space) {
    fmt_gmacs(a, sizeof a, t->macs_min);
    fmt_gmacs(b, sizeof b, t->macs_max);
    fprintf(out, "superblocks: %d, architectures' MACs: %s .. %s G (%" PRId64 " .. %" PRId64 ")\n", g->nsb, a, b,
            t->macs_min, t->macs_max);
    fprintf(out, "architectures' params: %" PRId64 " .. %" PRId64 "\n", t->params_min, t->params_max);
    fprintf(out, "supernet params (all candidates): %" PRId64 " + %" PRId64 " architecture weights = %" PRId64 "\n",
            t->all_params, t->arch_params, t->all_params + t->arch_params);
  } else {
    fmt_gmacs(a, sizeof a, t->macs);
    fprintf(out, "total MACs: %" PRId64 " (%s G)\ntotal params: %" PRId64 "\n", t->macs, a, t->params);
  }
  if (g->nslots)
    fprintf(out, "activation memory (inference, batch 1): %.1f MiB in %d planned buffers (one buffer per op: %.1f MiB)\n",
            g->slot_bytes / 1048576.0, g->nslots, g->naive_bytes / 1048576.0);
  if (g->grad.nslots)
    fprintf(out, "activation memory (training, batch 1): %.1f MiB in %d planned buffers (most live at once: %.1f MiB)\n",
            g->grad.slot_bytes / 1048576.0, g->grad.nslots, g->grad.peak_bytes / 1048576.0);
}

void json_string(FILE *out, const char *s) {
  fputc('"', out);
  for (; s && *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(out, "\\%c", c);
    else if (c < 0x20) fprintf(out, "\\u%04x", c);
    else fputc(c, out);
  }
  fputc('"', out);
}

static void json_layers(const IrGraph *g, FILE *out) {
  fprintf(out, "  \"layers\": [");
  bool first = true;
  for (int i = 0; i < g->nnodes; i++) {
    const IrNode *n = &g->nodes[i];
    if (!has_cost(n)) continue;
    Shape in = g->nodes[n->inputs[0]].out;
    fprintf(out, "%s\n    {\"name\": ", first ? "" : ",");
    json_string(out, n->name);
    fprintf(out, ", \"op\": \"%s\", \"in\": [%d, %d, %d], \"out\": [%d, %d, %d], \"kernel\": [%d, %d], "
                 "\"stride\": [%d, %d], \"dilation\": [%d, %d], \"groups\": %d, \"superblock\": %d, "
                 "\"candidate\": %d, \"macs\": %" PRId64 ", \"params\": %" PRId64 "}",
            op_name(n->kind), in.c, in.h, in.w, n->out.c, n->out.h, n->out.w, n->kh, n->kw, n->sh, n->sw, n->dh,
            n->dw, n->groups, n->superblock, n->candidate, n->macs, n->params);
    first = false;
  }
  fprintf(out, "\n  ],\n");
}

static void json_superblocks(const IrGraph *g, FILE *out) {
  fprintf(out, "  \"superblocks\": [");
  for (int s = 0; s < g->nsb; s++) {
    const IrSuperblock *sb = &g->sb[s];
    fprintf(out, "%s\n    {\"index\": %d, \"stage\": %d, \"cin\": %d, \"cout\": %d, \"stride\": %d, \"residual\": %s, "
                 "\"candidates\": [", s ? "," : "", s, sb->stage, sb->cin, sb->cout, sb->stride,
            sb->residual ? "true" : "false");
    for (int k = 0; k < sb->ncand; k++) {
      fprintf(out, "%s{\"name\": ", k ? ", " : "");
      json_string(out, sb->cand[k].name);
      fprintf(out, ", \"block\": ");
      json_string(out, sb->cand[k].display);
      fprintf(out, ", \"macs\": %" PRId64 ", \"params\": %" PRId64 ", \"zero\": %s}", sb->cand[k].macs,
              sb->cand[k].params, sb->cand[k].is_zero ? "true" : "false");
    }
    fprintf(out, "]}");
  }
  fprintf(out, "\n  ],\n");
}

void stats_print_json(const IrGraph *g, const IrCostTotals *t, FILE *out) {
  fprintf(out, "{\n  \"name\": ");
  json_string(out, g->name);
  fprintf(out, ",\n  \"kind\": \"%s\",\n  \"input\": [%d, %d, %d],\n  \"classes\": %d,\n",
          g->is_space ? "space" : "network", g->input.c, g->input.h, g->input.w, g->classes);
  json_layers(g, out);
  json_superblocks(g, out);
  fprintf(out, "  \"total_macs\": %" PRId64 ",\n  \"total_params\": %" PRId64 ",\n", t->macs,
          g->is_space ? t->all_params : t->params);
  fprintf(out, "  \"macs_min\": %" PRId64 ",\n  \"macs_max\": %" PRId64 ",\n  \"params_min\": %" PRId64
               ",\n  \"params_max\": %" PRId64 ",\n",
          t->macs_min, t->macs_max, t->params_min, t->params_max);
  fprintf(out, "  \"arch_params\": %" PRId64 ",\n", t->arch_params);
  fprintf(out, "  \"activation_buffers\": %d,\n  \"activation_bytes\": %" PRId64 ",\n  \"activation_bytes_unplanned\": %" PRId64 ",\n",
          g->nslots, g->slot_bytes, g->naive_bytes);
  fprintf(out, "  \"training_buffers\": %d,\n  \"training_bytes\": %" PRId64 ",\n  \"training_bytes_lower_bound\": %" PRId64 ",\n",
          g->grad.nslots, g->grad.slot_bytes, g->grad.peak_bytes);
  fprintf(out, "  \"fixed_macs\": %" PRId64 ",\n  \"fixed_params\": %" PRId64 "\n}\n", t->fixed_macs, t->fixed_params);
}
