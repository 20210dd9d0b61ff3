// Sender against a scripted local HTTP server: retries on 503/429/connection
// refused, honours Retry-After, drops on 400/500, keeps order, gzips, sends
// headers, and hands its spool to the next run.
#include "otlp/sender.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "otlp/otlp_exporter.h"
#include "test_http_server.h"

namespace waitscope::otlp {
namespace {

using std::chrono::milliseconds;
using testing::ScriptedResponse;
using testing::TestHttpServer;

constexpr milliseconds kWait(10000);  // generous: only reached when something is broken

SenderConfig Config(const std::string& url) {
  SenderConfig config;
  config.name = "test";
  config.retry.initial_backoff = milliseconds(1);
  config.retry.max_backoff = milliseconds(5);
  config.http.timeout = milliseconds(5000);
  config.spool.max_bytes = 1 << 20;
  config.content_type = "application/x-protobuf";
  config.url_for = [url](const std::string&) { return url; };
  return config;
}

// The bodies the server received, in order.
std::vector<std::string> BodiesOf(const TestHttpServer& server) {
  std::vector<std::string> bodies;
  for (const auto& r : server.Requests()) bodies.push_back(r.body);
  return bodies;
}

std::string Gunzip(const std::string& in) {
  z_stream zs{};
  inflateInit2(&zs, 16 + MAX_WBITS);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  std::string out;
  char buf[4096];
  int rc;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - zs.avail_out);
  } while (rc == Z_OK);
  inflateEnd(&zs);
  return out;
}

TEST(SenderTest, RetriesUnavailableUntilDelivered) {
  TestHttpServer server;
  ASSERT_TRUE(server.ok());
  server.Script({{503, ""}, {502, ""}, {504, ""}, {200, ""}});
  auto sender = Sender::Start(Config(server.Url("/v1/metrics")));
  ASSERT_TRUE(sender.ok()) << sender.error().message;
  (*sender)->Enqueue("metrics", "payload");
  ASSERT_TRUE((*sender)->WaitIdle(kWait));
  const auto requests = server.Requests();
  ASSERT_EQ(requests.size(), 4u);
  for (const auto& r : requests) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/v1/metrics");
    EXPECT_EQ(r.body, "payload");
    EXPECT_EQ(r.headers.at("content-type"), "application/x-protobuf");
  }
  const SenderStats stats = (*sender)->Stats();
  EXPECT_EQ(stats.sent, 1u);
  EXPECT_EQ(stats.attempts, 4u);
  EXPECT_EQ(stats.failed_attempts, 3u);
  EXPECT_EQ(stats.retried, 3u);
  EXPECT_EQ(stats.rejected, 0u);
  EXPECT_EQ(stats.spool_entries, 0u);
  EXPECT_EQ(stats.spool_bytes, 0u);
}

TEST(SenderTest, HonoursRetryAfterOn429) {
  TestHttpServer server;
  ASSERT_TRUE(server.ok());
  server.Script({{429, "Retry-After: 0\r\n"}, {200, ""}});
  SenderConfig config = Config(server.Url("/v1/metrics"));
  // Backoff alone would wait a minute: only Retry-After can make this finish.
  config.retry.initial_backoff = milliseconds(60000);
  config.retry.max_backoff = milliseconds(60000);
  auto sender = Sender::Start(config);
  ASSERT_TRUE(sender.ok());
  (*sender)->Enqueue("metrics", "x");
  ASSERT_TRUE((*sender)->WaitIdle(kWait));
  EXPECT_EQ((*sender)->Stats().sent, 1u);
  EXPECT_EQ((*sender)->Stats().retried, 1u);
}

TEST(SenderTest, DropsOnBadRequestAndOther5xxAndGoesOn) {
  TestHttpServer server;
  ASSERT_TRUE(server.ok());
  server.Script({{400, ""}, {500, ""}, {200, ""}});
  auto sender = Sender::Start(Config(server.Url("/v1/metrics")));
  ASSERT_TRUE(sender.ok());
  (*sender)->Enqueue("metrics", "bad");
  (*sender)->Enqueue("metrics", "broken");
  (*sender)->Enqueue("metrics", "good");
  ASSERT_TRUE((*sender)->WaitIdle(kWait));
  // None of the refused ones was sent twice.
  EXPECT_EQ(BodiesOf(server), (std::vector<std::string>{"bad", "broken", "good"}));
  const SenderStats stats = (*sender)->Stats();
  EXPECT_EQ(stats.rejected, 2u);
  EXPECT_EQ(stats.sent, 1u);
  EXPECT_EQ(stats.retried, 0u);
}

