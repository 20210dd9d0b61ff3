#include "findings/event_stream.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <type_traits>

#include "protocols/detect.h"

namespace waitscope::findings {
namespace {

using nlohmann::json;
// Lines are written in field order ("type" first): easier to review in git.
using ojson = nlohmann::ordered_json;

constexpr std::string_view kFormat = "waitscope-events";
constexpr std::string_view kClockNote =
    "CLOCK_MONOTONIC ns of the recording machine (bpf_ktime_get_ns); only differences matter";
// Longer lines are not ours (the longest real line is a stack of ~127 frames).
constexpr std::size_t kMaxLineBytes = 1 << 20;
// Our lines nest at most 3 deep (stack -> frames -> frame).
constexpr int kMaxDepth = 8;

struct GzClose {
  void operator()(gzFile f) const { gzclose(f); }
};
using GzHandle = std::unique_ptr<std::remove_pointer_t<gzFile>, GzClose>;

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string GzErrorText(gzFile f) {
  int code = 0;
  const char* text = gzerror(f, &code);
  if (code == Z_ERRNO) return std::strerror(errno);
  return text && *text ? text : "unknown error";
}

std::optional<protocols::Protocol> ParseProtocol(std::string_view name) {
  using protocols::Protocol;
  for (Protocol p : {Protocol::kUnknown, Protocol::kPostgres, Protocol::kMysql, Protocol::kRedis,
                     Protocol::kHttp1}) {
    if (protocols::ProtocolName(p) == name) return p;
  }
  return std::nullopt;
}

// Strings from the parsers may hold invalid UTF-8 (a raw path, a binary
// Redis key): replaced rather than refused, the trace goes on.
std::string Dump(const ojson& j) {
  return j.dump(-1, ' ', false, ojson::error_handler_t::replace);
}

void PutOrigin(ojson& j, const ExchangeOrigin& o) {
  j["pid"] = o.pid;
  j["tid"] = o.tid;
  if (o.server) j["server"] = true;
  j["peer"] = o.peer;
  j["protocol"] = o.protocol;
  j["conn"] = o.conn_id;
}

// Nesting deeper than any of our lines: refused before parsing.
bool TooDeep(std::string_view line) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

// Typed field access that never throws: a missing optional field keeps its
// default, a present one of the wrong type is an error.
class Fields {
 public:
  explicit Fields(const json& j) : j_(j) {}
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  template <typename T>
  void Uint(const char* key, T& out, bool required = true) {
    const json* v = Find(key, required);
    if (!v) return;
    if (!v->is_number_unsigned()) return Bad(key, "a non-negative integer");
    const auto n = v->get<std::uint64_t>();
    if (n > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) {
      return Bad(key, "a smaller number");
    }
    out = static_cast<T>(n);
  }
  void Int(const char* key, std::int64_t& out) {
    const json* v = Find(key, false);
    if (!v) return;
    if (!v->is_number_integer()) return Bad(key, "an integer");
    out = v->get<std::int64_t>();
  }
  void Int(const char* key, int& out) {
    std::int64_t n = out;
    Int(key, n);
    if (n < std::numeric_limits<int>::min() || n > std::numeric_limits<int>::max()) {
      return Bad(key, "a smaller number");
    }
    out = static_cast<int>(n);
  }
  void Double(const char* key, double& out) {
    const json* v = Find(key, true);
    if (!v) return;
    if (!v->is_number()) return Bad(key, "a number");
    out = v->get<double>();
  }
  void String(const char* key, std::string& out, bool required = true) {
    const json* v = Find(key, required);
    if (!v) return;
    if (!v->is_string()) return Bad(key, "a string");
    out = v->get<std::string>();
  }
  void Bool(const char* key, bool& out) {
    const json* v = Find(key, false);
    if (!v) return;
    if (!v->is_boolean()) return Bad(key, "true or false");
    out = v->get<bool>();
  }
  void Origin(ExchangeOrigin& o) {
    Uint("pid", o.pid);
    Uint("tid", o.tid);
    Bool("server", o.server);
    String("peer", o.peer);
    String("protocol", o.protocol);
    Uint("conn", o.conn_id);
  }
  void Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
  }

 private:
  const json* Find(const char* key, bool required) {
    if (!ok()) return nullptr;
    auto it = j_.find(key);
    if (it == j_.end()) {
      if (required) Fail(std::string("missing \"") + key + "\"");
      return nullptr;
    }
    return &*it;
  }
  void Bad(const char* key, const char* want) {
    Fail(std::string("\"") + key + "\" must be " + want);
  }

