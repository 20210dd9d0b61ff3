// Writes a sample report.json (every wait class, invalid UTF-8, quotes, an
// unknown exe) to argv[1], so ctest can validate real writer output against
// the contract schema with tests/schema/validate_report.py.
#include <cstdio>

#include "report/report_json.h"

int main(int argc, char** argv) {
  using namespace waitscope;
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT.json\n", argv[0]);
    return 2;
  }
  Report r;
  r.tool_version = "0.0.0-sample";
  r.duration_s = 3.25;
  r.min_block_ns = 1'000'000;
  r.targets = {{.pid = 1234, .comm = "server", .exe = "/usr/bin/server \"v2\""},
               {.pid = 1235, .comm = "bad\xff\xfe", .exe = ""}};
  r.loss = {.events_dropped = 1, .bytes_truncated = 2, .parse_errors = 3};
  const WaitClass classes[] = {WaitClass::kDisk, WaitClass::kNet,  WaitClass::kDb,
                               WaitClass::kTls,  WaitClass::kLock, WaitClass::kSleep,
                               WaitClass::kPoll, WaitClass::kPipe, WaitClass::kOther};
  std::uint64_t total = 9'000'000;
  for (WaitClass c : classes) {
    r.waits.push_back({.pid = 1234,
                       .comm = "server",
                       .wait_class = c,
                       .syscall = "read",
                       .target = "/data/\xc3\x28 \"q\" \\",
                       .count = 3,
                       .total_ns = total,
                       .max_ns = total / 2});
    total -= 1'000'000;
  }
  r.http.push_back(
      {.pid = 1234,
       .server = true,
       .endpoint = "POST /signup",
       .count = 4,
       .status = {{200, 3}, {500, 1}},
       .latency_us = {.count = 4, .mean = 1300, .p50 = 1200, .p95 = 1500, .p99 = 1500, .max = 1500},
       .breakdown_us = {.cpu = 50, .db = 30, .net = 1200, .lock = 2}});
  r.tls.push_back(
      {.pid = 1234,
       .server = false,
       .peer = "[::1]:443",
       .version = "TLSv1.2",
       .resumed = false,
       .count = 10,
       .failures = 1,
       .handshake_us = {.count = 9, .mean = 900, .p50 = 800, .p95 = 1200, .p99 = 1300, .max = 1300},
       .round_trips = 2});
  r.tls.push_back(
      {.pid = 1234, .peer = "127.0.0.1:443", .version = "unknown", .count = 1, .failures = 1});
  r.findings.push_back(
      {.kind = "sync_io_in_request_path",
       .severity = Severity::kCritical,
       .pid = 1234,
       .endpoint = "POST /signup",
       .summary = "POST /signup waits on 127.0.0.1:2525 \"smtp\"",
       .evidence_json = R"({"peer": "127.0.0.1:2525", "share_of_request": 0.92})"});
  r.findings.push_back({.kind = "low_cache_hit_ratio",
                        .severity = Severity::kInfo,
                        .pid = 1234,
                        .summary = "cache misses",
                        .evidence_json = "not json"});
  r.stacks.resize(2);
  const Status st = WriteReportJson(r, argv[1]);
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.error().message.c_str());
    return 1;
  }
  return 0;
}
