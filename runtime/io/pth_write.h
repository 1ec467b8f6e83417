/* pth_write.h - writing a TensorSet as a PyTorch state_dict file in the zip format torch.save uses
   since torch 1.6, the mirror of pth_read (pth.h): records archive/data.pkl (a protocol-2 pickle of
   an OrderedDict name -> torch._utils._rebuild_tensor_v2(storage, 0, size, stride, False,
   OrderedDict()), every storage a persistent id ('storage', torch.<T>Storage, key, 'cpu', numel)),
   archive/byteorder ("little"), archive/data/<key> (each tensor's bytes, stored uncompressed and
   64-byte aligned, as torch writes them) and archive/version ("3\n"). The entries keep the set's
   order; every tensor gets its own storage. The file is written atomically (atomic_file.h): a failed
   write leaves no partial file and the previous one, if any, as it was. */
#ifndef SQN_PTH_WRITE_H
#define SQN_PTH_WRITE_H
#include <stdbool.h>
#include <stddef.h>
#include "phase_progress.h"
#include "tensor_set.h"

/* progress: NULL, or a begun phase whose total is s->n (ticked as the tensors are written; the
   caller ends it). False with "cannot write PATH: why" or the archive's error in err. */
bool pth_write(const TensorSet *s, const char *path, PhaseProgress *progress, char *err, size_t n);
#endif
