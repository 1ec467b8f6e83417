# runtime/cuda.cmake: the CUDA backend, included from runtime/CMakeLists.txt when the CUDA toolkit and cuDNN
# are found (SQN_HAVE_CUDA). sqncuda: the driver API loaded at run time (dlopen: sqnrun does not link
# libcuda), the plan's PTX kernels, cuDNN convolutions (forward and backward) and the cuDNN tensor ops training
# uses (cuda_dnn.c); the backend itself (inference and training) joins sqnexec, which then defines
# SQN_HAVE_CUDA=1 (backend_get knows "cuda").
add_library(sqncuda STATIC
  ${CMAKE_CURRENT_LIST_DIR}/cuda_driver.c
  ${CMAKE_CURRENT_LIST_DIR}/cuda_kernels.c
  ${CMAKE_CURRENT_LIST_DIR}/cuda_conv.c
  ${CMAKE_CURRENT_LIST_DIR}/cuda_conv_grad.c
  ${CMAKE_CURRENT_LIST_DIR}/cuda_dnn.c)
target_include_directories(sqncuda PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(sqncuda PUBLIC CUDA::cudart sqn_cudnn sqnplan PRIVATE ${CMAKE_DL_LIBS})

target_sources(sqnexec PRIVATE ${CMAKE_CURRENT_LIST_DIR}/backend_cuda.c ${CMAKE_CURRENT_LIST_DIR}/backend_cuda_run.c
  ${CMAKE_CURRENT_LIST_DIR}/backend_cuda_train.c ${CMAKE_CURRENT_LIST_DIR}/backend_cuda_grad.c)
target_compile_definitions(sqnexec PUBLIC SQN_HAVE_CUDA=1)
target_link_libraries(sqnexec PUBLIC sqncuda m)
