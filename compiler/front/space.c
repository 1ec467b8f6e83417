/* space.c - elaborates a space (all candidates per superblock: the supernet) or a network (one
   chosen candidate per superblock) into the graph IR: input, stem, stages, head, decoder, output. */
#include <stdlib.h>
#include <string.h>
#include "prune.h"
#include "space.h"
#include "space_internal.h"

static const char *space_keys[] = {"input", "classes", "stem", "stage", "head", "decoder", "residual", "search", "train", "widths"};

const Setting *space_part_setting(const SpaceSpec *sp, PartKind k) {
  return k == PART_STEM ? sp->stem : k == PART_HEAD ? sp->head : sp->decoder;
}

static const Setting **slot_for(SpaceSpec *sp, const char *key) {
  if (!strcmp(key, "input")) return &sp->input;
  if (!strcmp(key, "classes")) return &sp->classes;
  if (!strcmp(key, "stem")) return &sp->stem;
  if (!strcmp(key, "head")) return &sp->head;
  if (!strcmp(key, "decoder")) return &sp->decoder;
  if (!strcmp(key, "residual")) return &sp->residual;
  if (!strcmp(key, "search")) return &sp->search;
  if (!strcmp(key, "train")) return &sp->train;
  if (!strcmp(key, "widths")) return &sp->widths;
  return NULL;
}

static int stage_int(Elab *e, const Setting *st, const Arg *g, const char *what) {
  Scope s = {0};
  Value v = eval_expr(e, &s, g->value);
  int64_t i;
  if (!value_as_int(e, v, g->loc, what, &i)) return -1;
  if (i < 1 || i > 100000) {
    elab_error(e, g->loc, NULL, "stage %s must be positive, got %lld", what, (long long)i);
    return -1;
  }
  (void)st;
  return (int)i;
}

/* stage CHANNELS [repeat N] [stride S] [choose SET] */
/* `repeat MIN -> MAX`: MAX superblocks, the last MAX - MIN of them optional. */
static bool parse_depth(Elab *e, const Setting *st, const Arg *g, StageSpec *out) {
  const Expr *r = g->value;
  Arg lo = {.value = r->a, .loc = r->a->loc}, hi = {.value = r->b, .loc = r->b->loc};
  if ((out->min_repeats = stage_int(e, st, &lo, "repeat")) < 0 || (out->repeats = stage_int(e, st, &hi, "repeat")) < 0)
    return false;
  if (out->min_repeats >= 1 && out->min_repeats < out->repeats) return true;
  elab_error(e, r->loc, "e.g. `repeat 2 -> 4`: four superblocks, the last two of which the search may skip",
             "a searchable depth needs 1 <= MIN < MAX, got %d -> %d", out->min_repeats, out->repeats);
  return false;
}

static bool parse_stage(Elab *e, const Setting *st, StageSpec *out) {
  static const char *keys[] = {"repeat", "stride", "choose"};
  memset(out, 0, sizeof *out);
  out->st = st;
  out->repeats = out->stride = out->min_repeats = 1;
  out->width_sb = -1;
  const Arg *g = st->values;
  if (!g || (g->value->kind == EX_LIST ? !widths_parse(e, st, g, out) : (out->channels = stage_int(e, st, g, "channels")) < 0)) {
    if (!g) elab_error(e, st->loc, "write e.g. `stage 24 repeat 4 stride 2 choose squeezenas13`", "stage needs a channel count");
    return false;
  }
  for (g = g->next; g; g = g->next) {
    const Expr *k = g->value;
    const char *key = k->kind == EX_IDENT ? k->str : "";
    const char *best = diag_closest(key, keys, 3);
    if (!g->next || (strcmp(key, "repeat") && strcmp(key, "stride") && strcmp(key, "choose"))) {
      elab_error(e, g->loc, best ? arena_printf(e->a, "did you mean `%s`?", best) : "write `repeat N`, `stride S` and `choose SET`",
                 g->next ? "unknown stage option `%s`" : "stage option `%s` needs a value", ast_expr_text(e->a, k));
      return false;
    }
    g = g->next;
    if (!strcmp(key, "repeat") && g->value->kind == EX_RANGE) {
      if (!parse_depth(e, st, g, out)) return false;
    } else if (!strcmp(key, "repeat")) {
      if ((out->repeats = stage_int(e, st, g, "repeat")) < 0) return false;
      out->min_repeats = out->repeats;
    }
    if (!strcmp(key, "stride") && (out->stride = stage_int(e, st, g, "stride")) < 0) return false;
    if (!strcmp(key, "choose")) {
      out->choices = ARENA_ARRAY(e->a, Choice, IR_MAX_INPUTS);
      out->nchoices = candidate_set_expand(e, g->value, out->choices, IR_MAX_INPUTS, &out->set);
      if (out->nchoices < 0) return false;
    }
  }
  return true;
}

