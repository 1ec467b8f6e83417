# tests/cpu_ops.cmake: the CPU op kernels (sqncpu) against naive double-precision references; test_cpu_ops --bench times convs.
add_executable(test_cpu_ops ${CMAKE_CURRENT_LIST_DIR}/test_cpu_ops.c)
target_link_libraries(test_cpu_ops PRIVATE sqncpu m)
add_test(NAME cpu_ops COMMAND test_cpu_ops)
