#include "otlp/pyroscope_pusher.h"

#include <cctype>

namespace waitscope::otlp {

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xF]);
    }
  }
  return out;
}

std::string PyroscopeIngestQuery(const PyroscopeOptions& options, std::int64_t from_unix_s,
                                 std::int64_t until_unix_s) {
  std::string name = options.app_name;
  if (!options.labels.empty()) {
    name += '{';
    for (std::size_t i = 0; i < options.labels.size(); ++i) {
      if (i > 0) name += ',';
      name += options.labels[i].first + '=' + options.labels[i].second;
    }
    name += '}';
  }
  std::string query = "name=" + PercentEncode(name) + "&from=" + std::to_string(from_unix_s) +
                      "&until=" + std::to_string(until_unix_s) + "&format=pprof";
  if (options.sample_rate > 0) query += "&sampleRate=" + std::to_string(options.sample_rate);
  return query;
}

Result<std::unique_ptr<PyroscopePusher>> PyroscopePusher::Create(const PyroscopeOptions& options) {
  if (options.url.empty()) return Error{"Pyroscope push needs a server URL"};
  std::unique_ptr<PyroscopePusher> pusher(new PyroscopePusher(options));
  SenderConfig config;
  config.name = "Pyroscope";
  config.http = HttpOptionsOf(options);
  config.retry = options.retry;
  config.spool.dir = options.spool_dir;
  config.spool.max_bytes = options.spool_max_bytes;
  config.content_type = "application/octet-stream";
  config.gzip = false;  // pprof is gzipped already
  std::string base = options.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  config.url_for = [base](const std::string& route) { return base + "/ingest?" + route; };
  auto sender = Sender::Start(std::move(config));
  if (!sender) return sender.error();
  pusher->sender_ = std::move(*sender);
  return pusher;
}

void PyroscopePusher::Push(std::string pprof_gz, std::int64_t from_unix_s,
                           std::int64_t until_unix_s) {
  sender_->Enqueue(PyroscopeIngestQuery(options_, from_unix_s, until_unix_s), std::move(pprof_gz));
}

}  // namespace waitscope::otlp