static void collect(Elab *e, const Setting *list, SpaceSpec *sp, bool allow_stages) {
  for (const Setting *st = list; st; st = st->next) {
    if (!strcmp(st->key, "stage")) {
      if (!allow_stages) elab_error(e, st->loc, "stages belong to the space; a network only chooses candidates", "a network cannot add stages");
      else if (sp->nstages == MAX_STAGES) elab_error(e, st->loc, NULL, "more than %d stages", MAX_STAGES);
      else if (parse_stage(e, st, &sp->stages[sp->nstages])) sp->nblocks += sp->stages[sp->nstages++].repeats;
      if (sp->nblocks > IR_MAX_SUPERBLOCKS) {
        elab_error(e, st->loc, NULL, "the space has more than %d superblocks", IR_MAX_SUPERBLOCKS);
        return;
      }
      continue;
    }
    const Setting **slot = slot_for(sp, st->key);
    bool block_key = !strcmp(st->key, "search") || !strcmp(st->key, "train");
    if (slot && block_key != st->has_body) {
      elab_error(e, st->loc, block_key ? arena_printf(e->a, "write `%s { key value ... }`", st->key) : NULL,
                 block_key ? "`%s` takes a { } body of settings" : "`%s` takes values, not a { } body", st->key);
      continue;
    }
    if (slot && block_key && !allow_stages) slot = !strcmp(st->key, "search") ? &sp->net_search : &sp->net_train;
    if (slot == &sp->widths && allow_stages) {
      elab_error(e, st->loc, "a space gives its widths per stage: `stage [16, 24] repeat 4 ...`",
                 "`widths` belongs to a network (one width per stage)");
      continue;
    }
    if (!slot) setting_unknown(e, st, "space", space_keys, 10);
    else if (*slot && allow_stages) elab_error(e, st->loc, NULL, "`%s` is set twice", st->key);
    else *slot = st; /* a network's setting overrides its space's */
  }
}

static bool build_input(Elab *e, SpaceSpec *sp) {
  IrGraph *g = e->g;
  if (e->opt->has_input) {
    g->input = e->opt->input;
  } else if (!sp->input) {
    elab_error(e, sp->space->loc, "add e.g. `input 3x1024x2048`", "space `%s` has no input shape", sp->space->name);
    return false;
  } else {
    const Expr *x = sp->input->nvalues == 1 ? sp->input->values->value : NULL;
    if (!x || x->kind != EX_DIMS || x->ndims != 3) {
      elab_error(e, sp->input->loc, "write it as CxHxW, e.g. `input 3x1024x2048`", "bad input shape");
      return false;
    }
    g->input = (Shape){0, x->dims[0], x->dims[1], x->dims[2]};
  }
  g->classes = 19;
  if (sp->classes) {
    Scope s = {0};
    Value v;
    int64_t c;
    if (!setting_value(e, &s, sp->classes, 0, &v) || !value_as_int(e, v, sp->classes->loc, "classes", &c)) return false;
    if (c < 1 || c > 65535) {
      elab_error(e, sp->classes->loc, NULL, "classes must be between 1 and 65535, got %lld", (long long)c);
      return false;
    }
    g->classes = (int)c;
  }
  int id = elab_add_node(e, OP_INPUT, NULL, 0, sp->input ? sp->input->loc : sp->space->loc, "input");
  g->nodes[id].out = g->input;
  return true;
}

/* Instantiates `blockname(args)` or `blockname` with an implicit input, as stem/head/candidate/decoder. */
Value space_instantiate(Elab *e, Scope *s, const Expr *x, const char *role, const BlockCtx *ctx) {
  if (x->kind != EX_CALL && x->kind != EX_IDENT) {
    elab_error(e, x->loc, "e.g. conv_bn_relu(cout=16, k=3, stride=2)", "%s must be a block, got `%s`", role,
               ast_expr_text(e->a, x));
    return v_error();
  }
  const Decl *blk = elab_find(e, DECL_BLOCK, x->str);
  if (!blk) {
    elab_error(e, x->loc, hint_unknown_callee(e, x->str, true), "unknown block `%s` used as %s", x->str, role);
    return v_error();
  }
  Value pos[16];
  int npos = 0;
  for (const Arg *g = x->kind == EX_CALL ? x->args : NULL; g; g = g->next) {
    if (g->name) continue;
    if (npos == 16) {
      elab_error(e, g->loc, NULL, "too many arguments (at most 16)");
      return v_error();
    }
    pos[npos] = eval_expr(e, s, g->value);
    if (pos[npos++].kind == V_ERROR) return v_error();
  }
  return elab_call_block(e, s, blk, x, ctx, pos, npos, x->kind == EX_CALL ? x->args : NULL);
}

