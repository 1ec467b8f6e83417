/* fuse.h - the fusion pass: groups graph nodes into the fused kernels that backends implement
   (DESIGN principle 3). Fills IrGraph.kernels / nkernels and every IrNode.kernel. */
#ifndef SQN_FUSE_H
#define SQN_FUSE_H
#include <stdbool.h>
#include <stddef.h>
#include "ir.h"

/* Groups every node of g (OP_INPUT and OP_OUTPUT included, each as its own KERNEL_SINGLE) into
   exactly one kernel; kernels are listed in a valid execution order. `inference` selects whether
   BN epilogues fold into the preceding convolution (IrKernel.folds_bn); for training programs BN
   is still fused as an epilogue but kept as a separate normalisation. May be called again: the
   previous grouping is discarded (its arena memory stays in the arena). */
void fuse_graph(IrGraph *g, bool inference);

/* "single", "conv", "inverted_residual", "elementwise" ("?" when out of range). */
const char *fuse_kernel_kind_name(KernelKind k);

/* Verifies the fusion invariants: every node in exactly one kernel and node.kernel agrees, each
   kernel's output is its last member, members consume only earlier members or outputs of earlier
   kernels, values internal to a kernel are consumed only inside it, and structural outputs
   (graph, stem, encoder, superblock and search-space candidate outputs) are kernel outputs.
   Returns 0 when all hold, else 1 with a message in err (err may be NULL). */
int fuse_check(const IrGraph *g, char *err, size_t n);

#endif
