#!/usr/bin/env bash
# tests/run_fuzz.sh [SECONDS] - bounded fuzzing of the .sqn front end (SECONDS) and of the runtime's
# file readers (plans, .pth, safetensors, PNG/JPEG images, .npy, latency tables, training
# checkpoints, dataset folders), as CI runs it.
#
# Configures (if needed) and builds a separate clang build with -DSQN_FUZZ=ON and the fuzzer
# instrumentation (default folder build-fuzz, or $SQN_FUZZ_BUILD), then fuzzes: fuzz_frontend for
# SECONDS (default 120), starting from tests/fuzz_corpus/, and each reader for a quarter of SECONDS
# (at least 20 s; an eighth, at least 15 s, on a single core), starting from
# tests/fuzz_corpus_readers/<reader>/ plus generated seeds. The targets run on as many parallel
# lanes as there are cores ($SQN_FUZZ_JOBS overrides), each fuzzer one worker, longest first, so on
# 2 cores `run_fuzz.sh 120` fuzzes for about 3 minutes (4 to 5 with a fresh build). Every target
# takes inputs up to 1 MiB (-max_len, and -len_control=0 so long mutations come early) and its
# dictionary from tests/fuzz_dict/.
# Exits non-zero when a fuzzer reports a crash, leak, sanitizer error, timeout or out-of-memory,
# after printing the reproducer (saved under BUILD/fuzz_findings/ as TARGET-crash-...).
# Replay a reproducer with:  BUILD/tests/TARGET FILE   (SQN_FUZZ_DIAG=1 prints the readers' verdicts;
# for the front end also SQN_FUZZ_DIAG=1 BUILD/tests/fuzz_replay FILE).
set -euo pipefail

seconds="${1:-120}"
case "$seconds" in
  '' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SQN_FUZZ_BUILD:-$root/build-fuzz}"
jobs="$(nproc 2>/dev/null || echo 2)"
lanes="${SQN_FUZZ_JOBS:-$jobs}"
case "$lanes" in
  '' | *[!0-9]* | 0) lanes=1 ;;
esac
max_len=1048576

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

readers="plan pth safetensors image npy lut checkpoint dataset"
start_time=$SECONDS

# Everything in this build is instrumented (coverage + ASan + UBSan, UB is fatal); the fuzz targets
# themselves add -fsanitize=fuzzer (tests/fuzz.cmake). Debug keeps assert()s on; -O1 keeps it fast.
flags="-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all"
if [ ! -f "$build/CMakeCache.txt" ]; then
  gen=()
  if command -v ninja >/dev/null 2>&1; then gen=(-G Ninja); fi
  echo "== configuring $build ($cc)"
  cmake -S "$root" -B "$build" "${gen[@]}" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Debug \
        -DCMAKE_C_FLAGS="$flags" -DSQN_FUZZ=ON >/dev/null
else
  cmake -DSQN_FUZZ=ON "$build" >/dev/null # an existing build folder: just make sure the targets exist
fi
echo "== building the fuzz targets"
targets=(fuzz_frontend sqnc)
for r in $readers; do targets+=("fuzz_$r"); done
cmake --build "$build" --target "${targets[@]}" -j"$jobs"
echo "== built in $((SECONDS - start_time)) s"
findings="$build/fuzz_findings"
mkdir -p "$findings"

# The dictionaries of each target (tests/fuzz.cmake gives the ctest smoke tests the same ones),
# concatenated into one file per target: libFuzzer takes a single -dict.
dicts_for() {
  case "$1" in
    frontend) echo sqn ;;
    plan) echo plan ;;
    pth) echo pth ;;
    safetensors) echo json safetensors ;;
    image) echo png jpeg ;;
    npy) echo npy ;;
    lut) echo json lut ;;
    checkpoint) echo json safetensors checkpoint ;;
    dataset) echo dataset png jpeg ;;
  esac
}

# Seeds: the committed ones (tests/fuzz_corpus/, tests/fuzz_corpus_readers/<reader>/, written by
# tests/fuzz_make_seeds.py, with the regression seeds of fixed bugs), plus small plans compiled from
# the corpus and the head of each published .pth when the shared reference data is there.
seeds="$build/fuzz_reader_seeds"
rm -rf "$seeds" && mkdir -p "$seeds/plan" "$seeds/pth"
for f in "$root"/tests/fuzz_corpus/0*.sqn; do
  "$build/compiler/sqnc" "$f" -q -o "$seeds/plan/$(basename "$f" .sqn).plan" 2>/dev/null || true
