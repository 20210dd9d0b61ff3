// The OTEL_* overlay: environment variables fill the settings the file left
// unset; malformed ones are ignored with a warning (OpenTelemetry's rule for
// configuration it cannot parse).
#include <charconv>
#include <map>
#include <string>

#include "config/listen_address.h"
#include "config/otel_values.h"
#include "config/path_checks.h"
#include "config/sections.h"

namespace waitscope::config {
namespace {

constexpr std::uint64_t kMs = 1'000'000;

class Overlay {
 public:
  Overlay(const Environment& env, const ParseContext& ctx, AgentConfig& config)
      : env_(env), ctx_(ctx), config_(config) {}

  // The variable's value when it is set and the file did not set `key`.
  std::string Take(const std::string& name, const std::string& key) const {
    std::string value = EnvValue(env_, name);
    if (value.empty() || FileSet(key)) return {};
    return value;
  }
  bool FileSet(const std::string& key) const { return ctx_.set_keys.count(key) != 0; }
  void Warn(const std::string& name, const std::string& value, const std::string& why) {
    config_.warnings.push_back(name + "='" + value + "' ignored: " + why);
  }
  // For a variable that may hold credentials (headers): the log shows no value.
  void WarnHidingValue(const std::string& name, const std::string& why) {
    config_.warnings.push_back(name + " ignored (its value is not shown): " + why);
  }

  // A whole number of milliseconds in [min_ms, max_ms], as OTel's *_INTERVAL
  // and *_TIMEOUT variables are.
  bool Milliseconds(const std::string& name, const std::string& value, std::uint64_t min_ms,
                    std::uint64_t max_ms, std::uint64_t& out_ns) {
    std::uint64_t ms = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
    if (ec != std::errc() || ptr != value.data() + value.size() || ms < min_ms || ms > max_ms) {
      Warn(
          name, value,
          "expected milliseconds from " + std::to_string(min_ms) + " to " + std::to_string(max_ms));
      return false;
    }
    out_ns = ms * kMs;
    return true;
  }

