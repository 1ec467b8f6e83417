#!/bin/sh
# report_runs.sh SQNRUN DIR: with DIR/space.plan (tests/data/tiny_latency.sqn) and DIR/net.plan (lat_small at
# 64x128): a short search and a short training each end by writing RUNDIR/report.html and printing its path;
# `sqnrun --report` writes it again; a report that cannot be written is only a warning. The long phases show
# their progress on stderr (not a terminal here: the bar when done, then "NAME: N done in X s"): the scoring
# of the derivation and --profile's passes. The browser test (report_browser.sh) loads the pages.
set -eu
sqnrun=$1 dir=$2
fail() { echo "report_runs.sh: $*" >&2; exit 1; }
data="--data synthetic --synthetic-size 64x128 --synthetic-train 8 --synthetic-val 2 --batch 4 --crop 64x64 --seed 3"
rm -rf "$dir/search" "$dir/train" "$dir/blocked"

# a search: 3 epochs of 2 steps, 5 samples
"$sqnrun" "$dir/space.plan" --search $data --objective macs --alpha 20 --epochs 3 --warmup-epochs 0 --max-steps 2 \
  --samples 5 --derive-val 2 --out "$dir/search" >"$dir/search.out" 2>"$dir/search.err" ||
  fail "the search failed: $(tail -n 3 "$dir/search.err")"
grep -Eq '^scoring architectures \[#{20}\] [0-9]+/[0-9]+ [0-9.]+ s, ETA 0m00s$' "$dir/search.err" || fail "no progress bar of the scoring on stderr"
grep -Eq '^scoring architectures: [0-9]+ done in [0-9.]+ s$' "$dir/search.err" || fail "no final line of the scoring on stderr"
! grep -q 'scoring architectures' "$dir/search.out" || fail "progress on stdout"
grep -qx "  report   $dir/search/report.html" "$dir/search.out" || fail "the search did not print its report's path"
test -s "$dir/search/report.html" || fail "no $dir/search/report.html"
test "$(grep -c '"type": "probs"' "$dir/search/log.jsonl")" = 3 || fail "not one probs line per epoch"
grep -q '"type": "run", "mode": "search"' "$dir/search/log.jsonl" || fail "no run line"
grep -q '"type": "derive", "seconds": ' "$dir/search/log.jsonl" || fail "no derive line"

# a training run: 3 epochs of 2 steps
"$sqnrun" "$dir/net.plan" --train $data --epochs 3 --max-steps 2 --out "$dir/train" >"$dir/train.out" 2>"$dir/train.err" ||
  fail "the training failed: $(tail -n 3 "$dir/train.err")"
grep -qx "report: $dir/train/report.html" "$dir/train.out" || fail "the training did not print its report's path"
grep -q '"type": "run", "mode": "train"' "$dir/train/log.jsonl" || fail "no run line"

# --report writes it again
rm "$dir/train/report.html"
out=$("$sqnrun" --report "$dir/train") || fail "--report failed"
[ "$out" = "report: $dir/train/report.html" ] && test -s "$dir/train/report.html" || fail "--report printed '$out'"

# a report that cannot be written (report.html is a folder) is a warning: the run succeeds
mkdir -p "$dir/blocked/report.html/x"
"$sqnrun" "$dir/net.plan" --train $data --epochs 1 --max-steps 1 --out "$dir/blocked" >"$dir/blocked.out" 2>"$dir/blocked.err" ||
  fail "a run whose report cannot be written failed"
grep -q "sqnrun: warning: no report: cannot write $dir/blocked/report.html" "$dir/blocked.err" || fail "no warning: $(cat "$dir/blocked.err")"

# --profile: 13 probes x (1 warm-up + 1 timed pass)
"$sqnrun" "$dir/space.plan" --profile --iters 1 --warmup 1 -o "$dir/lut.json" >"$dir/profile.out" 2>"$dir/profile.err" ||
  fail "--profile failed: $(tail -n 3 "$dir/profile.err")"
grep -Eq '^profiling tiny_latency \[#{20}\] 26/26 [0-9.]+ s, ETA 0m00s$' "$dir/profile.err" || fail "no progress bar of --profile on stderr"
grep -Eq '^profiling tiny_latency: 26 done in [0-9.]+ s$' "$dir/profile.err" || fail "no final line of --profile on stderr"
! grep -q '^profiling' "$dir/profile.out" || fail "progress of --profile on stdout"
echo "reports written by --search, --train and --report; progress lines on stderr"
