/* plan_format.h - on-disk layout of a .plan file, shared by the writer (compiler/emit/plan_write.c)
   and the reader (plan/plan_read.c). docs/plan-format.md is the prose version of this file.
   All integers are little-endian and are written and read byte by byte; doubles are IEEE-754
   binary64 bit patterns stored as u64. Nothing here depends on host struct layout. */
#ifndef SQN_PLAN_FORMAT_H
#define SQN_PLAN_FORMAT_H

/* Header: 32 bytes at offset 0.
     0  u8[8] magic "SQNPLAN\0"
     8  u32   format version
    12  u32   flags (must be 0 in version 1)
    16  u32   section count
    20  u32   CRC-32 (zlib crc32) of bytes [0,20) followed by bytes [24, file size)
    24  u64   total file size in bytes                                                   */
#define SQN_PLAN_MAGIC "SQNPLAN\0"
#define SQN_PLAN_MAGIC_LEN 8
#define SQN_PLAN_VERSION 5u
#define SQN_PLAN_MIN_VERSION 2u /* version 1 had no training program: recompile */
/* Version 3 added twelve ops (silu .. affine, maxpool .. channel_shuffle, after output) and node fields
   (alpha, beta, pad_value, slice); a version 2 plan has none of them and reads as before.
   Version 4 added the search's budget and anti-collapse settings to SRCH (100-byte record) and is_decoder to
   SUPB (80-byte record; a decoder chosen by the search); a version 2 or 3 plan's 56-byte SRCH reads with
   absolute costs, no budget and no skip limit, its 76-byte SUPB with encoder superblocks only.
   Version 5 added width choices and stem and head choices: the op width, is_width/width_in/width_out/is_stem/is_head
   to SUPB (100-byte record), width,
   first_cost, cost_in and cost_out to CAND (56 bytes), and a third SUPB table of per-width costs; a version 2-4
   plan has none. */
#define SQN_PLAN_HEADER_SIZE 32u
#define SQN_PLAN_OFF_VERSION 8u
#define SQN_PLAN_OFF_FLAGS 12u
#define SQN_PLAN_OFF_NSECTIONS 16u
#define SQN_PLAN_OFF_CRC 20u
#define SQN_PLAN_OFF_FILESIZE 24u

/* Section table: right after the header, one 24-byte entry per section.
     0  u8[4] tag (e.g. "NODE")
     4  u32   reserved, 0
     8  u64   offset of the section's first byte from the start of the file
    16  u64   size of the section in bytes                                               */
#define SQN_PLAN_SECTION_ENTRY_SIZE 24u
#define SQN_PLAN_MAX_SECTIONS 64u
#define SQN_PLAN_SECTION_ALIGN 8u

/* Section tags. Sections may appear in any order; each tag at most once. A reader skips
   tags it does not know. KPTX (embedded GPU kernels) is optional: plans compiled without --target
   and plans from before it have none. */
#define SQN_TAG_STRS "STRS" /* string table */
#define SQN_TAG_META "META" /* graph-level facts and compile-time totals */
#define SQN_TAG_NODE "NODE" /* graph nodes in topological order */
#define SQN_TAG_PARM "PARM" /* parameter tensors */
#define SQN_TAG_SUPB "SUPB" /* superblocks and their candidates (the cost tables) */
#define SQN_TAG_KERN "KERN" /* fused kernels in execution order */
#define SQN_TAG_SRCH "SRCH" /* search settings */
#define SQN_TAG_TRAN "TRAN" /* training settings */
#define SQN_TAG_GRAD "GRAD" /* training program: buffer plan, backward steps, update list */
#define SQN_TAG_KPTX "KPTX" /* embedded GPU kernels: one PTX module per target (optional) */

/* A string reference is a u32 index into STRS; this value means "no string" (NULL). */
#define SQN_PLAN_NO_STRING 0xFFFFFFFFu

