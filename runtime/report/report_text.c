/* report_text.c - the report's text buffer and escapers (report_internal.h). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report_internal.h"

void buf_s(JsonOut *o, const char *s) { json_raw(o, s, strlen(s)); }

void buf_f(JsonOut *o, const char *fmt, ...) {
  char small[512];
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (k < 0) return;
  if ((size_t)k < sizeof small) return json_raw(o, small, (size_t)k);
  char *big = malloc((size_t)k + 1);
  if (!big) return (void)(o->oom = true);
  va_start(ap, fmt);
  vsnprintf(big, (size_t)k + 1, fmt, ap);
  va_end(ap);
  json_raw(o, big, (size_t)k);
  free(big);
}

size_t utf8_seq(const unsigned char *s, size_t n, unsigned *cp) {
  if (n == 0) return 0;
  unsigned c = s[0];
  if (c < 0x80) return *cp = c, 1;
  size_t len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
  if (!len || len > n || (c >= 0xf0 && len != 4)) return 0;
  unsigned v = c & (0x7f >> len);
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    v = v << 6 | (s[i] & 0x3f);
  }
  static const unsigned min[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (v < min[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0; /* overlong, too large, surrogate */
  return *cp = v, len;
}

static const char REPLACEMENT[] = "\xef\xbf\xbd"; /* U+FFFD */

void html_text(JsonOut *o, const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  for (size_t i = 0; i < n;) {
    unsigned cp;
    size_t len = utf8_seq(u + i, n - i, &cp);
    if (!len) { buf_s(o, REPLACEMENT), i++; continue; }
    const char *e = cp == '&' ? "&amp;" : cp == '<' ? "&lt;" : cp == '>' ? "&gt;" : cp == '"' ? "&quot;"
                  : cp == '\'' ? "&#39;" : NULL;
    if (e) buf_s(o, e);
    else if (cp >= 0x20 || cp == '\t' || cp == '\n') json_raw(o, s + i, len);
    i += len;
  }
}

void js_str(JsonOut *o, const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  json_raw(o, "\"", 1);
  for (size_t i = 0; i < n;) {
    unsigned cp;
    size_t len = utf8_seq(u + i, n - i, &cp);
    if (!len) { buf_s(o, REPLACEMENT), i++; continue; }
    const char *e = cp == '"' ? "\\\"" : cp == '\\' ? "\\\\" : cp == '\n' ? "\\n" : cp == '\r' ? "\\r"
                  : cp == '\t' ? "\\t" : NULL;
    if (e) buf_s(o, e);
    else if (cp < 0x20 || cp == '<' || cp == '>' || cp == '&' || cp == 0x2028 || cp == 0x2029) buf_f(o, "\\u%04x", cp);
    else json_raw(o, s + i, len);
    i += len;
  }
  json_raw(o, "\"", 1);
}

void js_cstr(JsonOut *o, const char *s) {
  if (s) js_str(o, s, strlen(s));
  else buf_s(o, "null");
}

void js_num(JsonOut *o, double v) {
  if (!isfinite(v)) return buf_s(o, "null");
  if (v == floor(v) && fabs(v) < 1e15) return buf_f(o, "%.0f", v);
  buf_f(o, "%.9g", v);
}
