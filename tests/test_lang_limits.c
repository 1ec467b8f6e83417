/* test_lang_limits.c - the front end on hostile sizes: tokens of a million characters, lines of a
   million characters, a million lines, a hundred thousand declarations or names, brackets nested
   past the parser's stack. Each either compiles or is refused with a located error; none may
   corrupt memory (this test runs in the ASan build too) or take more than linear time (ctest's
   TIMEOUT catches a quadratic regression: every case here runs in well under a second in a
   release build). Also the `%` lexing that needed a look-ahead (percentages vs the modulo operator). */
#include <stdlib.h>
#include "compile.h"
#include "test_util.h"

static char diag_buf[1 << 16];

/* A growable source text. */
typedef struct Text {
  char *s;
  size_t n, cap;
} Text;

static void put(Text *t, const char *s) {
  size_t k = strlen(s);
  if (t->n + k + 1 > t->cap) {
    t->cap = (t->n + k + 1) * 2;
    t->s = realloc(t->s, t->cap);
  }
  memcpy(t->s + t->n, s, k + 1);
  t->n += k;
}

static void put_times(Text *t, const char *s, int times) {
  for (int i = 0; i < times; i++) put(t, s);
}

/* A space around block `b`, whose body is the text so far (started by begin_block). */
static void begin_block(Text *t) { put(t, "block b() {\n"); }
static void end_block(Text *t) {
  put(t, "\n  out = conv(in, cout, k=1)\n}\n"
         "decoder dec() {\n  out = conv(in, classes) -> nearest(size=(16, 16))\n}\n"
         "candidates c = [ b ]\n"
         "space s {\n  input 3x16x16\n  classes 2\n  stem b\n  stage 8 repeat 1 choose c\n  decoder dec\n}\n");
}

/* Compiles t (then frees it); true when it compiled. Diagnostics land in diag_buf. */
static bool compile_text(Text *t) {
  Arena a = {0};
  memset(diag_buf, 0, sizeof diag_buf);
  FILE *f = fmemopen(diag_buf, sizeof diag_buf - 1, "w");
  Diag d;
  diag_init(&d, f);
  IrGraph *g = compile_source(&a, &d, "long.sqn", t->s, t->n, NULL);
  fclose(f);
  arena_free(&a);
  free(t->s);
  *t = (Text){0};
  return g != NULL;
}

#define EXPECT_ERROR(t, ...)                                                                        \
  do {                                                                                              \
    const char *want[] = {__VA_ARGS__};                                                             \
    bool ok = !compile_text(t);                                                                     \
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) ok = ok && strstr(diag_buf, want[i]); \
    CHECK(ok);                                                                                      \
    if (!ok) fprintf(stderr, "--- expected: %s\n--- got:\n%.2000s\n", want[0], diag_buf);           \
  } while (0)

#define EXPECT_COMPILES(t)                                            \
  do {                                                                \
    bool ok = compile_text(t);                                        \
    CHECK(ok);                                                        \
    if (!ok) fprintf(stderr, "--- did not compile:\n%.2000s\n", diag_buf); \
  } while (0)

/* The issue's reproducers: one long identifier, with and without a newline. */
static void test_long_names(void) {
  Text t = {0};
  put_times(&t, "a", 50000);
  put(&t, "\n");
  EXPECT_ERROR(&t, "long.sqn:1:1: error: name `aaaaaaaaaaaaaaaaaaaaaaaa...` is 50000 characters long",
               "names are at most 256 characters long");
  put_times(&t, "a", 1000000);
  EXPECT_ERROR(&t, "is 1000000 characters long");
  put_times(&t, "b", 256); /* the longest accepted name */
  put(&t, " = 1\n");
  EXPECT_ERROR(&t, "syntax error"); /* a statement outside a block: the name itself was fine */
  CHECK(!strstr(diag_buf, "characters long"));
}

static void test_long_literals(void) {
  Text t = {0};
  begin_block(&t);
  put(&t, "  x = ");
  put_times(&t, "9", 1000000);
  end_block(&t);
  EXPECT_ERROR(&t, "long.sqn:2:7: error: number `999999999999999999999999...` is 1000000 characters long");
  begin_block(&t);
  put(&t, "  x = 0.");
  put_times(&t, "1", 1000000);
  end_block(&t);
  EXPECT_ERROR(&t, "number `0.1111", "is 1000002 characters long");
  begin_block(&t);
  put(&t, "  x = ");
  put_times(&t, "1", 300000);
  put(&t, "%");
  end_block(&t);
  EXPECT_ERROR(&t, "is 300001 characters long");
  begin_block(&t);
  put(&t, "  x = 99999999999999999999999999999999999999999999999999999999999999999999");
  end_block(&t);
  EXPECT_ERROR(&t, "integer literal '9999999999999999999999999999999999999999' is too large");
  begin_block(&t);
  put(&t, "  x = 1");
  put_times(&t, "x1", 300000);
  end_block(&t);
  EXPECT_ERROR(&t, "too many dimensions in '1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x...'");
  put(&t, "import \"");
  put_times(&t, "s", 1000000);
  put(&t, "\"\n");
  EXPECT_ERROR(&t, "long.sqn:1:8: error: string `\"sssssssssssssssssssssss...` is 1000000 characters long");
  put(&t, "import \"");
  put_times(&t, "s", 1000000);
  EXPECT_ERROR(&t, "long.sqn:1:8: error: unterminated string");
  put(&t, "/*");
  put_times(&t, "x", 1000000);
  EXPECT_ERROR(&t, "long.sqn:1:1: error: unterminated /* comment");
}

