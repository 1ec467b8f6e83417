# tests/derive_svg.cmake - the SVGs that deriving writes (runtime/derive_svg.c): the pareto plot and
# the architecture diagram from a hand-made Plan/Search/Arch; well-formedness, labels, tooltips,
# escaping, degenerate ranges (no nan/inf) and write errors. derive_svg.c is compiled in directly so
# the test does not depend on which library holds it. Self-contained: writes under a mkdtemp folder
# (or, run by hand with a folder as argument, keeps the SVGs there).
if(TARGET sqnplan)
  add_executable(test_derive_svg ${CMAKE_CURRENT_LIST_DIR}/test_derive_svg.c ${PROJECT_SOURCE_DIR}/runtime/derive_svg.c)
  target_link_libraries(test_derive_svg PRIVATE sqnplan m)
  add_test(NAME derive_svg COMMAND test_derive_svg ${TESTDIR})
  set_tests_properties(derive_svg PROPERTIES TIMEOUT 60)
endif()
