/* report.c - report.html of a run folder (report.h): the page around the data that report_data.c reads,
   with arch.svg inline after report_svg.c has sanitized it, and the CSS and JavaScript embedded at build
   time (report_assets.c, made by embed.cmake from report.css and report.js). Everything from the folder is
   escaped on its way into the page: HTML text by html_text, the JSON data by js_str, so that nothing in a
   file can close an element or start a script. The Content-Security-Policy forbids every load from
   elsewhere, so the page works offline and cannot leak. */
#include "report.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "atomic_file.h"
#include "report_internal.h"

extern const char report_css[], report_js[]; /* report_assets.c */

#define MAX_SVG (16L << 20)

static char *read_text(const char *path, size_t *len, char *why, size_t n) {
  FILE *f = fopen(path, "rb");
  if (!f) return snprintf(why, n, "%s", strerror(errno)), NULL;
  char *buf = NULL;
  long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
  if (size < 0) snprintf(why, n, "%s", strerror(errno));
  else if (size > MAX_SVG) snprintf(why, n, "larger than %ld MiB", MAX_SVG >> 20);
  else if (!(buf = malloc((size_t)size + 1))) snprintf(why, n, "out of memory");
  else {
    rewind(f);
    *len = fread(buf, 1, (size_t)size, f);
    if (ferror(f)) free(buf), buf = NULL, snprintf(why, n, "%s", strerror(errno));
  }
  fclose(f);
  return buf;
}

/* arch.svg sanitized into arch; a note when it is missing from a search or cannot be used. */
static bool arch_svg(const char *dir, ReportData *d, JsonOut *arch) {
  char path[4096], why[300] = "";
  snprintf(path, sizeof path, "%s/arch.svg", dir);
  if (access(path, F_OK) != 0) {
    if (d->search) report_note(d, "No arch.svg: the search has not derived its network yet (that happens after its last epoch).");
    return false;
  }
  size_t len = 0;
  int dropped = 0;
  char *svg = read_text(path, &len, why, sizeof why);
  bool ok = svg && svg_sanitize(svg, len, "arch", arch, &dropped, why, sizeof why);
  free(svg);
  if (!ok) return report_note(d, "arch.svg is not shown: %s", why), json_out_free(arch), false;
  if (dropped)
    report_note(d, "arch.svg: %d element%s left out (only drawing elements are shown: no scripts, links, styles or foreign content)",
                dropped, dropped > 1 ? "s" : "");
  return true;
}

static void notes_html(JsonOut *h, const JsonOut *notes) {
  for (size_t at = 0; at < notes->len;) {
    const char *line = notes->p + at, *nl = memchr(line, '\n', notes->len - at);
    size_t len = nl ? (size_t)(nl - line) : notes->len - at;
    buf_s(h, "<li>"), html_text(h, line, len), buf_s(h, "</li>");
    at += len + 1;
  }
}

static bool page(const char *dir, ReportData *d, JsonOut *h, char *err, size_t n) {
  if (strstr(report_css, "</") || strstr(report_js, "</"))
    return snprintf(err, n, "this sqnrun's embedded report.css or report.js contains \"</\" (a build problem)"), false;
  JsonOut arch = {0};
  bool have_arch = arch_svg(dir, d, &arch);
  char when[64] = "";
  time_t now = time(NULL);
  struct tm tm;
  if (localtime_r(&now, &tm)) strftime(when, sizeof when, "%Y-%m-%d %H:%M %Z", &tm);
  buf_s(h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
           "script-src 'unsafe-inline'; img-src data:\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>sqn report: ");
  html_text(h, d->name, strlen(d->name));
  buf_s(h, "</title>\n<style>\n");
  buf_s(h, report_css);
  buf_s(h, "</style>\n</head>\n<body>\n<header>\n<h1>");
  html_text(h, d->name, strlen(d->name));
  buf_f(h, "</h1>\n<p class=\"sub\"><span class=\"kind\">%s</span>", d->search ? "search" : "training run");
  html_text(h, d->path, strlen(d->path));
  buf_s(h, " &middot; report written ");
  html_text(h, when, strlen(when));
  buf_s(h, " by sqnrun</p>\n</header>\n<nav id=\"nav\"></nav>\n<ul class=\"notes\" id=\"notes\">");
  notes_html(h, &d->notes);
  buf_s(h, "</ul>\n<main id=\"main\"></main>\n");
  if (have_arch) {
    buf_s(h, "<div class=\"arch\" id=\"arch-svg\" hidden>\n");
    json_raw(h, arch.p, arch.len);
    buf_s(h, "\n</div>\n");
  }
  json_out_free(&arch);
  buf_s(h, "<pre id=\"selftest\">{\"errors\": [\"the report's script did not run\"], \"points\": {}}</pre>\n"
           "<script type=\"application/json\" id=\"sqn-data\">\n");
  json_raw(h, d->json.p, d->json.len);
  buf_s(h, "\n</script>\n<script>\n");
  buf_s(h, report_js);
  buf_s(h, "</script>\n</body>\n</html>\n");
  return h->oom ? (snprintf(err, n, "out of memory"), false) : true;
}

bool report_write(const char *run_dir, char *path, size_t path_n, char *err, size_t n) {
  if (snprintf(path, path_n, "%s/report.html", run_dir) >= (int)path_n)
    return snprintf(err, n, "the run folder's path is too long"), false;
  ReportData d;
  if (!report_data(run_dir, &d, err, n)) return false;
  JsonOut h = {0};
  bool ok = page(run_dir, &d, &h, err, n) && atomic_write(path, h.p, h.len, err, n);
  json_out_free(&h);
  report_data_free(&d);
  return ok;
}
