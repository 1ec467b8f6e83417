/* ir.h - the graph IR: ops with static shapes, parameters, and the superblock/candidate structure.
   Built by elaborate.c, annotated by cost.c, grouped by fuse.c, written by plan_write.c. */
#ifndef SQN_IR_H
#define SQN_IR_H
#include <stdbool.h>
#include <stdint.h>
#include "arena.h"
#include "diag.h"
#include "op.h"
#include "tensor.h"

typedef enum {
  PARAM_CONV_WEIGHT, PARAM_CONV_BIAS, PARAM_BN_WEIGHT, PARAM_BN_BIAS, PARAM_BN_MEAN, PARAM_BN_VAR,
  PARAM_ARCH,      /* architecture weights theta of a superblock [ncand, 1], on its OP_MIX node */
  PARAM__COUNT
} ParamRole;

typedef struct IrParam {
  const char *name;        /* state_dict name, e.g. encoder.residuals.3.op.0.weight */
  ParamRole role;
  int ndim;
  int dims[4];
  int64_t numel;
  bool trainable;          /* false for BN running statistics */
  int node;                /* owning node */
} IrParam;

/* Limits that keep every count and cost within 64-bit integers (and memory within reason). */
#define IR_MAX_DIM 1000000               /* channels, height, width */
#define IR_MAX_TENSOR_ELEMS (1LL << 36)  /* c * h * w of one tensor */
#define IR_MAX_CONV_MACS 10000000000000LL /* 1e13 per op */
#define IR_MAX_NODES 200000 /* a block nesting that doubles at every level reaches it in about 2 s (each op costs its
                                  elaboration about 1.7 KB) */
#define IR_MAX_SUPERBLOCKS 4096

#define IR_MAX_INPUTS 32 /* also the most candidates a superblock may have */

typedef struct IrNode {
  int id;
  OpKind kind;
  int inputs[IR_MAX_INPUTS];
  int ninputs;
  Shape out;
  const char *name;        /* module path of the op (param prefix), e.g. encoder.residuals.3.op.0 */
  SrcLoc loc;              /* .sqn location of the call that made it */
  OP_ATTR_MEMBERS;         /* attributes: kernel, stride, pad, ... (plan/op.h, the same in plans) */
  /* parameters: indices into IrGraph.params, -1 if none */
  int param[4];            /* conv: weight, bias; bn: weight, bias, mean, var use param[0..3] */
  int nparams;
  /* structure */
  int superblock;          /* -1 outside any superblock */
  int candidate;           /* -1 outside any candidate; index in the superblock's candidate list */
  int kernel;              /* fused kernel this node belongs to, -1 before fusion */
  int slot;                /* activation buffer (memplan.c): nodes sharing a slot never live at once; -1 none */
  /* costs (cost.c) */
  int64_t macs;
  int64_t params;
} IrNode;

typedef struct IrCandidate {
  const char *name;        /* e.g. inverse_residual_k3_e1_g1 */
  const char *display;     /* the block call as written, e.g. ir(k=3, e=1) */
  const char *block;       /* block name */
  int output;              /* node producing the candidate's output */
  bool is_zero;            /* the candidate is the Zero op: contributes nothing */
  bool is_identity;        /* the candidate returns its input unchanged */
  int64_t macs, params;    /* cost.c */
  int width;               /* a width choice's candidate: its channel count (0 otherwise) */
  /* Where its cost depends on width choices: those (cost_in, cost_out: superblock indices, -1 none; for a block,
     the choices setting its cin and cout) and its cost at each pair of their widths, [a * widths(cost_out) + b],
     from the candidate built at those widths (space_widths.c); -1 where it cannot have that pair (within a stage,
     input and output widths are one). NULL: its cost does not depend on widths. */
  int64_t *wmacs, *wparams;
  int cost_in, cost_out;
  /* A width choice's candidate: what the head and decoder cost beyond their cheapest with the stage at this width
     (its cost; the graph's fixed cost is the rest). */
  int64_t tail_macs, tail_params;
} IrCandidate;

