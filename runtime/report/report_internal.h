/* report_internal.h - what the parts of the report share: a growing text buffer (JsonOut of json_min.h)
   with printf, and the escapers. Everything that comes from a file reaches the page through one of them:
   html_text for HTML text and attribute values, js_str for strings of the embedded JSON (which must not
   close its <script> element), js_num for numbers (NaN and infinities become null). */
#ifndef SQN_REPORT_INTERNAL_H
#define SQN_REPORT_INTERNAL_H
#include <stdbool.h>
#include <stddef.h>
#include "json_min.h"

void buf_s(JsonOut *o, const char *s);
void buf_f(JsonOut *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* & < > " ' escaped; control bytes other than tab and newline dropped; invalid UTF-8 as U+FFFD. */
void html_text(JsonOut *o, const char *s, size_t n);
/* A JSON string that is safe inside <script>: < > & as \u003c \u003e \u0026, U+2028/2029 escaped,
   invalid UTF-8 as U+FFFD. */
void js_str(JsonOut *o, const char *s, size_t n);
void js_cstr(JsonOut *o, const char *s); /* js_str of a C string, or null for NULL */
void js_num(JsonOut *o, double v);
/* The length of the UTF-8 sequence at s (at most n bytes) and its code point, or 0 when invalid. */
size_t utf8_seq(const unsigned char *s, size_t n, unsigned *cp);

/* report_data.c: the run folder's data as one JSON object (the page's embedded data), and whether it is a
   search. notes collects what is missing or could not be read (one per line, plain text). False: the
   folder is not a run folder (err says why). */
typedef struct ReportData {
  JsonOut json;     /* {"run": ..., "kind": ..., "step": ..., ...} */
  bool search;
  JsonOut notes;    /* plain text, lines */
  char name[256];   /* the folder's last path component */
  char path[4096];  /* the folder's absolute path (as given when it has none) */
} ReportData;
bool report_data(const char *dir, ReportData *d, char *err, size_t n);
void report_data_free(ReportData *d);
void report_note(ReportData *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* report_svg.c: an SVG file re-written for inline use in HTML from a whitelist of elements and attributes
   (no scripts, event handlers, styles, links or external references; ids prefixed with id_prefix); false
   with err when the file is not well-formed XML or is not an SVG. dropped counts the elements left out. */
bool svg_sanitize(const char *svg, size_t len, const char *id_prefix, JsonOut *out, int *dropped, char *err,
                  size_t n);
#endif