  const json& j_;
  std::string error_;
};

// One stream's parse state: the header must come first, stacks before the
// waits that name them.
class LineParser {
 public:
  // Fills `out` (or leaves it empty for header and stack lines); an error
  // message otherwise.
  std::string Parse(std::string_view line, std::optional<StreamEvent>& out, EventStream& stream) {
    if (TooDeep(line)) return "nested too deeply";
    const json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return "not valid JSON";
    if (!j.is_object()) return "not a JSON object";
    Fields f(j);
    std::string type;
    f.String("type", type);
    if (!f.ok()) return f.error();
    if (!header_seen_) {
      if (type != "header") return "the first line must be the header (is this an event stream?)";
      return ParseHeader(f, stream);
    }
    if (type == "stack") return ParseStack(j, f);
    if (type == "wait") return ParseWait(f, out);
    if (type == "exchange") return ParseExchange(f, out);
    if (type == "connect") return ParseConnect(f, out);
    if (type == "tls") return ParseTls(f, out);
    if (type == "flush") {
      StreamFlush e;
      f.Uint("now_ns", e.now_ns);
      if (f.ok()) out = e;
      return f.error();
    }
    if (type == "end") {
      StreamEnd e;
      f.Double("duration_s", e.duration_s);
      if (f.ok()) out = e;
      return f.error();
    }
    if (type == "header") return "a second header";
    return "unknown type \"" + type + "\"";
  }

  bool header_seen() const { return header_seen_; }

 private:
  std::string ParseHeader(Fields& f, EventStream& stream) {
    std::string format;
    int version = 0;
    f.String("format", format);
    f.Int("version", version);
    f.String("waitscope", stream.waitscope_version, false);
    if (!f.ok()) return f.error();
    if (format != kFormat) return "format \"" + format + "\" is not " + std::string(kFormat);
    if (version != kEventStreamVersion) {
      return "format version " + std::to_string(version) + " (this build reads " +
             std::to_string(kEventStreamVersion) + ")";
    }
    header_seen_ = true;
    return {};
  }

  std::string ParseStack(const json& j, Fields& f) {
    std::uint64_t id = 0;
    f.Uint("id", id);
    if (!f.ok()) return f.error();
    auto it = j.find("frames");
    if (it == j.end() || !it->is_array()) return "\"frames\" must be an array";
    std::vector<Frame> frames;
    frames.reserve(it->size());
    for (const json& frame : *it) {
      if (!frame.is_array() || frame.size() != 2 || !frame[0].is_string() ||
          !frame[1].is_string()) {
        return "each frame must be [\"name\", \"module\"]";
      }
      frames.push_back(Frame{frame[0].get<std::string>(), frame[1].get<std::string>()});
    }
    if (!stacks_.emplace(id, std::make_shared<const std::vector<Frame>>(std::move(frames))).second)
      return "stack " + std::to_string(id) + " defined twice";
    return {};
  }

  std::string ParseWait(Fields& f, std::optional<StreamEvent>& out) {
    WaitEvent w;
    std::string wait_class;
    f.Uint("pid", w.pid);
    f.Uint("tid", w.tid);
    f.Uint("end_ns", w.end_ns);
    f.Uint("blocked_ns", w.blocked_ns);
    f.String("syscall", w.syscall);
    f.String("target", w.target);
    f.String("class", wait_class);
    std::uint64_t id = 0;
    f.Uint("stack", id, false);
    if (!f.ok()) return f.error();
    const std::optional<WaitClass> c = ParseWaitClass(wait_class);
    if (!c) return "unknown wait class \"" + wait_class + "\"";
    w.wait_class = *c;
    if (id != 0) {
      auto it = stacks_.find(id);
      if (it == stacks_.end()) return "stack " + std::to_string(id) + " not defined before";
      w.frames = it->second;
    }
    out = std::move(w);
    return {};
  }

  std::string ParseExchange(Fields& f, std::optional<StreamEvent>& out) {
    StreamExchange e;
    protocols::Exchange& x = e.exchange;
    std::string parser;
    f.Origin(e.origin);
    f.String("parser", parser);
    f.String("statement", x.statement);
    f.Uint("request_end_ns", x.request_end_ns);
    f.Uint("response_end_ns", x.response_end_ns);
    f.Bool("answered", x.answered);
    f.Bool("error", x.error);
    f.String("error_code", x.error_code, false);
    f.Int("rows", x.rows);
    f.Uint("cache_reads", x.cache_reads, false);
    f.Uint("cache_hits", x.cache_hits, false);
    f.String("http_method", x.http_method, false);
    f.String("http_route", x.http_route, false);
    f.Int("http_status", x.http_status);
    if (!f.ok()) return f.error();
    const std::optional<protocols::Protocol> p = ParseProtocol(parser);
    if (!p) return "unknown parser \"" + parser + "\"";
    x.protocol = *p;
    out = std::move(e);
    return {};
  }

