/* gpu_probe.c - exit 0 when a usable NVIDIA GPU and driver are present, 1 (saying why) when not; for test
   scripts that must behave differently with and without a GPU. */
#include <stdio.h>
#include "cuda_driver.h"

int main(void) {
  char why[512];
  if (cuda_gpu_present(why, sizeof why)) return puts("a GPU is present"), 0;
  return printf("%s\n", why), 1;
}
