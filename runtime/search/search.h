/* search.h - the pieces of the resource-aware supernet search (paper sections 4 and 5.3.1) that sit
   around a trainer step: per-sample Gumbel-softmax mixing weights from the architecture parameters
   theta, the gradient of the loss with respect to theta (through the Gumbel-softmax and from the
   resource loss alpha * sum_i sum_j p(i,j|theta) C(i,j)), pruning of improbable candidates, and the
   statistics the log reports (expected cost, entropy, top candidate). */
#ifndef SQN_SEARCH_H
#define SQN_SEARCH_H
#include <stdbool.h>
#include <stdint.h>
#include "plan.h"
#include "trainer.h"

typedef struct CostTable {
  int nsb, maxc;
  double *cand;            /* [sb * maxc + k]: the candidate's cost */
  double fixed;            /* stem, head, decoder (and the mixing itself) */
  const char *unit;        /* "GMACs", "M params" or "ms" */
  PlanObjective objective;
} CostTable;

typedef struct Search {
  const Plan *p;
  int nsb, maxc;
  bool *active;            /* [sb * maxc + k]: not pruned */
  CostTable cost;
} Search;

/* MAC (GMACs at the plan's input size) or parameter (millions) costs from the plan's cost tables. */
bool cost_from_plan(const Plan *p, PlanObjective obj, CostTable *c);
/* Latency costs (ms) from a lookup table written by `sqnrun --profile` (lut.json). */
bool cost_from_lut(const Plan *p, const char *path, CostTable *c, char *err, size_t n);
void cost_free(CostTable *c);
/* Total cost of one architecture (choice[sb] = candidate index). */
double cost_of(const CostTable *c, const int *choice);

bool search_init(Search *s, const Plan *p);
void search_free(Search *s);
/* p(k | theta) of superblock sb over its active candidates (0 for pruned ones). */
void search_probs(const Search *s, Trainer *t, int sb, double *prob);
/* Mixing weights for a batch: w[sb][k][b] = softmax_k((theta_k + g_kb) / tau) over active k, with
   Gumbel noise g from a counter-based generator keyed by (seed, step) and the sample's index in the global
   batch (first + b: a data-parallel rank's shard starts at `first`), so a resumed run, or one on any number
   of processes, draws the same noise. */
void search_mix(const Search *s, Trainer *t, double tau, uint64_t seed, long step, int first, int batch, float *w);
/* d loss / d theta into dtheta[sb * maxc + k] (overwritten): the cross-entropy part through the Gumbel-softmax,
   from d loss / d w of the trainer's last step (a sum over the batch's samples: in a data-parallel run sum it
   over the ranks before the next call) */
void search_theta_grad_ce(const Search *s, Trainer *t, const float *w, int batch, double tau, double *dtheta);
/* Then adds alpha times the resource loss's gradient; returns the resource loss and the expected cost (fixed +
   sum of p * C). */
void search_theta_grad_resource(const Search *s, Trainer *t, double alpha, double *dtheta, double *resource_loss,
                                double *expected_cost);
/* Prunes active candidates whose probability fell below `below` (never the last one of a
   superblock); returns how many, and describes each on `log` (may be NULL). */
int search_prune(Search *s, Trainer *t, double below, FILE *log);
/* Entropy (nats) and the most probable candidate of superblock sb. */
double search_entropy(const Search *s, Trainer *t, int sb, int *top, double *top_p);
#endif
