/* report_svg.c - an SVG file made safe to put inline in the report (report_internal.h). The file is
   parsed as XML (elements, attributes, text, entity and character references, CDATA, comments and
   processing instructions; no DTD) and written again from whitelists: drawing elements and their
   presentation attributes only. Scripts, event handlers, style sheets and style attributes, links,
   foreign objects and every reference outside the file (url(...) other than url(#id)) are left out;
   ids get a prefix (with the url(#id) references to them), so they cannot clash with the page's. */
#include <stdio.h>
#include <string.h>
#include "report_internal.h"

enum { MAX_DEPTH = 64, MAX_NAME = 64 };

static const char *const ELEMENTS[] = {"svg", "g", "defs", "marker", "rect", "circle", "ellipse", "line", "polyline",
                                       "polygon", "path", "text", "tspan", "title", "desc", "linearGradient",
                                       "radialGradient", "stop", "clipPath", NULL};
static const char *const ATTRIBUTES[] = {
    "id", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "dx", "dy", "width", "height", "d", "points",
    "transform", "viewBox", "preserveAspectRatio", "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width",
    "stroke-opacity", "stroke-dasharray", "stroke-linecap", "stroke-linejoin", "opacity", "font-family", "font-size",
    "font-weight", "font-style", "text-anchor", "dominant-baseline", "marker-start", "marker-mid", "marker-end",
    "markerWidth", "markerHeight", "refX", "refY", "orient", "markerUnits", "offset", "stop-color", "stop-opacity",
    "gradientUnits", "clip-path", "xmlns", "version", NULL};

static bool listed(const char *const *list, const char *name) {
  for (; *list; list++)
    if (!strcmp(*list, name)) return true;
  return false;
}

typedef struct Svg {
  const char *s;
  size_t len, pos;
  JsonOut *out;
  const char *prefix;
  char stack[MAX_DEPTH][MAX_NAME];
  int depth;
  int skip;        /* > 0: inside an element that is left out, this many levels deep */
  int dropped;
  bool root_open, root_done;
  char *err;
  size_t errn;
} Svg;

static int line_of(const Svg *x, size_t pos) {
  int line = 1;
  for (size_t i = 0; i < pos && i < x->len; i++) line += x->s[i] == '\n';
  return line;
}

#define FAIL(x, ...) (snprintf((x)->err, (x)->errn, "line %d: ", line_of(x, (x)->pos)), \
                      snprintf((x)->err + strlen((x)->err), (x)->errn - strlen((x)->err), __VA_ARGS__), false)

static bool starts(const Svg *x, const char *lit) {
  size_t n = strlen(lit);
  return x->len - x->pos >= n && !memcmp(x->s + x->pos, lit, n);
}

/* Moves past the next occurrence of lit. */
static bool skip_past(Svg *x, const char *lit, const char *what) {
  const char *end = NULL;
  size_t n = strlen(lit);
  for (size_t i = x->pos; i + n <= x->len && !end; i++)
    if (!memcmp(x->s + i, lit, n)) end = x->s + i;
  if (!end) return FAIL(x, "unterminated %s", what);
  x->pos = (size_t)(end - x->s) + n;
  return true;
}

static bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == ':' ||
         c == '-' || c == '.';
}

static bool read_name(Svg *x, char *name) {
  size_t k = 0;
  while (x->pos < x->len && name_char(x->s[x->pos])) {
    if (k + 1 >= MAX_NAME) return FAIL(x, "a name longer than %d characters", MAX_NAME - 1);
    name[k++] = x->s[x->pos++];
  }
  name[k] = 0;
  return k ? true : FAIL(x, "expected a name");
}

static void skip_space(Svg *x) {
  while (x->pos < x->len && strchr(" \t\r\n", x->s[x->pos])) x->pos++;
}

static void put_utf8(JsonOut *o, unsigned cp) {
  char b[4];
  size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  if (n == 1) b[0] = (char)cp;
  else {
    for (size_t i = n - 1; i > 0; i--) b[i] = (char)(0x80 | (cp & 0x3f)), cp >>= 6;
    b[0] = (char)((n == 2 ? 0xc0 : n == 3 ? 0xe0 : 0xf0) | cp);
  }
  json_raw(o, b, n);
}

