// What an OTLP/HTTP server says in a response body, for the log: the
// partial success of a 2xx (the spec's "Partial Success": some points or
// records were rejected, and the client must not retry) and the message of
// an error (a google.rpc.Status when the body is protobuf). Bodies come from
// the network: anything malformed or truncated yields nothing or the raw
// text made printable, never an exception.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace waitscope::otlp {

enum class OtlpSignal { kMetrics, kLogs };

// "3 data points rejected: <message>" (or the message alone, or the count
// alone) when the Export*ServiceResponse in `body` reports a partial
// success; nullopt for a full success, an empty body or one that does not
// parse.
std::optional<std::string> PartialSuccessText(OtlpSignal signal, std::string_view body);

// An error body for a log line: the message of a google.rpc.Status if
// `content_type` is protobuf and it parses, else the body's text; control
// characters become '?' and bytes that are not UTF-8 U+FFFD
// (SanitizeForTerminal), and the result is at most 200 characters.
std::string ErrorBodyText(std::string_view content_type, std::string_view body);

}  // namespace waitscope::otlp
