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
message(STATUS "sqn: CPU kernels: OpenMP ${OpenMP_C_FOUND}, sgemm from ${SQN_CPU_BLAS}")
