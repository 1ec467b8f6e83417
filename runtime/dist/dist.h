/* dist.h - the processes of a data-parallel run (docs/distributed.md): this process's rank among size, sums over
   all of them, broadcast, barrier and abort. One API whatever the build: dist_mpi.c over MPI (sqnrun launched by
   mpirun or srun), dist_single.c without MPI, where size is 1 and every call is a no-op. Collectives must be called
   by every rank in the same order; MPI's default error handler stops the whole job when a rank dies. */
#ifndef SQN_DIST_H
#define SQN_DIST_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Joins the job when a launcher started this process (else: one process, no MPI at all). Idempotent. */
void dist_init(int *argc, char ***argv);
int dist_rank(void);
int dist_size(void);
/* In-place sums over the ranks; large arrays go in a few buckets of DIST_BUCKET elements (one collective each). */
enum { DIST_BUCKET = 1 << 22 };
void dist_allreduce_f32(float *v, size_t n);
void dist_allreduce_f64(double *v, size_t n);
void dist_allreduce_u64(uint64_t *v, size_t n);
/* Nonblocking in-place float sum: started now (by every rank, in the same order as every other collective), done
   when dist_wait_all returns; v must not be read or written in between. MPI moves a started sum on only inside MPI
   calls: dist_progress is one such call, cheap enough to make between pieces of other work. */
void dist_iallreduce_f32(float *v, size_t n);
void dist_progress(void);
void dist_wait_all(void);
void dist_bcast(void *p, size_t bytes, int root);
void dist_barrier(void);
/* Stops every rank with exit status rc (a rank that failed while others wait in a collective). */
_Noreturn void dist_abort(int rc);
/* Leaves the job (after the last collective); a no-op in one process. */
void dist_finalize(void);
/* Whether MPI was built in ("mpi" or "none"), for messages. */
const char *dist_impl(void);
#endif
