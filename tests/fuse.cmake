# tests/fuse.cmake: unit tests for the fusion pass and the IR dumps (compiler/passes/fuse.c, dump.c).
add_executable(test_fuse test_fuse.c)
target_link_libraries(test_fuse sqncomp)
add_test(NAME fuse COMMAND test_fuse)
