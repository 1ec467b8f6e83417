/* autodiff.h - reverse-mode differentiation at compile time: derives the backward program of a
   graph (which node's backward runs when, which inputs receive gradients, which gradients are first
   written and which accumulate), the activations the backward reads, the buffer plan of the
   training program (forward activations kept for backward plus gradients, with reuse), and the
   update program (which parameters the optimizers step). */
#ifndef SQN_AUTODIFF_H
#define SQN_AUTODIFF_H
#include "ir.h"

/* Fills g->grad: the backward program in execution order and the training buffer plan. */
void autodiff(IrGraph *g);
/* Which forward values the backward of node n reads: bit k = input k, bit 31 = its own output. */
uint32_t autodiff_reads(const IrGraph *g, const IrNode *n);
/* 0 when no two values live at once share a training slot; else 1 with a message. */
int autodiff_check(const IrGraph *g, char *err, size_t n);
#endif
