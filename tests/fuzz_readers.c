/* fuzz_readers.c - libFuzzer targets for the runtime's file readers, which read what users hand to
   sqnrun: plans (FUZZ_PLAN), PyTorch .pth files (FUZZ_PTH) and safetensors files (FUZZ_SAFETENSORS).
   Each must return a result or an error message, never crash, leak or read out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include "plan.h"
#include "pth.h"
#include "safetensors.h"

#if defined(FUZZ_PLAN)
#include <string.h>
/* Mutated plans would almost all stop at the checksum: fix it up so the structural checks are fuzzed. */
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
  char err[512] = "";
  unsigned char *buf = malloc(n ? n : 1);
  memcpy(buf, d, n);
  if (n >= SQN_PLAN_OFF_CRC + 4) {
    uint32_t crc = plan_checksum(buf, n);
    for (int i = 0; i < 4; i++) buf[SQN_PLAN_OFF_CRC + i] = (unsigned char)(crc >> (8 * i));
  }
  Plan *p = plan_read_mem(buf, n, err, sizeof err);
  free(buf);
  if (!p && !err[0]) abort(); /* a refusal must say why */
  if (p) {
    FILE *devnull = fopen("/dev/null", "w");
    plan_print_info(p, devnull, false); /* a plan that reads must also print */
    plan_print_info(p, devnull, true);
    fclose(devnull);
  }
  plan_free(p);
  return 0;
}
#elif defined(FUZZ_PTH)
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
  char err[512] = "";
  TensorSet *s = pth_read_mem(d, n, err, sizeof err);
  if (!s && !err[0]) abort();
  tensor_set_free(s);
  return 0;
}
#elif defined(FUZZ_SAFETENSORS)
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
  char err[512] = "", *meta = NULL;
  TensorSet *s = safetensors_read_mem(d, n, &meta, err, sizeof err);
  if (!s && !err[0]) abort();
  unsigned char *out = NULL;
  size_t outlen = 0;
  if (s && !safetensors_encode(s, meta, &out, &outlen, err, sizeof err)) abort(); /* what reads re-encodes */
  free(out);
  free(meta);
  tensor_set_free(s);
  return 0;
}
#else
#error "define FUZZ_PLAN, FUZZ_PTH or FUZZ_SAFETENSORS"
#endif
