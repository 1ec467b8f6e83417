# GPU tests (LABELS gpu; ctest -L gpu). With the CUDA backend built: test_gpu compares the CUDA backend with
# the CPU backend on a network and on architectures of two spaces, and launches every PTX kernel against the
# CPU kernels, and compares a training step of a network and of a space with the CPU's (test_gpu_train.c);
# gpu_train_cli searches, trains, evaluates and benchmarks training from the command line on CUDA. Each exits
# 77 (shown as skipped) where there is no GPU or driver. The CLI tests check what --backend cuda says without
# a GPU for inference, training and search (skipped where one is present).
set(GPU_OUT ${CMAKE_CURRENT_BINARY_DIR}/gpu_out)
file(MAKE_DIRECTORY ${GPU_OUT})
if(SQN_HAVE_CUDA)
  add_executable(test_gpu test_gpu.c test_gpu_kernels.c test_gpu_train.c)
  target_link_libraries(test_gpu PRIVATE sqntrain sqncuda sqncpu m)
  add_executable(gpu_probe gpu_probe.c)
  target_link_libraries(gpu_probe PRIVATE sqncuda)
  set(GPU_TESTS gpu_network gpu_space_small gpu_space_se gpu_kernels gpu_train_network gpu_train_space gpu_train_cli)
  add_test(NAME gpu_network COMMAND test_gpu network $<TARGET_FILE:sqnc> ${PROJECT_SOURCE_DIR}/examples/mac_small.sqn ${GPU_OUT})
  add_test(NAME gpu_space_small COMMAND test_gpu space $<TARGET_FILE:sqnc> ${PROJECT_SOURCE_DIR}/spaces/small.sqn ${GPU_OUT})
  add_test(NAME gpu_space_se COMMAND test_gpu space $<TARGET_FILE:sqnc> ${PROJECT_SOURCE_DIR}/examples/se_space.sqn ${GPU_OUT})
  add_test(NAME gpu_kernels COMMAND test_gpu kernels $<TARGET_FILE:sqnc> ${PROJECT_SOURCE_DIR}/spaces/small.sqn ${GPU_OUT})
  add_test(NAME gpu_train_network COMMAND test_gpu train_network $<TARGET_FILE:sqnc> ${PROJECT_SOURCE_DIR}/examples/mac_small.sqn ${GPU_OUT})
  add_test(NAME gpu_train_space COMMAND test_gpu train_space $<TARGET_FILE:sqnc> ${PROJECT_SOURCE_DIR}/spaces/small_quick.sqn ${GPU_OUT})
  add_test(NAME gpu_train_cli COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/gpu_train_cli.sh $<TARGET_FILE:gpu_probe> $<TARGET_FILE:sqnc>
           $<TARGET_FILE:sqnrun> ${PROJECT_SOURCE_DIR} ${GPU_OUT}/train_cli)
  set_tests_properties(${GPU_TESTS} PROPERTIES LABELS gpu SKIP_RETURN_CODE 77 TIMEOUT 600)
  # Data parallelism on GPUs: which GPU a rank takes and NCCL loaded at run time (no GPU needed; skipped without
  # libnccl.so.2), a one-rank NCCL communicator where there is a GPU; and 2-rank CUDA training and search under
  # mpirun against one process (tests/gpu_dist.sh: skipped without a GPU or mpirun).
  add_executable(test_cuda_nccl test_cuda_nccl.c)
  target_link_libraries(test_cuda_nccl PRIVATE sqncuda)
  add_test(NAME cuda_nccl COMMAND test_cuda_nccl)
  set_tests_properties(cuda_nccl PROPERTIES LABELS gpu SKIP_RETURN_CODE 77)
  if(SQN_HAVE_MPI AND SQN_HAVE_LLVM)
    add_test(NAME gpu_dist COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/gpu_dist.sh $<TARGET_FILE:sqnrun>
             ${CMAKE_CURRENT_BINARY_DIR}/train_cli/lat_small_64.plan ${CMAKE_CURRENT_BINARY_DIR}/train_cli/space.plan ${GPU_OUT}/dist
             $<TARGET_FILE:gpu_probe>)
    set_tests_properties(gpu_dist PROPERTIES LABELS gpu SKIP_RETURN_CODE 77 TIMEOUT 900
                         FIXTURES_REQUIRED "train_cli_plan;train_cli_space")
  endif()
  if(NOT SQN_HAVE_LLVM)
    # without LLVM sqnc cannot embed kernels: nothing to run on the GPU
    foreach(t ${GPU_TESTS})
      set_tests_properties(${t} PROPERTIES DISABLED TRUE)
    endforeach()
  endif()
  # Without a GPU, --backend cuda explains itself (exit 1); skipped where a GPU is present.
  add_test(NAME sqnrun_cuda_no_gpu COMMAND sh -c "if '$<TARGET_FILE:gpu_probe>'; then echo 'SKIP: a GPU is present'; exit 77; fi; \
exec sh '${CMAKE_CURRENT_SOURCE_DIR}/expect_exit.sh' 1 'no NVIDIA GPU/driver found: .*; use --backend cpu' -- \
'$<TARGET_FILE:sqnrun>' '${CMAKE_CURRENT_BINARY_DIR}/cli_out/mac_xlarge_256.plan' --bench --iters 1 --backend cuda")
  set_tests_properties(sqnrun_cuda_no_gpu PROPERTIES LABELS gpu SKIP_RETURN_CODE 77 FIXTURES_REQUIRED bench_plan)
  # Training and search without a GPU: the same explanation (they run on CUDA where there is one).
  foreach(m train search)
    set(plan mac_xlarge_256)
    set(fixture bench_plan)
    if(m STREQUAL "search")
      set(plan small)
      set(fixture cli_small)
    endif()
    add_test(NAME sqnrun_cuda_${m}_no_gpu COMMAND sh -c "if '$<TARGET_FILE:gpu_probe>'; then echo 'SKIP: a GPU is present'; exit 77; fi; \
exec sh '${CMAKE_CURRENT_SOURCE_DIR}/expect_exit.sh' 1 'no NVIDIA GPU/driver found: .*; use --backend cpu' -- \
'$<TARGET_FILE:sqnrun>' '${CMAKE_CURRENT_BINARY_DIR}/cli_out/${plan}.plan' --${m} --data synthetic --backend cuda")
    set_tests_properties(sqnrun_cuda_${m}_no_gpu PROPERTIES LABELS gpu SKIP_RETURN_CODE 77 FIXTURES_REQUIRED ${fixture})
  endforeach()
else()
  add_test(NAME gpu_not_built COMMAND sh -c "echo 'SKIP: this build has no CUDA backend (no CUDA toolkit with cuDNN found)'; exit 77")
  set_tests_properties(gpu_not_built PROPERTIES LABELS gpu SKIP_RETURN_CODE 77)
endif()
