// The value formats of OpenTelemetry's environment variables, as the OTLP
// exporter and SDK specifications define them:
// - key-value lists ("k1=v1,k2=v2", W3C Baggage without properties) used by
//   OTEL_EXPORTER_OTLP_HEADERS and OTEL_RESOURCE_ATTRIBUTES, values
//   percent-decoded, blanks around keys and values ignored;
// - OTLP/HTTP URLs: a per-signal endpoint is used as-is (only "/" added when
//   it has no path), the generic endpoint is a base to which "v1/metrics" or
//   "v1/logs" is appended after making sure it ends with one "/".
// Pure functions; the config parser also applies them to the YAML values.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/result.h"

namespace waitscope::config {

Result<std::map<std::string, std::string>> ParseOtelKeyValueList(std::string_view text);

// HTTP headers, from the config or OTEL_EXPORTER_OTLP_*HEADERS: a name is a
// token (RFC 9110, 5.6.2), a value holds no control character but tab (a CR
// or LF would end the header and start one nobody wrote). Each returns what
// is wrong, or "" when nothing is; neither shows the value, which may be a
// credential.
std::string HttpHeaderNameProblem(std::string_view name);
std::string HttpHeaderValueProblem(std::string_view value);

// OTEL_EXPORTER_OTLP_*HEADERS: a key-value list whose entries are all valid
// headers. The error names a bad header, never a value.
Result<std::map<std::string, std::string>> ParseHttpHeaderList(std::string_view text);

// "%20" -> " "; a '%' not followed by two hex digits is an error.
Result<std::string> PercentDecode(std::string_view text);

// Checks `url` is http:// or https:// with a host; the error says why not.
Status CheckHttpUrl(std::string_view url);

// Per-signal endpoint: as-is, "/" appended when the URL has no path.
std::string SignalEndpointUrl(std::string_view url);

// Generic endpoint: base + "/" (unless it ends with one) + signal_path
// ("v1/metrics"). Anything after '?' or '#' is dropped first: the spec only
// honours scheme, host, port and path.
std::string BaseEndpointUrl(std::string_view base, std::string_view signal_path);

}  // namespace waitscope::config
