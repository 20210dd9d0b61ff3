// The HTTP/1.x rules of the /metrics endpoint, as pure functions so they are
// tested without sockets: where a request head ends, and which response a
// request head gets. The server answers one request per connection
// (`Connection: close`), so nothing here tracks keep-alive or bodies.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace waitscope::metrics {

// Bytes up to and including the blank line that ends the head ("\r\n\r\n",
// or "\n\n" from hand-typed clients), or 0 while it has not arrived.
std::size_t RequestHeadEnd(std::string_view received);

struct MetricsResponse {
  int status = 200;
  bool send_metrics = false;  // body: the published exposition
  bool head_only = false;     // HEAD: headers of the body, no body
  std::string head;           // status line and headers, ending with the blank line
  std::string error_body;     // body of an error response
};

// 200 for GET/HEAD /metrics (query string ignored), 404 for another path,
// 405 for another method, 400 for a malformed request line.
// `metrics_size` is the published body's size, for Content-Length.
MetricsResponse RouteRequest(std::string_view request_head, std::size_t metrics_size);

// The answer to a request head larger than the server accepts.
MetricsResponse TooLargeResponse();

}  // namespace waitscope::metrics
