# Language unit tests: every construct and every diagnostic (tests/test_lang.c).
add_executable(test_lang test_lang.c)
target_link_libraries(test_lang PRIVATE sqncomp)
add_test(NAME lang_constructs_and_diagnostics COMMAND test_lang)

# The front end on hostile sizes (million-character tokens and lines, a million lines, deep nesting):
# located errors or a compile, never memory corruption; the timeout catches quadratic behaviour.
add_executable(test_lang_limits test_lang_limits.c)
target_link_libraries(test_lang_limits PRIVATE sqncomp)
add_test(NAME lang_long_inputs COMMAND test_lang_limits)
set_tests_properties(lang_long_inputs PROPERTIES TIMEOUT 300)
