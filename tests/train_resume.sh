#!/bin/sh
# train_resume.sh SQNRUN PLAN WORKDIR: a run interrupted after one epoch and resumed reaches exactly
# the weights, optimizer state and run state of an uninterrupted run with the same seed.
set -eu
sqnrun=$1 plan=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
common="--data synthetic --synthetic-size 64x128 --synthetic-train 12 --synthetic-val 3 --batch 4 --crop 64x64 --seed 5 --workers 2"
"$sqnrun" "$plan" --train $common --epochs 3 --out "$work/straight"
"$sqnrun" "$plan" --train $common --epochs 3 --out "$work/resumed" --stop-after 1
test "$(grep -c '"type": "epoch"' "$work/resumed/log.jsonl")" = 1
"$sqnrun" "$plan" --train $common --epochs 3 --out "$work/resumed" --resume
cmp "$work/straight/last.safetensors" "$work/resumed/last.safetensors"
cmp "$work/straight/last.safetensors.json" "$work/resumed/last.safetensors.json"
test "$(grep -c '"type": "epoch"' "$work/resumed/log.jsonl")" = 3
echo "resumed run identical to the uninterrupted one"
