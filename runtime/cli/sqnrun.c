/* sqnrun.c - the sqnrun command line: the mode table, then main, which parses the command line with it
   (cli_parse.c), loads the plan and runs the mode. A new mode is one row here and its mode_NAME.c (with
   its CLI_* bit in cli.h, and that bit on the rows of cli_options.c it takes).
   Exit codes: 0 success, 1 the plan, a file or the run failed, 2 bad command line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "dist.h"
#include "omp_wait.h"
#include "mode_bench.h"
#include "mode_check_step.h"
#include "mode_export.h"
#include "mode_infer.h"
#include "mode_profile.h"
#include "mode_report.h"
#include "mode_search.h"
#include "mode_synth.h"
#include "mode_train.h"
#include "plan.h"

static int mode_info(const Plan *p, const CliArgs *a) {
  plan_print_info(p, stdout, a->json);
  return fflush(stdout) == 0 ? 0 : 1;
}

static const char need_data[] = "--train, --eval and --search need --data DIR (Cityscapes layout) or --data synthetic";

static const CliMode modes[] = {
    {.flag = "--info", .bit = CLI_INFO, .plan = "FILE.plan", .run = mode_info,
     .help = "summarize the plan: network, superblocks, candidates, MAC range, settings"},
    {.flag = "--infer", .arg = "IN", .field = CLI_FIELD(input, const char *), .bit = CLI_INFER, .plan = "NET.plan",
     .needs = {{"--weights", "--infer needs --weights FILE (.pth or .safetensors)"},
               {"-o|--labels|--logits|--argmax",
                "--infer needs an output: -o OUT.png, --labels IDS.png, --logits OUT.npy or --argmax OUT.npy"}},
     .run = mode_infer,
     .help = "run a fixed network on a PNG/JPEG image (normalized as upstream: ImageNet mean/std) or a "
             "normalized float32 N x C x H x W NumPy array"},
    {.flag = "--bench", .bit = CLI_BENCH, .plan = "NET.plan", .run = mode_bench,
     .help = "batch-1 latency: warm-up, then min/median/mean/p90/p99, throughput, GMAC/s, memory"},
    {.flag = "--bench", .with = "--train", .bit = CLI_BENCH_TRAIN, .plan = "NET.plan", .run = mode_bench_train,
     .help = "the time of a training step (forward, loss, backward, SGD) on random data"},
    {.flag = "--train", .bit = CLI_TRAIN, .plan = "NET.plan", .needs = {{"--data", need_data}}, .run = mode_train,
     .help = "train a fixed network (SGD, momentum and weight decay from the plan's train block); "
             "evaluates after every epoch; checkpoints and log in --out RUNDIR"},
    {.flag = "--eval", .bit = CLI_EVAL, .plan = "NET.plan",
     .needs = {{"--data", need_data}, {"--weights", "--eval needs --weights W.pth|W.safetensors"}}, .run = mode_eval,
     .help = "per-class IoU, mIoU, category mIoU and pixel accuracy on the val split (cityscapesScripts' "
             "definitions)"},
    {.flag = "--search", .bit = CLI_SEARCH, .plan = "SPACE.plan", .needs = {{"--data", need_data}}, .run = mode_search,
     .help = "resource-aware supernet search: weights by SGD, architecture parameters by Adam, Gumbel-"
             "softmax mixing with the temperature annealed as the plan's search block says, resource "
             "loss alpha * expected cost, pruning; then samples --samples architectures, scores them on "
             "--derive-val val images, writes pareto.csv/.json/.svg, arch.svg, derived.sqn"},
    {.flag = "--profile", .bit = CLI_PROFILE, .plan = "SPACE.plan", .needs = {{"-o", "--profile needs -o lut.json"}},
     .run = mode_profile, .help = "measure every candidate of a space (batch 1, inference) into a latency table (-o)"},
    {.flag = "--check-step", .arg = "DIR", .field = CLI_FIELD(check_step, const char *), .bit = CLI_CHECK_STEP,
     .plan = "PLAN", .needs = {{"--dump", "--check-step needs --dump OUTDIR"}}, .run = mode_check_step,
     .help = "one training step on DIR/input.npy, labels.npy (and mix_weights.npy for a supernet)"},
    {.flag = "--export-onnx", .arg = "OUT.onnx", .field = CLI_FIELD(export_onnx, const char *), .bit = CLI_EXPORT_ONNX,
     .plan = "NET.plan", .needs = {{"--weights", "--export-onnx needs --weights FILE (.pth or .safetensors)"}},
     .run = mode_export_onnx,
     .help = "write the network with its weights as ONNX (for TensorRT, ONNX Runtime, OpenCV; docs/deploy.md)"},
    {.flag = "--export-pth", .arg = "OUT.pth", .field = CLI_FIELD(export_pth, const char *), .bit = CLI_EXPORT_PTH,
     .plan = "NET.plan", .needs = {{"--weights", "--export-pth needs --weights FILE (.pth or .safetensors)"}},
     .run = mode_export_pth,
     .help = "write the weights as a PyTorch state_dict (zip format, upstream's names) for torch.load"},
    {.flag = "--report", .arg = "RUNDIR", .field = CLI_FIELD(report_dir, const char *), .bit = CLI_REPORT,
     .run = mode_report,
     .help = "write RUNDIR/report.html: curves, candidate probabilities, pareto front, architecture (no plan)"},
    {.flag = "--make-synthetic", .arg = "DIR", .field = CLI_FIELD(make_dir, const char *), .bit = CLI_MAKE_SYNTHETIC,
     .run = mode_make_synthetic, .help = "write the synthetic street scenes in the Cityscapes layout (no plan)"},
};

static int run(int argc, char **argv) {
  CliArgs a;
  const CliMode *m;
  int rc = cli_parse(argc, argv, modes, (int)(sizeof modes / sizeof modes[0]), &a, &m);
  if (rc >= 0) return rc;
  if (!m->plan) return m->run(NULL, &a);
  char err[512];
  Plan *p = plan_read_file(a.plan, err, sizeof err);
  if (!p) return fprintf(stderr, "sqnrun: %s: %s\n", a.plan, err), 1;
  rc = m->run(p, &a);
  plan_free(p);
  return rc;
}

/* First the OpenMP wait policy (omp_wait.h: may re-execute once). Under mpirun (docs/distributed.md) rank 0 prints
   the results; a rank that fails stops the whole job, since the others may be waiting for it in a collective. */
