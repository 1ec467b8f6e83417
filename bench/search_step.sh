#!/usr/bin/env bash
# bench/search_step.sh - CPU benchmark of one search step of the Small supernet (spaces/small.sqn: 20 superblocks
# x 13 candidates, all of them run), sqnrun vs PyTorch eager (bench/supernet_torch.py), same batch, input size and
# thread count. Prints a table with ratio = PyTorch median / sqnrun median (> 1: sqnrun is faster) and each
# process's peak RSS. A benchmark, not a test: always exits 0.
#
# sqnrun: `sqnrun SUPERNET.plan --bench --train --batch B --input 3xHxW --iters N --warmup W --threads T --json`
# (plan from `sqnc spaces/small.sqn --input 3xHxW`): random init, input and labels, random per-sample mixing
# weights; a step is the train-mode forward of every candidate, the loss, the backward of the weights and of the
# mixing weights, and SGD (lr 1e-4, momentum 0.9, weight decay 1e-5).
# PyTorch: bench/supernet_torch.py, the same step (Gumbel-softmax mixing weights as a leaf requiring grad,
# cross-entropy with ignore 255, backward, SGD with the same settings); torch.set_num_threads(T).
# Each side runs in its own process, one after the other, so the peak RSS is per process.
# Default: 784x784, batch 2 - the setting of the upstream reference step (reference README section 3).
# --device cuda: sqnrun --backend cuda (plan compiled with sqnc --target for the GPU: --target sm_XY, default
# the GPU's from nvidia-smi) vs PyTorch eager on the same GPU (steps timed with torch.cuda.synchronize).
#
# --recompute "act dw all": one sqnrun row per level of sqnc --recompute (what the backward pass recomputes
# instead of keeping; default: the sqnc default, all), PyTorch measured once per size.
#
# usage: bench/search_step.sh [--sizes "784x784 256x512"] [--batch 2] [--threads 2] [--iters 3] [--warmup 1]
#                             [--recompute "act dw all"] [--no-torch] [--no-sqnrun] [--device cpu|cuda] [--target sm_XY]
# environment: SQNC, SQNRUN (default $BUILD_DIR/{compiler/sqnc,runtime/sqnrun}), BUILD_DIR (default
# /tmp/bench-build: a Release build, configured if missing, and sqnc/sqnrun brought up to date (make's
# incremental build) unless SQNC and SQNRUN are given), PYTHON (default /usr/bin/python3).
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
PYTHON="${PYTHON:-/usr/bin/python3}"
. "$here/torch_env.sh"
BUILD_DIR="${BUILD_DIR:-/tmp/bench-build}"
sizes="784x784"
batch=2
threads=2
iters=3
warmup=1
do_torch=1
do_sqn=1
device=cpu
target=""
levels="dw"
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) sizes="$2"; shift 2 ;;
    --batch) batch="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --iters) iters="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --no-torch) do_torch=0; shift ;;
    --no-sqnrun) do_sqn=0; shift ;;
    --device) device="$2"; shift 2 ;;
    --target) target="$2"; shift 2 ;;
    --recompute) levels="$2"; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ {sub(/^# ?/, ""); print; next} NR > 1 {exit}' "$0"; exit 0 ;;
    *) echo "search_step.sh: unknown argument '$1'" >&2; exit 0 ;;
  esac
done

have_torch=0
torch_note="PyTorch: not run (--no-torch)"
if [ "$do_torch" = 1 ]; then
  if "$PYTHON" -c 'import torch' 2>/dev/null; then
    have_torch=1
    torch_note="PyTorch $("$PYTHON" -c 'import torch; print(torch.__version__)') eager (bench/supernet_torch.py)"
  else
    torch_note="PyTorch: SKIPPED (no torch in $PYTHON; install Debian's python3-torch)"
    echo "search_step.sh: no torch in $PYTHON; PyTorch column skipped" >&2
  fi
fi

if [ "$do_sqn" = 1 ] && { [ -z "${SQNC:-}" ] || [ -z "${SQNRUN:-}" ]; }; then
  if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
    echo "search_step.sh: configuring a Release build in $BUILD_DIR" >&2
    cmake -S "$root" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null || echo "search_step.sh: configure failed" >&2
  fi
  cmake --build "$BUILD_DIR" -j2 --target sqnc sqnrun >/dev/null 2>"$BUILD_DIR/search_step.build.log" || \
    { echo "search_step.sh: build failed (see $BUILD_DIR/search_step.build.log); using what is there" >&2; }
fi
SQNC="${SQNC:-$BUILD_DIR/compiler/sqnc}"
SQNRUN="${SQNRUN:-$BUILD_DIR/runtime/sqnrun}"
if [ "$do_sqn" = 1 ] && { [ ! -x "$SQNC" ] || [ ! -x "$SQNRUN" ]; }; then
  echo "search_step.sh: no sqnc/sqnrun ($SQNC, $SQNRUN); sqnrun column skipped" >&2
  do_sqn=0
fi
if [ "$do_sqn" = 1 ] && ! "$SQNRUN" --help 2>&1 | grep -q -- '--bench --train'; then
  echo "search_step.sh: $SQNRUN has no '--bench --train'; sqnrun column skipped" >&2
  do_sqn=0
fi

. "$here/gpu_args.sh" || exit 0

work="$(mktemp -d /tmp/sqn-search-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# json_field NAME: the number after "NAME": in the JSON line on stdin ("-" when absent).
json_field() { sed -n "s/.*\"$1\": \([0-9.e+-]*\).*/\1/p" | head -1 | awk '{print} END {if (NR == 0) print "-"}' | head -1; }
# sec MS / gib MIB: milliseconds -> seconds, MiB -> GiB ("-" and "skipped" pass through).
sec() { case "$1" in -|skipped) echo "$1" ;; *) awk -v v="$1" 'BEGIN {printf "%.2f", v / 1000}' ;; esac; }
gib() { case "$1" in -|skipped) echo "$1" ;; *) awk -v v="$1" 'BEGIN {printf "%.2f", v / 1024}' ;; esac; }

