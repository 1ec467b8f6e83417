# Language unit tests: every construct and every diagnostic (tests/test_lang.c).
add_executable(test_lang test_lang.c)
target_link_libraries(test_lang PRIVATE sqncomp)
add_test(NAME lang_constructs_and_diagnostics COMMAND test_lang)
