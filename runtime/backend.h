/* backend.h - the interface a backend implements to run a plan's forward program (ggml-style: the
   executor owns shapes, buffers and order; a backend computes one node at a time, switching on the
   op kind). The CPU backend is backend_cpu.c; the CUDA backend arrives with its issue. */
#ifndef SQN_BACKEND_H
#define SQN_BACKEND_H
#include <stdbool.h>
#include <stddef.h>
#include "plan.h"

/* What a node needs at run time: the plan, parameter data, every node's buffer and shape. */
typedef struct BackendRun {
  const Plan *p;
  const float *const *param; /* per plan parameter (device memory of the backend) */
  float *const *buf;         /* per node: its output buffer (slots may alias, as the plan says) */
  const PlanShape *shapes;   /* per node, at the current input size */
  int batch;
} BackendRun;

typedef struct Backend {
  const char *name;
  /* Prepares a network once (e.g. folds BN into convs where the plan's kernels say so); returns the
     backend's state for it, or NULL with a message. `uses` gives each node's number of consumers. */
  void *(*prepare)(const Plan *p, const float *const *param, const int *uses, char *err, size_t errlen);
  /* Computes node i into r->buf[i]; false for an op this backend cannot run. */
  bool (*run_node)(void *state, const BackendRun *r, int i);
  void (*release)(void *state);
} Backend;

/* "cpu" (the default); anything else is an error naming what this build has. */
const Backend *backend_get(const char *name, char *err, size_t errlen);
extern const Backend backend_cpu;
#endif
