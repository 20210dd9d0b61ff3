// otlp_export_demo: drives the real OTLP exporter and Pyroscope pusher with
// synthetic windows, for tests/otlp/test_otlp_export.py. Commands arrive on
// stdin, one per line; each is answered with one JSON line on stdout:
//   metrics I        queue the snapshot of window I
//   findings I       queue two findings stamped with window I's end
//   profile I        queue a pprof profile covering window I (needs --pyroscope-url)
//   wait MS          wait until everything queued is delivered or dropped
//   wait-stat NAME N MS   wait until metrics sender's counter NAME >= N
//   stats            print the counters
//   quit             stop without draining (pending data stays in the spool)
// Flags (each takes a value): --metrics-url, --logs-url, --pyroscope-url,
// --spool-dir, --spool-entries N, --gzip 0|1, --header k=v, --resource k=v,
// --service-name, and TLS: --ca-file, --cert-file, --key-file,
// --insecure-skip-verify 0|1; --per-signal 1 moves headers, gzip, timeout and
// TLS into metrics_signal/logs_signal, as the agent does.
// Window I covers [kStart, kStart + (I+1)*10 s]: cumulative, so the test can
// tell windows apart by time_unix_nano and check nobody re-stamped them.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>

#include "export/pprof.h"
#include "metrics/metric_snapshot.h"
#include "otlp/metrics_encoder.h"
#include "otlp/otlp_exporter.h"
#include "otlp/pyroscope_pusher.h"
#include "otlp/spool.h"

namespace {

using namespace waitscope;
using std::chrono::milliseconds;

constexpr std::int64_t kStartNs = 1700000000000000000;
constexpr std::int64_t kWindowNs = 10000000000;

std::int64_t WindowEnd(int i) {
  return kStartNs + (i + 1) * kWindowNs;
}

metrics::MetricSnapshot Window(int i) {
  metrics::MetricSnapshot s;
  s.start_unix_ns = kStartNs;
  s.time_unix_ns = WindowEnd(i);
  s.metrics.push_back({"waitscope.wait.time",
                       "Blocked time by class",
                       "s",
                       metrics::MetricType::kCounter,
                       {{{{"class", "disk"}, {"pid", "42"}}, 1.5 * (i + 1)},
                        {{{"class", "net"}, {"pid", "42"}}, 0.25 * (i + 1)}},
                       {}});
  s.metrics.push_back({"waitscope.connections.open",
                       "Open connections",
                       "{connection}",
                       metrics::MetricType::kGauge,
                       {{{{"peer", "10.0.0.5:5432"}}, static_cast<double>(i)}},
                       {}});
  metrics::HistogramPoint h;
  h.labels = {{"endpoint", "GET /orders/{id}"}};
  h.bounds = {0.005, 0.05, 0.5};
  h.counts = {static_cast<std::uint64_t>(i), 2, 3, 1};
  h.count = static_cast<std::uint64_t>(i) + 6;
  h.sum = 0.75;
  s.metrics.push_back({"waitscope.http.server.duration",
                       "Request latency",
                       "s",
                       metrics::MetricType::kHistogram,
                       {},
                       {h}});
  return s;
}

std::vector<FindingRow> Findings() {
  FindingRow a;
  a.kind = "n_plus_one";
  a.severity = Severity::kWarning;
  a.pid = 42;
  a.endpoint = "GET /orders/{id}";
  a.summary = "SELECT * FROM items WHERE order_id = ? runs 50 times per request";
  a.evidence_json =
      R"({"statement": "SELECT * FROM items WHERE order_id = ?", "repeats_per_request": 50, "share": 0.62})";
  a.cost_ns = 123456789;
  FindingRow b;
  b.kind = "slow_query";
  b.severity = Severity::kCritical;
  b.pid = 43;
  b.summary = "UPDATE stock is slow";
  b.evidence_json = R"({"p95_us": 250000, "latency": {"p50_us": 1000}})";
  return {a, b};
}

std::string JsonStats(const otlp::SenderStats& s) {
  std::ostringstream out;
  out << "{\"enqueued\":" << s.enqueued << ",\"sent\":" << s.sent << ",\"attempts\":" << s.attempts
      << ",\"failed_attempts\":" << s.failed_attempts << ",\"retried\":" << s.retried
      << ",\"rejected\":" << s.rejected << ",\"dropped_oldest\":" << s.dropped_oldest
      << ",\"lost\":" << s.lost << ",\"spool_bytes\":" << s.spool_bytes
      << ",\"spool_entries\":" << s.spool_entries << "}";
  return out.str();
}

std::uint64_t StatByName(const otlp::SenderStats& s, const std::string& name) {
  if (name == "sent") return s.sent;
  if (name == "failed_attempts") return s.failed_attempts;
  if (name == "dropped_oldest") return s.dropped_oldest;
  if (name == "spool_entries") return s.spool_entries;
  return 0;
}

otlp::KeyValues::value_type SplitKv(const std::string& kv) {
  const auto eq = kv.find('=');
  return {kv.substr(0, eq), eq == std::string::npos ? "" : kv.substr(eq + 1)};
}

}  // namespace

