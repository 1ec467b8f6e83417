# sqnc's GPU kernel options: --target embeds PTX per target (sqnrun --info lists it), --emit-ptx writes it,
# every emitted file assembles with ptxas, and bad targets or a build without LLVM give clear errors.
set(GPUK_OUT ${CMAKE_CURRENT_BINARY_DIR}/gpu_kernels_out)
file(MAKE_DIRECTORY ${GPUK_OUT})
set(EXPECT sh ${CMAKE_CURRENT_SOURCE_DIR}/expect_exit.sh)
set(LAT_SMALL ${PROJECT_SOURCE_DIR}/examples/lat_small.sqn)
if(SQN_HAVE_LLVM)
  add_test(NAME sqnc_target_bad COMMAND ${EXPECT} 2 "--target sm_7: .*sm_XY" --
           $<TARGET_FILE:sqnc> ${LAT_SMALL} --target sm_7 -o ${GPUK_OUT}/bad.plan)
  add_test(NAME sqnc_target_twice COMMAND ${EXPECT} 2 "target sm_75 given twice" --
           $<TARGET_FILE:sqnc> ${LAT_SMALL} --target sm_75,sm_75 -o ${GPUK_OUT}/bad.plan)
  add_test(NAME sqnc_target_embed COMMAND ${EXPECT} 0 "GPU kernels for sm_72,sm_75" --
           $<TARGET_FILE:sqnc> ${LAT_SMALL} --target sm_72,sm_75 -o ${GPUK_OUT}/lat_small_gpu.plan)
  add_test(NAME sqnrun_info_gpu COMMAND ${EXPECT} 0 "GPU kernels  sm_72 \\(PTX .target sm_72, [0-9]+ bytes\\), sm_75" --
           $<TARGET_FILE:sqnrun> ${GPUK_OUT}/lat_small_gpu.plan --info)
  set_tests_properties(sqnc_target_embed PROPERTIES FIXTURES_SETUP gpu_plan)
  set_tests_properties(sqnrun_info_gpu PROPERTIES FIXTURES_REQUIRED gpu_plan)
  add_test(NAME ptx_assemble COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/ptx_assemble.sh $<TARGET_FILE:sqnc>
           "${SQN_PTXAS}" ${PROJECT_SOURCE_DIR}/spaces/small.sqn ${GPUK_OUT}/assemble)
  set_tests_properties(ptx_assemble PROPERTIES SKIP_RETURN_CODE 77)
else()
  add_test(NAME sqnc_target_no_llvm COMMAND ${EXPECT} 2 "built without LLVM.*llvm-dev" --
           $<TARGET_FILE:sqnc> ${LAT_SMALL} --target sm_75 -o ${GPUK_OUT}/bad.plan)
endif()
add_test(NAME sqnrun_info_no_gpu_kernels COMMAND ${EXPECT} 0 "GPU kernels  none \\(compile with sqnc --target" --
         $<TARGET_FILE:sqnrun> ${CMAKE_CURRENT_BINARY_DIR}/cli_out/lat_small.plan --info)
set_tests_properties(sqnrun_info_no_gpu_kernels PROPERTIES FIXTURES_REQUIRED cli_lat_small)