static Value build_part(Elab *e, Scope *s, const Setting *st, Value input, const char *role, const char *prefix) {
  if (st->nvalues != 1) {
    elab_error(e, st->loc, NULL, "`%s` takes one block, got %d values", st->key, st->nvalues);
    return v_error();
  }
  BlockCtx ctx = {.input = input, .cout = -1, .stride = -1, .prefix = prefix};
  return space_instantiate(e, s, st->values->value, role, &ctx);
}

bool space_residual_rule(Elab *e, SpaceSpec *sp, int stride, int cin, int cout) {
  if (!sp->residual) return stride == 1 && cin == cout;
  Scope s = {0};
  scope_bind(e, &s, "stride", v_int(stride));
  scope_bind(e, &s, "cin", v_int(cin));
  scope_bind(e, &s, "cout", v_int(cout));
  Value v;
  if (!setting_value(e, &s, sp->residual, 0, &v)) return false;
  if (v.kind != V_BOOL) {
    elab_error(e, sp->residual->loc, "e.g. `residual (stride == 1 && cin == cout)`", "residual rule must be a bool, got %s",
               value_to_string(e, v));
    return false;
  }
  return v.i != 0;
}

bool space_genotype_choice(Elab *e, const StageSpec *stg, const Arg *item, Choice *out) {
  const Expr *x = item->value;
  const char *text = ast_expr_text(e->a, x);
  for (int i = 0; i < stg->nchoices; i++) {
    const Choice *c = &stg->choices[i];
    if ((x->kind == EX_IDENT && !strcmp(c->name, x->str)) || !strcmp(c->display, text)) {
      *out = *c;
      return true;
    }
  }
  if ((x->kind == EX_IDENT || x->kind == EX_CALL) && elab_find(e, DECL_BLOCK, x->str)) {
    *out = choice_of(e, NULL, x);
    return true;
  }
  const char *names[IR_MAX_INPUTS];
  int n = 0;
  for (int i = 0; i < stg->nchoices; i++) names[n++] = stg->choices[i].name;
  const char *best = x->kind == EX_IDENT ? diag_closest(x->str, names, n) : NULL;
  elab_error(e, item->loc, best ? arena_printf(e->a, "did you mean `%s`?", best) : "name a candidate of the stage's set or call a block",
             "`%s` is not a candidate of set `%s` nor a block", text, stg->set ? stg->set : "(none)");
  return false;
}

void space_add_candidate(Elab *e, IrSuperblock *sb, Choice c, Value out) {
  IrCandidate *cd = &sb->cand[sb->ncand++];
  cd->name = c.name;
  cd->display = c.display;
  cd->block = c.expr ? c.expr->str : c.name;
  cd->output = out.kind == V_TENSOR ? out.node : -1;
  cd->is_zero = out.kind == V_TENSOR && e->g->nodes[out.node].kind == OP_ZERO;
  cd->is_identity = out.kind == V_TENSOR && out.node == sb->input;
}

/* The height and width a superblock's candidates must agree on: what most of them produce; on a tie,
   ceil(input / stride), the size a "same"-padded strided block gives. Candidates with the wrong channel
   count or no tensor do not vote. */
static Shape expected_size(const Elab *e, const IrSuperblock *sb, const Value *outs, int n) {
  Shape want = {0, sb->cout, (sb->in_shape.h + sb->stride - 1) / sb->stride, (sb->in_shape.w + sb->stride - 1) / sb->stride};
  Shape best = {0, 0, 0, 0};
  int best_votes = 0;
  for (int i = 0; i < n; i++) {
    if (outs[i].kind != V_TENSOR) continue;
    Shape o = e->g->nodes[outs[i].node].out;
    if (o.c != sb->cout) continue;
    int votes = 0;
    for (int j = 0; j < n; j++) {
      if (outs[j].kind != V_TENSOR) continue;
      Shape p = e->g->nodes[outs[j].node].out;
      votes += p.c == sb->cout && p.h == o.h && p.w == o.w;
    }
    bool is_want = o.h == want.h && o.w == want.w;
    if (votes > best_votes || (votes == best_votes && is_want)) best = o, best_votes = votes;
  }
  return best;
}

