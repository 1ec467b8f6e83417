/* cuda_nccl.h - NCCL for data-parallel training on GPUs (docs/distributed.md): one process per GPU, their device
   buffers summed with ncclAllReduce on the backend's stream. NCCL is loaded at run time (dlopen libnccl.so.2, from
   the CUDA toolkit's libraries or the system's), like the driver: sqnrun does not link it and runs without it
   until a multi-rank CUDA run asks for it. The communicator is bootstrapped over the job's MPI (rank 0 makes the
   unique id and broadcasts it); MPI carries nothing else of the GPUs' work. */
#ifndef SQN_CUDA_NCCL_H
#define SQN_CUDA_NCCL_H
#include <stdbool.h>
#include <stddef.h>
#include <cuda_runtime_api.h>

typedef struct CudaNccl CudaNccl;

/* Whether libnccl.so.2 loads with every function used here; *version = NCCL's (e.g. 22703 for 2.27.3). False with
   "NCCL not found: ..." and a hint. Loads once. */
bool cuda_nccl_available(int *version, char *err, size_t errlen);
/* This process's communicator among `size` ranks (this one `rank`), on the current GPU. bcast(buf, bytes, root) is
   the job's broadcast (dist_bcast) for NCCL's unique id. NULL with a message. */
CudaNccl *cuda_nccl_open(int rank, int size, void (*bcast)(void *buf, size_t bytes, int root), char *err, size_t errlen);
/* Sums n floats (f64: doubles) at buf over the ranks, in place, queued on stream. False with a message (NCCL's, and
   its asynchronous error where a peer failed). */
bool cuda_nccl_allreduce(CudaNccl *c, void *buf, size_t n, bool f64, cudaStream_t stream, char *err, size_t errlen);
/* Leaves the communicator: destroyed, or aborted after a failure (so that no rank waits on a dead peer). */
void cuda_nccl_close(CudaNccl *c, bool abort);
#endif
