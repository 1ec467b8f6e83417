/* derive_svg.c - the two pictures that deriving writes (derive.h), as standalone SVG 1.1 made with stdio:
   pareto.svg, every scored architecture by cost (GMACs or ms) and validation mIoU with the pareto front,
   the most probable and the chosen one marked; and arch.svg, the chosen network as a left-to-right chain
   of blocks in the style of the SqueezeNAS paper's figures 8-9 (stem, one box per superblock grouped by
   stage, head/decoder; box height by expansion, colour by kernel size, stride 2 and residual marked).
   Both files are written atomically (atomic_file.h), so a reader never sees half of one. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "atomic_file.h"
#include "derive.h"

/* ---- common: atomic files, XML text, finite numbers ---- */

typedef AtomicFile SvgFile;

static bool svg_open(SvgFile *o, const char *path, char *err, size_t n) {
  if (!path || !*path) return snprintf(err, n, "cannot write SVG: no path given"), false;
  return atomic_open(o, path, err, n);
}

static bool svg_close(SvgFile *o, char *err, size_t n) { return atomic_close(o, true, err, n); }

/* Text for an element's content or an attribute value: & < > " ' escaped, control bytes dropped
   (XML 1.0 does not allow them). */
static void xml_text(FILE *f, const char *s) {
  for (; s && *s; s++) {
    unsigned char c = (unsigned char)*s;
    switch (c) {
      case '&': fputs("&amp;", f); break;
      case '<': fputs("&lt;", f); break;
      case '>': fputs("&gt;", f); break;
      case '"': fputs("&quot;", f); break;
      case '\'': fputs("&apos;", f); break;
      default:
        if (c >= 0x20 || c == '\t' || c == '\n') fputc(c, f);
    }
  }
}

/* A coordinate that is always a number (never nan/inf in the file). */
static double fin(double v) { return isfinite(v) ? v : 0.0; }

static void svg_header(FILE *f, double w, double h) {
  fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
             "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" height=\"%.0f\" "
             "viewBox=\"0 0 %.0f %.0f\" font-family=\"Helvetica, Arial, sans-serif\">\n"
             "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"white\"/>\n",
          w, h, w, h, w, h);
}

/* <text> at (x, y) with the given anchor, size and extra attributes (may be ""), content escaped. */
static void svg_label(FILE *f, double x, double y, const char *anchor, double size, const char *attr, const char *s) {
  fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%.0f\"%s%s>", fin(x), fin(y), anchor, size,
          *attr ? " " : "", attr);
  xml_text(f, s);
  fputs("</text>\n", f);
}

/* ---- pareto.svg ---- */

enum { PW = 820, PH = 500, PL = 80, PR = 600, PT = 50, PB = 430 }; /* size; plot area [PL,PR] x [PT,PB] */

typedef struct Axis {
  double lo, hi, step;   /* the axis range (multiples of step) and the tick spacing */
  int decimals;          /* for the tick labels */
} Axis;

/* 1, 2 or 5 times a power of ten, at least raw. */
static double nice_step(double raw, int *decimals) {
  double p = pow(10.0, floor(log10(raw))), f = raw / p;
  double m = f <= 1.0 ? 1.0 : f <= 2.0 ? 2.0 : f <= 5.0 ? 5.0 : 10.0;
  int e = (int)floor(log10(m * p) + 1e-9);
  *decimals = e < 0 ? -e : 0;
  return m * p;
}

/* About five ticks over [lo, hi] (the finite values plotted), padded (not below 0 when the values are
   not); never an empty range. */
static Axis make_axis(double lo, double hi, bool any) {
  Axis a;
  if (!any) lo = 0.0, hi = 1.0;
  bool nonneg = lo >= 0.0; /* costs and mIoUs: no negative ticks for padding's sake */
  double span = hi - lo, mag = fabs(hi) > fabs(lo) ? fabs(hi) : fabs(lo);
  if (!(span > 1e-9 * (mag > 1.0 ? mag : 1.0))) {
    double pad = mag > 0.0 ? mag * 0.05 : 0.5;
    lo -= pad, hi += pad, span = hi - lo;
  }
  lo -= span * 0.05, hi += span * 0.05;
  a.step = nice_step((hi - lo) / 5.0, &a.decimals);
  a.lo = floor(lo / a.step) * a.step, a.hi = ceil(hi / a.step) * a.step;
  if (nonneg && a.lo < 0.0) a.lo = 0.0;
  if (a.hi - a.lo < a.step * 0.5) a.hi = a.lo + a.step;
  return a;
}

static double ax_x(const Axis *a, double v) { return PL + (v - a->lo) / (a->hi - a->lo) * (PR - PL); }
static double ax_y(const Axis *a, double v) { return PB - (v - a->lo) / (a->hi - a->lo) * (PB - PT); }

static double cost_of_arch(const Arch *a, bool by_ms) { return by_ms ? a->ms : a->gmacs; }

