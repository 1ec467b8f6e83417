# tests/kgen.cmake: sqnc's GPU kernel generator (compiler/kgen*.c). test_kgen_host runs every generated kernel
# compiled for the host (LLVM JIT) through the launch ABI against the CPU kernels (sqncpu); kgen_emit_test_ptx
# emits PTX for sm_72/sm_75/sm_90, checks it and, with the CUDA toolkit's ptxas, assembles it (skipped, 77,
# without ptxas). Included from tests/CMakeLists.txt when SQN_HAVE_LLVM.
add_executable(test_kgen_host ${CMAKE_CURRENT_LIST_DIR}/test_kgen_host.c ${CMAKE_CURRENT_LIST_DIR}/test_kgen_host_mix.c
                              ${CMAKE_CURRENT_LIST_DIR}/test_kgen_host_spatial.c)
target_link_libraries(test_kgen_host PRIVATE sqnkgen sqncpu m)
add_test(NAME kgen_host_kernels COMMAND test_kgen_host kernels)
add_test(NAME kgen_targets COMMAND test_kgen_host targets)

add_executable(kgen_emit_test_ptx ${CMAKE_CURRENT_LIST_DIR}/kgen_emit_test_ptx.c)
target_link_libraries(kgen_emit_test_ptx PRIVATE sqnkgen)
set(KGEN_PTX_OUT ${CMAKE_CURRENT_BINARY_DIR}/kgen_ptx)
file(MAKE_DIRECTORY ${KGEN_PTX_OUT}/emit ${KGEN_PTX_OUT}/assemble)
add_test(NAME kgen_ptx_emit COMMAND kgen_emit_test_ptx ${KGEN_PTX_OUT}/emit)
add_test(NAME kgen_ptx_assemble COMMAND kgen_emit_test_ptx ${KGEN_PTX_OUT}/assemble "${SQN_PTXAS}")
set_tests_properties(kgen_ptx_assemble PROPERTIES SKIP_RETURN_CODE 77)
