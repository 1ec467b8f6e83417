#!/bin/sh
# gpu_train_cli.sh PROBE SQNC SQNRUN REPO WORK: training from the command line with --backend cuda, in
# miniature: a short search of spaces/small_quick.sqn (warm-up, pruning, derive), the derived network
# trained a step and evaluated, --bench --train and --check-step. Exits 77 (skipped) without a GPU.
set -eu
probe=$1 sqnc=$2 sqnrun=$3 repo=$4 work=$5
"$probe" >/dev/null 2>&1 || { echo "SKIP: no NVIDIA GPU/driver ($("$probe" 2>&1))"; exit 77; }
rm -rf "$work" && mkdir -p "$work"
targets="--target sm_72,sm_75,sm_80,sm_86,sm_90"
"$sqnc" "$repo/spaces/small_quick.sqn" --input 3x64x128 $targets -q -o "$work/space.plan"
data="--data synthetic --synthetic-size 64x128 --synthetic-train 4 --synthetic-val 2 --batch 2 --crop 64x128 --seed 3"
"$sqnrun" "$work/space.plan" --search $data --epochs 2 --warmup-epochs 1 --samples 2 --derive-val 2 \
  --backend cuda --out "$work/search"
for f in derived.sqn last.safetensors log.jsonl; do
  test -s "$work/search/$f" || { echo "missing $work/search/$f"; exit 1; }
done
"$sqnc" "$work/search/derived.sqn" --input 3x64x128 $targets -q -o "$work/derived.plan"
"$sqnrun" "$work/derived.plan" --train $data --epochs 1 --max-steps 2 --backend cuda --out "$work/train"
"$sqnrun" "$work/derived.plan" --eval $data --weights "$work/train/last.safetensors" --backend cuda --json | grep -q '"miou"'
"$sqnrun" "$work/derived.plan" --bench --train --batch 2 --input 3x64x128 --iters 2 --backend cuda --json | grep -q '"median_ms"'
echo "search, train, eval, bench --train on CUDA: ok"
