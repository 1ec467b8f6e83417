# tests/train.cmake: the training program against PyTorch (two SGD steps of lat_small, tests/data/sgd_step/).
set(TRAIN_OUT ${CMAKE_CURRENT_BINARY_DIR}/train_out)
file(MAKE_DIRECTORY ${TRAIN_OUT})
add_executable(test_train_step ${CMAKE_CURRENT_LIST_DIR}/test_train_step.c)
target_link_libraries(test_train_step PRIVATE sqntrain m)
add_test(NAME train_step_plan COMMAND sqnc ${PROJECT_SOURCE_DIR}/examples/lat_small.sqn --input 3x128x256 -q
         -o ${TRAIN_OUT}/lat_small_128.plan)
set_tests_properties(train_step_plan PROPERTIES FIXTURES_SETUP train_plan)
add_test(NAME train_step_golden COMMAND test_train_step ${TRAIN_OUT}/lat_small_128.plan
         ${CMAKE_CURRENT_LIST_DIR}/data/sgd_step ${SQN_SHARED_DIR}/reference/weights/lat_small.pth)
set_tests_properties(train_step_golden PROPERTIES FIXTURES_REQUIRED train_plan SKIP_RETURN_CODE 77)

# Finite differences through the whole backward program (every op of tests/data/gradcheck.sqn).
add_executable(test_train_gradcheck ${CMAKE_CURRENT_LIST_DIR}/test_train_gradcheck.c)
target_link_libraries(test_train_gradcheck PRIVATE sqntrain m)
add_test(NAME train_gradcheck_plan COMMAND sqnc ${CMAKE_CURRENT_LIST_DIR}/data/gradcheck.sqn -q -o ${TRAIN_OUT}/gradcheck.plan)
set_tests_properties(train_gradcheck_plan PROPERTIES FIXTURES_SETUP gradcheck_plan)
add_test(NAME train_gradcheck COMMAND test_train_gradcheck ${TRAIN_OUT}/gradcheck.plan)
set_tests_properties(train_gradcheck PROPERTIES FIXTURES_REQUIRED gradcheck_plan)
# Finite differences of the loss in a supernet's mixing weights: candidate mixes and width choices (the width
# nodes of a stage share their weights), tests/data/width_space.sqn.
add_executable(test_mix_grad ${CMAKE_CURRENT_LIST_DIR}/test_mix_grad.c)
target_link_libraries(test_mix_grad PRIVATE sqntrain m)
add_test(NAME train_mix_grad COMMAND sh -c "$<TARGET_FILE:sqnc> ${CMAKE_CURRENT_LIST_DIR}/data/width_space.sqn -q -o ${TRAIN_OUT}/width_space.plan && $<TARGET_FILE:test_mix_grad> ${TRAIN_OUT}/width_space.plan")

# One step of the Small supernet with upstream's fixed mixing weights (../shared/reference/supernet_small.*).
add_executable(test_supernet_golden ${CMAKE_CURRENT_LIST_DIR}/test_supernet_golden.c)
target_link_libraries(test_supernet_golden PRIVATE sqntrain m)
add_test(NAME supernet_golden_plan COMMAND sqnc ${PROJECT_SOURCE_DIR}/spaces/small.sqn --input 3x784x784 -q
         -o ${TRAIN_OUT}/supernet_small_784.plan)
set_tests_properties(supernet_golden_plan PROPERTIES FIXTURES_SETUP supernet_plan)
add_test(NAME supernet_golden COMMAND test_supernet_golden ${TRAIN_OUT}/supernet_small_784.plan ${SQN_SHARED_DIR}/reference)
# Several GiB (9 before conv recompute) and a minute in a release build: the sanitizer pass of .ci/run leaves it out (label heavy).
set_tests_properties(supernet_golden PROPERTIES FIXTURES_REQUIRED supernet_plan SKIP_RETURN_CODE 77 TIMEOUT 1200
                     LABELS heavy RUN_SERIAL TRUE)

# The same golden step with only depthwise convs recomputed (sqnc --recompute dw; the plan above has the default, all).
add_test(NAME supernet_golden_dw_plan COMMAND sqnc ${PROJECT_SOURCE_DIR}/spaces/small.sqn --input 3x784x784 -q
         --recompute dw -o ${TRAIN_OUT}/supernet_small_784_dw.plan)
set_tests_properties(supernet_golden_dw_plan PROPERTIES FIXTURES_SETUP supernet_dw_plan)
add_test(NAME supernet_golden_recompute_dw COMMAND test_supernet_golden ${TRAIN_OUT}/supernet_small_784_dw.plan
         ${SQN_SHARED_DIR}/reference)
set_tests_properties(supernet_golden_recompute_dw PROPERTIES FIXTURES_REQUIRED supernet_dw_plan SKIP_RETURN_CODE 77
                     TIMEOUT 1200 LABELS heavy RUN_SERIAL TRUE)