/* Plotted: finite mIoU and cost (a latency < 0 means none was measured). */
static bool plotted(const Arch *a, bool by_ms) {
  double c = cost_of_arch(a, by_ms);
  return isfinite(a->miou) && isfinite(c) && !(by_ms && c < 0.0);
}

static void data_ranges(const Arch *a, int na, bool by_ms, Axis *x, Axis *y) {
  double x0 = 0, x1 = 0, y0 = 0, y1 = 0;
  bool any = false;
  for (int i = 0; i < na; i++) {
    if (!plotted(&a[i], by_ms)) continue;
    double c = cost_of_arch(&a[i], by_ms);
    if (!any) x0 = x1 = c, y0 = y1 = a[i].miou, any = true;
    x0 = c < x0 ? c : x0, x1 = c > x1 ? c : x1;
    y0 = a[i].miou < y0 ? a[i].miou : y0, y1 = a[i].miou > y1 ? a[i].miou : y1;
  }
  *x = make_axis(x0, x1, any), *y = make_axis(y0, y1, any);
}

static void tick_label(char *buf, size_t n, double v, int decimals) {
  if (fabs(v) < 1e-12) v = 0.0; /* no "-0.0" */
  snprintf(buf, n, "%.*f", decimals, v);
}

static void draw_axes(FILE *f, const Axis *x, const Axis *y, bool by_ms) {
  char buf[64];
  int nx = (int)floor((x->hi - x->lo) / x->step + 0.5), ny = (int)floor((y->hi - y->lo) / y->step + 0.5);
  fprintf(f, "<g stroke=\"#e0e0e0\" stroke-width=\"1\">\n");
  for (int i = 0; i <= nx; i++) fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>\n", ax_x(x, x->lo + i * x->step), PT, ax_x(x, x->lo + i * x->step), PB);
  for (int i = 0; i <= ny; i++) fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>\n", PL, ax_y(y, y->lo + i * y->step), PR, ax_y(y, y->lo + i * y->step));
  fprintf(f, "</g>\n<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#444\"/>\n", PL, PT, PR - PL, PB - PT);
  for (int i = 0; i <= nx; i++) {
    tick_label(buf, sizeof buf, x->lo + i * x->step, x->decimals);
    svg_label(f, ax_x(x, x->lo + i * x->step), PB + 16, "middle", 11, "fill=\"#333\"", buf);
  }
  for (int i = 0; i <= ny; i++) {
    tick_label(buf, sizeof buf, y->lo + i * y->step, y->decimals);
    svg_label(f, PL - 6, ax_y(y, y->lo + i * y->step) + 4, "end", 11, "fill=\"#333\"", buf);
  }
  svg_label(f, (PL + PR) / 2.0, PB + 40, "middle", 13, "", by_ms ? "latency (ms)" : "GMACs");
  fprintf(f, "<text x=\"0\" y=\"0\" transform=\"translate(%d %d) rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">val mIoU</text>\n",
          PL - 50, (PT + PB) / 2);
}

/* "mIoU 0.1234, 1.234 GMACs" (or "12.34 ms"). */
static void point_text(const Arch *a, bool by_ms, char *buf, size_t n) {
  if (by_ms) snprintf(buf, n, "mIoU %.4f, %.2f ms", fin(a->miou), fin(a->ms));
  else snprintf(buf, n, "mIoU %.4f, %.3f GMACs", fin(a->miou), fin(a->gmacs));
}

/* The tooltip: index, the numbers (both costs when a latency was measured) and the marks. */
static void point_title(FILE *f, const Arch *a, int i, bool by_ms) {
  char buf[160];
  point_text(a, by_ms, buf, sizeof buf);
  fprintf(f, "<title>architecture %d: ", i);
  xml_text(f, buf);
  if (!by_ms && isfinite(a->ms) && a->ms >= 0) fprintf(f, ", %.2f ms", a->ms);
  if (by_ms) fprintf(f, ", %.3f GMACs", fin(a->gmacs));
  fprintf(f, "%s%s%s</title>", a->pareto ? ", pareto" : "", a->most_probable ? ", most probable" : "",
          a->chosen ? ", chosen" : "");
}

static void draw_circle(FILE *f, const Arch *a, int i, bool by_ms, const Axis *x, const Axis *y, double r,
                        const char *style) {
  fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" %s>", ax_x(x, cost_of_arch(a, by_ms)), ax_y(y, a->miou), r, style);
  point_title(f, a, i, by_ms);
  fputs("</circle>\n", f);
}

static int cmp_cost_ms(const void *p, const void *q) {
  const Arch *a = *(const Arch *const *)p, *b = *(const Arch *const *)q;
  return a->ms < b->ms ? -1 : a->ms > b->ms ? 1 : (a->miou > b->miou) - (a->miou < b->miou);
}

static int cmp_cost_gmacs(const void *p, const void *q) {
  const Arch *a = *(const Arch *const *)p, *b = *(const Arch *const *)q;
  return a->gmacs < b->gmacs ? -1 : a->gmacs > b->gmacs ? 1 : (a->miou > b->miou) - (a->miou < b->miou);
}

