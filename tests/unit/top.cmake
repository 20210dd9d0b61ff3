# top: the live view's model, rendering (fits 80x24, sort keys, sanitized
# names, empty states), keys and frame composition; no terminal needed.
waitscope_unit_test(top_test SOURCES top/top_view_test.cc top/top_model_test.cc DEPS ws_top)
target_include_directories(top_test PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