TEST(SenderTest, APartialSuccessIsCountedAndNotRetried) {
  TestHttpServer server;
  ASSERT_TRUE(server.ok());
  opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceResponse partial;
  partial.mutable_partial_success()->set_rejected_data_points(2);
  // A long message: the body is more than the 512 bytes once kept, and a
  // cut body does not parse.
  partial.mutable_partial_success()->set_error_message("bad unit " + std::string(1000, 'x'));
  server.Script({{200, "Content-Type: application/x-protobuf\r\n", partial.SerializeAsString()},
                 {200, "", ""}});
  OtlpExporterOptions options;
  SenderConfig config = OtlpSenderConfig(options, "metrics", server.Url("/v1/metrics"), "t");
  config.retry = Config("").retry;
  config.gzip = false;  // the options' default compresses
  auto sender = Sender::Start(config);
  ASSERT_TRUE(sender.ok());
  (*sender)->Enqueue("metrics", "half-taken");
  (*sender)->Enqueue("metrics", "taken");
  ASSERT_TRUE((*sender)->WaitIdle(kWait));
  // The spec forbids retrying a partial success.
  EXPECT_EQ(BodiesOf(server), (std::vector<std::string>{"half-taken", "taken"}));
  const SenderStats stats = (*sender)->Stats();
  EXPECT_EQ(stats.sent, 2u);
  EXPECT_EQ(stats.partial, 1u);
  EXPECT_EQ(stats.retried, 0u);
}

TEST(SenderTest, KeepsOrderThroughAnOutage) {
  TestHttpServer server;
  ASSERT_TRUE(server.ok());
  server.Script({{503, ""}, {503, ""}, {503, ""}, {503, ""}});
  auto sender = Sender::Start(Config(server.Url("/v1/metrics")));
  ASSERT_TRUE(sender.ok());
  for (int i = 0; i < 6; ++i) (*sender)->Enqueue("metrics", "w" + std::to_string(i));
  ASSERT_TRUE((*sender)->WaitIdle(kWait));
  std::vector<std::string> delivered;
  for (const auto& r : server.Requests()) {
    if (delivered.empty() || delivered.back() != r.body) delivered.push_back(r.body);
  }
  EXPECT_EQ(delivered, (std::vector<std::string>{"w0", "w1", "w2", "w3", "w4", "w5"}));
  EXPECT_EQ((*sender)->Stats().sent, 6u);
}

TEST(SenderTest, GzipAndCustomHeaders) {
  TestHttpServer server;
  ASSERT_TRUE(server.ok());
  SenderConfig config = Config(server.Url("/v1/metrics"));
  config.gzip = true;
  config.http.headers = {{"Authorization", "Bearer t0ken"}, {"X-Scope-OrgID", "team-a"}};
  auto sender = Sender::Start(config);
  ASSERT_TRUE(sender.ok());
  const std::string body(5000, 'z');
  (*sender)->Enqueue("metrics", body);
  ASSERT_TRUE((*sender)->WaitIdle(kWait));
  const auto requests = server.Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].headers.at("content-encoding"), "gzip");
  EXPECT_EQ(requests[0].headers.at("authorization"), "Bearer t0ken");
  EXPECT_EQ(requests[0].headers.at("x-scope-orgid"), "team-a");
  EXPECT_LT(requests[0].body.size(), body.size());
  EXPECT_EQ(Gunzip(requests[0].body), body);
}

// A loopback TCP port that refuses connections (bound, never listening) and
// that no other test can take while this holds it. A port found and freed
// again is not enough: ctest runs tests in parallel, and another test's
// server was handed the freed port while this one expected it down.
class RefusingPort {
 public:
  RefusingPort() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      Release();
      return;
    }
    port_ = ntohs(addr.sin_port);
  }
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;
  ~RefusingPort() { Release(); }

  int port() const { return port_; }
  // Frees the port for the test's own server.
  void Release() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// Connection refused, then the next run (same spool directory) delivers.
