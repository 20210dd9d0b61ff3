# otlp: spool, retry policy, sender against a scripted local HTTP server,
# encoders (see also tests/otlp for decoding with an independent runtime).
set(WS_OTLP_UNIT_DIR ${PROJECT_SOURCE_DIR}/tests/unit/otlp)
waitscope_unit_test(otlp_spool_test SOURCES ${WS_OTLP_UNIT_DIR}/spool_test.cc DEPS ws_otlp)
waitscope_unit_test(otlp_retry_policy_test SOURCES ${WS_OTLP_UNIT_DIR}/retry_policy_test.cc DEPS ws_otlp)
waitscope_unit_test(otlp_sender_test SOURCES ${WS_OTLP_UNIT_DIR}/sender_test.cc DEPS ws_otlp ZLIB::ZLIB)
waitscope_unit_test(otlp_encoders_test SOURCES ${WS_OTLP_UNIT_DIR}/encoders_test.cc DEPS ws_otlp)
waitscope_unit_test(otlp_response_body_test SOURCES ${WS_OTLP_UNIT_DIR}/response_body_test.cc DEPS ws_otlp)
