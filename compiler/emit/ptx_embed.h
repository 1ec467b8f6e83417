/* ptx_embed.h - the GPU kernels of a compiled graph: which variants it needs, embedded per target in the
   plan (sqnc --target) or written one file per kernel (sqnc --emit-ptx DIR). Needs the LLVM kernel
   generator (built only where LLVM is found). */
#ifndef SQN_PTX_EMBED_H
#define SQN_PTX_EMBED_H
#include <stdbool.h>
#include <stddef.h>
#include "ir.h"
#include "kernel_abi.h"

#define PTX_MAX_TARGETS 8

/* The kernel library plus the graph's depthwise variants (malloc'd into *out); count, or -1. */
int ptx_collect_specs(const IrGraph *g, KernelSpec **out);

/* True when every target of the comma-separated list is one PTX can be emitted for, none twice. */
bool ptx_check_targets(const char *targets, char *err, size_t errlen);

/* Emits the graph's kernels for each target of the comma-separated list (e.g. "sm_72,sm_75") into g->ptx. */
bool ptx_embed(IrGraph *g, const char *targets, char *err, size_t errlen);

/* Writes DIR/<target>.ptx (the module --target embeds) and DIR/<target>/<kernel>.ptx for each kernel and
   target; the number of files, or -1. */
int ptx_write_dir(const IrGraph *g, const char *targets, const char *dir, char *err, size_t errlen);
#endif