TEST(SenderTest, SpoolSurvivesRestartWhileEndpointIsDown) {
  char templ[] = "/tmp/ws-sender-test-XXXXXX";
  ASSERT_NE(mkdtemp(templ), nullptr);
  const std::string dir = templ;
  RefusingPort refusing;
  const int port = refusing.port();
  ASSERT_GT(port, 0) << "no loopback port to hold";
  SenderConfig down = Config("http://127.0.0.1:" + std::to_string(port) + "/v1/logs");
  down.spool.dir = dir;
  {
    auto sender = Sender::Start(down);
    ASSERT_TRUE(sender.ok());
    for (int i = 0; i < 3; ++i) (*sender)->Enqueue("logs", "f" + std::to_string(i));
    // Wait (on the sender's condition variable) until a connection was refused.
    for (int i = 0; i < 1000 && (*sender)->Stats().failed_attempts == 0; ++i) {
      (void)(*sender)->WaitIdle(milliseconds(10));
    }
    EXPECT_GT((*sender)->Stats().failed_attempts, 0u);
    EXPECT_EQ((*sender)->Stats().sent, 0u);
    (*sender)->Stop(milliseconds(0));
    EXPECT_EQ((*sender)->Stats().spool_entries, 3u);
  }
  refusing.Release();  // the endpoint comes back, on the same port
  TestHttpServer server(port);
  ASSERT_TRUE(server.ok());
  auto sender = Sender::Start(down);
  ASSERT_TRUE(sender.ok());
  ASSERT_TRUE((*sender)->WaitIdle(kWait));
  EXPECT_EQ(BodiesOf(server), (std::vector<std::string>{"f0", "f1", "f2"}));
  EXPECT_EQ((*sender)->Stats().sent, 3u);
  std::filesystem::remove_all(dir);
}

TEST(SenderTest, TinySpoolDropsOldestWhileDown) {
  TestHttpServer server;
  ASSERT_TRUE(server.ok());
  SenderConfig config = Config(server.Url("/v1/metrics"));
  // Room for exactly two entries of this size.
  config.spool.max_bytes = 2 * SerializeSpoolEntry("metrics", "", "w0").size();
  // The first answer parks the head for a minute, long enough to fill the spool.
  server.Script({{503, "Retry-After: 60\r\n"}});
  config.retry.max_retry_after = milliseconds(60000);
  auto sender = Sender::Start(config);
  ASSERT_TRUE(sender.ok());
  (*sender)->Enqueue("metrics", "w0");
  ASSERT_TRUE(server.WaitForRequests(1, kWait));
  for (int i = 1; i < 5; ++i) (*sender)->Enqueue("metrics", "w" + std::to_string(i));
  for (int i = 0; i < 1000 && (*sender)->Stats().dropped_oldest < 3; ++i) {
    (void)(*sender)->WaitIdle(milliseconds(10));
  }
  const SenderStats stats = (*sender)->Stats();
  EXPECT_EQ(stats.dropped_oldest, 3u);
  EXPECT_EQ(stats.spool_entries, 2u);
  // Only the first attempt was made: the rest waited behind Retry-After.
  EXPECT_EQ(server.Requests().size(), 1u);
}

// spool.max_bytes: 0: a request the endpoint does not take is dropped and
// counted, not retried, and the next one is still sent.
TEST(SenderTest, NoSpoolDropsWhatTheEndpointDoesNotTake) {
  TestHttpServer server;
  ASSERT_TRUE(server.ok());
  server.Script({{503, ""}, {200, ""}});
  SenderConfig config = Config(server.Url("/v1/metrics"));
  config.spool.max_bytes = 0;
  auto sender = Sender::Start(config);
  ASSERT_TRUE(sender.ok()) << sender.error().message;
  (*sender)->Enqueue("metrics", "w0");
  ASSERT_TRUE((*sender)->WaitIdle(kWait));
  (*sender)->Enqueue("metrics", "w1");
  ASSERT_TRUE((*sender)->WaitIdle(kWait));
  EXPECT_EQ(BodiesOf(server), (std::vector<std::string>{"w0", "w1"}));
  const SenderStats stats = (*sender)->Stats();
  EXPECT_EQ(stats.sent, 1u);
  EXPECT_EQ(stats.dropped_oldest, 1u);
  EXPECT_EQ(stats.retried, 0u);
  EXPECT_EQ(stats.spool_entries, 0u);
}

