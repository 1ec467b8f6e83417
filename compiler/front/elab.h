/* elab.h - internal interface between the elaborator (elaborate.c), the expression
   evaluator (eval.c) and the primitive ops (builtins.c). Not used outside compiler/. */
#ifndef SQN_ELAB_H
#define SQN_ELAB_H
#include "ast.h"
#include "compile.h"
#include "ir.h"
#include "name_map.h"

/* V_TUPLE holds tuples and lists alike; V_CALLABLE is an op, block or function passed as a value. */
typedef enum { V_NONE, V_INT, V_FLOAT, V_BOOL, V_STRING, V_TENSOR, V_TUPLE, V_ERROR, V_CALLABLE } ValueKind;

typedef struct Value {
  ValueKind kind;
  int64_t i;            /* V_INT, V_BOOL */
  double f;             /* V_FLOAT */
  const char *s;        /* V_STRING; V_CALLABLE: the op, block or function's name */
  int node;             /* V_TENSOR */
  struct Value *items;  /* V_TUPLE */
  int n;
} Value;

typedef struct Binding {
  const char *name;
  Value value;
  struct Binding *next;
} Binding;

/* One instantiation of a block (or the space body): variables, naming and call site. */
typedef struct Scope {
  Binding *vars;             /* newest first */
  NameMap index;             /* name -> its newest Binding (the arena is set on first bind) */
  const char *prefix;        /* parameter name prefix, e.g. "encoder.residuals.3.op." */
  int counter;               /* next sequential op index (nn.Sequential numbering) */
  const Decl *block;         /* NULL for the space level */
  SrcLoc call_site;          /* where this block was instantiated */
  struct Scope *parent;
  int depth;
  const Value *taps;         /* decoder context: outputs of the superblocks, for tap(i) */
  int ntaps;
  bool transparent;          /* a comprehension's scope: names not found here are looked up in parent */
  bool in_function;          /* inside a `def` function: no ops may be built */
  const Value *result;       /* a function's `return` value once reached */
} Scope;

typedef struct Elab {
  Arena *a;
  Diag *d;
  IrGraph *g;
  const CompileOptions *opt;
  /* symbol tables over every loaded module */
  const Decl **decls;
  int ndecls, cap_decls;
  NameMap block_decls, other_decls; /* name -> Decl: blocks, and sets/spaces/networks (two namespaces) */
  const SourceFile **files;  /* loaded files, to make imports idempotent */
  const char **file_keys;
  int nfiles, cap_files;
  int superblock, candidate; /* where new nodes go */
  const char *name_root;     /* what absolute names (name="/x") are relative to: "" (NULL), or a chosen decoder's prefix */
  Scope *scope;              /* innermost scope, for "instantiated from" notes */
  bool abort;                /* a limit was hit: stop elaborating (every evaluation returns an error) */
  int eval_depth;            /* nesting of eval_expr, bounded */
  long long loop_steps;      /* iterations of loops and comprehensions so far, bounded */
} Elab;

/* values */
Value v_int(int64_t i);
Value v_float(double f);
Value v_bool(bool b);
Value v_tensor(int node);
Value v_error(void);
const char *value_kind_name(ValueKind k);
const char *value_to_string(Elab *e, Value v);
bool value_equal(Value a, Value b);

/* eval.c */
Value eval_expr(Elab *e, Scope *s, const Expr *x);
/* The op, block or function a call of `name` in scope s means: the value a variable of that name
   holds (a callable passed as an argument), else name itself; NULL (reported) when a variable of that
   name holds something else. */
