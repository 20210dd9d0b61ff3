// AgentConfig: every setting of `waitscope agent`, with its default. It is
// filled by ParseAgentConfig (config_parser.h) from waitscope.yaml and the
// OTEL_* environment; docs/agent-config.md describes each key, and
// packaging/waitscope.yaml lists them all at these defaults.
//
// Contract: a value type, cheap enough to copy on SIGHUP. Everything here has
// been validated: durations are in range, listen addresses are loopback unless
// allow_public, OTLP URLs are resolved to the exact URL to POST to.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "findings/detector_config.h"

namespace waitscope::config {

// One include or exclude rule. Every field that is set must match (AND);
// unset (empty) fields match anything. A rule has at least one field.
struct TargetRule {
  std::string comm;    // fnmatch glob on /proc/PID/comm (at most 15 characters)
  std::string exe;     // fnmatch glob on the /proc/PID/exe target
  std::string cgroup;  // cgroup v2 path prefix, on '/' boundaries ("/system.slice")
  std::string unit;    // systemd unit ("nginx.service"; ".service" added when no suffix)

  bool operator==(const TargetRule&) const = default;
};

struct TargetsConfig {
  std::vector<TargetRule> include;  // empty: every process
  std::vector<TargetRule> exclude;  // wins over include; waitscope itself is always excluded

  bool operator==(const TargetsConfig&) const = default;
};

struct CaptureConfig {
  std::uint32_t capture_bytes = 4096;      // socket payload copied per syscall; 0: no wire tracing
  bool capture_values = false;             // keep SQL literals and raw URLs (privacy opt-in)
  std::uint64_t min_block_ns = 1'000'000;  // take a stack for waits at least this long

  bool operator==(const CaptureConfig&) const = default;
};

// Caps that keep memory bounded whatever the load; the agent evicts the least
// recently used entry past a cap and counts every eviction.
struct LimitsConfig {
  std::uint64_t max_processes = 4096;
  std::uint64_t max_connections = 65536;
  std::uint64_t max_statements = 2000;  // distinct normalized statements per process
  std::uint64_t max_stacks = 16384;     // distinct wait stacks per window

  bool operator==(const LimitsConfig&) const = default;
};

struct PrometheusConfig {
  bool enabled = true;
  std::string listen = "127.0.0.1:9464";  // HOST:PORT, [V6]:PORT; validated
  bool allow_public = false;              // needed for 0.0.0.0, ::, or an empty host

  bool operator==(const PrometheusConfig&) const = default;
};

struct TlsConfig {
  std::string ca_file;    // PEM bundle trusted for the server; empty: system CAs
  std::string cert_file;  // client certificate (mTLS); set with key_file or not at all
  std::string key_file;
  bool insecure_skip_verify = false;

  bool operator==(const TlsConfig&) const = default;
};

inline constexpr char kDefaultOtlpEndpoint[] = "http://localhost:4318";

// How one OTLP signal's requests are made. Per-signal so that metrics and
// logs can go to backends with different credentials, timeouts or CAs.
struct OtlpSignalConfig {
  std::map<std::string, std::string> headers;
  bool gzip = true;
  std::uint64_t timeout_ns = 10'000'000'000;
  TlsConfig tls;

  bool operator==(const OtlpSignalConfig&) const = default;
};

struct OtlpConfig {
  bool enabled = false;  // also turned on by any OTEL_EXPORTER_OTLP_*ENDPOINT variable
  std::string endpoint = kDefaultOtlpEndpoint;  // base URL: v1/metrics, v1/logs appended
  std::string metrics_endpoint;                 // used as-is when set
  std::string logs_endpoint;                    // used as-is when set
  // Resolved by the parser: where to POST each signal.
  std::string metrics_url = "http://localhost:4318/v1/metrics";
  std::string logs_url = "http://localhost:4318/v1/logs";
  // The file's keys over the generic OTEL_EXPORTER_OTLP_* variables.
  std::map<std::string, std::string> headers;
  bool gzip = true;                           // compression: gzip | none
  std::uint64_t timeout_ns = 10'000'000'000;  // per request
  TlsConfig tls;
  // Resolved by the parser: what each signal's requests use. The file's keys
  // win, then OTEL_EXPORTER_OTLP_{METRICS,LOGS}_*, then the generic variables.
  OtlpSignalConfig metrics;
  OtlpSignalConfig logs;
  // Always holds service.name (= service_name) after parsing.
  std::map<std::string, std::string> resource_attributes = {{"service.name", "waitscope"}};
  std::string service_name = "waitscope";

  bool operator==(const OtlpConfig&) const = default;
};

struct PyroscopeConfig {
  bool enabled = false;
  std::string url;  // server base URL; the exporter POSTs to URL/ingest?...
  std::string app_name = "waitscope";
  std::map<std::string, std::string> headers;  // e.g. Authorization
  std::uint64_t timeout_ns = 10'000'000'000;
  TlsConfig tls;

  bool operator==(const PyroscopeConfig&) const = default;
};

// Report directories as `waitscope record` writes them, one per window.
struct FilesConfig {
  bool enabled = false;
  std::string dir = "/var/lib/waitscope/reports";
  std::uint64_t max_bytes = 1ULL << 30;  // oldest windows deleted past this
  std::uint64_t keep = 60;               // and past this many windows

  bool operator==(const FilesConfig&) const = default;
};

// Where OTLP and Pyroscope payloads wait while their endpoint is down.
struct SpoolConfig {
  std::string dir = "/var/lib/waitscope/spool";
  std::uint64_t max_bytes = 256ULL << 20;  // oldest payloads dropped (and counted) past this

  bool operator==(const SpoolConfig&) const = default;
};

struct ExportsConfig {
  PrometheusConfig prometheus;
  OtlpConfig otlp;
  PyroscopeConfig pyroscope;
  FilesConfig files;

  bool operator==(const ExportsConfig&) const = default;
};

enum class LogLevel : std::uint8_t { kTrace, kDebug, kInfo, kWarn, kError, kOff };

struct AgentConfig {
  std::string source;  // file the config came from ("" for built-in defaults)
  TargetsConfig targets;
  CaptureConfig capture;
  std::uint64_t window_ns = 60'000'000'000;  // aggregation and export window
  LimitsConfig limits;
  ExportsConfig exports;
  SpoolConfig spool;
  // Detector thresholds: `finding_overrides` holds what the file set (dotted
  // key -> value); `findings` is the defaults with those applied.
  std::map<std::string, double> finding_overrides;
  findings::DetectorConfig findings;
  LogLevel log_level = LogLevel::kInfo;
  // Non-fatal problems to log at start or reload: OTEL_* variables that were
  // malformed or unsupported and therefore ignored, as OpenTelemetry asks.
  std::vector<std::string> warnings;

  // Same settings (source and warnings are not settings; `findings` follows
  // from `finding_overrides`).
  bool SameSettings(const AgentConfig& other) const {
    return targets == other.targets && capture == other.capture && window_ns == other.window_ns &&
           limits == other.limits && exports == other.exports && spool == other.spool &&
           finding_overrides == other.finding_overrides && log_level == other.log_level;
  }
};

}  // namespace waitscope::config
