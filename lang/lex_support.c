/* lex_support.c - helpers for the scanner and parser: locations, literals, syntax errors, parse entry. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lex_state.h"
#include "parser.h"
#include "lexer.h"

SrcLoc lex_loc(const LexState *s, SqnLoc l) {
  return (SrcLoc){s->file, l.first_line, l.first_column};
}

void lex_advance(LexState *s, SqnLoc *loc, const char *text, int len) {
  loc->first_line = s->line;
  loc->first_column = s->col;
  s->offset += (size_t)len;
  for (int i = 0; i < len; i++) {
    if (text[i] == '\n') {
      s->line++;
      s->col = 1;
    } else {
      s->col++;
    }
  }
  loc->last_line = s->line;
  loc->last_column = s->col;
}

bool lex_ends_statement(int token) {
  switch (token) {
  case IDENT: case IN: case INT_LIT: case FLOAT_LIT: case PERCENT: case BOOL_LIT: case STRING_LIT: case DIMS:
  case ')': case ']': case '}':
    return true;
  default:
    return false;
  }
}

/* Gives back the last n characters of the token (none of them a newline) after yyless. */
void lex_unread(LexState *s, SqnLoc *loc, int n) {
  s->offset -= (size_t)n;
  s->col -= n;
  loc->last_column -= n;
}

static const char *rest(const LexState *s) { return s->file->text + s->offset; }
static const char *text_end(const LexState *s) { return s->file->text + s->file->len; }

static bool starts_with_operator(const char *p, const char *end) {
  if (p == end) return false;
  if (*p && strchr("-?:+*.<>", *p)) return true;
  if (end - p < 2) return false;
  if (p[0] == '/') return p[1] != '/' && p[1] != '*';
  return (p[0] == '&' && p[1] == '&') || (p[0] == '|' && p[1] == '|') || (p[0] == '=' && p[1] == '=') ||
         (p[0] == '!' && p[1] == '=');
}

/* After a newline: does the next line with code start with an operator (`-> relu`, `+ b`, `: c`)?
   Then it continues the statement. Blank lines and `//` comment lines in between are skipped. */
bool lex_line_continues(LexState *s) {
  if (s->offset < s->cont_at) return s->cont;
  const char *p = rest(s), *end = text_end(s);
  for (;;) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r')) p++;
    if (end - p >= 2 && p[0] == '/' && p[1] == '/')
      while (p < end && *p != '\n') p++;
    if (p < end && *p == '\n') {
      p++;
      continue;
    }
    break;
  }
  s->cont_at = (size_t)(p - s->file->text);
  return s->cont = starts_with_operator(p, end);
}

/* After `50%`: a percentage when the value ends there (end of line or file, `;`, `,`, a closing
   bracket or a comment), else `50 % x` written without spaces. */
bool lex_percent_ends(const LexState *s) {
  const char *p = rest(s), *end = text_end(s);
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\r')) p++;
  if (p == end || (*p && strchr("\n;,)]}", *p))) return true;
  return end - p >= 2 && p[0] == '/' && (p[1] == '/' || p[1] == '*');
}

/* Refuses a token longer than max with a located error that quotes its start. */
static bool token_fits(LexState *s, SqnLoc loc, const char *what, const char *text, int len, int max) {
  if (len <= max) return true;
  char hint[128];
  snprintf(hint, sizeof hint, "%ss are at most %d characters long", what, max);
  diag_error(s->diag, lex_loc(s, loc), hint, "%s `%.24s...` is %d characters long", what, text, len);
  return false;
}

bool lex_number_fits(LexState *s, SqnLoc loc, int len) {
  return token_fits(s, loc, "number", s->file->text + s->offset - len, len, SQN_MAX_NUMBER_LEN);
}

const char *lex_ident(LexState *s, SqnLoc loc, const char *text, int len) {
  if (!token_fits(s, loc, "name", text, len, SQN_MAX_NAME_LEN)) return NULL;
  return arena_strndup(s->arena, text, (size_t)len);
}

const char *lex_string(LexState *s, SqnLoc loc, const char *text, int len) {
  if (!token_fits(s, loc, "string", text, len - 2, SQN_MAX_STRING_LEN)) return NULL;
  char *out = arena_alloc(s->arena, (size_t)len);
  int n = 0;
  for (int i = 1; i < len - 1; i++) {
    char c = text[i];
    if (c == '\\' && i + 1 < len - 1) {
      c = text[++i];
      if (c == 'n') c = '\n';
      else if (c == 't') c = '\t';
    }
    out[n++] = c;
  }
  out[n] = 0;
  return out;
}

void lex_error(LexState *s, SqnLoc loc, const char *msg, const char *hint) {
  diag_error(s->diag, lex_loc(s, loc), hint, "%s", msg);
}

void lex_bad_char(LexState *s, SqnLoc loc, char c) {
  const char *hint = NULL;
  if (c == '&') hint = "logical and is written &&";
  else if (c == '|') hint = "logical or is written ||";
  else if (c == '\'') hint = "strings use double quotes";
  if ((unsigned char)c >= 32 && (unsigned char)c < 127)
    diag_error(s->diag, lex_loc(s, loc), hint, "unexpected character '%c'", c);
  else
    diag_error(s->diag, lex_loc(s, loc), hint, "unexpected byte 0x%02x", (unsigned char)c);
}

