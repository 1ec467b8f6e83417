#!/usr/bin/env bash
# tests/run_fuzz.sh [SECONDS] - bounded fuzzing of the .sqn front end, as CI runs it.
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
echo "== building fuzz_frontend"
cmake --build "$build" --target fuzz_frontend -j"$jobs"
fuzzer="$(find "$build" -name fuzz_frontend -type f -perm -u+x | head -n 1)"
if [ -z "$fuzzer" ]; then
  echo "run_fuzz.sh: fuzz_frontend was not built in $build" >&2
  exit 2
fi

# libFuzzer adds interesting inputs to its first folder: use a working copy, never the source tree.
corpus="$build/fuzz_corpus_work"
findings="$build/fuzz_findings"
mkdir -p "$corpus" "$findings"
cp "$root"/tests/fuzz_corpus/* "$corpus"/
log="$build/fuzz_last_run.log"
before="$(ls -1 "$findings" | wc -l)"

echo "== fuzzing for ${seconds}s (log: $log)"
set +e
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}" \
  "$fuzzer" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$findings/" "$corpus" 2>&1 | tee "$log" | grep -v -E '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse)'
rc="${PIPESTATUS[0]}"
set -e

after="$(ls -1 "$findings" | wc -l)"
if [ "$rc" -eq 0 ] && [ "$after" -eq "$before" ]; then
  echo "== fuzzing: no findings in ${seconds}s"
  exit 0
fi

echo
echo "== FUZZING FOUND A PROBLEM (fuzz_frontend exit status $rc)"
grep -E -A 12 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|fuzz_frontend: ' "$log" | head -n 60 || true
for f in $(ls -1t "$findings" | head -n $((after - before))); do
  echo "-- reproducer: $findings/$f ($(wc -c <"$findings/$f") bytes)"
  if command -v xxd >/dev/null 2>&1; then head -c 2048 "$findings/$f" | xxd; else head -c 2048 "$findings/$f" | od -A x -t x1z; fi
done
echo "replay: $fuzzer <reproducer>   (SQN_FUZZ_DIAG=1 shows the compiler's diagnostics)"
exit 1
