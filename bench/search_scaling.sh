#!/usr/bin/env bash
# bench/search_scaling.sh - data-parallel scaling of the Small supernet's search step on one machine
# (docs/distributed.md): the same global batch searched by
#   1 process x 1 thread, 1 process x T threads, and N ranks x 1 thread (mpirun -np N), the last twice: with the
#   gradient sums overlapping the backward pass (SQN_DIST_BUCKET_MB=4, the default) and as one sum after it (65536),
#   each twice in the order A B B A and averaged,
# each a real `sqnrun --search` on the synthetic dataset (E epochs of S steps; the first epoch is the warm-up
# of the measurement, the rest timed from the log's epoch "seconds": steps plus the end-of-epoch pruning, no
# checkpoint writing). Prints seconds per step, the speed-up over 1 x 1 and N ranks against 1 x T threads.
# A benchmark, not a test: always exits 0. Default: spaces/small.sqn at 256x512, global batch 4, N = T = 2.
#
# usage: bench/search_scaling.sh [--size 256x512] [--batch 4] [--ranks 2] [--steps 3] [--epochs 3]
# environment: SQNC, SQNRUN (default $BUILD_DIR/{compiler/sqnc,runtime/sqnrun}; sqnrun must be built with MPI:
# `sqnrun --version` says so), BUILD_DIR (default build), PYTHON (default /usr/bin/python3).
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
PYTHON="${PYTHON:-/usr/bin/python3}"
BUILD_DIR="${BUILD_DIR:-$root/build}"
SQNC="${SQNC:-$BUILD_DIR/compiler/sqnc}"
SQNRUN="${SQNRUN:-$BUILD_DIR/runtime/sqnrun}"
size=256x512 batch=4 ranks=2 steps=3 epochs=3
while [ $# -gt 0 ]; do
  case "$1" in
    --size) size="$2"; shift 2 ;;
    --batch) batch="$2"; shift 2 ;;
    --ranks) ranks="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --epochs) epochs="$2"; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ {sub(/^# ?/, ""); print; next} NR > 1 {exit}' "$0"; exit 0 ;;
    *) echo "search_scaling.sh: unknown argument '$1'" >&2; exit 0 ;;
  esac
done
for tool in "$SQNC" "$SQNRUN"; do [ -x "$tool" ] || { echo "search_scaling.sh: no $tool (build first)"; exit 0; }; done
command -v mpirun >/dev/null || { echo "search_scaling.sh: SKIPPED: no mpirun (Debian: openmpi-bin libopenmpi-dev)"; exit 0; }
work=$(mktemp -d /tmp/sqn-scaling.XXXXXX)
trap 'rm -rf "$work"' EXIT
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
"$SQNC" "$root/spaces/small.sqn" --input "3x$size" -q -o "$work/small.plan" || exit 0
common=(--search --data synthetic --synthetic-size "$size" --synthetic-train $((batch * steps)) --synthetic-val 2
        --crop "$size" --batch "$batch" --epochs "$epochs" --max-steps "$steps" --warmup-epochs "$epochs"
        --samples 1 --derive-val 1 --workers 1 --seed 1)

# seconds per step over the epochs after the first, from RUNDIR/log.jsonl
per_step() {
  "$PYTHON" - "$1/log.jsonl" "$steps" <<'PY'
import json, sys
e = [j for j in map(json.loads, open(sys.argv[1])) if j.get("type") == "epoch"][1:]
print(f"{sum(x['seconds'] for x in e) / (len(e) * int(sys.argv[2])):.3f}" if e else "nan")
PY
}

run_one() { # NAME RANKS THREADS [BUCKET_MB]
  local out="$work/$1"
  export SQN_DIST_BUCKET_MB="${4:-4}"
  if [ "$2" = 1 ]; then
    "$SQNRUN" "$work/small.plan" "${common[@]}" --threads "$3" --out "$out" >"$out.log" 2>&1
  else
    mpirun --oversubscribe --bind-to none --mca btl self,vader -np "$2" -x SQN_DIST_BUCKET_MB \
      "$SQNRUN" "$work/small.plan" "${common[@]}" --threads "$3" --out "$out" >"$out.log" 2>&1
  fi || { echo "search_scaling.sh: $1 failed:"; tail -3 "$out.log"; echo nan; return; }
  per_step "$out"
}

echo "# Small supernet search step, ${size}, global batch ${batch}, ${steps} steps x $((epochs - 1)) timed epochs"
echo "# $(nproc) cores; OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; $("$SQNRUN" --version 2>&1 | head -1)"
t11=$(run_one r1t1 1 1)
t1n=$(run_one r1t$ranks 1 "$ranks")
# the two MPI variants in the order A B B A, averaged: on a noisy machine the run that comes later is often slower
ta=$(run_one r${ranks}t1a "$ranks" 1); tb=$(run_one r${ranks}t1enda "$ranks" 1 65536)
tc=$(run_one r${ranks}t1endb "$ranks" 1 65536); td=$(run_one r${ranks}t1b "$ranks" 1)
"$PYTHON" - "$t11" "$t1n" "$ta" "$tb" "$tc" "$td" "$ranks" <<'PY'
import sys
t11, t1n, ta, tb, tc, td, n = (*map(float, sys.argv[1:7]), int(sys.argv[7]))
tn1, tend = (ta + td) / 2, (tb + tc) / 2
print(f"# overlapped {ta:.3f} / {td:.3f} s/step, one sum after backward {tb:.3f} / {tc:.3f} s/step")
print(f"{'configuration':<44} {'s/step':>8} {'vs 1x1':>8}")
for name, t in ((f"1 process x 1 thread", t11), (f"1 process x {n} threads", t1n),
                (f"{n} ranks x 1 thread (MPI)", tn1), (f"{n} ranks x 1 thread, one sum after backward", tend)):
    print(f"{name:<44} {t:8.3f} {t11 / t:7.2f}x")
print(f"ratio: {n} ranks x 1 thread vs 1 process x {n} threads = {t1n / tn1:.2f}x (> 1: MPI faster)")
print(f"ratio: gradient sums overlapped vs one sum after backward = {tend / tn1:.2f}x (> 1: overlap faster)")
PY
exit 0
