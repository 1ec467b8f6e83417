/* cli_parse.c - reads sqnrun's command line with the mode and option tables (cli.h): values by their
   row's type and range, the mode from the mode flags given, what the mode needs, and the errors of a bad
   command line (exit 2), an unknown option with the nearest known one. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

#ifndef SQN_VERSION
#define SQN_VERSION "0.1.0"
#endif

typedef struct Parse {
  const CliMode *modes;
  int nmodes;
  const CliMode *own;  /* a mode without a plan whose flag is given: only its options count */
  unsigned accepted;   /* the modes whose flags and options are known */
  unsigned flags;      /* the mode flags given, as the bits of their rows */
} Parse;

/* The items of s (separated by sep) as "a, b<last>c", e.g. "a, b or c". */
static void print_list(FILE *out, const char *s, char sep, const char *last) {
  const char *final = strrchr(s, sep);
  for (const char *p = s; *p; p++) {
    if (*p != sep) fputc(*p, out);
    else fputs(p == final ? last : ", ", out);
  }
}

/* The row that a mode flag alone selects (not a row of two flags like `--bench --train`). */
static const CliMode *mode_of_flag(const Parse *ps, const char *arg) {
  for (int i = 0; i < ps->nmodes; i++) {
    const CliMode *m = &ps->modes[i];
    if (!m->with && (m->bit & ps->accepted) && !strcmp(arg, m->flag)) return m;
  }
  return NULL;
}

static const CliOption *option_of(const Parse *ps, const char *arg) {
  for (int i = 0; i < cli_noptions; i++)
    if ((cli_options[i].modes & ps->accepted) && !strcmp(arg, cli_options[i].name)) return &cli_options[i];
  return NULL;
}

