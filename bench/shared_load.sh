#!/usr/bin/env bash
# bench/shared_load.sh - batch-1 inference on a machine another process is using (issue 13 item 4): the median
# latency of `sqnrun NET.plan --bench` with SQN_OMP_WAIT=active and passive (sqnrun's OpenMP wait policy: active
# threads spin between parallel regions, passive ones sleep), and of PyTorch eager (bench/squeezenas_torch.py), each
# on an idle machine and next to LOAD busy-looping processes (one per core by default), side by side in one run.
# Prints ms per run and the slowdown under load (loaded / idle). A benchmark, not a test: always exits 0.
#
# usage: bench/shared_load.sh [--net mac_small] [--size 784x1568] [--threads 2] [--iters 10] [--load N]
# (784x1568 is the smallest input the PyTorch reference takes: its LR-ASPP pools with a 49x49 window)
# environment: SQNC, SQNRUN (default $BUILD_DIR/{compiler/sqnc,runtime/sqnrun}), BUILD_DIR (default build),
# PYTHON (default /usr/bin/python3).
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
PYTHON="${PYTHON:-/usr/bin/python3}"
. "$here/torch_env.sh"
BUILD_DIR="${BUILD_DIR:-$root/build}"
SQNC="${SQNC:-$BUILD_DIR/compiler/sqnc}"
SQNRUN="${SQNRUN:-$BUILD_DIR/runtime/sqnrun}"
net=mac_small size=784x1568 threads=2 iters=10 load=$(nproc)
while [ $# -gt 0 ]; do
  case "$1" in
    --net) net="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --iters) iters="$2"; shift 2 ;;
    --load) load="$2"; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ {sub(/^# ?/, ""); print; next} NR > 1 {exit}' "$0"; exit 0 ;;
    *) echo "shared_load.sh: unknown argument '$1'" >&2; exit 0 ;;
  esac
done
for tool in "$SQNC" "$SQNRUN"; do [ -x "$tool" ] || { echo "shared_load.sh: no $tool (build first)"; exit 0; }; done
work=$(mktemp -d /tmp/sqn-shared.XXXXXX)
pids=()
cleanup() { [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
"$SQNC" "$root/examples/$net.sqn" --input "3x$size" -q -o "$work/net.plan" || exit 0

sqn_ms() { # POLICY: median ms of --bench
  SQN_OMP_WAIT=$1 "$SQNRUN" "$work/net.plan" --bench --iters "$iters" --warmup 3 --threads "$threads" --json 2>/dev/null |
    "$PYTHON" -c 'import json, sys; print("%.2f" % json.load(sys.stdin)["median_ms"])' 2>/dev/null || echo nan
}
torch_ms() {
  "$PYTHON" -c 'import torch' 2>/dev/null || { echo nan; return; }
  torch_py "$here/squeezenas_torch.py" "$net" --input "$size" --bench --json --threads "$threads" --iters "$iters" --warmup 3 2>/dev/null |
    "$PYTHON" -c 'import json, sys; print("%.2f" % json.loads(sys.stdin.read().strip().splitlines()[-1])["median_ms"])' 2>/dev/null || echo nan
}
start_load() { for _ in $(seq "$load"); do "$PYTHON" -c 'while True: pass' & pids+=($!); done; sleep 1; }
stop_load() { kill "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null; pids=(); }

echo "# $net at $size, batch 1, --threads $threads, $iters timed runs; load: $load busy-looping processes; $(nproc) cores; OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
echo "# $torch_alloc_note"
declare -A idle busy
for who in active passive torch; do
  if [ "$who" = torch ]; then idle[$who]=$(torch_ms); else idle[$who]=$(sqn_ms "$who"); fi
done
start_load
for who in active passive torch; do
  if [ "$who" = torch ]; then busy[$who]=$(torch_ms); else busy[$who]=$(sqn_ms "$who"); fi
done
stop_load
"$PYTHON" - "${idle[active]}" "${busy[active]}" "${idle[passive]}" "${busy[passive]}" "${idle[torch]}" "${busy[torch]}" <<'PY'
import math, sys
v = list(map(float, sys.argv[1:]))
rows = [("sqnrun, SQN_OMP_WAIT=active", v[0], v[1]), ("sqnrun, SQN_OMP_WAIT=passive", v[2], v[3]), ("PyTorch eager", v[4], v[5])]
print(f"{'':32} {'idle ms':>9} {'loaded ms':>10} {'slowdown':>9}")
for name, a, b in rows:
    print(f"{name:32} {a:9.2f} {b:10.2f} {b / a if a > 0 else math.nan:8.2f}x")
PY
exit 0
