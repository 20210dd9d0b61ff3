// Plain configuration of the OTLP/HTTP exporter and the Pyroscope pusher. The
// agent's config layer (YAML, OTEL_* environment variables) fills these; this
// folder never reads the environment or files itself, so every default below
// is the whole truth about what an unset field does.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace waitscope::otlp {

using KeyValues = std::vector<std::pair<std::string, std::string>>;

// How the HTTP client talks to one endpoint (shared by both exporters).
struct HttpOptions {
  KeyValues headers;  // e.g. {"Authorization", "Bearer ..."}; sent on every request
  std::chrono::milliseconds timeout{10000};  // whole request, connect included
  std::string ca_file;    // PEM bundle to verify the server; empty: the system store
  std::string cert_file;  // PEM client certificate for mutual TLS; empty: none
  std::string key_file;   // PEM key of cert_file
  // Accept any server certificate and name. Only for a collector whose
  // certificate cannot be trusted otherwise (tests, a throwaway setup): the
  // traffic is encrypted, but whoever is on the path can pose as the
  // collector and read it.
  bool insecure_skip_verify = false;
  // The OTLP exporter spec asks for the exporter's name and version here.
  std::string user_agent = "waitscope";
};

// When a failed request is tried again (see retry_policy.h).
struct RetryOptions {
  std::chrono::milliseconds initial_backoff{1000};  // ceiling of the first jittered wait
  std::chrono::milliseconds max_backoff{30000};     // ceiling of any computed wait
  // Retry-After values above this are clamped: a misconfigured server must not
  // park the exporter for hours while the spool overflows.
  std::chrono::milliseconds max_retry_after{300000};
};

// Where requests wait while the endpoint is unreachable.
struct SpoolOptions {
  // Directory of pending request bodies; created if missing. Empty keeps the
  // queue in memory only (same bound, lost when the agent stops).
  std::string dir;
  std::uint64_t max_bytes = 64ull << 20;  // oldest entries are dropped beyond this; 0: none
};

// One OTLP signal's own request settings, so that metrics and logs can go to
// backends with different credentials, timeouts or CAs.
struct OtlpSignalOptions {
  HttpOptions http;
  bool gzip = true;
};

struct OtlpExporterOptions {
  std::string metrics_url;  // full URL, e.g. http://collector:4318/v1/metrics; empty: no metrics
  std::string logs_url;     // full URL, e.g. http://collector:4318/v1/logs; empty: no findings
  KeyValues headers;        // OTEL_EXPORTER_OTLP_HEADERS, already split
  bool gzip = true;         // Content-Encoding: gzip on request bodies
  std::chrono::milliseconds timeout{10000};
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  bool insecure_skip_verify = false;  // see HttpOptions
  // When set, that signal's requests use these instead of headers, gzip,
  // timeout and the TLS files above (OTEL_EXPORTER_OTLP_METRICS_* / _LOGS_*).
  std::optional<OtlpSignalOptions> metrics_signal;
  std::optional<OtlpSignalOptions> logs_signal;
  std::string service_name = "waitscope";  // resource attribute service.name
  // OTEL_RESOURCE_ATTRIBUTES and configured ones, already split; a
  // `service.name` here overrides service_name, `host.name` the detected host.
  KeyValues resource_attributes;
  // Each signal spools under its own subdirectory (dir/metrics, dir/logs) with
  // its own max_bytes bound, so a rejected or unreachable logs endpoint never
  // holds metrics back.
  std::string spool_dir;
  std::uint64_t spool_max_bytes = 64ull << 20;
  RetryOptions retry;
};

struct PyroscopeOptions {
  std::string url;  // server base URL, e.g. http://pyroscope:4040 ("/ingest" is appended)
  std::string app_name = "waitscope.wait";  // Pyroscope application name
  KeyValues labels;                         // become {k=v,...} after the name
  KeyValues headers;                        // e.g. X-Scope-OrgID, Authorization
  std::chrono::milliseconds timeout{10000};

  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  bool insecure_skip_verify = false;  // see HttpOptions
  std::uint32_t sample_rate = 0;      // Hz; 0 leaves sampleRate out (waits are not sampled)
  std::string spool_dir;
  std::uint64_t spool_max_bytes = 64ull << 20;
  RetryOptions retry;
};

// The request settings of an exporter's options: OtlpExporterOptions and
// PyroscopeOptions name them alike.
template <typename ExporterOptions>
HttpOptions HttpOptionsOf(const ExporterOptions& o) {
  return HttpOptions{.headers = o.headers,
                     .timeout = o.timeout,
                     .ca_file = o.ca_file,
                     .cert_file = o.cert_file,
                     .key_file = o.key_file,
                     .insecure_skip_verify = o.insecure_skip_verify};
}

}  // namespace waitscope::otlp