// OTEL_EXPORTER_OTLP_METRICS_* / _LOGS_*: a signal with its own settings uses
// them whole; the other keeps the shared ones.
TEST(OtlpSenderConfigTest, EachSignalUsesItsOwnSettingsWhenGiven) {
  OtlpExporterOptions options;
  options.headers = {{"Authorization", "shared"}};
  options.gzip = true;
  options.timeout = milliseconds(10000);
  options.ca_file = "/shared/ca.pem";
  options.spool_dir = "/spool";
  OtlpSignalOptions logs;
  logs.http.headers = {{"Authorization", "logs-only"}};
  logs.http.timeout = milliseconds(2500);
  logs.http.ca_file = "/logs/ca.pem";
  logs.http.cert_file = "/logs/c.pem";
  logs.http.key_file = "/logs/c.key";
  logs.gzip = false;
  options.logs_signal = logs;

  const SenderConfig m = OtlpSenderConfig(options, "metrics", "http://m/v1/metrics", "1.2");
  EXPECT_EQ(m.http.headers, (KeyValues{{"Authorization", "shared"}}));
  EXPECT_EQ(m.http.timeout, milliseconds(10000));
  EXPECT_EQ(m.http.ca_file, "/shared/ca.pem");
  EXPECT_TRUE(m.gzip);
  EXPECT_EQ(m.spool.dir, "/spool/metrics");
  EXPECT_EQ(m.url_for("metrics"), "http://m/v1/metrics");
  EXPECT_EQ(m.http.user_agent, "waitscope/1.2");

  const SenderConfig l = OtlpSenderConfig(options, "logs", "http://l/v1/logs", "1.2");
  EXPECT_EQ(l.http.headers, (KeyValues{{"Authorization", "logs-only"}}));
  EXPECT_EQ(l.http.timeout, milliseconds(2500));
  EXPECT_EQ(l.http.ca_file, "/logs/ca.pem");
  EXPECT_EQ(l.http.cert_file, "/logs/c.pem");
  EXPECT_EQ(l.http.key_file, "/logs/c.key");
  EXPECT_FALSE(l.gzip);
  EXPECT_EQ(l.spool.dir, "/spool/logs");
  EXPECT_EQ(l.http.user_agent, "waitscope/1.2");  // its own settings, the same agent
  EXPECT_EQ(l.url_for("logs"), "http://l/v1/logs");
  EXPECT_EQ(l.url_for("metrics"), "");
}

// exports.otlp.tls.insecure_skip_verify reaches the HTTP client by both
// paths, and only the signal it is set for (tests/otlp/test_otlp_tls.py shows
// the client honouring it).
TEST(OtlpSenderConfigTest, InsecureSkipVerifyReachesTheHttpOptions) {
  OtlpExporterOptions options;
  EXPECT_FALSE(OtlpSenderConfig(options, "metrics", "https://m", "1.2").http.insecure_skip_verify);
  options.insecure_skip_verify = true;
  EXPECT_TRUE(OtlpSenderConfig(options, "metrics", "https://m", "1.2").http.insecure_skip_verify);

  options.insecure_skip_verify = false;
  OtlpSignalOptions logs;
  logs.http.insecure_skip_verify = true;
  options.logs_signal = logs;
  options.metrics_signal = OtlpSignalOptions{};
  EXPECT_TRUE(OtlpSenderConfig(options, "logs", "https://l", "1.2").http.insecure_skip_verify);
  EXPECT_FALSE(OtlpSenderConfig(options, "metrics", "https://m", "1.2").http.insecure_skip_verify);
}

TEST(OtlpExporterTest, AppendsItsOwnCountersForEachSignalItSends) {
  TestHttpServer server;
  ASSERT_TRUE(server.ok());
  OtlpExporterOptions options;
  options.metrics_url = server.Url("/v1/metrics");  // no logs_url: no otlp_logs points
  auto exporter = OtlpExporter::Create(options, "test");
  ASSERT_TRUE(exporter.ok()) << exporter.error().message;
  (*exporter)->ExportMetrics(metrics::MetricSnapshot{});
  ASSERT_TRUE((*exporter)->WaitIdle(kWait));

  metrics::MetricSnapshot snapshot;
  (*exporter)->AppendSelfMetrics(&snapshot);
  ASSERT_FALSE(snapshot.metrics.empty());
  const metrics::Metric& requests = snapshot.metrics[0];
  EXPECT_EQ(requests.name, "waitscope.exporter.requests");
  std::map<std::string, double> by_outcome;
  for (const auto& point : requests.numbers) {
    EXPECT_EQ(point.labels.at(0),
              (std::pair<std::string, std::string>{"exporter", "otlp_metrics"}));
    by_outcome[point.labels.at(1).second] = point.value;
  }
  EXPECT_EQ(by_outcome.size(), 7u);
  EXPECT_EQ(by_outcome["sent"], 1);
  EXPECT_EQ(by_outcome["dropped"], 0);
}

}  // namespace
}  // namespace waitscope::otlp