/* A line of a million characters: it compiles, and an error at its end is located and echoed as a
   window around the column. */
static void test_long_lines(void) {
  Text t = {0};
  begin_block(&t);
  put(&t, "  x = [1");
  put_times(&t, ", 1", 300000);
  put(&t, "]");
  end_block(&t);
  EXPECT_COMPILES(&t);
  begin_block(&t);
  put(&t, "  x = [1");
  put_times(&t, ", 1", 300000);
  put(&t, "] @");
  end_block(&t);
  EXPECT_ERROR(&t, "long.sqn:2:900011: error: unexpected character '@'", ", 1, 1, 1] @\n", "|    ");
  const char *echo = strstr(diag_buf, "     2 | ...");
  CHECK(echo && strlen(strtok((char *)echo, "\n")) < 200); /* the window, not the whole line */
}

static void test_many_lines(void) {
  Text t = {0};
  begin_block(&t);
  put_times(&t, "  y = 1\n", 1000000);
  end_block(&t);
  EXPECT_COMPILES(&t);
  begin_block(&t); /* a continuation after a million blank lines */
  put(&t, "  y = in");
  put_times(&t, "\n", 1000000);
  put(&t, "  -> relu\n  z = y");
  end_block(&t);
  EXPECT_COMPILES(&t);
  begin_block(&t); /* 200,000 distinct names, each used by the next statement */
  put(&t, "  y0 = 1\n");
  char line[64];
  for (int i = 1; i <= 200000; i++) {
    snprintf(line, sizeof line, "  y%d = y%d + 1\n", i, i - 1);
    put(&t, line);
  }
  put(&t, "  assert y200000 == 200001");
  end_block(&t);
  EXPECT_COMPILES(&t);
  for (int i = 0; i < 100000; i++) { /* 100,000 declarations */
    snprintf(line, sizeof line, "block unused%d() { out = relu(in) }\n", i);
    put(&t, line);
  }
  begin_block(&t);
  end_block(&t);
  EXPECT_COMPILES(&t);
  put_times(&t, "block x() { out = ) }\n", 100000); /* 100,000 errors: the first 20 are shown */
  EXPECT_ERROR(&t, "long.sqn:1:19: error: syntax error", "sqnc: too many errors, stopping");
}

static void test_deep_nesting(void) {
  Text t = {0};
  begin_block(&t);
  put(&t, "  x = ");
  put_times(&t, "(", 100000);
  put(&t, "1");
  put_times(&t, ")", 100000);
  end_block(&t);
  EXPECT_ERROR(&t, "this is nested too deeply to parse (brackets or operators more than 10000 levels deep)",
               "split it into named steps");
  begin_block(&t);
  put(&t, "  x = ");
  put_times(&t, "[", 9000);
  put_times(&t, "]", 9000);
  end_block(&t);
  EXPECT_ERROR(&t, "expression nested more than 200 levels deep");
  begin_block(&t);
  put(&t, "  x = ");
  put_times(&t, "- ", 5000);
  put(&t, "1");
  end_block(&t);
  EXPECT_ERROR(&t, "expression nested more than 200 levels deep");
  begin_block(&t);
  put(&t, "  x = ");
  put_times(&t, "true ? 2 : ", 50000);
  put(&t, "3");
  end_block(&t);
  EXPECT_ERROR(&t, "nested too deeply to parse");
  begin_block(&t);
  put(&t, "  x = 1");
  put_times(&t, " + 1", 400000);
  end_block(&t);
  EXPECT_ERROR(&t, "expression nested more than 200 levels deep");
  begin_block(&t);
  put(&t, "  y = in");
  put_times(&t, " -> relu", 100000);
  end_block(&t);
  EXPECT_ERROR(&t, "expression nested more than 200 levels deep");
}

/* `50%` is a percentage where the value ends (end of line, CRLF, end of file, a comment, `,`), and
   `7%3` / `7 %3` are the modulo operator. */
static void test_percent(void) {
  Text t = {0};
  begin_block(&t);
  put(&t, "  x = 7%3\n  assert x == 1\n  q = 7 %3\n  assert q == 1\n  p = 50%\n  assert p == 0.5\n"
          "  r = 50%// note\n  assert r == 0.5\n  u = (25%, 1)\n  v = 50%\r\n  assert v == 0.5");
  end_block(&t);
  EXPECT_COMPILES(&t);
  put(&t, "block b() {\n  p = 50%");
  EXPECT_ERROR(&t, "syntax error"); /* the file ends inside the block, after a complete percentage */
  CHECK(!strstr(diag_buf, "`%`"));
}

int main(void) {
  test_long_names();
  test_long_literals();
  test_long_lines();
  test_many_lines();
  test_deep_nesting();
  test_percent();
  return test_summary();
}
