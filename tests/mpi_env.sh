# mpi_env.sh - sourced by the data-parallel test scripts (dist_mpi.sh, gpu_dist.sh) after they set $here and $work:
# skips (exit 77) without mpirun or python3, makes an empty $work, and defines mpi NP ARGS... (mpirun for containers:
# shared memory without cross-memory attach, no core binding, root allowed, 300 s at most), fail MSG and
# cmpruns REF RUN [WEIGHT_TOL] (dist_compare.py with losses within 1e-5).
command -v mpirun >/dev/null || { echo "SKIP: no mpirun (Debian: openmpi-bin libopenmpi-dev)"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: no python3 to compare checkpoints"; exit 77; }
rm -rf "$work" && mkdir -p "$work" || exit 1
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi() { local np=$1; shift; timeout 300 mpirun --oversubscribe --bind-to none --mca btl self,vader -np "$np" "$@"; }
fail() { echo "FAIL: $*"; exit 1; }
cmpruns() { python3 "$here/dist_compare.py" "$1" "$2" 1e-5 "${3:-1e-4}" || fail "$2 differs from $1"; }
