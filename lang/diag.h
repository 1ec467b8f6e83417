/* diag.h - diagnostics: "file:line:col: error: msg", the source line, a caret and a hint. */
#ifndef SQN_DIAG_H
#define SQN_DIAG_H
#include <stdbool.h>
#include <stdio.h>

typedef struct SourceFile {
  const char *path;   /* as shown to the user */
  const char *text;   /* NUL-terminated contents */
  size_t len;
} SourceFile;

typedef struct SrcLoc {
  const SourceFile *file; /* NULL for built-in / command-line origins */
  int line, col;          /* 1-based */
} SrcLoc;

typedef struct Diag {
  FILE *out;       /* where messages go (stderr by default) */
  int errors;
  int warnings;
  int max_errors;  /* stop reporting after this many (0 = 20) */
  bool color;
} Diag;

void diag_init(Diag *d, FILE *out);
/* hint may be NULL. Both format strings are printf-style; hint is a plain string. */
void diag_error(Diag *d, SrcLoc loc, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void diag_warning(Diag *d, SrcLoc loc, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void diag_note(Diag *d, SrcLoc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool diag_too_many(const Diag *d);

/* Closest candidate to `word` by edit distance, or NULL if none is close. */
const char *diag_closest(const char *word, const char *const *candidates, int n);

#endif
