#include "cli/agent_exports.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <system_error>
#include <vector>

#include "cli/version.h"
#include "config/listen_address.h"
#include "export/pprof.h"
#include "metrics/prometheus_text.h"
#include "otlp/exporter_metrics.h"
#include "output/report_dir.h"
#include "output/wait_profiles.h"

namespace waitscope {
namespace {

otlp::KeyValues Pairs(const std::map<std::string, std::string>& m) {
  return {m.begin(), m.end()};
}

std::chrono::milliseconds Millis(std::uint64_t ns) {
  return std::chrono::milliseconds(ns / 1'000'000);
}

otlp::OtlpSignalOptions SignalOptions(const config::OtlpSignalConfig& c) {
  otlp::OtlpSignalOptions s;
  s.http.headers = Pairs(c.headers);
  s.http.timeout = Millis(c.timeout_ns);
  s.http.ca_file = c.tls.ca_file;
  s.http.cert_file = c.tls.cert_file;
  s.http.key_file = c.tls.key_file;
  s.http.insecure_skip_verify = c.tls.insecure_skip_verify;
  s.gzip = c.gzip;
  return s;
}

std::string WindowDirName(std::int64_t unix_ns) {
  const std::time_t t = static_cast<std::time_t>(unix_ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::uint64_t DirectoryBytes(const std::filesystem::path& dir) {
  std::uint64_t total = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec)) total += e.file_size(ec);
  }
  return total;
}

}  // namespace

Result<std::unique_ptr<AgentExports>> AgentExports::Start(const config::AgentConfig& config) {
  std::unique_ptr<AgentExports> e(new AgentExports());
  const config::ExportsConfig& x = config.exports;
  if (x.prometheus.enabled) {
    Result<config::ListenAddress> addr = config::ParseListenAddress(x.prometheus.listen);
    if (!addr.ok()) return addr.error();
    Result<std::unique_ptr<metrics::MetricsServer>> server =
        metrics::MetricsServer::Start({.host = addr.value().host, .port = addr.value().port});
    if (!server.ok()) return server.error();
    e->prometheus_ = std::move(server.value());
  }
  if (x.otlp.enabled) {
    otlp::OtlpExporterOptions o;
    o.metrics_url = x.otlp.metrics_url;
    o.logs_url = x.otlp.logs_url;
    o.headers = Pairs(x.otlp.headers);
    o.gzip = x.otlp.gzip;
    o.timeout = Millis(x.otlp.timeout_ns);
    o.ca_file = x.otlp.tls.ca_file;
    o.cert_file = x.otlp.tls.cert_file;
    o.key_file = x.otlp.tls.key_file;
    o.insecure_skip_verify = x.otlp.tls.insecure_skip_verify;
    o.metrics_signal = SignalOptions(x.otlp.metrics);
    o.logs_signal = SignalOptions(x.otlp.logs);
    // Once per start, not per request: it is a standing choice, and a log line
    // per export would bury everything else.
    if (o.metrics_signal->http.insecure_skip_verify || o.logs_signal->http.insecure_skip_verify) {
      spdlog::warn(
          "OTLP: exports.otlp.tls.insecure_skip_verify is set: the collector's TLS certificate "
          "and host name are not verified, anyone on the path can pose as it");
    }
    o.service_name = x.otlp.service_name;
    o.resource_attributes = Pairs(x.otlp.resource_attributes);
    o.spool_dir = config.spool.dir + "/otlp";
    o.spool_max_bytes = config.spool.max_bytes;
    Result<std::unique_ptr<otlp::OtlpExporter>> exporter =
        otlp::OtlpExporter::Create(o, kWaitscopeVersion);
    if (!exporter.ok()) return exporter.error();
    e->otlp_ = std::move(exporter.value());
  }
  if (x.pyroscope.enabled) {
    otlp::PyroscopeOptions p;
    p.url = x.pyroscope.url;
    p.app_name = x.pyroscope.app_name;
    p.headers = Pairs(x.pyroscope.headers);
    p.timeout = Millis(x.pyroscope.timeout_ns);
    p.ca_file = x.pyroscope.tls.ca_file;
    p.cert_file = x.pyroscope.tls.cert_file;
    p.key_file = x.pyroscope.tls.key_file;
    p.insecure_skip_verify = x.pyroscope.tls.insecure_skip_verify;
    if (p.insecure_skip_verify) {
      spdlog::warn(
          "Pyroscope: exports.pyroscope.tls.insecure_skip_verify is set: the server's TLS "
          "certificate is not verified");
    }
    p.spool_dir = config.spool.dir + "/pyroscope";
    p.spool_max_bytes = config.spool.max_bytes;
    Result<std::unique_ptr<otlp::PyroscopePusher>> pusher = otlp::PyroscopePusher::Create(p);
    if (!pusher.ok()) return pusher.error();
    e->pyroscope_ = std::move(pusher.value());
  }
  e->files_ = x.files;
  if (x.files.enabled) {
    if (Status s = PrepareOutputDir(x.files.dir); !s.ok()) return s.error();
  }
  return e;
}

