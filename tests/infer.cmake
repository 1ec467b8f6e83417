# Golden inference: the published mac_small and lat_small weights (upstream .pth, legacy format) on
# upstream's 1x3x784x1568 input reproduce upstream's logits (every 4th pixel, |diff| <= 1e-3), the
# decoder output before the final upsampling (|diff| <= 1e-4) and the argmax (>= 99.99% of pixels).
# Skipped, visibly, without ../shared/reference.
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
--infer '${REF}/input_1x3x784x1568.npy' --logits '${GOLDEN_OUT}/${net}.logits.npy' --argmax '${GOLDEN_OUT}/${net}.argmax.npy' \
--tap 'decoder.add=${GOLDEN_OUT}/${net}.os8.npy'")
  add_test(NAME golden_${net}_logits
           COMMAND compare_npy logits ${GOLDEN_OUT}/${net}.logits.npy ${REF}/${net}.logits_sub4.npy 4 1e-3)
  # the decoder output before the final x8 upsampling (upstream's logits_os8): t3 + t4 of lr_aspp
  add_test(NAME golden_${net}_logits_os8
           COMMAND compare_npy logits ${GOLDEN_OUT}/${net}.os8.npy ${REF}/${net}.logits_os8.npy 1 1e-4)
  add_test(NAME golden_${net}_argmax
           COMMAND compare_npy argmax ${GOLDEN_OUT}/${net}.argmax.npy ${REF}/${net}.argmax.npy 0.9999)
  set_tests_properties(golden_${net}_compile PROPERTIES FIXTURES_SETUP golden_plan_${net})
  set_tests_properties(golden_${net}_infer PROPERTIES FIXTURES_REQUIRED golden_plan_${net}
                       FIXTURES_SETUP golden_out_${net} SKIP_RETURN_CODE 77 TIMEOUT 900)
  set_tests_properties(golden_${net}_logits golden_${net}_logits_os8 golden_${net}_argmax PROPERTIES FIXTURES_REQUIRED golden_out_${net}
                       SKIP_RETURN_CODE 77)
endforeach()

# Image in, images out: the gray train-id PNG written from the NumPy run is itself a valid (gray)
# input image; the second run reads it (PNG decode, gray -> RGB, ImageNet normalization) and writes the
# Cityscapes-palette prediction. Bad inputs give clear errors.
set(EXPECT sh ${CMAKE_CURRENT_SOURCE_DIR}/expect_exit.sh)
add_test(NAME infer_png_labels COMMAND ${EXPECT} 0 "mac_small: 1x3x784x1568 in" --
         $<TARGET_FILE:sqnrun> ${GOLDEN_OUT}/mac_small.plan --weights ${REF}/weights/mac_small.pth
         --infer ${REF}/input_1x3x784x1568.npy --labels ${GOLDEN_OUT}/ids.png)
add_test(NAME infer_png_input COMMAND ${EXPECT} 0 "mac_small: 1x3x784x1568 in" --
         $<TARGET_FILE:sqnrun> ${GOLDEN_OUT}/mac_small.plan --weights ${REF}/weights/mac_small.pth
         --infer ${GOLDEN_OUT}/ids.png -o ${GOLDEN_OUT}/pred.png)
add_test(NAME infer_not_an_image COMMAND ${EXPECT} 1 "infer.cmake: not a .npy file" --
         $<TARGET_FILE:sqnrun> ${GOLDEN_OUT}/mac_small.plan --weights ${REF}/weights/mac_small.pth
         --infer ${CMAKE_CURRENT_SOURCE_DIR}/infer.cmake -o ${GOLDEN_OUT}/x.png)
# Under 784x784 the LR-ASPP pooling window fits itself to the OS16 map (pool_fit in spaces/small.sqn).
add_test(NAME infer_small_input COMMAND ${EXPECT} 0 "mac_small: 1x3x256x512 in" --
         $<TARGET_FILE:sqnrun> ${GOLDEN_OUT}/mac_small.plan --weights ${REF}/weights/mac_small.pth
         --infer ${REF}/input_1x3x256x512.npy -o ${GOLDEN_OUT}/x.png)
add_test(NAME infer_wrong_weights COMMAND ${EXPECT} 1 "tensor 'encoder.residuals.0.op.0.weight' has shape \\[16, 8, 1, 1\\], the network needs \\[16, 16, 1, 1\\]" --
         $<TARGET_FILE:sqnrun> ${GOLDEN_OUT}/lat_small.plan --weights ${REF}/weights/mac_small.pth
         --infer ${REF}/input_1x3x784x1568.npy -o ${GOLDEN_OUT}/x.png)
foreach(t infer_png_labels infer_not_an_image infer_small_input infer_wrong_weights)
  set_tests_properties(${t} PROPERTIES FIXTURES_REQUIRED "golden_plan_mac_small;golden_plan_lat_small")
endforeach()
set_tests_properties(infer_png_labels PROPERTIES FIXTURES_SETUP png_ids)
set_tests_properties(infer_png_input PROPERTIES FIXTURES_REQUIRED "golden_plan_mac_small;png_ids")

