#!/bin/sh
# gpu_golden.sh PROBE SQNC SQNRUN COMPARE REF OUT NET [SQNC ARGS...]: the published NET weights on upstream's
# 1x3x784x1568 input through sqnrun --backend cuda reproduce upstream's logits (every 4th pixel, 1e-3), the
# decoder output before the last upsampling (1e-4) and the argmax (>= 99.99% of pixels): the CPU goldens'
# bounds, since the CUDA backend computes in float32 (cuDNN's FMA math, no TF32).
# Exits 77 (skipped) without a GPU or without the reference data.
probe=$1 sqnc=$2 sqnrun=$3 compare=$4 ref=$5 out=$6 net=$7
shift 7
"$probe" >/dev/null 2>&1 || { echo "SKIP: $("$probe" 2>&1)"; exit 77; }
[ -f "$ref/weights/$net.pth" ] || { echo "SKIP: $ref not found (the shared reference data)"; exit 77; }
mkdir -p "$out" || exit 1
p="$out/$net.cuda"
"$sqnc" "$(dirname "$0")/../examples/$net.sqn" "$@" --target sm_72,sm_75,sm_80,sm_86,sm_90 -q -o "$p.plan" || exit 1
"$sqnrun" "$p.plan" --backend cuda --weights "$ref/weights/$net.pth" --infer "$ref/input_1x3x784x1568.npy" \
  --logits "$p.logits.npy" --argmax "$p.argmax.npy" --tap "decoder.add=$p.os8.npy" || exit 1
"$compare" logits "$p.logits.npy" "$ref/$net.logits_sub4.npy" 4 1e-3 &&
  "$compare" logits "$p.os8.npy" "$ref/$net.logits_os8.npy" 1 1e-4 &&
  "$compare" argmax "$p.argmax.npy" "$ref/$net.argmax.npy" 0.9999
