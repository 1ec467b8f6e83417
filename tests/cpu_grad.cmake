# tests/cpu_grad.cmake: the CPU training kernels (runtime/cpu/cpu_grad.h) against finite differences of naive
# double-precision forwards; test_cpu_grad --bench times conv backward (not run by ctest).
add_executable(test_cpu_grad ${CMAKE_CURRENT_LIST_DIR}/test_cpu_grad.c)
target_link_libraries(test_cpu_grad PRIVATE sqncpu m)
add_test(NAME cpu_grad COMMAND test_cpu_grad)
