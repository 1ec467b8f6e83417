# tests/cpu_ops.cmake: the CPU op kernels (sqncpu) against naive double-precision references; test_cpu_ops --bench times convs.
add_executable(test_cpu_ops ${CMAKE_CURRENT_LIST_DIR}/test_cpu_ops.c)
target_link_libraries(test_cpu_ops PRIVATE sqncpu m)
add_test(NAME cpu_ops COMMAND test_cpu_ops)
# The fused inverted residual (cpu_fused_ir) against the op-by-op path, over strides, kernels, dilations, groups, threads.
add_executable(test_fused_ir ${CMAKE_CURRENT_LIST_DIR}/test_fused_ir.c)
target_link_libraries(test_fused_ir PRIVATE sqncpu m)
add_test(NAME fused_ir COMMAND test_fused_ir)
# The same with cpu_gemm_wide off (SQN_CPU_GEMM=blas): the sgemm and cpu_gemm_smallk paths that CPUs without
# AVX-512 take.
add_test(NAME fused_ir_blas COMMAND test_fused_ir)
set_tests_properties(fused_ir_blas PROPERTIES ENVIRONMENT SQN_CPU_GEMM=blas)
# bench/sgemm_peak: the sgemm rate bench/infer_cpu.sh relates the networks' GMAC/s to (a tool, not a test).
add_executable(sgemm_peak ${PROJECT_SOURCE_DIR}/bench/sgemm_peak.c)
target_link_libraries(sgemm_peak PRIVATE sqncpu sqnbase m)
if(TARGET OpenMP::OpenMP_C)
  target_link_libraries(sgemm_peak PRIVATE OpenMP::OpenMP_C)
endif()