/* Every section except STRS is a table of fixed-size records:
     u32 record count, u32 record size, then count * record size bytes.
   A record may be longer than the sizes below (a later writer appended fields): the reader
   reads the fields it knows and skips the rest. A shorter record is an error.
   NODE holds two tables back to back: the input lists of all nodes (one i32 node id per record,
   node by node), then the nodes, each naming its run of that list (first, count).
   SUPB holds two tables back to back: superblocks, then candidates; version 5 a third: the width costs
   (i64 macs, i64 params per pair of widths of the candidate's cost_in and cost_out width choices, for each
   candidate whose first_cost is not -1, row-major, -1 for a pair it cannot have).
   GRAD holds three tables back to back: one training record per node (its forward value's
   training slot, its gradient's slot or -1, whether the backward reads the value), the backward
   steps in execution order (node, need_dx and acc_dx input bit masks), and the update list (the
   trainable parameters the optimizers step). */
#define SQN_PLAN_TABLE_HEADER 8u
#define SQN_META_RECORD 104u /* count must be 1 */
#define SQN_INPT_RECORD 4u
#define SQN_NODE_RECORD 208u
#define SQN_NODE_RECORD_V2 176u /* version 2: no alpha, beta, pad_value, slice */
#define SQN_PARM_RECORD 44u
#define SQN_SUPB_RECORD 100u
#define SQN_SUPB_RECORD_V4 80u /* version 4: no is_width, width_in, width_out */
#define SQN_SUPB_RECORD_V3 76u /* versions 2 and 3: no is_decoder */
#define SQN_CAND_RECORD 56u
#define SQN_CAND_RECORD_V4 40u /* versions 2 to 4: no width, first_cost */
#define SQN_WCST_RECORD 16u    /* SUPB's width costs (version 5) */
#define SQN_KERN_RECORD 88u
#define SQN_SRCH_RECORD 100u /* count must be 1 */
#define SQN_SRCH_RECORD_V3 56u /* versions 2 and 3: up to `epochs` */
#define SQN_TRAN_RECORD 96u  /* count must be 1 */
#define SQN_TNOD_RECORD 16u  /* GRAD: per node, count must be the node count */
#define SQN_STEP_RECORD 16u  /* GRAD: backward and recompute steps */
#define SQN_UPDT_RECORD 4u   /* GRAD: update list */
/* KPTX: one table, a record per target: u32 target name, u32 the PTX's .target, u32 the PTX text
   (three STRS indices; the text is a string like any other). */
#define SQN_KPTX_RECORD 12u

/* Enumerations as stored (the IR and the runtime both use these exact values). */
#define SQN_PLAN_OP_COUNT 31       /* input conv bn relu relu6 sigmoid hswish add mul concat
                                      avgpool gap bilinear nearest crop zero mix output
                                      silu hsigmoid tanh leaky_relu sub affine
                                      maxpool gmp pad softmax slice channel_shuffle (version 3) width (version 5) */
#define SQN_PLAN_PARAM_ROLE_COUNT 7 /* conv_weight conv_bias bn_weight bn_bias bn_mean bn_var arch */
#define SQN_PLAN_KERNEL_KIND_COUNT 4 /* single conv inverted_residual elementwise */
#define SQN_PLAN_OBJECTIVE_COUNT 3  /* macs params latency */
#define SQN_PLAN_SCHEDULE_COUNT 3   /* step poly constant */

/* Fixed array sizes inside records. */
#define SQN_PLAN_MAX_INPUTS 32 /* also the most candidates of a superblock */
#define SQN_PLAN_NODE_PARAMS 4
#define SQN_PLAN_MAX_DIMS 4
#define SQN_PLAN_KERNEL_MAX_NODES 16
#define SQN_PLAN_MAX_MILESTONES 4

/* Sanity limits the reader enforces (a valid plan is far below them). */
#define SQN_PLAN_MAX_FILE_SIZE (1ull << 32) /* 4 GiB */
#define SQN_PLAN_MAX_DIM (1 << 24)         /* any shape or tensor dimension */
#define SQN_PLAN_MAX_COST (1ll << 50)      /* any MAC or parameter count */

#endif
