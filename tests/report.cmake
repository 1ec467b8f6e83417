# tests/report.cmake - report.html (runtime/report/, `sqnrun --report RUNDIR`, written at the end of --train
# and --search) and the progress lines of long phases (--profile, the derivation of --search):
#   report_unit      hand-made run folders: the page's embedded data, escaping, the SVG whitelist, notes, errors
#   report_runs      a short search and a short training write their reports; --report rewrites one; a report
#                    that cannot be written is a warning; the phases' progress lines on stderr
#   report_cli_*     folders that are not run folders: exit 1 with the reason
#   report_browser   the pages in headless Chromium: no script errors, every plot drew the points the data
#                    holds; keeps report-screenshot.png (skipped without chromium)
# Everything under <build>/tests/report/.
set(RDIR ${CMAKE_CURRENT_BINARY_DIR}/report)
file(MAKE_DIRECTORY ${RDIR})
set(REPORT_EXPECT sh ${CMAKE_CURRENT_SOURCE_DIR}/expect_exit.sh)

add_executable(test_report ${CMAKE_CURRENT_LIST_DIR}/test_report.c)
target_link_libraries(test_report PRIVATE sqnreport m)
add_test(NAME report_unit COMMAND test_report ${RDIR}/unit)
set_tests_properties(report_unit PROPERTIES FIXTURES_SETUP report_unit TIMEOUT 60)

add_test(NAME report_plans COMMAND sh -c "$<TARGET_FILE:sqnc> ${PROJECT_SOURCE_DIR}/tests/data/tiny_latency.sqn -q -o ${RDIR}/space.plan && \
$<TARGET_FILE:sqnc> ${PROJECT_SOURCE_DIR}/examples/lat_small.sqn --input 3x64x128 -q -o ${RDIR}/net.plan")
set_tests_properties(report_plans PROPERTIES FIXTURES_SETUP report_plans)
add_test(NAME report_runs COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/report_runs.sh $<TARGET_FILE:sqnrun> ${RDIR})
set_tests_properties(report_runs PROPERTIES FIXTURES_REQUIRED report_plans FIXTURES_SETUP report_runs TIMEOUT 120)

add_test(NAME report_cli_missing COMMAND ${REPORT_EXPECT} 1 "sqnrun: cannot read the run folder /nonexistent-sqn-run: No such file"
         -- $<TARGET_FILE:sqnrun> --report /nonexistent-sqn-run)
add_test(NAME report_cli_not_run_folder COMMAND ${REPORT_EXPECT} 1 "data is not a run folder of sqnrun --train or --search: it has no log.jsonl"
         -- $<TARGET_FILE:sqnrun> --report ${CMAKE_CURRENT_SOURCE_DIR}/data)
add_test(NAME report_cli_plan_file COMMAND ${REPORT_EXPECT} 1 "tiny_latency.sqn is not a folder"
         -- $<TARGET_FILE:sqnrun> --report ${CMAKE_CURRENT_SOURCE_DIR}/data/tiny_latency.sqn)

add_test(NAME report_browser COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/report_browser.sh ${RDIR})
set_tests_properties(report_browser PROPERTIES FIXTURES_REQUIRED "report_unit;report_runs" SKIP_RETURN_CODE 77 TIMEOUT 180)
