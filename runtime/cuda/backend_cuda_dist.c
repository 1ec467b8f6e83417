/* backend_cuda_dist.c - the CUDA backend's data-parallel hooks (backend.h BackendDevice dist_join, allreduce, scale).
   One process per GPU (cuda_device_pick gives each rank of a host its own) joined by NCCL (cuda_nccl.c), whose
   all-reduces run on the backend's stream, ordered with the step's kernels. Where that cannot be (NCCL missing on
   some rank, more ranks on a host than it has GPUs: NCCL refuses two ranks on one GPU, or SQN_DIST_GPU=host), every
   rank sums through the host instead: the buffer is downloaded, summed by the job's MPI and uploaded. All ranks
   agree on the way (a sum over the ranks of each one's reasons), so none waits on a collective the others skip. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend_cuda_train.h"
#include "cuda_nccl.h"

/* The processes of the job on this host, as the launcher says, or 0 when it does not. */
static int local_size(void) {
  static const char *const vars[] = {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "PMI_LOCAL_SIZE", "PMIX_LOCAL_SIZE"};
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
    const char *v = getenv(vars[i]);
    if (v && atoi(v) > 0) return atoi(v);
  }
  return 0;
}

/* Why this rank cannot use NCCL (0: it can): 1 asked not to, 2 no NCCL, 4 more local ranks than GPUs. */
static int host_reasons(int *version) {
  const char *want = getenv("SQN_DIST_GPU");
  if (want && !strcmp(want, "host")) return 1;
  char why[512];
  int r = cuda_nccl_available(version, why, sizeof why) ? 0 : 2, gpus = 0;
  if (cudaGetDeviceCount(&gpus) == cudaSuccess && local_size() > gpus && !(want && !strcmp(want, "nccl"))) r |= 4;
  return r;
}

bool cuda_dist_join(void *state, BackendJob *job, char *err, size_t n) {
  CudaState *x = state;
  x->job = *job;
  if (x->nccl || x->dist_host || job->size < 2) return true;
  int version = 0;
  double votes[3] = {0, 0, 0}; /* ranks with each reason */
  const int mine = host_reasons(&version);
  for (int b = 0; b < 3; b++) votes[b] = (mine >> b) & 1;
  job->sum_f64(votes, 3);
  if (votes[0] + votes[1] + votes[2] > 0) {
    x->dist_host = true;
    snprintf(job->how, sizeof job->how, "through the host (MPI), not NCCL: %s",
             votes[0] > 0   ? "SQN_DIST_GPU=host"
             : votes[1] > 0 ? "NCCL (libnccl.so.2) is missing on some rank"
                            : "ranks share a GPU (NCCL needs one GPU per rank)");
    return true;
  }
  char why[512];
  if (!(x->nccl = cuda_nccl_open(job->rank, job->size, job->bcast, why, sizeof why)))
    return snprintf(err, n, "rank %d (GPU %d): %s", job->rank, x->device, why), false;
  snprintf(job->how, sizeof job->how, "by NCCL %d.%d.%d, one GPU per rank", version / 10000, version / 100 % 100,
           version % 100);
  return true;
}

/* Through the host: download, the job's sum, upload. */
static bool allreduce_host(CudaState *x, void *buf, size_t count, bool f64, char *err, size_t n) {
  const size_t bytes = count * (f64 ? sizeof(double) : sizeof(float));
  if (bytes > x->dist_stage_cap) {
    void *p = realloc(x->dist_stage, bytes);
    if (!p) return snprintf(err, n, "out of memory for the gradients' host copy (%zu MiB)", bytes >> 20), false;
    x->dist_stage = p, x->dist_stage_cap = bytes;
  }
  if (!cuda_rt(cudaMemcpyAsync(x->dist_stage, buf, bytes, cudaMemcpyDeviceToHost, x->stream), "copying the gradients "
               "from the GPU", err, n) ||
      !cuda_rt(cudaStreamSynchronize(x->stream), "the GPU failed during the step", err, n))
    return false;
  if (f64) x->job.sum_f64(x->dist_stage, count);
  else x->job.sum_f32(x->dist_stage, count);
  return cuda_rt(cudaMemcpyAsync(buf, x->dist_stage, bytes, cudaMemcpyHostToDevice, x->stream), "copying the summed "
                 "gradients to the GPU", err, n) &&
         cuda_rt(cudaStreamSynchronize(x->stream), "the GPU failed during the step", err, n); /* the stage is reused */
}

bool cuda_allreduce(void *state, void *buf, size_t count, bool f64, char *err, size_t n) {
  CudaState *x = state;
  if (x->nccl) return cuda_nccl_allreduce(x->nccl, buf, count, f64, x->stream, err, n);
  return !x->dist_host || allreduce_host(x, buf, count, f64, err, n);
}

bool cuda_scale(void *state, float *v, size_t count, float a, char *err, size_t n) {
  CudaState *x = state;
  if (!x->train) return snprintf(err, n, "internal error: scaling needs the training state"), false;
  return cuda_dnn_scale(x->train->dnn, v, count, a, err, n);
}