# A truncated .pth (the first 100000 bytes of the published file) and an odd input size.
add_test(NAME infer_truncated_pth COMMAND sh -c "if [ ! -f '${REF}/weights/mac_small.pth' ]; then echo 'SKIPPED: no reference'; exit 77; fi; \
head -c 100000 '${REF}/weights/mac_small.pth' > '${GOLDEN_OUT}/truncated.pth' && \
exec sh '${CMAKE_CURRENT_SOURCE_DIR}/expect_exit.sh' 1 'truncated.pth: .*(truncated|unexpected end)' -- \
'$<TARGET_FILE:sqnrun>' '${GOLDEN_OUT}/mac_small.plan' --weights '${GOLDEN_OUT}/truncated.pth' \
--infer '${REF}/input_1x3x784x1568.npy' -o '${GOLDEN_OUT}/x.png'")
set_tests_properties(infer_truncated_pth PROPERTIES FIXTURES_REQUIRED golden_plan_mac_small SKIP_RETURN_CODE 77)
add_test(NAME infer_odd_size COMMAND ${EXPECT} 1 "cannot take a 3x1000x2000 input: .*multiples of 16" --
         $<TARGET_FILE:sqnrun> ${GOLDEN_OUT}/mac_small.plan --bench --input 3x1000x2000 --iters 1)
set_tests_properties(infer_odd_size PROPERTIES FIXTURES_REQUIRED golden_plan_mac_small)
add_test(NAME infer_tap_unknown COMMAND ${EXPECT} 2 "network mac_small has no op named 'decoder.ad'" --
         $<TARGET_FILE:sqnrun> ${GOLDEN_OUT}/mac_small.plan --weights ${REF}/weights/mac_small.pth
         --infer ${REF}/input_1x3x784x1568.npy --tap decoder.ad=${GOLDEN_OUT}/x.npy --argmax ${GOLDEN_OUT}/x.npy)
set_tests_properties(infer_tap_unknown PROPERTIES FIXTURES_REQUIRED golden_plan_mac_small)

# Class ids only (--argmax/-o/--labels without --logits): the final x8 upsampling fused with the argmax gives
# upstream's argmax (>= 99.99%) and exactly the ids of the run that writes the logits (golden_NET_infer).
foreach(net mac_small lat_small)
  add_test(NAME golden_${net}_classes
           COMMAND sh -c "if [ ! -f '${REF}/weights/${net}.pth' ]; then echo 'SKIPPED: ${REF} not found'; exit 77; fi; \
'$<TARGET_FILE:sqnrun>' '${GOLDEN_OUT}/${net}.plan' --weights '${REF}/weights/${net}.pth' \
--infer '${REF}/input_1x3x784x1568.npy' --argmax '${GOLDEN_OUT}/${net}.classes.npy' && \
'$<TARGET_FILE:compare_npy>' argmax '${GOLDEN_OUT}/${net}.classes.npy' '${REF}/${net}.argmax.npy' 0.9999 && \
exec '$<TARGET_FILE:compare_npy>' argmax '${GOLDEN_OUT}/${net}.classes.npy' '${GOLDEN_OUT}/${net}.argmax.npy' 1")
  set_tests_properties(golden_${net}_classes PROPERTIES FIXTURES_REQUIRED "golden_plan_${net};golden_out_${net}"
                       SKIP_RETURN_CODE 77 TIMEOUT 900)
endforeach()
# The six published architectures with random weights at 784x1568 (tests/test_classes.c).
add_executable(test_classes ${CMAKE_CURRENT_SOURCE_DIR}/test_classes.c)
target_link_libraries(test_classes PRIVATE sqnexec m)
set(CLASSES_PLANS)
foreach(net mac_small lat_small mac_large lat_large mac_xlarge lat_xlarge)
  add_test(NAME classes_plan_${net} COMMAND sqnc ${PROJECT_SOURCE_DIR}/examples/${net}.sqn --input 3x784x1568 -q
           -o ${GOLDEN_OUT}/classes_${net}.plan)
  set_tests_properties(classes_plan_${net} PROPERTIES FIXTURES_SETUP classes_plans)
  list(APPEND CLASSES_PLANS ${GOLDEN_OUT}/classes_${net}.plan)
endforeach()
add_test(NAME infer_classes_fused COMMAND test_classes ${CLASSES_PLANS})
set_tests_properties(infer_classes_fused PROPERTIES FIXTURES_REQUIRED classes_plans TIMEOUT 900)
# The fused inverted residuals on the same six networks, and on the Small space with random choices (tests/test_fused_net.c).
add_executable(test_fused_net ${CMAKE_CURRENT_SOURCE_DIR}/test_fused_net.c)
target_link_libraries(test_fused_net PRIVATE sqnexec m)
add_test(NAME fused_net_small_plan COMMAND sqnc ${PROJECT_SOURCE_DIR}/spaces/small.sqn --input 3x256x512 -q
         -o ${GOLDEN_OUT}/fused_small_space.plan)
set_tests_properties(fused_net_small_plan PROPERTIES FIXTURES_SETUP fused_space_plan)
add_test(NAME infer_fused_groups COMMAND test_fused_net ${CLASSES_PLANS} ${GOLDEN_OUT}/fused_small_space.plan)
set_tests_properties(infer_fused_groups PROPERTIES FIXTURES_REQUIRED "classes_plans;fused_space_plan" TIMEOUT 900)
