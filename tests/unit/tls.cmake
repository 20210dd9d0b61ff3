# protocols/tls: TLS handshake observer replayed from real openssl s_server/s_client captures
# (agent/protocols/tls/testdata, recorded by tools/capture/record_tls_captures.sh).
waitscope_unit_test(tls_observer_test SOURCES protocols/tls_observer_test.cc DEPS ws_protocols nlohmann_json::nlohmann_json)
target_compile_definitions(tls_observer_test PRIVATE
  PROTO_TESTDATA_DIR="${PROJECT_SOURCE_DIR}/agent/protocols/tls/testdata"
  MYSQL_TESTDATA_DIR="${PROJECT_SOURCE_DIR}/agent/protocols/mysql/testdata")
