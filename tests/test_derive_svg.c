/* test_derive_svg.c - the SVGs that deriving writes (runtime/search/derive_svg.c): the pareto plot and the
   architecture diagram, drawn from a Plan, Search and Arch array made by hand. Checks that the files
   are there (and no .tmp beside them), are well-formed XML in a basic sense (tags balanced, one root,
   every & an entity), carry the labels, tooltips and markers asked for, escape special characters in
   names, never print nan or inf (one architecture, equal costs, equal mIoUs, a NaN mIoU), and that
   bad input and an unwritable path fail with a message. Writes under a mkdtemp folder, removed at the
   end; with a folder as argument the SVGs are written (and kept) there instead. */
#include <ctype.h>
#include <ftw.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "derive.h"
#include "test_util.h"

static bool keep_files;

/* ---- reading and checking files ---- */

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)len + 1);
  size_t got = buf ? fread(buf, 1, (size_t)len, f) : 0;
  fclose(f);
  if (buf) buf[got] = 0;
  return buf;
}

static int count(const char *s, const char *needle) {
  int c = 0;
  for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle)) c++;
  return c;
}

static bool has_ci(const char *s, const char *needle) {
  size_t n = strlen(needle);
  for (; *s; s++) {
    size_t k = 0;
    while (k < n && s[k] && tolower((unsigned char)s[k]) == needle[k]) k++;
    if (k == n) return true;
  }
  return false;
}

