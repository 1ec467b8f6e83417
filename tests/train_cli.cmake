# tests/train_cli.cmake: sqnrun --train / --eval / --make-synthetic / --bench --train end to end on
# the synthetic dataset (tiny sizes), resume exactness, and the errors a user can cause.
set(TCLI ${CMAKE_CURRENT_BINARY_DIR}/train_cli)
file(MAKE_DIRECTORY ${TCLI})
set(EXPECT sh ${CMAKE_CURRENT_SOURCE_DIR}/expect_exit.sh)
set(TPLAN ${TCLI}/lat_small_64.plan)
add_test(NAME train_cli_plan COMMAND sqnc ${PROJECT_SOURCE_DIR}/examples/lat_small.sqn --input 3x64x128 -q -o ${TPLAN})
set_tests_properties(train_cli_plan PROPERTIES FIXTURES_SETUP train_cli_plan)
set(TSYN --data synthetic --synthetic-size 64x128 --synthetic-train 8 --synthetic-val 2 --batch 4 --crop 64x64)

function(train_cli name code regex)
  add_test(NAME train_cli_${name} COMMAND ${EXPECT} ${code} ${regex} -- $<TARGET_FILE:sqnrun> ${ARGN})
  set_tests_properties(train_cli_${name} PROPERTIES FIXTURES_REQUIRED train_cli_plan)
endfunction()

train_cli(train 0 "epoch 2/2: train loss [0-9.]+, val mIoU [0-9.]+.*best val mIoU"
          ${TPLAN} --train ${TSYN} --epochs 2 --overwrite --out ${TCLI}/run)
set_tests_properties(train_cli_train PROPERTIES FIXTURES_SETUP train_cli_run)
train_cli(eval_json 0 "\"miou\":[0-9.]+.*\"class_iou\"" ${TPLAN} --eval ${TSYN} --weights ${TCLI}/run/best.safetensors --json)
train_cli(finetune 0 "best val mIoU" ${TPLAN} --train ${TSYN} --epochs 1 --weights ${TCLI}/run/last.safetensors
          --overwrite --out ${TCLI}/finetune --freeze-bn)
set_tests_properties(train_cli_eval_json train_cli_finetune PROPERTIES FIXTURES_REQUIRED "train_cli_plan;train_cli_run")
add_test(NAME train_cli_progress_avg COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/progress_avg.sh $<TARGET_FILE:sqnrun>
         ${TPLAN} --train ${TSYN} --epochs 2 --overwrite --out ${TCLI}/progress_avg)
set_tests_properties(train_cli_progress_avg PROPERTIES FIXTURES_REQUIRED train_cli_plan)
train_cli(bench_train 0 "\"mode\": \"train_step\".*\"median_ms\"" ${TPLAN} --bench --train --batch 2 --iters 2 --warmup 1 --json)
train_cli(make_synthetic 0 "wrote 3 train and 2 val images of 64x128"
          --make-synthetic ${TCLI}/synth --train 3 --val 2 --size 64x128)
set_tests_properties(train_cli_make_synthetic PROPERTIES FIXTURES_SETUP train_cli_synth)
train_cli(train_dir 0 "epoch 1/1: train loss" ${TPLAN} --train --data ${TCLI}/synth --batch 2 --crop 64x64 --epochs 1
          --overwrite --out ${TCLI}/run_dir)
train_cli(eval_dir 0 "mIoU" ${TPLAN} --eval --data ${TCLI}/synth --weights ${TCLI}/run/last.safetensors)
set_tests_properties(train_cli_train_dir train_cli_eval_dir PROPERTIES FIXTURES_REQUIRED "train_cli_plan;train_cli_synth;train_cli_run")

