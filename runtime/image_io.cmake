# runtime/image_io.cmake - sqnimage: image files for the runtime (PNG/JPEG input for `sqnrun --infer
# in.png`, normalized as upstream; label maps written as Cityscapes-palette or gray PNGs) and the
# Cityscapes label tables. Included from runtime/CMakeLists.txt. Needs libpng (libpng-dev) and
# libjpeg (libjpeg62-turbo-dev) through pkg-config. Uses only the NamedTensor struct of
# tensor_set.h (no code of sqnweights).
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBPNG REQUIRED IMPORTED_TARGET libpng)
pkg_check_modules(LIBJPEG REQUIRED IMPORTED_TARGET libjpeg)

add_library(sqnimage STATIC
  ${CMAKE_CURRENT_LIST_DIR}/image_io.c
  ${CMAKE_CURRENT_LIST_DIR}/image_png.c
  ${CMAKE_CURRENT_LIST_DIR}/image_jpeg.c
  ${CMAKE_CURRENT_LIST_DIR}/cityscapes.c)
target_include_directories(sqnimage PUBLIC ${CMAKE_CURRENT_LIST_DIR})
# PUBLIC: tests/test_image_io.c writes its PNG/JPEG fixtures with libpng and libjpeg directly.
target_link_libraries(sqnimage PUBLIC sqnfile PkgConfig::LIBPNG PkgConfig::LIBJPEG)
