/* cuda_nccl.c - NCCL loaded at run time (cuda_nccl.h). The few types used are declared here as nccl.h (NCCL 2.x,
   whose ABI is stable across 2.x) defines them, so the build needs no nccl.h: ncclResult_t, ncclDataType_t and
   ncclRedOp_t are C enums (int), ncclUniqueId 128 bytes passed by value, ncclComm_t a pointer. */
#include "cuda_nccl.h"
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int nccl_result;                       /* ncclResult_t: ncclSuccess = 0, ncclInProgress = 7 */
typedef struct { char internal[128]; } nccl_id; /* ncclUniqueId (NCCL_UNIQUE_ID_BYTES) */
typedef struct nccl_comm *nccl_comm;           /* ncclComm_t */
enum { NCCL_SUCCESS = 0, NCCL_IN_PROGRESS = 7, NCCL_FLOAT32 = 7, NCCL_FLOAT64 = 8, NCCL_SUM = 0 };

static struct {
  nccl_result (*GetVersion)(int *version);
  nccl_result (*GetUniqueId)(nccl_id *id);
  nccl_result (*CommInitRank)(nccl_comm *comm, int nranks, nccl_id id, int rank);
  nccl_result (*AllReduce)(const void *send, void *recv, size_t count, int type, int op, nccl_comm comm,
                           cudaStream_t stream);
  nccl_result (*CommDestroy)(nccl_comm comm);
  nccl_result (*CommAbort)(nccl_comm comm);
  nccl_result (*CommGetAsyncError)(nccl_comm comm, nccl_result *async);
  const char *(*GetErrorString)(nccl_result r);
} api;
static bool loaded;
static int loaded_version;
static char load_error[512];

struct CudaNccl {
  nccl_comm comm;
  int rank, size;
};

/* Where libnccl.so.2 may be: the loader's path, then the CUDA toolkit's library folders (NCCL ships there). */
static void *open_library(void) {
  static const char *const names[] = {"libnccl.so.2", "libnccl.so",
#ifdef SQN_CUDA_LIBDIR
                                      SQN_CUDA_LIBDIR "/libnccl.so.2",
#endif
                                      "/usr/local/cuda/lib64/libnccl.so.2", "/usr/local/cuda/lib/libnccl.so.2"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    void *h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (h) return h;
  }
  return NULL;
}

static bool load(void) {
  void *h = open_library();
  if (!h) {
    snprintf(load_error, sizeof load_error,
             "NCCL not found: cannot load libnccl.so.2 (%s); install NCCL (it comes with the CUDA toolkit's "
             "libraries) or add its folder to LD_LIBRARY_PATH, or run one rank per job",
             dlerror());
    return false;
  }
#define SYM(field, name) \
  if (!(*(void **)&api.field = dlsym(h, name))) \
    return snprintf(load_error, sizeof load_error, "NCCL found, but it has no %s: NCCL 2.x is needed", name), false;
  SYM(GetVersion, "ncclGetVersion")
  SYM(GetUniqueId, "ncclGetUniqueId")
  SYM(CommInitRank, "ncclCommInitRank")
  SYM(AllReduce, "ncclAllReduce")
  SYM(CommDestroy, "ncclCommDestroy")
  SYM(CommAbort, "ncclCommAbort")
  SYM(CommGetAsyncError, "ncclCommGetAsyncError")
  SYM(GetErrorString, "ncclGetErrorString")
#undef SYM
  if (api.GetVersion(&loaded_version) != NCCL_SUCCESS)
    return snprintf(load_error, sizeof load_error, "NCCL found, but ncclGetVersion failed"), false;
  return true;
}

bool cuda_nccl_available(int *version, char *err, size_t n) {
  static bool tried;
  if (!tried) tried = true, loaded = load();
  if (!loaded) return snprintf(err, n, "%s", load_error), false;
  if (version) *version = loaded_version;
  return true;
}

static bool nccl_ok(nccl_result r, const char *what, char *err, size_t n) {
  if (r == NCCL_SUCCESS) return true;
  snprintf(err, n, "%s: NCCL error %d (%s)", what, r, api.GetErrorString ? api.GetErrorString(r) : "?");
  return false;
}

CudaNccl *cuda_nccl_open(int rank, int size, void (*bcast)(void *buf, size_t bytes, int root), char *err, size_t n) {
  if (!cuda_nccl_available(NULL, err, n)) return NULL;
  CudaNccl *c = calloc(1, sizeof *c);
  if (!c) return snprintf(err, n, "out of memory"), NULL;
  c->rank = rank, c->size = size;
  /* Every rank takes part in the broadcast, rank 0's result with the id: where rank 0 failed every rank stops with
     its reason instead of waiting for a bootstrap that will not come. */
  struct { int result; nccl_id id; } boot;
  memset(&boot, 0, sizeof boot);
  if (rank == 0) boot.result = api.GetUniqueId(&boot.id);
  bcast(&boot, sizeof boot, 0);
  if (!nccl_ok(boot.result, rank == 0 ? "ncclGetUniqueId" : "ncclGetUniqueId (on rank 0)", err, n) ||
      !nccl_ok(api.CommInitRank(&c->comm, size, boot.id, rank), "ncclCommInitRank (joining the job's GPUs)", err, n)) {
    free(c);
    return NULL;
  }
  return c;
}

bool cuda_nccl_allreduce(CudaNccl *c, void *buf, size_t count, bool f64, cudaStream_t stream, char *err, size_t n) {
  if (c->size < 2 || count == 0) return true;
  if (nccl_ok(api.AllReduce(buf, buf, count, f64 ? NCCL_FLOAT64 : NCCL_FLOAT32, NCCL_SUM, c->comm, stream),
              "ncclAllReduce (summing the gradients over the GPUs)", err, n))
    return true;
  nccl_result async = NCCL_SUCCESS;
  if (api.CommGetAsyncError(c->comm, &async) == NCCL_SUCCESS && async != NCCL_SUCCESS && async != NCCL_IN_PROGRESS) {
    const size_t used = strlen(err);
    snprintf(err + used, n - used, "; a peer failed: %s", api.GetErrorString(async));
  }
  return false;
}

void cuda_nccl_close(CudaNccl *c, bool abort) {
  if (!c) return;
  if (c->comm) (abort ? api.CommAbort : api.CommDestroy)(c->comm);
  free(c);
}
