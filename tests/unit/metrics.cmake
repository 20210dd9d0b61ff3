# metrics: cumulative accumulator, Prometheus text encoder (golden output, and
# Prometheus' own parser via promtool), /metrics HTTP server on ephemeral ports.
waitscope_unit_test(metrics_accumulator_test SOURCES metrics/metrics_accumulator_test.cc DEPS ws_metrics)
waitscope_unit_test(metrics_prometheus_text_test SOURCES metrics/prometheus_text_test.cc DEPS ws_metrics)
waitscope_unit_test(metrics_server_test SOURCES metrics/metrics_server_test.cc DEPS ws_metrics)
add_executable(metrics_sample_main metrics/metrics_sample_main.cc)
target_link_libraries(metrics_sample_main PRIVATE ws_metrics)
waitscope_target_warnings(metrics_sample_main)
add_test(NAME metrics_sample_write
  COMMAND metrics_sample_main ${CMAKE_CURRENT_BINARY_DIR}/metrics_agent.prom ${CMAKE_CURRENT_BINARY_DIR}/metrics_golden.prom)
set_tests_properties(metrics_sample_write PROPERTIES LABELS unit FIXTURES_SETUP metrics_prom_files)
add_test(NAME metrics_promtool_check
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/metrics/promtool_check.sh ${CMAKE_CURRENT_BINARY_DIR}/metrics_agent.prom ${CMAKE_CURRENT_BINARY_DIR}/metrics_golden.prom)
set_tests_properties(metrics_promtool_check PROPERTIES LABELS unit FIXTURES_REQUIRED metrics_prom_files SKIP_RETURN_CODE 77)
