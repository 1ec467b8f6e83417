# Compiler golden tests against ../shared/reference (skipped, visibly, when it is absent).
add_executable(test_macs_golden test_macs_golden.c)
target_link_libraries(test_macs_golden PRIVATE sqncomp)
add_test(NAME golden_macs_params COMMAND test_macs_golden ${PROJECT_SOURCE_DIR} ${SQN_SHARED_DIR}/reference)
set_tests_properties(golden_macs_params PROPERTIES SKIP_RETURN_CODE 77)

add_executable(test_memplan test_memplan.c)
target_link_libraries(test_memplan PRIVATE sqncomp)
add_test(NAME memplan_valid COMMAND test_memplan ${PROJECT_SOURCE_DIR})
