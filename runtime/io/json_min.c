/* json_min.c - the strict JSON cursor and writer of json_min.h. Bounded: json_skip recurses at
   most JSON_MAX_DEPTH levels, a string allocates at most its own encoded length, and every read
   checks the end of the input. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json_min.h"

void json_in_init(JsonIn *j, const char *p, size_t len, char *err, size_t errlen) {
  *j = (JsonIn){.p = p, .len = len, .err = err, .errlen = errlen};
}

void json_error(JsonIn *j, const char *fmt, ...) {
  if (j->failed) return;
  j->failed = true;
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (j->err && j->errlen) snprintf(j->err, j->errlen, "byte %zu: %s", j->pos, msg);
}

char json_peek(JsonIn *j) {
  while (j->pos < j->len && strchr(" \t\n\r", j->p[j->pos]) && j->p[j->pos]) j->pos++;
  return j->pos < j->len ? j->p[j->pos] : 0;
}

static bool unexpected(JsonIn *j, const char *wanted) {
  if (j->pos >= j->len) return json_fail(j, "unexpected end, expected %s", wanted);
  unsigned char c = (unsigned char)j->p[j->pos];
  if (c >= 0x20 && c < 0x7f) return json_fail(j, "unexpected '%c', expected %s", c, wanted);
  return json_fail(j, "unexpected byte 0x%02x, expected %s", c, wanted);
}

bool json_eat(JsonIn *j, char c) {
  char want[4] = {'\'', c, '\'', 0};
  if (json_peek(j) != c || j->pos >= j->len) return unexpected(j, want);
  j->pos++;
  return true;
}

bool json_end(JsonIn *j) {
  json_peek(j);
  return j->pos == j->len ? true : unexpected(j, "the end of the JSON text");
}

/* ---- strings ---- */

bool json_utf8_valid(const char *str, size_t n) {
  const unsigned char *s = (const unsigned char *)str;
  for (size_t i = 0; i < n;) {
    unsigned c = s[i];
    size_t k = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (!k || k > n - i || (k == 2 && c < 0xc2) || (k == 4 && c > 0xf4)) return false;
    for (size_t m = 1; m < k; m++)
      if ((s[i + m] & 0xc0) != 0x80) return false;
    if (k == 3 && ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] >= 0xa0))) return false;
    if (k == 4 && ((c == 0xf0 && s[i + 1] < 0x90) || (c == 0xf4 && s[i + 1] > 0x8f))) return false;
    i += k;
  }
  return true;
}

static int hex4(const char *p) {
  int v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

static size_t put_utf8(char *o, unsigned cp) {
  if (cp < 0x80) return o[0] = (char)cp, 1;
  if (cp < 0x800) return o[0] = (char)(0xc0 | cp >> 6), o[1] = (char)(0x80 | (cp & 0x3f)), 2;
  if (cp < 0x10000)
    return o[0] = (char)(0xe0 | cp >> 12), o[1] = (char)(0x80 | ((cp >> 6) & 0x3f)), o[2] = (char)(0x80 | (cp & 0x3f)), 3;
  o[0] = (char)(0xf0 | cp >> 18), o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), o[3] = (char)(0x80 | (cp & 0x3f));
  return 4;
}

/* \uXXXX (or a surrogate pair) at j->pos (just after the backslash-u) to UTF-8. */
static bool unicode_escape(JsonIn *j, char *o, size_t *n) {
  int hi = j->len - j->pos >= 4 ? hex4(j->p + j->pos) : -1;
  if (hi < 0) return json_fail(j, "bad \\u escape");
  j->pos += 4;
  unsigned cp = (unsigned)hi;
  if (hi >= 0xdc00 && hi <= 0xdfff) return json_fail(j, "lone low surrogate in \\u escape");
  if (hi >= 0xd800 && hi <= 0xdbff) {
    int lo = j->len - j->pos >= 6 && j->p[j->pos] == '\\' && j->p[j->pos + 1] == 'u' ? hex4(j->p + j->pos + 2) : -1;
    if (lo < 0xdc00 || lo > 0xdfff) return json_fail(j, "lone high surrogate in \\u escape");
    j->pos += 6;
    cp = 0x10000 + (((unsigned)hi - 0xd800) << 10) + ((unsigned)lo - 0xdc00);
  }
  *n += put_utf8(o + *n, cp);
  return true;
}