static bool check_candidate(Elab *e, IrSuperblock *sb, const Choice *c, Value out, Shape expect, int n) {
  if (out.kind != V_TENSOR) return false;
  Shape o = e->g->nodes[out.node].out;
  if (o.c != sb->cout) {
    elab_error(e, c->expr->loc, "a candidate must produce the stage's channel count (use `cout` in the block)",
               "stage %d expects %d channels but candidate `%s` (superblock %d) produces %d", sb->stage + 1, sb->cout,
               c->display, sb->index, o.c);
    return false;
  }
  if (o.h != expect.h || o.w != expect.w) {
    elab_error(e, c->expr->loc, "all candidates of a superblock must produce the same height and width",
               "candidate `%s` (superblock %d, stride %d on %dx%d) produces %dx%d, where %s %dx%d", c->display,
               sb->index, sb->stride, sb->in_shape.h, sb->in_shape.w, o.h, o.w,
               n > 2 ? "the other candidates produce" : "the other candidate produces", expect.h, expect.w);
    return false;
  }
  return true;
}

static Value residual_add(Elab *e, IrSuperblock *sb, int node, Shape out) {
  if (!sb->residual) return v_tensor(node);
  int in[2] = {sb->input, node};
  int add = elab_add_node(e, OP_ADD, in, 2, sb->loc, arena_printf(e->a, "encoder.residuals.%d.add", sb->index));
  e->g->nodes[add].out = out;
  return v_tensor(add);
}

/* The superblock's output: the mixture of its candidates (space) or its one candidate (network),
   plus the residual add where the rule says so. */
static Value mix_candidates(Elab *e, IrSuperblock *sb, Shape out) {
  IrGraph *g = e->g;
  Shape x = sb->in_shape;
  if (sb->residual && (x.c != out.c || x.h != out.h || x.w != out.w)) {
    elab_error(e, sb->loc, "the residual rule must be false where a superblock changes shape",
               "superblock %d is residual but its input %dx%dx%d and output %dx%dx%d differ", sb->index, x.c, x.h,
               x.w, out.c, out.h, out.w);
    return v_error();
  }
  if (!g->is_space) {
    IrCandidate *c = &sb->cand[0];
    if (c->is_zero && sb->residual) return v_tensor(sb->input); /* Zero op + residual = identity */
    return residual_add(e, sb, c->output, out);
  }
  int ins[IR_MAX_INPUTS];
  for (int k = 0; k < sb->ncand; k++) ins[k] = sb->cand[k].output;
  int mix = elab_add_node(e, OP_MIX, ins, sb->ncand, sb->loc, arena_printf(e->a, "encoder.residuals.%d.mix", sb->index));
  g->nodes[mix].out = out;
  int theta[2] = {sb->ncand, 1}; /* upstream's name and shape */
  ir_add_param(g, mix, PARAM_ARCH, arena_printf(e->a, "encoder.residuals.%d.gumble_arch_params", sb->index), 2, theta);
  return residual_add(e, sb, mix, out);
}

/* The name of the skip a searchable depth adds to an optional superblock (and a network may choose there). */
#define DEPTH_SKIP "skip_depth"

static bool is_depth_skip(const Choice *c) { return c->expr == NULL; }

static int stage_choices(Elab *e, SpaceSpec *sp, int stage, int index, bool optional, Choice *out) {
  const StageSpec *stg = &sp->stages[stage];
  if (sp->network) {
    const Arg *item = sp->network->items;
    for (int k = 0; k < index && item; k++) item = item->next;
    if (item && optional && item->value->kind == EX_IDENT && !strcmp(item->value->str, DEPTH_SKIP)) {
      out[0] = (Choice){DEPTH_SKIP, "skip (depth)", NULL};
      return 1;
    }
    return item && space_genotype_choice(e, stg, item, &out[0]) ? 1 : 0;
  }
  if (!stg->set) {
    elab_error(e, stg->st->loc, "add `choose SET` to the stage", "stage %d of a space needs a candidate set", stage + 1);
    return 0;
  }
  memcpy(out, stg->choices, sizeof *out * (size_t)stg->nchoices);
  return stg->nchoices;
}

/* A skip that makes the superblock the identity: the Zero op where the residual add goes around it, else the
   input itself (an optional superblock keeps its shape: stride 1, cin = cout). */
static Value depth_skip(Elab *e, const IrSuperblock *sb, Value x) {
  if (!sb->residual) return x;
  int z = elab_add_node(e, OP_ZERO, &x.node, 1, sb->loc, arena_printf(e->a, "encoder.residuals.%d.%s", sb->index, DEPTH_SKIP));
  e->g->nodes[z].out = e->g->nodes[x.node].out;
  return v_tensor(z);
}

