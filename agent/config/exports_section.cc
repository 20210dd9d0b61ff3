// The `exports` section of waitscope.yaml: prometheus, otlp, pyroscope, files.
#include <map>
#include <string>

#include "config/listen_address.h"
#include "config/otel_values.h"
#include "config/path_checks.h"
#include "config/sections.h"

namespace waitscope::config {
namespace {

constexpr std::uint64_t kMs = 1'000'000;
constexpr std::uint64_t kMaxTimeout = 600'000 * kMs;

Status ReadUrl(const MapReader& r, const char* key, std::string& out) {
  if (Status s = r.ReadString(key, out); !s) return s;
  if (!r.Has(key)) return Status::Ok();
  if (Status s = CheckHttpUrl(out); !s) {
    return r.ErrorAt(key, "'" + r.PathOf(key) + "': " + s.error().message);
  }
  return Status::Ok();
}

Status ReadNonEmpty(const MapReader& r, const char* key, std::string& out) {
  if (Status s = r.ReadString(key, out); !s) return s;
  if (r.Has(key) && out.empty()) return r.ErrorAt(key, "'" + r.PathOf(key) + "' must not be empty");
  return Status::Ok();
}

Status ReadPemFile(const MapReader& r, const char* key, std::string& out) {
  if (Status s = ReadNonEmpty(r, key, out); !s) return s;
  if (!r.Has(key)) return Status::Ok();
  if (std::string why = PemFileProblem(out); !why.empty()) {
    return r.ErrorAt(key, "'" + r.PathOf(key) + "': " + why);
  }
  return Status::Ok();
}

Status ParsePrometheus(const MapReader& exports, PrometheusConfig& out) {
  Result<MapReader> r = exports.Child("prometheus", {"enabled", "listen", "allow_public"});
  if (!r) return r.error();
  if (Status s = r->ReadBool("enabled", out.enabled); !s) return s;
  if (Status s = r->ReadBool("allow_public", out.allow_public); !s) return s;
  if (Status s = r->ReadString("listen", out.listen); !s) return s;
  if (!r->Has("listen")) return Status::Ok();
  Result<ListenAddress> address = ParseListenAddress(out.listen);
  if (!address)
    return r->ErrorAt("listen", "'" + r->PathOf("listen") + "': " + address.error().message);
  if (address->every_interface && !out.allow_public) {
    return r->ErrorAt("listen", "listen address " + out.listen +
                                    " exposes metrics on every interface; set allow_public: true "
                                    "to allow it");
  }
  return Status::Ok();
}

// `tls` of an exporter section (otlp, pyroscope).
Status ParseTls(const MapReader& exporter, TlsConfig& out) {
  Result<MapReader> r =
      exporter.Child("tls", {"ca_file", "cert_file", "key_file", "insecure_skip_verify"});
  if (!r) return r.error();
  if (Status s = ReadPemFile(*r, "ca_file", out.ca_file); !s) return s;
  if (Status s = ReadPemFile(*r, "cert_file", out.cert_file); !s) return s;
  if (Status s = ReadPemFile(*r, "key_file", out.key_file); !s) return s;
  if (r->Has("cert_file") != r->Has("key_file")) {
    const char* set = r->Has("cert_file") ? "cert_file" : "key_file";
    return r->ErrorAt(
        set, "'" + r->PathOf(set) + "' needs its pair: set cert_file and key_file together");
  }
  return r->ReadBool("insecure_skip_verify", out.insecure_skip_verify);
}

Status ReadHeaders(const MapReader& r, std::map<std::string, std::string>& out) {
  return r.ReadStringMap("headers", out, HttpHeaderNameProblem, HttpHeaderValueProblem);
}

Status ParseOtlp(const MapReader& exports, OtlpConfig& out) {
  Result<MapReader> r = exports.Child(
      "otlp", {"enabled", "endpoint", "metrics_endpoint", "logs_endpoint", "headers", "compression",
               "timeout", "tls", "resource_attributes", "service_name"});
  if (!r) return r.error();
  if (Status s = r->ReadBool("enabled", out.enabled); !s) return s;
  if (Status s = ReadUrl(*r, "endpoint", out.endpoint); !s) return s;
  if (Status s = ReadUrl(*r, "metrics_endpoint", out.metrics_endpoint); !s) return s;
  if (Status s = ReadUrl(*r, "logs_endpoint", out.logs_endpoint); !s) return s;
  if (Status s = ReadHeaders(*r, out.headers); !s) return s;
  if (r->Has("compression")) {
    Result<std::string> text = r->Scalar("compression", "gzip or none");
    if (!text) return text.error();
    if (*text != "gzip" && *text != "none") {
      return r->ErrorAt("compression", "'" + r->PathOf("compression") +
                                           "' must be gzip or none, got '" + *text + "'");
    }
    out.gzip = *text == "gzip";
  }
  if (Status s = r->ReadDuration("timeout", out.timeout_ns, kMs, kMaxTimeout); !s) return s;
  if (Status s = ParseTls(*r, out.tls); !s) return s;
  if (Status s = r->ReadStringMap("resource_attributes", out.resource_attributes); !s) return s;
  return ReadNonEmpty(*r, "service_name", out.service_name);
}

bool IsAppNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

Status ParsePyroscope(const MapReader& exports, PyroscopeConfig& out) {
  Result<MapReader> r =
      exports.Child("pyroscope", {"enabled", "url", "app_name", "headers", "timeout", "tls"});
  if (!r) return r.error();
  if (Status s = r->ReadBool("enabled", out.enabled); !s) return s;
  if (Status s = ReadUrl(*r, "url", out.url); !s) return s;
  if (Status s = ReadNonEmpty(*r, "app_name", out.app_name); !s) return s;
  for (char c : out.app_name) {
    if (!IsAppNameChar(c)) {
      return r->ErrorAt("app_name", "'" + r->PathOf("app_name") +
                                        "' may hold only letters, digits, '.', '_' and '-', got '" +
                                        out.app_name + "'");
    }
  }
  if (Status s = ReadHeaders(*r, out.headers); !s) return s;
  if (Status s = r->ReadDuration("timeout", out.timeout_ns, kMs, kMaxTimeout); !s) return s;
  if (Status s = ParseTls(*r, out.tls); !s) return s;
  if (out.enabled && out.url.empty()) {
    return r->ErrorAt("enabled", "'" + r->PathOf("enabled") +
                                     "' is true but no 'url' is set (for example "
                                     "http://pyroscope:4040)");
  }
  return Status::Ok();
}

Status ParseFiles(const MapReader& exports, FilesConfig& out) {
  Result<MapReader> r = exports.Child("files", {"enabled", "dir", "max_bytes", "keep"});
  if (!r) return r.error();
  if (Status s = r->ReadBool("enabled", out.enabled); !s) return s;
  if (Status s = ReadNonEmpty(*r, "dir", out.dir); !s) return s;
  if (Status s = CheckDirectory(*r, "dir", out.dir); !s) return s;
  if (Status s = r->ReadByteSize("max_bytes", out.max_bytes, 1 << 20); !s) return s;
  return r->ReadCount("keep", out.keep, 1, 1'000'000);
}

}  // namespace

Status CheckDirectory(const MapReader& r, const char* key, const std::string& path) {
  if (!r.Has(key)) return Status::Ok();
  if (std::string why = DirectoryProblem(path); !why.empty()) {
    return r.ErrorAt(key, "'" + r.PathOf(key) + "': " + why);
  }
  return Status::Ok();
}

Status ParseExports(const MapReader& top, ExportsConfig& out) {
  Result<MapReader> exports = top.Child("exports", {"prometheus", "otlp", "pyroscope", "files"});
  if (!exports) return exports.error();
  if (Status s = ParsePrometheus(*exports, out.prometheus); !s) return s;
  if (Status s = ParseOtlp(*exports, out.otlp); !s) return s;
  if (Status s = ParsePyroscope(*exports, out.pyroscope); !s) return s;
  return ParseFiles(*exports, out.files);
}

}  // namespace waitscope::config