/* XML text (content or attribute value) with its references decoded into out. */
static bool decode(Svg *x, const char *s, size_t n, JsonOut *out) {
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '<') return FAIL(x, "'<' in an attribute value");
    if (s[i] != '&') {
      json_raw(out, s + i, 1);
      continue;
    }
    size_t end = i + 1;
    while (end < n && end - i < 12 && s[end] != ';') end++;
    if (end >= n || s[end] != ';') return FAIL(x, "'&' that does not start a reference");
    const char *ref = s + i + 1;
    size_t rl = end - i - 1;
    static const char *const names[5] = {"amp", "lt", "gt", "quot", "apos"};
    static const char chars[5] = {'&', '<', '>', '"', '\''};
    int k = 0;
    while (k < 5 && (strlen(names[k]) != rl || memcmp(ref, names[k], rl))) k++;
    if (k < 5) {
      json_raw(out, &chars[k], 1);
    } else if (rl >= 2 && ref[0] == '#') {
      unsigned long cp = 0;
      bool hex = ref[1] == 'x';
      size_t d = hex ? 2 : 1;
      if (d >= rl) return FAIL(x, "an empty character reference");
      for (; d < rl; d++) {
        char c = ref[d];
        int v = c >= '0' && c <= '9' ? c - '0' : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
              : hex && c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (v < 0 || cp > 0x10ffff) return FAIL(x, "a bad character reference");
        cp = cp * (hex ? 16 : 10) + (unsigned long)v;
      }
      if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return FAIL(x, "a bad character reference");
      put_utf8(out, (unsigned)cp);
    } else {
      return FAIL(x, "an unknown entity '&%.*s;'", (int)rl, ref);
    }
    i = end;
  }
  return true;
}

static bool contains_ci(const char *s, const char *lit) {
  size_t n = strlen(lit);
  for (; *s; s++) {
    size_t k = 0;
    while (k < n && s[k] && (s[k] | 0x20) == lit[k]) k++;
    if (k == n) return true;
  }
  return false;
}

static bool safe_id(const char *v) {
  if (!*v) return false;
  for (; *v; v++)
    if (!name_char(*v) || *v == ':') return false;
  return true;
}

/* A whitelisted attribute's decoded value, written with the prefix on ids and url(#id) references;
   values with other references or script are left out. */
static void put_attribute(Svg *x, const char *name, const char *v) {
  JsonOut *o = x->out;
  if (contains_ci(v, "javascript:") || contains_ci(v, "expression(")) return; /* lit: lower case */
  const char *url = strstr(v, "url(");
  if (!strcmp(name, "id")) {
    if (!safe_id(v)) return;
    buf_f(o, " id=\"%s-", x->prefix);
    html_text(o, v, strlen(v));
    buf_s(o, "\"");
    return;
  }
  if (url) { /* only exactly url(#id) */
    char id[MAX_NAME + 1];
    size_t k = 0;
    const char *p = v + 4;
    if (url != v || *p != '#') return;
    for (p++; *p && *p != ')' && k < MAX_NAME; p++) id[k++] = *p;
    id[k] = 0;
    if (*p != ')' || p[1] || !safe_id(id)) return;
    buf_f(o, " %s=\"url(#%s-", name, x->prefix);
    html_text(o, id, k);
    buf_s(o, ")\"");
    return;
  }
  buf_f(o, " %s=\"", name);
  html_text(o, v, strlen(v));
  buf_s(o, "\"");
}

