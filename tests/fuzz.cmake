# tests/fuzz.cmake - fuzzing the front end (lexer, parser, elaborator, cost model, fusion pass) and the
# runtime's file readers.
#
# Always: `fuzz_replay` runs the fuzz target (fuzz_frontend.c) on every file of the seed corpus
# tests/fuzz_corpus/ without libFuzzer (ctest `fuzz_corpus_replay`), so the corpus runs in the plain
# and the ASan builds too. A reproducer saved by the fuzzer can be replayed the same way:
#   fuzz_replay crash-1234   (SQN_FUZZ_DIAG=1 also prints the compiler's diagnostics)
#
# With -DSQN_FUZZ=ON (needs clang): `fuzz_frontend`, the libFuzzer binary, the reader fuzzers
# (tests/fuzz_readers.c: fuzz_plan, fuzz_pth, fuzz_safetensors, fuzz_image, fuzz_npy, fuzz_lut,
# fuzz_checkpoint, fuzz_dataset), the ctest `fuzz_frontend_smoke` (60 s of fuzzing from a copy of the
# corpus, with the dictionary tests/fuzz_dict/sqn.dict and inputs up to 1 MiB) and a short smoke test
# per reader (`fuzz_<reader>_smoke`, from tests/fuzz_corpus_readers/<reader>/). fuzz_frontend is
# built from the front-end sources themselves (its own bison/flex output included), compiled with
# -fsanitize=fuzzer,address,undefined, so it is instrumented for coverage whatever CMAKE_C_FLAGS
# are; tests/run_fuzz.sh additionally builds everything with -fsanitize=fuzzer-no-link,... .
# It needs neither the runtime nor the plan writer.

