/* dist_threads.c - dist.h for tests: the ranks of a "job" are threads of one process (a link seam: a test that
   links this file gets these definitions instead of runtime/dist's, whose archive member is then never pulled in).
   dist_threads_run(size, fn, arg) runs fn(rank, arg) on `size` threads; inside, dist_rank/dist_size answer per
   thread and the collectives meet at a barrier and go through one shared buffer (sums in rank order, so every rank
   gets the same bits). Lets a test run the trainer's data-parallel path on any backend without mpirun. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dist.h"
#include "dist_threads.h"

static _Thread_local int my_rank = 0;
static int job_size = 1;
static pthread_barrier_t barrier;
static const void *parts[DIST_THREADS_MAX];

void dist_init(int *argc, char ***argv) { (void)argc, (void)argv; }
int dist_rank(void) { return my_rank; }
int dist_size(void) { return job_size; }
void dist_barrier(void) {
  if (job_size > 1) pthread_barrier_wait(&barrier);
}

/* Every rank publishes its buffer; each then sums all of them in rank order into a private copy, and writes it back
   after everyone has read. */
#define SUM(name, T)                                                             \
  void name(T *v, size_t n) {                                                    \
    if (job_size < 2) return;                                                    \
    T *acc = calloc(n ? n : 1, sizeof *acc);                                     \
    if (!acc) abort();                                                           \
    parts[my_rank] = v;                                                          \
    dist_barrier();                                                              \
    for (int r = 0; r < job_size; r++)                                           \
      for (size_t i = 0; i < n; i++) acc[i] += ((const T *)parts[r])[i];         \
    dist_barrier();                                                              \
    memcpy(v, acc, n * sizeof *v);                                               \
    free(acc);                                                                   \
  }
SUM(dist_allreduce_f32, float)
SUM(dist_allreduce_f64, double)
SUM(dist_allreduce_u64, uint64_t)

/* Nonblocking sums finish at once: the ranks still meet in the same order. */
void dist_iallreduce_f32(float *v, size_t n) { dist_allreduce_f32(v, n); }
void dist_progress(void) {}
void dist_wait_all(void) {}

void dist_bcast(void *p, size_t bytes, int root) {
  if (job_size < 2) return;
  if (my_rank == root) parts[root] = p;
  dist_barrier();
  if (my_rank != root) memcpy(p, parts[root], bytes);
  dist_barrier();
}

_Noreturn void dist_abort(int rc) {
  fflush(stdout), fflush(stderr);
  exit(rc);
}

void dist_finalize(void) {}
const char *dist_impl(void) { return "threads (tests)"; }

typedef struct Job { int rank; void (*fn)(int, void *); void *arg; } Job;

static void *thread_main(void *p) {
  Job *j = p;
  my_rank = j->rank;
  j->fn(j->rank, j->arg);
  return NULL;
}

void dist_threads_run(int size, void (*fn)(int rank, void *arg), void *arg) {
  if (size < 1 || size > DIST_THREADS_MAX) abort();
  pthread_t th[DIST_THREADS_MAX];
  Job jobs[DIST_THREADS_MAX];
  job_size = size;
  pthread_barrier_init(&barrier, NULL, (unsigned)size);
  for (int r = 0; r < size; r++) {
    jobs[r] = (Job){r, fn, arg};
    if (pthread_create(&th[r], NULL, thread_main, &jobs[r])) abort();
  }
  for (int r = 0; r < size; r++) pthread_join(th[r], NULL);
  pthread_barrier_destroy(&barrier);
  job_size = 1;
}
