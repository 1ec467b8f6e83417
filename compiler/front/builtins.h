/* builtins.h - shared between builtins.c (argument binding, dispatch), builtin_ops.c and builtin_spatial.c
   (the ops). */
#ifndef SQN_BUILTINS_H
#define SQN_BUILTINS_H
#include "elab.h"

#define MAXP 10
typedef struct Bound {
  Value v[MAXP];
  bool has[MAXP];
  SrcLoc loc[MAXP];
  Value extra[16];          /* variadic positional values */
  int nextra;
  const char *name;         /* explicit name= for the op */
} Bound;


bool need_tensor(Elab *e, Value v, SrcLoc loc, const char *op, const char *what);
Shape shape_of(Elab *e, Value v);
int new_node(Elab *e, Scope *s, OpKind k, const int *in, int n, SrcLoc loc, const char *name, Shape out);
bool opt_int(Elab *e, const Bound *b, int i, const char *what, int64_t dflt, int64_t *out);
bool opt_pair(Elab *e, const Bound *b, int i, const char *what, int dflt, int out[2]);
bool opt_bool(Elab *e, const Bound *b, int i, const char *what, bool dflt, bool *out);
bool positive(Elab *e, SrcLoc loc, const char *what, const int *v, int n, int min);

typedef Value (*OpBuilder)(Elab *e, Scope *s, const Expr *call, Bound *b);
OpBuilder builtin_op_builder(const char *name);
/* A node of op k with output out; counted: made by a call (takes the scope's next sequential name, or
   name=), else by an operator (named after the op). -1 after an error. */
int builtin_node(Elab *e, Scope *s, OpKind k, const int *in, int n, SrcLoc loc, bool counted, const char *name,
                 Shape out);
/* builtin_ops.c: crop's and pad's margins into at->crop; the node of a one-input op k (attributes at). */
bool builtin_margins(Elab *e, const Expr *call, const Bound *b, const char *op, OpAttr *at);
Value builtin_attr_node(Elab *e, Scope *s, const Expr *call, const Bound *b, OpKind k, const OpAttr *at, Shape out);
/* builtin_spatial.c: maxpool, pad, slice, channel_shuffle */
Value builtin_maxpool(Elab *e, Scope *s, const Expr *call, Bound *b);
Value builtin_pad(Elab *e, Scope *s, const Expr *call, Bound *b);
Value builtin_slice(Elab *e, Scope *s, const Expr *call, Bound *b);
Value builtin_channel_shuffle(Elab *e, Scope *s, const Expr *call, Bound *b);
/* split(x, parts): a list of slices (not an op of its own) */
Value builtin_split(Elab *e, Scope *s, const Expr *call, Bound *b);
Value builtin_broadcast(Elab *e, Scope *s, OpKind k, Value a, Value b, SrcLoc loc, bool counted, const char *name);
/* An op on one tensor that keeps its shape and has no attributes (relu, silu, ...). */
Value builtin_unary(Elab *e, Scope *s, const Expr *call, Bound *b, OpKind k);
/* The builders of builtin_eltwise.c (silu, hsigmoid, tanh, leaky_relu, sub, affine); NULL for other ops. */
OpBuilder builtin_eltwise_builder(OpKind k);
#endif