/* Every & starts &amp; &lt; &gt; &quot; &apos; or &#N;. */
static bool entities_ok(const char *s) {
  static const char *ent[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
  for (const char *p = strchr(s, '&'); p; p = strchr(p + 1, '&')) {
    bool ok = p[1] == '#' && isdigit((unsigned char)p[2]);
    for (int i = 0; i < 5 && !ok; i++) ok = !strncmp(p, ent[i], strlen(ent[i]));
    if (!ok) return false;
  }
  return true;
}

/* A small well-formedness check: an optional <?xml ...?>, then one root element; every start tag
   closed by its own end tag (or />), quotes inside tags respected, no stray < in text. */
static bool well_formed(const char *s) {
  char stack[64][32];
  int depth = 0, roots = 0;
  const char *p = s;
  if (!strncmp(p, "<?xml", 5)) {
    if (!(p = strstr(p, "?>"))) return false;
    p += 2;
  }
  while (*p) {
    if (*p != '<') {
      if (*p == '>' || (!depth && !isspace((unsigned char)*p))) return false;
      p++;
      continue;
    }
    bool end = p[1] == '/';
    const char *name = p + (end ? 2 : 1);
    size_t nl = strcspn(name, " \t\n/>");
    if (nl == 0 || nl >= sizeof stack[0]) return false;
    char quote = 0;
    const char *q = name + nl;
    for (; *q && (quote || *q != '>'); q++) {
      if (quote) quote = *q == quote ? 0 : quote;
      else if (*q == '"' || *q == '\'') quote = *q;
      else if (*q == '<') return false;
    }
    if (!*q) return false;
    bool empty = q[-1] == '/';
    if (end) {
      if (!depth || strncmp(stack[depth - 1], name, nl) || stack[depth - 1][nl]) return false;
      depth--;
    } else if (!empty) {
      if (depth == 64) return false;
      if (!depth) roots++;
      memcpy(stack[depth], name, nl), stack[depth++][nl] = 0;
    } else if (!depth) roots++;
    p = q + 1;
  }
  return depth == 0 && roots == 1;
}

/* The root element's width or height (attr is " width=\"" or " height=\""); -1 if none. */
static int svg_size(const char *s, const char *attr) {
  const char *p = strstr(s, "<svg"), *q = p ? strstr(p, attr) : NULL;
  int v = -1;
  return q && sscanf(q + strlen(attr), "%d", &v) == 1 ? v : -1;
}

static bool exists(const char *path) { return access(path, F_OK) == 0; }

/* The checks every SVG passes; returns the text (to be freed) for more. */
static char *check_svg(const char *path) {
  char tmp[300];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  CHECK(exists(path));
  CHECK(!exists(tmp));
  char *s = slurp(path);
  CHECK(s != NULL);
  if (!s) return NULL;
  CHECK(!strncmp(s, "<?xml", 5) || !strncmp(s, "<svg", 4));
  CHECK(strstr(s, "xmlns=\"http://www.w3.org/2000/svg\"") != NULL);
  CHECK(strstr(s, "viewBox=\"0 0 ") != NULL && strstr(s, " width=\"") && strstr(s, " height=\""));
  CHECK_EQ_I64(count(s, "<svg"), 1);
  CHECK_EQ_I64(count(s, "</svg>"), 1);
  CHECK(entities_ok(s));
  CHECK(well_formed(s));
  CHECK(!has_ci(s, "nan"));
  CHECK(!has_ci(s, "inf"));
  return s;
}

/* ---- a plan, a search and architectures made by hand ---- */

enum { MAXSB = 16, MAXC = 5 };

typedef struct Fake {
  Plan p;
  PlanSuperblock sb[MAXSB];
  PlanCandidate cand[MAXSB * MAXC];
  PlanNode nodes[2];
  Search s;
  bool active[MAXSB * MAXC];
} Fake;

static const char *const cand_names[MAXC] = {
    "inverse_residual_k3_e1_g1", "inverse_residual_k5_e6_g1", "inverse_residual_k3_e1_g2_d2",
    "residual_skipish", "inverse_residual_k5_e3_g1_d2"};
static const char *const cand_display[MAXC] = {"ir(k=3, e=1)", "ir(k=5, e=6)", "ir(k=3, e=1, g=2, d=2)", "skip",
                                               "ir(k=5, e=3, d=2)"};

/* nsb superblocks in stages of four; the first of each stage has stride 2 and a channel change, the
   others keep their shape and are residual (their skip is the zero op). */
static void fake_init(Fake *f, int nsb, const char *name) {
  memset(f, 0, sizeof *f);
  f->p.name = name, f->p.is_space = true, f->p.input = (Shape){0, 3, 64, 64}, f->p.classes = 19;
  f->p.sb = f->sb, f->p.nsb = nsb, f->p.cands = f->cand, f->p.ncands = nsb * MAXC;
  int c = 16;
  for (int i = 0; i < nsb; i++) {
    PlanSuperblock *b = &f->sb[i];
    bool first = i % 4 == 0;
    b->index = i, b->stage = i / 4, b->cin = c, b->cout = first ? c + 8 : c, c = b->cout;
    b->stride = first ? 2 : 1, b->residual = !first, b->width_in = b->width_out = -1; /* as the plan reader gives */
    b->first_cand = i * MAXC, b->ncand = MAXC, b->cand = f->cand + i * MAXC;
    for (int k = 0; k < MAXC; k++) {
      PlanCandidate *pc = &b->cand[k];
      pc->name = cand_names[k], pc->display = cand_display[k], pc->block = k == 3 ? "skip" : "ir";
      pc->is_zero = k == 3 && !first;
      pc->macs = 1000000LL * (k + 1) + i, pc->params = 1000 * (k + 1);
    }
  }
  f->s.p = &f->p, f->s.nsb = nsb, f->s.maxc = MAXC, f->s.active = f->active;
  for (int i = 0; i < nsb * MAXC; i++) f->active[i] = true;
}

static Arch arch(int *choice, double miou, double gmacs, double ms) {
  return (Arch){.choice = choice, .miou = miou, .gmacs = gmacs, .ms = ms, .cost = gmacs};
}

/* ---- pareto.svg ---- */

static void test_pareto_gmacs(void) {
  char err[512] = "";
  int ch[4] = {0};
  Arch a[8];
  for (int i = 0; i < 8; i++) a[i] = arch(ch, 0.30 + 0.05 * (i % 5), 1.0 + 0.4 * i, -1);
  a[0] = arch(ch, 0.1234, 1.234, -1), a[0].pareto = true;
  a[3].pareto = true, a[6].pareto = true;
  a[5].most_probable = true;
  a[6].miou = 0.7, a[6].gmacs = 2.5, a[6].chosen = true;
  const char *path = tmp_path("pareto.svg");
  CHECK(derive_write_pareto_svg(a, 8, false, path, err, sizeof err));
  CHECK_STR(err, "");
  char *s = check_svg(path);
  if (!s) return;
  CHECK(strstr(s, "Sampled architectures and the pareto front") != NULL);
  CHECK(strstr(s, ">GMACs</text>") != NULL);
  CHECK(strstr(s, ">val mIoU</text>") != NULL);
  CHECK(strstr(s, "chosen: mIoU 0.7000, 2.500 GMACs") != NULL);
  CHECK(strstr(s, "mIoU 0.1234, 1.234 GMACs") != NULL);
  CHECK_EQ_I64(count(s, "<title>"), 8 + 1 + 1); /* every point, the most probable ring, the chosen star */
  CHECK(strstr(s, "stroke=\"#ff7f0e\"") != NULL); /* most probable */
  CHECK(strstr(s, "<polygon fill=\"#d62728\"") != NULL); /* chosen */
  CHECK(strstr(s, " H") && strstr(s, " V"));              /* the step line */
  CHECK(strstr(s, "8 of 8 architectures plotted") != NULL);
  free(s);
}

static void test_pareto_ms(void) {
  char err[512] = "";
  int ch[4] = {0};
  Arch a[3] = {arch(ch, 0.5, 1.0, 12.5), arch(ch, 0.6, 2.0, 20.25), arch(ch, 0.55, 3.0, -1)};
  a[0].pareto = a[1].pareto = true, a[1].chosen = true;
  const char *path = tmp_path("pareto_ms.svg");
  CHECK(derive_write_pareto_svg(a, 3, true, path, err, sizeof err));
  char *s = check_svg(path);
  if (!s) return;
  CHECK(strstr(s, ">latency (ms)</text>") != NULL);
  CHECK(strstr(s, "chosen: mIoU 0.6000, 20.25 ms") != NULL);
  CHECK(strstr(s, "2 of 3 architectures plotted") != NULL); /* the one without a latency is left out */
  free(s);
}

/* One architecture, equal costs, equal mIoUs, zeros, a NaN: padded ranges, no nan/inf. */
static void test_pareto_degenerate(void) {
  char err[512] = "";
  int ch[4] = {0};
  Arch one = arch(ch, 0.42, 1.5, -1);
  one.pareto = one.chosen = one.most_probable = true;
  CHECK(derive_write_pareto_svg(&one, 1, false, tmp_path("one.svg"), err, sizeof err));
  free(check_svg(tmp_path("one.svg")));
  Arch same[4];
  for (int i = 0; i < 4; i++) same[i] = arch(ch, 0.3 + 0.1 * i, 2.0, 2.0);
  same[3].pareto = same[3].chosen = true;
  CHECK(derive_write_pareto_svg(same, 4, false, tmp_path("same_cost.svg"), err, sizeof err));
  free(check_svg(tmp_path("same_cost.svg")));
  CHECK(derive_write_pareto_svg(same, 4, true, tmp_path("same_ms.svg"), err, sizeof err));
  free(check_svg(tmp_path("same_ms.svg")));
  for (int i = 0; i < 4; i++) same[i] = arch(ch, 0.0, 0.5 * i, -1);
  CHECK(derive_write_pareto_svg(same, 4, false, tmp_path("same_miou.svg"), err, sizeof err));
  free(check_svg(tmp_path("same_miou.svg")));
  Arch zero = arch(ch, 0.0, 0.0, 0.0), bad[2] = {arch(ch, NAN, 1.0, -1), arch(ch, 0.5, INFINITY, -1)};
  CHECK(derive_write_pareto_svg(&zero, 1, true, tmp_path("zero.svg"), err, sizeof err));
  free(check_svg(tmp_path("zero.svg")));
  bad[0].chosen = true;
  CHECK(derive_write_pareto_svg(bad, 2, false, tmp_path("nan.svg"), err, sizeof err));
  free(check_svg(tmp_path("nan.svg")));
  CHECK(derive_write_pareto_svg(NULL, 0, false, tmp_path("none.svg"), err, sizeof err));
  char *s = check_svg(tmp_path("none.svg"));
  CHECK(s && strstr(s, "no architectures"));
  free(s);
}

/* ---- arch.svg ---- */

static void test_arch(void) {
  static Fake f;
  char err[512] = "";
  fake_init(&f, 8, "test<net>");
  f.nodes[0].name = "encoder.conv1.0", f.nodes[1].name = "encoder.last_conv.0"; /* a stem and a head */
  f.p.nodes = f.nodes, f.p.nnodes = 2;
  int ch[8] = {1, 0, 3, 2, 4, 3, 1, 0};
  Arch c = arch(ch, 0.61, 1.75, -1);
  c.chosen = true;
  const char *path = tmp_path("arch.svg");
  CHECK(derive_write_arch_svg(&f.s, &c, path, err, sizeof err));
  CHECK_STR(err, "");
  char *s = check_svg(path);
  if (!s) return;
  CHECK(strstr(s, ">test&lt;net&gt; (derived)</text>") != NULL);
  CHECK(strstr(s, "inverse_residual_k5_e6_g1 = ir(k=5, e=6)") != NULL);
  CHECK(strstr(s, "inverse_residual_k3_e1_g2_d2 = ir(k=3, e=1, g=2, d=2)") != NULL);
  CHECK(strstr(s, "residual_skipish = skip") != NULL);
  CHECK(strstr(s, ">k5 e6</text>") != NULL);
  CHECK(strstr(s, ">k3 e1</text>") != NULL);
  CHECK(strstr(s, ">g2 d2</text>") != NULL);
  CHECK(strstr(s, ">k5 e3</text>") && strstr(s, ">d2</text>"));
  CHECK_EQ_I64(count(s, ">skip</text>"), 2);       /* zero candidates of residual superblocks */
  CHECK_EQ_I64(count(s, ">s2</text>"), 2);         /* superblocks 0 and 4 */
  CHECK_EQ_I64(count(s, "fill=\"white\" stroke=\"#2ca02c\""), 6); /* a "+" per residual superblock */
  CHECK(strstr(s, ">stage 1: 16-&gt;24</text>") != NULL);
  CHECK(strstr(s, ">stage 2: 24-&gt;32</text>") != NULL);
  CHECK(strstr(s, ">stem</text>") && strstr(s, ">head</text>") && strstr(s, ">+ decoder</text>"));
  CHECK(strstr(s, "MACs 2.00 M, params 2.0 k") != NULL); /* superblock 0's candidate 1 */
  CHECK_EQ_I64(count(s, "<title>"), 8 + 2);
  CHECK_EQ_I64(count(s, "marker-end=\"url(#arrow)\""), 9);
  free(s);
}

/* Names with markup characters, a candidate the diagram does not know, an identity. */
static void test_arch_escaping(void) {
  static Fake f;
  char err[512] = "";
  fake_init(&f, 4, "esc");
  f.sb[1].cand[0].name = "my<&>block \"x\" 'y'";
  f.sb[1].cand[0].display = "mine(a<b, c&d)";
  f.sb[2].cand[0].name = "ident", f.sb[2].cand[0].display = "id()", f.sb[2].cand[0].is_identity = true;
  f.sb[3].cand[0].name = "inverse_residual_k7_e6_g1_dx"; /* not the pattern: falls back to the display */
  f.sb[3].cand[0].display = "ir(k=7, e=6)";
  f.sb[0].cand[1].name = "se_k5", f.sb[0].cand[1].display = "ir_squeeze_excite(k=5, e=4, d=2)"; /* a user block */
  int ch[4] = {1, 0, 0, 0};
  Arch c = arch(ch, NAN, 1.0, 3.5);
  CHECK(derive_write_arch_svg(&f.s, &c, tmp_path("arch_esc.svg"), err, sizeof err));
  char *s = check_svg(tmp_path("arch_esc.svg"));
  if (!s) return;
  CHECK(strstr(s, "my&lt;&amp;&gt;block &quot;x&quot; &apos;y&apos; = mine(a&lt;b, c&amp;d)") != NULL);
  CHECK(strstr(s, "my<&>") == NULL);
  CHECK(strstr(s, ">mine</text>") && strstr(s, ">a&lt;b, c&amp;d</text>")); /* a block's name over its arguments */
  CHECK(strstr(s, ">ir_squeez\xE2\x80\xA6</text>") && strstr(s, ">k5 e4 d2</text>")); /* name cut, geometry */
  CHECK(strstr(s, "fill=\"#fd8d3c\"") != NULL);  /* coloured by its kernel size */
  CHECK(strstr(s, ">input</text>") && strstr(s, ">decoder</text>") && !strstr(s, ">head</text>")); /* no stem, no head */
  CHECK(strstr(s, ">identity</text>") != NULL);
  CHECK(strstr(s, ">k7 e6</text>") != NULL);
  CHECK(strstr(s, "3.50 ms") != NULL);
  free(s);
}

/* More than 12 superblocks: two rows (split at a stage boundary near the middle); 12 stay in one. */
static void test_arch_two_rows(void) {
  static Fake f;
  char err[512] = "";
  fake_init(&f, 16, "big");
  int ch[16];
  for (int i = 0; i < 16; i++) ch[i] = i % MAXC;
  Arch c = arch(ch, 0.5, 3.0, -1);
  CHECK(derive_write_arch_svg(&f.s, &c, tmp_path("arch_two_rows.svg"), err, sizeof err));
  char *s = check_svg(tmp_path("arch_two_rows.svg"));
  if (!s) return;
  int w = svg_size(s, " width=\""), h = svg_size(s, " height=\"");
  CHECK(w >= 8 * 70 && w < 16 * 70); /* split at the stage boundary after superblock 8 */
  CHECK(h > 400);
  CHECK_EQ_I64(count(s, "<title>superblock "), 16);
  CHECK(strstr(s, " V") != NULL); /* the bend from row one to row two */
  free(s);
  fake_init(&f, 12, "twelve");
  CHECK(derive_write_arch_svg(&f.s, &c, tmp_path("arch_12.svg"), err, sizeof err));
  s = check_svg(tmp_path("arch_12.svg"));
  CHECK(s && svg_size(s, " width=\"") >= 12 * 70);
  free(s);
}

/* ---- errors ---- */

static void test_errors(void) {
  static Fake f;
  char err[512] = "";
  int ch[4] = {0, 0, 0, 0};
  Arch a = arch(ch, 0.5, 1.0, -1);
  fake_init(&f, 4, "err");
  CHECK(!derive_write_pareto_svg(&a, 1, false, "/nonexistent_sqn_dir/p.svg", err, sizeof err));
  CHECK(strstr(err, "cannot write /nonexistent_sqn_dir/p.svg: ") != NULL);
  err[0] = 0;
  CHECK(!derive_write_arch_svg(&f.s, &a, "/nonexistent_sqn_dir/a.svg", err, sizeof err));
  CHECK(strstr(err, "cannot write /nonexistent_sqn_dir/a.svg: No such file") != NULL);
  /* a folder where the file should go: the rename fails, and the .tmp is cleaned up */
  const char *dir = tmp_path("a_folder.svg");
  CHECK(mkdir(dir, 0700) == 0 || keep_files);
  char sub[300];
  snprintf(sub, sizeof sub, "%s/x", dir);
  FILE *fx = fopen(sub, "w");
  CHECK(fx != NULL);
  if (fx) fclose(fx);
  err[0] = 0;
  CHECK(!derive_write_pareto_svg(&a, 1, false, dir, err, sizeof err));
  CHECK(strstr(err, "cannot write ") != NULL);
  char tmp[300];
  snprintf(tmp, sizeof tmp, "%s.tmp", dir);
  CHECK(!exists(tmp));
  ch[2] = 99, err[0] = 0;
  CHECK(!derive_write_arch_svg(&f.s, &a, tmp_path("bad_choice.svg"), err, sizeof err));
  CHECK(strstr(err, "superblock 2 has no candidate 99") != NULL);
  CHECK(!exists(tmp_path("bad_choice.svg")));
  err[0] = 0;
  CHECK(!derive_write_arch_svg(NULL, &a, tmp_path("null.svg"), err, sizeof err) && err[0]);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

int main(int argc, char **argv) {
  if (argc > 1 && argv[1][0]) {
    snprintf(tmpdir, sizeof tmpdir, "%s", argv[1]);
    mkdir(tmpdir, 0755);
    keep_files = true;
  } else {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sqn_derive_svg_XXXXXX");
    if (!mkdtemp(tmpdir)) return perror("mkdtemp"), 2;
  }
  test_pareto_gmacs();
  test_pareto_ms();
  test_pareto_degenerate();
  test_arch();
  test_arch_escaping();
  test_arch_two_rows();
  test_errors();
  if (!keep_files) nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  return test_summary();
}
