# End-to-end CLI tests of sqnc: every space and example compiles to a plan that sqnrun describes,
# and every user error gives its message and exit code (0 ok, 1 compile error, 2 usage, 3 output).
set(SQNC_OUT ${CMAKE_CURRENT_BINARY_DIR}/cli_out)
file(MAKE_DIRECTORY ${SQNC_OUT})
set(EXPECT sh ${CMAKE_CURRENT_SOURCE_DIR}/expect_exit.sh)

function(sqnc_cli name code regex)
  add_test(NAME sqnc_${name} COMMAND ${EXPECT} ${code} "${regex}" -- $<TARGET_FILE:sqnc> ${ARGN})
endfunction()

# Every shipped space and network compiles, and its plan reads back.
foreach(src spaces/small.sqn spaces/large.sqn spaces/xlarge.sqn examples/mac_small.sqn examples/mac_large.sqn
            examples/mac_xlarge.sqn examples/lat_small.sqn examples/lat_large.sqn examples/lat_xlarge.sqn
            examples/se_space.sqn examples/hsigmoid_se.sqn)
  get_filename_component(stem ${src} NAME_WE)
  add_test(NAME compile_${stem} COMMAND ${EXPECT} 0 "wrote .*${stem}.plan" --
           $<TARGET_FILE:sqnc> ${PROJECT_SOURCE_DIR}/${src} -o ${SQNC_OUT}/${stem}.plan)
  add_test(NAME info_${stem} COMMAND ${EXPECT} 0 "superblocks" -- $<TARGET_FILE:sqnrun> ${SQNC_OUT}/${stem}.plan --info)
  set_tests_properties(compile_${stem} PROPERTIES FIXTURES_SETUP cli_${stem})
  set_tests_properties(info_${stem} PROPERTIES FIXTURES_REQUIRED cli_${stem})
endforeach()

# MobileNetV3's hard-sigmoid SE in .sqn only: relu6(g + 3) / 6 is two affine nodes around relu6, the
# builtin hsigmoid a node; one training step of the space runs their backward on the CPU.
sqnc_cli(hsigmoid_se_ir 0 "hsigmoid\\(.* affine\\(%[0-9]+\\) a=1 b=3 .* relu6\\(.* affine\\(%[0-9]+\\) a=0.166667 b=0 .* hsigmoid"
         ${PROJECT_SOURCE_DIR}/examples/hsigmoid_se.sqn --dump-ir=after)
add_test(NAME hsigmoid_se_train_step COMMAND ${EXPECT} 0 "step time" -- $<TARGET_FILE:sqnrun> ${SQNC_OUT}/hsigmoid_se.plan
         --bench --train --iters 1 --warmup 0 --batch 1)
set_tests_properties(hsigmoid_se_train_step PROPERTIES FIXTURES_REQUIRED cli_hsigmoid_se)

set(SMALL ${PROJECT_SOURCE_DIR}/spaces/small.sqn)
set(MAC_SMALL ${PROJECT_SOURCE_DIR}/examples/mac_small.sqn)
sqnc_cli(stats_table 0 "total MACs: 3007512576 .*total params: 277598" ${MAC_SMALL} --stats)
sqnc_cli(stats_json 0 "\"total_macs\": 3007512576,.*\"total_params\": 277598," ${MAC_SMALL} --stats --json)
sqnc_cli(stats_784 0 "total MACs: 1762970128 " ${MAC_SMALL} --stats --input 3x784x1568)
sqnc_cli(space_stats 0 "superblocks: 20, architectures' MACs: 0.892600 .. 11.011097 G" ${SMALL} --stats)
sqnc_cli(dump_ir 0 "== IR before passes ==.*conv.*== IR after fusion ==.*inverted_residual" ${MAC_SMALL} --dump-ir)
sqnc_cli(dump_ir_after 0 "inverted_residual" ${MAC_SMALL} --dump-ir=after)
sqnc_cli(dot 0 "^digraph .*cluster_sb0.*\\}" ${MAC_SMALL} --dot)
# stages are numbered from 1 in --dot, --stats and sqnrun --info alike (superblocks from 0)
sqnc_cli(dot_stage 0 "label=\"sb0 stage 1 16->16 s2\".*label=\"sb4 stage 2 16->24 s2\"" ${MAC_SMALL} --dot)
sqnc_cli(stats_stage 0 "params 0 +1 +16->16 +2 .* 4 +2 +16->24 +2 " ${MAC_SMALL} --stats)
sqnc_cli(select_name 0 "network lat_small is valid" ${PROJECT_SOURCE_DIR}/examples/lat_small.sqn --name lat_small)
sqnc_cli(help 0 "usage: sqnc FILE.sqn" --help)
sqnc_cli(version 0 "^sqnc [0-9]" --version)