# sqnrun --check-step: the same SGD-step data through the CLI, loss and a gradient dumped as .npy.
add_test(NAME check_step_cli
         COMMAND sh -c "if [ ! -f '${SQN_SHARED_DIR}/reference/weights/lat_small.pth' ]; then echo 'SKIPPED: reference weights not found'; exit 77; fi; \
'$<TARGET_FILE:sqnrun>' '${TRAIN_OUT}/lat_small_128.plan' --weights '${SQN_SHARED_DIR}/reference/weights/lat_small.pth' \
--check-step '${CMAKE_CURRENT_LIST_DIR}/data/sgd_step' --dump '${TRAIN_OUT}/check_step' && \
test -s '${TRAIN_OUT}/check_step/grad.decoder._1x1_TL.conv.weight.npy' && test -s '${TRAIN_OUT}/check_step/after.encoder.conv1.1.running_mean.npy' && echo DUMP_OK")
set_tests_properties(check_step_cli PROPERTIES FIXTURES_REQUIRED train_plan SKIP_RETURN_CODE 77
                     PASS_REGULAR_EXPRESSION "lat_small: loss 6.71464[0-9]* over [0-9]+ pixels.*wrote [0-9]+ files.*DUMP_OK")
add_test(NAME check_step_needs_dump COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/expect_exit.sh 2 "--check-step needs --dump OUTDIR"
         -- $<TARGET_FILE:sqnrun> ${TRAIN_OUT}/lat_small_128.plan --check-step ${CMAKE_CURRENT_LIST_DIR}/data/sgd_step)
set_tests_properties(check_step_needs_dump PROPERTIES FIXTURES_REQUIRED train_plan)

# The trainer's device-memory path (what --backend cuda trains with) on a host-memory "device", against
# the CPU trainer: a network with every op (gradcheck.plan) and the Small quick space.
add_executable(test_trainer_device ${CMAKE_CURRENT_LIST_DIR}/test_trainer_device.c)
target_link_libraries(test_trainer_device PRIVATE sqntrain m)
add_test(NAME trainer_device_network COMMAND test_trainer_device ${TRAIN_OUT}/gradcheck.plan)
set_tests_properties(trainer_device_network PROPERTIES FIXTURES_REQUIRED gradcheck_plan)
add_test(NAME trainer_device_space_plan COMMAND sqnc ${PROJECT_SOURCE_DIR}/spaces/small_quick.sqn --input 3x32x64 -q
         -o ${TRAIN_OUT}/small_quick_32.plan)
set_tests_properties(trainer_device_space_plan PROPERTIES FIXTURES_SETUP small_quick_plan)
add_test(NAME trainer_device_space COMMAND test_trainer_device ${TRAIN_OUT}/small_quick_32.plan)
set_tests_properties(trainer_device_space PROPERTIES FIXTURES_REQUIRED small_quick_plan)

# What the backward pass recomputes (sqnc --recompute act|dw|all) changes memory, never a result: the whole
# backward program under finite differences at level dw (train_gradcheck covers the default, all), and act and dw
# against all on a network with every op, act against all on the Small quick space (gradients, weights, momentum,
# logits after an update).
foreach(level act dw all)
  add_test(NAME train_recompute_plans_${level}
           COMMAND sh -c "'$<TARGET_FILE:sqnc>' '${CMAKE_CURRENT_LIST_DIR}/data/gradcheck.sqn' --recompute ${level} -q -o '${TRAIN_OUT}/gradcheck_${level}.plan' && \
'$<TARGET_FILE:sqnc>' '${PROJECT_SOURCE_DIR}/spaces/small_quick.sqn' --input 3x32x64 --recompute ${level} -q -o '${TRAIN_OUT}/small_quick_32_${level}.plan'")
  set_tests_properties(train_recompute_plans_${level} PROPERTIES FIXTURES_SETUP recompute_plans)
endforeach()
add_test(NAME train_gradcheck_recompute_dw COMMAND test_train_gradcheck ${TRAIN_OUT}/gradcheck_dw.plan)
add_test(NAME train_recompute_network COMMAND test_trainer_device ${TRAIN_OUT}/gradcheck_act.plan --against
         ${TRAIN_OUT}/gradcheck_all.plan)
add_test(NAME train_recompute_network_dw COMMAND test_trainer_device ${TRAIN_OUT}/gradcheck_dw.plan --against
         ${TRAIN_OUT}/gradcheck_all.plan)
add_test(NAME train_recompute_space COMMAND test_trainer_device ${TRAIN_OUT}/small_quick_32_act.plan --against
         ${TRAIN_OUT}/small_quick_32_all.plan)
set_tests_properties(train_gradcheck_recompute_dw train_recompute_network train_recompute_network_dw train_recompute_space PROPERTIES
                     FIXTURES_REQUIRED recompute_plans)
