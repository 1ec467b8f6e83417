# tests/export_onnx.cmake: sqnrun --export-onnx (label `export`). The six published networks and a derived
# network that uses every op the exporter maps (tests/data/onnx/onnx_ops.sqn) are compiled at a small input,
# exported (BN folded and --keep-bn), checked by ONNX's checker and strict shape inference, and run by
# OpenCV's DNN module against sqnrun's own logits (tests/export_onnx_check.py, /usr/bin/python3; it skips
# with exit 77 where python3-onnx, python3-opencv, numpy or the reference weights are missing). Then the
# errors a user can cause. In a build without protobuf-c only the refusal is tested.
set(ONNX_OUT ${CMAKE_CURRENT_BINARY_DIR}/export_onnx)
set(ONNX_EXPECT sh ${CMAKE_CURRENT_SOURCE_DIR}/expect_exit.sh)
set(ONNX_REF ${SQN_SHARED_DIR}/reference/weights)
set(ONNX_NETS mac_small lat_small mac_large lat_large mac_xlarge lat_xlarge)
file(MAKE_DIRECTORY ${ONNX_OUT})

# The plans: the published networks at 3x128x256, the derived network and its space.
set(onnx_compile "set -e")
foreach(net ${ONNX_NETS})
  string(APPEND onnx_compile "; $<TARGET_FILE:sqnc> ${PROJECT_SOURCE_DIR}/examples/${net}.sqn --input 3x128x256 -q -o ${ONNX_OUT}/${net}.plan")
endforeach()
set(ONNX_OPS_SQN ${CMAKE_CURRENT_SOURCE_DIR}/data/onnx/onnx_ops.sqn)
string(APPEND onnx_compile "; $<TARGET_FILE:sqnc> ${ONNX_OPS_SQN} -q -o ${ONNX_OUT}/onnx_ops.plan"
       "; $<TARGET_FILE:sqnc> ${ONNX_OPS_SQN} --name onnx_ops_space -q -o ${ONNX_OUT}/onnx_ops_space.plan"
       "; $<TARGET_FILE:sqnc> ${CMAKE_CURRENT_SOURCE_DIR}/data/onnx/onnx_spatial.sqn -q -o ${ONNX_OUT}/onnx_spatial.plan"
       "; $<TARGET_FILE:sqnc> ${PROJECT_SOURCE_DIR}/examples/shufflenet.sqn -q -o ${ONNX_OUT}/shufflenet.plan")
add_test(NAME export_onnx_plans COMMAND sh -c "${onnx_compile}")
set_tests_properties(export_onnx_plans PROPERTIES LABELS export FIXTURES_SETUP export_onnx_plans)

if(NOT SQN_HAVE_ONNX)
  add_test(NAME export_onnx_unavailable COMMAND ${ONNX_EXPECT} 2
           "built without ONNX export \\(install Debian's libprotobuf-c-dev protobuf-c-compiler and rebuild\\)" --
           $<TARGET_FILE:sqnrun> ${ONNX_OUT}/onnx_ops.plan --weights ${ONNX_OUT}/none.pth --export-onnx ${ONNX_OUT}/x.onnx)
  set_tests_properties(export_onnx_unavailable PROPERTIES LABELS export FIXTURES_REQUIRED export_onnx_plans)
  return()
endif()

# export_onnx_check.py on one plan: NAME, then its arguments.
function(export_onnx_check name)
  add_test(NAME export_onnx_${name}
           COMMAND sh -c "if [ ! -x /usr/bin/python3 ]; then echo 'SKIP: no /usr/bin/python3'; exit 77; fi; \
exec /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/export_onnx_check.py --sqnrun $<TARGET_FILE:sqnrun> \
--work ${ONNX_OUT}/${name} \"$@\"" export_onnx_check ${ARGN})
  set_tests_properties(export_onnx_${name} PROPERTIES LABELS export FIXTURES_REQUIRED export_onnx_plans
                       SKIP_RETURN_CODE 77 TIMEOUT 180)
endfunction()

# Published weights where ../shared/reference has them, seeded random ones (bench/squeezenas_torch.py) otherwise.
foreach(net ${ONNX_NETS})
  if(net STREQUAL "mac_small" OR net STREQUAL "lat_small")
    export_onnx_check(${net} --plan ${ONNX_OUT}/${net}.plan --weights ${ONNX_REF}/${net}.pth)
  else()
    export_onnx_check(${net} --plan ${ONNX_OUT}/${net}.plan --weights torch)
  endif()
