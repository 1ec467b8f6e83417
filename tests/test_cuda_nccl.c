/* test_cuda_nccl.c - the CUDA backend's multi-process pieces that run without MPI: which GPU a rank picks
   (cuda_device_pick: SQN_CUDA_DEVICE, the launchers' local ranks), NCCL loaded at run time (cuda_nccl_available:
   every function found, its version), and, where there is a GPU, a one-rank NCCL communicator whose all-reduce of
   floats and doubles on the device leaves them as they are. Exits 77 (skipped) where libnccl.so.2 is not installed;
   the GPU part says so and is left out where there is no GPU. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cuda_driver.h"
#include "cuda_nccl.h"
#include "test_util.h"

static void test_device_pick(void) {
  char err[256] = "";
  static const char *const vars[] = {"SQN_CUDA_DEVICE", "OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID", "MPI_LOCALRANKID",
                                     "PMI_LOCAL_RANK", "PMIX_LOCAL_RANK"};
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) unsetenv(vars[i]);
  CHECK(cuda_device_pick(4, err, sizeof err) == 0); /* one process: the first GPU */
  setenv("OMPI_COMM_WORLD_LOCAL_RANK", "5", 1);
  CHECK(cuda_device_pick(4, err, sizeof err) == 1); /* local rank 5 of a host with 4 GPUs */
  CHECK(cuda_device_pick(1, err, sizeof err) == 0);
  unsetenv("OMPI_COMM_WORLD_LOCAL_RANK");
  setenv("SLURM_LOCALID", "2", 1);
  CHECK(cuda_device_pick(8, err, sizeof err) == 2);
  setenv("SLURM_LOCALID", "x", 1); /* not a number: ignored */
  CHECK(cuda_device_pick(8, err, sizeof err) == 0);
  setenv("SQN_CUDA_DEVICE", "3", 1); /* the user's choice wins */
  CHECK(cuda_device_pick(8, err, sizeof err) == 3);
  setenv("SQN_CUDA_DEVICE", "8", 1);
  CHECK(cuda_device_pick(8, err, sizeof err) == -1);
  CHECK(strstr(err, "SQN_CUDA_DEVICE=8: not a device of this machine (it has 8: 0 to 7)") != NULL);
  setenv("SQN_CUDA_DEVICE", "1a", 1);
  CHECK(cuda_device_pick(8, err, sizeof err) == -1);
  unsetenv("SQN_CUDA_DEVICE"), unsetenv("SLURM_LOCALID");
}

static void no_bcast(void *buf, size_t bytes, int root) { (void)buf, (void)bytes, (void)root; }

/* A one-rank communicator on the GPU: the sum over one rank is the value itself. */
static void test_one_rank(void) {
  char err[512] = "";
  int dev = -1, cc = 0;
  if (!cuda_device_open(&dev, &cc, err, sizeof err)) {
    printf("no GPU, the communicator part is left out: %s\n", err);
    return;
  }
  CudaNccl *c = cuda_nccl_open(0, 1, no_bcast, err, sizeof err);
  if (!c) fprintf(stderr, "%s\n", err);
  CHECK(c != NULL);
  float hf[5] = {1, -2.5f, 3e30f, 0, 7}, back[5] = {0};
  double hd[3] = {1e-300, 2, -3}, backd[3] = {0};
  void *df = NULL, *dd = NULL;
  CHECK(cudaMalloc(&df, sizeof hf) == cudaSuccess && cudaMalloc(&dd, sizeof hd) == cudaSuccess);
  CHECK(cudaMemcpy(df, hf, sizeof hf, cudaMemcpyHostToDevice) == cudaSuccess);
  CHECK(cudaMemcpy(dd, hd, sizeof hd, cudaMemcpyHostToDevice) == cudaSuccess);
  CHECK(c && cuda_nccl_allreduce(c, df, 5, false, 0, err, sizeof err) && cuda_nccl_allreduce(c, dd, 3, true, 0, err, sizeof err));
  CHECK(cudaDeviceSynchronize() == cudaSuccess);
  CHECK(cudaMemcpy(back, df, sizeof hf, cudaMemcpyDeviceToHost) == cudaSuccess && !memcmp(back, hf, sizeof hf));
  CHECK(cudaMemcpy(backd, dd, sizeof hd, cudaMemcpyDeviceToHost) == cudaSuccess && !memcmp(backd, hd, sizeof hd));
  cudaFree(df), cudaFree(dd);
  cuda_nccl_close(c, false);
  printf("one-rank NCCL communicator on GPU %d (sm_%d): all-reduce of floats and doubles as expected\n", dev, cc);
}

int main(void) {
  test_device_pick();
  char err[512];
  int version = 0;
  if (!cuda_nccl_available(&version, err, sizeof err)) {
    printf("SKIP: %s\n", err);
    return t_failed ? 1 : 77;
  }
  CHECK(version >= 20000); /* NCCL 2.x: major * 10000 + minor * 100 + patch */
  printf("NCCL %d.%d.%d loaded\n", version / 10000, version / 100 % 100, version % 100);
  test_one_rank();
  return test_summary();
}
