# findings: detectors on hand-built RequestRecord streams (tests/unit/findings/record_builder.h
# mimics the attributor's output), detector options, and the request-path profile outputs.
waitscope_unit_test(findings_detectors_test
  SOURCES findings/request_detectors_test.cc findings/pool_exhaustion_test.cc
          findings/report_detectors_test.cc findings/event_loop_test.cc
  DEPS ws_findings)
waitscope_unit_test(findings_config_test SOURCES findings/detector_config_test.cc DEPS ws_findings)
waitscope_unit_test(findings_profiles_test SOURCES findings/request_profiles_test.cc DEPS ws_findings)
# record/replay: detectors on event streams recorded from the shop demo
# (tests/unit/findings/streams, re-recorded by its record.sh), the stream format's
# round trip and hostile input.
waitscope_unit_test(findings_replay_test SOURCES findings/replay_test.cc DEPS ws_attribution)
target_compile_definitions(findings_replay_test PRIVATE
  REPLAY_STREAMS_DIR="${PROJECT_SOURCE_DIR}/tests/unit/findings/streams")
