#!/usr/bin/env bash
# disk_full.sh SQNRUN PLAN WORKDIR - a checkpoint that cannot be written (the disk is full: here a
# file-size limit, `ulimit -f`, with SIGXFSZ ignored, so that writes fail with EFBIG as they would
# with ENOSPC) stops the run with a message naming the file, keeps the previous checkpoint intact
# and leaves no temporary; the run then resumes from that checkpoint to the same bytes as a run that
# never failed.
set -u
sqnrun=$1 plan=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
common=(--data synthetic --synthetic-size 64x128 --synthetic-train 8 --synthetic-val 2 --batch 4 --crop 64x64
        --seed 3 --workers 2)
fail() { echo "disk_full.sh: $*" >&2; exit 1; }

"$sqnrun" "$plan" --train "${common[@]}" --epochs 2 --out "$work/straight" >/dev/null 2>&1 || fail "the reference run failed"
"$sqnrun" "$plan" --train "${common[@]}" --epochs 2 --out "$work/full" --stop-after 1 >/dev/null 2>&1 || fail "epoch 1 failed"
cp "$work/full/last.safetensors" "$work/epoch1.safetensors"

# Epoch 2 with room for the log but not for a checkpoint (about 2 MB each): limit 512 KiB per file.
out=$( (trap '' XFSZ; ulimit -f 512; "$sqnrun" "$plan" --train "${common[@]}" --epochs 2 --out "$work/full" --resume) 2>&1)
status=$?
echo "$out"
[ "$status" = 1 ] || fail "exit status $status with a full disk, expected 1"
echo "$out" | grep -Eq "cannot write $work/full/(best|last)\.safetensors: File too large" ||
  fail "no message naming the checkpoint that could not be written"
echo "$out" | grep -q "the last good checkpoint is $work/full/last.safetensors (epoch 1)" ||
  fail "no message naming the last good checkpoint"
cmp "$work/epoch1.safetensors" "$work/full/last.safetensors" || fail "the previous checkpoint was changed"
[ "$(ls -a "$work/full" | grep -c '\.tmp\.')" = 0 ] || fail "temporaries left behind"

"$sqnrun" "$plan" --train "${common[@]}" --epochs 2 --out "$work/full" --resume >/dev/null 2>&1 || fail "resuming failed"
cmp "$work/straight/last.safetensors" "$work/full/last.safetensors" || fail "the resumed run differs from the reference"
echo "full disk: previous checkpoint kept, resumed to the reference bytes"
