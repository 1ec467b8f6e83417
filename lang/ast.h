/* ast.h - the syntax tree of a .sqn file, produced by the parser, consumed by the elaborator. */
#ifndef SQN_AST_H
#define SQN_AST_H
#include <stdbool.h>
#include <stdint.h>
#include "arena.h"
#include "diag.h"

typedef enum {
  EX_INT, EX_FLOAT, EX_BOOL, EX_STRING, EX_DIMS, /* literals; DIMS is 3x1024x2048 */
  EX_IDENT, EX_MEMBER,                          /* name, expr.field */
  EX_UNARY, EX_BINARY, EX_COND,                 /* -a, !a; a+b, ...; c ? a : b */
  EX_CALL, EX_TUPLE, EX_LIST, EX_RANGE,         /* f(a, k=v); (a, b); [a, b]; a -> b in settings */
  EX_INDEX,                                     /* a[b] */
  EX_COMP,                                      /* [a for x in xs if c ...]: element a, clauses in args */
  EX_FOR, EX_IF                                 /* clauses of a comprehension: `for str in a`, `if a` */
} ExprKind;

typedef enum {
  OPR_ADD, OPR_SUB, OPR_MUL, OPR_DIV, OPR_MOD,
  OPR_EQ, OPR_NE, OPR_LT, OPR_LE, OPR_GT, OPR_GE, OPR_AND, OPR_OR,
  OPR_NEG, OPR_NOT
} Operator;

typedef struct Expr Expr;
typedef struct Arg {
  const char *name; /* NULL for positional */
  Expr *value;
  SrcLoc loc;
  struct Arg *next;
  struct Arg *tail; /* of the list this one heads (kept by ast_arg/ast_arg_append: appending is O(1)) */
} Arg;

struct Expr {
  ExprKind kind;
  SrcLoc loc;
  int64_t ival;          /* EX_INT, EX_BOOL */
  double fval;           /* EX_FLOAT */
  bool percent;          /* EX_FLOAT/EX_INT written as 0.5% (value already divided by 100) */
  const char *str;       /* EX_STRING, EX_IDENT, EX_MEMBER field, EX_CALL callee */
  int dims[4], ndims;    /* EX_DIMS */
  Operator op;           /* EX_UNARY, EX_BINARY */
  Expr *a, *b, *c;       /* operands; EX_MEMBER object in a; EX_RANGE from a to b */
  Arg *args;             /* EX_CALL arguments; EX_TUPLE/EX_LIST items (names unused) */
  int nargs;
};

typedef enum { STMT_LET, STMT_ASSERT, STMT_FOR, STMT_IF, STMT_RETURN } StmtKind;
typedef struct Stmt {
  StmtKind kind;
  SrcLoc loc;
  const char *name;   /* STMT_LET target; STMT_FOR loop variable */
  Expr *value;        /* STMT_LET value, STMT_ASSERT/STMT_IF condition, STMT_FOR iterable, STMT_RETURN value */
  const char *message;/* STMT_ASSERT message */
  struct Stmt *body;  /* STMT_FOR body; STMT_IF statements when true */
  struct Stmt *orelse;/* STMT_IF statements when false (an `else if` is one STMT_IF here) */
  struct Stmt *next;
} Stmt;

typedef enum { TY_ANY, TY_INT, TY_FLOAT, TY_BOOL, TY_TENSOR, TY_TUPLE, TY_STRING } TypeName;

typedef struct Param {
  const char *name;
  TypeName type;      /* TY_ANY when not written: taken from the default */
  Expr *deflt;        /* NULL when required */
  SrcLoc loc;
  struct Param *next;
} Param;

/* A setting inside a space/network/search/train body: `key value value ...` or `key { ... }`. */
typedef struct Setting {
  const char *key;
  SrcLoc loc;
  Arg *values;             /* positional values in order */
  int nvalues;
  struct Setting *body;    /* nested `key { ... }` */
  bool has_body;
  struct Setting *next;
} Setting;

typedef enum { DECL_IMPORT, DECL_BLOCK, DECL_CANDIDATES, DECL_SPACE, DECL_NETWORK, DECL_FUNCTION } DeclKind;

typedef struct Decl {
  DeclKind kind;
  SrcLoc loc;
  const char *name;       /* block / set / space / network name; import path */
  bool is_decoder;        /* DECL_BLOCK written with `decoder` */
  Param *params;          /* DECL_BLOCK, DECL_FUNCTION, DECL_CANDIDATES (a parameterised set) */
  Stmt *body;             /* DECL_BLOCK, DECL_FUNCTION (`def f(x) = e` is one STMT_RETURN) */
  Expr *set;              /* DECL_CANDIDATES: the list, comprehension or `a + b` of them */
  Arg *items;             /* DECL_NETWORK: genotype items */
  int nitems;
  const char *base;       /* DECL_NETWORK: the space it instantiates */
  SrcLoc base_loc;
  Setting *settings;      /* DECL_SPACE body; DECL_NETWORK overrides */
  struct Decl *next;
} Decl;

typedef struct Module {
  const SourceFile *file;
  Decl *decls;
} Module;

/* Parsing: returns the module (possibly partial) and reports syntax errors to diag. */
Module *parse_source(Arena *arena, Diag *diag, const SourceFile *file);

/* Constructors used by the parser. */
Expr *ast_expr(Arena *a, ExprKind kind, SrcLoc loc);
Arg *ast_arg(Arena *a, const char *name, Expr *value, SrcLoc loc);
Arg *ast_arg_append(Arg *list, Arg *item);
int ast_arg_count(const Arg *list);
const char *ast_type_name(TypeName t);
const char *ast_operator_text(Operator op);
const char *ast_expr_text(Arena *a, const Expr *e); /* the expression as source text */

#endif