/* Whether a candidate already makes the superblock the identity (a set with `skip`). */
static bool has_skip(const Elab *e, const IrSuperblock *sb, const Value *outs, int n) {
  for (int k = 0; k < n; k++) {
    if (outs[k].kind != V_TENSOR) continue;
    if (outs[k].node == sb->input || (sb->residual && e->g->nodes[outs[k].node].kind == OP_ZERO)) return true;
  }
  return false;
}

static Value build_superblock(Elab *e, SpaceSpec *sp, Scope *s, int stage, int rep, Value x) {
  IrGraph *g = e->g;
  const StageSpec *stg = &sp->stages[stage];
  IrSuperblock *sb = &g->sb[g->nsb];
  sb->index = g->nsb;
  sb->stage = stage;
  sb->cin = g->nodes[x.node].out.c;
  sb->cout = stg->channels;
  sb->stride = rep == 0 ? stg->stride : 1;
  sb->residual = space_residual_rule(e, sp, sb->stride, sb->cin, sb->cout);
  sb->width_out = stg->width_sb;
  sb->width_in = rep > 0 ? stg->width_sb : stage > 0 ? sp->stages[stage - 1].width_sb : -1;
  if (!widths_check_residual(e, sp, stage, rep, sb)) return v_error();
  sb->in_shape = g->nodes[x.node].out;
  sb->input = x.node;
  sb->loc = stg->st->loc;
  Choice ch[IR_MAX_INPUTS];
  bool optional = rep >= stg->min_repeats;
  int n = stage_choices(e, sp, stage, sb->index, optional, ch);
  if (!n) return v_error();
  sb->cand = ARENA_ARRAY(e->a, IrCandidate, n + 1);
  e->superblock = sb->index;
  Value outs[IR_MAX_INPUTS + 1];
  for (int k = 0; k < n; k++) {
    e->candidate = k;
    if (is_depth_skip(&ch[k])) {
      outs[k] = depth_skip(e, sb, x);
      continue;
    }
    const char *prefix = g->is_space ? arena_printf(e->a, "encoder.residuals.%d.ops.%s.", sb->index, ch[k].name)
                                     : arena_printf(e->a, "encoder.residuals.%d.op.", sb->index);
    BlockCtx ctx = {.input = x, .cout = sb->cout, .stride = sb->stride, .prefix = prefix};
    outs[k] = space_instantiate(e, s, ch[k].expr, "candidate", &ctx);
  }
  if (g->is_space && optional && !has_skip(e, sb, outs, n) && n == IR_MAX_INPUTS) {
    elab_error(e, stg->st->loc, "drop a candidate, or put `skip` in the set", "a searchable depth adds a skip candidate, "
               "and the set already has %d (the most a superblock may have)", n);
    return v_error();
  }
  if (g->is_space && optional && !has_skip(e, sb, outs, n)) { /* the searchable depth's skip */
    ch[n] = (Choice){DEPTH_SKIP, "skip (depth)", NULL};
    e->candidate = n;
    outs[n] = depth_skip(e, sb, x);
    n++;
  }
  Shape expect = expected_size(e, sb, outs, n);
  bool ok = true;
  for (int k = 0; k < n; k++) {
    e->candidate = k;
    ok = (is_depth_skip(&ch[k]) || check_candidate(e, sb, &ch[k], outs[k], expect, n)) && ok;
    space_add_candidate(e, sb, ch[k], outs[k]);
  }
  e->candidate = -1;
  g->nsb++;
  if (ok && g->is_space) ok = widths_costs(e, sp, s, stage, rep, sb, ch);
  Value out = ok ? mix_candidates(e, sb, expect) : v_error();
  e->superblock = -1;
  if (out.kind == V_TENSOR && g->is_space && stg->nwidths) out = widths_mask(e, sp, stage, sb, out);
  if (out.kind == V_TENSOR) sb->out_shape = g->nodes[out.node].out, sb->output = out.node;
  return out;
}

static Value build_encoder(Elab *e, SpaceSpec *sp, Scope *s, Value x, Value *taps) {
  IrGraph *g = e->g;
  for (int st = 0; st < sp->nstages && x.kind == V_TENSOR; st++)
    for (int r = 0; r < sp->stages[st].repeats && x.kind == V_TENSOR; r++) {
      x = build_superblock(e, sp, s, st, r, x);
      if (x.kind == V_TENSOR) taps[g->nsb - 1] = x; /* a failed superblock may not have been added */
    }
  if (x.kind == V_TENSOR && g->is_space) widths_add_choices(e, sp);
  return x;
}

