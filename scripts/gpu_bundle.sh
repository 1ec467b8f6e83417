#!/bin/bash
# scripts/gpu_bundle.sh - pack what the GPU suite needs into one file, for a GPU machine that has the NVIDIA
# driver, cuDNN 9 and Python/PyTorch but no compilers, flex/bison, LLVM or Debian's -dev libraries:
# a Release CUDA build's test definitions and binaries (sqnrun, test_gpu, gpu_probe, compare_npy), sqnc
# linked with LLVM statically (no libLLVM, z3, icu at run time), the shared libraries sqnrun needs beyond
# glibc/libstdc++ (OpenBLAS, libzip, libpng, libjpeg, libgomp, the CUDA runtime), and the reference data
# the GPU goldens read. scripts/gpu_run.sh unpacks it there and runs `ctest -L gpu` and the GPU benches.
# usage: scripts/gpu_bundle.sh [OUT.tar.xz] (default .gpu/bundle.tar.xz); BUILD_DIR (default build-gpu).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/.gpu/bundle.tar.xz}"
build="${BUILD_DIR:-$root/build-gpu}"
ref="$root/../shared/reference"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSQN_CUDA=ON -DSQN_LLVM=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target sqnc sqnrun test_gpu gpu_probe compare_npy >/dev/null
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
# sqnc again, with LLVM's static libraries instead of libLLVM-14.so (110 MB and its z3/icu/xml2 dependencies)
llvm_libs="$(llvm-config-14 --link-static --libs nvptx x86 mcjit executionengine passes core support analysis bitwriter ipo | tr '\n' ' ')"
(cd "$build/compiler" && eval "$(sed "s#-o sqnc#-o $stage/sqnc#; s#-Wl,-rpath,[^ ]*##; s#[^ ]*libLLVM-14.so[.0-9]*#-L/usr/lib/llvm-14/lib $llvm_libs -lstdc++ -lz -ltinfo -lrt -ldl -lpthread#" CMakeFiles/sqnc.dir/link.txt)")
(cd "$root" && { find "$(basename "$build")" -name CTestTestfile.cmake; printf '%s\n' runtime/sqnrun tests/test_gpu tests/gpu_probe tests/compare_npy | sed "s#^#$(basename "$build")/#"; } |
  tar -cf - -T - | tar -C "$stage" -xf -)
[ "$(basename "$build")" = build-gpu ] || mv "$stage/$(basename "$build")" "$stage/build-gpu"
mv "$stage/sqnc" "$stage/build-gpu/compiler/sqnc"
strip "$stage"/build-gpu/compiler/sqnc "$stage"/build-gpu/runtime/sqnrun "$stage"/build-gpu/tests/{test_gpu,gpu_probe,compare_npy}
mkdir -p "$stage/lib"
for lib in libgomp.so.1 libopenblas.so.0 libgfortran.so.5 libquadmath.so.0 libzip.so.4 libbz2.so.1.0 libcrypto.so.3 \
           libpng16.so.16 libjpeg.so.62 libcudart.so.13 libtinfo.so.6; do
  path="$(ldd "$build/runtime/sqnrun" "$stage/build-gpu/compiler/sqnc" | awk -v l="$lib" '$1 == l {print $3; exit}')"
  [ -n "$path" ] && cp -L "$path" "$stage/lib/"
done
if [ -d "$ref" ]; then
  mkdir -p "$stage/shared/reference"
  (cd "$ref" && cp -r weights input_1x3x784x1568.npy mac_small.* lat_small.* tolerances.json macs.json "$stage/shared/reference/")
else
  echo "gpu_bundle.sh: $ref not found: the GPU goldens will skip" >&2
fi
echo "$root" > "$stage/ROOT"
mkdir -p "$(dirname "$out")"
tar -C "$stage" -cf - ROOT build-gpu lib $( [ -d "$stage/shared" ] && echo shared) | xz -7 -T"$(nproc)" > "$out"
echo "$out: $(du -h "$out" | cut -f1)"
