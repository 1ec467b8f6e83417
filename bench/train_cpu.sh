#!/usr/bin/env bash
# bench/train_cpu.sh - CPU training-step benchmark: the time of one SGD training step (training-mode forward,
# cross-entropy loss with ignore 255, backward, SGD with momentum 0.9 and weight decay 1e-5) of the published
# SqueezeNAS nets, sqnrun vs PyTorch eager (bench/train_step_torch.py), same batch, input size and thread count.
# Prints a table with ratio = PyTorch median / sqnrun median (> 1: sqnrun is faster) and each process's peak RSS.
# A benchmark, not a test: always exits 0.
#
# sqnrun: `sqnrun NET.plan --bench --train --batch B --input 3xHxW --iters N --warmup W --threads T --json`
# (plan from `sqnc examples/NET.sqn --input 3xHxW`; random init, random input and labels).
# PyTorch: bench/train_step_torch.py (squeezenas_torch.py's net, the LR-ASPP pooling window fitted to the OS16
# map as in tests/train_ref/make_sgd_ref.py; model.train(); torch.set_num_threads(T)).
# Each side runs in its own process, one after the other, so the peak RSS is per process.
#
# usage: bench/train_cpu.sh [--nets "mac_small lat_small ..."] [--sizes "256x512 512x1024"] [--batch 2]
#                           [--threads 2] [--iters 5] [--warmup 2] [--no-torch] [--no-sqnrun]
# environment: SQNC, SQNRUN (default $BUILD_DIR/{compiler/sqnc,runtime/sqnrun}), BUILD_DIR (default
# /tmp/bench-build, configured and built if missing), PYTHON (default /usr/bin/python3).
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
PYTHON="${PYTHON:-/usr/bin/python3}"
. "$here/torch_env.sh"
BUILD_DIR="${BUILD_DIR:-/tmp/bench-build}"
nets="mac_small lat_small mac_large lat_large mac_xlarge lat_xlarge"
sizes="256x512 512x1024"
batch=2
threads=2
iters=5
warmup=2
do_torch=1
do_sqn=1
while [ $# -gt 0 ]; do
  case "$1" in
    --nets) nets="$2"; shift 2 ;;
    --sizes) sizes="$2"; shift 2 ;;
    --batch) batch="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --iters) iters="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --no-torch) do_torch=0; shift ;;
    --no-sqnrun) do_sqn=0; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ {sub(/^# ?/, ""); print; next} NR > 1 {exit}' "$0"; exit 0 ;;
    *) echo "train_cpu.sh: unknown argument '$1'" >&2; exit 0 ;;
  esac
done

have_torch=0
torch_note="PyTorch: not run (--no-torch)"
if [ "$do_torch" = 1 ]; then
  if "$PYTHON" -c 'import torch' 2>/dev/null; then
    have_torch=1
    torch_note="PyTorch $("$PYTHON" -c 'import torch; print(torch.__version__)') eager (bench/train_step_torch.py)"
  else
    torch_note="PyTorch: SKIPPED (no torch in $PYTHON; install Debian's python3-torch)"
    echo "train_cpu.sh: no torch in $PYTHON; PyTorch column skipped" >&2
  fi
fi

SQNC="${SQNC:-$BUILD_DIR/compiler/sqnc}"
SQNRUN="${SQNRUN:-$BUILD_DIR/runtime/sqnrun}"
if [ "$do_sqn" = 1 ] && { [ ! -x "$SQNC" ] || [ ! -x "$SQNRUN" ]; }; then
  echo "train_cpu.sh: building into $BUILD_DIR" >&2
  cmake -S "$root" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null && \
    cmake --build "$BUILD_DIR" -j2 --target sqnc sqnrun >/dev/null || { echo "train_cpu.sh: build failed" >&2; do_sqn=0; }
fi
if [ "$do_sqn" = 1 ] && ! "$SQNRUN" --help 2>&1 | grep -q -- '--bench --train'; then
  echo "train_cpu.sh: $SQNRUN has no '--bench --train'; sqnrun column skipped" >&2
  do_sqn=0
fi

work="$(mktemp -d /tmp/sqn-train-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# json_field NAME: the number after "NAME": in the JSON line on stdin ("-" when absent).
json_field() { sed -n "s/.*\"$1\": \([0-9.e+-]*\).*/\1/p" | head -1 | awk '{print} END {if (NR == 0) print "-"}' | head -1; }
fmt() { [ "$1" = "-" ] && echo "-" || awk -v v="$1" 'BEGIN {printf "%.1f", v}'; }

hdr="$(printf '| %-10s | %-9s | %5s | %10s | %10s | %10s | %10s | %6s | %10s | %10s | %9s |' net input batch \
       "sqnrun med" "sqnrun min" "torch med" "torch min" ratio "sqnrun RSS" "torch RSS" "sqn buf")"
sep="|------------|-----------|-------|------------|------------|------------|------------|--------|------------|------------|-----------|"
load0="$(cut -d' ' -f1-3 /proc/loadavg)"
rows=()
for hw in $sizes; do
  for net in $nets; do
    p="$work/${net}_$hw"
    t_sqn="-"; m_sqn="-"; r_sqn="-"; b_sqn="-"; t_torch="-"; m_torch="-"; r_torch="-"
    if [ "$do_sqn" = 1 ]; then
      if "$SQNC" "$root/examples/$net.sqn" --input "3x$hw" -q -o "$p.plan" 2>"$p.sqnc.log"; then
        out="$("$SQNRUN" "$p.plan" --bench --train --batch "$batch" --input "3x$hw" --iters "$iters" \
               --warmup "$warmup" --threads "$threads" --json 2>"$p.sqnrun.log")"
        t_sqn="$(echo "$out" | json_field median_ms)"
        m_sqn="$(echo "$out" | json_field min_ms)"
        r_sqn="$(echo "$out" | json_field peak_rss_mib)"
        b_sqn="$(echo "$out" | json_field trainer_mib)"
        [ "$t_sqn" != "-" ] || { echo "train_cpu.sh: sqnrun failed on $net $hw:" >&2; tail -3 "$p.sqnrun.log" >&2; }
      else
        echo "train_cpu.sh: sqnc failed on $net $hw:" >&2; tail -3 "$p.sqnc.log" >&2
      fi
    fi
    if [ "$have_torch" = 1 ]; then
      out="$(torch_py "$here/train_step_torch.py" "$net" --input "$hw" --batch "$batch" --threads "$threads" \
             --iters "$iters" --warmup "$warmup" --json 2>"$p.torch.log")"
      t_torch="$(echo "$out" | json_field median_ms)"
      m_torch="$(echo "$out" | json_field min_ms)"
      r_torch="$(echo "$out" | json_field peak_rss_mib)"
      [ "$t_torch" != "-" ] || { echo "train_cpu.sh: PyTorch failed on $net $hw:" >&2; tail -3 "$p.torch.log" >&2; }
    fi
    ratio="-"
    if [ "$t_sqn" != "-" ] && [ "$t_torch" != "-" ]; then
      ratio="$(awk -v a="$t_torch" -v b="$t_sqn" 'BEGIN {printf "%.2f", a / b}')"
    fi
    if [ "$have_torch" = 0 ]; then
      t_torch="skipped"; m_torch="skipped"; r_torch="skipped"
    fi
    f() { case "$1" in -|skipped) echo "$1" ;; *) fmt "$1" ;; esac; }
    row="$(printf '| %-10s | %-9s | %5s | %10s | %10s | %10s | %10s | %6s | %10s | %10s | %9s |' "$net" "$hw" "$batch" \
           "$(f "$t_sqn")" "$(f "$m_sqn")" "$(f "$t_torch")" "$(f "$m_torch")" "$ratio" "$(f "$r_sqn")" \
           "$(f "$r_torch")" "$(f "$b_sqn")")"
    echo "$row" >&2
    rows+=("$row")
    rm -f "$p".*
  done
done

echo
echo "CPU training step, batch $batch, $threads threads, median of $iters steps after $warmup warm-up" \
     "($(date +%Y-%m-%d); $(nproc) CPUs, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1);" \
     "load average $load0 at start, $(cut -d' ' -f1-3 /proc/loadavg) at end)"
echo "$torch_note; sqnrun: --bench --train"
[ "$have_torch" = 1 ] && echo "$torch_alloc_note"
echo "$hdr"
echo "$sep"
for r in "${rows[@]}"; do echo "$r"; done
echo "times in ms; ratio = PyTorch median / sqnrun median (> 1: sqnrun faster); RSS = peak RSS of each process in MiB;"
echo "sqn buf = sqnrun's trainer buffers (activations, weights, gradients, momentum) in MiB"
exit 0
