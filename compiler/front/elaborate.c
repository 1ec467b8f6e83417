/* elaborate.c - loads modules and imports, builds the symbol table, and instantiates blocks:
   parameter binding, implicit names (in, cin, cout, stride), statements and `out`. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "elab.h"
#include "source.h"
#include "space.h"

#define MAX_BLOCK_DEPTH 32

/* Two namespaces: what is called (blocks, functions) and what is named in settings (sets, spaces, networks). */
static NameMap *decl_names(Elab *e, DeclKind kind) {
  return kind == DECL_BLOCK || kind == DECL_FUNCTION ? &e->block_decls : &e->other_decls;
}

const Decl *elab_find(const Elab *e, DeclKind kind, const char *name) {
  const Decl *d = name_map_get(decl_names((Elab *)e, kind), name);
  return d && d->kind == kind ? d : NULL;
}

static const char *decl_kind_name(DeclKind k) {
  static const char *n[] = {"import", "block", "candidate set", "space", "network", "function"};
  return n[k];
}

static void register_decl(Elab *e, const Decl *d) {
  if (d->kind == DECL_IMPORT) return;
  NameMap *names = decl_names(e, d->kind);
  const Decl *o = name_map_get(names, d->name);
  if (o) {
    if (o->kind == d->kind)
      diag_error(e->d, d->loc, "rename one of them", "%s `%s` is defined twice", decl_kind_name(d->kind), d->name);
    else
      diag_error(e->d, d->loc, "rename one of them", "%s `%s` has the name of a %s", decl_kind_name(d->kind),
                 d->name, decl_kind_name(o->kind));
    diag_note(e->d, o->loc, "the first definition is here");
    return;
  }
  if ((d->kind == DECL_BLOCK || d->kind == DECL_FUNCTION) && (builtin_is_op(d->name) || builtin_is_function(d->name))) {
    diag_error(e->d, d->loc, "pick another name", "%s `%s` would hide the built-in %s of the same name",
               decl_kind_name(d->kind), d->name, builtin_is_op(d->name) ? "op" : "function");
    return;
  }
  if (e->ndecls == e->cap_decls) {
    e->cap_decls = e->cap_decls ? e->cap_decls * 2 : 64;
    const Decl **nd = ARENA_ARRAY(e->a, const Decl *, e->cap_decls);
    if (e->ndecls) memcpy(nd, e->decls, sizeof *nd * (size_t)e->ndecls);
    e->decls = nd;
  }
  e->decls[e->ndecls++] = d;
  name_map_put(names, d->name, (void *)d);
}

/* Import resolution: next to the importing file, then -I folders, then the standard library. */
static const char *resolve_import(Elab *e, const SourceFile *from, const char *path) {
  const char *dirs[12];
  int n = 0;
  if (from) { /* from == NULL: the standard library only */
    const char *slash = strrchr(from->path, '/');
    dirs[n++] = slash ? arena_strndup(e->a, from->path, (size_t)(slash - from->path)) : ".";
  }
  for (int i = 0; i < e->opt->ninclude && n < 10; i++) dirs[n++] = e->opt->include_dirs[i];
  const char *env = getenv("SQN_STDLIB");
  dirs[n++] = env && *env ? env : SQN_STDLIB_DIR;
  for (int i = 0; i < n; i++) {
    const char *p = path[0] == '/' ? path : arena_printf(e->a, "%s/%s", dirs[i], path);
    FILE *f = fopen(p, "rb");
    if (f) {
      fclose(f);
      return p;
    }
    if (path[0] == '/') break;
  }
  return NULL; /* (a path that is a folder fails in source_load with a clear message) */
}

static void load_module(Elab *e, const SourceFile *file, int depth);

static void do_import(Elab *e, const SourceFile *from, const Decl *d, int depth) {
  if (e->opt->no_stdlib_fs && (strncmp(d->name, "std/", 4) || strstr(d->name, ".."))) {
    diag_error(e->d, d->loc, NULL, "imports outside std/ are disabled here");
    return;
  }
  const char *p = resolve_import(e, e->opt->no_stdlib_fs ? NULL : from, d->name);
  if (!p) {
    diag_error(e->d, d->loc, "imports are looked up next to this file, in -I folders, then in the standard library (std/...)",
               "cannot find import \"%s\"", d->name);
    return;
  }
  char *real = realpath(p, NULL);
  const char *key = real ? arena_strdup(e->a, real) : p;
  free(real);
  for (int i = 0; i < e->nfiles; i++)
    if (!strcmp(e->file_keys[i], key)) return; /* already loaded: imports are idempotent */
  const char *err = NULL;
  SourceFile *f = source_load(e->a, p, &err);
  if (!f) {
    diag_error(e->d, d->loc, NULL, "cannot read import \"%s\": %s", d->name, err);
    return;
  }
  if (e->nfiles < e->cap_files) e->file_keys[e->nfiles++] = key;
  load_module(e, f, depth + 1);
}

