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
  const Plan *p;
  int nsb, maxc;
  double *cand;            /* [sb * maxc + k]: the candidate's cost (at the supernet's widths) */
  double **wcand;          /* [sb * maxc + k]: NULL, or its cost at each pair of widths of the candidate's cost_in
                              and cost_out width choices, [a * widths(cost_out) + b]; < 0 where it cannot have it */
  double fixed;            /* stem, head, decoder (and the mixing itself) */
  const char *unit;        /* "GMACs", "M params" or "ms" */
  PlanObjective objective;
} CostTable;

/* The resource term's form (search_budget.c; docs/search.md "Budgets"). */
typedef struct Budget {
  bool relative;           /* costs as fractions of the cost range: (C - lo) / range */
  double lo, range;        /* the cheapest architecture's cost, and the dearest's minus it (objective's unit) */
  double alpha;            /* weight of the expected cost when there is no target */
  double target;           /* the budget as a fraction of the range; < 0: none (then alpha weighs the cost) */
  double lr;               /* step of the multipliers */
  double lambda;           /* the budget's Lagrange multiplier (>= 0) */
  double skip_limit, mu;   /* limit on the expected fraction of skipping superblocks (>= 1: none) and its multiplier */
} Budget;

typedef struct BudgetSettings {
  bool relative;
  double alpha, target, target_fraction, lr, skip_limit; /* as PlanSearch; target in the cost table's unit */
} BudgetSettings;

typedef struct Search {
  const Plan *p;
  int nsb, maxc;
  bool *active;            /* [sb * maxc + k]: not pruned */
  CostTable cost;
  Budget budget;
} Search;

/* What the resource term came to at a step. */
typedef struct ResourceTerm {
  double loss;             /* its part of the search loss */
  double expected_cost;    /* fixed + sum over superblocks of E[C] (objective's unit) */
  double relative_cost;    /* (expected_cost - lo) / range */
  double skip_fraction;    /* expected fraction of superblocks that skip */
} ResourceTerm;

/* MAC (GMACs at the plan's input size) or parameter (millions) costs from the plan's cost tables. */
bool cost_from_plan(const Plan *p, PlanObjective obj, CostTable *c);
/* Latency costs (ms) from a lookup table written by `sqnrun --profile` (lut.json). */
bool cost_from_lut(const Plan *p, const char *path, CostTable *c, char *err, size_t n);
void cost_free(CostTable *c);
/* The costs at each width pair (c->wcand) from the plan and c->cand (search.c; cost_from_* call it). */
bool cost_widths(CostTable *c);
/* Total cost of one architecture (choice[sb] = candidate index, or width index for a width choice). */
double cost_of(const CostTable *c, const int *choice);
/* Candidate k of superblock sb's expected cost over its width choices' probabilities prob[sb' * maxc + j]
   (its plain cost where its widths are fixed). */
double cost_expected(const CostTable *c, int sb, int k, const double *prob);
/* Its cost bounds over every width pair it may have. */
void cost_bounds(const CostTable *c, int sb, int k, double *lo, double *hi);
/* Adds the derivative of p(k) * cost_expected(k) with respect to the width choices' probabilities, times pk,
   into dprob[sb' * maxc + j]. */
void cost_width_grad(const CostTable *c, int sb, int k, double pk, const double *prob, double *dprob);

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
/* search_budget.c. After search_init and the cost table: the range of the space's costs and the form of
   the resource term; false (err) when a budget cannot be met by any architecture. */
bool budget_init(Search *s, const BudgetSettings *b, char *err, size_t n);
/* Then adds the resource term's gradient (alpha or the budget's multiplier on the expected cost, and the skip
   limit's multiplier on the expected skip fraction) to dtheta; *out says what the term came to. */
void search_theta_grad_resource(const Search *s, Trainer *t, double *dtheta, ResourceTerm *out);
/* Dual ascent on the multipliers after a theta step: lambda += lr * (relative cost - target), mu likewise
   for the skip fraction; both stay >= 0. */
void budget_step(Search *s, const ResourceTerm *r);
/* How many superblocks of an architecture skip (a zero or identity candidate). */
int arch_skips(const Search *s, const int *choice);
/* The superblocks of the encoder: all but the width choices and the decoder's choice (the last superblock, where
   the space has one). Width choices follow the encoder's superblocks. */
int search_encoder_superblocks(const Search *s);
/* Prunes active candidates whose probability fell below `below` (never the last one of a
   superblock); returns how many, and describes each on `log` (may be NULL). */
int search_prune(Search *s, Trainer *t, double below, FILE *log);
/* Entropy (nats) and the most probable candidate of superblock sb. */
double search_entropy(const Search *s, Trainer *t, int sb, int *top, double *top_p);
#endif
