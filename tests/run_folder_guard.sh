#!/usr/bin/env bash
# run_folder_guard.sh SQNRUN PLAN WORKDIR - a run folder that already holds a run is never mixed with a
# new one: a plain second run is refused (files untouched, message names them and the way out),
# --overwrite replaces only the run's files (a user's own file stays), --overwrite with --resume is a
# usage error, and a run that saved no checkpoint is not offered --resume.
set -u
sqnrun=$1 plan=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
common=(--data synthetic --synthetic-size 64x128 --synthetic-train 2 --synthetic-val 1 --batch 2 --crop 64x64
        --epochs 1 --max-steps 1 --out "$work/run")
fail() { echo "run_folder_guard.sh: $*" >&2; exit 1; }

"$sqnrun" "$plan" --train "${common[@]}" >"$work/first.out" 2>&1 || fail "the first run failed: $(tail -n 3 "$work/first.out")"
cp "$work/run/last.safetensors" "$work/first.safetensors"
echo "my notes" >"$work/run/notes.txt"

out=$("$sqnrun" "$plan" --train "${common[@]}" --seed 7 2>&1); status=$?
echo "$out"
[ "$status" = 1 ] || fail "a second run into the same folder exited with $status, expected 1"
echo "$out" | grep -q "the run folder $work/run already holds a run (log.jsonl, last.safetensors.*): continue it with --resume, replace it with --overwrite, or give this run another --out" ||
  fail "no clear refusal"
cmp -s "$work/run/last.safetensors" "$work/first.safetensors" || fail "the refused run changed last.safetensors"
[ "$(grep -c '"type": "run"' "$work/run/log.jsonl")" = 1 ] || fail "the refused run wrote to log.jsonl"

out=$("$sqnrun" "$plan" --train "${common[@]}" --overwrite --resume 2>&1); status=$?
[ "$status" = 2 ] || fail "--overwrite --resume exited with $status, expected 2"
echo "$out" | grep -q -- "--overwrite and --resume contradict each other" || fail "no message for --overwrite --resume: $out"

"$sqnrun" "$plan" --train "${common[@]}" --seed 7 --overwrite >"$work/second.out" 2>&1 ||
  fail "--overwrite failed: $(tail -n 3 "$work/second.out")"
[ "$(grep -c '"type": "run"' "$work/run/log.jsonl")" = 1 ] || fail "--overwrite kept the old log's lines"
grep -q '"seed": 7' "$work/run/log.jsonl" || fail "the log is not the new run's"
! cmp -s "$work/run/last.safetensors" "$work/first.safetensors" || fail "--overwrite left the old checkpoint"
[ "$(cat "$work/run/notes.txt")" = "my notes" ] || fail "--overwrite removed a file that is not the run's"

rm -f "$work/run/last.safetensors" "$work/run/last.safetensors.json"
out=$("$sqnrun" "$plan" --train "${common[@]}" 2>&1); status=$?
[ "$status" = 1 ] || fail "a run into a folder without checkpoint exited with $status, expected 1"
echo "$out" | grep -q "already holds a run (log.jsonl.*) that saved no checkpoint: replace it with --overwrite" ||
  fail "no clear message for a run without checkpoint: $out"
echo "a run folder holding a run: refused, replaced with --overwrite (other files kept), --resume offered only with a checkpoint"