bool lex_int(LexState *s, YYSTYPE *lval, const char *text, YYLTYPE loc) {
  if (!lex_number_fits(s, loc, (int)strlen(text))) return false;
  errno = 0;
  long long v = strtoll(text, NULL, 10);
  if (errno || v > 2147483647LL) {
    diag_error(s->diag, lex_loc(s, loc), "integers must fit in 31 bits", "integer literal '%.40s' is too large", text);
    return false;
  }
  lval->ival = v;
  return true;
}

bool lex_dims(LexState *s, YYSTYPE *lval, const char *text, YYLTYPE loc) {
  int n = 0;
  const char *p = text;
  while (*p) {
    if (n == 4) {
      diag_error(s->diag, lex_loc(s, loc), "write at most 4 dimensions, e.g. 3x1024x2048",
                 "too many dimensions in '%.40s%s'", text, strlen(text) > 40 ? "..." : "");
      return false;
    }
    errno = 0;
    char *end;
    long v = strtol(p, &end, 10);
    if (errno || v <= 0 || v > 1000000) {
      diag_error(s->diag, lex_loc(s, loc), "each dimension must be between 1 and 1000000",
                 "bad dimension in '%.40s%s'", text, strlen(text) > 40 ? "..." : "");
      return false;
    }
    lval->dims.dims[n++] = (int)v;
    p = *end == 'x' ? end + 1 : end;
  }
  lval->dims.n = n;
  return true;
}

TypeName param_type(LexState *s, const char *name, SqnLoc loc) {
  static const char *names[] = {"any", "int", "float", "bool", "tensor", "tuple", "string"};
  for (int i = 0; i < 7; i++)
    if (!strcmp(name, names[i])) return (TypeName)i;
  const char *best = diag_closest(name, names, 7);
  char hint[96];
  snprintf(hint, sizeof hint, best ? "did you mean `%s`?" : "types are int, float, bool, tensor, tuple, string",
           best);
  diag_error(s->diag, lex_loc(s, loc), hint, "unknown type `%s`", name);
  return TY_ANY;
}

/* The hint of `key = values` in a settings block (a Python habit): the same line without `=`. */
const char *lex_setting_hint(LexState *st, const char *key, const Arg *values) {
  const Expr *v = values && !values->next ? values->value : NULL;
  if (v && v->kind == EX_FLOAT && !v->percent) {
    bool whole = isfinite(v->fval) && fabs(v->fval) < 1e15 && v->fval == floor(v->fval);
    return arena_printf(st->arena, whole ? "write `%s %.1f`" : "write `%s %g`", key, v->fval);
  }
  if (v && v->kind == EX_INT && !v->percent) return arena_printf(st->arena, "write `%s %lld`", key, (long long)v->ival);
  return arena_printf(st->arena, "write `%s` and its value with a space between, e.g. `alpha 0.2`", key);
}

/* Whether bison's message says the unexpected token is `word` ("unexpected else, expecting ..."). */
static bool unexpected(const char *msg, const char *word) {
  const char *p = strstr(msg, "unexpected ");
  if (!p) return false;
  p += strlen("unexpected ");
  size_t n = strlen(word);
  return !strncmp(p, word, n) && (p[n] == ',' || p[n] == 0);
}

/* Rewrites bison's "syntax error, unexpected X, expecting Y or Z" into a friendlier message. */
void yyerror(YYLTYPE *loc, void *scanner, LexState *st, const char *msg) {
  (void)scanner;
  if (strstr(msg, "unexpected invalid token")) return; /* the scanner already reported it */
  const char *hint = NULL;
  if (strstr(msg, "unexpected end of line")) hint = "a statement ended early: to continue on the next line, end this one with an operator or `->`, or wrap it in ( )";
  else if (unexpected(msg, "else")) hint = "write `} else {` on one line: the line break after `}` ends the `if`";
  else if (unexpected(msg, "in") || unexpected(msg, "for") || unexpected(msg, "if") || unexpected(msg, "def") ||
           unexpected(msg, "return"))
    hint = "for, in, if, else, def and return are keywords: pick another name, or see docs/language.md for their use";
  else if (strstr(msg, "expecting \"end of line\"") || strstr(msg, "expecting ';'")) hint = "put each statement on its own line (or separate with `;`)";
  else if (strstr(msg, "unexpected end of file")) hint = "a `}` or `)` may be missing";
  if (strstr(msg, "memory exhausted")) { /* bison's stack limit (YYMAXDEPTH) */
    diag_error(st->diag, lex_loc(st, *loc), "split it into named steps (`t = ...`) on separate lines",
               "this is nested too deeply to parse (brackets or operators more than %d levels deep)", YYMAXDEPTH);
    return;
  }
  else if (st->depth > 0 && !hint) hint = "an opening ( or [ before this point is not closed";
  const char *m = msg;
  if (!strncmp(m, "syntax error, ", 14)) m += 14;
  diag_error(st->diag, lex_loc(st, *loc), hint, "syntax error: %s", m);
}

Module *parse_source(Arena *arena, Diag *diag, const SourceFile *file) {
  LexState st = {0};
  st.arena = arena;
  st.diag = diag;
  st.file = file;
  st.line = 1;
  st.col = 1;
  st.module = ARENA_NEW(arena, Module);
  st.module->file = file;
  yyscan_t scanner;
  if (yylex_init_extra(&st, &scanner)) return st.module;
  YY_BUFFER_STATE buf = yy_scan_bytes(file->text, (int)file->len, scanner);
  yyparse(scanner, &st);
  yy_delete_buffer(buf, scanner);
  yylex_destroy(scanner);
  return st.module;
}
