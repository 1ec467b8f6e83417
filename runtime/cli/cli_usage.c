/* cli_usage.c - sqnrun's --help text, made from the mode and option tables (cli.h): a usage line per
   mode with the options it takes (those it needs first, the others in brackets), then every mode and every
   option with its help. */
#include <string.h>
#include "cli.h"

enum { WIDTH = 110, INDENT = 14, HELP_COLUMN = 24 };

/* Appends one word of a usage line, wrapping at WIDTH; returns the new column. */
static int word(FILE *out, int col, const char *open, const char *name, const char *meta, const char *close) {
  int len = (int)(strlen(open) + strlen(name) + (meta ? strlen(meta) + 1 : 0) + strlen(close));
  if (col + 1 + len > WIDTH) col = fprintf(out, "\n%*s", INDENT - 1, "") - 1;
  return col + fprintf(out, " %s%s%s%s%s", open, name, meta ? " " : "", meta ? meta : "", close);
}

static bool needed(const CliMode *m, const char *name) {
  for (int k = 0; k < 2; k++)
    if (m->needs[k].options && !strcmp(m->needs[k].options, name)) return true;
  return false;
}

static bool listed(const CliOption *o) { return o->help && o->type != CLI_HELP && o->type != CLI_VERSION; }

static void usage_line(FILE *out, const char *lead, const CliMode *m) {
  int col = fprintf(out, "%ssqnrun", lead);
  if (m->plan) col = word(out, col, "", m->plan, NULL, "");
  col = word(out, col, "", m->flag, NULL, "");
  if (m->with) col = word(out, col, "", m->with, NULL, "");
  if (m->arg) col = word(out, col, "", m->arg, NULL, "");
  for (int i = 0; i < cli_noptions; i++)
    if ((cli_options[i].modes & m->bit) && listed(&cli_options[i]) && needed(m, cli_options[i].name))
      col = word(out, col, "", cli_options[i].name, cli_options[i].meta, "");
  for (int i = 0; i < cli_noptions; i++)
    if ((cli_options[i].modes & m->bit) && listed(&cli_options[i]) && !needed(m, cli_options[i].name))
      col = word(out, col, "[", cli_options[i].name, cli_options[i].meta, "]");
  fputc('\n', out);
}

/* "  NAME META       help": the help word-wrapped at WIDTH from HELP_COLUMN (from the next line after a long
   NAME META). */
static void item(FILE *out, const char *name, const char *meta, const char *help) {
  int col = fprintf(out, "  %s%s%s", name, meta ? " " : "", meta ? meta : "");
  if (col > HELP_COLUMN - 2) fputc('\n', out), col = 0;
  col += fprintf(out, "%*s", HELP_COLUMN - col, "");
  for (const char *p = help; *p; p += *p == ' ') {
    int len = (int)strcspn(p, " ");
    if (col > HELP_COLUMN && col + 1 + len > WIDTH) col = fprintf(out, "\n%*s", HELP_COLUMN, "") - 1;
    else if (col > HELP_COLUMN) col += fprintf(out, " ");
    col += fprintf(out, "%.*s", len, p);
    p += len;
  }
  fputc('\n', out);
}

void cli_usage(FILE *out, const CliMode *modes, int nmodes) {
  for (int i = 0; i < nmodes; i++) usage_line(out, i ? "       " : "usage: ", &modes[i]);
  fputs("       sqnrun --help | --version\n\nRuns a plan compiled by sqnc (sqnc FILE.sqn -o FILE.plan).\n", out);
  fputs("Modes:\n", out);
  char flags[64];
  for (int i = 0; i < nmodes; i++) {
    const char *with = modes[i].with;
    snprintf(flags, sizeof flags, "%s%s%s", modes[i].flag, with ? " " : "", with ? with : "");
    item(out, flags, modes[i].arg, modes[i].help);
  }
  fputs("Options:\n", out);
  for (int i = 0; i < cli_noptions; i++)
    if (cli_options[i].help) item(out, cli_options[i].name, cli_options[i].meta, cli_options[i].help);
}