hdr="$(printf '| %-9s | %5s | %9s | %9s | %9s | %9s | %9s | %6s | %9s | %9s | %9s |' size batch recompute "sqn med" "sqn min" \
       "torch med" "torch min" ratio "sqn RSS" "torch RSS" "sqn buf")"
sep="|-----------|-------|-----------|-----------|-----------|-----------|-----------|--------|-----------|-----------|-----------|"
load0="$(cut -d' ' -f1-3 /proc/loadavg)"
rows=()
for hw in $sizes; do
  p="$work/small_$hw"
  t_torch="-"; m_torch="-"; r_torch="-"
  if [ "$have_torch" = 1 ]; then
    out="$(torch_py "$here/supernet_torch.py" --input "$hw" --batch "$batch" --threads "$threads" \
           --iters "$iters" --warmup "$warmup" --device "$device" --json 2>"$p.torch.log")"
    t_torch="$(echo "$out" | json_field median_ms)"
    m_torch="$(echo "$out" | json_field min_ms)"
    r_torch="$(echo "$out" | json_field peak_rss_mib)"
    [ "$t_torch" != "-" ] || { echo "search_step.sh: PyTorch failed at $hw:" >&2; tail -3 "$p.torch.log" >&2; }
  else
    t_torch="skipped"; m_torch="skipped"; r_torch="skipped"
  fi
  for level in $levels; do
    t_sqn="-"; m_sqn="-"; r_sqn="-"; b_sqn="-"
    if [ "$do_sqn" = 1 ]; then
      if "$SQNC" "$root/spaces/small.sqn" --input "3x$hw" --recompute "$level" "${sqnc_gpu[@]}" -q -o "$p.plan" \
           2>"$p.sqnc.log"; then
        out="$("$SQNRUN" "$p.plan" --bench --train "${sqnrun_gpu[@]}" --batch "$batch" --input "3x$hw" --iters "$iters" \
               --warmup "$warmup" --threads "$threads" --json 2>"$p.sqnrun.log")"
        t_sqn="$(echo "$out" | json_field median_ms)"
        m_sqn="$(echo "$out" | json_field min_ms)"
        r_sqn="$(echo "$out" | json_field peak_rss_mib)"
        b_sqn="$(echo "$out" | json_field trainer_mib)"
        [ "$t_sqn" != "-" ] || { echo "search_step.sh: sqnrun failed at $hw:" >&2; tail -3 "$p.sqnrun.log" >&2; }
      else
        echo "search_step.sh: sqnc failed at $hw:" >&2; tail -3 "$p.sqnc.log" >&2
      fi
      rm -f "$p.plan"
    fi
    ratio="-"
    case "$t_sqn/$t_torch" in
      -/*|*/-|*/skipped) ;;
      *) ratio="$(awk -v a="$t_torch" -v b="$t_sqn" 'BEGIN {printf "%.2f", a / b}')" ;;
    esac
    row="$(printf '| %-9s | %5s | %9s | %9s | %9s | %9s | %9s | %6s | %9s | %9s | %9s |' "$hw" "$batch" "$level" \
           "$(sec "$t_sqn")" "$(sec "$m_sqn")" "$(sec "$t_torch")" "$(sec "$m_torch")" "$ratio" "$(gib "$r_sqn")" \
           "$(gib "$r_torch")" "$(gib "$b_sqn")")"
    echo "$row" >&2
    rows+=("$row")
  done
  rm -f "$p".*
done

echo
echo "Small supernet search step (20 superblocks x 13 candidates) on $device${gpu_name:+ ($gpu_name, $target)}, $threads threads, median of $iters steps after" \
     "$warmup warm-up ($(date +%Y-%m-%d); $(nproc) CPUs, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1);" \
     "load average $load0 at start, $(cut -d' ' -f1-3 /proc/loadavg) at end)"
echo "$torch_note; sqnrun: --bench --train on spaces/small.sqn"
[ "$have_torch" = 1 ] && echo "$torch_alloc_note"
echo "$hdr"
echo "$sep"
for r in "${rows[@]}"; do echo "$r"; done
echo "recompute = sqnc --recompute (what the backward pass recomputes instead of keeping: act, dw, all)"
echo "times in s per step; ratio = PyTorch median / sqnrun median (> 1: sqnrun faster); RSS = peak RSS of each"
echo "process in GiB; sqn buf = sqnrun's trainer buffers (activations, weights, gradients, momentum) in GiB"
exit 0
