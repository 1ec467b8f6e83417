# compiler/kgen.cmake: sqnkgen, sqnc's GPU kernel generator (LLVM C API: PTX through NVPTX, host code through
# MCJIT for the tests). Included from compiler/CMakeLists.txt when SQN_HAVE_LLVM (find_package(LLVM CONFIG)).
add_library(sqnkgen STATIC
  ${CMAKE_CURRENT_LIST_DIR}/kgen_core.c
  ${CMAKE_CURRENT_LIST_DIR}/kgen_target.c
  ${CMAKE_CURRENT_LIST_DIR}/kgen_util.c
  ${CMAKE_CURRENT_LIST_DIR}/kgen_math.c
  ${CMAKE_CURRENT_LIST_DIR}/kgen_eltwise.c
  ${CMAKE_CURRENT_LIST_DIR}/kgen_conv.c
  ${CMAKE_CURRENT_LIST_DIR}/kgen_mix.c
  ${CMAKE_CURRENT_LIST_DIR}/kgen_resize.c
  ${CMAKE_CURRENT_LIST_DIR}/kgen_pool.c)
target_include_directories(sqnkgen PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_include_directories(sqnkgen SYSTEM PRIVATE ${LLVM_INCLUDE_DIRS})
target_link_libraries(sqnkgen PUBLIC sqnplan LLVM)