/* The pareto architectures joined by a step line in order of cost. */
static void draw_front(FILE *f, const Arch *a, int na, bool by_ms, const Axis *x, const Axis *y) {
  const Arch **p = malloc(((size_t)na + 1) * sizeof *p);
  int np = 0;
  if (!p) return;
  for (int i = 0; i < na; i++)
    if (a[i].pareto && plotted(&a[i], by_ms)) p[np++] = &a[i];
  qsort(p, (size_t)np, sizeof *p, by_ms ? cmp_cost_ms : cmp_cost_gmacs);
  if (np > 1) {
    fprintf(f, "<path fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" d=\"M%.1f %.1f", ax_x(x, cost_of_arch(p[0], by_ms)), ax_y(y, p[0]->miou));
    for (int i = 1; i < np; i++) fprintf(f, " H%.1f V%.1f", ax_x(x, cost_of_arch(p[i], by_ms)), ax_y(y, p[i]->miou));
    fputs("\"/>\n", f);
  }
  free(p);
}

static const double PI = 3.14159265358979323846;

/* A five-pointed star of outer radius r around (cx, cy). */
static void draw_star(FILE *f, double cx, double cy, double r) {
  fputs("<polygon fill=\"#d62728\" stroke=\"#7f1010\" stroke-width=\"1\" points=\"", f);
  for (int k = 0; k < 10; k++) {
    double rr = k % 2 ? r * 0.45 : r, t = -PI / 2 + k * PI / 5;
    fprintf(f, "%s%.1f,%.1f", k ? " " : "", cx + rr * cos(t), cy + rr * sin(t));
  }
  fputs("\"/>\n", f);
}

static void draw_chosen(FILE *f, const Arch *a, int i, bool by_ms, const Axis *x, const Axis *y) {
  char buf[160], label[200];
  double cx = ax_x(x, cost_of_arch(a, by_ms)), cy = ax_y(y, a->miou);
  fputs("<g>", f);
  point_title(f, a, i, by_ms);
  fputc('\n', f);
  draw_star(f, cx, cy, 10);
  fputs("</g>\n", f);
  point_text(a, by_ms, buf, sizeof buf);
  snprintf(label, sizeof label, "chosen: %s", buf);
  bool right = cx > (PL + PR) / 2.0;
  double ty = cy < PT + 30 ? cy + 24 : cy - 14;
  svg_label(f, right ? cx - 12 : cx + 12, ty, right ? "end" : "start", 12,
            "fill=\"#b01818\" font-weight=\"bold\"", label);
}

static double legend_y(int row) { return PT + 18 + row * 22; }

/* A legend row: its mark (a circle with the given style; none for the star) and its text. */
static void legend_row(FILE *f, int row, double r, const char *style, const char *text) {
  if (style) fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.0f\" %s/>\n", PR + 30.0, legend_y(row), r, style);
  svg_label(f, PR + 44, legend_y(row) + 4, "start", 12, "", text);
}

static void draw_legend(FILE *f, bool by_ms) {
  fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"white\" stroke=\"#bbb\"/>\n", PR + 18, PT, PW - PR - 28, 108);
  legend_row(f, 0, 3, "fill=\"#9e9e9e\"", "sampled");
  legend_row(f, 1, 4, "fill=\"#1f77b4\"", "pareto front");
  legend_row(f, 2, 6, "fill=\"none\" stroke=\"#ff7f0e\" stroke-width=\"2\"", "most probable");
  legend_row(f, 3, 0, NULL, "chosen");
  draw_star(f, PR + 30.0, legend_y(3), 7);
  svg_label(f, PR + 24, PT + 128, "start", 11, "fill=\"#555\"", by_ms ? "cost: measured latency" : "cost: multiply-adds");
}

bool derive_write_pareto_svg(const Arch *a, int na, bool by_ms, const char *path, char *err, size_t n) {
  SvgFile o;
  Axis x, y;
  if (na < 0 || (na > 0 && !a)) return snprintf(err, n, "cannot write %s: no architectures", path ? path : "SVG"), false;
  if (!svg_open(&o, path, err, n)) return false;
  FILE *f = o.f;
  data_ranges(a, na, by_ms, &x, &y);
  svg_header(f, PW, PH);
  svg_label(f, PW / 2.0, 28, "middle", 16, "font-weight=\"bold\"", "Sampled architectures and the pareto front");
  draw_axes(f, &x, &y, by_ms);
  int shown = 0;
  for (int i = 0; i < na; i++)
    if (plotted(&a[i], by_ms) && !a[i].pareto) draw_circle(f, &a[i], i, by_ms, &x, &y, 3, "fill=\"#9e9e9e\" fill-opacity=\"0.75\""), shown++;
  draw_front(f, a, na, by_ms, &x, &y);
  for (int i = 0; i < na; i++)
    if (plotted(&a[i], by_ms) && a[i].pareto) draw_circle(f, &a[i], i, by_ms, &x, &y, 4, "fill=\"#1f77b4\""), shown++;
  for (int i = 0; i < na; i++)
    if (plotted(&a[i], by_ms) && a[i].chosen) draw_chosen(f, &a[i], i, by_ms, &x, &y);
  for (int i = 0; i < na; i++) /* after the star: a ring around it when they coincide */
    if (plotted(&a[i], by_ms) && a[i].most_probable)
      draw_circle(f, &a[i], i, by_ms, &x, &y, a[i].chosen ? 12 : 7, "fill=\"none\" stroke=\"#ff7f0e\" stroke-width=\"2\"");
  draw_legend(f, by_ms);
  char buf[96];
  snprintf(buf, sizeof buf, na ? "%d of %d architectures plotted" : "no architectures", shown, na);
  svg_label(f, PR, PH - 12, "end", 11, "fill=\"#777\"", buf);
  fputs("</svg>\n", f);
  return svg_close(&o, err, n);
}

