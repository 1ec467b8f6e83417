# tests/metrics.cmake - tests of runtime/data/metrics.c (sqndata): hand-made confusions with
# hand-computed IoUs (perfect, all wrong, absent and only-predicted classes, ignore pixels,
# out-of-range predictions, Cityscapes categories), merging, the table and the JSON (checked with
# the strict parser of runtime/io/json_min.c, in sqnio). Self-contained.
if(TARGET sqndata)
  add_executable(test_metrics ${CMAKE_CURRENT_LIST_DIR}/test_metrics.c)
  target_link_libraries(test_metrics PRIVATE sqndata m)
  add_test(NAME metrics COMMAND test_metrics)
  set_tests_properties(metrics PROPERTIES TIMEOUT 60)
endif()
