#!/bin/sh
# derived_portable.sh SQNC SQNRUN REPO WORKDIR: a search's run folder is self-contained. A space spread over
# three folders (spaces/quick.sqn imports lib/cands.sqn, which imports ../../common/decoders.sqn and the
# standard library; commented-out imports of existing files are decoys) is searched briefly; the run folder
# holds derived.sqn, which imports "space/spaces/quick.sqn", and space/ the three files in their layout
# (not the decoys, not the standard library), and no absolute path. Then the sources are deleted, the
# folder is moved, and derived.sqn compiles from another working directory and from its own.
set -eu
sqnc=$1 sqnrun=$2 repo=$3 work=$4
rm -rf "$work" && mkdir -p "$work/src/spaces/lib" "$work/src/common" "$work/elsewhere/deeper"
work=$(cd "$work" && pwd)
sed 's|^import "squeezenas.sqn"|import "lib/cands.sqn"  // the candidates\n// import "decoy.sqn"|' \
  "$repo/spaces/small_quick.sqn" > "$work/src/spaces/quick.sqn"
sed 's|^import "std/decoders.sqn"|import "../../common/decoders.sqn"\n/* import "../decoy.sqn" */|' \
  "$repo/spaces/squeezenas.sqn" > "$work/src/spaces/lib/cands.sqn"
printf '// the decoders, one folder over\nimport "std/decoders.sqn"\n' > "$work/src/common/decoders.sqn"
echo '// never imported' > "$work/src/spaces/decoy.sqn"
cp "$work/src/spaces/decoy.sqn" "$work/src/spaces/lib/decoy.sqn"
grep -q '^import "lib/cands.sqn"' "$work/src/spaces/quick.sqn"
grep -q '^import "../../common/decoders.sqn"' "$work/src/spaces/lib/cands.sqn"

"$sqnc" "$work/src/spaces/quick.sqn" --input 3x64x128 -q -o "$work/space.plan"
"$sqnrun" "$work/space.plan" --search --data synthetic --synthetic-size 64x128 --synthetic-train 2 --synthetic-val 1 \
  --batch 2 --crop 64x128 --seed 3 --epochs 1 --warmup-epochs 0 --samples 1 --derive-val 1 --threads 2 \
  --out "$work/run" > "$work/search.log" 2>&1 || { cat "$work/search.log"; exit 1; }

run=$work/run
grep -qx 'import "space/spaces/quick.sqn"' "$run/derived.sqn" || { cat "$run/derived.sqn"; exit 1; }
if grep -q "$work" "$run/derived.sqn"; then echo "derived.sqn names an absolute path"; exit 1; fi
(cd "$run/space" && find . -type f | sort) > "$work/copied.txt"
printf './common/decoders.sqn\n./spaces/lib/cands.sqn\n./spaces/quick.sqn\n' | diff - "$work/copied.txt"
cmp "$work/src/spaces/lib/cands.sqn" "$run/space/spaces/lib/cands.sqn"

rm -rf "$work/src"
mv "$run" "$work/elsewhere/deeper/moved-run"
run=$work/elsewhere/deeper/moved-run
(cd / && "$sqnc" "$run/derived.sqn" --input 3x64x128 -q -o "$work/derived.plan")
(cd "$run" && "$sqnc" derived.sqn --input 3x64x128 -q -o "$work/derived_here.plan")
for plan in derived derived_here; do "$sqnrun" "$work/$plan.plan" --info | grep -q "quick_derived"; done
echo "derived.sqn compiles from the moved run folder, without the original sources: ok"
