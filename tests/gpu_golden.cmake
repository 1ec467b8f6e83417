# GPU goldens (LABELS gpu): the published mac_small and lat_small weights through --backend cuda reproduce
# upstream's outputs within the CPU goldens' bounds (tests/gpu_golden.sh); skipped without a GPU.
if(SQN_HAVE_CUDA AND SQN_HAVE_LLVM AND TARGET gpu_probe)
  set(golden_gpu_args_mac_small --input 3x784x1568)
  set(golden_gpu_args_lat_small)
  foreach(net mac_small lat_small)
    add_test(NAME gpu_golden_${net} COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/gpu_golden.sh $<TARGET_FILE:gpu_probe>
             $<TARGET_FILE:sqnc> $<TARGET_FILE:sqnrun> $<TARGET_FILE:compare_npy> ${SQN_SHARED_DIR}/reference
             ${CMAKE_CURRENT_BINARY_DIR}/gpu_out ${net} ${golden_gpu_args_${net}})
    set_tests_properties(gpu_golden_${net} PROPERTIES LABELS gpu SKIP_RETURN_CODE 77 TIMEOUT 600)
  endforeach()
endif()