const char *eval_callee(Elab *e, Scope *s, const char *name, SrcLoc loc);
/* A scope for a comprehension inside s: new names stay in it, others are looked up in s. */
Scope scope_inner(Scope *s);
/* After evaluating in an inner scope: its op counter goes back to s. */
void scope_leave(Scope *s, const Scope *inner);
bool scope_lookup(const Scope *s, const char *name, Value *out);
void scope_bind(Elab *e, Scope *s, const char *name, Value v);
void elab_error(Elab *e, SrcLoc loc, const char *hint, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void elab_warning(Elab *e, SrcLoc loc, const char *hint, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
bool elab_can_add_nodes(Elab *e, SrcLoc loc);
/* Counts one iteration of a loop or comprehension; false (after one error) past the limit. */
bool elab_loop_step(Elab *e, SrcLoc loc);
bool value_as_int(Elab *e, Value v, SrcLoc loc, const char *what, int64_t *out);
bool value_as_pair(Elab *e, Value v, SrcLoc loc, const char *what, int out[2]);

/* builtins.c: primitive ops and scalar functions */
bool builtin_is_op(const char *name);
bool builtin_is_function(const char *name);
Value builtin_call(Elab *e, Scope *s, const Expr *call, const Value *pos, int npos, const Arg *named);
Value builtin_binary_tensor(Elab *e, Scope *s, Operator op, Value a, Value b, SrcLoc loc);
/* -t: an affine node (alpha -1). */
Value builtin_negate(Elab *e, Scope *s, Value t, SrcLoc loc);
const char *const *builtin_names(int *n);
const char *const *builtin_param_names(const char *name, int *n);

/* hints.c: hints for unknown names. A parameter `word` that `callee` (taking names[0..n)) does not
   have: "did you mean `k`? `conv` takes ...". A callee `word` that is no op or block (blocks_only: where
   only a block fits, e.g. a stem). hint_join: "a, b, c". */
const char *hint_unknown_param(Elab *e, const char *callee, const char *word, const char *const *names, int n);
const char *hint_unknown_callee(Elab *e, const char *word, bool blocks_only);
const char *hint_join(Elab *e, const char *const *names, int n);

/* resolve.c: checks every block's names, calls and named arguments without instantiating it */
bool resolve_blocks(Elab *e);

/* lists.c: indexing, len, range, list concatenation and comprehensions */
Value eval_index(Elab *e, Scope *s, const Expr *x);
Value eval_comprehension(Elab *e, Scope *s, const Expr *x);
Value list_concat(Elab *e, Value a, Value b);
/* len(x) and range(...) (builtins.c binds their arguments) */
Value list_builtin(Elab *e, const char *name, const Value *args, int n, SrcLoc loc);
/* The values a `for` iterates over: a tuple or list's items; NULL (reported) otherwise. */
const Value *list_items(Elab *e, Value v, SrcLoc loc, int *n);

/* candidate_sets.c: a candidate is a block call with its name and display text */
typedef struct Choice {
  const char *name, *display;
  const Expr *expr;
} Choice;
/* The candidate named name (NULL: from its call's text, e.g. inverse_residual_k_3_e_6) for call. */
Choice choice_of(Elab *e, const char *name, const Expr *call);
/* The candidates of `choose USE` (a set's name or a call of a parameterised set), at most cap, into
   out; their count, or -1 (reported). set_name: the set's name, for messages. */
int candidate_set_expand(Elab *e, const Expr *use, Choice *out, int cap, const char **set_name);

/* statements.c: the statements of a block or a function body (let, assert, for, if, return) */
void run_statements(Elab *e, Scope *ns, const Decl *owner, const Stmt *body);
/* A `def` function called with pos[0..npos) and the call's named arguments: its returned value. */
Value call_function(Elab *e, Scope *caller, const Decl *fn, const Expr *call, const Value *pos, int npos,
                    const Arg *named);

/* elaborate.c: user blocks */
const Decl *elab_find(const Elab *e, DeclKind kind, const char *name);
/* How a block is being instantiated: its input and the values the context supplies. */
typedef struct BlockCtx {
  Value input;
  int cout, stride;          /* -1: not set by the context (defaults: in.c and 1) */
  const char *prefix;        /* full parameter prefix; NULL = next sequential name in the caller */
  int classes;               /* > 0 inside decoders */
  const Value *image;        /* decoders: the network input */
} BlockCtx;
/* pos: evaluated positional parameters (not the input); named: the call's AST args (names != NULL used) */
Value elab_call_block(Elab *e, Scope *caller, const Decl *block, const Expr *call, const BlockCtx *ctx,
                      const Value *pos, int npos, const Arg *named);
const char *scope_next_name(Elab *e, Scope *s, const char *explicit_name);
int elab_add_node(Elab *e, OpKind kind, const int *inputs, int n, SrcLoc loc, const char *name);
#endif