/* ---- arch.svg ---- */

enum {
  BW = 54, GAP = 16, STEP = BW + GAP, /* superblock box width, arrow length: 70 px per superblock */
  AM = 20, STEMW = 54, HEADW = 76,    /* margin, stem and head/decoder widths */
  ROWH = 170, TOP = 150,              /* row pitch; the first row's centre line */
  MAXROW = 12                         /* more superblocks than this: two rows */
};

/* What a superblock box says and how it looks. */
typedef struct BoxLook {
  char line1[48], line2[48];
  const char *fill;
  double h;
} BoxLook;

/* k, e, g, d from "inverse_residual_k5_e6_g1[_d2]"; false when the name is not of that form. */
static bool parse_ir_name(const char *s, int *k, int *e, int *g, int *d) {
  int pos = 0, end = 0;
  *d = 1;
  if (sscanf(s, "inverse_residual_k%d_e%d_g%d%n", k, e, g, &pos) != 3 || pos == 0) return false;
  if (s[pos] && (sscanf(s + pos, "_d%d%n", d, &end) != 1 || s[pos + end])) return false;
  return *k > 0 && *e > 0 && *g > 0 && *d > 0;
}

/* A candidate's display string "ir_se(k=5, e=4)" read for the diagram: the block's name, its arguments
   as written, and k, e, g, d where given (k = 0 and has_e = false when not; g = d = 1 when not). False
   when it is no call. */
typedef struct Display {
  char block[40], args[48];
  int k, g, d;
  double e;
  bool has_e;
} Display;

static bool parse_display(const char *s, Display *o) {
  *o = (Display){.g = 1, .d = 1, .e = 1};
  const char *open = s ? strchr(s, '(') : NULL;
  if (!open || open == s) return false;
  snprintf(o->block, sizeof o->block, "%.*s", (int)(open - s), s);
  const char *close = strrchr(open, ')');
  snprintf(o->args, sizeof o->args, "%.*s", (int)(close ? close - open - 1 : (long)strlen(open + 1)), open + 1);
  for (const char *c = open + 1; *c && *c != ')'; c++) {
    if ((c[-1] != '(' && c[-1] != ' ' && c[-1] != ',') || c[1] != '=') continue;
    if (c[0] == 'k') o->k = atoi(c + 2);
    if (c[0] == 'g') o->g = atoi(c + 2);
    if (c[0] == 'd') o->d = atoi(c + 2);
    if (c[0] == 'e') o->e = atof(c + 2), o->has_e = true;
  }
  if (o->e <= 0) o->e = 1;
  return true;
}

static const char *kernel_fill(int k) {
  return k == 3 ? "#6baed6" : k == 5 ? "#fd8d3c" : k == 7 ? "#74c476" : k == 1 ? "#bcbddc" : "#9e9ac8";
}

/* Box height from the expansion: e=1 small (36), 3 medium (50), 6 tall (71). */
static double box_height(double e) {
  double h = 29 + 7 * e;
  return h < 36 ? 36 : h > 88 ? 88 : h;
}

/* Up to ~9 characters per line: the display string over two lines, cut on a character boundary. */
static void split_display(const char *s, BoxLook *b) {
  size_t len = strlen(s), cut = len <= 9 ? len : 9;
  while (cut > 0 && cut < len && ((unsigned char)s[cut] & 0xC0) == 0x80) cut--;
  snprintf(b->line1, sizeof b->line1, "%.*s", (int)cut, s);
  const char *rest = s + cut;
  size_t rl = strlen(rest), cut2 = rl <= 9 ? rl : 8;
  while (cut2 > 0 && cut2 < rl && ((unsigned char)rest[cut2] & 0xC0) == 0x80) cut2--;
  snprintf(b->line2, sizeof b->line2, "%.*s%s", (int)cut2, rest, cut2 < rl ? "\xE2\x80\xA6" : "");
}

