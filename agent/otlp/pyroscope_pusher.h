// PyroscopePusher: pushes gzipped pprof profiles (export/pprof.h EncodePprof)
// to a Pyroscope-compatible server:
//   POST {url}/ingest?name=<app>{k=v,...}&from=<unix s>&until=<unix s>&format=pprof[&sampleRate=N]
// with the profile as the raw request body (Content-Type
// application/octet-stream). Pyroscope's ingest handler reads a body that is
// not multipart/form-data as the profile itself; the multipart form (field
// `profile`) is only needed for a `prev_profile` or `sample_type_config`,
// which waitscope does not send. The pprof bytes are already gzip-compressed,
// so no Content-Encoding is added.
//
// Delivery, retry and spooling are those of the OTLP exporter (sender.h); the
// ingest query is stored with each spooled profile, so a late profile keeps
// its from/until.
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"
#include "otlp/options.h"
#include "otlp/sender.h"

namespace waitscope::otlp {

class PyroscopePusher {
 public:
  static Result<std::unique_ptr<PyroscopePusher>> Create(const PyroscopeOptions& options);

  // Queues one profile covering [from_unix_s, until_unix_s].
  void Push(std::string pprof_gz, std::int64_t from_unix_s, std::int64_t until_unix_s);

  SenderStats Stats() const { return sender_->Stats(); }
  bool WaitIdle(std::chrono::milliseconds timeout) { return sender_->WaitIdle(timeout); }
  void Stop(std::chrono::milliseconds drain) { sender_->Stop(drain); }

 private:
  explicit PyroscopePusher(PyroscopeOptions options) : options_(std::move(options)) {}

  PyroscopeOptions options_;
  std::unique_ptr<Sender> sender_;
};

// The query string after "/ingest?" (exposed for tests): name is
// app_name{labels} percent-encoded (RFC 3986 unreserved characters kept).
std::string PyroscopeIngestQuery(const PyroscopeOptions& options, std::int64_t from_unix_s,
                                 std::int64_t until_unix_s);

std::string PercentEncode(std::string_view text);

}  // namespace waitscope::otlp
