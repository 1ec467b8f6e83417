# runtime/cpu_ops.cmake: sqncpu, the CPU backend's op kernels (runtime/cpu_ops.h). Included from runtime/CMakeLists.txt.
# Optional speed-ups, each found here and used when present:
#   OpenMP (parallel loops), and CBLAS sgemm from OpenBLAS (pkg-config openblas, Debian libopenblas-dev)
#   or another BLAS with cblas.h (SQN_HAVE_CBLAS); without a BLAS a plain-loop sgemm is compiled in.
add_library(sqncpu STATIC
  ${CMAKE_CURRENT_LIST_DIR}/cpu_conv.c
  ${CMAKE_CURRENT_LIST_DIR}/cpu_pool.c
  ${CMAKE_CURRENT_LIST_DIR}/cpu_resize.c
  ${CMAKE_CURRENT_LIST_DIR}/cpu_eltwise.c
  ${CMAKE_CURRENT_LIST_DIR}/cpu_grad_conv.c
  ${CMAKE_CURRENT_LIST_DIR}/cpu_grad_norm.c
  ${CMAKE_CURRENT_LIST_DIR}/cpu_grad_misc.c)
target_include_directories(sqncpu PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(sqncpu PRIVATE m)
# The inner loops want the vectorizer (-O2 of GCC 12 vectorizes almost none of them).
target_compile_options(sqncpu PRIVATE $<$<AND:$<C_COMPILER_ID:GNU,Clang>,$<NOT:$<CONFIG:Debug>>>:-O3>)
# ... and AVX2+FMA where the build machine has them: without -march the kernels are SSE2 (4 floats, no
# FMA) while OpenBLAS and PyTorch pick AVX2/AVX-512 at run time. x86-64-v3 rather than -march=native:
# on the AVX-512 machines measured (bench/README.md) native tuning made the direct convolutions slower.
# -ffp-contract=fast lets a*b+c become an FMA (ISO C mode turns contraction off). Turn SQN_AVX2 off for a
# binary that must run on x86-64 CPUs without AVX2.
option(SQN_AVX2 "Compile the CPU kernels for AVX2+FMA (x86-64-v3) when the build machine has them" ON)
set(SQN_CPU_ISA "generic")
if(SQN_AVX2 AND CMAKE_C_COMPILER_ID MATCHES "GNU|Clang" AND CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  include(CheckCSourceRuns)
  include(CMakePushCheckState)
  cmake_push_check_state(RESET)
  set(CMAKE_REQUIRED_FLAGS "-march=x86-64-v3")
  set(CMAKE_REQUIRED_QUIET ON)
  check_c_source_runs("int main(void) { __builtin_cpu_init(); return !(__builtin_cpu_supports(\"avx2\") && __builtin_cpu_supports(\"fma\")); }"
                      SQN_CPU_HAS_AVX2)
  cmake_pop_check_state()
  if(SQN_CPU_HAS_AVX2)
    target_compile_options(sqncpu PRIVATE -march=x86-64-v3 -ffp-contract=fast)
    set(SQN_CPU_ISA "x86-64-v3 (AVX2, FMA)")
  endif()
endif()

find_package(OpenMP COMPONENTS C QUIET)
if(OpenMP_C_FOUND)
  # Global, so that targets in other folders (tests/) linking sqncpu can see it.
  set_target_properties(OpenMP::OpenMP_C PROPERTIES IMPORTED_GLOBAL TRUE)
  target_link_libraries(sqncpu PRIVATE OpenMP::OpenMP_C)
endif()

set(SQN_CPU_BLAS "none")
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(SQN_OPENBLAS QUIET IMPORTED_TARGET GLOBAL openblas)
endif()
if(SQN_OPENBLAS_FOUND)
  target_link_libraries(sqncpu PRIVATE PkgConfig::SQN_OPENBLAS)
  target_compile_definitions(sqncpu PRIVATE SQN_HAVE_CBLAS SQN_HAVE_OPENBLAS_THREADS)
  set(SQN_CPU_BLAS "OpenBLAS ${SQN_OPENBLAS_VERSION}")
else()
  find_package(BLAS QUIET)
  if(BLAS_FOUND)
    include(CheckSymbolExists)
    include(CMakePushCheckState)
    cmake_push_check_state(RESET)
    set(CMAKE_REQUIRED_LIBRARIES ${BLAS_LIBRARIES} m)
    set(CMAKE_REQUIRED_QUIET ON)
    check_symbol_exists(cblas_sgemm "cblas.h" SQN_BLAS_HAS_CBLAS)
    check_symbol_exists(openblas_set_num_threads "cblas.h" SQN_BLAS_HAS_OPENBLAS_SET_THREADS)
    check_symbol_exists(openblas_get_parallel "cblas.h" SQN_BLAS_HAS_OPENBLAS_GET_PARALLEL)
    cmake_pop_check_state()
    if(SQN_BLAS_HAS_CBLAS)
      target_link_libraries(sqncpu PRIVATE ${BLAS_LIBRARIES})
      target_compile_definitions(sqncpu PRIVATE SQN_HAVE_CBLAS)
      if(SQN_BLAS_HAS_OPENBLAS_SET_THREADS AND SQN_BLAS_HAS_OPENBLAS_GET_PARALLEL)
        target_compile_definitions(sqncpu PRIVATE SQN_HAVE_OPENBLAS_THREADS)
      endif()
      set(SQN_CPU_BLAS "BLAS ${BLAS_LIBRARIES}")
    endif()
  endif()
endif()
message(STATUS "sqn: CPU kernels: OpenMP ${OpenMP_C_FOUND}, sgemm from ${SQN_CPU_BLAS}, instruction set ${SQN_CPU_ISA}")
