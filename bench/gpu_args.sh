# bench/gpu_args.sh - sourced by the benchmarks that take --device cpu|cuda: sets the sqnc and sqnrun
# arguments for the device (sqnc_gpu, sqnrun_gpu arrays), the GPU target (from nvidia-smi unless $target is
# set) and gpu_name. Usage: device=cuda target="" . bench/gpu_args.sh || exit 0
sqnc_gpu=()
sqnrun_gpu=()
gpu_name=""
if [ "$device" = cuda ]; then
  [ -n "$target" ] || target="sm_$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d '. ')"
  if [ "$target" = "sm_" ]; then
    echo "$(basename "$0"): no GPU found (nvidia-smi); give --target sm_XY" >&2
    return 1
  fi
  gpu_name="$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)"
  sqnc_gpu=(--target "$target")
  sqnrun_gpu=(--backend cuda)
fi
