/* dist_single.c - dist.h without MPI: one process, rank 0 of 1; sums and broadcasts leave the data as it is. */
#include "dist.h"
#include <stdlib.h>

void dist_init(int *argc, char ***argv) { (void)argc, (void)argv; }
int dist_rank(void) { return 0; }
int dist_size(void) { return 1; }
void dist_allreduce_f32(float *v, size_t n) { (void)v, (void)n; }
void dist_allreduce_f64(double *v, size_t n) { (void)v, (void)n; }
void dist_allreduce_u64(uint64_t *v, size_t n) { (void)v, (void)n; }
void dist_iallreduce_f32(float *v, size_t n) { (void)v, (void)n; }
void dist_progress(void) {}
void dist_wait_all(void) {}
void dist_bcast(void *p, size_t bytes, int root) { (void)p, (void)bytes, (void)root; }
void dist_barrier(void) {}
_Noreturn void dist_abort(int rc) { exit(rc); }
void dist_finalize(void) {}
const char *dist_impl(void) { return "none"; }
