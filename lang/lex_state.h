/* lex_state.h - state shared by the flex scanner and the bison parser. */
#ifndef SQN_LEX_STATE_H
#define SQN_LEX_STATE_H
#include <stdbool.h>
#include "ast.h"

/* Longest tokens accepted; longer ones are refused with a located error (no real source needs more,
   and diagnostics that quote them stay readable). */
#define SQN_MAX_NAME_LEN 256
#define SQN_MAX_NUMBER_LEN 256
#define SQN_MAX_STRING_LEN 4096
/* The parser's stack limit (bison's default, stated here so that the error message can name it). */
#define YYMAXDEPTH 10000

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
  size_t offset;        /* its byte offset in file->text (the scanner reads a copy of the same bytes) */
  int depth;            /* nesting of ( and [ : newlines inside are ignored */
  bool last_can_end;    /* last token may end a statement */
  size_t cont_at;       /* lex_line_continues' last answer holds for newlines before this offset ... */
  bool cont;            /* ... and was this (one scan over a run of blank lines, not one per line) */
  SqnLoc comment_start;
  void *scanner;        /* the flex scanner */
  Module *module;       /* result */
} LexState;


SrcLoc lex_loc(const LexState *s, SqnLoc l);
void lex_advance(LexState *s, SqnLoc *loc, const char *text, int len);
bool lex_ends_statement(int token);
void lex_unread(LexState *s, SqnLoc *loc, int n);
bool lex_line_continues(LexState *s);
bool lex_percent_ends(const LexState *s);
bool lex_number_fits(LexState *s, SqnLoc loc, int len);
const char *lex_ident(LexState *s, SqnLoc loc, const char *text, int len);
const char *lex_string(LexState *s, SqnLoc loc, const char *text, int len);
void lex_error(LexState *s, SqnLoc loc, const char *msg, const char *hint);
void lex_bad_char(LexState *s, SqnLoc loc, char c);
TypeName param_type(LexState *s, const char *name, SqnLoc loc);
#endif
