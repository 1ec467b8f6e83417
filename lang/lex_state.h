/* lex_state.h - state shared by the flex scanner and the bison parser. */
#ifndef SQN_LEX_STATE_H
#define SQN_LEX_STATE_H
#include <stdbool.h>
#include "ast.h"

/* Location type used by bison (YYLTYPE) */
typedef struct SqnLoc {
  int first_line, first_column, last_line, last_column;
} SqnLoc;
#define YYLTYPE SqnLoc
#define YYLTYPE_IS_DECLARED 1

typedef struct LexState {
  Arena *arena;
  Diag *diag;
  const SourceFile *file;
  int line, col;        /* position of the next character */
  int depth;            /* nesting of ( and [ : newlines inside are ignored */
  bool last_can_end;    /* last token may end a statement */
  SqnLoc comment_start;
  void *scanner;        /* the flex scanner */
  Module *module;       /* result */
} LexState;


SrcLoc lex_loc(const LexState *s, SqnLoc l);
void lex_advance(LexState *s, SqnLoc *loc, const char *text, int len);
bool lex_ends_statement(int token);
const char *lex_intern(LexState *s, const char *text, int len);
const char *lex_string(LexState *s, const char *text, int len);
void lex_error(LexState *s, SqnLoc loc, const char *msg, const char *hint);
void lex_bad_char(LexState *s, SqnLoc loc, char c);
TypeName param_type(LexState *s, const char *name, SqnLoc loc);
#endif
