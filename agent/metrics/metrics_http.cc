#include "metrics/metrics_http.h"

#include "metrics/prometheus_text.h"

namespace waitscope::metrics {
namespace {

std::string_view Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 431:
      return "Request Header Fields Too Large";
  }
  return "Error";
}

std::string Head(int status, std::string_view content_type, std::size_t length,
                 std::string_view extra_headers) {
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " + std::string(Reason(status)) +
                     "\r\nContent-Type: " + std::string(content_type) +
                     "\r\nContent-Length: " + std::to_string(length) + "\r\n";
  head += extra_headers;
  head += "Connection: close\r\n\r\n";
  return head;
}

MetricsResponse ErrorResponse(int status, std::string body, std::string_view extra_headers = {}) {
  MetricsResponse r;
  r.status = status;
  r.error_body = std::move(body);
  r.head = Head(status, "text/plain; charset=utf-8", r.error_body.size(), extra_headers);
  return r;
}

}  // namespace

std::size_t RequestHeadEnd(std::string_view received) {
  const std::size_t crlf = received.find("\r\n\r\n");
  const std::size_t lf = received.find("\n\n");
  if (crlf == std::string_view::npos && lf == std::string_view::npos) return 0;
  if (lf == std::string_view::npos || (crlf != std::string_view::npos && crlf < lf)) {
    return crlf + 4;
  }
  return lf + 2;
}

MetricsResponse RouteRequest(std::string_view request, std::size_t metrics_size) {
  std::string_view line = request.substr(0, request.find('\n'));
  if (line.ends_with('\r')) line.remove_suffix(1);
  // Request line: METHOD SP TARGET SP HTTP/1.x
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || !line.substr(sp2 + 1).starts_with("HTTP/1.")) {
    return ErrorResponse(400, "bad request\n");
  }
  const std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  target = target.substr(0, target.find('?'));

  const bool head_only = method == "HEAD";
  if (method != "GET" && !head_only) {
    return ErrorResponse(405, "method not allowed: use GET\n", "Allow: GET, HEAD\r\n");
  }
  if (target != "/metrics") return ErrorResponse(404, "not found: metrics are at /metrics\n");

  MetricsResponse r;
  r.status = 200;
  r.send_metrics = !head_only;
  r.head_only = head_only;
  r.head = Head(200, kPrometheusContentType, metrics_size, {});
  return r;
}

MetricsResponse TooLargeResponse() {
  return ErrorResponse(431, "request too large\n");
}

}  // namespace waitscope::metrics
