/* pth.h - reading PyTorch state_dict files (torch.save of a dict of tensors) into a TensorSet.
   Both serializations are supported: the zip format of torch >= 1.6 (<archive>/data.pkl plus one
   <archive>/data/<key> record per storage) and the legacy format (five concatenated pickles, then
   the raw storages). Nothing in the file is executed: see pickle.h. The result keeps the
   state_dict's order; strided tensors are copied to contiguous C order. Details: docs/weights.md. */
#ifndef SQN_PTH_H
#define SQN_PTH_H
#include <stddef.h>
#include "tensor_set.h"

/* NULL on any problem, with a one-line reason in err (without the path). */
TensorSet *pth_read(const char *path, char *err, size_t errlen);
TensorSet *pth_read_mem(const void *buf, size_t len, char *err, size_t errlen);

#endif
