#!/bin/sh
# search_e2e.sh SQNC SQNRUN REPO WORKDIR: the main job in miniature, end to end from the command line:
# compile a search space, search (with a warm-up epoch, pruning and resume), derive a network, compile
# it, train it a step, evaluate it; and a search interrupted after one epoch and resumed ends with
# exactly the state of an uninterrupted one.
set -eu
sqnc=$1 sqnrun=$2 repo=$3 work=$4
rm -rf "$work" && mkdir -p "$work"
"$sqnc" "$repo/spaces/small_quick.sqn" --input 3x64x128 -q -o "$work/space.plan"
data="--data synthetic --synthetic-size 64x128 --synthetic-train 4 --synthetic-val 2 --batch 2 --crop 64x128 --seed 3"
run="--epochs 3 --warmup-epochs 1 --samples 3 --derive-val 2"
"$sqnrun" "$work/space.plan" --search $data $run --out "$work/search"
for f in derived.sqn arch.svg pareto.csv pareto.json pareto.svg last.safetensors log.jsonl; do
  test -s "$work/search/$f" || { echo "missing $work/search/$f"; exit 1; }
done
test "$(grep -c '"type": "epoch"' "$work/search/log.jsonl")" = 3
grep -q '"entropy"' "$work/search/log.jsonl"
"$sqnc" "$work/search/derived.sqn" --input 3x64x128 -q -o "$work/derived.plan"
"$sqnrun" "$work/derived.plan" --train $data --epochs 1 --max-steps 1 --out "$work/train"
"$sqnrun" "$work/derived.plan" --eval $data --weights "$work/train/last.safetensors" --json | grep -q '"miou"'
# weight inheritance: fine-tuning starts from the supernet's weights of the chosen candidates
grep -q -- "--weights last.safetensors" "$work/search/derived.sqn"
"$sqnrun" "$work/derived.plan" --train $data --epochs 1 --max-steps 1 --weights "$work/search/last.safetensors" --out "$work/inherited"
grep -q '"weights": ".*search/last.safetensors"' "$work/inherited/log.jsonl"
# resume: one epoch, then the rest, equals the uninterrupted search
"$sqnrun" "$work/space.plan" --search $data $run --out "$work/resumed" --stop-after 1
"$sqnrun" "$work/space.plan" --search $data $run --out "$work/resumed" --resume
cmp "$work/search/last.safetensors" "$work/resumed/last.safetensors"
cmp "$work/search/derived.sqn" "$work/resumed/derived.sqn"
echo "search -> derive -> compile -> train -> eval: ok; resumed search identical"
