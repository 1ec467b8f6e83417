# tests/derive_svg.cmake - the SVGs that deriving writes (runtime/search/derive_svg.c): the pareto plot
# and the architecture diagram from a hand-made Plan/Search/Arch; well-formedness, labels, tooltips,
# escaping, degenerate ranges (no nan/inf) and write errors. Self-contained: writes under a mkdtemp
# folder (or, run by hand with a folder as argument, keeps the SVGs there).
add_executable(test_derive_svg ${CMAKE_CURRENT_LIST_DIR}/test_derive_svg.c)
target_link_libraries(test_derive_svg PRIVATE sqnsearch m)
add_test(NAME derive_svg COMMAND test_derive_svg ${TESTDIR})
set_tests_properties(derive_svg PROPERTIES TIMEOUT 60)
