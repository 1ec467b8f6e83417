/* dist_threads.h - dist.h's ranks as threads of one process, for tests (dist_threads.c). */
#ifndef SQN_DIST_THREADS_H
#define SQN_DIST_THREADS_H
enum { DIST_THREADS_MAX = 8 };
/* Runs fn(rank, arg) on `size` threads, each seeing dist_rank() == rank and dist_size() == size; returns when all did. */
void dist_threads_run(int size, void (*fn)(int rank, void *arg), void *arg);
#endif
