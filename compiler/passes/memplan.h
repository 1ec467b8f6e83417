/* memplan.h - buffer planning for the inference program: which activations share memory. */
#ifndef SQN_MEMPLAN_H
#define SQN_MEMPLAN_H
#include "ir.h"

/* Assigns every node a slot: nodes whose lifetimes (definition .. last use) do not overlap may share
   one, and an elementwise op whose first input dies with it computes in place in that input's slot.
   Slots are sized at run time (the largest member at the actual input size), so the plan holds for
   every input size. Sets g->nslots, g->slot_bytes and g->naive_bytes (at the compiled size). */
void memplan(IrGraph *g);
/* 0 when no two values that are live at once share a slot; else 1 with a message. */
int memplan_check(const IrGraph *g, char *err, size_t n);
#endif