if(CMAKE_SCRIPT_MODE_FILE)
  # The ctest fuzz_*_smoke tests run this file as a script:
  #   cmake -DFUZZER=... -DCORPUS=... -DWORK=... -DSECONDS=... [-DDICTS=a.dict|b.dict] [-DMAX_LEN=...] -P fuzz.cmake
  # CORPUS may be missing (the fuzzer then starts from nothing).
  if(NOT DEFINED MAX_LEN)
    set(MAX_LEN 1048576)
  endif()
  file(REMOVE_RECURSE ${WORK})
  file(MAKE_DIRECTORY ${WORK}/corpus ${WORK}/findings ${WORK}/tmp)
  file(GLOB _seeds ${CORPUS}/*)
  if(_seeds)
    file(COPY ${_seeds} DESTINATION ${WORK}/corpus)
  endif()
  # DICTS: dictionary files separated by '|', concatenated (libFuzzer takes one -dict).
  set(_dict)
  if(DICTS)
    string(REPLACE "|" ";" _dicts "${DICTS}")
    file(WRITE ${WORK}/fuzz.dict "")
    foreach(_d ${_dicts})
      file(READ ${_d} _text)
      file(APPEND ${WORK}/fuzz.dict "${_text}\n")
    endforeach()
    set(_dict -dict=${WORK}/fuzz.dict)
  endif()
  # -len_control=0: long mutations from the start (libFuzzer otherwise grows inputs slowly).
  set(ENV{TMPDIR} ${WORK}/tmp)
  execute_process(COMMAND ${FUZZER} -max_total_time=${SECONDS} -max_len=${MAX_LEN} -len_control=0
                          -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 ${_dict}
                          -artifact_prefix=${WORK}/findings/ ${WORK}/corpus
                  RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    file(GLOB _found ${WORK}/findings/*)
    get_filename_component(_name ${FUZZER} NAME)
    message(FATAL_ERROR "${_name} failed (exit ${_rc}); reproducer(s): ${_found}\n"
                        "replay with: ${FUZZER} <file>   (the front end: SQN_FUZZ_DIAG=1 fuzz_replay <file>)")
  endif()
  return()
endif()

add_executable(fuzz_replay fuzz_replay.c fuzz_frontend.c)
target_link_libraries(fuzz_replay PRIVATE sqncomp)
add_test(NAME fuzz_corpus_replay COMMAND fuzz_replay ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_corpus)
set_tests_properties(fuzz_corpus_replay PROPERTIES
                     PASS_REGULAR_EXPRESSION "[0-9]+ passed, 0 failed" TIMEOUT 300)

# fuzz_lut checks tables against this plan (a small space: 3 superblocks of 3 candidates).
add_custom_command(OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/fuzz_lut_space.plan
                   COMMAND sqnc ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_corpus/01_tiny_space.sqn -q
                           -o ${CMAKE_CURRENT_BINARY_DIR}/fuzz_lut_space.plan
                   DEPENDS sqnc ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_corpus/01_tiny_space.sqn
                   COMMENT "Compiling the search space fuzz_lut checks its tables against" VERBATIM)

# The reader targets of tests/fuzz_readers.c without libFuzzer, linked against the runtime's
# libraries: ctest `fuzz_<reader>_replay` runs each on its committed seeds
# (tests/fuzz_corpus_readers/<reader>/, regression seeds of fixed bugs included) in the plain and the
# ASan builds. (The fuzz build, whose runtime libraries do not all build with the fuzzer flags, runs
# the same seeds in fuzz_<reader>_smoke.) Replay a reproducer the same way:
#   SQN_FUZZ_DIAG=1 fuzz_replay_<reader> FILE
if(NOT SQN_FUZZ)
  set(_fz_replay_libs_pth sqnio)
  set(_fz_replay_libs_safetensors sqnio)
  set(_fz_replay_libs_image sqnio)
  set(_fz_replay_libs_npy sqnio)
  set(_fz_replay_libs_lut sqnsearch)
  set(_fz_replay_libs_checkpoint sqnio)
  set(_fz_replay_libs_dataset sqndata)
  foreach(kind pth safetensors image npy lut checkpoint dataset)
    string(TOUPPER ${kind} _def)
    add_executable(fuzz_replay_${kind} fuzz_replay.c fuzz_readers.c)
    target_compile_definitions(fuzz_replay_${kind} PRIVATE FUZZ_${_def})
    target_link_libraries(fuzz_replay_${kind} PRIVATE ${_fz_replay_libs_${kind}} sqnplan)
    add_test(NAME fuzz_${kind}_replay
             COMMAND fuzz_replay_${kind} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_corpus_readers/${kind})
    set_tests_properties(fuzz_${kind}_replay PROPERTIES
                         PASS_REGULAR_EXPRESSION "[0-9]+ passed, 0 failed" TIMEOUT 300)
  endforeach()
  target_sources(fuzz_replay_lut PRIVATE ${CMAKE_CURRENT_BINARY_DIR}/fuzz_lut_space.plan)
  target_compile_definitions(fuzz_replay_lut PRIVATE FUZZ_LUT_PLAN="${CMAKE_CURRENT_BINARY_DIR}/fuzz_lut_space.plan")
endif()

if(SQN_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "SQN_FUZZ needs clang (libFuzzer): configure with -DCMAKE_C_COMPILER=clang, "
                        "or run tests/run_fuzz.sh")
  endif()
  set(SQN_FUZZ_FLAGS -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g)

  # The front end as compiled into sqnlang/sqncomp (compiler/ minus the CLI and the plan writer),
  # with its own generated parser and scanner so that they carry the fuzzer instrumentation too.
  set(_fz_gen ${CMAKE_CURRENT_BINARY_DIR}/fuzz_gen)
  file(MAKE_DIRECTORY ${_fz_gen})
  bison_target(SqnFuzzParser ${PROJECT_SOURCE_DIR}/lang/parser.y ${_fz_gen}/parser.c
               DEFINES_FILE ${_fz_gen}/parser.h)
  flex_target(SqnFuzzLexer ${PROJECT_SOURCE_DIR}/lang/lexer.l ${_fz_gen}/lexer.c
              DEFINES_FILE ${_fz_gen}/lexer.h)
  add_flex_bison_dependency(SqnFuzzLexer SqnFuzzParser)
  file(GLOB _fz_lang CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/lang/*.c)
  set(_fz_comp_dirs ${PROJECT_SOURCE_DIR}/compiler/ir ${PROJECT_SOURCE_DIR}/compiler/passes
                    ${PROJECT_SOURCE_DIR}/compiler/front ${PROJECT_SOURCE_DIR}/compiler/emit)
  file(GLOB _fz_comp CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/compiler/ir/*.c ${PROJECT_SOURCE_DIR}/compiler/passes/*.c
       ${PROJECT_SOURCE_DIR}/compiler/front/*.c ${PROJECT_SOURCE_DIR}/compiler/emit/*.c)
  # sqnc.c has main(); plan_write.c needs the runtime's plan format; dump/stats are output only; the kernel
  # generator (kgen_*, ptx_embed) runs after the front end and needs LLVM.
  list(FILTER _fz_comp EXCLUDE REGEX "/(sqnc|plan_write|dump|stats|ptx_embed)\\.c$")
  set_source_files_properties(${BISON_SqnFuzzParser_OUTPUTS} ${FLEX_SqnFuzzLexer_OUTPUTS} PROPERTIES
                              COMPILE_OPTIONS "-Wno-unused-function;-Wno-sign-compare;-Wno-unused-but-set-variable;-Wno-misleading-indentation;-Wno-error")

  add_executable(fuzz_frontend fuzz_frontend.c ${_fz_lang} ${_fz_comp} ${PROJECT_SOURCE_DIR}/plan/op.c ${PROJECT_SOURCE_DIR}/base/err.c
                 ${BISON_SqnFuzzParser_OUTPUTS} ${FLEX_SqnFuzzLexer_OUTPUTS})
  target_include_directories(fuzz_frontend PRIVATE ${_fz_gen} ${PROJECT_SOURCE_DIR}/lang ${PROJECT_SOURCE_DIR}/base ${PROJECT_SOURCE_DIR}/plan ${_fz_comp_dirs})
  target_compile_definitions(fuzz_frontend PRIVATE SQN_STDLIB_DIR="${PROJECT_SOURCE_DIR}/lang")
  target_compile_options(fuzz_frontend PRIVATE ${SQN_FUZZ_FLAGS})
  target_link_options(fuzz_frontend PRIVATE ${SQN_FUZZ_FLAGS})
  target_link_libraries(fuzz_frontend PRIVATE m)

  # The runtime's file readers (tests/fuzz_readers.c), built from their sources with the same
  # instrumentation; tests/run_fuzz.sh runs them next to fuzz_frontend. The writers the reader files
  # also hold need sqnbase (atomic files) at link time.
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(FZ_PNG REQUIRED IMPORTED_TARGET libpng)
  pkg_check_modules(FZ_JPEG REQUIRED IMPORTED_TARGET libjpeg)
  set(_fz_io ${PROJECT_SOURCE_DIR}/runtime/io)
  set(_fz_plan ${PROJECT_SOURCE_DIR}/plan)
  set(_fz_data ${PROJECT_SOURCE_DIR}/runtime/data)
  set(_fz_search ${PROJECT_SOURCE_DIR}/runtime/search)
  set(_fz_include ${_fz_io} ${_fz_plan} ${_fz_data} ${_fz_search} ${PROJECT_SOURCE_DIR}/base ${PROJECT_SOURCE_DIR}/runtime/train
                  ${PROJECT_SOURCE_DIR}/runtime/cpu)
  set(_fz_image ${_fz_io}/image_io.c ${_fz_io}/image_png.c ${_fz_io}/image_jpeg.c ${_fz_io}/cityscapes.c)
  set(_fz_reader_srcs_plan ${_fz_plan}/plan_read.c ${_fz_plan}/plan_info.c ${_fz_plan}/op.c)
  set(_fz_reader_srcs_pth ${_fz_io}/tensor_set.c ${_fz_io}/pickle.c ${_fz_io}/pth_read.c ${_fz_io}/safetensors.c ${_fz_io}/json_min.c)
  set(_fz_reader_srcs_safetensors ${_fz_reader_srcs_pth})
  set(_fz_reader_srcs_image ${_fz_image})
  set(_fz_reader_srcs_npy ${_fz_io}/npy.c ${_fz_io}/tensor_set.c)
  # search.c for cost_from_plan; its trainer-facing half is stubbed (FUZZ_TRAINER_STUBS).
  set(_fz_reader_srcs_lut ${_fz_search}/search_lut.c ${_fz_search}/search.c ${_fz_io}/json_min.c ${_fz_io}/tensor_set.c
                          ${_fz_plan}/plan_read.c ${_fz_plan}/plan_info.c ${_fz_plan}/op.c ${CMAKE_CURRENT_BINARY_DIR}/fuzz_lut_space.plan)
  set(_fz_reader_srcs_checkpoint ${_fz_io}/checkpoint.c ${_fz_io}/safetensors.c ${_fz_io}/json_min.c ${_fz_io}/tensor_set.c)
  set(_fz_reader_srcs_dataset ${_fz_data}/dataset_cityscapes.c ${_fz_data}/synth_scene.c ${_fz_data}/synth_materials.c
                              ${_fz_data}/synth_objects.c ${_fz_image})
  set(SQN_FUZZ_READERS plan pth safetensors image npy lut checkpoint dataset)
  foreach(kind ${SQN_FUZZ_READERS})
    string(TOUPPER ${kind} _def)
    add_executable(fuzz_${kind} fuzz_readers.c ${_fz_reader_srcs_${kind}})
    target_include_directories(fuzz_${kind} PRIVATE ${_fz_include})
    target_compile_definitions(fuzz_${kind} PRIVATE FUZZ_${_def})
    target_compile_options(fuzz_${kind} PRIVATE ${SQN_FUZZ_FLAGS})
    target_link_options(fuzz_${kind} PRIVATE ${SQN_FUZZ_FLAGS})
    target_link_libraries(fuzz_${kind} PRIVATE m ZLIB::ZLIB PkgConfig::LIBZIP PkgConfig::FZ_PNG PkgConfig::FZ_JPEG)
    if(TARGET sqnbase)
      target_link_libraries(fuzz_${kind} PRIVATE sqnbase)
    endif()
  endforeach()
  target_compile_definitions(fuzz_lut PRIVATE FUZZ_TRAINER_STUBS
                             FUZZ_LUT_PLAN="${CMAKE_CURRENT_BINARY_DIR}/fuzz_lut_space.plan")

  # Bounded fuzzing from a fresh copy of the corpus (libFuzzer adds new inputs to its first
  # folder; the source tree stays untouched). Findings go to <build>/tests/fuzz_smoke*/findings/.
  # The dictionaries of each target (tests/fuzz_dict/; tests/run_fuzz.sh uses the same ones).
  set(_fz_dict ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_dict)
  set(_fz_dicts_frontend "${_fz_dict}/sqn.dict")
  set(_fz_dicts_plan "${_fz_dict}/plan.dict")
  set(_fz_dicts_pth "${_fz_dict}/pth.dict")
  set(_fz_dicts_safetensors "${_fz_dict}/json.dict|${_fz_dict}/safetensors.dict")
  set(_fz_dicts_image "${_fz_dict}/png.dict|${_fz_dict}/jpeg.dict")
  set(_fz_dicts_npy "${_fz_dict}/npy.dict")
  set(_fz_dicts_lut "${_fz_dict}/json.dict|${_fz_dict}/lut.dict")
  set(_fz_dicts_checkpoint "${_fz_dict}/json.dict|${_fz_dict}/safetensors.dict|${_fz_dict}/checkpoint.dict")
  set(_fz_dicts_dataset "${_fz_dict}/dataset.dict|${_fz_dict}/png.dict|${_fz_dict}/jpeg.dict")
  set(SQN_FUZZ_SMOKE_SECONDS 60 CACHE STRING "How long ctest fuzz_frontend_smoke fuzzes, in seconds")
  set(SQN_FUZZ_READER_SMOKE_SECONDS 10 CACHE STRING "How long each ctest fuzz_<reader>_smoke fuzzes, in seconds")
  add_test(NAME fuzz_frontend_smoke
           COMMAND ${CMAKE_COMMAND}
                   -DFUZZER=$<TARGET_FILE:fuzz_frontend>
                   -DCORPUS=${CMAKE_CURRENT_SOURCE_DIR}/fuzz_corpus
                   -DWORK=${CMAKE_CURRENT_BINARY_DIR}/fuzz_smoke
                   -DSECONDS=${SQN_FUZZ_SMOKE_SECONDS}
                   -DDICTS=${_fz_dicts_frontend}
                   -P ${CMAKE_CURRENT_SOURCE_DIR}/fuzz.cmake)
  set_tests_properties(fuzz_frontend_smoke PROPERTIES TIMEOUT 600 RUN_SERIAL TRUE)
  foreach(kind ${SQN_FUZZ_READERS})
    add_test(NAME fuzz_${kind}_smoke
             COMMAND ${CMAKE_COMMAND}
                     -DFUZZER=$<TARGET_FILE:fuzz_${kind}>
                     -DCORPUS=${CMAKE_CURRENT_SOURCE_DIR}/fuzz_corpus_readers/${kind}
                     -DWORK=${CMAKE_CURRENT_BINARY_DIR}/fuzz_smoke_${kind}
                     -DSECONDS=${SQN_FUZZ_READER_SMOKE_SECONDS}
                     "-DDICTS=${_fz_dicts_${kind}}"
                     -P ${CMAKE_CURRENT_SOURCE_DIR}/fuzz.cmake)
    set_tests_properties(fuzz_${kind}_smoke PROPERTIES TIMEOUT 300 RUN_SERIAL TRUE)
  endforeach()
endif()