/* A start tag after '<': its attributes, written when the element is kept. */
static bool start_tag(Svg *x) {
  char name[MAX_NAME];
  if (!read_name(x, name)) return false;
  if (x->root_done) return FAIL(x, "an element after the end of the <svg> element");
  if (!x->root_open && strcmp(name, "svg")) return FAIL(x, "not an SVG file (its root element is <%s>)", name);
  bool keep = !x->skip && listed(ELEMENTS, name);
  if (keep) buf_f(x->out, "<%s", name);
  for (;;) {
    bool space = x->pos < x->len && strchr(" \t\r\n", x->s[x->pos]);
    skip_space(x);
    if (x->pos >= x->len) return FAIL(x, "unterminated tag <%s", name);
    char c = x->s[x->pos];
    if (c == '>' || (c == '/' && starts(x, "/>"))) break;
    if (!space) return FAIL(x, "expected a space before an attribute of <%s>", name);
    char attr[MAX_NAME];
    if (!read_name(x, attr)) return false;
    skip_space(x);
    if (x->pos >= x->len || x->s[x->pos] != '=') return FAIL(x, "attribute %s without a value", attr);
    x->pos++;
    skip_space(x);
    char q = x->pos < x->len ? x->s[x->pos] : 0;
    if (q != '"' && q != '\'') return FAIL(x, "attribute %s: expected a quoted value", attr);
    const char *v = x->s + ++x->pos, *end = memchr(v, q, x->len - x->pos);
    if (!end) return FAIL(x, "unterminated value of attribute %s", attr);
    JsonOut val = {0};
    bool ok = decode(x, v, (size_t)(end - v), &val);
    json_raw(&val, "", 1); /* NUL */
    x->pos = (size_t)(end - x->s) + 1;
    if (ok && keep && !val.oom && listed(ATTRIBUTES, attr) && strlen(val.p) + 1 == val.len) put_attribute(x, attr, val.p);
    json_out_free(&val);
    if (!ok) return false;
  }
  bool empty = x->s[x->pos] == '/';
  x->pos += empty ? 2 : 1;
  if (keep) buf_s(x->out, empty ? "/>" : ">");
  else if (!x->skip) x->dropped++;
  if (!x->root_open) x->root_open = true, x->root_done = empty;
  if (empty) return true;
  if (x->depth == MAX_DEPTH) return FAIL(x, "elements nested deeper than %d", MAX_DEPTH);
  memcpy(x->stack[x->depth++], name, sizeof name);
  if (!keep) x->skip++;
  return true;
}

static bool end_tag(Svg *x) {
  char name[MAX_NAME];
  if (!read_name(x, name)) return false;
  skip_space(x);
  if (x->pos >= x->len || x->s[x->pos] != '>') return FAIL(x, "unterminated end tag </%s", name);
  x->pos++;
  if (!x->depth || strcmp(x->stack[x->depth - 1], name))
    return FAIL(x, "</%s> does not close %s%s%s", name, x->depth ? "<" : "any element", x->depth ? x->stack[x->depth - 1] : "",
                x->depth ? ">" : "");
  x->depth--;
  if (x->skip) x->skip--;
  else buf_f(x->out, "</%s>", name);
  if (!x->depth) x->root_done = true;
  return true;
}

static bool text(Svg *x, const char *s, size_t n) {
  bool blank = true;
  for (size_t i = 0; i < n && blank; i++) blank = strchr(" \t\r\n", s[i]) != NULL;
  if (!x->depth) return blank ? true : FAIL(x, "text outside the <svg> element");
  if (x->skip) return true;
  JsonOut plain = {0};
  bool ok = decode(x, s, n, &plain);
  if (ok) html_text(x->out, plain.p, plain.len);
  json_out_free(&plain);
  return ok;
}

bool svg_sanitize(const char *svg, size_t len, const char *id_prefix, JsonOut *out, int *dropped, char *err, size_t n) {
  Svg x = {.s = svg, .len = len, .out = out, .prefix = id_prefix, .err = err, .errn = n};
  if (memchr(svg, 0, len)) return snprintf(err, n, "a NUL byte: not a text file"), false;
  if (len >= 3 && !memcmp(svg, "\xef\xbb\xbf", 3)) x.pos = 3; /* byte order mark */
  while (x.pos < x.len) {
    bool ok;
    if (x.s[x.pos] != '<') {
      const char *lt = memchr(x.s + x.pos, '<', x.len - x.pos);
      size_t end = lt ? (size_t)(lt - x.s) : x.len;
      ok = text(&x, x.s + x.pos, end - x.pos);
      x.pos = end;
    } else if (starts(&x, "<?")) {
      ok = skip_past(&x, "?>", "processing instruction");
    } else if (starts(&x, "<!--")) {
      ok = skip_past(&x, "-->", "comment");
    } else if (starts(&x, "<![CDATA[")) {
      size_t from = x.pos + 9;
      if ((ok = skip_past(&x, "]]>", "CDATA section")) && x.depth && !x.skip) html_text(out, x.s + from, x.pos - 3 - from);
    } else if (starts(&x, "<!")) {
      ok = FAIL(&x, "a document type declaration (not allowed)");
    } else if (starts(&x, "</")) {
      x.pos += 2, ok = end_tag(&x);
    } else {
      x.pos++, ok = start_tag(&x);
    }
    if (!ok) return false;
  }
  if (!x.root_open) return snprintf(err, n, "no <svg> element"), false;
  if (x.depth) return snprintf(err, n, "<%s> is not closed at the end of the file", x.stack[x.depth - 1]), false;
  if (out->oom) return snprintf(err, n, "out of memory"), false;
  *dropped = x.dropped;
  return true;
}
