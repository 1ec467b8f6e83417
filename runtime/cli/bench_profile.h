/* bench_profile.h - per-op timing report of `sqnrun --bench --profile-ops`. */
#ifndef SQN_BENCH_PROFILE_H
#define SQN_BENCH_PROFILE_H
#include "plan.h"

/* times: accumulated seconds per node over `runs` runs at shapes sh; groups: executor_groups (NULL: none). */
void bench_print_profile(const Plan *p, const Shape *sh, const int *groups, const double *times, int runs, int top);
#endif
