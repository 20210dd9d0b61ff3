// HttpClient: one libcurl easy handle that POSTs request bodies to HTTP(S)
// endpoints. The handle is kept between requests so the connection stays
// alive (the OTLP spec asks for it). TLS: the server's certificate and name
// are verified (against ca_file, or the system store) unless
// insecure_skip_verify is set; an optional client certificate and key.
//
// Post never throws and never retries: it reports what happened (status, or
// a transport error and status 0) and leaves the decision to retry_policy.h.
// It blocks for at most HttpOptions::timeout, less if `abort` turns true.
// Not thread-safe: one client per thread (the Sender's worker owns one).
#pragma once

#include <atomic>
#include <string>
#include <string_view>

#include "otlp/options.h"

namespace waitscope::otlp {

struct HttpResponse {
  long status = 0;              // 0: no HTTP response (see transport_error)
  std::string transport_error;  // curl's message when status is 0
  std::string retry_after;      // the Retry-After header, if any
  std::string location;         // the Location header (of a redirect), if any
  std::string content_type;     // the Content-Type header, if any
  std::string body;             // first bytes of the response body, for messages
};

class HttpClient {
 public:
  explicit HttpClient(HttpOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResponse Post(const std::string& url, std::string_view body, std::string_view content_type,
                    std::string_view content_encoding, const std::atomic<bool>* abort);

 private:
  HttpOptions options_;
  void* curl_ = nullptr;  // CURL*, kept opaque so this header needs no curl.h
};

}  // namespace waitscope::otlp