/* The inverted residual from its upstream name: "k5 e6" over "g2 d2" (what is not 1), coloured by
   kernel size, as tall as its expansion. */
static void ir_lines(BoxLook *b, int k, int e, int g, int d) {
  snprintf(b->line1, sizeof b->line1, "k%d e%d", k, e);
  if (g != 1 && d != 1) snprintf(b->line2, sizeof b->line2, "g%d d%d", g, d);
  else if (g != 1) snprintf(b->line2, sizeof b->line2, "g%d", g);
  else if (d != 1) snprintf(b->line2, sizeof b->line2, "d%d", d);
  b->fill = kernel_fill(k), b->h = box_height(e);
}

/* "text" cut to n characters (on a character boundary) with an ellipsis. */
static void fit_text(char *dst, size_t size, const char *s, size_t n) {
  size_t len = strlen(s), cut = len <= n ? len : n - 1;
  while (cut > 0 && cut < len && ((unsigned char)s[cut] & 0xC0) == 0x80) cut--;
  snprintf(dst, size, "%.*s%s", (int)cut, s, cut < len ? "\xE2\x80\xA6" : "");
}

/* "k5 e6" (what is given of kernel and expansion), then "g2 d2" (what is not 1). */
static void geometry_lines(const Display *d, char *l1, size_t n1, char *l2, size_t n2) {
  char es[16];
  snprintf(es, sizeof es, d->e == floor(d->e) ? "e%.0f" : "e%.2g", d->e);
  if (d->k > 0) snprintf(l1, n1, "k%d%s%s", d->k, d->has_e ? " " : "", d->has_e ? es : "");
  else snprintf(l1, n1, "%s", d->has_e ? es : "");
  int m = 0;
  if (d->g != 1) m = snprintf(l2, n2, "g%d", d->g);
  if (d->d != 1) snprintf(l2 + m, n2 - (size_t)m, "%sd%d", m ? " " : "", d->d);
}

/* Any other block from its display: for ir(...) its geometry ("k3 e6" over "d2"; ir's k is 3 unless
   given); for another block its name over its geometry (or its arguments when they give none of
   k, e, g, d). Coloured by kernel size where one is known, as tall as its expansion. */
static void display_lines(BoxLook *b, Display *d) {
  char l1[40] = "", l2[40] = "";
  if (!strcmp(d->block, "ir") && !d->k) d->k = 3, d->has_e = true;
  geometry_lines(d, l1, sizeof l1, l2, sizeof l2);
  if (!strcmp(d->block, "ir")) {
    fit_text(b->line1, sizeof b->line1, l1, 10);
    fit_text(b->line2, sizeof b->line2, l2, 10);
  } else {
    char geo[80];
    snprintf(geo, sizeof geo, "%s%s%s", l1, *l1 && *l2 ? " " : "", l2);
    fit_text(b->line1, sizeof b->line1, d->block, 10);
    fit_text(b->line2, sizeof b->line2, *geo ? geo : d->args, 10);
  }
  b->fill = d->k > 0 ? kernel_fill(d->k) : "#c7e9c0";
  b->h = box_height(d->e);
}

static BoxLook box_look(const PlanSuperblock *sb, const PlanCandidate *c) {
  BoxLook b = {"", "", "#d9d9d9", 28};
  int k, e, g, d;
  Display disp;
  const char *name = c->name ? c->name : "";
  if (parse_ir_name(name, &k, &e, &g, &d)) ir_lines(&b, k, e, g, d);
  else if (c->is_zero) snprintf(b.line1, sizeof b.line1, "%s", sb->residual ? "skip" : "zero");
  else if (c->is_identity) snprintf(b.line1, sizeof b.line1, "identity");
  else if (strstr(name, "skip")) snprintf(b.line1, sizeof b.line1, "skip");
  else if (parse_display(c->display, &disp)) display_lines(&b, &disp);
  else split_display(c->display && *c->display ? c->display : name, &b), b.fill = "#c7e9c0", b.h = 40;
  return b;
}

/* Where things go: superblock i's row and left edge, each row's centre line. */
typedef struct ArchLayout {
  int split;             /* first superblock of the second row (nsb when one row) */
  int width, height;
} ArchLayout;

/* The row break: the stage boundary nearest the middle when it is not too lopsided, else the middle. */
static int choose_split(const Search *s) {
  int nsb = s->nsb, best = -1;
  if (nsb <= MAXROW) return nsb;
  for (int i = 1; i < nsb; i++)
    if (s->p->sb[i].stage != s->p->sb[i - 1].stage && 3 * i >= nsb && 3 * i <= 2 * nsb &&
        (best < 0 || abs(2 * i - nsb) < abs(2 * best - nsb)))
      best = i;
  return best > 0 ? best : (nsb + 1) / 2;
}

static double sb_left(const ArchLayout *l, int i) {
  return AM + STEMW + GAP + (double)(i < l->split ? i : i - l->split) * STEP;
}
static double row_centre(const ArchLayout *l, int i) { return TOP + (i < l->split ? 0 : ROWH); }

