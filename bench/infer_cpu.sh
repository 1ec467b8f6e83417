#!/usr/bin/env bash
# bench/infer_cpu.sh - inference benchmark: batch-1 latency of the six published SqueezeNAS nets,
# sqnrun vs PyTorch eager (bench/squeezenas_torch.py: eval(), torch.no_grad(), torch.set_num_threads(N)),
# same thread count, same weights and input. --device cuda (bench/infer_gpu.sh) compares sqnrun
# --backend cuda (plans compiled with sqnc --target for the GPU) with PyTorch eager on the same GPU. Prints a table with ratio = PyTorch time / sqnrun time
# (> 1: sqnrun is faster), the op-by-op run (sqnrun --no-fuse) beside the fused one, and each net's GMAC/s as a share
# of the machine's sgemm rate measured in the same run (bench/sgemm_peak.c). A benchmark, not a test: always exits 0.
#
# sqnrun time: `sqnrun --bench` median (warm-up, then --iters timed runs; load excluded) when the build
# has --bench, otherwise the median of --iters separate `--infer` runs, each timed by sqnrun itself
# ("... in X s" on stderr: the forward pass only, weight/input loading excluded).
# PyTorch time: median of --iters forward passes after --warmup warm-up passes.
#
# usage: bench/infer_cpu.sh [--nets "mac_small ..."] [--sizes "1024x2048 784x1568"] [--threads 2]
#                           [--iters 5] [--warmup 1] [--no-torch] [--no-sqnrun]
#                           [--infer-timing]   (time separate --infer runs even if sqnrun has --bench)
#                           [--classes]        (sqnrun times class-id output, as --infer -o: the final upsampling
#                                               fused with the argmax; PyTorch still times its logits)
#                           [--device cpu|cuda] [--target sm_XY] (cuda: the GPU's, from nvidia-smi, by default)
# environment: SQNC, SQNRUN (default $BUILD_DIR/{compiler/sqnc,runtime/sqnrun}), BUILD_DIR (default
# /tmp/bench-build, configured and built if missing), PYTHON (default /usr/bin/python3).
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
PYTHON="${PYTHON:-/usr/bin/python3}"
. "$here/torch_env.sh"
BUILD_DIR="${BUILD_DIR:-/tmp/bench-build}"
nets="mac_small lat_small mac_large lat_large mac_xlarge lat_xlarge"
sizes="1024x2048 784x1568"
threads=2
iters=5
warmup=1
do_torch=1
do_sqn=1
classes=()
force_infer=0
device=cpu
target=""
while [ $# -gt 0 ]; do
  case "$1" in
    --nets) nets="$2"; shift 2 ;;
    --sizes) sizes="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --iters) iters="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --no-torch) do_torch=0; shift ;;
    --classes) classes=(--classes); shift ;;
    --no-sqnrun) do_sqn=0; shift ;;
    --infer-timing) force_infer=1; shift ;;
    --device) device="$2"; shift 2 ;;
    --target) target="$2"; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ {sub(/^# ?/, ""); print; next} NR > 1 {exit}' "$0"; exit 0 ;;
    *) echo "infer_cpu.sh: unknown argument '$1'" >&2; exit 0 ;;
  esac
done

have_torch=1
"$PYTHON" -c 'import torch' 2>/dev/null || { have_torch=0; echo "infer_cpu.sh: no torch in $PYTHON; PyTorch column skipped" >&2; }
SQNC="${SQNC:-$BUILD_DIR/compiler/sqnc}"
SQNRUN="${SQNRUN:-$BUILD_DIR/runtime/sqnrun}"
if [ ! -x "$SQNC" ] || [ ! -x "$SQNRUN" ]; then
  echo "infer_cpu.sh: building into $BUILD_DIR" >&2
  cmake -S "$root" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null && \
    cmake --build "$BUILD_DIR" -j2 --target sqnc sqnrun sgemm_peak >/dev/null || { echo "infer_cpu.sh: build failed" >&2; exit 0; }
fi
. "$here/gpu_args.sh" || exit 0
SGEMM_PEAK="${SGEMM_PEAK:-$(dirname "$SQNRUN")/../tests/sgemm_peak}"
peak="-" # the machine's sgemm GMAC/s at this thread count, measured now (bench/sgemm_peak.c)
if [ "$device" = cpu ] && [ -x "$SGEMM_PEAK" ]; then
  peak="$("$SGEMM_PEAK" "$threads" | sed -n 's/^sgemm \([0-9.]*\) GMAC.*/\1/p')"
  [ -n "$peak" ] || peak="-"
fi
has_bench=0
[ "$force_infer" = 0 ] && "$SQNRUN" --help 2>&1 | grep -q '^  --bench' && has_bench=1

work="$(mktemp -d /tmp/sqn-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print "-"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

rows=()
for hw in $sizes; do
  for net in $nets; do
    p="$work/${net}_$hw"
    gmacs="-"; t_sqn="-"; t_torch="-"; m_sqn="-"; m_torch="-"; r_sqn="-"; r_torch="-"; t_unf="-"
    # Weights (PyTorch constructor init) and input: written by the PyTorch side so both use the same data.
    if [ "$have_torch" = 1 ]; then
      if [ "$do_torch" = 1 ]; then
        out="$(torch_py "$here/squeezenas_torch.py" "$net" --input "$hw" --bench --json --threads "$threads" --device "$device" \
               --iters "$iters" --warmup "$warmup" --save-weights "$p.pth" --save-input "$p.in.npy" 2>"$p.torch.log")"
        t_torch="$(echo "$out" | sed -n 's/.*"median_ms": \([0-9.e+-]*\).*/\1/p')"
        m_torch="$(echo "$out" | sed -n 's/.*"min_ms": \([0-9.e+-]*\).*/\1/p')"
        r_torch="$(echo "$out" | sed -n 's/.*"peak_rss_mib": \([0-9.e+-]*\).*/\1/p')"
        [ -n "$t_torch" ] || { t_torch="-"; tail -3 "$p.torch.log" >&2; }
      else
        "$PYTHON" "$here/squeezenas_torch.py" "$net" --input "$hw" --bench --iters 0 --warmup 0 \
          --save-weights "$p.pth" --save-input "$p.in.npy" >/dev/null 2>"$p.torch.log"
      fi
    fi
    if [ "$do_sqn" = 1 ] && "$SQNC" "$root/examples/$net.sqn" --input "3x$hw" "${sqnc_gpu[@]}" -q -o "$p.plan" 2>"$p.sqnc.log"; then
      gmacs="$("$SQNC" "$root/examples/$net.sqn" --input "3x$hw" --stats 2>/dev/null | \
               sed -n 's/^total MACs: [0-9]* (\([0-9.]*\) G).*/\1/p' | awk '{printf "%.2f", $1}')"
      wargs=()
      [ -f "$p.pth" ] && wargs=(--weights "$p.pth")
      if [ "$has_bench" = 1 ]; then
        out="$("$SQNRUN" "$p.plan" --bench "${classes[@]}" "${wargs[@]}" "${sqnrun_gpu[@]}" --iters "$iters" --warmup "$warmup" \
               --threads "$threads" --json 2>"$p.sqnrun.log")"
        t_sqn="$(echo "$out" | sed -n 's/.*"median_ms": \([0-9.e+-]*\).*/\1/p')"
        m_sqn="$(echo "$out" | sed -n 's/.*"min_ms": \([0-9.e+-]*\).*/\1/p')"
        r_sqn="$(echo "$out" | sed -n 's/.*"peak_rss_mib": \([0-9.e+-]*\).*/\1/p')"
        if [ "$device" = cpu ]; then # the same runs op by op (--no-fuse)
          out="$("$SQNRUN" "$p.plan" --bench --no-fuse "${classes[@]}" "${wargs[@]}" --iters "$iters" --warmup "$warmup" \
                 --threads "$threads" --json 2>>"$p.sqnrun.log")"
          t_unf="$(echo "$out" | sed -n 's/.*"median_ms": \([0-9.e+-]*\).*/\1/p')"
          [ -n "$t_unf" ] || t_unf="-"
        fi
      elif [ -f "$p.in.npy" ]; then
        for i in $(seq 1 "$iters"); do
          "$SQNRUN" "$p.plan" "${wargs[@]}" "${sqnrun_gpu[@]}" --infer "$p.in.npy" --argmax "$p.am.npy" --threads "$threads" 2>&1 | \
            sed -n 's/.* in \([0-9.]*\) s.*/\1/p'
        done > "$p.sqn.times"
        t_sqn="$(median < "$p.sqn.times" | awk '$1 != "-" {printf "%.2f", $1 * 1000} $1 == "-" {print "-"}')"
        m_sqn="$(sort -g "$p.sqn.times" | head -1 | awk '{printf "%.2f", $1 * 1000}')"
      fi
      [ -n "$t_sqn" ] || { t_sqn="-"; tail -3 "$p.sqnrun.log" >&2; }
    elif [ "$do_sqn" = 1 ]; then
      tail -3 "$p.sqnc.log" >&2
    fi
    ratio="-"
    if [ "$t_sqn" != "-" ] && [ "$t_torch" != "-" ]; then
      ratio="$(awk -v a="$t_torch" -v b="$t_sqn" 'BEGIN {printf "%.2f", a / b}')"
    fi
    fmt() { [ "$1" = "-" ] && echo "-" || awk -v v="$1" 'BEGIN {printf "%.1f", v}'; }
    of_peak="-"
    if [ "$peak" != "-" ] && [ "$t_sqn" != "-" ] && [ -n "$gmacs" ] && [ "$gmacs" != "-" ]; then
      of_peak="$(awk -v g="$gmacs" -v t="$t_sqn" -v p="$peak" 'BEGIN {printf "%.0f%%", 100 * g / (t / 1000) / p}')"
    fi
    row="$(printf '| %-10s | %-9s | %6s | %10s | %10s | %10s | %6s | %10s | %10s | %6s | %9s | %9s |' "$net" "$hw" "${gmacs:--}" \
           "$(fmt "$t_sqn")" "$(fmt "${m_sqn:--}")" "$(fmt "$t_unf")" "$of_peak" "$(fmt "$t_torch")" "$(fmt "${m_torch:--}")" \
           "$ratio" "$(fmt "${r_sqn:--}")" "$(fmt "${r_torch:--}")")"
    echo "$row" >&2
    rows+=("$row")
    rm -f "$p".*
  done
done

echo
echo "$device inference${gpu_name:+ on $gpu_name ($target)}, batch 1, $threads threads, median of $iters runs after $warmup warm-up ($(date +%Y-%m-%d); OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset};" \
     "$(nproc) CPUs, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1))"
[ "$have_torch" = 1 ] && echo "PyTorch $("$PYTHON" -c 'import torch; print(torch.__version__)') eager; sqnrun timing: $([ "$has_bench" = 1 ] && echo '--bench median' || echo 'median of --infer runs')${classes:+, sqnrun output: class ids (upsampling fused with the argmax)}"
[ "$have_torch" = 1 ] && [ "$do_torch" = 1 ] && echo "$torch_alloc_note"
printf '| %-10s | %-9s | %6s | %10s | %10s | %10s | %6s | %10s | %10s | %6s | %9s | %9s |\n' net input GMACs "sqnrun med" "sqnrun min" \
  "unfused" "%sgemm" "torch med" "torch min" ratio "sqnrun RSS" "torch RSS"
echo "|------------|-----------|--------|------------|------------|------------|--------|------------|------------|--------|-----------|-----------|"
for r in "${rows[@]}"; do echo "$r"; done
echo "times in ms; unfused = sqnrun --no-fuse median (op-by-op inverted residuals); %sgemm = the net's GMAC/s at the sqnrun"
echo "median as a share of this machine's sgemm rate, $peak GMAC/s with $threads threads (bench/sgemm_peak.c, measured now);"
echo "ratio = PyTorch median / sqnrun median (> 1: sqnrun faster); peak RSS of each process in MiB"
exit 0