static bool check_genotype_length(Elab *e, SpaceSpec *sp, int nparts) {
  int want = sp->nblocks + nparts;
  if (!sp->network || sp->network->nitems == want) return true;
  const char *parts = "";
  for (int k = 0; k < PART__COUNT; k++)
    if (sp->part[k].nchoices) parts = arena_printf(e->a, "%s%s%s", parts, *parts ? ", " : "", k == PART_STEM ? "the stem" : k == PART_HEAD ? "the head" : "the decoder");
  elab_error(e, sp->network->loc,
             nparts ? arena_printf(e->a, "give one choice per superblock, in order, then %s", parts) : "give one choice per superblock, in order",
             "network `%s` gives %d choices but space `%s` has %d superblocks%s%s", sp->network->name, sp->network->nitems,
             sp->space->name, sp->nblocks, nparts ? " and chooses " : "", parts);
  return false;
}

bool space_logits_ok(Elab *e, SrcLoc loc, const char *which, Value out) {
  IrGraph *g = e->g;
  Shape o = g->nodes[out.node].out;
  if (o.c == g->classes && o.h == g->input.h && o.w == g->input.w) return true;
  elab_error(e, loc, "end the decoder with a resize to the input size, e.g. bilinear(x, like=image)",
             "the decoder%s produces %dx%dx%d but the network must output %dx%dx%d logits (classes x input size)", which,
             o.c, o.h, o.w, g->classes, g->input.h, g->input.w);
  return false;
}

static void check_output(Elab *e, SpaceSpec *sp, Value out) {
  IrGraph *g = e->g;
  Shape o = g->nodes[out.node].out;
  if (!space_logits_ok(e, sp->decoder->loc, "", out)) return;
  g->output = elab_add_node(e, OP_OUTPUT, &out.node, 1, sp->decoder->loc, "output");
  g->nodes[g->output].out = o;
}

static const Decl *select_target(Elab *e, const SourceFile *main_file) {
  const Decl *last = NULL;
  for (int i = 0; i < e->ndecls; i++) {
    const Decl *d = e->decls[i];
    if (d->kind != DECL_SPACE && d->kind != DECL_NETWORK) continue;
    if (e->opt->select ? !strcmp(d->name, e->opt->select) : d->loc.file == main_file) last = d;
  }
  if (last) return last;
  if (e->opt->select) {
    const char *names[128];
    int n = 0;
    for (int i = 0; i < e->ndecls && n < 128; i++)
      if (e->decls[i]->kind == DECL_SPACE || e->decls[i]->kind == DECL_NETWORK) names[n++] = e->decls[i]->name;
    const char *best = diag_closest(e->opt->select, names, n);
    diag_error(e->d, (SrcLoc){0}, best ? arena_printf(e->a, "did you mean `%s`?", best) : NULL,
               "no space or network named `%s`", e->opt->select);
  } else {
    diag_error(e->d, (SrcLoc){main_file, 1, 1}, "declare one with `space NAME { ... }` or `network NAME = SPACE [ ... ]`",
               "%s declares no space or network", main_file->path);
  }
  return NULL;
}

static bool prepare(Elab *e, const Decl *target, SpaceSpec *sp) {
  memset(sp, 0, sizeof *sp);
  if (target->kind == DECL_NETWORK) {
    sp->network = target;
    sp->space = elab_find(e, DECL_SPACE, target->base);
    if (!sp->space) {
      elab_error(e, target->base_loc, "a network is `network NAME = SPACE [ choices ]`; import the space's file",
                 "unknown space `%s`", target->base);
      return false;
    }
  } else {
    sp->space = target;
  }
  int before = e->d->errors;
  collect(e, sp->space->settings, sp, true);
  if (sp->network) collect(e, sp->network->settings, sp, false);
  if (e->d->errors > before) return false; /* avoid cascades (e.g. "no stages" after a bad stage) */
  if (!sp->nstages) elab_error(e, sp->space->loc, "add e.g. `stage 16 repeat 4 stride 2 choose squeezenas13`", "space `%s` has no stages", sp->space->name);
  if (!sp->decoder) elab_error(e, sp->space->loc, "add e.g. `decoder lr_aspp(low=tap(7))`", "space `%s` has no decoder", sp->space->name);
  if (e->d->errors || !widths_prepare(e, sp) || !parts_parse(e, sp)) return false;
  int nparts = parts_number(sp, sp->nblocks + sp->nwidth_stages);
  return check_genotype_length(e, sp, nparts);
}

