#!/usr/bin/env bash
# bench/infer_gpu.sh - GPU inference benchmark: batch-1 latency of the six published SqueezeNAS nets at
# 1024x2048, sqnrun --backend cuda vs PyTorch eager on the same GPU, same weights and input (the CPU
# benchmark's script with --device cuda; its options apply, e.g. --target sm_90 --iters 20).
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec bash "$here/infer_cpu.sh" --device cuda --sizes 1024x2048 --iters 20 --warmup 3 "$@"