# errors a user can cause
train_cli(no_data 2 "need --data DIR" ${TPLAN} --train)
train_cli(missing_dir 1 "dataset /nonexistent-sqn: No such file or directory.*Cityscapes layout" ${TPLAN} --train --data /nonexistent-sqn)
train_cli(empty_dir 1 "no leftImg8bit/train in" ${TPLAN} --train --data ${CMAKE_CURRENT_SOURCE_DIR}/data)
train_cli(bad_crop 1 "bad crop 65x64: network lat_small cannot take a 3x65x64 input" ${TPLAN} --train ${TSYN} --crop 65x64)
train_cli(bad_lr 2 "bad --lr 'fast'" ${TPLAN} --train ${TSYN} --lr fast)
# refused before anything is created: logits smaller than the crop, buffers beyond the machine's memory
train_cli(crop_too_small 1 "bad crop 8x8: a 8x8 input gives 19x[0-9]+x[0-9]+ logits, but training needs logits of the input's size"
          ${TPLAN} --train ${TSYN} --crop 8x8 --out ${TCLI}/never_small)
train_cli(crop_too_large 1 "bad crop 2048x2048: the training buffers for a batch of 4 at 2048x2048 need [0-9.]+ GiB, more than this machine.s 0.9 GiB of memory. use a smaller --crop or --batch"
          ${TPLAN} --train ${TSYN} --crop 2048x2048 --out ${TCLI}/never_large)
set_tests_properties(train_cli_crop_too_large PROPERTIES ENVIRONMENT SQN_MEMORY_LIMIT=1e9)
add_test(NAME train_cli_refused_no_folder COMMAND sh -c "! test -e ${TCLI}/never_small && ! test -e ${TCLI}/never_large")
set_tests_properties(train_cli_refused_no_folder PROPERTIES DEPENDS "train_cli_crop_too_small;train_cli_crop_too_large")
train_cli(bench_input_too_large 1 "the activations need [0-9.]+ GiB, more than this machine.s 0.9 GiB of memory. use a smaller --input"
          ${TPLAN} --bench --input 3x4096x4096 --iters 1)
set_tests_properties(train_cli_bench_input_too_large PROPERTIES ENVIRONMENT SQN_MEMORY_LIMIT=1e9)
train_cli(eval_bad_weights 1 "sqnrun: .*/tests/data: " ${TPLAN} --eval ${TSYN} --weights ${CMAKE_CURRENT_SOURCE_DIR}/data)
train_cli(eval_no_weights 2 "--eval needs --weights" ${TPLAN} --eval ${TSYN})
train_cli(resume_nothing 1 "cannot resume from .*nothing-here/last.safetensors" ${TPLAN} --train ${TSYN} --resume
          --out ${TCLI}/nothing-here)
train_cli(diverges 1 "not finite.*(parameter|gradient|output of)" ${TPLAN} --train ${TSYN} --epochs 3 --lr 100000
          --overwrite --out ${TCLI}/diverge)
train_cli(space 2 "is a search space: --train needs a fixed network" ${TCLI}/../golden_out/../train_cli/space.plan --train ${TSYN})
add_test(NAME train_cli_space_plan COMMAND sqnc ${PROJECT_SOURCE_DIR}/spaces/small.sqn --input 3x64x128 -q -o ${TCLI}/space.plan)
set_tests_properties(train_cli_space_plan PROPERTIES FIXTURES_SETUP train_cli_space)
set_tests_properties(train_cli_space PROPERTIES FIXTURES_REQUIRED "train_cli_plan;train_cli_space")
add_test(NAME train_cli_resume COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/train_resume.sh $<TARGET_FILE:sqnrun> ${TPLAN} ${TCLI}/resume)
set_tests_properties(train_cli_resume PROPERTIES FIXTURES_REQUIRED train_cli_plan)
# Crash safety: SIGKILL at checkpoint renames and at random moments, resumed each time, ends with the
# uninterrupted run's bytes (slow under sanitizers: labelled heavy); a full disk keeps the previous
# checkpoint; a second run on the same --out is refused; a folder holding a finished run needs --resume or
# --overwrite.
add_test(NAME train_cli_kill_resume COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/kill_resume.sh $<TARGET_FILE:sqnrun> ${TPLAN} ${TCLI}/kill_resume)
add_test(NAME train_cli_disk_full COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/disk_full.sh $<TARGET_FILE:sqnrun> ${TPLAN} ${TCLI}/disk_full)
add_test(NAME train_cli_run_lock COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/run_lock.sh $<TARGET_FILE:sqnrun> ${TPLAN} ${TCLI}/run_lock)
add_test(NAME train_cli_run_folder_guard COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/run_folder_guard.sh $<TARGET_FILE:sqnrun> ${TPLAN} ${TCLI}/run_folder_guard)
set_tests_properties(train_cli_kill_resume train_cli_disk_full train_cli_run_lock train_cli_run_folder_guard PROPERTIES FIXTURES_REQUIRED train_cli_plan TIMEOUT 900)
set_tests_properties(train_cli_kill_resume PROPERTIES LABELS heavy)

