// libFuzzer target for the /metrics endpoint's request handling, the one
// parser that reads bytes from the network rather than from a traced
// process. Input layout:
//   byte 0: piece size (0: whole), the rest arrives in pieces of that size
//           the way the server's reads accumulate them;
//   rest:   the bytes a client sends.
// Checks what the server relies on: the head ends where RequestHeadEnd says
// (inside what arrived), every response head is complete and says
// `Connection: close`, and an error body is as long as its Content-Length.
// Seeds (corpus/metrics_http): a GET, a HEAD, a POST, a bare-LF request.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "metrics/metrics_http.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

void CheckResponse(const waitscope::metrics::MetricsResponse& r, std::size_t metrics_size) {
  Check(r.head.starts_with("HTTP/1.1 "));
  Check(r.head.ends_with("Connection: close\r\n\r\n"));
  const std::size_t length = r.send_metrics || r.head_only ? metrics_size : r.error_body.size();
  Check(r.head.find("\r\nContent-Length: " + std::to_string(length) + "\r\n") != std::string::npos);
  Check(r.status == 200 || r.status == 400 || r.status == 404 || r.status == 405 ||
        r.status == 431);
  Check((r.status == 200) == (r.send_metrics || r.head_only));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t piece = data[0] == 0 ? size : data[0];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  constexpr std::size_t kMetricsSize = 1234;
  std::string received;
  for (std::size_t at = 0; at < input.size(); at += piece) {
    received.append(input.substr(at, piece));
    const std::size_t end = waitscope::metrics::RequestHeadEnd(received);
    if (end == 0) continue;
    Check(end <= received.size());
    const std::string_view head = std::string_view(received).substr(0, end);
    Check(head.ends_with("\n\n") || head.ends_with("\r\n\r\n"));
    CheckResponse(waitscope::metrics::RouteRequest(head, kMetricsSize), kMetricsSize);
    return 0;  // one request per connection
  }
  CheckResponse(waitscope::metrics::TooLargeResponse(), kMetricsSize);
  return 0;
}
