// Per-endpoint detectors (sync I/O, N+1, connection churn) on record streams
// shaped like the attributor's: each has a positive case, its fixed twin, one
// request only, errors, thread-pool interleaving and changed thresholds.
#include <gtest/gtest.h>

#include "findings/findings_engine.h"
#include "record_builder.h"

namespace waitscope::findings {
namespace {

using testing::Evidence;
using testing::kMs;
using testing::OfKind;
using testing::RequestBuilder;
using testing::RunEngine;

constexpr const char* kSmtp = "127.0.0.1:2525";

// POST /signup: an INSERT, then (unless fixed) a blocking SMTP conversation.
std::vector<RequestRecord> Signups(int n, bool smtp, int status = 201) {
  std::vector<RequestRecord> out;
  for (int i = 0; i < n; ++i) {
    RequestBuilder b("POST /signup", 1'000 * kMs * static_cast<std::uint64_t>(i));
    b.Cpu(20 * kMs).Query("INSERT INTO users (email) VALUES (?)", 5 * kMs);
    if (smtp) {
      b.Stack({"main", "signup", "smtplib.sendmail"});
      b.Wait(WaitClass::kNet, "recvfrom", kSmtp, 600 * kMs)
          .Wait(WaitClass::kNet, "recvfrom", kSmtp, 600 * kMs);
    } else {
      b.Query("LPUSH mail:?", kMs / 5, 2, "127.0.0.1:6379", "redis");
    }
    b.Cpu(5 * kMs).Status(status);
    out.push_back(b.Build());
  }
  return out;
}

TEST(SyncIoTest, BlockingSmtpCallIsFound) {
  const auto found = OfKind(RunEngine(Signups(10, true)), "sync_io_in_request_path");
  ASSERT_EQ(found.size(), 1u);
  const FindingRow& f = found[0];
  EXPECT_EQ(f.endpoint, "POST /signup");
  EXPECT_EQ(f.pid, 42u);
  EXPECT_EQ(f.severity, Severity::kCritical);
  EXPECT_EQ(f.cost_ns, 10 * 1200 * kMs);
  EXPECT_NE(f.summary.find("127.0.0.1:2525"), std::string::npos) << f.summary;
  EXPECT_NE(f.summary.find("background"), std::string::npos) << f.summary;
  const auto ev = Evidence(f);
  EXPECT_EQ(ev["peer"], kSmtp);
  EXPECT_EQ(ev["syscall"], "recvfrom");
  EXPECT_DOUBLE_EQ(ev["calls_per_request"].get<double>(), 2.0);
  EXPECT_NEAR(ev["share_of_request"].get<double>(), 1200.0 / 1230.0, 0.001);
  EXPECT_DOUBLE_EQ(ev["time_ms"].get<double>(), 1200.0);
}

TEST(SyncIoTest, QueuedMailIsNotAFinding) {
  EXPECT_TRUE(RunEngine(Signups(10, false)).empty());
}

TEST(SyncIoTest, OneRequestIsNotEnough) {
  EXPECT_TRUE(OfKind(RunEngine(Signups(1, true)), "sync_io_in_request_path").empty());
}

TEST(SyncIoTest, FailingRequestsAreNotJudged) {
  EXPECT_TRUE(RunEngine(Signups(10, true, 503)).empty());
}

TEST(SyncIoTest, ThresholdFromOption) {
  DetectorConfig config;
  ASSERT_TRUE(SetDetectorOption(config, "sync_io.min_share", 0.99).ok());
  EXPECT_TRUE(OfKind(RunEngine(Signups(10, true), config), "sync_io_in_request_path").empty());
  ASSERT_TRUE(SetDetectorOption(config, "min_requests", 20).ok());
  ASSERT_TRUE(SetDetectorOption(config, "sync_io.min_share", 0.2).ok());
  EXPECT_TRUE(RunEngine(Signups(10, true), config).empty());
}

TEST(SyncIoTest, FsyncOnTheRequestThreadIsFoundButReadsAreNot) {
  std::vector<RequestRecord> writes, reads;
  for (int i = 0; i < 8; ++i) {
    const std::uint64_t t = 100 * kMs * static_cast<std::uint64_t>(i);
    writes.push_back(RequestBuilder("POST /orders", t)
                         .Cpu(5 * kMs)
                         .Wait(WaitClass::kDisk, "write", "/var/lib/app/journal", kMs)
                         .Wait(WaitClass::kDisk, "fsync", "/var/lib/app/journal", 30 * kMs)
                         .Build());
    reads.push_back(RequestBuilder("GET /page", t)
                        .Cpu(5 * kMs)
                        .Wait(WaitClass::kDisk, "read", "/srv/templates/page.html", 30 * kMs)
                        .Build());
  }
  const auto found = OfKind(RunEngine(writes), "sync_io_in_request_path");
  ASSERT_EQ(found.size(), 1u);
  const auto ev = Evidence(found[0]);
  EXPECT_EQ(ev["path"], "/var/lib/app/journal");
  EXPECT_EQ(ev["syscall"], "fsync");
  EXPECT_NE(found[0].summary.find("batch"), std::string::npos);
  EXPECT_TRUE(RunEngine(reads).empty());
}

TEST(SyncIoTest, DatabaseTimeIsNotSyncIo) {
  std::vector<RequestRecord> records;
  for (int i = 0; i < 10; ++i) {
    records.push_back(RequestBuilder("GET /report", 500 * kMs * static_cast<std::uint64_t>(i))
                          .Cpu(kMs)
                          .Query("SELECT sum(total) FROM orders", 300 * kMs)
                          .Query("GET report:?", 100 * kMs, 2, "127.0.0.1:6379", "redis")
                          .Build());
  }
  EXPECT_TRUE(OfKind(RunEngine(records), "sync_io_in_request_path").empty());
}

// GET /orders: one query for the orders, then one per item unless fixed.
RequestRecord OrdersRequest(std::uint64_t start, std::uint32_t tid, int items, bool fixed,
                            int status = 200) {
  RequestBuilder b("GET /orders", start, tid);
  b.Cpu(2 * kMs).Query("SELECT * FROM orders WHERE user_id = ?", kMs, tid);
  if (fixed) {
    b.Query("SELECT * FROM items WHERE order_id IN (?)", 2 * kMs, tid);
  } else {
    for (int i = 0; i < items; ++i) b.Query("SELECT * FROM items WHERE order_id = ?", kMs, tid);
  }
  return b.Cpu(kMs).Status(status).Build();
}

TEST(NPlusOneTest, RepeatedStatementIsFound) {
  std::vector<RequestRecord> records;
  for (int i = 0; i < 10; ++i) {
    records.push_back(OrdersRequest(100 * kMs * static_cast<std::uint64_t>(i), 1, 25, false));
  }
  const auto found = OfKind(RunEngine(records), "n_plus_one");
  ASSERT_EQ(found.size(), 1u);
  const FindingRow& f = found[0];
  EXPECT_EQ(f.endpoint, "GET /orders");
  EXPECT_EQ(f.severity, Severity::kCritical);  // 25 of 29 ms
  EXPECT_EQ(f.cost_ns, 10 * 25 * kMs);
  const auto ev = Evidence(f);
  EXPECT_EQ(ev["statement"], "SELECT * FROM items WHERE order_id = ?");
  EXPECT_EQ(ev["peer"], testing::kPg);
  EXPECT_EQ(ev["repeats_per_request"], 25);
  EXPECT_EQ(ev["requests"], 10);
  EXPECT_DOUBLE_EQ(ev["time_ms"].get<double>(), 25.0);
  EXPECT_NE(f.summary.find("25 times per request"), std::string::npos) << f.summary;
}

TEST(NPlusOneTest, OneQueryForAllItemsIsNotAFinding) {
  std::vector<RequestRecord> records;
  for (int i = 0; i < 10; ++i) {
    records.push_back(OrdersRequest(100 * kMs * static_cast<std::uint64_t>(i), 1, 25, true));
  }
  EXPECT_TRUE(RunEngine(records).empty());
}

TEST(NPlusOneTest, OneRequestIsNotEnough) {
  EXPECT_TRUE(RunEngine({OrdersRequest(0, 1, 25, false)}).empty());
}

TEST(NPlusOneTest, FailingRequestsAreNotJudged) {
  std::vector<RequestRecord> records;
  for (int i = 0; i < 10; ++i) {
    records.push_back(OrdersRequest(100 * kMs * static_cast<std::uint64_t>(i), 1, 25, false, 500));
  }
  EXPECT_TRUE(RunEngine(records).empty());
}

TEST(NPlusOneTest, InterleavedThreadPoolWithSomeN1Requests) {
  // 8 worker threads, requests overlapping in time; 3 in 10 hit the N+1 path.
  std::vector<RequestRecord> records;
  for (int i = 0; i < 100; ++i) {
    const auto tid = static_cast<std::uint32_t>(200 + i % 8);
    const std::uint64_t start = 3 * kMs * static_cast<std::uint64_t>(i);
    records.push_back(OrdersRequest(start, tid, i % 10 < 3 ? 12 : 1, false));
  }
  const auto found = OfKind(RunEngine(records), "n_plus_one");
  ASSERT_EQ(found.size(), 1u);
  const auto ev = Evidence(found[0]);
  EXPECT_EQ(ev["requests"], 30);
  EXPECT_EQ(ev["endpoint_requests"], 100);
  EXPECT_EQ(ev["repeats_per_request"], 12);
}

TEST(NPlusOneTest, ARareLongListIsNotThePattern) {
  std::vector<RequestRecord> records;
  for (int i = 0; i < 50; ++i) {
    records.push_back(
        OrdersRequest(100 * kMs * static_cast<std::uint64_t>(i), 1, i == 7 ? 6 : 1, false));
  }
  EXPECT_TRUE(OfKind(RunEngine(records), "n_plus_one").empty());
}

TEST(NPlusOneTest, ThresholdFromOption) {
  std::vector<RequestRecord> records;
  for (int i = 0; i < 10; ++i) {
    records.push_back(OrdersRequest(100 * kMs * static_cast<std::uint64_t>(i), 1, 25, false));
  }
  DetectorConfig config;
  ASSERT_TRUE(SetDetectorOption(config, "n_plus_one.min_repeats", 30).ok());
  EXPECT_TRUE(OfKind(RunEngine(records, config), "n_plus_one").empty());
  ASSERT_TRUE(SetDetectorOption(config, "n_plus_one.min_repeats", 20).ok());
  EXPECT_EQ(OfKind(RunEngine(records, config), "n_plus_one").size(), 1u);
}

std::vector<RequestRecord> Checkouts(int n, bool reuse, int status = 200) {
  std::vector<RequestRecord> out;
  for (int i = 0; i < n; ++i) {
    RequestBuilder b("POST /checkout", 100 * kMs * static_cast<std::uint64_t>(i));
    b.Cpu(2 * kMs);
    if (!reuse || i == 0) {
      b.Connect("10.0.0.7:443", 100 + static_cast<std::uint64_t>(i), 3 * kMs)
          .Handshake("10.0.0.7:443", "TLSv1.3", false, 4 * kMs);
    }
    b.Query("POST /v1/charges", 10 * kMs, 100, "10.0.0.7:443", "http").Status(status);
    out.push_back(b.Build());
  }
  return out;
}

TEST(ConnectionChurnTest, NewConnectionPerRequestIsFound) {
  const auto found = OfKind(RunEngine(Checkouts(10, false)), "connection_churn");
  ASSERT_EQ(found.size(), 1u);
  const auto ev = Evidence(found[0]);
  EXPECT_EQ(ev["peer"], "10.0.0.7:443");
  EXPECT_DOUBLE_EQ(ev["connects_per_request"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(ev["connect_ms"].get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(ev["tls_handshakes_per_request"].get<double>(), 1.0);
  EXPECT_EQ(found[0].cost_ns, 10 * 7 * kMs);
  EXPECT_EQ(found[0].severity, Severity::kWarning);  // 7 of 19 ms
}

TEST(ConnectionChurnTest, ReusedConnectionIsNotAFinding) {
  EXPECT_TRUE(OfKind(RunEngine(Checkouts(10, true)), "connection_churn").empty());
}

TEST(ConnectionChurnTest, OneRequestAndErrorsAreNotEnough) {
  EXPECT_TRUE(OfKind(RunEngine(Checkouts(1, false)), "connection_churn").empty());
  EXPECT_TRUE(RunEngine(Checkouts(10, false, 502)).empty());
}

TEST(ConnectionChurnTest, ThresholdFromOption) {
  DetectorConfig config;
  ASSERT_TRUE(SetDetectorOption(config, "connection_churn.min_per_request", 1.5).ok());
  EXPECT_TRUE(OfKind(RunEngine(Checkouts(10, false), config), "connection_churn").empty());
}

TEST(SyncIoTest, SynchronousHttpApiCallCounts) {
  // The payment call is half of each checkout: a blocking outbound call.
  const auto found = OfKind(RunEngine(Checkouts(10, true)), "sync_io_in_request_path");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(Evidence(found[0])["peer"], "10.0.0.7:443");
}

TEST(FindingsEngineTest, FindingsAreOrderedByCost) {
  auto records = Signups(10, true);
  for (int i = 0; i < 10; ++i) {
    records.push_back(OrdersRequest(100 * kMs * static_cast<std::uint64_t>(i), 1, 25, false));
  }
  const auto found = RunEngine(records);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].kind, "sync_io_in_request_path");
  EXPECT_EQ(found[1].kind, "n_plus_one");
  for (const FindingRow& f : found) {
    EXPECT_TRUE(nlohmann::json::parse(f.evidence_json).is_object());
    EXPECT_EQ(f.summary.find('\n'), std::string::npos);
  }
}

TEST(FindingsEngineTest, BreakdownIsMeanPerRequestByClass) {
  FindingsEngine engine{DetectorConfig{}};
  for (int i = 0; i < 4; ++i) {
    engine.AddRequest(RequestBuilder("GET /a", 100 * kMs * static_cast<std::uint64_t>(i))
                          .Cpu(10 * kMs)
                          .Query("SELECT 1", 20 * kMs)
                          .Lock(4 * kMs)
                          .Wait(WaitClass::kSleep, "nanosleep", "-", 2 * kMs)
                          .Status(i == 0 ? 500 : 200)
                          .Build());
  }
  engine.AddRequest(RequestBuilder("GET /loop", 0).Cpu(5 * kMs).Unattributed().Build());
  const auto b = engine.Breakdowns();
  ASSERT_EQ(b.size(), 1u);
  const RequestBreakdown& a = b.at({42, "GET /a"});
  EXPECT_DOUBLE_EQ(a.cpu, 10'000);
  EXPECT_DOUBLE_EQ(a.db, 20'000);
  EXPECT_DOUBLE_EQ(a.lock, 4'000);
  EXPECT_DOUBLE_EQ(a.other, 2'000);
  EXPECT_DOUBLE_EQ(a.net, 0);
}

TEST(FindingsEngineTest, UnattributedRequestsMakeNoFindings) {
  std::vector<RequestRecord> records;
  for (int i = 0; i < 20; ++i) {
    records.push_back(RequestBuilder("GET /x", 10 * kMs * static_cast<std::uint64_t>(i))
                          .Cpu(kMs)
                          .Unattributed()
                          .Build());
  }
  EXPECT_TRUE(RunEngine(records).empty());
}

}  // namespace
}  // namespace waitscope::findings
