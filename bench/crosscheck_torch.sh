#!/usr/bin/env bash
# bench/crosscheck_torch.sh - cross-check sqnrun against an independent PyTorch implementation
# (bench/squeezenas_torch.py) on the six published SqueezeNAS networks, with random seeded weights
# (random BN statistics included) and a random input.
#
# For each net and input size: squeezenas_torch.py writes W.pth, IN.npy and the PyTorch logits;
# sqnc compiles examples/NET.sqn for that size; sqnrun --infer writes its logits; the two are compared:
# max |diff|, that relative to max |logit| (the pass criterion, <= TOL), relative L2, argmax agreement.
# Prints a table; exits 1 if any net differs beyond TOL (or fails to run), 0 otherwise.
#
# usage: bench/crosscheck_torch.sh [--nets "mac_small lat_small ..."] [--tol 1e-4] [--threads N]
#                                  [--seed S] [--lraspp-size 784x1568] [--aspp-sizes "784x1568 512x1024"]
#                                  [--work DIR] [--keep]
# environment:
#   SQNC, SQNRUN   the binaries (default: $BUILD_DIR/compiler/sqnc, $BUILD_DIR/runtime/sqnrun)
#   BUILD_DIR      a build directory (default /tmp/bench-build; configured and built here if missing)
#   PYTHON         the Python with torch (default /usr/bin/python3)
#   SQN_CROSSCHECK_DEBUG=1   on a mismatch, also dump PyTorch's intermediates (SQN_TORCH_DUMP) into the work
#                  dir and compare sqnrun's logits with the PyTorch decoder output per class channel, to help
#                  locate the layer (the runtime has no intermediate dump of its own).
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
PYTHON="${PYTHON:-/usr/bin/python3}"
BUILD_DIR="${BUILD_DIR:-/tmp/bench-build}"
nets="mac_small lat_small mac_large lat_large mac_xlarge lat_xlarge"
tol=1e-4
threads=2
seed=1
lraspp_size=784x1568
aspp_sizes="784x1568 512x1024"
work=""
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --nets) nets="$2"; shift 2 ;;
    --tol) tol="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --lraspp-size) lraspp_size="$2"; shift 2 ;;
    --aspp-sizes) aspp_sizes="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ {sub(/^# ?/, ""); print; next} NR > 1 {exit}' "$0"; exit 0 ;;
    *) echo "crosscheck_torch.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

if ! "$PYTHON" -c 'import torch' 2>/dev/null; then
  echo "crosscheck_torch.sh: $PYTHON cannot import torch (apt-get install python3-torch)" >&2
  exit 77
fi

SQNC="${SQNC:-$BUILD_DIR/compiler/sqnc}"
SQNRUN="${SQNRUN:-$BUILD_DIR/runtime/sqnrun}"
if [ ! -x "$SQNC" ] || [ ! -x "$SQNRUN" ]; then
  echo "crosscheck_torch.sh: building into $BUILD_DIR" >&2
  cmake -S "$root" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null && \
    cmake --build "$BUILD_DIR" -j2 --target sqnc sqnrun >/dev/null || { echo "build failed" >&2; exit 2; }
fi

if [ -z "$work" ]; then work="$(mktemp -d /tmp/sqn-crosscheck.XXXXXX)"; fi
mkdir -p "$work"
[ "$keep" = 1 ] || trap 'rm -rf "$work"' EXIT

compare_py='
import sys, torch
sys.path.insert(0, sys.argv[1])
from squeezenas_torch import npy_read
ref, got = npy_read(sys.argv[2]), npy_read(sys.argv[3])
if tuple(ref.shape) != tuple(got.shape):
    print("shape %s vs %s" % ("x".join(map(str, ref.shape)), "x".join(map(str, got.shape)))); sys.exit(0)