static void load_module(Elab *e, const SourceFile *file, int depth) {
  if (depth > 32) {
    diag_error(e->d, (SrcLoc){file, 1, 1}, "imports nest more than 32 files deep; flatten them", "import chain too deep");
    return;
  }
  Module *m = parse_source(e->a, e->d, file);
  for (const Decl *d = m->decls; d; d = d->next) {
    if (d->kind == DECL_IMPORT) do_import(e, file, d, depth);
    else register_decl(e, d);
  }
}

/* The name of the next op or block in scope s: its sequential index, or the explicit name= given;
   an explicit name starting with '/' is absolute (outside the scope's prefix; inside a decoder the search chooses,
   under that decoder's prefix, so that two candidate decoders cannot collide). */
const char *scope_next_name(Elab *e, Scope *s, const char *explicit_name) {
  int idx = s->counter++;
  if (explicit_name && explicit_name[0] == '/') return arena_printf(e->a, "%s%s", e->name_root ? e->name_root : "", explicit_name + 1);
  if (explicit_name) return arena_printf(e->a, "%s%s", s->prefix, explicit_name);
  return arena_printf(e->a, "%s%d", s->prefix, idx);
}

int elab_add_node(Elab *e, OpKind kind, const int *inputs, int n, SrcLoc loc, const char *name) {
  int id = ir_add_node(e->g, kind, inputs, n);
  IrNode *node = &e->g->nodes[id];
  node->loc = loc;
  node->name = name;
  node->superblock = e->superblock;
  node->candidate = e->candidate;
  return id;
}

static bool check_type(Elab *e, const Param *p, Value *v, SrcLoc loc, const Decl *blk) {
  ValueKind want[] = {V_NONE, V_INT, V_FLOAT, V_BOOL, V_TENSOR, V_TUPLE, V_STRING};
  if (p->type == TY_ANY || v->kind == V_ERROR || v->kind == want[p->type]) return true;
  if (p->type == TY_FLOAT && v->kind == V_INT) {
    *v = v_float((double)v->i);
    return true;
  }
  int64_t i;
  if (p->type == TY_INT && v->kind == V_FLOAT) { /* value_as_int reports a non-integral float */
    if (!value_as_int(e, *v, loc, p->name, &i)) return false;
    *v = v_int(i);
    return true;
  }
  elab_error(e, loc, NULL, "parameter `%s` of `%s` is %s, got %s", p->name, blk->name, ast_type_name(p->type),
             value_to_string(e, *v));
  return false;
}

static const Param *find_param(const Decl *blk, const char *name, int *index) {
  int i = 0;
  for (const Param *p = blk->params; p; p = p->next, i++)
    if (!strcmp(p->name, name)) {
      *index = i;
      return p;
    }
  return NULL;
}

static void unknown_param(Elab *e, const Decl *blk, const Arg *g) {
  const char *names[40];
  int n = 0;
  for (const Param *p = blk->params; p && n < 37; p = p->next) names[n++] = p->name;
  if (blk->kind == DECL_BLOCK) names[n++] = "cout", names[n++] = "stride", names[n++] = "name";
  elab_error(e, g->loc, hint_unknown_param(e, blk->name, g->name, names, n), "%s `%s` has no parameter `%s`",
             blk->kind == DECL_BLOCK ? "block" : "function", blk->name, g->name);
}

typedef struct CallArgs {
  Value v[32];
  bool has[32];
  SrcLoc loc[32];
  int cout, stride;          /* -1 when not given */
  const char *name;
} CallArgs;

static bool named_int(Elab *e, Scope *caller, const Arg *g, int *out) {
  int64_t i;
  Value v = eval_expr(e, caller, g->value);
  if (!value_as_int(e, v, g->loc, g->name, &i)) return false;
  if (i < 1 || i > 100000) {
    elab_error(e, g->loc, NULL, "%s must be positive, got %lld", g->name, (long long)i);
    return false;
  }
  *out = (int)i;
  return true;
}

