#!/bin/sh
# ptx_assemble.sh SQNC PTXAS SQN_FILE OUTDIR: compiles SQN_FILE with sqnc --target sm_72,sm_75,sm_90
# --emit-ptx and assembles every module and kernel file with the CUDA toolkit's ptxas, so PTX the
# back end emits but ptxas refuses fails the build's tests. sm_72 PTX is assembled with -arch=sm_75
# (CUDA 13 has no sm_72 target; ptxas accepts PTX whose .target is older than -arch).
# Exits 77 (skipped) when there is no ptxas.
sqnc=$1 ptxas=$2 src=$3 out=$4
if [ -z "$ptxas" ] || [ ! -x "$ptxas" ]; then
  echo "SKIP: no ptxas (CUDA toolkit) on this machine: the emitted PTX cannot be assembled here"
  exit 77
fi
rm -rf "$out" && mkdir -p "$out" || exit 1
"$sqnc" "$src" --target sm_72,sm_75,sm_90 --emit-ptx "$out/ptx" -o "$out/net.plan" || exit 1
n=0
for f in "$out"/ptx/*.ptx "$out"/ptx/*/*.ptx; do
  case "$f" in *sm_90*) arch=sm_90 ;; *) arch=sm_75 ;; esac
  if ! "$ptxas" -arch="$arch" "$f" -o "$out/a.cubin" 2>"$out/ptxas.log"; then
    echo "ptxas -arch=$arch rejects $f:"; cat "$out/ptxas.log"; exit 1
  fi
  n=$((n + 1))
done
grep -q '^\.target sm_72' "$out/ptx/sm_72.ptx" || { echo "sm_72 module does not target sm_72"; exit 1; }
echo "ptxas assembled $n PTX files (3 modules and every kernel for sm_72, sm_75, sm_90)"
