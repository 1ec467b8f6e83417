# bench/torch_env.sh - sourced by the benches that time PyTorch: `torch_py ARGS...` runs "$PYTHON" ARGS with glibc's
# allocator told to keep freed memory (GLIBC_TUNABLES glibc.malloc.mmap_max=0, a 16 GiB trim threshold), as a caching
# allocator (jemalloc, tcmalloc: PyTorch's own CPU tuning advice) would. Without it every large tensor PyTorch frees
# goes back to the kernel and the next one is faulted in again page by page: on the 2-vCPU VMs this project is
# measured on, that made PyTorch's eager inference 5-15x slower (lat_small at 1024x2048: 2132 ms, 13.6 s of system
# time over 7 passes, against 150 ms with the setting), which is a fact about glibc on those VMs, not about PyTorch.
# sqnrun allocates its activations once per input size and is not affected.
# Environment: TORCH_MALLOC=system runs PyTorch with the allocator as it comes (also when GLIBC_TUNABLES or LD_PRELOAD
# is already set: the caller's choice wins). $torch_alloc_note says which setting ran, for the benches' headers.
TORCH_MALLOC="${TORCH_MALLOC:-keep}"
if [ "$TORCH_MALLOC" = system ] || [ -n "${GLIBC_TUNABLES:-}" ] || [ -n "${LD_PRELOAD:-}" ]; then
  torch_alloc_note="PyTorch allocator: as set by the caller (GLIBC_TUNABLES='${GLIBC_TUNABLES:-}', LD_PRELOAD='${LD_PRELOAD:-}')"
  torch_py() { "$PYTHON" "$@"; }
else
  torch_alloc_note="PyTorch allocator: glibc keeping freed memory (GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=16G; TORCH_MALLOC=system for none)"
  torch_py() { GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184 "$PYTHON" "$@"; }
fi
