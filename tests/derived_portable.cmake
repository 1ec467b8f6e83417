# tests/derived_portable.cmake: a search's run folder carries the space's sources (RUNDIR/space/) and
# derived.sqn imports them by a relative path, so the folder compiles after it is moved and the original
# sources are gone (tests/derived_portable.sh; a one-step search, about 2 s).
add_test(NAME derived_portable
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/derived_portable.sh $<TARGET_FILE:sqnc> $<TARGET_FILE:sqnrun>
                 ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/derived_portable)
