#!/bin/bash
# scripts/gpu_run.sh - on a GPU machine with no build tools: unpack .gpu/bundle.tar.xz (scripts/gpu_bundle.sh,
# made on the build machine), run `ctest -L gpu` and the GPU benchmarks, and keep their output in $OUT
# (default /tmp/gpu_out). Run it from the root of a copy of the checkout. The bundle's test definitions hold
# the build machine's absolute paths: that checkout path (and ../shared beside it) is linked to this copy
# when it does not exist here. Needs: the NVIDIA driver, libcudnn.so.9 (found under /opt, /usr/local or
# /usr/lib), python3 and xz support in it (lzma), ctest; the benches also PyTorch.
# usage: bash scripts/gpu_run.sh [PHASES]  (comma list of ctest, infer, search; default all three)
# environment: CT_T, IN_T, SE_T: time limits in seconds of the phases (200, 110, 60); CT_ARGS: more ctest args
set -u
here=$PWD
out=${OUT:-/tmp/gpu_out}
mkdir -p "$out"
phases=${1:-ctest,infer,search}
exec > >(tee -a "$out/log.txt") 2>&1
t0=$(date +%s)
say() { echo "[+$(( $(date +%s) - t0 ))s] $*"; }
say "start in $here"
nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv,noheader
python3 -c "import lzma,sys,shutil; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)" .gpu/bundle.tar.xz |
  tar -C .gpu -xf - || { say "cannot unpack .gpu/bundle.tar.xz"; exit 1; }
root=$(cat .gpu/ROOT)
rm -rf build-gpu && mv .gpu/build-gpu build-gpu
link() {  # link $1 to $2 unless $1 is a real folder already
  if [ "$1" = "$2" ]; then return; fi
  if [ -e "$1" ] && [ ! -L "$1" ]; then say "$1 exists here: the tests' paths will not resolve"; return; fi
  mkdir -p "$(dirname "$1")" && rm -f "$1" && ln -s "$2" "$1"
}
link "$root" "$here"
[ -d .gpu/shared ] && link "$(dirname "$root")/shared" "$here/.gpu/shared"
cudnn=$(find /opt /usr/local /usr/lib/x86_64-linux-gnu -name 'libcudnn.so.9' 2>/dev/null | head -1)
say "cuDNN: ${cudnn:-not found}"
export LD_LIBRARY_PATH=$here/.gpu/lib${cudnn:+:$(dirname "$cudnn")}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
ldd build-gpu/runtime/sqnrun build-gpu/compiler/sqnc | grep 'not found'
build-gpu/tests/gpu_probe; say "gpu_probe exit $?"
export SQNC=$root/build-gpu/compiler/sqnc SQNRUN=$root/build-gpu/runtime/sqnrun PYTHON=python3 PYTHONUNBUFFERED=1
case ,$phases, in *,ctest,*)
  say "ctest -L gpu"
  (cd "$root/build-gpu" && timeout "${CT_T:-200}" ctest -L gpu -j4 --timeout 190 --output-on-failure ${CT_ARGS:-}) > "$out/ctest.txt" 2>&1
  say "ctest exit $?"; tail -40 "$out/ctest.txt"
  tar -C build-gpu/tests -cJf "$out/gpu_out.tar.xz" gpu_out 2>/dev/null ;;
esac
case ,$phases, in *,infer,*)
  say "bench/infer_gpu.sh"
  (cd "$root" && timeout "${IN_T:-110}" bash bench/infer_gpu.sh --iters 20) > "$out/infer_gpu.txt" 2>&1
  say "infer exit $?"; cat "$out/infer_gpu.txt" ;;
esac
case ,$phases, in *,search,*)
  say "bench/search_step.sh --device cuda"
  (cd "$root" && timeout "${SE_T:-60}" bash bench/search_step.sh --device cuda --sizes 784x784 --iters 3) > "$out/search_gpu.txt" 2>&1
  say "search exit $?"; cat "$out/search_gpu.txt" ;;
esac
say end
