# Crash safety of the files a run writes (tests/test_run_files.c): atomic writes under write errors
# and kills, the run folder lock, temporaries of killed runs, the log trimmed on --resume.
add_executable(test_run_files test_run_files.c)
target_link_libraries(test_run_files PRIVATE sqntrain)
add_test(NAME run_files COMMAND test_run_files)
