/* bench_profile.c - `sqnrun --bench --profile-ops`: where the time goes, per op kind and per node
   (the slowest nodes with their shapes, kernel and achieved GMAC/s). A fused group (the CPU's whole inverted
   residuals) is timed at its head node: it is shown as one "fused_ir" row with the group's MACs and output shape. */
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

/* A node's place in a fused group: 1 its head, 2 another member, 0 none. */
static int group_role(const Plan *p, const int *groups, int i) {
  if (!groups || groups[i] < 0) return 0;
  return p->kernels[groups[i]].nodes[0] == i ? 1 : 2;
}

static double group_macs(const Plan *p, const Shape *sh, int g) {
  double m = 0;
  for (int j = 0; j < p->kernels[g].nnodes; j++) m += node_macs(p, sh, p->kernels[g].nodes[j]);
  return m;
}

static void print_kinds(const Plan *p, const int *groups, const double *times, double total, int runs) {
  double per_kind[OP__COUNT + 1] = {0};
  int count[OP__COUNT + 1] = {0};
  for (int i = 0; i < p->nnodes; i++) {
    const int role = group_role(p, groups, i), k = role ? OP__COUNT : (int)p->nodes[i].kind;
    if (role != 2) per_kind[k] += times[i], count[k]++;
  }
  printf("\nper op kind (mean per run)\n");
  for (int k = 0; k <= OP__COUNT; k++)
    if (count[k])
      printf("  %-9s %4d ops %9.2f ms %5.1f%%\n", k == OP__COUNT ? "fused_ir" : op_name((OpKind)k), count[k],
             per_kind[k] / runs * 1e3, 100 * per_kind[k] / total);
}

void bench_print_profile(const Plan *p, const Shape *sh, const int *groups, const double *times, int runs, int top) {
  double total = 0;
  NodeTime *v = malloc(sizeof *v * (size_t)p->nnodes);
  for (int i = 0; i < p->nnodes; i++) total += times[i], v[i] = (NodeTime){i, times[i]};
  if (total <= 0 || runs < 1) {
    free(v);
    return;
  }
  print_kinds(p, groups, times, total, runs);
  qsort(v, (size_t)p->nnodes, sizeof *v, by_time_desc);
  printf("\nslowest %d nodes (mean per run)\n", top);
  for (int k = 0; k < top && k < p->nnodes; k++) {
    const int i = v[k].node, head = group_role(p, groups, i) == 1;
    const PlanNode *nd = &p->nodes[i];
    const int o = head ? p->kernels[groups[i]].output : i, kn = head ? p->kernels[groups[i]].nodes[3] : i;
    const PlanNode *kd = &p->nodes[kn]; /* the depthwise conv of a fused inverted residual */
    double ms = v[k].t / runs * 1e3, macs = head ? group_macs(p, sh, groups[i]) : node_macs(p, sh, i);
    printf("  %7.2f ms %5.1f%%  %-8s %-36s %4dx%-4dx%-5d", ms, 100 * v[k].t / total, head ? "fused_ir" : op_name(nd->kind),
           nd->name ? nd->name : "", sh[o].c, sh[o].h, sh[o].w);
    if (macs > 0) printf("  k%dx%d s%d g%d  %6.1f GMAC/s", kd->kh, kd->kw, kd->sh, kd->groups, macs / (ms * 1e-3) / 1e9);
    printf("\n");
  }
  free(v);
}