static ArchLayout arch_layout(const Search *s) {
  ArchLayout l;
  l.split = choose_split(s);
  int r0 = l.split, r1 = s->nsb - l.split;
  int w0 = AM + STEMW + GAP + r0 * STEP + (r1 ? 0 : HEADW) + AM, w1 = r1 ? AM + STEMW + GAP + r1 * STEP + HEADW + AM : 0;
  l.width = w0 > w1 ? w0 : w1;
  if (l.width < 640) l.width = 640;
  l.height = TOP + (r1 ? ROWH : 0) + 150;
  return l;
}

static void arch_defs(FILE *f) {
  fputs("<defs><marker id=\"arrow\" markerWidth=\"8\" markerHeight=\"8\" refX=\"7\" refY=\"4\" orient=\"auto\" "
        "markerUnits=\"userSpaceOnUse\"><path d=\"M0,0 L8,4 L0,8 z\" fill=\"#444\"/></marker></defs>\n", f);
}

static void arrow(FILE *f, double x0, double y, double x1) {
  fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\" stroke-width=\"1.2\" marker-end=\"url(#arrow)\"/>\n", x0, y, x1, y);
}

/* The light band behind superblocks [i, j) of one stage (and one row), labelled with the stage. */
static void stage_band(FILE *f, const Search *s, const ArchLayout *l, int i, int j) {
  const PlanSuperblock *a = &s->p->sb[i], *b = &s->p->sb[j - 1];
  static const char *tint[2] = {"#eef3fa", "#f6f0f8"};
  double x0 = sb_left(l, i) - 6, x1 = sb_left(l, j - 1) + BW + 6, yc = row_centre(l, i);
  char label[96];
  fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" rx=\"6\" fill=\"%s\" stroke=\"#d0d7e2\"/>\n", x0,
          yc - 88, x1 - x0, 150, tint[abs(a->stage) % 2]);
  bool wide = x1 - x0 >= 104;
  if (a->is_decoder) snprintf(label, sizeof label, "decoder");
  else snprintf(label, sizeof label, wide ? "stage %d: %d->%d" : "%d: %d->%d", a->stage + 1, a->cin, b->cout);
  svg_label(f, x0 + 5, yc - 75, "start", wide ? 11 : 9, "fill=\"#445\"", label);
}

static void stage_bands(FILE *f, const Search *s, const ArchLayout *l) {
  for (int i = 0, j; i < s->nsb; i = j) {
    for (j = i + 1; j < s->nsb && j != l->split && s->p->sb[j].stage == s->p->sb[i].stage;) j++;
    stage_band(f, s, l, i, j);
  }
}

static void human(char *buf, size_t n, long long v) {
  if (v >= 1000000000LL) snprintf(buf, n, "%.3f G", v / 1e9);
  else if (v >= 1000000LL) snprintf(buf, n, "%.2f M", v / 1e6);
  else if (v >= 1000LL) snprintf(buf, n, "%.1f k", v / 1e3);
  else snprintf(buf, n, "%lld", v);
}

static void sb_title(FILE *f, const PlanSuperblock *sb, const PlanCandidate *c) {
  char m[32], p[32];
  human(m, sizeof m, (long long)c->macs), human(p, sizeof p, (long long)c->params);
  if (sb->is_decoder) fprintf(f, "<title>decoder (%d-&gt;%d classes): ", sb->cin, sb->cout);
  else
    fprintf(f, "<title>superblock %d (stage %d, %d-&gt;%d, stride %d%s): ", sb->index, sb->stage + 1, sb->cin, sb->cout,
            sb->stride, sb->residual ? ", residual" : "");
  xml_text(f, c->name), fputs(" = ", f), xml_text(f, c->display);
  fprintf(f, "; MACs %s, params %s</title>\n", m, p);
}

/* The residual connection: a line over the box from the incoming to the outgoing arrow, into a "+". */
static void residual_mark(FILE *f, double x, double yc, double top) {
  double a = x - GAP / 2.0, b = x + BW + GAP / 2.0, y = top - 10, r = 6;
  fprintf(f, "<path d=\"M%.1f %.1f V%.1f Q%.1f %.1f %.1f %.1f H%.1f Q%.1f %.1f %.1f %.1f V%.1f\" fill=\"none\" "
             "stroke=\"#2ca02c\" stroke-width=\"1.3\"/>\n",
          a, yc, y + r, a, y, a + r, y, b - r, b, y, b, y + r, yc - 5.5);
  fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5.5\" fill=\"white\" stroke=\"#2ca02c\" stroke-width=\"1.3\"/>\n", b, yc);
  fprintf(f, "<path d=\"M%.1f %.1f h7 M%.1f %.1f v7\" stroke=\"#2ca02c\" stroke-width=\"1.3\"/>\n", b - 3.5, yc, b, yc - 3.5);
}