  static std::string ParseConnect(Fields& f, std::optional<StreamEvent>& out) {
    ClientConnectionUse u;
    f.Uint("pid", u.pid);
    f.Uint("tid", u.tid);
    f.Uint("conn", u.conn_id);
    f.String("peer", u.peer);
    f.String("protocol", u.protocol);
    f.Uint("opened_ns", u.opened_ns);
    f.Uint("connect_ns", u.connect_ns, false);
    if (!f.ok()) return f.error();
    out = std::move(u);
    return {};
  }

  static std::string ParseTls(Fields& f, std::optional<StreamEvent>& out) {
    StreamHandshake e;
    protocols::tls::Handshake& h = e.handshake;
    f.Origin(e.origin);
    f.String("version", h.version);
    f.Bool("resumed", h.resumed);
    f.Bool("hello_retry", h.hello_retry);
    f.Bool("failed", h.failed);
    f.Uint("alert", h.alert, false);
    f.Uint("start_ns", h.start_ns);
    f.Uint("end_ns", h.end_ns);
    f.Uint("round_trips", h.round_trips, false);
    if (!f.ok()) return f.error();
    out = std::move(e);
    return {};
  }

  bool header_seen_ = false;
  std::unordered_map<std::uint64_t, std::shared_ptr<const std::vector<Frame>>> stacks_;
};

}  // namespace

struct EventStreamWriter::File {
  GzHandle gz;
};

EventStreamWriter::EventStreamWriter(std::unique_ptr<File> file, std::string path,
                                     WireObserver* next)
    : file_(std::move(file)), path_(std::move(path)), next_(next) {}

EventStreamWriter::~EventStreamWriter() = default;

Result<std::unique_ptr<EventStreamWriter>> EventStreamWriter::Open(
    const std::string& path, std::string_view waitscope_version, WireObserver* next) {
  // "T": zlib's transparent mode, a plain file through the same calls.
  const char* mode = EndsWith(path, ".gz") ? "wb6" : "wbT";
  errno = 0;
  GzHandle gz(gzopen(path.c_str(), mode));
  if (!gz) {
    return Error{"cannot create event stream '" + path +
                 "': " + (errno ? std::strerror(errno) : "out of memory")};
  }
  auto file = std::make_unique<File>();
  file->gz = std::move(gz);
  std::unique_ptr<EventStreamWriter> w(new EventStreamWriter(std::move(file), path, next));
  w->WriteLine(Dump(ojson{{"type", "header"},
                          {"format", kFormat},
                          {"version", kEventStreamVersion},
                          {"waitscope", waitscope_version},
                          {"clock", kClockNote}}));
  if (!w->status_.ok()) return w->status_.error();
  return w;
}

void EventStreamWriter::Fail(const std::string& why) {
  if (status_.ok()) status_ = Error{"cannot write event stream '" + path_ + "': " + why};
}

void EventStreamWriter::WriteLine(const std::string& line) {
  if (!file_ || !status_.ok()) return;
  if (gzwrite(file_->gz.get(), line.data(), static_cast<unsigned>(line.size())) <= 0 ||
      gzputc(file_->gz.get(), '\n') < 0) {
    Fail(GzErrorText(file_->gz.get()));
    return;
  }
  ++events_;
}

void EventStreamWriter::OnWait(const WaitEvent& w) {
  ojson j{{"type", "wait"},
          {"pid", w.pid},
          {"tid", w.tid},
          {"end_ns", w.end_ns},
          {"blocked_ns", w.blocked_ns},
          {"syscall", w.syscall},
          {"target", w.target},
          {"class", WaitClassName(w.wait_class)}};
  if (w.frames) {
    auto [it, added] = stack_ids_.try_emplace(w.frames.get(), stack_ids_.size() + 1, w.frames);
    if (added) {
      ojson frames = ojson::array();
      for (const Frame& f : *w.frames) frames.push_back({f.name, f.module});
      WriteLine(Dump(ojson{{"type", "stack"}, {"id", it->second.first}, {"frames", frames}}));
    }
    j["stack"] = it->second.first;
  }
  WriteLine(Dump(j));
}

void EventStreamWriter::OnFlush(std::uint64_t now_ns) {
  WriteLine(Dump(ojson{{"type", "flush"}, {"now_ns", now_ns}}));
}

