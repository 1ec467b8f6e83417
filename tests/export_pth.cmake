# tests/export_pth.cmake: `sqnrun --export-pth` (runtime/io/pth_write.c, runtime/cli/mode_export_pth.c).
# With PyTorch (tests/export_pth_check.py; skipped, exit 77, without python3-torch): the six published
# networks (published weights from ../shared/reference where needed, skipped visibly without it; the other
# four with bench/squeezenas_torch.py's seeded weights) load with load_state_dict(strict=True), every tensor
# equal bit for bit, and sqnrun's logits from the export equal those from the input; a training run's
# last.safetensors; a search's supernet and upstream's supernet_small.init.pth. Without PyTorch: the errors
# a user can cause, and that a failed or killed export leaves no partial file. About 15 s in all.
set(XP ${CMAKE_CURRENT_BINARY_DIR}/export_pth)
file(MAKE_DIRECTORY ${XP})
set(EXPECT sh ${CMAKE_CURRENT_SOURCE_DIR}/expect_exit.sh)
set(XP_CHECK /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/export_pth_check.py)
set(XP_TOOLS $<TARGET_FILE:sqnc> $<TARGET_FILE:sqnrun> ${PROJECT_SOURCE_DIR})

add_test(NAME export_pth_reference_nets COMMAND ${XP_CHECK} published ${XP_TOOLS} ${XP}/reference ${SQN_SHARED_DIR}
         mac_small lat_small)
add_test(NAME export_pth_seeded_nets COMMAND ${XP_CHECK} published ${XP_TOOLS} ${XP}/seeded ${SQN_SHARED_DIR}
         mac_large lat_large mac_xlarge lat_xlarge)
add_test(NAME export_pth_trained COMMAND ${XP_CHECK} trained ${XP_TOOLS} ${XP}/trained)
add_test(NAME export_pth_search COMMAND ${XP_CHECK} search ${XP_TOOLS} ${XP}/search)
add_test(NAME export_pth_supernet COMMAND ${XP_CHECK} supernet ${XP_TOOLS} ${XP}/supernet ${SQN_SHARED_DIR})
set_tests_properties(export_pth_reference_nets export_pth_seeded_nets export_pth_trained export_pth_search
                     export_pth_supernet
                     PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 120)

# Errors, on a lat_small plan and a one-step training checkpoint of it.
set(XPLAN ${XP}/lat_small.plan)
add_test(NAME export_pth_setup COMMAND sh -c "set -e; \
'$<TARGET_FILE:sqnc>' '${PROJECT_SOURCE_DIR}/examples/lat_small.sqn' --input 3x64x128 -q -o '${XPLAN}'; \
'$<TARGET_FILE:sqnc>' '${PROJECT_SOURCE_DIR}/examples/mac_small.sqn' --input 3x64x128 -q -o '${XP}/mac_small.plan'; \
rm -rf '${XP}/run'; '$<TARGET_FILE:sqnrun>' '${XPLAN}' --train --data synthetic --synthetic-size 64x128 \
--synthetic-train 2 --synthetic-val 1 --batch 2 --crop 64x128 --epochs 1 --max-steps 1 --threads 2 --overwrite --out '${XP}/run'")
set_tests_properties(export_pth_setup PROPERTIES FIXTURES_SETUP export_pth_files)
set(XW ${XP}/run/last.safetensors)

function(export_pth_cli name code regex)
  add_test(NAME export_pth_${name} COMMAND ${EXPECT} ${code} ${regex} -- $<TARGET_FILE:sqnrun> ${ARGN})
  set_tests_properties(export_pth_${name} PROPERTIES FIXTURES_REQUIRED export_pth_files)
endfunction()

export_pth_cli(ok 0 "wrote .*/ok.pth: network lat_small, 294 tensors \\(246 plan parameters \\+ 48 upstream buffers\\).*optimizer tensors .* left out"
               ${XPLAN} --weights ${XW} --export-pth ${XP}/ok.pth)
export_pth_cli(unfit 1 "sqnrun: .*last.safetensors does not fit network mac_small: tensor '[^']+' has shape \\[[0-9, ]+\\], the network needs"
               ${XP}/mac_small.plan --weights ${XW} --export-pth ${XP}/never.pth)
export_pth_cli(no_folder 1 "sqnrun: cannot write /nonexistent-sqn/out.pth: No such file or directory"
               ${XPLAN} --weights ${XW} --export-pth /nonexistent-sqn/out.pth)
export_pth_cli(is_folder 1 "sqnrun: cannot write .*/export_pth/run: Is a directory"
               ${XPLAN} --weights ${XW} --export-pth ${XP}/run)
export_pth_cli(missing_weights 1 "sqnrun: .*/nothing.safetensors: cannot open: No such file or directory"
               ${XPLAN} --weights ${XP}/nothing.safetensors --export-pth ${XP}/never.pth)
export_pth_cli(no_weights 2 "--export-pth needs --weights FILE" ${XPLAN} --export-pth ${XP}/never.pth)
# refused or failed exports leave nothing: no never.pth, no temporary next to the folder that was the target
add_test(NAME export_pth_nothing_left COMMAND sh -c "! test -e '${XP}/never.pth' && ! ls '${XP}' | grep -Eq '^(never\\.pth|run)\\.tmp\\.'")
set_tests_properties(export_pth_nothing_left PROPERTIES
                     DEPENDS "export_pth_unfit;export_pth_is_folder;export_pth_missing_weights;export_pth_no_weights")
# killed just before the rename (fault point atomic-rename): the previous file is intact, none appears
add_test(NAME export_pth_killed COMMAND sh -c "rm -rf '${XP}/killed' && mkdir '${XP}/killed' && cd '${XP}/killed' && \
printf 'previous\\n' > killed.pth && \
! SQN_FAULT=atomic-rename:1 '$<TARGET_FILE:sqnrun>' ../lat_small.plan --weights ../run/last.safetensors --export-pth killed.pth && \
test \"$(cat killed.pth)\" = previous && \
! SQN_FAULT=atomic-rename:1 '$<TARGET_FILE:sqnrun>' ../lat_small.plan --weights ../run/last.safetensors --export-pth fresh.pth && \
! test -e fresh.pth && echo 'killed exports left the previous file / no file'")
set_tests_properties(export_pth_killed PROPERTIES FIXTURES_REQUIRED export_pth_files)
