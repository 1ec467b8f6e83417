/* prune.h - dead-code elimination over the graph IR. */
#ifndef SQN_PRUNE_H
#define SQN_PRUNE_H
#include "ir.h"

/* Removes nodes that do not reach g->output (ids are renumbered); warns about unused values.
   Returns the number of nodes removed. */
int ir_prune_dead(IrGraph *g, Diag *d);
#endif
