# runtime/data.cmake - sqndata: the training data pipeline. Datasets in the Cityscapes layout or
# generated ("synthetic", the street-scene generator of synth.h), and the loader that augments and
# normalizes batches on background threads. Included from runtime/CMakeLists.txt; needs sqnimage
# (runtime/image_io.cmake) for PNG/JPEG and the Cityscapes tables, pthreads and libm.
find_package(Threads REQUIRED)

add_library(sqndata STATIC
  ${CMAKE_CURRENT_LIST_DIR}/dataset_cityscapes.c
  ${CMAKE_CURRENT_LIST_DIR}/synth_scene.c
  ${CMAKE_CURRENT_LIST_DIR}/synth_objects.c
  ${CMAKE_CURRENT_LIST_DIR}/synth_write.c
  ${CMAKE_CURRENT_LIST_DIR}/loader.c)
target_include_directories(sqndata PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(sqndata PUBLIC sqnimage Threads::Threads m)