# The main job in miniature: search -> derive -> compile -> train a step -> eval, and search resume.
add_test(NAME search_e2e COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/search_e2e.sh $<TARGET_FILE:sqnc> $<TARGET_FILE:sqnrun>
         ${PROJECT_SOURCE_DIR} ${TCLI}/search_e2e)
set_tests_properties(search_e2e PROPERTIES TIMEOUT 900 FIXTURES_SETUP search_e2e_run)
# Weight inheritance: the derived network with the supernet's weights gives the supernet's logits
# under one-hot mixing of its candidates (tests/test_inherit.c).
add_executable(test_inherit ${CMAKE_CURRENT_SOURCE_DIR}/test_inherit.c)
target_link_libraries(test_inherit PRIVATE sqntrain m)
add_test(NAME search_inherit COMMAND test_inherit ${TCLI}/search_e2e/space.plan ${TCLI}/search_e2e/derived.plan
         ${TCLI}/search_e2e/search/last.safetensors)
set_tests_properties(search_inherit PROPERTIES FIXTURES_REQUIRED search_e2e_run)
# Blocks beyond the inverted residual (std/mobile.sqn) mixed with the SqueezeNAS candidates, end to end.
add_test(NAME mobile_mix_e2e COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mobile_mix_e2e.sh $<TARGET_FILE:sqnc> $<TARGET_FILE:sqnrun>
         ${PROJECT_SOURCE_DIR} ${TCLI}/mobile_mix_e2e)
set_tests_properties(mobile_mix_e2e PROPERTIES TIMEOUT 900)
train_cli(search_fixed_network 2 "is a fixed network: --search needs a search space" ${TPLAN} --search ${TSYN})
train_cli(profile_needs_out 2 "--profile needs -o lut.json" ${TCLI}/space.plan --profile)
set_tests_properties(train_cli_profile_needs_out PROPERTIES FIXTURES_REQUIRED "train_cli_plan;train_cli_space")
add_test(NAME train_cli_latency_plan COMMAND sqnc ${CMAKE_CURRENT_SOURCE_DIR}/data/tiny_latency.sqn -q -o ${TCLI}/latency_space.plan)
set_tests_properties(train_cli_latency_plan PROPERTIES FIXTURES_SETUP train_cli_latency)
train_cli(search_latency_needs_lut 1 "space tiny_latency asks for latency .*give its table with --lut.*or search on MACs with --objective macs" ${TCLI}/latency_space.plan --search ${TSYN})
train_cli(search_bad_objective 2 "bad --objective 'speed' \\(macs, params or latency\\)" ${TCLI}/space.plan --search ${TSYN} --objective speed)
train_cli(search_objective_needs_lut 2 "--objective latency needs --lut lut.json"
          ${TCLI}/space.plan --search ${TSYN} --objective latency)