static bool escape(JsonIn *j, char *o, size_t *n) {
  static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
  char c = j->pos < j->len ? j->p[j->pos++] : 0;
  const char *k = c ? strchr(from, c) : NULL;
  if (k) return o[(*n)++] = to[k - from], true;
  if (c == 'u') return unicode_escape(j, o, n);
  return json_fail(j, "bad escape in string");
}

/* Length of the encoded string starting after the opening quote, up to the closing one. */
static bool string_span(JsonIn *j, size_t *span) {
  size_t i = j->pos;
  while (i < j->len && j->p[i] != '"') {
    if ((unsigned char)j->p[i] < 0x20) return j->pos = i, json_fail(j, "control character in string");
    i += j->p[i] == '\\' ? 2 : 1;
  }
  if (i >= j->len) return json_fail(j, "unterminated string");
  *span = i - j->pos;
  return true;
}

bool json_string(JsonIn *j, char **out, size_t *len) {
  size_t span = 0, n = 0;
  *out = NULL;
  if (!json_eat(j, '"') || !string_span(j, &span)) return false;
  size_t end = j->pos + span;
  char *o = malloc(span + 1);
  if (!o) return json_fail(j, "out of memory");
  while (j->pos < end) {
    char c = j->p[j->pos++];
    if (c != '\\') o[n++] = c;
    else if (!escape(j, o, &n)) return free(o), false;
  }
  if (j->pos != end) return free(o), json_fail(j, "bad escape at the end of a string");
  j->pos = end + 1;
  o[n] = 0;
  if (!json_utf8_valid(o, n)) return free(o), json_fail(j, "string is not valid UTF-8");
  *out = o;
  *len = n;
  return true;
}

/* ---- numbers and literals ---- */

static bool digit(const JsonIn *j) { return j->pos < j->len && j->p[j->pos] >= '0' && j->p[j->pos] <= '9'; }

/* -?(0|[1-9][0-9]*): accumulates into *mag (saturating) and sets *neg. */
static bool int_part(JsonIn *j, uint64_t *mag, bool *neg, bool *overflow) {
  *neg = j->pos < j->len && j->p[j->pos] == '-';
  j->pos += *neg;
  if (!digit(j)) return unexpected(j, "a digit");
  bool zero = j->p[j->pos] == '0';
  *mag = 0;
  *overflow = false;
  while (digit(j)) {
    unsigned d = (unsigned)(j->p[j->pos++] - '0');
    if (*mag > (UINT64_MAX - d) / 10) *overflow = true;
    else *mag = *mag * 10 + d;
    if (zero) break;
  }
  return true;
}

static bool frac_exp(JsonIn *j, bool *any) {
  *any = false;
  if (j->pos < j->len && j->p[j->pos] == '.') {
    j->pos++, *any = true;
    if (!digit(j)) return unexpected(j, "a digit");
    while (digit(j)) j->pos++;
  }
  if (j->pos < j->len && (j->p[j->pos] == 'e' || j->p[j->pos] == 'E')) {
    j->pos++, *any = true;
    if (j->pos < j->len && (j->p[j->pos] == '+' || j->p[j->pos] == '-')) j->pos++;
    if (!digit(j)) return unexpected(j, "a digit");
    while (digit(j)) j->pos++;
  }
  if (digit(j)) return json_fail(j, "leading zero in number");
  return true;
}

bool json_int(JsonIn *j, int64_t *out) {
  uint64_t mag;
  bool neg, over, frac;
  char c = json_peek(j);
  if (c != '-' && (c < '0' || c > '9')) return unexpected(j, "an integer");
  size_t start = j->pos;
  if (!int_part(j, &mag, &neg, &over) || !frac_exp(j, &frac)) return false;
  if (frac) return j->pos = start, json_fail(j, "expected an integer, found a fraction or exponent");
  if (over || mag > (uint64_t)INT64_MAX + neg) return j->pos = start, json_fail(j, "integer out of range");
  *out = neg ? (int64_t)(0 - mag) : (int64_t)mag;
  return true;
}

bool json_number(JsonIn *j, double *out) {
  char c = json_peek(j);
  if (c != '-' && (c < '0' || c > '9')) return unexpected(j, "a number");
  size_t start = j->pos;
  uint64_t mag;
  bool neg, over, frac;
  if (!int_part(j, &mag, &neg, &over) || !frac_exp(j, &frac)) return false;
  char buf[64];
  size_t len = j->pos - start;
  if (len >= sizeof buf) return j->pos = start, json_fail(j, "number too long");
  memcpy(buf, j->p + start, len);
  buf[len] = 0;
  *out = strtod(buf, NULL);
  return true;
}

