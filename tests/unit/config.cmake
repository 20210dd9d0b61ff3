# config: waitscope.yaml parsing and validation (packaged default, errors with positions, OTEL_* overlay) and target process selection.
waitscope_unit_test(config_parser_test SOURCES config/config_parser_test.cc DEPS ws_config)
target_compile_definitions(config_parser_test PRIVATE PACKAGED_CONFIG="${PROJECT_SOURCE_DIR}/packaging/waitscope.yaml"
  CONFIG_DOC="${PROJECT_SOURCE_DIR}/docs/agent-config.md")
waitscope_unit_test(config_env_test SOURCES config/config_env_test.cc DEPS ws_config)
waitscope_unit_test(config_values_test SOURCES config/config_values_test.cc DEPS ws_config)
waitscope_unit_test(process_selector_test SOURCES config/process_selector_test.cc DEPS ws_config)
