# tests/fuzz.cmake - fuzzing the front end (lexer, parser, elaborator, cost model, fusion pass).
#
# Always: `fuzz_replay` runs the fuzz target (fuzz_frontend.c) on every file of the seed corpus
# tests/fuzz_corpus/ without libFuzzer (ctest `fuzz_corpus_replay`), so the corpus runs in the plain
# and the ASan builds too. A reproducer saved by the fuzzer can be replayed the same way:
#   fuzz_replay crash-1234   (SQN_FUZZ_DIAG=1 also prints the compiler's diagnostics)
#
# With -DSQN_FUZZ=ON (needs clang): `fuzz_frontend`, the libFuzzer binary, and the ctest
# `fuzz_frontend_smoke` (60 s of fuzzing from a copy of the corpus). fuzz_frontend is built from the
# front-end sources themselves (its own bison/flex output included), compiled with
# -fsanitize=fuzzer,address,undefined, so it is instrumented for coverage whatever CMAKE_C_FLAGS
# are; tests/run_fuzz.sh additionally builds everything with -fsanitize=fuzzer-no-link,... .
# It needs neither the runtime nor the plan writer.

if(CMAKE_SCRIPT_MODE_FILE)
  # ctest fuzz_frontend_smoke runs this file as a script:
  #   cmake -DFUZZER=... -DCORPUS=... -DWORK=... -DSECONDS=... -P fuzz.cmake
  file(REMOVE_RECURSE ${WORK})
  file(MAKE_DIRECTORY ${WORK}/corpus ${WORK}/findings)
  file(GLOB _seeds ${CORPUS}/*)
  file(COPY ${_seeds} DESTINATION ${WORK}/corpus)
  execute_process(COMMAND ${FUZZER} -max_total_time=${SECONDS} -max_len=4096 -timeout=10
                          -rss_limit_mb=2048 -print_final_stats=1
                          -artifact_prefix=${WORK}/findings/ ${WORK}/corpus
                  RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    file(GLOB _found ${WORK}/findings/*)
    message(FATAL_ERROR "fuzz_frontend failed (exit ${_rc}); reproducer(s): ${_found}\n"
                        "replay with: SQN_FUZZ_DIAG=1 fuzz_replay <file>")
  endif()
  return()
endif()

add_executable(fuzz_replay fuzz_replay.c fuzz_frontend.c)
target_link_libraries(fuzz_replay PRIVATE sqncomp)
add_test(NAME fuzz_corpus_replay COMMAND fuzz_replay ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_corpus)
set_tests_properties(fuzz_corpus_replay PROPERTIES
                     PASS_REGULAR_EXPRESSION "[0-9]+ passed, 0 failed" TIMEOUT 300)

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
  file(GLOB _fz_comp CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/compiler/*.c)
  # sqnc.c has main(); plan_write.c needs the runtime's plan format; dump/stats are output only; the kernel
  # generator (kgen_*, ptx_embed) runs after the front end and needs LLVM.
  list(FILTER _fz_comp EXCLUDE REGEX "/(sqnc|plan_write|dump|stats|ptx_embed)\\.c$")
  list(FILTER _fz_comp EXCLUDE REGEX "/kgen_[a-z]+\\.c$")
  set_source_files_properties(${BISON_SqnFuzzParser_OUTPUTS} ${FLEX_SqnFuzzLexer_OUTPUTS} PROPERTIES
                              COMPILE_OPTIONS "-Wno-unused-function;-Wno-sign-compare;-Wno-unused-but-set-variable;-Wno-misleading-indentation;-Wno-error")

  add_executable(fuzz_frontend fuzz_frontend.c ${_fz_lang} ${_fz_comp}
                 ${BISON_SqnFuzzParser_OUTPUTS} ${FLEX_SqnFuzzLexer_OUTPUTS})
  target_include_directories(fuzz_frontend PRIVATE ${_fz_gen} ${PROJECT_SOURCE_DIR}/lang ${PROJECT_SOURCE_DIR}/compiler)
  target_compile_definitions(fuzz_frontend PRIVATE SQN_STDLIB_DIR="${PROJECT_SOURCE_DIR}/lang")
  target_compile_options(fuzz_frontend PRIVATE ${SQN_FUZZ_FLAGS})
  target_link_options(fuzz_frontend PRIVATE ${SQN_FUZZ_FLAGS})
  target_link_libraries(fuzz_frontend PRIVATE m)

  # The runtime's file readers: plans, .pth, safetensors (tests/fuzz_readers.c), built from their
  # sources with the same instrumentation. tests/run_fuzz.sh runs them after fuzz_frontend.
  set(_fz_rt ${PROJECT_SOURCE_DIR}/runtime)
  set(_fz_reader_srcs_plan ${_fz_rt}/plan_read.c ${_fz_rt}/plan_info.c)
  set(_fz_reader_srcs_pth ${_fz_rt}/tensor_set.c ${_fz_rt}/pickle.c ${_fz_rt}/pth_read.c ${_fz_rt}/safetensors.c ${_fz_rt}/json_min.c
                           ${_fz_rt}/atomic_file.c ${_fz_rt}/fault.c)
  set(_fz_reader_srcs_safetensors ${_fz_reader_srcs_pth})
  foreach(kind plan pth safetensors)
    string(TOUPPER ${kind} _def)
    add_executable(fuzz_${kind} fuzz_readers.c ${_fz_reader_srcs_${kind}})
    target_include_directories(fuzz_${kind} PRIVATE ${_fz_rt})
    target_compile_definitions(fuzz_${kind} PRIVATE FUZZ_${_def})
    target_compile_options(fuzz_${kind} PRIVATE ${SQN_FUZZ_FLAGS})
    target_link_options(fuzz_${kind} PRIVATE ${SQN_FUZZ_FLAGS})
    target_link_libraries(fuzz_${kind} PRIVATE m ZLIB::ZLIB PkgConfig::LIBZIP)
  endforeach()

  # Bounded fuzzing from a fresh copy of the corpus (libFuzzer adds new inputs to its first
  # folder; the source tree stays untouched). Findings go to <build>/tests/fuzz_smoke/findings/.
  set(SQN_FUZZ_SMOKE_SECONDS 60 CACHE STRING "How long ctest fuzz_frontend_smoke fuzzes, in seconds")
  add_test(NAME fuzz_frontend_smoke
           COMMAND ${CMAKE_COMMAND}
                   -DFUZZER=$<TARGET_FILE:fuzz_frontend>
                   -DCORPUS=${CMAKE_CURRENT_SOURCE_DIR}/fuzz_corpus
                   -DWORK=${CMAKE_CURRENT_BINARY_DIR}/fuzz_smoke
                   -DSECONDS=${SQN_FUZZ_SMOKE_SECONDS}
                   -P ${CMAKE_CURRENT_SOURCE_DIR}/fuzz.cmake)
  set_tests_properties(fuzz_frontend_smoke PROPERTIES TIMEOUT 600 RUN_SERIAL TRUE)
endif()
