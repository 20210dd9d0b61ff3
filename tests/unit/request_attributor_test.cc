// RequestAttributor on hand-made event streams shaped like the kernel's:
// which waits, statements and connects land in which request, and when a
// thread is an event loop.
#include "findings/request_attributor.h"

#include <gtest/gtest.h>

#include <vector>

namespace waitscope::findings {
namespace {

constexpr std::uint64_t kMs = 1'000'000;
constexpr std::uint32_t kPid = 500;

class AttributorTest : public ::testing::Test {
 protected:
  AttributorTest()
      : attributor_([this](RequestRecord&& r) { requests_.push_back(std::move(r)); },
                    [this](EventLoopBlock&& b) { blocks_.push_back(std::move(b)); }) {}

  void Wait(std::uint32_t tid, std::uint64_t end_ms, std::uint64_t blocked_ms, WaitClass cls,
            std::string syscall, std::string target) {
    WaitEvent w;
    w.pid = kPid;
    w.tid = tid;
    w.end_ns = end_ms * kMs;
    w.blocked_ns = blocked_ms * kMs;
    w.wait_class = cls;
    w.syscall = std::move(syscall);
    w.target = std::move(target);
    attributor_.OnWait(w);
  }

  void Statement(std::uint32_t tid, std::uint64_t start_ms, std::uint64_t end_ms, std::string sql,
                 std::uint64_t conn_id = 9, bool may_serve = true) {
    protocols::Exchange ex;
    ex.protocol = protocols::Protocol::kPostgres;
    ex.statement = std::move(sql);
    ex.request_end_ns = start_ms * kMs;
    ex.response_end_ns = end_ms * kMs;
    attributor_.OnExchange(
        ExchangeOrigin{kPid, false, "127.0.0.1:5432", "postgres", tid, conn_id, may_serve}, ex);
  }

  void Request(std::uint32_t tid, std::uint64_t start_ms, std::uint64_t end_ms,
               std::string endpoint, int status = 200, std::string client = "127.0.0.1:40000") {
    protocols::Exchange ex;
    ex.protocol = protocols::Protocol::kHttp1;
    ex.statement = std::move(endpoint);
    ex.http_status = status;
    ex.request_end_ns = start_ms * kMs;
    ex.response_end_ns = end_ms * kMs;
    attributor_.OnExchange(ExchangeOrigin{kPid, true, std::move(client), "http", tid, 1}, ex);
  }

