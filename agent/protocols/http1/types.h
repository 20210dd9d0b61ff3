// HTTP/1.x message-head fields and limits shared by the http1 parser's parts
// (head_parser, body_framer, parser). A MessageHead holds only what framing
// and the Exchange need: header values other than the framing headers are
// never looked at, so they cannot leak.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace waitscope::protocols::http1 {

// A head (start line + headers) or a trailer section larger than this is
// treated as malformed; nginx's default large_client_header_buffers is 4x8k,
// so real heads stay far below.
inline constexpr std::size_t kMaxHeadBytes = 64 * 1024;
// Longest chunk-size line (size + chunk extensions) accepted.
inline constexpr std::size_t kMaxChunkLineBytes = 4096;
inline constexpr std::size_t kMaxMethodBytes = 24;
// Cap on http_route / statement path text, so a hostile URL cannot blow up
// the per-endpoint aggregation.
inline constexpr std::size_t kMaxRouteBytes = 256;
// Requests waiting for their responses (pipelining depth). Real clients
// pipeline a handful; more means we lost track, and the oldest is dropped.
inline constexpr std::size_t kMaxPending = 128;

enum class ParseStatus : std::uint8_t { kIncomplete, kOk, kError };

// Views point into the caller's buffer and are valid until it changes.
struct MessageHead {
  std::string_view method;  // request only
  std::string_view target;  // request only, raw request-target
  int status = 0;           // response only
  int version_minor = 1;    // HTTP/1.<minor>
  std::optional<std::uint64_t> content_length;
  bool chunked = false;       // Transfer-Encoding with `chunked` as final coding
  bool other_coding = false;  // Transfer-Encoding present, final coding not chunked
  bool connection_close = false;
  bool connection_upgrade = false;  // Connection: upgrade
  bool has_upgrade = false;         // an Upgrade header is present
};

}  // namespace waitscope::protocols::http1
