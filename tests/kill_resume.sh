#!/usr/bin/env bash
# kill_resume.sh SQNRUN PLAN WORKDIR [RANDOM_KILLS] - crash safety of training: a run killed with
# SIGKILL again and again, and resumed each time, ends with exactly the bytes of an uninterrupted run.
#
# First the kills land inside checkpoint writes, deterministically: SQN_FAULT=atomic-rename:K makes
# sqnrun kill itself at its Kth atomic rename (a temporary written, not yet renamed over best/last);
# then at random moments (RANDOM_KILLS of them, default 6, seeded by $SQN_KILL_SEED or the date, which
# is printed so a failure can be replayed). After every kill the run continues with --resume when a
# checkpoint exists, from scratch otherwise. At the end the checkpoints (weights, optimizer state,
# run state) must equal the uninterrupted run's byte for byte, the log must hold each step and epoch
# exactly once, and no temporary may be left.
set -u
sqnrun=$1 plan=$2 work=$3 kills=${4:-6}
seed=${SQN_KILL_SEED:-$(date +%s)}
RANDOM=$seed
echo "kill_resume.sh: random kills seeded with SQN_KILL_SEED=$seed"
rm -rf "$work" && mkdir -p "$work"
common=(--data synthetic --synthetic-size 64x128 --synthetic-train 16 --synthetic-val 3 --batch 4 --crop 64x64
        --seed 5 --workers 2 --epochs 8)
fail() { echo "kill_resume.sh: $*" >&2; exit 1; }

t0=$(date +%s%N)
"$sqnrun" "$plan" --train "${common[@]}" --out "$work/straight" >"$work/straight.out" 2>&1 ||
  fail "the uninterrupted run failed: $(tail -n 3 "$work/straight.out")"
run_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "uninterrupted run: ${run_ms} ms"

# One attempt at the killed run: resumes when there is a checkpoint. Prints sqnrun's exit status.
attempt() {
  local resume=()
  # a run killed before its first checkpoint has nothing to continue: it starts again (--overwrite)
  if [ -f "$work/killed/last.safetensors" ]; then resume=(--resume); else resume=(--overwrite); fi
  "$sqnrun" "$plan" --train "${common[@]}" --out "$work/killed" "${resume[@]}" >>"$work/killed.out" 2>&1 &
  local pid=$!
  if [ -n "${1:-}" ]; then sleep "$1"; kill -9 "$pid" 2>/dev/null; fi
  wait "$pid"
  echo $?
}

# Inside checkpoint writes: each process dies at its Kth rename (best, best.json, last, last.json, ...).
for k in 1 3 4 2 6; do
  status=$(SQN_FAULT=atomic-rename:$k attempt)
  echo "killed at atomic rename $k: exit status $status"
  [ "$status" = 137 ] || [ "$status" = 0 ] || fail "attempt with SQN_FAULT=atomic-rename:$k exited with $status: $(tail -n 3 "$work/killed.out")"
done
# At random moments of a run (one that resumes part way through is shorter than run_ms).
for i in $(seq "$kills"); do
  ms=$(( run_ms / 20 + RANDOM % (run_ms * 3 / 10 + 1) ))
  status=$(attempt "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))")
  echo "killed after ${ms} ms: exit status $status"
  [ "$status" = 137 ] || [ "$status" = 0 ] || fail "attempt $i exited with $status: $(tail -n 3 "$work/killed.out")"
done
status=$(attempt)
[ "$status" = 0 ] || fail "the final resume exited with $status: $(tail -n 3 "$work/killed.out")"

for f in last.safetensors last.safetensors.json best.safetensors best.safetensors.json; do
  cmp "$work/straight/$f" "$work/killed/$f" || fail "$f differs from the uninterrupted run's"
done
for type in step epoch; do
  a=$(grep -c "\"type\": \"$type\"" "$work/straight/log.jsonl") b=$(grep -c "\"type\": \"$type\"" "$work/killed/log.jsonl")
  [ "$a" = "$b" ] || fail "log.jsonl has $b $type lines, the uninterrupted run's $a"
done
left=$(ls -a "$work/killed" | grep -c '\.tmp\.')
[ "$left" = 0 ] || fail "$left temporaries left in $work/killed"
echo "killed and resumed run identical to the uninterrupted one"