void EventStreamWriter::OnExchange(const ExchangeOrigin& origin, const protocols::Exchange& x) {
  ojson j{{"type", "exchange"}};
  PutOrigin(j, origin);
  j["parser"] = protocols::ProtocolName(x.protocol);
  j["statement"] = x.statement;
  j["request_end_ns"] = x.request_end_ns;
  j["response_end_ns"] = x.response_end_ns;
  if (!x.answered) j["answered"] = false;
  if (x.error) j["error"] = true;
  if (!x.error_code.empty()) j["error_code"] = x.error_code;
  if (x.rows != -1) j["rows"] = x.rows;
  if (x.cache_reads) j["cache_reads"] = x.cache_reads;
  if (x.cache_hits) j["cache_hits"] = x.cache_hits;
  if (!x.http_method.empty()) j["http_method"] = x.http_method;
  if (!x.http_route.empty()) j["http_route"] = x.http_route;
  if (x.http_status) j["http_status"] = x.http_status;
  WriteLine(Dump(j));
  if (next_) next_->OnExchange(origin, x);
}

void EventStreamWriter::OnClientConnectionUse(const ClientConnectionUse& u) {
  ojson j{{"type", "connect"},       {"pid", u.pid},   {"tid", u.tid},
          {"conn", u.conn_id},       {"peer", u.peer}, {"protocol", u.protocol},
          {"opened_ns", u.opened_ns}};
  if (u.connect_ns) j["connect_ns"] = u.connect_ns;
  WriteLine(Dump(j));
  if (next_) next_->OnClientConnectionUse(u);
}

void EventStreamWriter::OnTlsHandshake(const ExchangeOrigin& origin,
                                       const protocols::tls::Handshake& h) {
  ojson j{{"type", "tls"}};
  PutOrigin(j, origin);
  j["version"] = h.version;
  if (h.resumed) j["resumed"] = true;
  if (h.hello_retry) j["hello_retry"] = true;
  if (h.failed) j["failed"] = true;
  if (h.alert) j["alert"] = h.alert;
  j["start_ns"] = h.start_ns;
  j["end_ns"] = h.end_ns;
  if (h.round_trips) j["round_trips"] = h.round_trips;
  WriteLine(Dump(j));
  if (next_) next_->OnTlsHandshake(origin, h);
}

Status EventStreamWriter::Close(double duration_s) {
  if (!file_) return status_;
  WriteLine(Dump(ojson{{"type", "end"}, {"duration_s", duration_s}}));
  const int rc = gzclose(file_->gz.release());
  file_.reset();
  if (rc != Z_OK) Fail(rc == Z_ERRNO ? std::strerror(errno) : "gzip error while closing");
  return status_;
}

Result<EventStream> ReadEventStream(const std::string& path) {
  errno = 0;
  // Reads gzip'd and plain files alike.
  GzHandle gz(gzopen(path.c_str(), "rb"));
  if (!gz) {
    return Error{"cannot open event stream '" + path +
                 "': " + (errno ? std::strerror(errno) : "out of memory")};
  }
  EventStream stream;
  LineParser parser;
  std::string line;
  std::vector<char> buf(64 * 1024);
  std::size_t line_no = 0;
  auto fail = [&](const std::string& what) {
    return Error{path + ":" + std::to_string(line_no) + ": " + what};
  };
  for (;;) {
    line.clear();
    bool complete = false;
    bool got = false;
    while (!complete) {
      const char* s = gzgets(gz.get(), buf.data(), static_cast<int>(buf.size()));
      if (!s) break;
      got = true;
      const std::size_t n = std::strlen(buf.data());
      // A NUL inside a line would end the chunk early: refuse it rather
      // than misread a line boundary.
      if (n + 1 < buf.size() && (n == 0 || buf[n - 1] != '\n') && !gzeof(gz.get())) {
        ++line_no;
        return fail("a NUL byte in the line");
      }
      line.append(buf.data(), n);
      if (!line.empty() && line.back() == '\n') {
        line.pop_back();
        complete = true;
      }
      if (line.size() > kMaxLineBytes) {
        ++line_no;
        return fail("line longer than 1 MiB");
      }
    }
    int code = 0;
    gzerror(gz.get(), &code);
    if (code != Z_OK) {  // a damaged or truncated gzip member
      ++line_no;
      return fail(GzErrorText(gz.get()));
    }
    if (!got) break;
    ++line_no;
    if (line.empty()) continue;
    std::optional<StreamEvent> event;
    if (std::string err = parser.Parse(line, event, stream); !err.empty()) return fail(err);
    if (event) stream.events.push_back(std::move(*event));
    if (!complete) break;  // the last line had no newline
  }
  if (!parser.header_seen()) return Error{path + ": empty, not an event stream"};
  return stream;
}

}  // namespace waitscope::findings