static void sb_box(FILE *f, const Search *s, const ArchLayout *l, int i, int k) {
  const PlanSuperblock *sb = &s->p->sb[i];
  const PlanCandidate *c = &sb->cand[k];
  BoxLook b = box_look(sb, c);
  double x = sb_left(l, i), yc = row_centre(l, i), top = yc - b.h / 2;
  fputs("<g>", f);
  sb_title(f, sb, c);
  fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" rx=\"4\" fill=\"%s\" stroke=\"%s\" stroke-width=\"%s\"/>\n",
          x, top, BW, b.h, b.fill, sb->stride > 1 ? "#d62728" : "#555", sb->stride > 1 ? "2.2" : "1");
  bool two = b.line2[0] != 0;
  svg_label(f, x + BW / 2.0, yc + (two ? -2 : 4), "middle", 11, "", b.line1);
  if (two) svg_label(f, x + BW / 2.0, yc + 11, "middle", 10, "fill=\"#333\"", b.line2);
  if (sb->stride > 1) {
    char sm[16];
    snprintf(sm, sizeof sm, "s%d", sb->stride);
    svg_label(f, x + BW / 2.0, yc + b.h / 2 + 13, "middle", 10, "fill=\"#d62728\" font-weight=\"bold\"", sm);
  }
  fputs("</g>\n", f);
  if (sb->residual) residual_mark(f, x, yc, top);
}

/* A plain labelled box (stem, head/decoder). */
static void plain_box(FILE *f, double x, double yc, double w, const char *fill, const char *l1, const char *l2, const char *tip) {
  fputs("<g><title>", f), xml_text(f, tip), fputs("</title>\n", f);
  fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"60\" rx=\"4\" fill=\"%s\" stroke=\"#555\"/>\n", x, yc - 30, w, fill);
  svg_label(f, x + w / 2, yc + (l2 ? -2 : 4), "middle", 11, "font-weight=\"bold\"", l1);
  if (l2) svg_label(f, x + w / 2, yc + 11, "middle", 10, "fill=\"#333\"", l2);
  fputs("</g>\n", f);
}

/* Arrows between consecutive boxes, and the bend from the end of row 1 to the start of row 2. */
static void arch_arrows(FILE *f, const Search *s, const ArchLayout *l) {
  arrow(f, AM + STEMW, TOP, AM + STEMW + GAP);
  for (int i = 0; i + 1 < s->nsb; i++) {
    if (i + 1 == l->split) {
      double x0 = sb_left(l, i) + BW, x1 = sb_left(l, i + 1), y0 = row_centre(l, i), y1 = row_centre(l, i + 1);
      fprintf(f, "<path d=\"M%.1f %.1f h8 V%.1f H%.1f V%.1f H%.1f\" fill=\"none\" stroke=\"#444\" stroke-width=\"1.2\" marker-end=\"url(#arrow)\"/>\n",
              x0, y0, y0 + 74, x1 - GAP, y1, x1);
    } else arrow(f, sb_left(l, i) + BW, row_centre(l, i), sb_left(l, i + 1));
  }
  int last = s->nsb - 1;
  if (last >= 0) arrow(f, sb_left(l, last) + BW, row_centre(l, last), sb_left(l, last) + STEP);
}

static void arch_legend(FILE *f, const ArchLayout *l) {
  double y = l->height - 40, x = AM;
  static const struct { const char *fill, *text; } sw[] = {
      {"#6baed6", "k3"}, {"#fd8d3c", "k5"}, {"#74c476", "k7"}, {"#d9d9d9", "skip / zero"}, {"#c7e9c0", "other"}};
  for (size_t i = 0; i < sizeof sw / sizeof sw[0]; i++, x += 86) {
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"14\" fill=\"%s\" stroke=\"#555\"/>\n", x, y - 11, sw[i].fill);
    svg_label(f, x + 19, y, "start", 11, "", sw[i].text);
  }
  svg_label(f, AM, y + 22, "start", 11, "fill=\"#555\"",
            "box height: expansion (e1 / e3 / e6); red outline, s2: stride 2; green line into +: residual superblock");
}

/* Whether the network has a part whose nodes are named PREFIX... (the stem: encoder.conv1., the head:
   encoder.last_conv.). */
static bool has_part(const Plan *p, const char *prefix) {
  size_t n = strlen(prefix);
  for (int i = 0; i < p->nnodes; i++)
    if (p->nodes[i].name && !strncmp(p->nodes[i].name, prefix, n)) return true;
  return false;
}

static bool check_choice(const Search *s, const Arch *c, const char *path, char *err, size_t n) {
  if (!s || !s->p || !c || (s->nsb > 0 && !c->choice) || s->nsb < 0 || s->nsb > s->p->nsb)
    return snprintf(err, n, "cannot write %s: no architecture to draw", path ? path : "SVG"), false;
  for (int i = 0; i < s->nsb; i++)
    if (c->choice[i] < 0 || c->choice[i] >= s->p->sb[i].ncand)
      return snprintf(err, n, "cannot write %s: superblock %d has no candidate %d", path ? path : "SVG", i, c->choice[i]), false;
  return true;
}

