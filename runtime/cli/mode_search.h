/* mode_search.h - `sqnrun SPACE.plan --search --data DIR|synthetic [...]`: the resource-aware supernet
   search end to end (search.h for the pieces, derive.h for the hand-over). */
#ifndef SQN_MODE_SEARCH_H
#define SQN_MODE_SEARCH_H
#include "cli_args.h"
#include "plan.h"

int mode_search(const Plan *p, const CliArgs *a);
#endif
