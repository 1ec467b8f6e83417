/* cli_options.c - sqnrun's options, one row each: name, type and the CliArgs field it fills (the macros
   check the field's C type against the type), the allowed range, the default, the modes that take it,
   and its usage and help text. Parsing, range checks, usage lines, --help and "did you mean" all come
   from these rows (cli_parse.c, cli_usage.c). A new option is one row here and its field in cli_args.h. */
#include "cli.h"

#define FLAG(f) CLI_FLAG, CLI_FIELD(f, bool)
#define INT(f) CLI_INT, CLI_FIELD(f, int)
#define LONG(f) CLI_LONG, CLI_FIELD(f, long)
#define NUMBER(f) CLI_NUMBER, CLI_FIELD(f, double)
#define STRING(f) CLI_STRING, CLI_FIELD(f, const char *)
#define CHOICE(f) CLI_CHOICE, CLI_FIELD(f, const char *)
#define HW(f) CLI_HW, CLI_FIELD(f, Shape)
#define CHW(f) CLI_CHW, CLI_FIELD(f, Shape)
#define LIST(f) CLI_LIST, CLI_FIELD(f, CliList)

/* Groups of modes. */
#define BENCHES (CLI_BENCH | CLI_BENCH_TRAIN)
#define TIMED (BENCHES | CLI_PROFILE)
#define TRAINS (CLI_TRAIN | CLI_SEARCH)
#define DATA (TRAINS | CLI_EVAL)
#define EXPORTS (CLI_EXPORT_ONNX | CLI_EXPORT_PTH)
#define RUNS (CLI_INFER | TIMED | DATA | CLI_CHECK_STEP | EXPORTS)
#define MILLION 1000000

