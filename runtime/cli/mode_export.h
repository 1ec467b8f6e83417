/* mode_export.h - `sqnrun NET.plan --weights W --export-onnx OUT.onnx [--input CxHxW] [--opset N]
   [--keep-bn]` (mode_export_onnx.c) and `sqnrun NET.plan --weights W --export-pth OUT.pth`
   (mode_export_pth.c): a fixed network leaves sqnrun for other runtimes. */
#ifndef SQN_MODE_EXPORT_H
#define SQN_MODE_EXPORT_H
#include "cli_args.h"
#include "plan.h"

/* Return the process exit code: 0 ok, 1 a file or the export failed, 2 a search space was given. */
int mode_export_onnx(const Plan *p, const CliArgs *a);
int mode_export_pth(const Plan *p, const CliArgs *a);
#endif
