/* mode_search.h - `sqnrun SPACE.plan --search --data DIR|synthetic [...]`: the resource-aware supernet
   search end to end (search.h for the pieces, derive.h for the hand-over). */
#ifndef SQN_MODE_SEARCH_H
#define SQN_MODE_SEARCH_H
#include "mode_train.h"
#include "plan.h"

typedef struct SearchArgs {
  TrainArgs t;              /* data, epochs (0: the plan's search epochs), batch, crop, lr, seed, out, resume, ... */
  double alpha;             /* < 0: the plan's */
  double arch_lr;           /* < 0: the plan's */
  int warmup;               /* < 0: the plan's */
  int samples;              /* < 0: the plan's */
  const char *lut;          /* latency table (lut.json) for objective latency */
  const char *objective;    /* macs|params|latency; NULL: the plan's */
  double target_macs, target_ms;
  int derive_val;           /* validation images to score architectures on (default 20) */
} SearchArgs;

void search_args_defaults(SearchArgs *a);
int mode_search(const Plan *p, const char *plan_path, const SearchArgs *a);
#endif