sqnc_cli(no_args 2 "usage: sqnc FILE.sqn")
sqnc_cli(unknown_flag 2 "unknown option '--stat'.*did you mean '--stats'" ${SMALL} --stat)
sqnc_cli(bad_input 2 "bad --input '3x1024'.*CxHxW" ${SMALL} --input 3x1024)
sqnc_cli(missing_value 2 "option '-o' needs a value" ${SMALL} -o)
sqnc_cli(two_files 2 "more than one input file" ${SMALL} ${SMALL})
sqnc_cli(json_alone 2 "--json needs --stats" ${SMALL} --json)
sqnc_cli(bad_dump 2 "bad --dump-ir value 'sometimes'" ${SMALL} --dump-ir=sometimes)
sqnc_cli(missing_file 1 "cannot read .*nope.sqn: no such file" ${PROJECT_SOURCE_DIR}/nope.sqn)
sqnc_cli(directory 1 "cannot read .*" ${PROJECT_SOURCE_DIR}/spaces)
sqnc_cli(unknown_name 1 "no space or network named `smal`.*did you mean `small`" ${SMALL} --name smal)
sqnc_cli(broken 1 "broken.sqn:4:16: error: unknown name `cuot`.*did you mean `cout`.*broken.sqn:5:9: error: unknown op or block `rellu`.*did you mean `relu`.*2 errors"
         ${CMAKE_CURRENT_SOURCE_DIR}/cli/broken.sqn)
# LR-ASPP pools a 49x49 window at output stride 16: a too-small input is a shape error, not a crash.
sqnc_cli(input_too_small 1 "avgpool window 8x8 is larger than its 2x2 input.*larger --input.*in decoder `lr_aspp`"
         ${PROJECT_SOURCE_DIR}/examples/se_block.sqn --stats --input 3x32x32)
sqnc_cli(unwritable 3 "cannot write /nonexistent-dir/x.plan" ${MAC_SMALL} -o /nonexistent-dir/x.plan)
# The lexer's long-token overflow (a 50,000-character name crashed sqnc): now a located error.
add_test(NAME sqnc_long_name COMMAND ${EXPECT} 1 "long_name.sqn:1:1: error: name `a+...` is 50000 characters long.*at most 256"
         -- sh -c "head -c 50000 /dev/zero | tr '\\0' a > ${SQNC_OUT}/long_name.sqn && echo >> ${SQNC_OUT}/long_name.sqn && $<TARGET_FILE:sqnc> ${SQNC_OUT}/long_name.sqn")
add_test(NAME sqnc_plan_input COMMAND ${EXPECT} 2 "'.*sample.plan' is a compiled plan, not .sqn source.*sqnrun PLAN --info"
         -- $<TARGET_FILE:sqnc> ${CMAKE_CURRENT_BINARY_DIR}/plan_fixtures/sample.plan)
set_tests_properties(sqnc_plan_input PROPERTIES FIXTURES_REQUIRED plan_files)
# The ShuffleNetV2 example (slice, channel_shuffle, a maxpool stem) compiles and runs.
add_test(NAME sqnrun_shufflenet_bench COMMAND ${EXPECT} 0 "latency .*throughput" -- sh -c "$<TARGET_FILE:sqnc> \
${PROJECT_SOURCE_DIR}/examples/shufflenet.sqn -q -o ${SQNC_OUT}/shufflenet.plan && $<TARGET_FILE:sqnrun> \
${SQNC_OUT}/shufflenet.plan --bench --iters 1 --warmup 0")
sqnc_cli(library_check 0 "blocks.sqn checked" ${PROJECT_SOURCE_DIR}/lang/std/blocks.sqn)
sqnc_cli(library_needs_space 1 "declares no space or network" ${PROJECT_SOURCE_DIR}/lang/std/blocks.sqn --stats)
sqnc_cli(supernet_params 0 "supernet params \\(all candidates\\): 3668366 \\+ 260 architecture weights = 3668626" ${SMALL} --stats)

# sqnrun --bench (random Kaiming weights) on a small input; the input check and bad values.
add_test(NAME bench_compile COMMAND sqnc ${PROJECT_SOURCE_DIR}/examples/mac_xlarge.sqn --input 3x256x512 -q
         -o ${SQNC_OUT}/mac_xlarge_256.plan)
set_tests_properties(bench_compile PROPERTIES FIXTURES_SETUP bench_plan)
set(XL256 ${SQNC_OUT}/mac_xlarge_256.plan)
add_test(NAME sqnrun_bench_json COMMAND ${EXPECT} 0 "^\\{\"network\": \"mac_xlarge\", \"output\": \"logits\", \"input\": \\[1, 3, 256, 512\\], \"iters\": 2, .*\"gmacs\": 1.364894,"
         -- $<TARGET_FILE:sqnrun> ${XL256} --bench --iters 2 --warmup 1 --json)