typedef struct IrSuperblock {
  int index;               /* 0-based position in the encoder */
  int stage;               /* stage number (0-based); the decoder's choice: one past the last stage */
  bool is_decoder;         /* `decoder choose SET`: the candidates are decoders, the last superblock */
  bool is_stem, is_head;   /* `stem choose SET`, `head choose SET`: after the width choices, before the decoder's */
  bool is_width;           /* a stage's width choice (`stage [16, 24] ...`): candidates are channel counts,
                              its OP_WIDTH nodes mask the stage's superblock outputs; after the encoder's */
  int width_in, width_out; /* the width choices (superblock indices) that set cin and cout; -1: fixed */
  int cin, cout, stride;
  bool residual;           /* output = input + mix */
  Shape in_shape, out_shape;
  int input;               /* node feeding all candidates */
  int output;              /* node after mixing (and the residual add) */
  int ncand;
  IrCandidate *cand;
  SrcLoc loc;              /* the stage line */
} IrSuperblock;

typedef enum { OBJ_MACS, OBJ_PARAMS, OBJ_LATENCY } Objective;
typedef enum { SCHED_STEP, SCHED_POLY, SCHED_CONSTANT } LrSchedule;

typedef struct SearchSettings {
  Objective objective;
  double alpha;            /* weight of the resource loss */
  double temp_start, temp_end;
  double prune_below;      /* probability threshold, 0.005 = 0.5% */
  int samples;             /* architectures sampled when deriving */
  int warmup_epochs;
  double arch_lr;          /* Adam LR for theta (at the first search epoch) */
  int epochs;
  /* Budgets and anti-collapse (docs/search.md "Budgets"): */
  bool costs_relative;     /* costs as fractions of the space's cost range (cheapest 0, dearest 1) */
  double target;           /* budget in the objective's unit (GMACs, M params, ms); 0: none */
  double target_fraction;  /* budget as a fraction of the cost range (`target 30%`); < 0: none */
  double budget_lr;        /* step of the budget's (and skip limit's) Lagrange multiplier */
  double skip_limit;       /* at most this expected fraction of superblocks skip; >= 1: no limit */
  double arch_lr_end;      /* arch_lr at the last search epoch (geometric schedule); 0: constant */
} SearchSettings;

typedef struct TrainSettings {
  double lr, momentum, weight_decay;
  LrSchedule schedule;
  double milestones[4];    /* fractions of the run, for step schedule */
  int nmilestones;
  double gamma;            /* step factor */
  double poly_power;
  int epochs, batch;
  int crop_h, crop_w;
} TrainSettings;

/* A fused kernel (fuse.c): a chain of nodes executed as one unit by a backend. Every node of an
   inference program belongs to exactly one kernel; kernels are listed in execution order. */
typedef enum {
  KERNEL_SINGLE,            /* one op, not fused */
  KERNEL_CONV,              /* conv [+ BN folded] [+ activation] [+ residual add] */
  KERNEL_INVERTED_RESIDUAL, /* 1x1 conv -> BN -> act -> kxk depthwise -> BN -> act -> 1x1 conv -> BN [+ add] */
  KERNEL_ELEMENTWISE,       /* chain of elementwise ops (add/mul/activation) */
  KERNEL__COUNT
} KernelKind;

#define IR_KERNEL_MAX_NODES 16
typedef struct IrKernel {
  KernelKind kind;
  int nodes[IR_KERNEL_MAX_NODES]; /* member nodes in execution order */
  int nnodes;
  int output;               /* the node whose value leaves the kernel */
  bool folds_bn;            /* BN nodes are folded into the preceding conv (inference) */
  int superblock, candidate;/* -1 outside */
} IrKernel;

/* The training program (autodiff.c). Time runs over the forward nodes (0..nnodes-1), the loss
   (nnodes), then the backward steps (nnodes + 1 + s). */
#define GRAD_READS_OUTPUT (1u << 31)
enum { GRAD_STEP_BACKWARD, GRAD_STEP_RECOMPUTE };
typedef struct IrGradStep {
  int kind;                /* GRAD_STEP_BACKWARD, or GRAD_STEP_RECOMPUTE: recompute node's value (a ReLU of a BN
                              from the BN's input, or a conv from its input) into its recompute slot, before a step
                              reads it */
  int node;                /* the forward node whose backward runs (or whose value is recomputed) */
  uint32_t need_dx;        /* bit k: input k receives a gradient */
  uint32_t acc_dx;         /* bit k: input k's gradient buffer already holds a contribution: add to it */
} IrGradStep;