static bool bind_call_args(Elab *e, Scope *caller, const Decl *blk, const Expr *call, const Value *pos, int npos,
                           const Arg *named, CallArgs *ca) {
  int nparams = 0;
  for (const Param *p = blk->params; p; p = p->next) nparams++;
  if (npos > nparams || nparams > 32) {
    elab_error(e, call->loc, NULL, "%s `%s` takes %d parameters, got %d", blk->kind == DECL_BLOCK ? "block" : "function",
               blk->name, nparams, npos);
    return false;
  }
  for (int i = 0; i < npos; i++) ca->v[i] = pos[i], ca->has[i] = true, ca->loc[i] = call->loc;
  bool ok = true;
  for (const Arg *g = named; g; g = g->next) {
    if (!g->name) continue;
    int idx;
    bool block = blk->kind == DECL_BLOCK;
    if (block && !strcmp(g->name, "cout")) ok &= named_int(e, caller, g, &ca->cout);
    else if (block && !strcmp(g->name, "stride")) ok &= named_int(e, caller, g, &ca->stride);
    else if (block && !strcmp(g->name, "name")) {
      Value v = eval_expr(e, caller, g->value);
      if (v.kind != V_STRING) {
        elab_error(e, g->loc, NULL, "name= must be a string");
        ok = false;
      }
      ca->name = v.s;
    } else if (!find_param(blk, g->name, &idx)) {
      unknown_param(e, blk, g);
      ok = false;
    } else if (ca->has[idx]) {
      elab_error(e, g->loc, NULL, "parameter `%s` of `%s` is given twice", g->name, blk->name);
      ok = false;
    } else {
      ca->v[idx] = eval_expr(e, caller, g->value), ca->has[idx] = true, ca->loc[idx] = g->loc;
      ok &= ca->v[idx].kind != V_ERROR;
    }
  }
  return ok;
}

static void bind_implicit(Elab *e, Scope *ns, const BlockCtx *ctx, const CallArgs *ca) {
  Shape in = e->g->nodes[ctx->input.node].out;
  int cout = ca->cout > 0 ? ca->cout : ctx->cout > 0 ? ctx->cout : ctx->classes > 0 ? ctx->classes : in.c;
  int stride = ca->stride > 0 ? ca->stride : ctx->stride > 0 ? ctx->stride : 1;
  scope_bind(e, ns, "in", ctx->input);
  scope_bind(e, ns, "cin", v_int(in.c));
  scope_bind(e, ns, "cout", v_int(cout));
  scope_bind(e, ns, "stride", v_int(stride));
  if (ctx->classes > 0) scope_bind(e, ns, "classes", v_int(ctx->classes));
  if (ctx->image) scope_bind(e, ns, "image", *ctx->image);
}

static bool bind_params(Elab *e, Scope *ns, const Decl *blk, const Expr *call, CallArgs *ca) {
  int i = 0;
  bool ok = true;
  for (const Param *p = blk->params; p; p = p->next, i++) {
    Value v;
    SrcLoc loc = ca->has[i] ? ca->loc[i] : p->loc;
    if (ca->has[i]) v = ca->v[i];
    else if (p->deflt) v = eval_expr(e, ns, p->deflt);
    else {
      elab_error(e, call->loc, arena_printf(e->a, "pass it as `%s=...`", p->name), "%s `%s` needs parameter `%s`",
                 blk->kind == DECL_BLOCK ? "block" : "function", blk->name, p->name);
      ok = false;
      continue;
    }
    if (v.kind == V_ERROR || !check_type(e, p, &v, loc, blk)) ok = false;
    scope_bind(e, ns, p->name, v);
  }
  return ok;
}