static int edit_distance(const char *a, const char *b) {
  int la = (int)strlen(a), lb = (int)strlen(b), row[64];
  if (la > 62 || lb > 62) return 99;
  for (int j = 0; j <= lb; j++) row[j] = j;
  for (int i = 1; i <= la; i++) {
    int diag = row[0];
    row[0] = i;
    for (int j = 1; j <= lb; j++) {
      int up = row[j], best = diag + (a[i - 1] != b[j - 1]);
      if (up + 1 < best) best = up + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[lb];
}

static void nearest(const char *arg, const char *name, const char **best, int *bestd) {
  int d = edit_distance(arg, name);
  if (d < *bestd) *bestd = d, *best = name;
}

/* Suggests the nearest mode flag or long option: every mode's, the options of those accepted. */
static int unknown_option(const Parse *ps, const char *arg) {
  const char *best = NULL;
  int bestd = 4;
  for (int i = 0; i < ps->nmodes; i++)
    if (!ps->modes[i].with) nearest(arg, ps->modes[i].flag, &best, &bestd);
  for (int i = 0; i < cli_noptions; i++)
    if ((cli_options[i].modes & ps->accepted) && !strncmp(cli_options[i].name, "--", 2))
      nearest(arg, cli_options[i].name, &best, &bestd);
  if (best) fprintf(stderr, "sqnrun: unknown option '%s' (did you mean '%s'?)\n", arg, best);
  else fprintf(stderr, "sqnrun: unknown option '%s' (see sqnrun --help)\n", arg);
  return 2;
}

/* With a mode that takes no plan: "--make-synthetic takes DIR, --train N, ... and --seed S, not 'x'". */
static int not_own(const Parse *ps, const char *arg) {
  char list[1024];
  int k = snprintf(list, sizeof list, "%s", ps->own->arg);
  for (int i = 0; i < cli_noptions && k < (int)sizeof list; i++) {
    const CliOption *o = &cli_options[i];
    if ((o->modes & ps->own->bit) && o->meta)
      k += snprintf(list + k, sizeof list - (size_t)k, "\n%s %s", o->name, o->meta);
  }
  fprintf(stderr, "sqnrun: %s takes ", ps->own->flag);
  print_list(stderr, list, '\n', " and ");
  fprintf(stderr, ", not '%s'\n", arg);
  return 2;
}

/* The value after option opt; one that looks like an option ("--help") is taken for a forgotten value
   (a file of that name can be given as ./--help). */
static const char *value_of(const char *opt, const char *hint, int argc, char **argv, int *i) {
  if (*i + 1 < argc && strncmp(argv[*i + 1], "--", 2) != 0) return argv[++*i];
  if (*i + 1 < argc) {
    fprintf(stderr, "sqnrun: option '%s' needs a value, not the option '%s' (a file of that name: ./%s)\n", opt,
            argv[*i + 1], argv[*i + 1]);
    return NULL;
  }
  if (hint) fprintf(stderr, "sqnrun: option '%s' needs a value (%s)\n", opt, hint);
  else fprintf(stderr, "sqnrun: option '%s' needs a value\n", opt);
  return NULL;
}

/* v is one of "a|b|c". */
static bool in_choices(const char *v, const char *choices) {
  size_t n = strlen(v);
  for (const char *p = choices; n > 0; p++) {
    if (!strncmp(p, v, n) && (p[n] == '|' || !p[n])) return true;
    if (!(p = strchr(p, '|'))) return false;
  }
  return false;
}

static bool shape_value(const CliOption *o, const char *v, Shape *s) {
  char tail;
  int c = 0, h, w;
  bool hw = o->type == CLI_HW;
  if (hw ? sscanf(v, "%dx%d%c", &h, &w, &tail) != 2 : sscanf(v, "%dx%dx%d%c", &c, &h, &w, &tail) != 3) return false;
  bool in = h >= o->min && w >= o->min && h <= o->max && w <= o->max && (hw || (c >= o->min && c <= o->max));
  if (in) *s = (Shape){0, c, h, w};
  return in;
}

/* Converts v into the option's field; false when it is not a value of the option. */
static bool set_value(const CliOption *o, const char *v, void *field) {
  char *end;
  errno = 0;
  switch (o->type) {
  case CLI_INT: {
    long x = strtol(v, &end, 10);
    if (*end || end == v || errno || x < o->min || x > o->max) return false;
    return *(int *)field = (int)x, true;
  }
  case CLI_LONG: {
    long x = strtol(v, &end, 10);
    if (*end || end == v || errno || x < o->min) return false;
    return *(long *)field = x, true;
  }
  case CLI_NUMBER: {
    double x = strtod(v, &end);
    if (*end || end == v || errno || !(x >= o->min && x < o->max)) return false;
    return *(double *)field = x, true;
  }
  case CLI_CHOICE:
    if (!in_choices(v, o->meta)) return false;
    return *(const char **)field = v, true;
  case CLI_HW:
  case CLI_CHW: return shape_value(o, v, field);
  default: return *(const char **)field = v, true;
  }
}

static int bad_value(const CliOption *o, const char *v) {
  fprintf(stderr, "sqnrun: bad %s '%s' (", o->name, v);
  switch (o->type) {
  case CLI_INT: fprintf(stderr, "an integer from %d to %d", (int)o->min, (int)o->max); break;
  case CLI_LONG: fputs("a non-negative integer", stderr); break;
  case CLI_NUMBER: fputs("a non-negative number, e.g. 0.05", stderr); break;
  case CLI_CHOICE: print_list(stderr, o->meta, '|', " or "); break;
  case CLI_HW: fprintf(stderr, "HxW, e.g. 256x512, each side %d..%d", (int)o->min, (int)o->max); break;
  default: fprintf(stderr, "CxHxW, e.g. 3x1024x2048, each side %d..%d", (int)o->min, (int)o->max); break;
  }
  fputs(")\n", stderr);
  return 2;
}

/* One option with its value (argv[*i + 1]); -1 to go on, or an exit code. */
static int parse_option(const Parse *ps, const CliOption *o, int argc, char **argv, int *i, CliArgs *a) {
  void *field = (char *)a + o->field;
  if (o->type == CLI_HELP) return cli_usage(stdout, ps->modes, ps->nmodes), 0;
  if (o->type == CLI_VERSION) return printf("sqnrun %s (plan format %u)\n", SQN_VERSION, SQN_PLAN_VERSION), 0;
  if (o->type == CLI_FLAG) return *(bool *)field = true, -1;
  const char *v = value_of(o->name, o->type == CLI_LIST ? o->meta : NULL, argc, argv, i);
  if (!v) return 2;
  if (o->type == CLI_LIST) {
    CliList *l = field;
    if (l->n == CLI_LIST_MAX) return fprintf(stderr, "sqnrun: at most %d %s options\n", CLI_LIST_MAX, o->name), 2;
    return l->v[l->n++] = v, -1;
  }
  return set_value(o, v, field) ? -1 : bad_value(o, v);
}

/* One argument (with its value): -1 to go on, or an exit code. */
static int parse_arg(Parse *ps, int argc, char **argv, int *i, CliArgs *a) {
  const char *arg = argv[*i];
  const CliMode *m = mode_of_flag(ps, arg);
  const CliOption *o = m ? NULL : option_of(ps, arg);
  if (m) {
    ps->flags |= m->bit;
    const char *v = m->arg ? value_of(arg, NULL, argc, argv, i) : "";
    if (m->arg && v) *(const char **)((char *)a + m->field) = v;
    return v ? -1 : 2;
  }
  if (o) return parse_option(ps, o, argc, argv, i, a);
  if (ps->own) return not_own(ps, arg);
  if (arg[0] == '-' && arg[1]) return unknown_option(ps, arg);
  if (a->plan) return fprintf(stderr, "sqnrun: more than one plan given ('%s' and '%s')\n", a->plan, arg), 2;
  a->plan = arg;
  return -1;
}

/* Whether an option is on the command line: a value other than its unset one. */
static bool given(const CliOption *o, const CliArgs *a) {
  const void *f = (const char *)a + o->field;
  switch (o->type) {
  case CLI_FLAG: return *(const bool *)f;
  case CLI_INT: return *(const int *)f != (int)o->def;
  case CLI_LONG: return *(const long *)f != (long)o->def;
  case CLI_NUMBER: return *(const double *)f != o->def;
  case CLI_HW:
  case CLI_CHW: return ((const Shape *)f)->h != 0;
  case CLI_LIST: return ((const CliList *)f)->n > 0;
  default: return *(const char *const *)f != NULL;
  }
}

/* Any of "-o|--labels|..." given. */
static bool any_given(const Parse *ps, const CliArgs *a, const char *options) {
  char name[64];
  for (const char *p = options; *p;) {
    size_t n = strcspn(p, "|");
    snprintf(name, sizeof name, "%.*s", (int)n, p);
    const CliOption *o = option_of(ps, name);
    if (o && given(o, a)) return true;
    p += n + (p[n] == '|');
  }
  return false;
}

static unsigned flag_bit(const Parse *ps, const char *flag) {
  const CliMode *m = flag ? mode_of_flag(ps, flag) : NULL;
  return m ? m->bit : 0;
}

static int choose_one(const Parse *ps) {
  char list[512];
  int k = 0;
  for (int i = 0; i < ps->nmodes && k < (int)sizeof list; i++)
    if (!ps->modes[i].with && ps->modes[i].plan)
      k += snprintf(list + k, sizeof list - (size_t)k, "%s%s", k ? "|" : "", ps->modes[i].flag);
  fputs("sqnrun: choose one mode: ", stderr);
  print_list(stderr, list, '|', " or ");
  fputc('\n', stderr);
  return 2;
}

/* The mode whose flags are exactly those given, and what it needs. */
static int select_mode(const Parse *ps, const CliArgs *a, const CliMode **mode) {
  *mode = ps->own;
  if (ps->own) return -1;
  if (!a->plan) return fputs("sqnrun: no plan file given\n", stderr), cli_usage(stderr, ps->modes, ps->nmodes), 2;
  for (int i = 0; i < ps->nmodes; i++)
    if (ps->modes[i].plan && ps->flags == (flag_bit(ps, ps->modes[i].flag) | flag_bit(ps, ps->modes[i].with)))
      *mode = &ps->modes[i];
  if (!*mode && ps->flags) return choose_one(ps);
  if (!*mode) return fprintf(stderr, "sqnrun: what should I do with '%s'? (try --info)\n", a->plan), 2;
  for (int k = 0; k < 2; k++) {
    const CliNeed *n = &(*mode)->needs[k];
    if (n->options && !any_given(ps, a, n->options)) return fprintf(stderr, "sqnrun: %s\n", n->message), 2;
  }
  for (int k = 0; k < cli_nrequires; k++) {
    const CliRequire *r = &cli_requires[k];
    const CliOption *o = option_of(ps, r->option);
    if (!o || !(o->modes & (*mode)->bit) || !given(o, a)) continue;
    const char *value = r->value ? *(const char *const *)((const char *)a + o->field) : NULL; /* a STRING or CHOICE */
    if ((!r->value || !strcmp(value, r->value)) && any_given(ps, a, r->needs) == r->forbids)
      return fprintf(stderr, "sqnrun: %s\n", r->message), 2;
  }
  return -1;
}

static void set_defaults(CliArgs *a) {
  memset(a, 0, sizeof *a);
  for (int i = 0; i < cli_noptions; i++) {
    const CliOption *o = &cli_options[i];
    void *f = (char *)a + o->field;
    if (o->type == CLI_INT) *(int *)f = (int)o->def;
    if (o->type == CLI_LONG) *(long *)f = (long)o->def;
    if (o->type == CLI_NUMBER) *(double *)f = o->def;
  }
}

int cli_parse(int argc, char **argv, const CliMode *modes, int nmodes, CliArgs *a, const CliMode **mode) {
  Parse ps = {modes, nmodes, NULL, 0, 0};
  for (int i = 0; i < nmodes; i++) ps.accepted |= modes[i].plan ? modes[i].bit : 0;
  for (int i = 1; i < argc; i++) /* a mode without a plan, anywhere on the line */
    for (int k = 0; k < nmodes; k++)
      if (!modes[k].plan && !strcmp(argv[i], modes[k].flag)) ps.own = &modes[k], ps.accepted = modes[k].bit;
  set_defaults(a);
  for (int i = 1; i < argc; i++) {
    int rc = parse_arg(&ps, argc, argv, &i, a);
    if (rc >= 0) return rc;
  }
  return select_mode(&ps, a, mode);
}
