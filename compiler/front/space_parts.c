/* space_parts.c - the stem, head and decoder as choices of the search (`stem choose SET`, `head choose SET`,
   `decoder choose SET`). Each becomes a superblock after the encoder's and the width choices (stem, head, then
   the decoder, always last) whose candidates are block calls: in a space they all run on the part's input,
   parameters under PREFIX.ops.NAME., mixed per sample by their own theta PREFIX.gumble_arch_params; a network
   names its choices after its superblocks' (stem, head, decoder) and its part's parameters are PREFIX.*. */
#include <string.h>
#include "space.h"
#include "space_internal.h"

static const char *const part_names[PART__COUNT] = {"stem", "head", "decoder"};
static const char *const part_prefixes[PART__COUNT] = {"encoder.conv1.", "encoder.last_conv.", "decoder."};
static const char *const part_examples[PART__COUNT] = {
    "e.g. `stem choose [conv_bn_relu(cout=16, k=3, stride=2), conv_bn_relu(cout=16, k=5, stride=2)]`",
    "e.g. `head choose [conv_bn_relu(cout=256), conv_bn_relu(cout=256, k=3)]`",
    "e.g. `decoder choose decoders` or `decoder choose [lr_aspp(low=tap(7)), dwaspp(low=tap(7))]`"};

const char *parts_prefix(PartKind k) { return part_prefixes[k]; }

bool parts_parse(Elab *e, SpaceSpec *sp) {
  for (int k = 0; k < PART__COUNT; k++) {
    const Setting *st = space_part_setting(sp, (PartKind)k);
    const Expr *x = st && st->values ? st->values->value : NULL;
    StageSpec *part = &sp->part[k];
    memset(part, 0, sizeof *part);
    if (!x || x->kind != EX_IDENT || strcmp(x->str, "choose")) continue;
    if (st->nvalues != 2) {
      elab_error(e, st->loc, part_examples[k], "`%s choose` takes one candidate set", part_names[k]);
      return false;
    }
    part->st = st;
    part->choices = ARENA_ARRAY(e->a, Choice, IR_MAX_INPUTS);
    part->nchoices = candidate_set_expand(e, st->values->next->value, part->choices, IR_MAX_INPUTS, &part->set);
    if (part->nchoices <= 0) return part->nchoices = 0, false;
  }
  return true;
}

int parts_number(SpaceSpec *sp, int base) {
  int n = 0;
  for (int k = 0; k < PART__COUNT; k++) sp->part_sb[k] = sp->part[k].nchoices ? base + n++ : -1;
  return n;
}

const Arg *parts_item(const SpaceSpec *sp, PartKind k) {
  const Arg *item = sp->network->items;
  for (int i = 0; i < sp->nblocks && item; i++) item = item->next;
  for (int j = 0; j < (int)k && item; j++)
    if (sp->part[j].nchoices) item = item->next;
  return item;
}

/* The candidates part k builds: all of the set (space) or the network's one; their number (0: reported). */
static int part_choices(Elab *e, SpaceSpec *sp, PartKind k, Choice *ch) {
  const StageSpec *part = &sp->part[k];
  if (!sp->network) {
    memcpy(ch, part->choices, sizeof *ch * (size_t)part->nchoices);
    return part->nchoices;
  }
  const Arg *item = parts_item(sp, k);
  if (!item) return 0; /* the genotype's length was checked */
  return space_genotype_choice(e, part, item, &ch[0]) ? 1 : 0;
}

/* A candidate's output fits: the decoder's gives the logits, a stem's or head's the first candidate's shape. */
static bool output_ok(Elab *e, PartKind k, const Choice *c, Value out, Value first) {
  if (out.kind != V_TENSOR) return false;
  if (k == PART_DECODER) return space_logits_ok(e, c->expr->loc, arena_printf(e->a, " `%s`", c->display), out);
  Shape o = e->g->nodes[out.node].out, f = e->g->nodes[first.node].out;
  if (o.c == f.c && o.h == f.h && o.w == f.w) return true;
  elab_error(e, c->expr->loc, arena_printf(e->a, "every %s the search chooses from must give the same output shape",
                                           part_names[k]),
             "%s `%s` produces %dx%dx%d, the first candidate %dx%dx%d", part_names[k], c->display, o.c, o.h, o.w, f.c,
             f.h, f.w);
  return false;
}

static Value mix_part(Elab *e, PartKind k, IrSuperblock *sb, const Value *outs) {
  IrGraph *g = e->g;
  int ins[IR_MAX_INPUTS];
  for (int c = 0; c < sb->ncand; c++) ins[c] = sb->cand[c].output;
  int mix = elab_add_node(e, OP_MIX, ins, sb->ncand, sb->loc, arena_printf(e->a, "%smix", part_prefixes[k]));
  g->nodes[mix].out = g->nodes[outs[0].node].out;
  int theta[2] = {sb->ncand, 1};
  ir_add_param(g, mix, PARAM_ARCH, arena_printf(e->a, "%sgumble_arch_params", part_prefixes[k]), 2, theta);
  return v_tensor(mix);
}

Value parts_build(Elab *e, SpaceSpec *sp, PartKind k, Scope *s, Value x, Value *image) {
  IrGraph *g = e->g;
  IrSuperblock *sb = &g->sb[sp->part_sb[k]];
  Shape in = g->nodes[x.node].out;
  *sb = (IrSuperblock){.index = sp->part_sb[k], .stage = k == PART_STEM ? 0 : sp->nstages, .is_stem = k == PART_STEM,
                       .is_head = k == PART_HEAD, .is_decoder = k == PART_DECODER, .cin = in.c, .stride = 1,
                       .in_shape = in, .input = x.node, .loc = sp->part[k].st->loc, .width_in = -1, .width_out = -1};
  Choice ch[IR_MAX_INPUTS];
  int n = part_choices(e, sp, k, ch);
  if (!n) return v_error();
  sb->cand = ARENA_ARRAY(e->a, IrCandidate, n);
  e->superblock = sb->index;
  Value outs[IR_MAX_INPUTS] = {v_error()};
  bool ok = true;
  for (int c = 0; c < n; c++) {
    e->candidate = c;
    const char *prefix = g->is_space ? arena_printf(e->a, "%sops.%s.", part_prefixes[k], ch[c].name) : part_prefixes[k];
    BlockCtx ctx = {.input = x, .cout = -1, .stride = -1, .prefix = prefix};
    if (k == PART_DECODER) ctx.classes = g->classes, ctx.image = image;
    e->name_root = prefix; /* absolute names (name="/x") stay under the candidate's prefix */
    outs[c] = space_instantiate(e, s, ch[c].expr, part_names[k], &ctx);
    e->name_root = NULL;
    ok = output_ok(e, k, &ch[c], outs[c], outs[0]) && ok;
    space_add_candidate(e, sb, ch[c], outs[c]);
  }
  e->candidate = -1;
  Value out = !ok ? v_error() : g->is_space ? mix_part(e, k, sb, outs) : outs[0];
  e->superblock = -1;
  if (out.kind == V_TENSOR) {
    sb->out_shape = g->nodes[out.node].out, sb->output = out.node, sb->cout = sb->out_shape.c;
    if (k == PART_STEM && sb->out_shape.h > 0 && in.h >= sb->out_shape.h) sb->stride = in.h / sb->out_shape.h;
  }
  return out;
}