done
for w in "$root"/../shared/reference/weights/*.pth; do [ -f "$w" ] && head -c 4096 "$w" > "$seeds/pth/$(basename "$w")"; done

# run_target NAME SECONDS: fuzzes from a working copy of the target's seeds; non-zero on a finding.
# Prints a start and an end line; the libFuzzer output goes to BUILD/fuzz_last_run_NAME.log and, on
# a finding, a report to BUILD/fuzz_report_NAME.txt (printed once every lane is done).
run_target() {
  local name="$1" secs="$2" kind="${1#fuzz_}"
  local fuzzer="$build/tests/$name" corpus="$build/fuzz_work_$name" log="$build/fuzz_last_run_$name.log"
  local report="$build/fuzz_report_$name.txt" dict="$build/fuzz_dict_$name.dict" tmp="$build/fuzz_tmp_$name"
  rm -f "$report"
  [ -x "$fuzzer" ] || { echo "run_fuzz.sh: $name was not built in $build" | tee "$report" >&2; return 2; }
  rm -rf "$corpus" "$tmp" && mkdir -p "$corpus" "$tmp"
  if [ "$kind" = frontend ]; then
    cp "$root"/tests/fuzz_corpus/* "$corpus"/
  else
    cp "$root/tests/fuzz_corpus_readers/$kind"/* "$corpus"/ 2>/dev/null || true
    cp "$seeds/$kind"/* "$corpus"/ 2>/dev/null || true
  fi
  : > "$dict"
  for d in $(dicts_for "$kind"); do cat "$root/tests/fuzz_dict/$d.dict" >> "$dict"; echo >> "$dict"; done
  local before rc after
  # Findings: crash-, leak-, timeout-, oom-... files (slow-unit- ones are not failures).
  before="$(find "$findings" -maxdepth 1 -name "$name-*" ! -name "$name-slow-unit-*" | wc -l)"
  echo "== fuzzing $name for ${secs}s (log: $log)"
  set +e
  TMPDIR="$tmp" ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}" \
    "$fuzzer" -max_total_time="$secs" -max_len="$max_len" -len_control=0 -timeout=10 -rss_limit_mb=2048 \
    -dict="$dict" -print_final_stats=1 -artifact_prefix="$findings/$name-" "$corpus" >"$log" 2>&1
  rc=$?
  set -e
  rm -rf "$tmp"
  after="$(find "$findings" -maxdepth 1 -name "$name-*" ! -name "$name-slow-unit-*" | wc -l)"
  local runs eps largest
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
  eps="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)"
  largest="$(find "$corpus" -type f -printf '%s\n' | sort -n | tail -n 1)"
  slowest="$(sed -n 's/^stat::slowest_unit_time_sec: *//p' "$log" | tail -n 1)"
  if [ "$rc" -eq 0 ] && [ "$after" -eq "$before" ]; then
    echo "== $name: no findings in ${secs}s (${runs:-?} runs, ${eps:-?} exec/s, corpus $(find "$corpus" -type f | wc -l) inputs, largest ${largest:-0} bytes, slowest ${slowest:-?} s)"
    return 0
  fi
  echo "== $name: FOUND A PROBLEM (exit status $rc; report follows at the end)"
  {
    echo
    echo "== FUZZING FOUND A PROBLEM ($name exit status $rc)"
    grep -E -A 12 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|^fuzz_' "$log" | head -n 60 || true
    for f in $(ls -1t "$findings" | grep "^$name-" | grep -v "^$name-slow-unit-" | head -n $((after - before))); do
      echo "-- reproducer: $findings/$f ($(wc -c <"$findings/$f") bytes)"
      if command -v xxd >/dev/null 2>&1; then head -c 2048 "$findings/$f" | xxd; else head -c 2048 "$findings/$f" | od -A x -t x1z; fi
    done
    echo "replay: SQN_FUZZ_DIAG=1 $fuzzer <reproducer>"
  } > "$report"
  return 1
}

if [ "$lanes" -ge 2 ]; then
  reader_secs=$(( seconds / 4 > 20 ? seconds / 4 : 20 ))
else
  reader_secs=$(( seconds / 8 > 15 ? seconds / 8 : 15 ))
fi
# Longest first, each onto the lane with the least work so far.
jobs_list=("fuzz_frontend:$seconds")
for r in $readers; do jobs_list+=("fuzz_$r:$reader_secs"); done
declare -a lane_jobs lane_load
for ((l = 0; l < lanes; l++)); do lane_jobs[l]=""; lane_load[l]=0; done
for j in "${jobs_list[@]}"; do
  best=0
  for ((l = 1; l < lanes; l++)); do [ "${lane_load[l]}" -lt "${lane_load[best]}" ] && best=$l; done
  lane_jobs[best]="${lane_jobs[best]} $j"
  lane_load[best]=$(( lane_load[best] + ${j#*:} ))
done

status=0
pids=()
for ((l = 0; l < lanes; l++)); do
  [ -n "${lane_jobs[l]}" ] || continue
  (
    s=0
    for j in ${lane_jobs[l]}; do run_target "${j%%:*}" "${j#*:}" || s=1; done
    exit "$s"
  ) &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || status=1; done
for j in "${jobs_list[@]}"; do
  r="$build/fuzz_report_${j%%:*}.txt"
  if [ -s "$r" ]; then cat "$r"; fi
done
echo "== run_fuzz.sh: $((SECONDS - start_time)) s in all ($lanes lanes)"
exit "$status"
