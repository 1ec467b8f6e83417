# tests/plan.cmake: plan format unit tests (round trip, damaged plans) and sqnrun CLI exit codes.
add_executable(test_plan ${CMAKE_CURRENT_LIST_DIR}/test_plan.c)
target_link_libraries(test_plan PRIVATE sqncomp sqnplan ZLIB::ZLIB)
add_test(NAME plan_roundtrip COMMAND test_plan)

# Sample and damaged plans for the CLI tests, written by the test program itself.
set(SQN_PLAN_FIXTURES ${CMAKE_CURRENT_BINARY_DIR}/plan_fixtures)
add_test(NAME plan_fixtures COMMAND test_plan --write-fixtures ${SQN_PLAN_FIXTURES})
set_tests_properties(plan_fixtures PROPERTIES FIXTURES_SETUP plan_files)

# sqnrun_cli(NAME CODE REGEX args...): sqnrun exits with CODE and its output matches REGEX.
function(sqnrun_cli name code regex)
  add_test(NAME sqnrun_${name}
           COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/expect_exit.sh ${code} ${regex} -- $<TARGET_FILE:sqnrun> ${ARGN})
  set_tests_properties(sqnrun_${name} PROPERTIES FIXTURES_REQUIRED plan_files)
endfunction()

sqnrun_cli(no_args 2 "usage: sqnrun")
sqnrun_cli(help 0 "usage: sqnrun FILE.plan --info" --help)
sqnrun_cli(version 0 "^sqnrun [0-9.]+ \\(plan format 5\\)" --version)
sqnrun_cli(unknown_flag 2 "sqnrun: unknown option '--inf' \\(did you mean '--info'\\?\\)" ${SQN_PLAN_FIXTURES}/sample.plan --inf)
sqnrun_cli(unknown_flag_far 2 "unknown option '--zzzzzzzz' \\(see sqnrun --help\\)" --zzzzzzzz)
sqnrun_cli(value_is_option 2 "option .--make-synthetic. needs a value, not the option .--help. \\(a file of that name: ./--help\\)" --make-synthetic --help)
sqnrun_cli(no_mode 2 "try --info" ${SQN_PLAN_FIXTURES}/sample.plan)
sqnrun_cli(two_plans 2 "more than one plan" ${SQN_PLAN_FIXTURES}/sample.plan ${SQN_PLAN_FIXTURES}/sample.plan --info)
sqnrun_cli(search_no_data 2 "--search need --data DIR" ${SQN_PLAN_FIXTURES}/sample.plan --search)
# Checked before any work starts (issue 17): an option that needs another, a value that cannot mean anything.
sqnrun_cli(target_ms_needs_lut 2 "--target-ms needs --lut lut.json" ${SQN_PLAN_FIXTURES}/sample.plan --search --data synthetic --target-ms 3)
sqnrun_cli(objective_latency_needs_lut 2 "--objective latency needs --lut lut.json" ${SQN_PLAN_FIXTURES}/sample.plan --search --data synthetic --objective latency)
sqnrun_cli(epochs_zero 2 "bad --epochs '0' \\(an integer from 1 to" ${SQN_PLAN_FIXTURES}/sample.plan --train --data synthetic --epochs 0)
sqnrun_cli(crop_one_number 2 "bad --crop '64' \\(HxW, e.g. 256x512, each side 1..16384\\)" ${SQN_PLAN_FIXTURES}/sample.plan --train --data synthetic --crop 64)
sqnrun_cli(infer_needs_weights 2 "--infer needs --weights" ${SQN_PLAN_FIXTURES}/sample.plan --infer x.npy --logits y.npy)
sqnrun_cli(missing_file 1 "sqnrun: .*nope\\.plan: cannot open: No such file" ${SQN_PLAN_FIXTURES}/nope.plan --info)
sqnrun_cli(empty_file 1 "empty\\.plan: empty file" ${SQN_PLAN_FIXTURES}/empty.plan --info)
sqnrun_cli(foreign_file 1 "foreign\\.plan: not an sqn plan \\(bad magic\\)" ${SQN_PLAN_FIXTURES}/foreign.plan --info)
sqnrun_cli(truncated_file 1 "truncated: header says [0-9]+ bytes, file has [0-9]+" ${SQN_PLAN_FIXTURES}/truncated.plan --info)
sqnrun_cli(corrupt_file 1 "corrupt: checksum mismatch" ${SQN_PLAN_FIXTURES}/corrupt.plan --info)
sqnrun_cli(newer_file 1 "plan format version 7 is newer than this sqnrun supports \\(5\\)" ${SQN_PLAN_FIXTURES}/newer.plan --info)
sqnrun_cli(info 0 "tiny_space \\(search space\\).*superblocks +2.*candidates" ${SQN_PLAN_FIXTURES}/sample.plan --info)
sqnrun_cli(info_json 0 "^\\{.*\"kind\": \"space\".*\"superblocks\": \\[" ${SQN_PLAN_FIXTURES}/sample.plan --info --json)

# End to end: sqnc writes real plans, sqnrun describes them (MACs as in ../shared/reference/macs.json).
if(TARGET sqnc)
  foreach(src spaces/small.sqn examples/mac_small.sqn)
    get_filename_component(stem ${src} NAME_WE)
    add_test(NAME plan_sqnc_${stem}
             COMMAND sqnc ${PROJECT_SOURCE_DIR}/${src} -o ${SQN_PLAN_FIXTURES}/${stem}.plan)
    set_tests_properties(plan_sqnc_${stem} PROPERTIES FIXTURES_REQUIRED plan_files FIXTURES_SETUP plan_${stem})
  endforeach()
  sqnrun_cli(small_info 0 "small \\(search space\\).*superblocks +20.*candidates +\\(every superblock, 13\\) inverse_residual_k3_e1_g1"
             ${SQN_PLAN_FIXTURES}/small.plan --info)
  sqnrun_cli(mac_small_json 0 "\"kind\": \"network\".*\"params_total\": 277598,.*\"macs_min\": 3007512576,.*\"macs_max\": 3007512576,"
             ${SQN_PLAN_FIXTURES}/mac_small.plan --info --json)
  set_tests_properties(sqnrun_small_info PROPERTIES FIXTURES_REQUIRED "plan_files;plan_small")
  set_tests_properties(sqnrun_mac_small_json PROPERTIES FIXTURES_REQUIRED "plan_files;plan_mac_small")
endif()
