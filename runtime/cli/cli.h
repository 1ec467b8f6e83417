/* cli.h - sqnrun's command line as two tables: the modes (one row each, in sqnrun.c) and the options (one
   row each, in cli_options.c). From them come parsing with range checks (cli_parse.c), the checks of what
   a mode needs, the "did you mean" of unknown options, and the --help text (cli_usage.c). */
#ifndef SQN_CLI_H
#define SQN_CLI_H
#include <stddef.h>
#include <stdio.h>
#include "cli_args.h"
#include "plan.h"

/* One bit per mode row; an option row lists the modes that take it. */
enum {
  CLI_INFO = 1 << 0, CLI_INFER = 1 << 1, CLI_BENCH = 1 << 2, CLI_BENCH_TRAIN = 1 << 3, CLI_TRAIN = 1 << 4,
  CLI_EVAL = 1 << 5, CLI_SEARCH = 1 << 6, CLI_PROFILE = 1 << 7, CLI_CHECK_STEP = 1 << 8, CLI_MAKE_SYNTHETIC = 1 << 9,
  CLI_EXPORT_ONNX = 1 << 10, CLI_EXPORT_PTH = 1 << 11, CLI_REPORT = 1 << 12,
  CLI_ANY = 0xffff,
};

/* offsetof(CliArgs, f), which must be of type T (else no _Generic association matches: a compile error). */
#define CLI_FIELD(f, T) _Generic(((CliArgs *)0)->f, T: offsetof(CliArgs, f))

typedef struct CliNeed {
  const char *options;      /* "--data", or any of several: "-o|--labels" */
  const char *message;      /* printed (after "sqnrun: ") when none of them is given; exit 2 */
} CliNeed;

typedef struct CliMode {
  const char *flag;         /* "--bench" */
  const char *with;         /* a second mode flag: the row of `--bench --train`; NULL */
  const char *arg;          /* the flag's value ("IN" for --infer IN), stored at `field`; NULL: a plain flag */
  size_t field;
  unsigned bit;             /* CLI_*: the options it takes have this bit */
  const char *plan;         /* the plan in its usage line ("NET.plan"); NULL: it takes no plan, and when its
                               flag is given only its own options are accepted */
  CliNeed needs[2];         /* what it cannot run without, checked in this order */
  int (*run)(const Plan *p, const CliArgs *a); /* p is NULL for a mode without a plan; returns the exit code */
  const char *help;
} CliMode;

typedef enum CliType {
  CLI_FLAG,    /* bool = true */
  CLI_INT,     /* int in [min, max] */
  CLI_LONG,    /* long >= 0 */
  CLI_NUMBER,  /* double in [min, max); its message says "a non-negative number": min is 0 */
  CLI_STRING,  /* const char * */
  CLI_CHOICE,  /* const char *, one of meta's "a|b|c" */
  CLI_HW,      /* Shape {0, 0, H, W}, each side in [min, max] */
  CLI_CHW,     /* Shape {0, C, H, W}, each side in [min, max] */
  CLI_LIST,    /* CliList, up to CLI_LIST_MAX values */
  CLI_HELP,    /* print the usage, exit 0 */
  CLI_VERSION, /* print the version, exit 0 */
} CliType;

typedef struct CliOption {
  const char *name;
  CliType type;
  size_t field;             /* offsetof(CliArgs, ...), of the type's C type (checked by cli_options.c) */
  double min, max;          /* allowed values (see CliType) */
  double def;               /* the default of a number */
  unsigned modes;           /* CLI_*: the modes that take it */
  const char *meta;         /* its value in usage lines ("N", "HxW"); NULL for a flag */
  const char *help;         /* NULL: not listed (an alias) */
} CliOption;

extern const CliOption cli_options[];
extern const int cli_noptions;

/* An option that is useless or wrong without another one: checked when both are taken by the chosen mode,
   before any work starts. */
typedef struct CliRequire {
  const char *option;       /* "--target-ms" */
  const char *value;        /* only when the option has this value ("latency" of --objective); NULL: any */
  const char *needs;        /* "--lut", or any of several: "-o|--labels" */
  const char *message;      /* printed (after "sqnrun: ") when option is given and none of needs; exit 2 */
  bool forbids;             /* the other way round: refused when one of needs is given too */
} CliRequire;

extern const CliRequire cli_requires[];
extern const int cli_nrequires;

/* Fills a from argv and picks the mode. Returns -1 with *mode set to run it, or the exit code after
   printing the usage (--help, exit 0), the version (exit 0) or what is wrong (exit 2). */
int cli_parse(int argc, char **argv, const CliMode *modes, int nmodes, CliArgs *a, const CliMode **mode);

/* The --help text: a usage line per mode, then the modes and the options. */
void cli_usage(FILE *out, const CliMode *modes, int nmodes);
#endif
