/* stats.h - `sqnc --stats`: per-layer costs and totals as a table or JSON. */
#ifndef SQN_STATS_H
#define SQN_STATS_H
#include <stdio.h>
#include "ir.h"

void stats_print_table(const IrGraph *g, const IrCostTotals *t, FILE *out);
void stats_print_json(const IrGraph *g, const IrCostTotals *t, FILE *out);
void json_string(FILE *out, const char *s);
#endif