static void arch_title(FILE *f, const Search *s, const Arch *c, const ArchLayout *l) {
  char buf[512];
  snprintf(buf, sizeof buf, "%s (derived)", s->p->name && *s->p->name ? s->p->name : "network");
  svg_label(f, l->width / 2.0, 28, "middle", 16, "font-weight=\"bold\"", buf);
  snprintf(buf, sizeof buf, "%d superblocks, %.3f GMACs", s->nsb, fin(c->gmacs));
  size_t k = strlen(buf);
  if (c->ms >= 0 && isfinite(c->ms)) k += snprintf(buf + k, sizeof buf - k, ", %.2f ms", c->ms);
  if (isfinite(c->miou)) snprintf(buf + k, sizeof buf - k, ", val mIoU %.4f", c->miou);
  svg_label(f, l->width / 2.0, 48, "middle", 12, "fill=\"#555\"", buf);
}

/* stem, head: the chosen stem's and head's calls where the search chose them (NULL otherwise), for the boxes' tips. */
static bool write_arch_svg(const Search *s, const Arch *chosen, const char *stem, const char *head_call, const char *path,
                           char *err, size_t n) {
  SvgFile o;
  if (!svg_open(&o, path, err, n)) return false;
  FILE *f = o.f;
  ArchLayout l = arch_layout(s);
  char io[64];
  svg_header(f, l.width, l.height);
  arch_defs(f);
  arch_title(f, s, chosen, &l);
  stage_bands(f, s, &l);
  arch_arrows(f, s, &l);
  snprintf(io, sizeof io, "%d->%d", s->p->input.c, s->nsb > 0 ? s->p->sb[0].cin : 0);
  char tip[512];
  snprintf(tip, sizeof tip, "stem%s%s", stem ? ", chosen by the search: " : "", stem ? stem : "");
  if (has_part(s->p, "encoder.conv1.")) plain_box(f, AM, TOP, STEMW, "#fdd0a2", "stem", io, tip);
  else plain_box(f, AM, TOP, STEMW, "#f0f0f0", "input", io, "input (no stem)");
  for (int i = 0; i < s->nsb; i++) sb_box(f, s, &l, i, chosen->choice[i]);
  double hx = s->nsb > 0 ? sb_left(&l, s->nsb - 1) + STEP : AM + STEMW + GAP;
  bool head = has_part(s->p, "encoder.last_conv.");
  snprintf(tip, sizeof tip, "%s%s%s", head ? "head" : "decoder (no head)", head_call ? ", chosen by the search: " : "",
           head_call ? head_call : "");
  if (head) snprintf(tip + strlen(tip), sizeof tip - strlen(tip), ", and decoder");
  plain_box(f, hx, s->nsb > 0 ? row_centre(&l, s->nsb - 1) : TOP, HEADW, "#dadaeb", head ? "head" : "decoder",
            head ? "+ decoder" : NULL, tip);
  arch_legend(f, &l);
  fputs("</svg>\n", f);
  return svg_close(&o, err, n);
}

/* The chosen network as drawn: width, stem and head choices are not boxes (the stem and head boxes name the chosen
   calls); each superblock's cin and cout are its chosen widths. */
bool derive_write_arch_svg(const Search *s, const Arch *chosen, const char *path, char *err, size_t n) {
  if (!check_choice(s, chosen, path, err, n)) return false;
  Plan view = *s->p;
  Search sv = *s;
  Arch ch = *chosen;
  view.sb = malloc(sizeof *view.sb * ((size_t)s->nsb + 1));
  ch.choice = malloc(sizeof *ch.choice * ((size_t)s->nsb + 1));
  if (!view.sb || !ch.choice) return free(view.sb), free(ch.choice), snprintf(err, n, "out of memory"), false;
  view.nsb = 0;
  const char *stem = NULL, *head = NULL;
  for (int i = 0; i < s->nsb; i++) {
    const PlanSuperblock *sb = &s->p->sb[i];
    const PlanCandidate *c = &sb->cand[chosen->choice[i]];
    if (sb->is_stem) stem = c->display ? c->display : c->name;
    if (sb->is_head) head = c->display ? c->display : c->name;
    if (sb->is_width || sb->is_stem || sb->is_head) continue;
    PlanSuperblock *v = &view.sb[view.nsb];
    *v = *sb;
    if (sb->width_in >= 0) v->cin = s->p->sb[sb->width_in].cand[chosen->choice[sb->width_in]].width;
    if (sb->width_out >= 0) v->cout = s->p->sb[sb->width_out].cand[chosen->choice[sb->width_out]].width;
    ch.choice[view.nsb++] = chosen->choice[i];
  }
  sv.p = &view, sv.nsb = view.nsb;
  bool ok = write_arch_svg(&sv, &ch, stem, head, path, err, n);
  free(view.sb), free(ch.choice);
  return ok;
}