add_test(NAME sqnrun_bench_table COMMAND ${EXPECT} 0 "latency +min .* median .* p99 .*throughput .*peak activations"
         -- $<TARGET_FILE:sqnrun> ${XL256} --bench --iters 1 --warmup 0 --threads 1)
# A plan compiled for 256x512 runs at other sizes: shapes and MACs follow (upstream: 5.459574784 G at 512x1024).
add_test(NAME sqnrun_bench_other_size COMMAND ${EXPECT} 0 "input 3x512x1024, 5.460 GMACs"
         -- $<TARGET_FILE:sqnrun> ${XL256} --bench --input 3x512x1024 --iters 1 --warmup 0)
add_test(NAME sqnrun_bench_bad_size COMMAND ${EXPECT} 1 "cannot take a 3x250x500 input: concat .* gets 160x64x128 and 32x63x125.*multiples of 16"
         -- $<TARGET_FILE:sqnrun> ${XL256} --bench --input 3x250x500)
add_test(NAME sqnrun_bench_bad_iters COMMAND ${EXPECT} 2 "bad --iters '0'" -- $<TARGET_FILE:sqnrun> ${XL256} --bench --iters 0)
add_test(NAME sqnrun_infer_space COMMAND ${EXPECT} 1 "is a search space: inference needs a fixed network"
         -- $<TARGET_FILE:sqnrun> ${SQNC_OUT}/small.plan --bench --iters 1)
# --classes: the upsampling fused with the argmax; --no-fuse: the logits laid out, then the argmax.
add_test(NAME sqnrun_bench_classes COMMAND ${EXPECT} 0 "^\\{\"network\": \"mac_xlarge\", \"output\": \"classes \\(upsampling fused with the argmax\\)\", .*\"gmacs\": 1.364894,"
         -- $<TARGET_FILE:sqnrun> ${XL256} --bench --classes --iters 1 --warmup 0 --json)
add_test(NAME sqnrun_bench_classes_unfused COMMAND ${EXPECT} 0 "\"output\": \"classes\", \"input\""
         -- $<TARGET_FILE:sqnrun> ${XL256} --bench --classes --no-fuse --iters 1 --warmup 0 --json)
set_tests_properties(sqnrun_bench_json sqnrun_bench_table sqnrun_bench_other_size sqnrun_bench_bad_size sqnrun_bench_bad_iters
                     sqnrun_bench_classes sqnrun_bench_classes_unfused
                     PROPERTIES FIXTURES_REQUIRED bench_plan)
set_tests_properties(sqnrun_infer_space PROPERTIES FIXTURES_REQUIRED cli_small)
sqnc_cli(stats_memory 0 "activation memory \\(inference, batch 1\\): 199.5 MiB in [0-9]+ planned buffers \\(one buffer per op: 1487.6 MiB\\)" ${MAC_SMALL} --stats)
# (A build with CUDA runs --backend cuda: tests/gpu.cmake tests it, with or without a GPU.)
if(NOT SQN_HAVE_CUDA)
  add_test(NAME sqnrun_backend_cuda COMMAND ${EXPECT} 1 "this build has no CUDA backend \\(built without the CUDA toolkit/cuDNN\\); use --backend cpu"
           -- $<TARGET_FILE:sqnrun> ${XL256} --bench --backend cuda)
  set_tests_properties(sqnrun_backend_cuda PROPERTIES FIXTURES_REQUIRED bench_plan)
endif()
add_test(NAME sqnrun_backend_unknown COMMAND ${EXPECT} 1 "unknown backend 'tpu' \\(this build has: cpu(, cuda)?\\)"
         -- $<TARGET_FILE:sqnrun> ${XL256} --bench --backend tpu)
set_tests_properties(sqnrun_backend_unknown PROPERTIES FIXTURES_REQUIRED bench_plan)
# A build whose CPU kernels are compiled for x86-64-v3 (runtime/cpu/CMakeLists.txt) refuses, with a message, to run
# on a CPU without AVX2/FMA instead of dying of SIGILL (SQN_CPU_PRETEND=x86-64 plays that CPU).
if(SQN_AVX2 AND SQN_CPU_HAS_AVX2)
  add_test(NAME sqnrun_cpu_without_avx2 COMMAND ${EXPECT} 1 "need AVX2 and FMA .*SQN_AVX2=OFF" -- $<TARGET_FILE:sqnrun> --help)
  set_tests_properties(sqnrun_cpu_without_avx2 PROPERTIES ENVIRONMENT SQN_CPU_PRETEND=x86-64)
endif()
