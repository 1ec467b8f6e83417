/* test_util.h - a tiny test harness: CHECK macros, counters, and the "N passed, M failed" summary. */
#ifndef SQN_TEST_UTIL_H
#define SQN_TEST_UTIL_H
#include <stdio.h>
#include <string.h>

static int t_passed, t_failed;

#define CHECK(cond)                                                                  \
  do {                                                                               \
    if (cond) t_passed++;                                                            \
    else {                                                                           \
      t_failed++;                                                                    \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);       \
    }                                                                                \
  } while (0)

#define CHECK_EQ_I64(a, b)                                                           \
  do {                                                                               \
    long long _a = (long long)(a), _b = (long long)(b);                              \
    if (_a == _b) t_passed++;                                                        \
    else {                                                                           \
      t_failed++;                                                                    \
      fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #a, _a, _b); \
    }                                                                                \
  } while (0)

#define CHECK_STR(a, b)                                                              \
  do {                                                                               \
    const char *_a = (a), *_b = (b);                                                 \
    if (_a && _b && !strcmp(_a, _b)) t_passed++;                                    \
    else {                                                                           \
      t_failed++;                                                                    \
      fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a, \
              _a ? _a : "(null)", _b ? _b : "(null)");                               \
    }                                                                                \
  } while (0)

/* A scratch folder for tests that write files (create it with mkdtemp into tmpdir first). */
static char tmpdir[64];

/* tmpdir/name; the last four results stay valid. */
static inline char *tmp_path(const char *name) {
  static char path[4][256];
  static int k;
  k = (k + 1) % 4;
  snprintf(path[k], sizeof path[k], "%s/%s", tmpdir, name);
  return path[k];
}

static int test_summary(void) {
  printf("%d passed, %d failed\n", t_passed, t_failed);
  return t_failed ? 1 : 0;
}
#endif
