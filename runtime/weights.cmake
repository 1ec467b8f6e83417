# runtime/weights.cmake - sqnweights: weights I/O for the runtime (TensorSet, PyTorch .pth reader
# for the zip and legacy formats with a strict unpickler, safetensors reader/writer, minimal JSON).
# Included from runtime/CMakeLists.txt. Needs libzip (Debian: libzip-dev) through pkg-config.
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBZIP REQUIRED IMPORTED_TARGET GLOBAL libzip)

add_library(sqnweights STATIC
  ${CMAKE_CURRENT_LIST_DIR}/tensor_set.c
  ${CMAKE_CURRENT_LIST_DIR}/pickle.c
  ${CMAKE_CURRENT_LIST_DIR}/pth_read.c
  ${CMAKE_CURRENT_LIST_DIR}/safetensors.c
  ${CMAKE_CURRENT_LIST_DIR}/json_min.c)
target_include_directories(sqnweights PUBLIC ${CMAKE_CURRENT_LIST_DIR})
# PUBLIC: users of sqnweights (tests/test_weights.c writes zip fixtures) get libzip too.
target_link_libraries(sqnweights PUBLIC sqnfile PkgConfig::LIBZIP)