train_cli(search_objective_macs 0 "objective macs \\(alpha 0.5\\)" ${TCLI}/latency_space.plan --search ${TSYN} --objective macs
          --alpha 0.5 --epochs 1 --max-steps 1 --derive-val 1 --samples 2 --overwrite --out ${TCLI}/mac_override)
set_tests_properties(train_cli_search_bad_objective train_cli_search_objective_needs_lut PROPERTIES FIXTURES_REQUIRED "train_cli_plan;train_cli_space")
set_tests_properties(train_cli_search_objective_macs PROPERTIES FIXTURES_REQUIRED "train_cli_plan;train_cli_latency")
train_cli(profile 0 "latency table of tiny_latency \\(3x64x128, cpu backend, 2 passes per candidate\\)"
          ${TCLI}/latency_space.plan --profile --iters 2 --warmup 1 -o ${TCLI}/lut.json)
set_tests_properties(train_cli_profile PROPERTIES FIXTURES_SETUP train_cli_lut)
train_cli(search_latency 0 "derived: mIoU [0-9.]+ on 2 val images, [0-9.]+ GMACs, [0-9.]+ ms predicted"
          ${TCLI}/latency_space.plan --search ${TSYN} --lut ${TCLI}/lut.json --target-ms 1000 --derive-val 2 --overwrite --out ${TCLI}/lat_search)
train_cli(search_wrong_lut 1 "latency table .*lut.json: .*measured for another space"
          ${TCLI}/space.plan --search ${TSYN} --lut ${TCLI}/lut.json)
set_tests_properties(train_cli_search_latency_needs_lut train_cli_profile PROPERTIES FIXTURES_REQUIRED "train_cli_plan;train_cli_latency")
set_tests_properties(train_cli_search_latency PROPERTIES FIXTURES_REQUIRED "train_cli_plan;train_cli_latency;train_cli_lut")
set_tests_properties(train_cli_search_wrong_lut PROPERTIES FIXTURES_REQUIRED "train_cli_plan;train_cli_space;train_cli_lut")
# Data-parallel sqnrun under mpirun (docs/distributed.md): equal to one process within float32 tolerances, resume
# with another number of ranks, a killed rank stops the job. Skipped (exit 77) without mpirun.
if(SQN_HAVE_MPI)
  add_test(NAME dist_mpi COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/dist_mpi.sh $<TARGET_FILE:sqnrun> ${TPLAN} ${TCLI}/space.plan
           ${TCLI}/dist_mpi)
  set_tests_properties(dist_mpi PROPERTIES FIXTURES_REQUIRED "train_cli_plan;train_cli_space" SKIP_RETURN_CODE 77 TIMEOUT 900)
else() # ranks of a sqnrun without MPI would be separate one-process runs: nothing to compare
  add_test(NAME dist_mpi COMMAND sh -c "echo 'dist_mpi: SKIP: sqnrun is built without MPI (SQN_MPI=OFF or no MPI found)'; exit 77")
  set_tests_properties(dist_mpi PROPERTIES SKIP_RETURN_CODE 77)
endif()

# The trainer's data-parallel step with the ranks as threads of one process (tests/dist_threads.c, a link seam for
# dist.h): 2 and 3 ranks against one trainer on the whole batch, SyncBN included; needs no MPI. On CUDA (label gpu)
# it checks SyncBN on cuDNN, the loss scaling on the device and the sums through the host; skipped without a GPU.
find_package(Threads REQUIRED)
add_executable(test_dist_threads ${CMAKE_CURRENT_SOURCE_DIR}/test_dist_threads.c ${CMAKE_CURRENT_SOURCE_DIR}/dist_threads.c)
target_link_libraries(test_dist_threads PRIVATE sqntrain Threads::Threads m)
add_test(NAME dist_threads COMMAND test_dist_threads cpu ${TPLAN})
set_tests_properties(dist_threads PROPERTIES FIXTURES_REQUIRED train_cli_plan)
if(SQN_HAVE_CUDA)
  add_test(NAME gpu_dist_threads COMMAND test_dist_threads cuda ${TPLAN})
  set_tests_properties(gpu_dist_threads PROPERTIES FIXTURES_REQUIRED train_cli_plan LABELS gpu SKIP_RETURN_CODE 77)
