# runtime/metrics.cmake - sqnmetrics: confusion matrices and the segmentation scores of
# cityscapesScripts (per-class and category IoU, mIoU, pixel accuracy), printed as a table or JSON.
# Included from runtime/CMakeLists.txt. Uses the Cityscapes tables of sqnimage (cityscapes.c).
add_library(sqnmetrics STATIC ${CMAKE_CURRENT_LIST_DIR}/metrics.c)
target_include_directories(sqnmetrics PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(sqnmetrics PUBLIC sqnimage m)
