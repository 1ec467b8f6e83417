/* json_min.h - a minimal, strict JSON (RFC 8259) pull parser and writer for the safetensors
   header. The parser is a cursor: callers walk objects and arrays themselves and keep only what
   they need, so memory stays proportional to what they keep. Strings are checked for valid UTF-8
   (no lone surrogates), control characters and escapes; numbers for the JSON grammar; nesting is
   limited to JSON_MAX_DEPTH. The first error is kept as "byte N: reason". */
#ifndef SQN_JSON_MIN_H
#define SQN_JSON_MIN_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 64

typedef struct JsonIn {
  const char *p;
  size_t len, pos;
  int depth;     /* of json_skip's recursion */
  char *err;
  size_t errlen;
  bool failed;   /* an error has been reported: later ones do not overwrite it */
} JsonIn;

void json_in_init(JsonIn *j, const char *p, size_t len, char *err, size_t errlen);
/* Records an error (the first one wins); json_fail(...) does the same and is false. */
void json_error(JsonIn *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define json_fail(...) (json_error(__VA_ARGS__), false)
char json_peek(JsonIn *j);          /* skips whitespace; the next byte, or 0 at the end */
bool json_eat(JsonIn *j, char c);   /* skips whitespace, then requires c */
bool json_end(JsonIn *j);           /* only whitespace is left */
/* A string: *out is malloc'd, decoded and NUL-terminated (*len excludes the NUL; \u0000 may make
   strlen(*out) < *len). */
bool json_string(JsonIn *j, char **out, size_t *len);
bool json_int(JsonIn *j, int64_t *out); /* an integer literal that fits int64 (no fraction/exponent) */
bool json_number(JsonIn *j, double *out); /* any JSON number, as the nearest double */
bool json_skip(JsonIn *j);              /* any value, fully validated */

/* Object walk: after json_eat(j, '{'), call json_member(j, &first, &key, &keylen) until it sets
   *key to NULL (end of object) or fails; between calls parse exactly one value. first starts true.
   The key is malloc'd (caller frees). Arrays: json_eat(j, '['), then json_element(j, &first, &more). */
bool json_member(JsonIn *j, bool *first, char **key, size_t *keylen);
bool json_element(JsonIn *j, bool *first, bool *more);

bool json_utf8_valid(const char *s, size_t n); /* well-formed UTF-8, no surrogates or overlongs */

/* Output buffer; on allocation failure oom is set and later appends do nothing. */
typedef struct JsonOut {
  char *p;
  size_t len, cap;
  bool oom;
} JsonOut;

void json_raw(JsonOut *o, const char *s, size_t n);
void json_str(JsonOut *o, const char *s, size_t n); /* quoted, escaped as serde_json does */
void json_i64(JsonOut *o, int64_t v);
void json_out_free(JsonOut *o);

#endif
