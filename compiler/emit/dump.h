/* dump.h - human-readable views of the graph IR: a text listing and a graphviz digraph. */
#ifndef SQN_DUMP_H
#define SQN_DUMP_H
#include <stdio.h>
#include "ir.h"

/* One line per node, e.g.
     %12 = conv(%11) k=3x3 s=2 p=1 d=1 g=16 -> 16x512x1024  name=encoder.residuals.0.op.3  sb=0 cand=2
           macs=75497472  params=144  [k7]
   (on one line; costs shown when nonzero, [kN] once fused), then the superblock table with each
   candidate, then, if the graph is fused, one line per kernel:
     k7 inverted_residual nodes %10..%17 sb=0 cand=2 folds_bn */
void dump_ir(const IrGraph *g, FILE *out);

/* A graphviz digraph: one box per node labelled with id, op, key attributes and shape; a cluster
   per superblock with a nested cluster per candidate; nodes filled with a colour per kernel kind
   (alternating shades between neighbouring kernels) and edges inside a kernel drawn bold. */
void dump_dot(const IrGraph *g, FILE *out);

#endif