Value elab_call_block(Elab *e, Scope *caller, const Decl *blk, const Expr *call, const BlockCtx *ctx,
                      const Value *pos, int npos, const Arg *named) {
  if (caller && caller->depth >= MAX_BLOCK_DEPTH) {
    elab_error(e, call->loc, "a block may not (indirectly) instantiate itself", "blocks nested more than %d deep",
               MAX_BLOCK_DEPTH);
    return v_error();
  }
  if (!elab_can_add_nodes(e, call->loc)) return v_error();
  CallArgs ca;
  memset(&ca, 0, sizeof ca);
  ca.cout = ca.stride = -1;
  if (!bind_call_args(e, caller, blk, call, pos, npos, named, &ca)) return v_error();
  Scope ns = {.block = blk, .call_site = call->loc, .parent = caller, .depth = caller ? caller->depth + 1 : 1};
  if (ctx->prefix && ca.name) {
    elab_error(e, call->loc, "the stem, stages, head and decoder have fixed upstream names (see docs/language.md)",
               "name= is not allowed here: this block's parameters are named %s*", ctx->prefix);
    return v_error();
  }
  if (ctx->prefix) ns.prefix = ctx->prefix;
  else if (ca.name && !ca.name[0]) ns.prefix = (caller->counter++, caller->prefix); /* name="": caller's namespace */
  else ns.prefix = arena_printf(e->a, "%s.", scope_next_name(e, caller, ca.name));
  Scope *saved = e->scope;
  e->scope = &ns;
  bind_implicit(e, &ns, ctx, &ca);
  Value out = v_error();
  if (bind_params(e, &ns, blk, call, &ca)) {
    run_statements(e, &ns, blk, blk->body);
    if (!scope_lookup(&ns, "out", &out)) {
      elab_error(e, blk->loc, "assign the block's result: `out = ...`", "block `%s` never assigns `out`", blk->name);
      out = v_error();
    } else if (out.kind != V_TENSOR && out.kind != V_ERROR) {
      elab_error(e, blk->loc, NULL, "`out` of block `%s` must be a tensor, got %s", blk->name,
                 value_to_string(e, out));
      out = v_error();
    }
  }
  e->scope = saved;
  return out;
}

Value call_function(Elab *e, Scope *caller, const Decl *fn, const Expr *call, const Value *pos, int npos,
                    const Arg *named) {
  if (caller && caller->depth >= MAX_BLOCK_DEPTH) {
    elab_error(e, call->loc, "a function may call itself, but not this deep", "calls nested more than %d deep",
               MAX_BLOCK_DEPTH);
    return v_error();
  }
  CallArgs ca;
  memset(&ca, 0, sizeof ca);
  ca.cout = ca.stride = -1;
  if (!bind_call_args(e, caller, fn, call, pos, npos, named, &ca)) return v_error();
  Scope ns = {.block = fn, .call_site = call->loc, .parent = caller, .depth = caller ? caller->depth + 1 : 1,
              .prefix = "", .in_function = true};
  Scope *saved = e->scope;
  e->scope = &ns;
  Value out = v_error();
  int errors = e->d->errors;
  if (bind_params(e, &ns, fn, call, &ca)) {
    run_statements(e, &ns, fn, fn->body);
    if (ns.result) out = *ns.result;
    else if (e->d->errors == errors)
      elab_error(e, fn->loc, "end each path with `return VALUE`", "function `%s` ended without `return`", fn->name);
  }
  e->scope = saved;
  return out;
}

static bool is_library(const Elab *e, const SourceFile *main_file) {
  for (int i = 0; i < e->ndecls; i++)
    if ((e->decls[i]->kind == DECL_SPACE || e->decls[i]->kind == DECL_NETWORK) && e->decls[i]->loc.file == main_file)
      return false;
  return true;
}

static IrGraph *compile_loaded(Elab *e, const SourceFile *main_file) {
  load_module(e, main_file, 0);
  if (e->d->errors || !resolve_blocks(e)) return NULL;
  if (e->opt->allow_library && !e->opt->select && is_library(e, main_file)) {
    IrGraph *g = ir_new(e->a); /* nothing to build: name == NULL, no nodes */
    return g;
  }
  return space_build(e, main_file);
}

static void elab_init(Elab *e, Arena *a, Diag *d, const CompileOptions *opt) {
  static const CompileOptions none;
  memset(e, 0, sizeof *e);
  e->a = a;
  e->d = d;
  e->opt = opt ? opt : &none;
  e->cap_files = 256;
  e->file_keys = ARENA_ARRAY(a, const char *, e->cap_files);
  e->superblock = e->candidate = -1;
  e->block_decls.a = e->other_decls.a = a;
}

IrGraph *compile_file(Arena *a, Diag *d, const char *path, const CompileOptions *opt) {
  Elab e;
  elab_init(&e, a, d, opt);
  const char *err = NULL;
  SourceFile *f = source_load(a, path, &err);
  if (!f) {
    diag_error(d, (SrcLoc){0}, "check the path", "cannot read %s: %s", path, err);
    return NULL;
  }
  char *real = realpath(path, NULL);
  e.file_keys[e.nfiles++] = arena_strdup(a, real ? real : path);
  free(real);
  return compile_loaded(&e, f);
}

IrGraph *compile_source(Arena *a, Diag *d, const char *name, const char *text, size_t len, const CompileOptions *opt) {
  Elab e;
  elab_init(&e, a, d, opt);
  return compile_loaded(&e, source_from_memory(a, name, text, len));
}
