/* omp_wait.h - the OpenMP wait policy sqnrun runs under (docs/performance.md "Sharing the machine"). libgomp reads
   OMP_WAIT_POLICY once, when it is loaded, before main; so to choose a policy, sqnrun re-executes itself once with
   it set. */
#ifndef SQN_OMP_WAIT_H
#define SQN_OMP_WAIT_H

/* Unless OMP_WAIT_POLICY is set (the user's choice wins): sets it from SQN_OMP_WAIT ("active" or "passive"; unset:
   the default below) and re-executes /proc/self/exe with argv. Returns (without re-executing) when the policy is
   already in place, on a bad SQN_OMP_WAIT (a warning) or when the re-execution fails (libgomp's default then). */
void omp_wait_choose(char **argv);
#define SQN_OMP_WAIT_DEFAULT "passive"
#endif