/* The stem or head: the search's choice, the block the setting gives, or none (x). */
static Value build_stem_head(Elab *e, SpaceSpec *sp, PartKind k, Scope *s, Value x) {
  if (sp->part[k].nchoices) return parts_build(e, sp, k, s, x, NULL);
  const Setting *st = space_part_setting(sp, k);
  if (!st) return x;
  return k == PART_STEM ? build_part(e, s, st, x, "stem", parts_prefix(k)) : build_part(e, s, st, x, "head", parts_prefix(k));
}

static void build_graph(Elab *e, SpaceSpec *sp) {
  IrGraph *g = e->g;
  Scope s = {.prefix = ""};
  if (!build_input(e, sp)) return;
  int nparts = 0;
  for (int k = 0; k < PART__COUNT; k++) nparts += sp->part[k].nchoices > 0;
  /* the encoder's superblocks, the width choices, the chosen parts (stem, head, decoder) */
  g->sb = ARENA_ARRAY(e->a, IrSuperblock, sp->nblocks + sp->nwidth_stages + nparts + 1);
  Value x = v_tensor(0), image = x;
  x = build_stem_head(e, sp, PART_STEM, &s, x);
  if (x.kind != V_TENSOR) return;
  g->stem_output = x.node;
  Value *taps = ARENA_ARRAY(e->a, Value, sp->nblocks ? sp->nblocks : 1);
  x = build_encoder(e, sp, &s, x, taps);
  if (x.kind == V_TENSOR) x = build_stem_head(e, sp, PART_HEAD, &s, x);
  if (x.kind != V_TENSOR) return;
  g->encoder_output = x.node;
  Scope ds = {.prefix = "", .taps = taps, .ntaps = sp->nblocks};
  if (sp->decoder->nvalues != 1 && !sp->part[PART_DECODER].nchoices) {
    elab_error(e, sp->decoder->loc, "or let the search choose: `decoder choose SET`", "`decoder` takes one block");
    return;
  }
  Value out;
  if (sp->part[PART_DECODER].nchoices) {
    out = parts_build(e, sp, PART_DECODER, &ds, x, &image);
  } else {
    BlockCtx ctx = {.input = x, .cout = -1, .stride = -1, .prefix = "decoder.", .classes = g->classes, .image = &image};
    out = space_instantiate(e, &ds, sp->decoder->values->value, "decoder", &ctx);
  }
  g->nsb = sp->nblocks + (g->is_space ? sp->nwidth_stages : 0) + nparts;
  if (out.kind == V_TENSOR) check_output(e, sp, out);
  if (out.kind == V_TENSOR && g->is_space && sp->nwidth_stages) widths_tail_costs(e, sp);
}

/* The MACs and parameters of nodes [from, to) of g, added to sum. */
static void range_cost(IrGraph *g, int from, int to, int64_t sum[2]) {
  for (int i = from; i < to; i++) sum[0] += g->nodes[i].macs, sum[1] += g->nodes[i].params;
}

/* The head (the one block, or head choice candidate `head`) on x: its output; the part's nodes are from *first on. */
static Value tail_head(Elab *e, SpaceSpec *sp, Scope *s, Value x, int head) {
  if (sp->part[PART_HEAD].nchoices) {
    BlockCtx ctx = {.input = x, .cout = -1, .stride = -1, .prefix = parts_prefix(PART_HEAD)};
    return space_instantiate(e, s, sp->part[PART_HEAD].choices[head].expr, "head", &ctx);
  }
  return sp->head ? build_part(e, s, sp->head, x, "head", parts_prefix(PART_HEAD)) : x;
}

