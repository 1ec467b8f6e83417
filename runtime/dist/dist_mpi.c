/* dist_mpi.c - dist.h over MPI (MPI_COMM_WORLD). MPI is initialised only when a launcher started the process
   (mpirun/mpiexec, srun with PMI/PMIx): a plain `sqnrun` stays one process without MPI_Init, so it starts as fast
   as before and needs no MPI runtime. Errors use MPI's default handler (MPI_ERRORS_ARE_FATAL): a dead peer stops
   the job rather than leaving it waiting. */
#include "dist.h"
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int g_rank = 0, g_size = 1;
static bool g_mpi = false;

/* Environment variables that Open MPI, MPICH/Hydra, PMIx and Slurm's PMI set in the processes they launch. */
static bool launched(void) {
  static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", "MPI_LOCALNRANKS"};
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
    if (getenv(vars[i])) return true;
  return false;
}

void dist_init(int *argc, char ***argv) {
  if (g_mpi || !launched()) return;
  MPI_Init(argc, argv);
  g_mpi = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
}

int dist_rank(void) { return g_rank; }
int dist_size(void) { return g_size; }

/* How many of the n elements the piece of at most DIST_BUCKET starting at element at holds. */
static int piece(size_t n, size_t at) { return (int)(n - at < DIST_BUCKET ? n - at : DIST_BUCKET); }

/* In buckets of DIST_BUCKET elements of esize bytes. */
static void allreduce(void *v, size_t n, size_t esize, MPI_Datatype type) {
  if (g_size < 2) return;
  for (size_t at = 0; at < n; at += DIST_BUCKET)
    MPI_Allreduce(MPI_IN_PLACE, (char *)v + at * esize, piece(n, at), type, MPI_SUM, MPI_COMM_WORLD);
}

void dist_allreduce_f32(float *v, size_t n) { allreduce(v, n, sizeof *v, MPI_FLOAT); }
void dist_allreduce_f64(double *v, size_t n) { allreduce(v, n, sizeof *v, MPI_DOUBLE); }
void dist_allreduce_u64(uint64_t *v, size_t n) { allreduce(v, n, sizeof *v, MPI_UINT64_T); }

/* The started nonblocking sums (dist_iallreduce_f32), waited for together. */
enum { MAX_PENDING = 256 };
static MPI_Request pending[MAX_PENDING];
static int npending = 0;

void dist_wait_all(void) {
  if (npending) MPI_Waitall(npending, pending, MPI_STATUSES_IGNORE);
  npending = 0;
}

void dist_iallreduce_f32(float *v, size_t n) {
  for (size_t at = 0; g_size > 1 && at < n; at += DIST_BUCKET) {
    if (npending == MAX_PENDING) dist_wait_all();
    MPI_Iallreduce(MPI_IN_PLACE, v + at, piece(n, at), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &pending[npending++]);
  }
}

void dist_progress(void) {
  int done = 0;
  if (npending) MPI_Testall(npending, pending, &done, MPI_STATUSES_IGNORE);
  if (done) npending = 0;
}

void dist_bcast(void *p, size_t bytes, int root) {
  for (size_t at = 0; g_size > 1 && at < bytes; at += DIST_BUCKET)
    MPI_Bcast((char *)p + at, piece(bytes, at), MPI_BYTE, root, MPI_COMM_WORLD);
}

void dist_barrier(void) {
  if (g_size > 1) MPI_Barrier(MPI_COMM_WORLD);
}

_Noreturn void dist_abort(int rc) {
  fflush(stdout), fflush(stderr);
  if (g_size > 1) MPI_Abort(MPI_COMM_WORLD, rc);
  exit(rc);
}

void dist_finalize(void) {
  if (g_mpi) MPI_Finalize();
  g_mpi = false;
}

const char *dist_impl(void) { return "mpi"; }