ref, got = ref.double(), got.double()
d = (ref - got).abs()
mx = ref.abs().max().item()
l2 = ((ref - got).norm() / ref.norm()).item()
agree = (ref.argmax(1) == got.argmax(1)).double().mean().item()
i = int(d.flatten().argmax().item())
C, H, W = ref.shape[1:]
worst = "c%d,y%d,x%d" % (i // (H * W) % C, i // W % H, i % W)
print("%.3e %.4g %.3e %.3e %.6f %s" % (d.max().item(), mx, d.max().item() / mx, l2, agree, worst))
'

fail=0
rows=()
for net in $nets; do
  case "$net" in
    *_xlarge) sizes="$aspp_sizes" ;;
    *) sizes="$lraspp_size" ;;
  esac
  for hw in $sizes; do
    h="${hw%x*}"; w="${hw#*x}"
    tag="${net}_${hw}"
    p="$work/$tag"
    status=ok
    if ! "$PYTHON" "$here/squeezenas_torch.py" "$net" --input "$hw" --seed "$seed" --threads "$threads" \
         --save-weights "$p.pth" --save-input "$p.in.npy" --save-logits "$p.torch.npy" 2>"$p.torch.log"; then
      status="torch-failed"; cat "$p.torch.log" >&2
    elif ! "$SQNC" "$root/examples/$net.sqn" --input "3x$hw" -q -o "$p.plan" 2>"$p.sqnc.log"; then
      status="sqnc-failed"; cat "$p.sqnc.log" >&2
    elif ! "$SQNRUN" "$p.plan" --weights "$p.pth" --infer "$p.in.npy" --logits "$p.sqn.npy" \
         --threads "$threads" 2>"$p.sqnrun.log"; then
      status="sqnrun-failed"; cat "$p.sqnrun.log" >&2
    fi
    if [ "$status" = ok ]; then
      res="$("$PYTHON" -c "$compare_py" "$here" "$p.torch.npy" "$p.sqn.npy")"
      set -- $res
      if [ "$1" = shape ]; then
        status="shape-mismatch($2 vs $4)"
        rows+=("$(printf '%-11s %-9s %10s %10s %10s %10s %10s  %s' "$net" "$hw" - - - - - "FAIL $status")")
        fail=1
      else
        verdict=PASS
        if ! "$PYTHON" -c "import sys; sys.exit(0 if float('$3') <= float('$tol') else 1)"; then
          verdict="FAIL (worst at $6)"; fail=1
          if [ "${SQN_CROSSCHECK_DEBUG:-0}" != 0 ]; then
            echo "== $tag: dumping PyTorch intermediates to $p.dump" >&2
            SQN_TORCH_DUMP="$p.dump" "$PYTHON" "$here/squeezenas_torch.py" "$net" --input "$hw" \
              --load-weights "$p.pth" --load-input "$p.in.npy" --threads "$threads" --save-logits "$p.torch2.npy" >&2
            "$PYTHON" - "$here" "$p.torch.npy" "$p.sqn.npy" >&2 <<'EOF'
import sys, torch
sys.path.insert(0, sys.argv[1])
from squeezenas_torch import npy_read
ref, got = npy_read(sys.argv[2]).double(), npy_read(sys.argv[3]).double()
d = (ref - got).abs()
print("per-class max|diff|:", " ".join("%.2e" % d[0, c].max().item() for c in range(ref.shape[1])))
rows = d[0].amax(dim=(0, 2)); cols = d[0].amax(dim=(0, 1))
bad_r = (rows > 1e-4 * ref.abs().max()).nonzero().flatten().tolist()
bad_c = (cols > 1e-4 * ref.abs().max()).nonzero().flatten().tolist()
print("rows with large diff: %d of %d (first %s, last %s)" % (len(bad_r), ref.shape[2], bad_r[:5], bad_r[-5:]))
print("cols with large diff: %d of %d (first %s, last %s)" % (len(bad_c), ref.shape[3], bad_c[:5], bad_c[-5:]))
EOF
          fi
        fi
        rows+=("$(printf '%-11s %-9s %10s %10s %10s %10s %10s  %s' "$net" "$hw" "$1" "$2" "$3" "$4" "$5" "$verdict")")
      fi
    else
      rows+=("$(printf '%-11s %-9s %10s %10s %10s %10s %10s  %s' "$net" "$hw" - - - - - "FAIL $status")")
      fail=1
    fi
    t_torch="$(grep -o 'in [0-9.]* s' "$p.torch.log" | tail -1)"
    t_sqn="$(grep -o 'in [0-9.]* s' "$p.sqnrun.log" 2>/dev/null | tail -1)"
    echo "$tag: $status (torch forward ${t_torch:-?}, sqnrun ${t_sqn:-?})" >&2
    [ "$keep" = 1 ] || rm -f "$p.torch.npy" "$p.sqn.npy" "$p.torch2.npy" "$p.in.npy"
  done
done

echo
echo "sqnrun vs PyTorch $("$PYTHON" -c 'import torch; print(torch.__version__)') (independent implementation), random weights seed $seed, $threads threads; tolerance: max|diff| / max|logit| <= $tol"
printf '%-11s %-9s %10s %10s %10s %10s %10s  %s\n' net input max_abs max_logit rel_max rel_l2 argmax_ok verdict
for r in "${rows[@]}"; do echo "$r"; done
[ "$keep" = 1 ] && echo "(files kept in $work)"
exit $fail