  std::vector<RequestRecord> requests_;
  std::vector<EventLoopBlock> blocks_;
  RequestAttributor attributor_;
};

TEST_F(AttributorTest, WaitsAndStatementsInsideTheWindowBelongToTheRequest) {
  Wait(1, 100, 90, WaitClass::kNet, "recvfrom", "127.0.0.1:40000");  // idle: before the request
  Statement(1, 102, 110, "SELECT * FROM orders WHERE id = ?");
  Wait(1, 110, 7, WaitClass::kPoll, "poll", "-");  // libpq parks in poll(): the statement's time
  Wait(1, 140, 25, WaitClass::kNet, "recvfrom", "127.0.0.1:2525");  // SMTP
  Request(1, 100, 150, "POST /signup");

  attributor_.Flush(150 * kMs);  // not settled yet: late spans may still come
  EXPECT_TRUE(requests_.empty());
  attributor_.Flush(300 * kMs);
  ASSERT_EQ(requests_.size(), 1u);
  const RequestRecord& r = requests_[0];
  EXPECT_TRUE(r.attributed);
  EXPECT_EQ(r.endpoint, "POST /signup");
  EXPECT_EQ(r.tid, 1u);
  ASSERT_EQ(r.statements.size(), 1u);
  ASSERT_EQ(r.waits.size(), 2u);
  EXPECT_EQ(r.waits[0].wait_class, WaitClass::kDb);
  EXPECT_EQ(r.waits[0].statement, "SELECT * FROM orders WHERE id = ?");
  EXPECT_EQ(r.waits[0].target, "127.0.0.1:5432");
  EXPECT_EQ(r.waits[1].wait_class, WaitClass::kNet);
  EXPECT_EQ(r.waits[1].target, "127.0.0.1:2525");
  EXPECT_EQ(r.cpu_ns, (50 - 7 - 25) * kMs);
}

// The tracker says a process may not serve while it has only connected out:
// such a client's exchanges keep no span (no request of its can be running),
// but still name their peer's protocol for waits on it.
TEST_F(AttributorTest, APureClientsExchangesKeepNoSpan) {
  Statement(1, 102, 110, "SELECT 1", /*conn_id=*/9, /*may_serve=*/false);
  Wait(1, 110, 7, WaitClass::kNet, "recvfrom", "127.0.0.1:5432");
  Request(1, 100, 150, "GET /x");
  attributor_.Finish();
  ASSERT_EQ(requests_.size(), 1u);
  EXPECT_TRUE(requests_[0].statements.empty());
  ASSERT_EQ(requests_[0].waits.size(), 1u);
  EXPECT_EQ(requests_[0].waits[0].wait_class, WaitClass::kDb);
  EXPECT_EQ(requests_[0].waits[0].protocol, "postgres");
}

TEST_F(AttributorTest, WaitOnTheRequestsOwnSocketIsNotPartOfIt) {
  Wait(1, 120, 10, WaitClass::kNet, "recvfrom", "127.0.0.1:40000");  // reading more of the body
  Request(1, 100, 130, "POST /upload");
  attributor_.Finish();
  ASSERT_EQ(requests_.size(), 1u);
  EXPECT_TRUE(requests_[0].waits.empty());
  EXPECT_EQ(requests_[0].cpu_ns, 30 * kMs);
}

TEST_F(AttributorTest, AWaitStartingBeforeTheRequestIsClipped) {
  Wait(1, 105, 20, WaitClass::kLock, "futex", "-");
  Request(1, 100, 110, "GET /x");
  attributor_.Finish();
  ASSERT_EQ(requests_.size(), 1u);
  ASSERT_EQ(requests_[0].waits.size(), 1u);
  EXPECT_EQ(requests_[0].waits[0].blocked_ns, 5 * kMs);
  EXPECT_EQ(requests_[0].cpu_ns, 5 * kMs);
}

TEST_F(AttributorTest, ThreadPoolRequestsKeepTheirOwnSpans) {
  // Two workers, interleaved in time, each with its own statement.
  Statement(1, 101, 104, "SELECT a");
  Statement(2, 102, 106, "SELECT b");
  Statement(1, 105, 108, "SELECT a");
  Request(2, 101, 107, "GET /b");
  Request(1, 100, 109, "GET /a");
  attributor_.Finish();
  ASSERT_EQ(requests_.size(), 2u);
  for (const RequestRecord& r : requests_) {
    if (r.endpoint == "GET /a") {
      ASSERT_EQ(r.statements.size(), 2u);
      EXPECT_EQ(r.statements[0].statement, "SELECT a");
    } else {
      ASSERT_EQ(r.statements.size(), 1u);
      EXPECT_EQ(r.statements[0].statement, "SELECT b");
    }
  }
}

TEST_F(AttributorTest, ConsecutiveRequestsOnOneThreadSplitItsSpans) {
  Statement(1, 101, 102, "SELECT 1");
  Request(1, 100, 103, "GET /one");
  Statement(1, 111, 112, "SELECT 2");
  Statement(1, 113, 114, "SELECT 2");
  Request(1, 110, 115, "GET /two");
  attributor_.Finish();
  ASSERT_EQ(requests_.size(), 2u);
  EXPECT_EQ(requests_[0].statements.size(), 1u);
  EXPECT_EQ(requests_[1].statements.size(), 2u);
}

TEST_F(AttributorTest, ConnectionsOpenedDuringTheRequestAreItsConnects) {
  attributor_.OnClientConnectionUse(
      ClientConnectionUse{kPid, 1, 77, "127.0.0.1:5432", "postgres", 101 * kMs, 300'000});
  attributor_.OnClientConnectionUse(
      ClientConnectionUse{kPid, 1, 78, "127.0.0.1:5432", "postgres", 90 * kMs, 300'000});
  Statement(1, 104, 105, "SELECT name FROM customers WHERE id = ?", 77);  // after authenticating
  Request(1, 100, 110, "GET /profile");
  attributor_.Finish();
  ASSERT_EQ(requests_.size(), 1u);
  ASSERT_EQ(requests_[0].connects.size(), 1u);
  EXPECT_EQ(requests_[0].connects[0].conn_id, 77u);
  EXPECT_EQ(requests_[0].connects[0].latency_ns, 300'000u);
  EXPECT_EQ(requests_[0].connects[0].setup_ns, 3 * kMs) << "connect() to the first query";
}

TEST_F(AttributorTest, OverlappingRequestsMakeAnEventLoop) {
  Wait(1, 95, 50, WaitClass::kPoll, "epoll_wait", "-");  // parking is not a block
  Wait(1, 104, 30, WaitClass::kDisk, "read", "/var/data/big.csv");
  Request(1, 100, 120, "GET /a", 200, "127.0.0.1:40001");
  Request(1, 105, 125, "GET /b", 200, "127.0.0.1:40002");  // started before /a ended
  Wait(1, 160, 12, WaitClass::kDisk, "fsync", "/var/log/app.log");
  Wait(1, 170, 40, WaitClass::kPoll, "epoll_wait", "-");
  attributor_.Finish();
  ASSERT_EQ(requests_.size(), 2u);
  for (const RequestRecord& r : requests_) {
    EXPECT_FALSE(r.attributed);
    EXPECT_TRUE(r.waits.empty());
  }
  ASSERT_EQ(blocks_.size(), 2u);
  EXPECT_EQ(blocks_[0].target, "/var/data/big.csv");
  EXPECT_EQ(blocks_[0].endpoint, "GET /a");  // the first response after the block
  EXPECT_EQ(blocks_[1].syscall, "fsync");
  EXPECT_EQ(blocks_[1].blocked_ns, 12 * kMs);
  EXPECT_EQ(blocks_[1].endpoint, "");  // no response followed
  EXPECT_EQ(attributor_.stats().event_loop_threads, 1u);
}

TEST_F(AttributorTest, LoopBlockWaitsForTheResponseThatNamesIt) {
  Request(1, 100, 120, "GET /a", 200, "127.0.0.1:40001");
  Request(1, 105, 125, "GET /b", 200, "127.0.0.1:40002");  // an event loop now
  // The rings are not ordered with each other: the response written after
  // the block may be read first.
  Request(1, 150, 260, "POST /newsletter", 200, "127.0.0.1:40003");
  Wait(1, 255, 100, WaitClass::kNet, "recvfrom", "127.0.0.1:2525");
  Wait(1, 300, 20, WaitClass::kDisk, "fsync", "/var/log/app.log");
  attributor_.Flush(400 * kMs);
  ASSERT_EQ(blocks_.size(), 1u) << "the fsync's response may still come";
  EXPECT_EQ(blocks_[0].endpoint, "POST /newsletter");
  attributor_.Flush(1300 * kMs);
  ASSERT_EQ(blocks_.size(), 1u);
  attributor_.Flush(1400 * kMs);  // over a second after its end: passed on unnamed
  ASSERT_EQ(blocks_.size(), 2u);
  EXPECT_EQ(blocks_[1].syscall, "fsync");
  EXPECT_EQ(blocks_[1].endpoint, "");
}

TEST_F(AttributorTest, LoopThreadsAreNamedByTheGivenFunction) {
  std::vector<EventLoopBlock> blocks;
  RequestAttributor named(
      [](RequestRecord&&) {}, [&](EventLoopBlock&& b) { blocks.push_back(std::move(b)); },
      AttributorOptions{.thread_name = [](std::uint32_t pid, std::uint32_t tid) {
        return "loop-" + std::to_string(pid) + "-" + std::to_string(tid);
      }});
  for (std::uint64_t start : {100, 105}) {
    protocols::Exchange ex;
    ex.protocol = protocols::Protocol::kHttp1;
    ex.statement = "GET /a";
    ex.request_end_ns = start * kMs;
    ex.response_end_ns = (start + 20) * kMs;
    named.OnExchange(ExchangeOrigin{kPid, true, "127.0.0.1:40000", "http", 7, start}, ex);
  }
  WaitEvent w;
  w.pid = kPid;
  w.tid = 7;
  w.end_ns = 140 * kMs;
  w.blocked_ns = 10 * kMs;
  w.wait_class = WaitClass::kDisk;
  named.OnWait(w);
  named.Finish();
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].comm, "loop-500-7");
}

TEST_F(AttributorTest, ServerExchangesOfOtherProtocolsAreNotRequests) {
  protocols::Exchange ex;
  ex.protocol = protocols::Protocol::kRedis;
  ex.statement = "GET user:?";
  ex.request_end_ns = 100 * kMs;
  ex.response_end_ns = 101 * kMs;
  attributor_.OnExchange(ExchangeOrigin{kPid, true, "127.0.0.1:40000", "redis", 1, 1}, ex);
  attributor_.Finish();
  EXPECT_TRUE(requests_.empty());
}

// The peer of a connection can be unknown at its first exchange and known
// at the next; its protocol still names waits on that peer later.
TEST_F(AttributorTest, APeerLearnedAfterItsFirstExchangeNamesLaterWaits) {
  protocols::Exchange ex;
  ex.protocol = protocols::Protocol::kRedis;
  ex.statement = "GET user:?";
  for (const char* peer : {"", "10.0.0.7:6379"}) {
    ex.request_end_ns = 10 * kMs;
    ex.response_end_ns = 11 * kMs;
    attributor_.OnExchange(ExchangeOrigin{kPid, false, peer, "redis", 1, 7}, ex);
  }
  Wait(2, 120, 10, WaitClass::kNet, "recvfrom", "10.0.0.7:6379");  // another thread, no span
  Request(2, 100, 130, "GET /cart");
  attributor_.Finish();
  ASSERT_EQ(requests_.size(), 1u);
  ASSERT_EQ(requests_[0].waits.size(), 1u);
  EXPECT_EQ(requests_[0].waits[0].protocol, "redis");
}

// Flush forgets idle threads; one that comes back starts over (and the
// attributor's shortcut to the last thread it saw must not outlive it).
TEST_F(AttributorTest, AThreadForgottenAsIdleStartsOverWhenItComesBack) {
  Statement(1, 100, 110, "SELECT 1");
  attributor_.Flush(110 * kMs + AttributorOptions{}.horizon_ns + 1);  // idle for a horizon
  Statement(1, 200'100, 200'110, "SELECT 2");
  Request(1, 200'100, 200'120, "GET /again");
  attributor_.Finish();
  ASSERT_EQ(requests_.size(), 1u);
  ASSERT_EQ(requests_[0].statements.size(), 1u);
  EXPECT_EQ(requests_[0].statements[0].statement, "SELECT 2");
}

TEST_F(AttributorTest, BuffersOfIdleClientThreadsAreBounded) {
  RequestAttributor small([](RequestRecord&&) {}, [](EventLoopBlock&&) {},
                          AttributorOptions{.max_spans_per_thread = 4});
  for (std::uint64_t i = 0; i < 100; ++i) {
    WaitEvent w;
    w.pid = kPid;
    w.tid = 3;
    w.end_ns = (i + 1) * kMs;
    w.blocked_ns = kMs / 2;
    small.OnWait(w);
  }
  // A thread that never served a request loses nothing a request needed.
  EXPECT_EQ(small.stats().spans_dropped, 0u);
}

// Until a thread serves, it keeps only max_spans_before_serving spans (its
// first request gets at most that many of its statements); from then on it
// keeps the full max_spans_per_thread.
TEST(AttributorBoundsTest, ThreadsKeepFewerSpansUntilTheyServe) {
  std::vector<RequestRecord> requests;
  RequestAttributor a([&](RequestRecord&& r) { requests.push_back(std::move(r)); },
                      [](EventLoopBlock&&) {},
                      AttributorOptions{.max_spans_per_thread = 64, .max_spans_before_serving = 8});
  auto statement = [&](std::uint64_t start_ms) {
    protocols::Exchange ex;
    ex.protocol = protocols::Protocol::kPostgres;
    ex.statement = "SELECT ?";
    ex.request_end_ns = start_ms * kMs;
    ex.response_end_ns = start_ms * kMs + kMs / 2;
    a.OnExchange(ExchangeOrigin{kPid, false, "127.0.0.1:5432", "postgres", 7, 9}, ex);
  };
  auto request = [&](std::uint64_t start_ms, std::uint64_t end_ms) {
    protocols::Exchange ex;
    ex.protocol = protocols::Protocol::kHttp1;
    ex.statement = "GET /x";
    ex.http_status = 200;
    ex.request_end_ns = start_ms * kMs;
    ex.response_end_ns = end_ms * kMs;
    a.OnExchange(ExchangeOrigin{kPid, true, "127.0.0.1:40000", "http", 7, 1}, ex);
  };
  for (std::uint64_t ms = 1; ms <= 1000; ++ms) statement(ms);  // a client, so far
  // Its first request spans 11 statements (990..1000) but only the last 8
  // were kept: the documented cost of the small buffer.
  request(990, 1001);
  for (std::uint64_t ms = 2001; ms <= 2040; ++ms) statement(ms);
  request(2000, 2041);  // 40 statements: more than 8, within 64
  a.Finish();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].statements.size(), 8u);
  EXPECT_EQ(requests[1].statements.size(), 40u);
  EXPECT_EQ(a.stats().spans_dropped, 0u);
}

}  // namespace
}  // namespace waitscope::findings
