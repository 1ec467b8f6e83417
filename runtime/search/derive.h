/* derive.h - turning a searched supernet into a network (issue 5, step 5): sample architectures from
   the learned distribution, score each on validation images with the supernet's weights (mIoU) and by
   the cost tables, keep the pareto front, pick one by budget, and write what a person and sqnc need:
   pareto.csv / pareto.json / pareto.svg, arch.svg (the chosen network's blocks) and derived.sqn. */
#ifndef SQN_DERIVE_H
#define SQN_DERIVE_H
#include "dataset.h"
#include "search.h"

typedef struct DeriveOptions {
  int samples;              /* architectures to sample (besides the most probable one) */
  int val_limit;            /* validation images to score on (0: all) */
  int val_batch;            /* images per forward (training-mode BN statistics over them) */
  uint64_t seed;
  double target_macs;       /* GMACs; > 0: the best mIoU at or under it */
  double target_ms;         /* ms (needs a latency table); > 0: the best mIoU at or under it */
  double target_cost;       /* in the search's cost unit (the plan's budget); > 0: the best mIoU at or under it
                               (when neither target above is given) */
  double skip_limit;        /* < 1: prefer architectures where at most this fraction of superblocks skip */
  const CostTable *latency; /* NULL when no latency table was given */
  const char *space_file;   /* the .sqn that defines the space (imported by derived.sqn) */
  const char *out_dir;
} DeriveOptions;

typedef struct Arch {
  int *choice;              /* candidate per superblock */
  double miou, gmacs, ms;   /* ms < 0 without a latency table */
  double cost;              /* in the search's cost unit */
  int skips;                /* superblocks that skip */
  bool pareto, chosen, most_probable;
} Arch;

/* Samples, scores, picks and writes; prints where the files are. The trainer's running statistics
   are left as they were. */
bool derive_run(const Search *s, Trainer *t, Dataset *val, const DeriveOptions *o, char *err, size_t n);

/* derive_write.c: the outputs. */
bool derive_write_tables(const Search *s, const Arch *a, int na, const DeriveOptions *o, char *err, size_t n);
bool derive_write_sqn(const Search *s, const Arch *chosen, const DeriveOptions *o, char *err, size_t n);
/* derive_svg.c: the pareto plot and the architecture diagram. */
bool derive_write_pareto_svg(const Arch *a, int na, bool by_ms, const char *path, char *err, size_t n);
bool derive_write_arch_svg(const Search *s, const Arch *chosen, const char *path, char *err, size_t n);
#endif