  const Environment& env_;
  const ParseContext& ctx_;
  AgentConfig& config_;
};

void ApplyWindow(Overlay& o) {
  const char* kName = "OTEL_METRIC_EXPORT_INTERVAL";
  if (std::string v = o.Take(kName, "window"); !v.empty()) {
    o.Milliseconds(kName, v, 1000, 86'400'000, o.config_.window_ns);
  }
}

void ApplyEndpoints(Overlay& o) {
  OtlpConfig& otlp = o.config_.exports.otlp;
  // The three endpoints are one decision: a file that names any of them owns all.
  if (o.FileSet("exports.otlp.endpoint") || o.FileSet("exports.otlp.metrics_endpoint") ||
      o.FileSet("exports.otlp.logs_endpoint")) {
    return;
  }
  bool any = false;
  for (auto [name, field] :
       {std::pair{"OTEL_EXPORTER_OTLP_ENDPOINT", &otlp.endpoint},
        std::pair{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", &otlp.metrics_endpoint},
        std::pair{"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", &otlp.logs_endpoint}}) {
    const std::string value = EnvValue(o.env_, name);
    if (value.empty()) continue;
    if (Status s = CheckHttpUrl(value); !s) {
      o.Warn(name, value, s.error().message);
      continue;
    }
    *field = value;
    any = true;
  }
  // Setting where to send is asking to send, unless the file says otherwise.
  if (any && !o.FileSet("exports.otlp.enabled")) otlp.enabled = true;
}

void ApplyProtocol(Overlay& o) {
  for (const char* name : {"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
                           "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL"}) {
    const std::string value = EnvValue(o.env_, name);
    if (!value.empty() && value != "http/protobuf") {
      o.Warn(name, value, "waitscope sends OTLP as http/protobuf only");
    }
  }
}

// OTEL_EXPORTER_OTLP_<what> (generic) or OTEL_EXPORTER_OTLP_<signal>_<what>.
std::string OtlpVariable(const std::string& signal, const char* what) {
  return "OTEL_EXPORTER_OTLP_" + (signal.empty() ? "" : signal + "_") + what;
}

// Applies the request variables of one signal ("METRICS", "LOGS"), or the
// generic ones (""), over `out`, which holds what applies without them. Keys
// the file set are left alone; `file_headers` are the file's headers, which
// a variable's headers are merged under.
void ApplyRequestVariables(Overlay& o, const std::string& signal,
                           const std::map<std::string, std::string>& file_headers,
                           OtlpSignalConfig& out) {
  const std::string headers_name = OtlpVariable(signal, "HEADERS");
  if (std::string v = EnvValue(o.env_, headers_name); !v.empty()) {
    Result<std::map<std::string, std::string>> headers = ParseHttpHeaderList(v);
    if (!headers) {
      o.WarnHidingValue(headers_name, headers.error().message);
    } else {
      // A per-signal list replaces the generic one, as in the OTel SDKs.
      out.headers = file_headers;
      for (auto& [name, value] : *headers) out.headers.emplace(name, value);  // file wins
    }
  }
  const std::string compression = OtlpVariable(signal, "COMPRESSION");
  if (std::string v = o.Take(compression, "exports.otlp.compression"); !v.empty()) {
    if (v == "gzip" || v == "none") {
      out.gzip = v == "gzip";
    } else {
      o.Warn(compression, v, "expected gzip or none");
    }
  }
  const std::string timeout = OtlpVariable(signal, "TIMEOUT");
  if (std::string v = o.Take(timeout, "exports.otlp.timeout"); !v.empty()) {
    o.Milliseconds(timeout, v, 1, 600'000, out.timeout_ns);
  }
  const std::string ca_name = OtlpVariable(signal, "CERTIFICATE");
  if (std::string v = o.Take(ca_name, "exports.otlp.tls.ca_file"); !v.empty()) {
    if (std::string why = PemFileProblem(v); !why.empty()) {
      o.Warn(ca_name, v, why);
    } else {
      out.tls.ca_file = v;
    }
  }
  // The client certificate and key come as a pair, from one place: a
  // signal's pair replaces the generic pair, never half of it.
  if (!o.FileSet("exports.otlp.tls.cert_file")) {
    const std::string cert_name = OtlpVariable(signal, "CLIENT_CERTIFICATE");
    const std::string key_name = OtlpVariable(signal, "CLIENT_KEY");
    const std::string cert = EnvValue(o.env_, cert_name);
    const std::string key = EnvValue(o.env_, key_name);
    if (!cert.empty() && !key.empty()) {
      // Never half a pair: either file unusable ignores both.
      if (std::string why = PemFileProblem(cert); !why.empty()) {
        o.Warn(cert_name, cert, why);
      } else if (std::string why = PemFileProblem(key); !why.empty()) {
        o.Warn(key_name, key, why);
      } else {
        out.tls.cert_file = cert;
        out.tls.key_file = key;
      }
    } else if (!cert.empty()) {
      o.Warn(cert_name, cert, key_name + " is not set");
    } else if (!key.empty()) {
      o.Warn(key_name, key, cert_name + " is not set");
    }
  }
}

// Per-signal variables beat generic ones; the file's keys beat both.
void ApplyOtlpOptions(Overlay& o) {
  OtlpConfig& otlp = o.config_.exports.otlp;
  const std::map<std::string, std::string> file_headers = otlp.headers;
  OtlpSignalConfig generic{otlp.headers, otlp.gzip, otlp.timeout_ns, otlp.tls};
  ApplyRequestVariables(o, "", file_headers, generic);
  otlp.headers = generic.headers;
  otlp.gzip = generic.gzip;
  otlp.timeout_ns = generic.timeout_ns;
  otlp.tls = generic.tls;
  otlp.metrics = generic;
  ApplyRequestVariables(o, "METRICS", file_headers, otlp.metrics);
  otlp.logs = generic;
  ApplyRequestVariables(o, "LOGS", file_headers, otlp.logs);
}

// service.name: the file's service_name, the file's resource_attributes,
// OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, then "waitscope".
void ApplyResource(Overlay& o) {
  OtlpConfig& otlp = o.config_.exports.otlp;
  std::map<std::string, std::string>& attributes = otlp.resource_attributes;
  const bool file_named =
      o.FileSet("exports.otlp.service_name") || attributes.count("service.name");
  if (!o.FileSet("exports.otlp.service_name") && attributes.count("service.name")) {
    otlp.service_name = attributes["service.name"];
  }
  std::map<std::string, std::string> from_env;
  if (std::string v = EnvValue(o.env_, "OTEL_RESOURCE_ATTRIBUTES"); !v.empty()) {
    Result<std::map<std::string, std::string>> parsed = ParseOtelKeyValueList(v);
    if (parsed) {
      from_env = std::move(*parsed);
    } else {
      o.Warn("OTEL_RESOURCE_ATTRIBUTES", v, parsed.error().message);
    }
  }
  if (!file_named) {
    if (std::string v = EnvValue(o.env_, "OTEL_SERVICE_NAME"); !v.empty()) {
      otlp.service_name = v;
    } else if (auto it = from_env.find("service.name");
               it != from_env.end() && !it->second.empty()) {
      otlp.service_name = it->second;
    }
  }
  for (auto& [name, value] : from_env) attributes.emplace(name, value);  // file wins
  attributes["service.name"] = otlp.service_name;
}

void ApplyPrometheus(Overlay& o) {
  PrometheusConfig& prom = o.config_.exports.prometheus;
  const std::string host = o.Take("OTEL_EXPORTER_PROMETHEUS_HOST", "exports.prometheus.listen");
  const std::string port = o.Take("OTEL_EXPORTER_PROMETHEUS_PORT", "exports.prometheus.listen");
  if (host.empty() && port.empty()) return;
  Result<ListenAddress> current = ParseListenAddress(prom.listen);
  std::string h = host.empty() ? (current ? current->host : "127.0.0.1") : host;
  if (h.find(':') != std::string::npos && h.front() != '[') h = "[" + h + "]";
  const std::string p = port.empty() ? (current ? std::to_string(current->port) : "9464") : port;
  const std::string listen = h + ":" + p;
  const std::string name =
      host.empty() ? "OTEL_EXPORTER_PROMETHEUS_PORT" : "OTEL_EXPORTER_PROMETHEUS_HOST";
  Result<ListenAddress> address = ParseListenAddress(listen);
  if (!address) {
    o.Warn(name, host.empty() ? port : host, address.error().message);
  } else if (address->every_interface && !prom.allow_public) {
    o.Warn(name, host, "listening on every interface needs exports.prometheus.allow_public: true");
  } else {
    prom.listen = listen;
  }
}

void ResolveUrls(OtlpConfig& otlp) {
  otlp.metrics_url = otlp.metrics_endpoint.empty() ? BaseEndpointUrl(otlp.endpoint, "v1/metrics")
                                                   : SignalEndpointUrl(otlp.metrics_endpoint);
  otlp.logs_url = otlp.logs_endpoint.empty() ? BaseEndpointUrl(otlp.endpoint, "v1/logs")
                                             : SignalEndpointUrl(otlp.logs_endpoint);
}

}  // namespace

void ApplyEnvironment(const Environment& env, const ParseContext& ctx, AgentConfig& config) {
  Overlay o(env, ctx, config);
  ApplyWindow(o);
  ApplyEndpoints(o);
  ApplyProtocol(o);
  ApplyOtlpOptions(o);
  ApplyResource(o);
  ApplyPrometheus(o);
  ResolveUrls(config.exports.otlp);
}

}  // namespace waitscope::config
