/* plan.h - the runtime's in-memory plan: what sqnrun knows about a network, read from a .plan
   file (plan_read.c) and summarized by plan_info.c. Stands alone: no compiler or LLVM headers.
   Ops (OpKind, their attributes and shape rule) come from op.h, as in the compiler's IR; the other
   enums have the values of the IR's (compiler/ir/ir.h), which plan_write.c checks with static assertions. A Plan returned by the reader has been fully validated: every index is
   in range, node inputs come earlier in the node list, enums are known and shapes positive. */
#ifndef SQN_PLAN_H
#define SQN_PLAN_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "op.h"
#include "plan_format.h"
#include "tensor.h"

typedef enum {
  PLAN_PARAM_CONV_WEIGHT, PLAN_PARAM_CONV_BIAS, PLAN_PARAM_BN_WEIGHT, PLAN_PARAM_BN_BIAS,
  PLAN_PARAM_BN_MEAN, PLAN_PARAM_BN_VAR, PLAN_PARAM_ARCH, PLAN_PARAM__COUNT
} PlanParamRole;

typedef enum {
  PLAN_KERNEL_SINGLE, PLAN_KERNEL_CONV, PLAN_KERNEL_INVERTED_RESIDUAL, PLAN_KERNEL_ELEMENTWISE,
  PLAN_KERNEL__COUNT
} PlanKernelKind;

typedef enum { PLAN_OBJ_MACS, PLAN_OBJ_PARAMS, PLAN_OBJ_LATENCY, PLAN_OBJ__COUNT } PlanObjective;
typedef enum { PLAN_SCHED_STEP, PLAN_SCHED_POLY, PLAN_SCHED_CONSTANT, PLAN_SCHED__COUNT } PlanLrSchedule;

typedef struct PlanLoc {
  const char *file; /* .sqn path as given to sqnc, NULL if none */
  int line, col;
} PlanLoc;

typedef struct PlanNode {
  int id;                 /* == index in Plan.nodes */
  OpKind kind;
  int inputs[SQN_PLAN_MAX_INPUTS];
  int ninputs;
  Shape out;
  const char *name;       /* module path, NULL if none */
  PlanLoc loc;
  OP_ATTR_MEMBERS;        /* kernel, stride, pad, ..., as the IR's (op.h) */
  int slot;               /* activation buffer planned by sqnc (nodes sharing one never live at once); -1 none */
  int param[SQN_PLAN_NODE_PARAMS]; /* indices into Plan.params, -1 past nparams */
  int nparams;
  int superblock, candidate, kernel; /* -1 if none */
  int64_t macs, params;
} PlanNode;

typedef struct PlanParam {
  const char *name;       /* state_dict name */
  PlanParamRole role;
  int ndim;
  int dims[SQN_PLAN_MAX_DIMS];
  int64_t numel;
  bool trainable;
  int node;               /* owning node */
} PlanParam;

typedef struct PlanCandidate {
  const char *name, *display, *block;
  int output;             /* node producing the candidate's output */
  bool is_zero, is_identity;
  int64_t macs, params;
  int width;              /* a width choice's candidate: its channel count (version 5); 0 otherwise */
  int first_cost;         /* its first entry in Plan.wcosts, -1: none (its cost does not depend on widths) */
  int cost_in, cost_out;  /* the width choices its cost depends on (superblock indices; -1 none) */
  const struct PlanWidthCost *wcost; /* == Plan.wcosts + first_cost: [a * widths(cost_out) + b], or NULL */
} PlanCandidate;

/* A candidate's cost at one (input width, output width) pair; -1: a pair it cannot have. */
typedef struct PlanWidthCost {
  int64_t macs, params;
} PlanWidthCost;

typedef struct PlanSuperblock {
  int index, stage, cin, cout, stride;
  bool residual;
  bool is_decoder;        /* the decoder's choice (version 4): the last superblock, stage one past the last */
  bool is_width;          /* a stage's width choice (version 5): candidates are widths, its nodes are OP_WIDTH */
  int width_in, width_out;/* the width choices that set its input and output channels; -1: fixed */
  bool is_stem, is_head;  /* the stem's or the head's choice (version 5): after the width choices, before the decoder's */
  Shape in_shape, out_shape;
  int input, output;      /* node ids */
  int first_cand, ncand;  /* this superblock's candidates: Plan.cands[first_cand ..] */
  PlanCandidate *cand;    /* == Plan.cands + first_cand */
  PlanLoc loc;
} PlanSuperblock;

typedef struct PlanKernel {
  PlanKernelKind kind;
  int nodes[SQN_PLAN_KERNEL_MAX_NODES];
  int nnodes;
  int output;
  bool folds_bn;
  int superblock, candidate;
} PlanKernel;

typedef struct PlanSearch {
  PlanObjective objective;
  double alpha, temp_start, temp_end, prune_below;
  int samples, warmup_epochs;
  double arch_lr;
  int epochs;
  /* version 4 (docs/search.md "Budgets"): */
  bool costs_relative;    /* resource costs as fractions of the space's cost range */
  double target;          /* budget in the objective's unit (GMACs, M params, ms); 0: none */
  double target_fraction; /* budget as a fraction of the cost range; < 0: none */
  double budget_lr;       /* step of the Lagrange multipliers (budget, skip limit) */
  double skip_limit;      /* the expected fraction of skipping superblocks stays below it; >= 1: no limit */
  double arch_lr_end;     /* arch_lr at the last search epoch; 0: constant */
} PlanSearch;