static bool skip_number(JsonIn *j) {
  uint64_t mag;
  bool neg, over, frac;
  return int_part(j, &mag, &neg, &over) && frac_exp(j, &frac);
}

static bool skip_literal(JsonIn *j) {
  static const char *lits[] = {"true", "false", "null"};
  for (int i = 0; i < 3; i++) {
    size_t n = strlen(lits[i]);
    if (j->len - j->pos >= n && !memcmp(j->p + j->pos, lits[i], n)) return j->pos += n, true;
  }
  return unexpected(j, "a JSON value");
}

/* ---- containers ---- */

bool json_member(JsonIn *j, bool *first, char **key, size_t *keylen) {
  *key = NULL;
  char c = json_peek(j);
  bool was_first = *first;
  *first = false;
  if (c == '}' && j->pos < j->len) return j->pos++, true;
  if (!was_first && !json_eat(j, ',')) return false;
  if (json_peek(j) != '"') return unexpected(j, "a string key");
  if (!json_string(j, key, keylen)) return false;
  if (json_eat(j, ':')) return true;
  free(*key);
  *key = NULL;
  return false;
}

bool json_element(JsonIn *j, bool *first, bool *more) {
  char c = json_peek(j);
  bool was_first = *first;
  *first = false;
  *more = false;
  if (c == ']' && j->pos < j->len) return j->pos++, true;
  if (!was_first && !json_eat(j, ',')) return false;
  *more = true;
  return true;
}

static bool skip_object(JsonIn *j) {
  bool first = true;
  char *key;
  size_t n;
  j->pos++;
  while (json_member(j, &first, &key, &n) && key) {
    free(key);
    if (!json_skip(j)) return false;
  }
  return !j->failed;
}

static bool skip_array(JsonIn *j) {
  bool first = true, more = true;
  j->pos++;
  while (json_element(j, &first, &more) && more)
    if (!json_skip(j)) return false;
  return !j->failed;
}

bool json_skip(JsonIn *j) {
  char c = json_peek(j);
  char *s;
  size_t n;
  if (c == '"') return json_string(j, &s, &n) && (free(s), true);
  if (c == '-' || (c >= '0' && c <= '9')) return skip_number(j);
  if (c != '{' && c != '[') return skip_literal(j);
  if (j->depth >= JSON_MAX_DEPTH) return json_fail(j, "nested deeper than %d levels", JSON_MAX_DEPTH);
  j->depth++;
  bool ok = c == '{' ? skip_object(j) : skip_array(j);
  j->depth--;
  return ok;
}

/* ---- output ---- */

void json_raw(JsonOut *o, const char *s, size_t n) {
  if (o->oom || n == 0) return;
  if (n > o->cap - o->len) {
    size_t cap = o->cap ? o->cap : 256;
    while (cap - o->len < n) {
      if (cap > SIZE_MAX / 2) return (void)(o->oom = true);
      cap *= 2;
    }
    char *p = realloc(o->p, cap);
    if (!p) return (void)(o->oom = true);
    o->p = p;
    o->cap = cap;
  }
  memcpy(o->p + o->len, s, n);
  o->len += n;
}

void json_str(JsonOut *o, const char *s, size_t n) {
  json_raw(o, "\"", 1);
  size_t run = 0; /* bytes copied as they are */
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    json_raw(o, s + run, i - run);
    run = i + 1;
    const char *short_esc = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\b' ? "\\b" : c == '\f' ? "\\f"
                          : c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
    char buf[8];
    if (!short_esc) snprintf(buf, sizeof buf, "\\u%04x", c);
    json_raw(o, short_esc ? short_esc : buf, strlen(short_esc ? short_esc : buf));
  }
  json_raw(o, s + run, n - run);
  json_raw(o, "\"", 1);
}

void json_i64(JsonOut *o, int64_t v) {
  char buf[24];
  int n = snprintf(buf, sizeof buf, "%lld", (long long)v);
  json_raw(o, buf, (size_t)n);
}

void json_out_free(JsonOut *o) {
  free(o->p);
  *o = (JsonOut){0};
}
