# tests/weights.cmake - weights I/O tests: PyTorch .pth (legacy and zip) against the reference
# files, safetensors round trips, and rejection of truncated/corrupt/malicious inputs.
# Without ../shared/reference the .pth parts are skipped (exit 77) after the self-contained parts.
if(TARGET sqnio)
  add_executable(test_weights ${CMAKE_CURRENT_LIST_DIR}/test_weights.c)
  target_link_libraries(test_weights PRIVATE sqnio m)
  add_test(NAME weights_io COMMAND test_weights ${SQN_SHARED_DIR}/reference)
  set_tests_properties(weights_io PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)
endif()