typedef struct PlanTrain {
  double lr, momentum, weight_decay;
  PlanLrSchedule schedule;
  double milestones[SQN_PLAN_MAX_MILESTONES];
  int nmilestones;
  double gamma, poly_power;
  int epochs, batch, crop_h, crop_w;
} PlanTrain;

/* The training program (GRAD), derived by the compiler's autodiff pass (compiler/passes/autodiff.c). */
typedef struct PlanTrainNode {
  int train_slot;         /* buffer of the node's forward value in the training program */
  int grad_slot;          /* buffer of its gradient; -1 when it has none */
  bool saved;             /* a backward step reads the forward value */
  int recompute_slot;     /* buffer of the value recomputed for the backward pass; -1 if not recomputed */
} PlanTrainNode;

typedef enum { PLAN_STEP_BACKWARD, PLAN_STEP_RECOMPUTE, PLAN_STEP__COUNT } PlanStepKind;

typedef struct PlanGradStep {
  PlanStepKind kind;      /* backward of node, or recompute node's value: a ReLU/ReLU6 of a BN from the
                             BN's input and saved statistics, or a conv from its input (autodiff.c chooses) */
  int node;               /* the forward node whose backward runs (or whose value is recomputed) */
  uint32_t need_dx;       /* bit k: input k receives a gradient */
  uint32_t acc_dx;        /* bit k: add to input k's gradient (an earlier step wrote it) */
} PlanGradStep;

typedef struct PlanUpdate { int param; } PlanUpdate;

typedef struct PlanGrad {
  PlanTrainNode *node;    /* per node */
  int nnode;
  PlanGradStep *steps;    /* execution order */
  int nsteps;
  PlanUpdate *update;     /* trainable parameters, in order */
  int nupdate;
  int nslots;             /* training buffers: 1 + the largest slot index */
} PlanGrad;

/* Compile-time totals (META). MACs and params are those of cost.c (node.macs, node.params). */
typedef struct PlanCosts {
  int64_t macs_all, params_all;     /* every node: for a space, the whole supernet */
  int64_t macs_fixed, params_fixed; /* nodes outside any candidate (stem, head, decoder, mixing) */
  int64_t macs_min, macs_max;       /* fixed + per-superblock cheapest / dearest candidate */
  int64_t params_min, params_max;
} PlanCosts;

/* GPU kernels embedded by `sqnc --target` (KPTX): one PTX module per target, holding the kernel library
   and the plan's depthwise variants (kernel_abi.h names them). */
typedef struct PlanPtx {
  const char *target;     /* "sm_75": the GPU generation it was emitted for (runs there and on later ones) */
  const char *ptx_cpu;    /* the .target inside the PTX (e.g. sm_86 for sm_90 with LLVM 14) */
  const char *text;       /* the PTX, NUL-terminated */
  size_t len;
} PlanPtx;

typedef struct Plan {
  uint32_t version;       /* format version of the file it came from */
  uint64_t file_size;
  const char *name;
  const char *space_file; /* absolute path of the .sqn declaring the space's stages, NULL if unknown */
  bool is_space;
  Shape input;
  int classes;
  int stem_output, encoder_output, output; /* node ids, -1 if none */
  PlanNode *nodes;
  int nnodes;
  PlanParam *params;
  int nparams;
  int64_t param_numel, param_numel_trainable; /* sums over params */
  PlanSuperblock *sb;
  int nsb;
  PlanCandidate *cands;   /* all candidates, superblock by superblock */
  int ncands;
  PlanWidthCost *wcosts;  /* the candidates' costs per width pair (version 5) */
  int nwcosts;
  PlanKernel *kernels;
  int nkernels;
  PlanSearch search;
  PlanTrain train;
  PlanCosts costs;
  PlanGrad grad;
  PlanPtx *ptx;           /* KPTX: embedded GPU kernels, NULL/0 when compiled without --target */
  int nptx;
  const char **strings;   /* the string table: pointers into strpool */
  int nstrings;
  char *strpool;          /* owned: every string, NUL-terminated */
} Plan;

/* Read and validate a plan. On failure: NULL, and err holds a one-line reason. */
Plan *plan_read_file(const char *path, char *err, size_t errlen);
Plan *plan_read_mem(const unsigned char *buf, size_t len, char *err, size_t errlen);
void plan_free(Plan *p);

/* The header's CRC-32: bytes [0,20) then [24,len) (everything but the CRC field). */
uint32_t plan_checksum(const unsigned char *buf, size_t len);

/* A summary for people (json = false) or one JSON object (json = true). */
void plan_print_info(const Plan *p, FILE *out, bool json);

const char *plan_objective_name(PlanObjective o);
/* The unit of an objective's costs: "GMACs", "M params" or "ms". */
const char *plan_objective_unit(PlanObjective o);
const char *plan_schedule_name(PlanLrSchedule s);
const char *plan_kernel_kind_name(PlanKernelKind k);

/* The widths of width choice sb (its candidates' channel counts, ascending) into out[SQN_PLAN_MAX_INPUTS]; their
   number. */
int plan_widths(const Plan *p, int sb, int *out);
/* How many widths width choice ws offers (1 for -1, a fixed width), and the entries of a candidate's width cost
   table (the product over its cost_in and cost_out). */
int plan_width_count(const Plan *p, int ws);
int plan_width_pairs(const Plan *p, const PlanCandidate *c);

#endif