bool space_tail_cost(Elab *e, SpaceSpec *sp, const int *widths, int head, int dec, int64_t part[PART__COUNT][2]) {
  IrGraph *real = e->g, *g = ir_new(e->a);
  int ssb = e->superblock, scand = e->candidate;
  g->input = real->input, g->classes = real->classes;
  e->g = g, e->superblock = e->candidate = -1;
  Value image = v_tensor(elab_add_node(e, OP_INPUT, NULL, 0, sp->space->loc, "input"));
  g->nodes[image.node].out = g->input;
  Value *taps = ARENA_ARRAY(e->a, Value, sp->nblocks);
  for (int i = 0; i < sp->nblocks; i++) { /* the encoder's outputs as inputs, the stage's at this width */
    Shape o = real->sb[i].out_shape;
    if (widths[real->sb[i].stage] > 0) o.c = widths[real->sb[i].stage];
    taps[i] = v_tensor(elab_add_node(e, OP_INPUT, NULL, 0, sp->space->loc, "tap"));
    g->nodes[taps[i].node].out = o;
  }
  Scope s = {.prefix = ""}, ds = {.prefix = "", .taps = taps, .ntaps = sp->nblocks};
  int h0 = g->nnodes;
  Value x = tail_head(e, sp, &s, taps[sp->nblocks - 1], head);
  int d0 = g->nnodes;
  if (x.kind == V_TENSOR) {
    BlockCtx ctx = {.input = x, .cout = -1, .stride = -1, .prefix = "decoder.", .classes = g->classes, .image = &image};
    const StageSpec *dc = &sp->part[PART_DECODER];
    x = space_instantiate(e, &ds, dc->nchoices ? dc->choices[dec].expr : sp->decoder->values->value, "decoder", &ctx);
  }
  memset(part, 0, sizeof(int64_t) * PART__COUNT * 2);
  if (x.kind == V_TENSOR) {
    IrCostTotals t;
    ir_compute_costs(g, &t);
    range_cost(g, h0, d0, part[PART_HEAD]);
    range_cost(g, d0, g->nnodes, part[PART_DECODER]);
  }
  e->g = real, e->superblock = ssb, e->candidate = scand;
  return x.kind == V_TENSOR;
}

/* After a failed build: when the input is not a multiple of the output stride of the stem and the
   stages, sizes were rounded at each stride and may have stopped matching (a concat or an add of two
   paths), so the error deep in a block is most likely the input size's fault: say so at the input. */
static void note_output_stride(Elab *e, const SpaceSpec *sp) {
  const IrGraph *g = e->g;
  if (!g->nnodes || g->input.h < 1) return;
  int stem = 1;
  if (g->stem_output > 0 && g->nodes[g->stem_output].out.h > 0) stem = g->input.h / g->nodes[g->stem_output].out.h;
  long os = stem > 0 ? stem : 1;
  for (int i = 0; i < sp->nstages && os < 1 << 20; i++) os *= sp->stages[i].stride > 0 ? sp->stages[i].stride : 1;
  if (os <= 1 || (g->input.h % os == 0 && g->input.w % os == 0)) return;
  int h = (int)((g->input.h + os - 1) / os * os), w = (int)((g->input.w + os - 1) / os * os);
  diag_note(e->d, sp->input ? sp->input->loc : sp->space->loc,
            "the input %dx%d is not a multiple of %ld, the output stride of the stem and stages, so sizes are "
            "rounded at each stride and may stop matching: use e.g. %dx%d (--input %dx%dx%d)",
            g->input.h, g->input.w, os, h, w, g->input.c, h, w);
}

static int cmp_param_name(const void *a, const void *b) {
  return strcmp((*(const IrParam *const *)a)->name, (*(const IrParam *const *)b)->name);
}

/* Two parameters with one name could not be loaded from a state_dict: usually a name= clash. */
static void check_unique_params(Elab *e) {
  IrGraph *g = e->g;
  const IrParam **v = ARENA_ARRAY(e->a, const IrParam *, g->nparams + 1);
  for (int i = 0; i < g->nparams; i++) v[i] = &g->params[i];
  qsort(v, (size_t)g->nparams, sizeof *v, cmp_param_name);
  for (int i = 1; i < g->nparams && !diag_too_many(e->d); i++)
    if (!strcmp(v[i]->name, v[i - 1]->name)) {
      const IrNode *n = &g->nodes[v[i]->node];
      elab_error(e, n->loc, "give one of the ops a different name= (name=\"\" shares the caller's names)",
                 "parameter `%s` is defined twice", v[i]->name);
      diag_note(e->d, g->nodes[v[i - 1]->node].loc, "the other definition is here");
    }
}

IrGraph *space_build(Elab *e, const SourceFile *main_file) {
  const Decl *target = select_target(e, main_file);
  if (!target) return NULL;
  e->g = ir_new(e->a);
  e->g->name = target->name;
  e->g->is_space = target->kind == DECL_SPACE;
  SpaceSpec sp;
  if (!prepare(e, target, &sp)) return NULL;
  if (sp.search) settings_search(e, sp.search->body, &e->g->search);
  if (sp.net_search) settings_search(e, sp.net_search->body, &e->g->search);
  if (sp.train) settings_train(e, sp.train->body, &e->g->train);
  if (sp.net_train) settings_train(e, sp.net_train->body, &e->g->train);
  int before = e->d->errors;
  build_graph(e, &sp);
  if (e->d->errors > before) note_output_stride(e, &sp);
  if (!e->d->errors) check_unique_params(e);
  if (!e->d->errors) ir_prune_dead(e->g, e->d);
  return e->d->errors ? NULL : e->g;
}