const CliOption cli_options[] = {
    /* name, type and field, min, max, default (of a number), modes, its value in usage lines; help */
    {"--weights", STRING(weights), 0, 0, 0, RUNS, "W",
     "PyTorch .pth (legacy or zip) or safetensors with upstream's state_dict names (--bench, --profile and "
     "--train without it: the reference initialization)"},
    {"--backend", STRING(backend), 0, 0, 0, RUNS & ~EXPORTS, "NAME",
     "cpu (default) or cuda (an NVIDIA GPU; the plan must carry GPU kernels: sqnc --target sm_XY)"},
    {"--threads", INT(threads), 0, 1024, -1, RUNS & ~(CLI_CHECK_STEP | EXPORTS), "N",
     "CPU threads (default: all cores)"},
    {"--json", FLAG(json), 0, 0, 0, CLI_INFO | BENCHES | CLI_EVAL, NULL,
     "--info, --bench, --eval: print one JSON object instead"},
    {"-o", STRING(output), 0, 0, 0, CLI_INFER | CLI_PROFILE, "FILE",
     "--infer: the prediction as a PNG in the Cityscapes palette; --profile: the latency table (lut.json)"},
    {"--labels", STRING(labels_png), 0, 0, 0, CLI_INFER, "IDS.png",
     "write the train ids as a gray PNG"},
    {"--logits", STRING(logits), 0, 0, 0, CLI_INFER, "OUT.npy",
     "write the float32 logits (N x classes x H x W)"},
    {"--argmax", STRING(argmax), 0, 0, 0, CLI_INFER, "OUT.npy",
     "write the per-pixel class (uint8, N x H x W)"},
    {"--tap", LIST(taps), 0, 0, 0, CLI_INFER, "OP_NAME=OUT.npy",
     "also write the output of the op named OP_NAME (e.g. decoder.add; up to 8)"},
    {"--input", CHW(input_shape), 1, 65536, 0, TIMED | CLI_EXPORT_ONNX, "CxHxW",
     "the input size (default: the compiled one)"},
    {"--opset", INT(opset), 13, 18, 17, CLI_EXPORT_ONNX, "N",
     "--export-onnx: the ONNX opset (13 to 18, default 17)"},
    {"--keep-bn", FLAG(keep_bn), 0, 0, 0, CLI_EXPORT_ONNX, NULL,
     "--export-onnx: BatchNormalization nodes instead of BN folded into the convs"},
    {"--iters", INT(iters), 1, MILLION, 20, TIMED, "N",
     "timed runs (default 20; --profile: passes per candidate)"},
    {"--warmup", INT(warmup), 0, MILLION, 3, TIMED, "N",
     "untimed runs first (default 3)"},
    {"--profile-ops", FLAG(profile_ops), 0, 0, 0, BENCHES, NULL,
     "also time every op and show where the time goes"},
    {"--no-fuse", FLAG(no_fuse), 0, 0, 0, CLI_BENCH | CLI_INFER, NULL,
     "no run-time fusions (op-by-op inverted residuals, class ids from the full logits): for comparisons"},
    {"--classes", FLAG(classes), 0, 0, 0, CLI_BENCH, NULL,
     "time runs that output class ids (as --infer -o does: the final upsampling fused with the argmax)"},
    {"--data", STRING(data), 0, 0, 0, DATA, "DIR|synthetic",
     "Cityscapes layout (leftImg8bit/, gtFine/ with *_labelIds.png), or 'synthetic': street scenes "
     "generated on the fly"},
    {"--synthetic-size", HW(synth_size), 1, 16384, 0, DATA, "HxW",
     "the size of synthetic images (default: the network's input size)"},
    {"--synthetic-train", INT(synth_train), 0, MILLION, 400, TRAINS, "N",
     "synthetic training images (default 400)"},
    {"--synthetic-val", INT(synth_val), 0, MILLION, 40, DATA, "M",
     "synthetic validation images (default 40)"},
    {"--out", STRING(run_dir), 0, 0, 0, TRAINS, "RUNDIR",
     "the run folder: last/best checkpoints (.safetensors + .json run state) and log.jsonl (default "
     "run-NETWORK, search-SPACE)"},
    {"--epochs", INT(epochs), 1, MILLION, 0, TRAINS, "N",
     "epochs (default: the plan's)"},
    {"--batch", INT(batch), 0, 4096, 0, TRAINS | CLI_BENCH_TRAIN, "B",
     "images per step (default: the plan's; --bench --train: 2)"},
    {"--crop", HW(crop), 1, 16384, 0, TRAINS, "HxW",
     "training crop (default: the plan's)"},
    {"--lr", NUMBER(lr), 0, MILLION, -1, TRAINS, "X",
     "learning rate (default: the plan's)"},
    {"--seed", LONG(seed), 0, 0, 1, DATA, "S",
     "initialization, shuffling, augmentation, synthetic scenes (default 1)"},
    {"--resume", FLAG(resume), 0, 0, 0, TRAINS, NULL,
     "continue the run in --out RUNDIR from its last checkpoint (same result as never stopping)"},
    {"--overwrite", FLAG(overwrite), 0, 0, 0, TRAINS, NULL,
     "--out RUNDIR holds an earlier run: remove its files (log, checkpoints, derived network, report) and start "
     "anew"},
    {"--stop-after", INT(stop_after), 0, MILLION, 0, TRAINS, "N",
     "end after N epochs of this invocation (continue later with --resume)"},
    {"--max-steps", INT(max_steps), 0, MILLION, 0, TRAINS, "N",
     "at most N steps per epoch"},
    {"--val-limit", INT(val_limit), 0, MILLION, 0, CLI_TRAIN | CLI_EVAL, "N",
     "evaluate at most N validation images"},
    {"--freeze-bn", FLAG(freeze_bn), 0, 0, 0, CLI_TRAIN, NULL,
     "batch norm uses and keeps its running statistics (fine-tuning with small batches)"},
    {"--workers", INT(workers), 0, 64, 2, DATA, "N",
     "data loader threads (default 2)"},
    {"--objective", CHOICE(objective), 0, 0, 0, CLI_SEARCH, "macs|params|latency",
     "override the plan's search objective (latency needs --lut)"},
    {"--lut", STRING(lut), 0, 0, 0, CLI_SEARCH, "lut.json",
     "latency table for objective latency, measured by --profile"},
    {"--alpha", NUMBER(alpha), 0, MILLION, -1, CLI_SEARCH, "X",
     "weight of the resource loss (default: the plan's)"},
    {"--arch-lr", NUMBER(arch_lr), 0, MILLION, -1, CLI_SEARCH, "X",
     "Adam's learning rate for the architecture parameters (default: the plan's)"},
    {"--warmup-epochs", INT(warmup_epochs), 0, MILLION, -1, CLI_SEARCH, "N",
     "epochs that train only the weights (default: the plan's)"},
    {"--samples", INT(samples), 0, MILLION, -1, CLI_SEARCH, "N",
     "architectures to sample and score (default: the plan's)"},
    {"--derive-val", INT(derive_val), 0, MILLION, 20, CLI_SEARCH, "N",
     "val images to score them on (default 20)"},
    {"--target-macs", NUMBER(target_macs), 0, MILLION, 0, CLI_SEARCH, "G",
     "pick the best derived network under G GMACs"},
    {"--target-ms", NUMBER(target_ms), 0, MILLION, 0, CLI_SEARCH, "M",
     "pick the best derived network under M ms (needs --lut)"},
    {"--dump", STRING(dump), 0, 0, 0, CLI_CHECK_STEP, "OUTDIR",
     "gets loss, logits and every gradient as .npy under state_dict names"},
    {"--train", INT(make_train), 0, MILLION, 200, CLI_MAKE_SYNTHETIC, "N",
     "with --make-synthetic: training images (default 200)"},
    {"--val", INT(make_val), 0, MILLION, 50, CLI_MAKE_SYNTHETIC, "M",
     "with --make-synthetic: validation images (default 50)"},
    {"--size", HW(make_size), 16, 8192, 0, CLI_MAKE_SYNTHETIC, "HxW",
     "with --make-synthetic: image size (default 256x512)"},
    {"--seed", INT(make_seed), 0, 0x7fffffff, 1, CLI_MAKE_SYNTHETIC, "S",
     "with --make-synthetic: the scenes' seed (default 1)"},
    {"--help", CLI_HELP, 0, 0, 0, 0, CLI_ANY, NULL,
     "this text"},
    {"-h", CLI_HELP, 0, 0, 0, 0, CLI_ANY, NULL, NULL},
    {"--version", CLI_VERSION, 0, 0, 0, 0, CLI_ANY, NULL,
     "the version and the plan format it reads"},
};
const int cli_noptions = (int)(sizeof cli_options / sizeof cli_options[0]);

const CliRequire cli_requires[] = {
    {"--target-ms", NULL, "--lut",
     "--target-ms needs --lut lut.json: the latency of the derived networks comes from the table "
     "`sqnrun SPACE.plan --profile -o lut.json` measures", false},
    {"--overwrite", NULL, "--resume", "--overwrite and --resume contradict each other: --resume continues the run "
     "in --out, --overwrite replaces it", true},
    {"--objective", "latency", "--lut",
     "--objective latency needs --lut lut.json: the latency table `sqnrun SPACE.plan --profile -o lut.json` "
     "measures", false},
};
const int cli_nrequires = (int)(sizeof cli_requires / sizeof cli_requires[0]);