/* Where the build machine had AVX2 and FMA, sqncpu is compiled for x86-64-v3 (runtime/cpu/CMakeLists.txt): on a
   CPU without them its first instruction would end the process with SIGILL, so this (baseline code) checks first.
   SQN_CPU_PRETEND=x86-64 plays such a CPU, for the test. */
static bool cpu_can_run_kernels(void) {
#if defined(SQN_CPU_BUILT_FOR_AVX2) && (defined(__x86_64__) || defined(__i386__))
  const char *pretend = getenv("SQN_CPU_PRETEND");
  __builtin_cpu_init();
  if ((pretend && !strcmp(pretend, "x86-64")) || !__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
    fprintf(stderr, "sqnrun: this build's CPU kernels need AVX2 and FMA (x86-64-v3), and this CPU has not both\n"
                    "  hint: build sqn on this machine, or with `cmake -DSQN_AVX2=OFF` for any x86-64 CPU\n");
    return false;
  }
#endif
  return true;
}

int main(int argc, char **argv) {
  if (!cpu_can_run_kernels()) return 1;
  omp_wait_choose(argv);
  dist_init(&argc, &argv);
  if (dist_rank() != 0 && !freopen("/dev/null", "w", stdout)) return 1;
  int rc = run(argc, argv);
  if (rc != 0 && dist_size() > 1) {
    fprintf(stderr, "sqnrun: rank %d of %d failed (exit status %d): stopping the job\n", dist_rank(), dist_size(), rc);
    dist_abort(rc);
  }
  dist_finalize();
  return rc;
}
