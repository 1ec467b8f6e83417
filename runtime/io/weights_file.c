/* weights_file.c - weights_load (weights_file.h). */
#include "weights_file.h"
#include <stdio.h>
#include <string.h>
#include "pth.h"
#include "safetensors.h"

TensorSet *weights_load(const char *path, char *err, size_t n) {
  size_t len = strlen(path);
  char why[1024] = "";
  TensorSet *w = len > 12 && !strcmp(path + len - 12, ".safetensors") ? safetensors_read(path, why, sizeof why)
                                                                      : pth_read(path, why, sizeof why);
  if (!w) snprintf(err, n, "%s: %s", path, why);
  return w;
}