endforeach()
# The derived network (batch 1: OpenCV folds its zero op's ConstantOfShape at batch 1), at its size and
# with --input (an odd size: resizes by non-integer ratios) and opset 13 (hswish as x * HardSigmoid(x));
# published weights at another input size.
export_onnx_check(derived --plan ${ONNX_OUT}/onnx_ops.plan --weights random --batch 1)
export_onnx_check(derived_input_opset13 --plan ${ONNX_OUT}/onnx_ops.plan --weights random --batch 1
                  --input 3x90x130 --opset 13)
# maxpool, gmp, pad, softmax, slice, channel_shuffle (tests/data/onnx/onnx_spatial.sqn), and the ShuffleNetV2
# example (maxpool stem, slice, channel_shuffle): onnx.checker and strict shape inference only, as OpenCV 4.6's
# DNN cannot import them (its Permute rejects channel_shuffle's 5-D Transpose; in onnx_spatial its Concat
# disagrees with the shapes the checker infers, likely the dilated MaxPool or Pad).
export_onnx_check(spatial --plan ${ONNX_OUT}/onnx_spatial.plan --weights random --batch 1 --checker-only)
export_onnx_check(shufflenet --plan ${ONNX_OUT}/shufflenet.plan --weights random --checker-only)
export_onnx_check(mac_small_input --plan ${ONNX_OUT}/mac_small.plan --weights ${ONNX_REF}/mac_small.pth
                  --input 3x192x320)

# What a user can get wrong. Weights for them: sqnrun's initialization after one training step.
set(ONNX_W ${ONNX_OUT}/init-run/last.safetensors)
add_test(NAME export_onnx_weights COMMAND sh -c "rm -rf '${ONNX_OUT}/init-run' && $<TARGET_FILE:sqnrun> \
${ONNX_OUT}/onnx_ops.plan --train --data synthetic --synthetic-size 64x128 --synthetic-train 2 --synthetic-val 1 \
--batch 2 --crop 64x128 --epochs 1 --overwrite --out '${ONNX_OUT}/init-run'")
set_tests_properties(export_onnx_weights PROPERTIES LABELS export FIXTURES_REQUIRED export_onnx_plans
                     FIXTURES_SETUP export_onnx_weights)
function(export_onnx_error name code regex)
  add_test(NAME export_onnx_${name} COMMAND ${ONNX_EXPECT} ${code} "${regex}" -- $<TARGET_FILE:sqnrun> ${ARGN})
  set_tests_properties(export_onnx_${name} PROPERTIES LABELS export FIXTURES_REQUIRED "export_onnx_plans;export_onnx_weights")
endfunction()
export_onnx_error(space_refused 2 "onnx_ops_space is a search space, not a network: derive a network first"
                  ${ONNX_OUT}/onnx_ops_space.plan --weights ${ONNX_W} --export-onnx ${ONNX_OUT}/space.onnx)
export_onnx_error(no_weights 2 "--export-onnx needs --weights"
                  ${ONNX_OUT}/onnx_ops.plan --export-onnx ${ONNX_OUT}/noweights.onnx)
export_onnx_error(bad_opset 2 "bad --opset '12'" ${ONNX_OUT}/onnx_ops.plan --weights ${ONNX_W} --opset 12
                  --export-onnx ${ONNX_OUT}/opset12.onnx)
export_onnx_error(unwritable 1 "cannot write ${ONNX_OUT}/no-such-dir/net.onnx"
                  ${ONNX_OUT}/onnx_ops.plan --weights ${ONNX_W} --export-onnx ${ONNX_OUT}/no-such-dir/net.onnx)
export_onnx_error(bad_input 1 "network mac_small cannot take a 3x100x100 input"
                  ${ONNX_OUT}/mac_small.plan --weights ${ONNX_W} --input 3x100x100 --export-onnx ${ONNX_OUT}/x.onnx)
export_onnx_error(progress 0 "export-onnx: [0-9]+ done in .*wrote ${ONNX_OUT}/progress.onnx \\(network onnx_ops, input batch x 3x64x128, opset 17"
                  ${ONNX_OUT}/onnx_ops.plan --weights ${ONNX_W} --export-onnx ${ONNX_OUT}/progress.onnx)
# Weights of another network: an error naming the tensor, and no output file, not even a partial one.
add_test(NAME export_onnx_wrong_weights COMMAND sh -c "rm -f '${ONNX_OUT}/wrong.onnx'; \
${ONNX_EXPECT} 1 'tensor .encoder.residuals.0.op.0.weight. has shape' -- $<TARGET_FILE:sqnrun> ${ONNX_OUT}/mac_small.plan \
--weights ${ONNX_W} --export-onnx ${ONNX_OUT}/wrong.onnx && ! ls '${ONNX_OUT}'/wrong.onnx* 2>/dev/null")
set_tests_properties(export_onnx_wrong_weights PROPERTIES LABELS export FIXTURES_REQUIRED "export_onnx_plans;export_onnx_weights")
