# Language unit tests: every construct and every diagnostic (tests/test_lang.c).
add_library(lang_compile STATIC lang_compile.c)
target_link_libraries(lang_compile PUBLIC sqncomp)
add_executable(test_lang test_lang.c)
target_link_libraries(test_lang PRIVATE lang_compile)
add_test(NAME lang_constructs_and_diagnostics COMMAND test_lang)
# Lists, comprehensions, for/if, def functions, callables as values, candidate-set comprehensions.
add_executable(test_lang_structure test_lang_structure.c)
target_link_libraries(test_lang_structure PRIVATE lang_compile)
add_test(NAME lang_structure COMMAND test_lang_structure)

# The front end on hostile sizes (million-character tokens and lines, a million lines, deep nesting):
# located errors or a compile, never memory corruption; the timeout catches quadratic behaviour.
add_executable(test_lang_limits test_lang_limits.c)
target_link_libraries(test_lang_limits PRIVATE sqncomp)
add_test(NAME lang_long_inputs COMMAND test_lang_limits)
set_tests_properties(lang_long_inputs PROPERTIES TIMEOUT 300)
