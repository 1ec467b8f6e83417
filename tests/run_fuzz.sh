#!/usr/bin/env bash
# tests/run_fuzz.sh [SECONDS] - bounded fuzzing of the .sqn front end (SECONDS) and of the runtime's
# file readers (plans, .pth, safetensors: a quarter of SECONDS each, at least 20 s), as CI runs it.
#
# Configures (if needed) and builds a separate clang build with -DSQN_FUZZ=ON and the fuzzer
# instrumentation (default folder build-fuzz, or $SQN_FUZZ_BUILD), then runs fuzz_frontend for
# SECONDS (default 120) as one worker, starting from tests/fuzz_corpus/ plus what earlier runs in
# this build folder found. Exits non-zero when the fuzzer reports a crash, leak, sanitizer error,
# timeout or out-of-memory, after printing the reproducer (saved under BUILD/fuzz_findings/).
# Replay a reproducer with:  SQN_FUZZ_DIAG=1 BUILD/tests/fuzz_replay FILE   (or BUILD/tests/fuzz_frontend FILE)
set -euo pipefail

seconds="${1:-120}"
case "$seconds" in
  '' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SQN_FUZZ_BUILD:-$root/build-fuzz}"
jobs="$(nproc 2>/dev/null || echo 2)"

cc="${SQN_FUZZ_CC:-}"
if [ -z "$cc" ]; then
  for c in clang clang-19 clang-18 clang-17 clang-16 clang-15 clang-14; do
    if command -v "$c" >/dev/null 2>&1; then cc="$c"; break; fi
  done
fi
if [ -z "$cc" ]; then
  echo "run_fuzz.sh: clang is needed for libFuzzer (apt-get install clang libclang-rt-dev)" >&2
  exit 2
fi

# Everything in this build is instrumented (coverage + ASan + UBSan, UB is fatal); fuzz_frontend
# itself adds -fsanitize=fuzzer (tests/fuzz.cmake). Debug keeps assert()s on; -O1 keeps it fast.
flags="-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all"
if [ ! -f "$build/CMakeCache.txt" ]; then
  gen=()
  if command -v ninja >/dev/null 2>&1; then gen=(-G Ninja); fi
  echo "== configuring $build ($cc)"
  cmake -S "$root" -B "$build" "${gen[@]}" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Debug \
        -DCMAKE_C_FLAGS="$flags" -DSQN_FUZZ=ON >/dev/null
else
  cmake -DSQN_FUZZ=ON "$build" >/dev/null # an existing build folder: just make sure the target exists
fi
echo "== building the fuzz targets"
cmake --build "$build" --target fuzz_frontend fuzz_plan fuzz_pth fuzz_safetensors sqnc -j"$jobs"
findings="$build/fuzz_findings"
mkdir -p "$findings"

# run_target NAME SECONDS CORPUS_DIR [MAX_LEN]: fuzzes from a working copy of CORPUS_DIR; non-zero on a finding.
run_target() {
  local name="$1" secs="$2" seeds="$3" max_len="${4:-4096}"
  local fuzzer="$build/tests/$name" corpus="$build/fuzz_work_$name" log="$build/fuzz_last_run_$name.log"
  [ -x "$fuzzer" ] || { echo "run_fuzz.sh: $name was not built in $build" >&2; return 2; }
  rm -rf "$corpus" && mkdir -p "$corpus"
  cp "$seeds"/* "$corpus"/ 2>/dev/null || true
  local before rc after
  before="$(ls -1 "$findings" | wc -l)"
  echo "== fuzzing $name for ${secs}s (log: $log)"
  set +e
  ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}" \
    "$fuzzer" -max_total_time="$secs" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$findings/$name-" "$corpus" 2>&1 | tee "$log" | \
    grep -v -E '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse)'
  rc="${PIPESTATUS[0]}"
  set -e
  after="$(ls -1 "$findings" | wc -l)"
  if [ "$rc" -eq 0 ] && [ "$after" -eq "$before" ]; then
    echo "== fuzzing $name: no findings in ${secs}s"
    return 0
  fi
  echo
  echo "== FUZZING FOUND A PROBLEM ($name exit status $rc)"
  grep -E -A 12 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log" | head -n 60 || true
  for f in $(ls -1t "$findings" | head -n $((after - before))); do
    echo "-- reproducer: $findings/$f ($(wc -c <"$findings/$f") bytes)"
    if command -v xxd >/dev/null 2>&1; then head -c 2048 "$findings/$f" | xxd; else head -c 2048 "$findings/$f" | od -A x -t x1z; fi
  done
  echo "replay: $fuzzer <reproducer>"
  return 1
}

# Seeds for the readers: small plans compiled from the corpus, a tiny safetensors file, and the head
# of a published .pth when the shared reference data is there.
seeds="$build/fuzz_reader_seeds"
rm -rf "$seeds" && mkdir -p "$seeds/plan" "$seeds/pth" "$seeds/safetensors"
for f in "$root"/tests/fuzz_corpus/0*.sqn; do
  "$build/compiler/sqnc" "$f" -q -o "$seeds/plan/$(basename "$f" .sqn).plan" 2>/dev/null || true
done
printf '\x38\x00\x00\x00\x00\x00\x00\x00{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}  \x00\x00\x80\x3f\x00\x00\x00\x40' \
  > "$seeds/safetensors/tiny.safetensors"
for w in "$root"/../shared/reference/weights/*.pth; do [ -f "$w" ] && head -c 4096 "$w" > "$seeds/pth/$(basename "$w")"; done

reader_secs=$(( seconds / 4 > 20 ? seconds / 4 : 20 ))
status=0
run_target fuzz_frontend "$seconds" "$root/tests/fuzz_corpus" || status=1
run_target fuzz_plan "$reader_secs" "$seeds/plan" 65536 || status=1
run_target fuzz_pth "$reader_secs" "$seeds/pth" || status=1
run_target fuzz_safetensors "$reader_secs" "$seeds/safetensors" || status=1
exit "$status"
