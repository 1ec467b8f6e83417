#!/bin/bash
# gpu_dist.sh SQNRUN NET.plan SPACE.plan WORKDIR: data-parallel training and search on the CUDA backend under mpirun
# (docs/distributed.md) against one CUDA process with the same global batch and seed: --train on 2 ranks (batch 4) and
# --search on 2 ranks (batch 4), with the tolerances of dist_mpi.sh (losses 1e-5 absolute over the steps compared,
# every float32 tensor after one step 1e-4 * (1 + |value|)). On a machine with one GPU both ranks share it, so the
# gradients go through the host (NCCL needs one GPU per rank) and the run says so; with two GPUs they go through
# NCCL; SQN_DIST_GPU=host is checked as well. SyncBN, the loss scaling and rank 0's weights run on the GPU either way.
# Exits 77 (skipped) without a GPU, mpirun or python3.
set -u
sqnrun=$1 plan=$2 space=$3 work=$4 probe=$5
here=$(dirname "$0")
"$probe" >/dev/null || { echo "SKIP: no GPU ($("$probe"))"; exit 77; }
. "$here/mpi_env.sh"
data="--data synthetic --synthetic-size 64x128 --synthetic-val 3 --crop 64x64 --workers 1 --threads 1 --backend cuda"

t1="$plan --train $data --synthetic-train 8 --seed 5 --epochs 1 --max-steps 1 --lr 0.001 --batch 4"
"$sqnrun" $t1 --out "$work/train1" >/dev/null 2>&1 || fail "one-process CUDA train"
mpi 2 "$sqnrun" $t1 --out "$work/train2" >"$work/train2.log" 2>&1 || fail "2-rank CUDA train: $(tail -5 "$work/train2.log")"
grep -q "gradients summed" "$work/train2.log" || fail "the 2-rank run did not say how it sums: $(tail -5 "$work/train2.log")"
grep "gradients summed" "$work/train2.log"
cmpruns "$work/train1" "$work/train2"
SQN_DIST_GPU=host mpi 2 -x SQN_DIST_GPU "$sqnrun" $t1 --out "$work/train2h" >"$work/train2h.log" 2>&1 ||
  fail "2-rank CUDA train through the host: $(tail -5 "$work/train2h.log")"
grep -q "through the host (MPI), not NCCL: SQN_DIST_GPU=host" "$work/train2h.log" || fail "SQN_DIST_GPU=host was not honoured"
cmpruns "$work/train1" "$work/train2h"

s="$space --search $data --synthetic-train 8 --seed 3 --epochs 1 --max-steps 1 --warmup-epochs 0 --samples 2 --derive-val 1 --batch 4 --lr 0.001"
"$sqnrun" $s --out "$work/search1" >/dev/null 2>&1 || fail "one-process CUDA search"
mpi 2 "$sqnrun" $s --out "$work/search2" >"$work/search2.log" 2>&1 || fail "2-rank CUDA search: $(tail -5 "$work/search2.log")"
cmpruns "$work/search1" "$work/search2"
echo "CUDA data-parallel runs equal one process"