endif()

# The search's resource term: gradients of every form, relative costs and budgets at two input sizes, the skip
# limit (tests/test_search_budget.c), on the README's space compiled at 64x128 and 128x256.
add_executable(test_search_budget ${CMAKE_CURRENT_SOURCE_DIR}/test_search_budget.c)
target_link_libraries(test_search_budget PRIVATE sqnsearch m)
add_test(NAME search_budget_plans COMMAND sh -c "$<TARGET_FILE:sqnc> ${PROJECT_SOURCE_DIR}/spaces/small_quick.sqn --input 3x64x128 -q -o ${TCLI}/budget_64.plan && $<TARGET_FILE:sqnc> ${PROJECT_SOURCE_DIR}/spaces/small_quick.sqn --input 3x128x256 -q -o ${TCLI}/budget_128.plan")
set_tests_properties(search_budget_plans PROPERTIES FIXTURES_SETUP search_budget_plans)
add_test(NAME search_budget COMMAND test_search_budget ${TCLI}/budget_64.plan ${TCLI}/budget_128.plan)
set_tests_properties(search_budget PROPERTIES FIXTURES_REQUIRED search_budget_plans)
# The same on the space with a width choice per stage: the gradient reaches the width choices' theta through
# costs that depend on two of them (spaces/small_quick_widths.sqn).
add_test(NAME search_budget_widths COMMAND sh -c "$<TARGET_FILE:sqnc> ${PROJECT_SOURCE_DIR}/spaces/small_quick_widths.sqn --input 3x64x128 -q -o ${TCLI}/budget_w64.plan && $<TARGET_FILE:sqnc> ${PROJECT_SOURCE_DIR}/spaces/small_quick_widths.sqn --input 3x128x256 -q -o ${TCLI}/budget_w128.plan && $<TARGET_FILE:test_search_budget> ${TCLI}/budget_w64.plan ${TCLI}/budget_w128.plan")
# Budgets and a decoder choice from the command line: `target 20%` and a skip limit at two input sizes,
# derivation within the budget, the derived network (either decoder) fine-tuned from and equal to the supernet,
# resume identical (tests/search_budget_e2e.py; ~1 min, so heavy: not in the sanitizer pass).
add_test(NAME search_budget_e2e
         COMMAND sh -c "if [ ! -x /usr/bin/python3 ]; then echo 'SKIP: no /usr/bin/python3'; exit 77; fi; \
exec /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/search_budget_e2e.py $<TARGET_FILE:sqnc> $<TARGET_FILE:sqnrun> \
$<TARGET_FILE:test_inherit> ${PROJECT_SOURCE_DIR} ${TCLI}/search_budget_e2e")
set_tests_properties(search_budget_e2e PROPERTIES LABELS heavy SKIP_RETURN_CODE 77 TIMEOUT 600)
# Width choices with a searchable depth and a decoder choice from the command line: search, derive (widths in
# derived.sqn), predicted MACs = the compiled network's, fine-tune from the supernet's sliced weights, and exact
# inheritance where no inner width follows the input's (tests/search_width_e2e.py; heavy).
add_test(NAME search_width_e2e
         COMMAND sh -c "if [ ! -x /usr/bin/python3 ]; then echo 'SKIP: no /usr/bin/python3'; exit 77; fi; \
exec /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/search_width_e2e.py $<TARGET_FILE:sqnc> $<TARGET_FILE:sqnrun> \
$<TARGET_FILE:test_inherit> ${PROJECT_SOURCE_DIR} ${TCLI}/search_width_e2e")
set_tests_properties(search_width_e2e PROPERTIES LABELS heavy SKIP_RETURN_CODE 77 TIMEOUT 600)
