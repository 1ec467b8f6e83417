/* bench_profile.c - `sqnrun --bench --profile-ops`: where the time goes, per op kind and per node
   (the slowest nodes with their shapes, kernel and achieved GMAC/s). */
#include <stdio.h>
#include <stdlib.h>
#include "bench_profile.h"

typedef struct NodeTime {
  int node;
  double t;
} NodeTime;

static int by_time_desc(const void *a, const void *b) {
  double x = ((const NodeTime *)a)->t, y = ((const NodeTime *)b)->t;
  return (x < y) - (x > y);
}

static double node_macs(const Plan *p, const Shape *sh, int i) {
  const PlanNode *nd = &p->nodes[i];
  if (nd->kind != OP_CONV) return 0;
  return (double)sh[i].c * sh[i].h * sh[i].w * nd->kh * nd->kw * (sh[nd->inputs[0]].c / nd->groups);
}

static void print_kinds(const Plan *p, const double *times, double total, int runs) {
  double per_kind[OP__COUNT] = {0};
  int count[OP__COUNT] = {0};
  for (int i = 0; i < p->nnodes; i++) per_kind[p->nodes[i].kind] += times[i], count[p->nodes[i].kind]++;
  printf("\nper op kind (mean per run)\n");
  for (int k = 0; k < OP__COUNT; k++)
    if (count[k])
      printf("  %-9s %4d ops %9.2f ms %5.1f%%\n", op_name((OpKind)k), count[k], per_kind[k] / runs * 1e3,
             100 * per_kind[k] / total);
}

void bench_print_profile(const Plan *p, const Shape *sh, const double *times, int runs, int top) {
  double total = 0;
  NodeTime *v = malloc(sizeof *v * (size_t)p->nnodes);
  for (int i = 0; i < p->nnodes; i++) total += times[i], v[i] = (NodeTime){i, times[i]};
  if (total <= 0 || runs < 1) {
    free(v);
    return;
  }
  print_kinds(p, times, total, runs);
  qsort(v, (size_t)p->nnodes, sizeof *v, by_time_desc);
  printf("\nslowest %d nodes (mean per run)\n", top);
  for (int k = 0; k < top && k < p->nnodes; k++) {
    const PlanNode *nd = &p->nodes[v[k].node];
    double ms = v[k].t / runs * 1e3, macs = node_macs(p, sh, v[k].node);
    printf("  %7.2f ms %5.1f%%  %-8s %-36s %4dx%-4dx%-5d", ms, 100 * v[k].t / total, op_name(nd->kind),
           nd->name ? nd->name : "", sh[v[k].node].c, sh[v[k].node].h, sh[v[k].node].w);
    if (macs > 0) printf("  k%dx%d s%d g%d  %6.1f GMAC/s", nd->kh, nd->kw, nd->sh, nd->groups, macs / (ms * 1e-3) / 1e9);
    printf("\n");
  }
  free(v);
}
