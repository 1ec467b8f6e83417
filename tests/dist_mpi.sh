#!/bin/bash
# dist_mpi.sh SQNRUN NET.plan SPACE.plan WORKDIR: data-parallel sqnrun under mpirun (docs/distributed.md) against one
# process with the same global batch and seed: --train on 2 ranks (batch 4) and 3 ranks (batch 6, and batch 4: uneven
# shards), --search on 2 and 3 ranks (batch 6) and on 2 ranks with batch 5, a run stopped on 2 ranks and resumed on 3,
# a batch smaller than the ranks, and a rank killed with
# SIGKILL (the job stops within 60 s with a message, the last checkpoint still resumes). Exits 77 (skipped) without
# mpirun or python3.
# Tolerances: per-step losses 1e-5 absolute, every float32 tensor of last.safetensors (weights, SyncBN's running
# statistics, theta, momentum and Adam state) 1e-4 * (1 + |value|): float32 sums in another order (each rank's
# partial GEMMs and BN sums, then the all-reduce) differ in the last bits. The runs are kept to their first steps
# at --lr 0.001: at the plan's lr 0.05 these tiny networks take steps so large (gradient norm ~100) that the last
# bits grow to percent differences within two steps (measured: momentum 0.08 relative), as they would between two
# BLAS builds. Even at lr 0.001 the second step's gradients are not compared element-wise: after one update the
# weights differ in their last bits, and a ReLU input that lands within those bits of 0 (or 6) flips, which moves
# the gradient of the weights it feeds by its whole |x * dy| (measured: a depthwise weight's momentum 0.07 apart after
# two steps, 7e-6 after one). So --train compares the losses of two steps, and every tensor after one step.
set -u
sqnrun=$1 plan=$2 space=$3 work=$4
here=$(dirname "$0")
"$sqnrun" --help 2>&1 | grep -q . || exit 1
. "$here/mpi_env.sh"
data="--data synthetic --synthetic-size 64x128 --synthetic-val 3 --crop 64x64 --workers 1 --threads 1"

# --train: 2 ranks x 2 samples and 3 ranks x 2 samples against one process: the losses of 2 steps, every tensor after 1
t1="$plan --train $data --synthetic-train 12 --seed 5 --epochs 1 --max-steps 1 --lr 0.001"
t="$plan --train $data --synthetic-train 12 --seed 5 --epochs 1 --max-steps 2 --lr 0.001"
for run in "2 4" "3 6" "3 4"; do # 3 ranks with batch 4: shards of 1, 1 and 2 samples
  set -- $run
  [ -d "$work/train1_b$2_s1" ] || "$sqnrun" $t1 --batch $2 --out "$work/train1_b$2_s1" >/dev/null 2>&1 || fail "one-process train"
  mpi $1 "$sqnrun" $t1 --batch $2 --out "$work/train$1_b$2_s1" >/dev/null || fail "$1-rank train"
  cmpruns "$work/train1_b$2_s1" "$work/train$1_b$2_s1"
  [ -d "$work/train1_b$2" ] || "$sqnrun" $t --batch $2 --out "$work/train1_b$2" >/dev/null 2>&1 || fail "one-process train"
  mpi $1 "$sqnrun" $t --batch $2 --out "$work/train$1_b$2" >/dev/null || fail "$1-rank train"
  cmpruns "$work/train1_b$2" "$work/train$1_b$2" -
done

# --search: theta, its Adam state and the Gumbel noise per global sample
s="$space --search $data --synthetic-train 12 --seed 3 --epochs 1 --max-steps 1 --warmup-epochs 0 --samples 2 --derive-val 1 --batch 6 --lr 0.001"
"$sqnrun" $s --out "$work/search1" >/dev/null 2>&1 || fail "one-process search"
for np in 2 3; do
  mpi $np "$sqnrun" $s --out "$work/search$np" >/dev/null || fail "$np-rank search"
  cmpruns "$work/search1" "$work/search$np"
  test -s "$work/search$np/derived.sqn" || fail "no derived.sqn from the $np-rank search"
