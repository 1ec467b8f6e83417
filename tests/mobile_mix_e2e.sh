#!/bin/sh
# mobile_mix_e2e.sh SQNC SQNRUN REPO WORKDIR: the mixed space of spaces/mobile_mix.sqn (SqueezeNAS
# candidates with ShuffleNetV2, Ghost and MobileNetV3 blocks, all .sqn) end to end from the command
# line: compile the supernet, search, derive, compile the derived network, train it a step, evaluate
# it; and the hand-picked network that uses every new kind trains a step and evaluates.
set -eu
sqnc=$1 sqnrun=$2 repo=$3 work=$4
rm -rf "$work" && mkdir -p "$work"
"$sqnc" "$repo/spaces/mobile_mix.sqn" --name mobile_mix --input 3x64x128 -q -o "$work/space.plan"
"$sqnrun" "$work/space.plan" --info | grep -q "(every superblock, 18) .*shuffle_unit_k_3, ghost_bottleneck_k_3_e_3, .*mbv3_k_5_e_6"
data="--data synthetic --synthetic-size 64x128 --synthetic-train 4 --synthetic-val 2 --batch 2 --crop 64x128 --seed 5"
"$sqnrun" "$work/space.plan" --search $data --epochs 2 --warmup-epochs 1 --samples 3 --derive-val 2 --out "$work/search"
test -s "$work/search/derived.sqn" && test -s "$work/search/space/mobile_mix.sqn"
"$sqnc" "$work/search/derived.sqn" --input 3x64x128 -q -o "$work/derived.plan"
"$sqnrun" "$work/derived.plan" --train $data --epochs 1 --max-steps 1 --out "$work/train"
"$sqnrun" "$work/derived.plan" --eval $data --weights "$work/train/last.safetensors" --json | grep -q '"miou"'
"$sqnc" "$repo/spaces/mobile_mix.sqn" --name mobile_pick --input 3x64x128 -q -o "$work/pick.plan"
"$sqnrun" "$work/pick.plan" --info | grep -q "2: ghost_bottleneck_k_3_e_3"
"$sqnrun" "$work/pick.plan" --train $data --epochs 1 --max-steps 1 --out "$work/pick"
"$sqnrun" "$work/pick.plan" --eval $data --weights "$work/pick/last.safetensors" --json | grep -q '"miou"'
# any network of the space can start from the search's supernet weights (its candidates' tensors)
"$sqnrun" "$work/pick.plan" --eval $data --weights "$work/search/last.safetensors" --json | grep -q '"miou"'
echo "mobile_mix: search -> derive -> compile -> train -> eval: ok; mobile_pick trains and evaluates"
