/* weights_file.h - a weights file of either kind, chosen by its name: .safetensors, else PyTorch .pth
   (zip or legacy serialization). */
#ifndef SQN_WEIGHTS_FILE_H
#define SQN_WEIGHTS_FILE_H
#include <stddef.h>
#include "tensor_set.h"

/* NULL with "PATH: why" in err when the file cannot be read. */
TensorSet *weights_load(const char *path, char *err, size_t n);
#endif