int main(int argc, char** argv) {
  // stdout carries the JSON replies; the exporter's log lines go to stderr.
  spdlog::set_default_logger(spdlog::stderr_color_mt("otlp_export_demo"));
  otlp::OtlpExporterOptions options;
  options.retry.initial_backoff = milliseconds(10);
  options.retry.max_backoff = milliseconds(100);
  options.timeout = milliseconds(5000);
  otlp::PyroscopeOptions pyro;
  pyro.retry = options.retry;
  int spool_entries = 0;
  bool per_signal = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--metrics-url")
      options.metrics_url = value;
    else if (flag == "--logs-url")
      options.logs_url = value;
    else if (flag == "--pyroscope-url")
      pyro.url = value;
    else if (flag == "--spool-dir")
      options.spool_dir = value;
    else if (flag == "--spool-entries")
      spool_entries = std::atoi(value.c_str());
    else if (flag == "--gzip")
      options.gzip = value == "1";
    else if (flag == "--header")
      options.headers.push_back(SplitKv(value));
    else if (flag == "--resource")
      options.resource_attributes.push_back(SplitKv(value));
    else if (flag == "--service-name")
      options.service_name = value;
    else if (flag == "--ca-file")
      options.ca_file = value;
    else if (flag == "--cert-file")
      options.cert_file = value;
    else if (flag == "--key-file")
      options.key_file = value;
    else if (flag == "--insecure-skip-verify")
      options.insecure_skip_verify = value == "1";
    else if (flag == "--per-signal")
      per_signal = value == "1";
    else {
      std::cerr << "unknown flag " << flag << "\n";
      return 2;
    }
  }
  if (spool_entries > 0) {
    // Every window encodes to the same size (doubles and fixed64 timestamps),
    // so the bound holds exactly this many windows.
    const auto resource =
        otlp::BuildResource(options.service_name, options.resource_attributes, "test");
    const std::string body = otlp::EncodeMetricsRequest(Window(0), resource);
    options.gzip = false;
    options.spool_max_bytes = static_cast<std::uint64_t>(spool_entries) *
                              otlp::SerializeSpoolEntry("metrics", "", body).size();
  }
  pyro.ca_file = options.ca_file;
  pyro.cert_file = options.cert_file;
  pyro.key_file = options.key_file;
  pyro.insecure_skip_verify = options.insecure_skip_verify;
  // The agent fills the per-signal options; without --per-signal the
  // exporter-wide fields are used, so both paths can be tested.
  if (per_signal) {
    otlp::OtlpSignalOptions signal;
    signal.http = {.headers = options.headers,
                   .timeout = options.timeout,
                   .ca_file = options.ca_file,
                   .cert_file = options.cert_file,
                   .key_file = options.key_file,
                   .insecure_skip_verify = options.insecure_skip_verify};
    signal.gzip = options.gzip;
    options.metrics_signal = signal;
    options.logs_signal = signal;
    options.ca_file = options.cert_file = options.key_file = "";
    options.insecure_skip_verify = false;
  }
  auto exporter = otlp::OtlpExporter::Create(options, "test");
  if (!exporter) {
    std::cerr << exporter.error().message << "\n";
    return 1;
  }
  std::unique_ptr<otlp::PyroscopePusher> pusher;
  if (!pyro.url.empty()) {
    pyro.labels = {{"host", "demo"}};
    pyro.spool_dir = options.spool_dir.empty() ? "" : options.spool_dir + "/pyroscope";
    auto created = otlp::PyroscopePusher::Create(pyro);
    if (!created) {
      std::cerr << created.error().message << "\n";
      return 1;
    }
    pusher = std::move(*created);
  }

  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string cmd;
    in >> cmd;
    std::string reply = "{\"ok\":true}";
    if (cmd == "metrics") {
      int i = 0;
      in >> i;
      (*exporter)->ExportMetrics(Window(i));
    } else if (cmd == "findings") {
      int i = 0;
      in >> i;
      (*exporter)->ExportFindings(Findings(), WindowEnd(i));
    } else if (cmd == "profile" && pusher) {
      int i = 0;
      in >> i;
      PprofProfile profile;
      profile.sample_types = {{"wait", "nanoseconds"}};
      profile.samples.push_back({{Frame{"main", ""}, Frame{"fsync", ""}}, {1000}, {}, {}});
      auto bytes = EncodePprof(profile);
      if (bytes)
        pusher->Push(std::move(*bytes), kStartNs / 1000000000 + i * 10, WindowEnd(i) / 1000000000);
    } else if (cmd == "wait") {
      int ms = 0;
      in >> ms;
      bool idle = (*exporter)->WaitIdle(milliseconds(ms));
      if (pusher) idle = pusher->WaitIdle(milliseconds(ms)) && idle;
      reply = std::string("{\"idle\":") + (idle ? "true" : "false") + "}";
    } else if (cmd == "wait-stat") {
      std::string name;
      std::uint64_t want = 0;
      int ms = 0;
      in >> name >> want >> ms;
      const auto deadline = std::chrono::steady_clock::now() + milliseconds(ms);
      // WaitIdle is the sender's condition-variable wait; it wakes on progress.
      while (StatByName((*exporter)->Stats().metrics, name) < want &&
             std::chrono::steady_clock::now() < deadline) {
        (void)(*exporter)->WaitIdle(milliseconds(5));
      }
      reply = std::string("{\"reached\":") +
              (StatByName((*exporter)->Stats().metrics, name) >= want ? "true" : "false") + "}";
    } else if (cmd == "stats") {
      const auto stats = (*exporter)->Stats();
      reply = "{\"metrics\":" + JsonStats(stats.metrics) + ",\"logs\":" + JsonStats(stats.logs) +
              ",\"pyroscope\":" + JsonStats(pusher ? pusher->Stats() : otlp::SenderStats{}) + "}";
    } else if (cmd == "quit") {
      (*exporter)->Stop(milliseconds(0));
      if (pusher) pusher->Stop(milliseconds(0));
      std::cout << reply << std::endl;
      return 0;
    } else {
      reply = "{\"ok\":false,\"error\":\"unknown command\"}";
    }
    std::cout << reply << std::endl;
  }
  return 0;
}
