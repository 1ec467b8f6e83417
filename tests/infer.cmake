# Golden inference: the published mac_small and lat_small weights (upstream .pth, legacy format) on
# upstream's 1x3x784x1568 input reproduce upstream's logits (every 4th pixel, |diff| <= 1e-3) and
# argmax (>= 99.99% of pixels). Skipped, visibly, without ../shared/reference.
set(REF ${SQN_SHARED_DIR}/reference)
set(GOLDEN_OUT ${CMAKE_CURRENT_BINARY_DIR}/golden_out)
file(MAKE_DIRECTORY ${GOLDEN_OUT})
add_executable(compare_npy compare_npy.c)
target_link_libraries(compare_npy PRIVATE sqnexec)

# mac_small is compiled for the golden size; lat_small for its default 1024x2048, so its run at
# 784x1568 checks the run-time shape inference too.
set(golden_input_mac_small --input 3x784x1568)
set(golden_input_lat_small)
foreach(net mac_small lat_small)
  add_test(NAME golden_${net}_compile
           COMMAND sqnc ${PROJECT_SOURCE_DIR}/examples/${net}.sqn ${golden_input_${net}} -q -o ${GOLDEN_OUT}/${net}.plan)
  add_test(NAME golden_${net}_infer
           COMMAND sh -c "if [ ! -f '${REF}/weights/${net}.pth' ]; then echo 'SKIPPED: ${REF} not found'; exit 77; fi; \
exec '$<TARGET_FILE:sqnrun>' '${GOLDEN_OUT}/${net}.plan' --weights '${REF}/weights/${net}.pth' \
--infer '${REF}/input_1x3x784x1568.npy' --logits '${GOLDEN_OUT}/${net}.logits.npy' --argmax '${GOLDEN_OUT}/${net}.argmax.npy'")
  add_test(NAME golden_${net}_logits
           COMMAND compare_npy logits ${GOLDEN_OUT}/${net}.logits.npy ${REF}/${net}.logits_sub4.npy 4 1e-3)
  add_test(NAME golden_${net}_argmax
           COMMAND compare_npy argmax ${GOLDEN_OUT}/${net}.argmax.npy ${REF}/${net}.argmax.npy 0.9999)
  set_tests_properties(golden_${net}_compile PROPERTIES FIXTURES_SETUP golden_plan_${net})
  set_tests_properties(golden_${net}_infer PROPERTIES FIXTURES_REQUIRED golden_plan_${net}
                       FIXTURES_SETUP golden_out_${net} SKIP_RETURN_CODE 77 TIMEOUT 900)
  set_tests_properties(golden_${net}_logits golden_${net}_argmax PROPERTIES FIXTURES_REQUIRED golden_out_${net}
                       SKIP_RETURN_CODE 77)
endforeach()