void AgentExports::PublishPrometheus(const metrics::MetricsAccumulator& accumulator) {
  if (!prometheus_) return;
  const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  metrics::MetricSnapshot snapshot = accumulator.Snapshot(now);
  AppendExporterMetrics(&snapshot);
  prometheus_->Publish(metrics::EncodePrometheusText(snapshot));
}

void AgentExports::AppendExporterMetrics(metrics::MetricSnapshot* snapshot) const {
  if (otlp_) otlp_->AppendSelfMetrics(snapshot);
  if (pyroscope_) otlp::AppendSenderMetrics(pyroscope_->Stats(), "pyroscope", snapshot);
}

void AgentExports::ExportWindow(const Report& window, std::int64_t start_unix_ns,
                                std::int64_t end_unix_ns, metrics::AgentHealth health,
                                metrics::MetricsAccumulator& accumulator) {
  if (otlp_) {
    const otlp::OtlpExporterStats s = otlp_->Stats();
    health.export_failures["otlp"] = s.metrics.failed_attempts + s.logs.failed_attempts;
    health.spool_size_bytes += s.metrics.spool_bytes + s.logs.spool_bytes;
  }
  if (pyroscope_) {
    const otlp::SenderStats s = pyroscope_->Stats();
    health.export_failures["pyroscope"] = s.failed_attempts;
    health.spool_size_bytes += s.spool_bytes;
  }
  if (files_.enabled) health.export_failures["files"] = files_failures_;
  accumulator.SetHealth(health);
  metrics::MetricSnapshot snapshot = accumulator.Snapshot(end_unix_ns);
  AppendExporterMetrics(&snapshot);
  if (prometheus_) prometheus_->Publish(metrics::EncodePrometheusText(snapshot));
  if (otlp_) {
    otlp_->ExportMetrics(snapshot);
    if (!window.findings.empty()) otlp_->ExportFindings(window.findings, end_unix_ns);
  }
  if (pyroscope_ && !window.stacks.empty()) {
    Result<std::string> pprof = EncodePprof(WaitPprofProfile(window, start_unix_ns));
    if (pprof.ok()) {
      pyroscope_->Push(std::move(pprof.value()), start_unix_ns / 1'000'000'000,
                       end_unix_ns / 1'000'000'000);
    } else {
      spdlog::warn("pyroscope: cannot encode the window's profile: {}", pprof.error().message);
    }
  }
  if (files_.enabled) WriteReportDirectory(window, start_unix_ns);
}

void AgentExports::WriteReportDirectory(const Report& window, std::int64_t start_unix_ns) {
  const std::string dir = files_.dir + "/" + WindowDirName(start_unix_ns);
  if (Status s = WriteReportDir(window, dir, start_unix_ns); !s.ok()) {
    ++files_failures_;
    spdlog::warn("files: {}", s.error().message);
    return;
  }
  RotateReportDirectories();
}

void AgentExports::RotateReportDirectories() {
  std::error_code ec;
  std::vector<std::filesystem::path> dirs;
  for (const auto& e : std::filesystem::directory_iterator(files_.dir, ec)) {
    if (e.is_directory(ec)) dirs.push_back(e.path());
  }
  std::sort(dirs.begin(), dirs.end());  // names are UTC timestamps: oldest first
  std::vector<std::uint64_t> sizes;
  std::uint64_t total = 0;
  for (const auto& d : dirs) {
    sizes.push_back(DirectoryBytes(d));
    total += sizes.back();
  }
  for (std::size_t i = 0; i < dirs.size(); ++i) {
    const std::size_t left = dirs.size() - i;
    if (left <= 1 || (left <= files_.keep && total <= files_.max_bytes)) break;
    std::filesystem::remove_all(dirs[i], ec);
    total -= sizes[i];
  }
}

void AgentExports::Stop() {
  constexpr std::chrono::seconds kDrain{5};
  if (otlp_) otlp_->Stop(kDrain);
  if (pyroscope_) pyroscope_->Stop(kDrain);
}

}  // namespace waitscope