typedef struct IrGradInfo {
  IrGradStep *steps;       /* backward program, execution order (reverse topological) */
  int nsteps;
  int *train_slot;         /* per node: its forward value's buffer in the training program */
  int *grad_slot;          /* per node: its gradient's buffer, -1 when it has none */
  int *recompute_slot;     /* per node: buffer of its value recomputed for the backward pass, -1 if not recomputed */
  bool *saved;             /* per node: the backward reads its forward value */
  int nslots;              /* training buffers (forward values and gradients share them) */
  int64_t slot_bytes, naive_bytes; /* at the compiled input size, batch 1 */
  int64_t peak_bytes;      /* the most bytes live at once: the lower bound for any buffer plan */
  int *update_params;      /* the update program: trainable parameters in order */
  int nupdate;
} IrGradInfo;

/* One target's GPU kernels, emitted by sqnc --target (kgen.h) and embedded in the plan (KPTX). */
typedef struct IrPtx {
  const char *target;      /* as asked, e.g. "sm_75" */
  const char *ptx_cpu;     /* the PTX's .target (the newest the LLVM back end knows that is not newer) */
  const char *text;        /* PTX text */
} IrPtx;

/* What the backward pass recomputes instead of keeping from the forward pass (sqnc --recompute). The ReLU of a BN
   is always recomputed (it costs one pass fused with the BN's backward). */
typedef enum {
  IR_RECOMPUTE_ALL = 0, /* default: also widening convs (1x1 expansions, the stem) */
  IR_RECOMPUTE_DW,      /* also depthwise convs (k*k MACs per element) */
  IR_RECOMPUTE_ACT,     /* only the ReLUs of BNs */
} IrRecompute;

typedef struct IrGraph {
  Arena *arena;
  const char *name;        /* space or network name */
  bool is_space;           /* superblocks hold all candidates (supernet) */
  Shape input;
  int classes;
  IrNode *nodes;
  int nnodes, cap_nodes;
  IrParam *params;
  int nparams, cap_params;
  IrSuperblock *sb;
  int nsb;
  int stem_output;         /* node ids of the macro parts */
  int encoder_output;
  int output;
  int nslots;              /* activation buffers of the inference program (memplan.c) */
  int64_t slot_bytes, naive_bytes; /* at the compiled input size, batch 1: planned vs one buffer per node */
  IrKernel *kernels;       /* fused inference program (fuse.c), execution order */
  int nkernels;
  SearchSettings search;
  TrainSettings train;
  IrGradInfo grad;         /* autodiff.c */
  IrRecompute recompute;   /* autodiff.c: the values it recomputes */
  const char *space_file;  /* absolute path of the .sqn that declares the stages (derived networks import it) */
  IrPtx *ptx;              /* GPU kernels per target (sqnc --target), none by default */
  int nptx;
} IrGraph;

IrGraph *ir_new(Arena *a);
int ir_add_node(IrGraph *g, OpKind kind, const int *inputs, int ninputs);
int ir_add_param(IrGraph *g, int node, ParamRole role, const char *name, int ndim, const int *dims);
const char *ir_param_role_name(ParamRole r);
void ir_default_settings(IrGraph *g);

/* cost.c: fills node, candidate and graph costs. */
typedef struct IrCostTotals {
  int64_t macs, params;          /* fixed network: the network; space: fixed parts + cheapest path */
  int64_t macs_min, macs_max;    /* over all architectures of a space */
  int64_t params_min, params_max;
  int64_t fixed_macs, fixed_params; /* stem, head, decoder */
  int64_t all_params;            /* every parameter in the graph (the whole supernet) */
  int64_t arch_params;           /* architecture weights theta: one per candidate of each superblock (spaces) */
} IrCostTotals;
void ir_compute_costs(IrGraph *g, IrCostTotals *t);
/* The least and most MACs and parameters of sb's candidates, at every width pair they may have: b = {macs min,
   macs max, params min, params max}. */
void ir_superblock_bounds(const IrGraph *g, const IrSuperblock *sb, int64_t b[4]);
/* What the head and decoder, built at the widest widths, cost beyond their cheapest widths: {macs, params}
   (the fixed cost of a space with width choices leaves it out; each width choice's candidates carry theirs). */
void ir_width_shift(const IrGraph *g, int64_t shift[2]);
/* How many widths the width choice (superblock index) offers; 1 for -1 (a fixed width). */
int ir_width_count(const IrGraph *g, int width_sb);
/* The entries of a candidate's width cost table (0 without one). */
int ir_width_pairs(const IrGraph *g, const IrCandidate *c);

#endif