done
# the derivation's scoring is split over the ranks (rank r scores every N-th architecture) and gives the one-process
# scores (mIoU within 1e-3: the weights differ in their last bits) and the same pick. A warm-up epoch keeps theta
# uniform, so that every run samples the same architectures (after a theta step, near-ties between candidates
# could break differently on the last bits).
d="$space --search $data --synthetic-train 12 --seed 3 --epochs 1 --max-steps 1 --warmup-epochs 1 --samples 5 --derive-val 2 --batch 6 --lr 0.001"
"$sqnrun" $d --out "$work/derive1" >/dev/null 2>&1 || fail "one-process derivation"
for np in 2 3; do
  mpi $np "$sqnrun" $d --out "$work/derive$np" >"$work/derive$np.log" 2>&1 || fail "$np-rank derivation: $(tail -5 "$work/derive$np.log")"
  grep -q "split over the ranks" "$work/derive$np.log" || fail "the $np-rank derivation did not split its scoring"
  python3 - "$work/derive1/pareto.json" "$work/derive$np/pareto.json" <<'PY' || fail "$np-rank derivation scores differ"
import json, sys
a, b = (json.load(open(p))["architectures"] for p in sys.argv[1:3])
assert len(a) == len(b) and len(a) >= 4, (len(a), len(b))
for x, y in zip(a, b):
    assert x["candidates"] == y["candidates"] and abs(x["miou"] - y["miou"]) < 1e-3, (x, y)
assert [x["chosen"] for x in a] == [y["chosen"] for y in b]
print(f"derivation on {len(a)} architectures: max |mIoU difference| {max(abs(x['miou'] - y['miou']) for x, y in zip(a, b)):.2g}")
PY
done

# a search with uneven shards (2 ranks, batch 5: 2 and 3 samples): the Gumbel noise of each global sample as in one process
u="$space --search $data --synthetic-train 10 --seed 3 --epochs 1 --max-steps 1 --warmup-epochs 0 --samples 2 --derive-val 1 --batch 5 --lr 0.001"
"$sqnrun" $u --out "$work/search_u1" >/dev/null 2>&1 || fail "one-process search, batch 5"
mpi 2 "$sqnrun" $u --out "$work/search_u2" >/dev/null || fail "2-rank search, batch 5"
cmpruns "$work/search_u1" "$work/search_u2"

# every rank needs a sample of each batch
out=$(mpi 3 "$sqnrun" $t --batch 2 --out "$work/small" 2>&1) && fail "batch 2 on 3 ranks was accepted"
echo "$out" | grep -q "global batch 2 is smaller than the 3 processes" || fail "no clear message for batch 2 on 3 ranks: $out"

# resume with another number of ranks: 1 epoch on 2 ranks, the 2nd on 3, equals 2 epochs in one process
r="$plan --train $data --synthetic-train 12 --seed 7 --epochs 2 --max-steps 1 --batch 6 --lr 0.001"
"$sqnrun" $r --out "$work/straight" >/dev/null 2>&1 || fail "one-process run"
mpi 2 "$sqnrun" $r --out "$work/resumed" --stop-after 1 >/dev/null || fail "2-rank first epoch"
mpi 3 "$sqnrun" $r --out "$work/resumed" --resume >/dev/null || fail "3-rank resume"
cmpruns "$work/straight" "$work/resumed"

# a rank killed with SIGKILL stops the job (bounded time, a message) and the last checkpoint stays valid
k="$plan --train $data --synthetic-train 400 --seed 9 --epochs 50 --max-steps 20 --batch 2 --val-limit 2"
mpi 2 "$sqnrun" $k --out "$work/killed" >"$work/killed.log" 2>&1 &
job=$!
for _ in $(seq 600); do [ -s "$work/killed/last.safetensors" ] && break; sleep 0.1; done
[ -s "$work/killed/last.safetensors" ] || fail "no checkpoint after 60 s"
victim=""
for p in $(pgrep -f "out $work/killed"); do
  tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=1" && victim=$p
done
[ -n "$victim" ] || fail "rank 1 not found"
kill -9 "$victim"
start=$(date +%s)
wait $job && fail "the job went on after rank 1 was killed"
took=$(( $(date +%s) - start ))
[ "$took" -le 60 ] || fail "the job took $took s to stop"
grep -qiE "signal 9|killed|exited on signal" "$work/killed.log" || fail "no message about the killed rank: $(tail -5 "$work/killed.log")"
"$sqnrun" $k --out "$work/killed" --resume --stop-after 1 >/dev/null 2>&1 || fail "cannot resume from the last checkpoint"
echo "data-parallel runs equal one process's; the killed job stopped in $took s and resumed"
