# tests/image_io.cmake - image I/O tests (runtime/io/): Cityscapes tables, label PNG round
# trips, PNGs of every color type / bit depth and JPEGs written with libpng / libjpeg and read back,
# the normalization, and missing/garbage/truncated/corrupt/oversized files. Self-contained.
if(TARGET sqnio)
  add_executable(test_image_io ${CMAKE_CURRENT_LIST_DIR}/test_image_io.c)
  target_link_libraries(test_image_io PRIVATE sqnio m)
  add_test(NAME image_io COMMAND test_image_io)
  set_tests_properties(image_io PROPERTIES TIMEOUT 300)
endif()
