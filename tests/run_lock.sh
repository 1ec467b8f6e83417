#!/usr/bin/env bash
# run_lock.sh SQNRUN PLAN WORKDIR - two runs given the same --out: the second stops at once with a
# message naming the folder and the first run's process, and the first finishes undisturbed.
set -u
sqnrun=$1 plan=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
common=(--data synthetic --synthetic-size 64x128 --synthetic-train 8 --synthetic-val 2 --batch 4 --crop 64x64 --workers 2)
fail() { echo "run_lock.sh: $*" >&2; exit 1; }

"$sqnrun" "$plan" --train "${common[@]}" --epochs 6 --out "$work/run" >"$work/first.out" 2>&1 &
first=$!
for _ in $(seq 300); do [ -s "$work/run/.sqnrun.lock" ] && break; sleep 0.05; done
[ -s "$work/run/.sqnrun.lock" ] || fail "the first run did not lock its folder"
out=$("$sqnrun" "$plan" --train "${common[@]}" --epochs 1 --out "$work/run" 2>&1)
status=$?
echo "$out"
wait "$first" || fail "the first run failed: $(tail -n 3 "$work/first.out")"
[ "$status" = 1 ] || fail "the second run exited with $status, expected 1"
echo "$out" | grep -q "the run folder $work/run is in use by another sqnrun (process $first)" || fail "no clear message"
[ "$(grep -c '"type": "epoch"' "$work/run/log.jsonl")" = 6 ] || fail "the first run's log was disturbed"
echo "second run refused while the first held the folder"
