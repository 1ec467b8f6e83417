# tests/dataset.cmake - the training data pipeline (runtime/data/): the synthetic street-scene
# generator (determinism, speed, class frequencies, colour-lookup baseline), the Cityscapes layout
# and its errors, the "synthetic" dataset, and the loader (threads, epochs, augmentation alignment,
# normalization). Self-contained: writes its datasets under a mkdtemp folder.
if(TARGET sqndata)
  add_executable(test_dataset ${CMAKE_CURRENT_LIST_DIR}/test_dataset.c)
  target_link_libraries(test_dataset PRIVATE sqndata m)
  add_test(NAME dataset COMMAND test_dataset)
  set_tests_properties(dataset PROPERTIES TIMEOUT 300)
endif()
