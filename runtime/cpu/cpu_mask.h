/* cpu_mask.h - keep_if: a gradient passed or zeroed by a condition without a branch, for the backward of
   ReLU-like ops (cpu_grad_misc.c, and cpu_grad_norm.c where BN's backward takes the ReLU's in). */
#ifndef SQN_CPU_MASK_H
#define SQN_CPU_MASK_H
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* pass ? dy : 0 without a branch (a select on a sign that flips half the time after a ReLU mispredicts
   half the time): the comparison becomes an all-ones/zero mask on dy's bits, which the vectorizer turns
   into a compare and an AND. */
static inline float keep_if(bool pass, float dy) {
  uint32_t bits;
  memcpy(&bits, &dy, sizeof bits);
  bits &= (uint32_t)0 - (uint32_t)pass;
  memcpy(&dy, &bits, sizeof dy);
  return dy;
}
#endif
