/* fault.h - fault injection for crash tests, in the manner of SQLite's test hooks. With the
   environment variable SQN_FAULT=POINT:N, the Nth time the process reaches fault point POINT it
   kills itself with SIGKILL, as `kill -9` or a power cut would. Without it, fault points do nothing.
   Points: atomic-rename (atomic_file.c: a temporary written and closed, not yet renamed). */
#ifndef SQN_FAULT_H
#define SQN_FAULT_H
void fault_point(const char *name);
#endif
