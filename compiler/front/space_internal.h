/* space_internal.h - what space.c (the macro-architecture) and space_widths.c (stage width choices) share:
   the parsed stages and the helpers that build blocks and evaluate the residual rule. Not used elsewhere. */
#ifndef SQN_SPACE_INTERNAL_H
#define SQN_SPACE_INTERNAL_H
#include "elab.h"

#define MAX_STAGES 64
typedef struct StageSpec {
  const Setting *st;
  int channels, repeats, stride;
  int min_repeats;           /* `repeat MIN -> MAX`: superblocks past the first MIN may skip (a searchable depth) */
  const char *set;           /* candidate set's name (NULL for networks that give calls) */
  Choice *choices;           /* its candidates, expanded (candidate_sets.c) */
  int nchoices;
  int widths[IR_MAX_INPUTS]; /* `stage [16, 24, 32] ...`: the widths the search chooses from, ascending */
  int nwidths;               /* 0: the stage's width is fixed (channels) */
  int width_sb;              /* spaces: the width choice's superblock index (after the encoder's); -1 none */
} StageSpec;

typedef struct SpaceSpec {
  const Decl *space, *network;
  const Setting *input, *classes, *stem, *head, *decoder, *residual, *search, *train;
  const Setting *net_search, *net_train; /* a network's search/train settings, applied over the space's */
  const Setting *widths;     /* a network's `widths W1 W2 ...`: one per stage */
  StageSpec stages[MAX_STAGES];
  int nstages, nblocks;
  int nwidth_stages;         /* stages with a width choice */
  StageSpec part[3];         /* PartKind: `stem|head|decoder choose SET`: its candidates (nchoices 0: one block) */
  int part_sb[3];            /* their superblocks (after the encoder's and the width choices), -1 where not chosen */
} SpaceSpec;

/* The parts of the macro-architecture the search may choose, in the order of their superblocks. */
typedef enum { PART_STEM, PART_HEAD, PART_DECODER, PART__COUNT } PartKind;

/* space.c */
const Setting *space_part_setting(const SpaceSpec *sp, PartKind k);
bool space_genotype_choice(Elab *e, const StageSpec *stg, const Arg *item, Choice *out);
void space_add_candidate(Elab *e, IrSuperblock *sb, Choice c, Value out);
bool space_logits_ok(Elab *e, SrcLoc loc, const char *which, Value out);
Value space_instantiate(Elab *e, Scope *s, const Expr *x, const char *role, const BlockCtx *ctx);
bool space_residual_rule(Elab *e, SpaceSpec *sp, int stride, int cin, int cout);
/* The cost ({macs, params}) of the head (part[PART_HEAD]) and the decoder (part[PART_DECODER]) with the outputs of
   each stage s at widths[s] channels (0: as built), elaborated apart in a scratch graph; head and dec: the
   candidates to build where the search chooses the head or the decoder. False (reported) on errors. */
bool space_tail_cost(Elab *e, SpaceSpec *sp, const int *widths, int head, int dec, int64_t part[PART__COUNT][2]);

/* space_parts.c. `stem|head|decoder choose SET`: the sets (false, reported, on errors). */
bool parts_parse(Elab *e, SpaceSpec *sp);
/* How many parts are chosen; their superblock indices from base (the encoder's and the width choices' count). */
int parts_number(SpaceSpec *sp, int base);
/* A network's choice item for part k (after its superblocks' items); NULL when missing. */
const Arg *parts_item(const SpaceSpec *sp, PartKind k);
/* Part k's superblock: its candidates on input x (space: mixed per sample by PREFIX.gumble_arch_params) or the
   network's choice; the output, or an error value (reported). */
Value parts_build(Elab *e, SpaceSpec *sp, PartKind k, Scope *s, Value x, Value *image);
/* The prefix of part k's parameters ("encoder.conv1.", "encoder.last_conv.", "decoder."). */
const char *parts_prefix(PartKind k);

/* space_widths.c. `stage [W1, W2, ...]`: the stage's widths (g: the channels argument); false (reported). */
bool widths_parse(Elab *e, const Setting *st, const Arg *g, StageSpec *out);
/* After collect: spaces number their width choices; a network's `widths` set its stages' channels. */
bool widths_prepare(Elab *e, SpaceSpec *sp);
/* The residual rule must give the same answer at every width the superblock may have (a derived network
   keeps the supernet's structure); false (reported) otherwise. */
bool widths_check_residual(Elab *e, SpaceSpec *sp, int stage, int rep, const IrSuperblock *sb);
/* Spaces: the superblock's output masked to the stage's chosen width (an OP_WIDTH node). */
Value widths_mask(Elab *e, SpaceSpec *sp, int stage, const IrSuperblock *sb, Value out);
/* Spaces: each candidate's cost at every width it may have (IrCandidate.wmacs/wparams). */
bool widths_costs(Elab *e, SpaceSpec *sp, Scope *s, int stage, int rep, IrSuperblock *sb, const Choice *ch);
/* Spaces: the width choices as superblocks, after the encoder's (g->nsb grows by sp->nwidth_stages). */
void widths_add_choices(Elab *e, SpaceSpec *sp);
/* Spaces, after the decoder: each width's extra cost in the head and decoder (IrCandidate.tail_macs/params). */
bool widths_tail_costs(Elab *e, SpaceSpec *sp);
#endif
