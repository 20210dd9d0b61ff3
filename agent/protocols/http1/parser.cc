#include "protocols/http1/parser.h"

#include <string>
#include <utility>

#include "protocols/http1/head_parser.h"
#include "protocols/http1/route.h"
#include "protocols/http1/types.h"

namespace waitscope::protocols {
namespace http1 {
namespace {

// Bytes appended to a side's buffer at a time: parsing after each slice keeps
// the buffer at most one head (+ one slice), whatever size OnData gets.
constexpr std::size_t kSliceBytes = 64 * 1024;

enum class Boundary : std::uint8_t { kNo, kPrefix, kYes };

// Does `s` (at a line start) begin a request line / status line?
Boundary MatchBoundary(std::string_view s, bool request) {
  if (request) {
    std::size_t sp = s.find(' ');
    if (sp == std::string_view::npos) {
      return IsKnownMethodPrefix(s) || IsKnownMethod(s) ? Boundary::kPrefix : Boundary::kNo;
    }
    return IsKnownMethod(s.substr(0, sp)) ? Boundary::kYes : Boundary::kNo;
  }
  // "HTTP/1.x "
  constexpr std::string_view kPrefix = "HTTP/1.";
  std::size_t n = std::min(s.size(), kPrefix.size());
  if (s.substr(0, n) != kPrefix.substr(0, n)) return Boundary::kNo;
  if (s.size() <= kPrefix.size()) return Boundary::kPrefix;
  if (s[7] < '0' || s[7] > '9') return Boundary::kNo;
  if (s.size() == 8) return Boundary::kPrefix;
  return s[8] == ' ' ? Boundary::kYes : Boundary::kNo;
}

}  // namespace

void Http1Parser::OnData(Direction dir, std::string_view bytes, std::uint64_t ts_ns) {
  bool request = dir == Direction::kRequest;
  Side& side = request ? req_ : resp_;
  while (!bytes.empty() && !tunnel_ && !closed_) {
    std::string_view slice = bytes.substr(0, kSliceBytes);
    bytes.remove_prefix(slice.size());
    if (!side.buf.Append(slice, ts_ns)) {
      // Unreachable while heads are capped below the buffer cap; stay bounded anyway.
      ++stats_.parse_errors;
      side.buf.Clear();
      side.phase = Phase::kResync;
      side.at_line_start = false;
      (void)side.buf.Append(slice, ts_ns);
    }
    if (request) {
      ProcessRequests();
    } else {
      ProcessResponses();
    }
    // A final answer to an Upgrade/CONNECT request that kept the connection
    // in HTTP lets the paused request side go on; its requests must be known
    // before the next responses are matched.
    ResumeRequests();
  }
}

void Http1Parser::ResumeRequests() {
  while (resume_requests_ && !tunnel_ && !closed_) {
    resume_requests_ = false;
    if (req_.phase == Phase::kAwaitUpgrade) {
      req_.phase = req_.dropped_while_waiting ? Phase::kResync : Phase::kHead;
      if (req_.dropped_while_waiting) req_.at_line_start = false;
      req_.dropped_while_waiting = false;
    }
    ProcessRequests();
    ProcessResponses();
  }
}

void Http1Parser::OnGap(Direction dir, std::uint64_t missing_bytes) {
  if (tunnel_ || closed_ || missing_bytes == 0) return;
  bool request = dir == Direction::kRequest;
  Side& side = request ? req_ : resp_;
  switch (side.phase) {
    case Phase::kBody:
      if (side.buf.empty() && side.framer.SkipGap(missing_bytes)) {
        // Lost bytes were body bytes of known length: framing is intact.
        if (side.framer.done()) request ? ProcessRequests() : ProcessResponses();
        return;
      }
      // The head is known, the rest of the message is not: finish it now.
      if (request) {
        RequestFinished();
      } else {
        ResponseFinished(side.buf.last_ts_ns());
      }
      break;
    case Phase::kHead:
      // The gap swallowed (part of) a head: that message is lost, and its
      // partner must not be matched to the next one.
      if (request) {
        PushPending(true).req_done = true;
      } else {
        LoseResponseTarget();
      }
      break;
    case Phase::kAwaitUpgrade:
      side.buf.Clear();
      side.dropped_while_waiting = true;
      return;
    case Phase::kResync:
      break;
  }
  EnterResync(side, /*after_gap=*/true);
  ResumeRequests();
}

void Http1Parser::OnClose(std::uint64_t /*ts_ns: the last body byte's chunk time is the end*/) {
  if (closed_) return;
  if (!tunnel_) {
    if (resp_.phase == Phase::kBody && resp_.framer.until_close()) {
      ResponseFinished(resp_.buf.last_ts_ns());
    }
    // A response that came before its request body (early final status to
    // Expect: 100-continue): the body will not come any more.
    for (Pending& p : pending_) {
      if (p.resp_done && !p.req_done) {
        p.req_done = true;
        p.ex.request_end_ns = req_.buf.last_ts_ns();
      }
    }
    Emit();
  }
  closed_ = true;
  req_.buf.Clear();
  resp_.buf.Clear();
}

void Http1Parser::ProcessRequests() {
  while (!tunnel_ && !closed_) {
    switch (req_.phase) {
      case Phase::kHead:
        if (!RequestHead()) return;
        break;
      case Phase::kBody: {
        std::string_view data = req_.buf.data();
        if (data.empty() && !req_.framer.done()) return;
        BodyFramer::Step step = req_.framer.Feed(data);
        req_.buf.Consume(step.consumed);
        if (step.status == BodyFramer::Status::kError) {
          RequestError();
        } else if (step.status == BodyFramer::Status::kNeedMore) {
          return;
        } else {
          RequestFinished();
        }
        break;
      }
      case Phase::kAwaitUpgrade:
        // Bytes after an Upgrade/CONNECT request wait for the answer; if the
        // client streams more than a head's worth they are dropped.
        if (req_.buf.data().size() > kMaxHeadBytes) {
          req_.buf.Clear();
          req_.dropped_while_waiting = true;
        }
        return;
      case Phase::kResync:
        if (!Resync(req_, /*request=*/true)) return;
        break;
    }
  }
}

void Http1Parser::ProcessResponses() {
  while (!tunnel_ && !closed_) {
    switch (resp_.phase) {
      case Phase::kHead:
        if (!ResponseHead()) return;
        break;
      case Phase::kBody: {
        std::string_view data = resp_.buf.data();
        if (data.empty() && !resp_.framer.done()) return;
        BodyFramer::Step step = resp_.framer.Feed(data);
        resp_.buf.Consume(step.consumed);
        if (step.status == BodyFramer::Status::kError) {
          ResponseError();
        } else if (step.status == BodyFramer::Status::kNeedMore) {
          return;
        } else {
          ResponseFinished(resp_.buf.last_ts_ns());
        }
        break;
      }
      case Phase::kAwaitUpgrade:
        return;  // request side only
      case Phase::kResync:
        if (!Resync(resp_, /*request=*/false)) return;
        break;
    }
  }
}

// Common part of reading a head: returns the head's size once complete, 0 if
// more bytes are needed, npos if it is malformed.
std::size_t Http1Parser::CompleteHead(Side& side, bool request) {
  std::string_view data = side.buf.data();
  std::size_t end = FindHeadEnd(data, side.head_scan);
  if (end == std::string_view::npos) {
    side.head_scan = data.size();
    if (!side.start_line_ok) {
      ParseStatus st = CheckStartLine(data, request);
      if (st == ParseStatus::kError) return std::string_view::npos;
      side.start_line_ok = st == ParseStatus::kOk;
    }
    return data.size() > kMaxHeadBytes ? std::string_view::npos : 0;
  }
  side.head_scan = 0;
  side.start_line_ok = false;
  return end > kMaxHeadBytes ? std::string_view::npos : end;
}

bool Http1Parser::RequestHead() {
  // RFC 9112 §2.2: empty lines before a request line are ignored (some
  // clients send a CRLF after a POST body).
  std::string_view data = req_.buf.data();
  std::size_t blank = 0;
  while (blank < data.size() && (data[blank] == '\r' || data[blank] == '\n')) ++blank;
  if (blank > 0) {
    req_.buf.Consume(blank);
    data.remove_prefix(blank);
    req_.head_scan = 0;
  }
  if (data.empty()) return false;

  std::size_t end = CompleteHead(req_, /*request=*/true);
  if (end == 0) return false;
  MessageHead head;
  // A Transfer-Encoding other than chunked leaves a request's length unknown
  // (RFC 9112 §6.3: the server answers 400 and closes).
  if (end == std::string_view::npos ||
      ParseRequestHead(data.substr(0, end), &head) != ParseStatus::kOk || head.other_coding) {
    RequestError();
    return true;
  }

  // A new request on a connection whose response is close-delimited: that
  // response is over (see parser.h).
  if (resp_.phase == Phase::kBody && resp_.framer.until_close()) {
    ResponseFinished(resp_.buf.last_ts_ns());
  }

  Pending& p = PushPending(false);
  p.is_head = head.method == "HEAD";
  p.is_connect = head.method == "CONNECT";
  p.wants_upgrade = p.is_connect || head.has_upgrade;
  p.ex.protocol = Protocol::kHttp1;
  p.ex.http_method = std::string(head.method);
  p.ex.http_route = TemplateRoute(head.target);
  p.ex.statement =
      p.ex.http_method + " " + (options_.capture_values ? RawTarget(head.target) : p.ex.http_route);
  req_current_ = p.id;
  if (head.chunked) {
    req_.framer.StartChunked();
  } else if (head.content_length) {
    req_.framer.StartLength(*head.content_length);
  } else {
    req_.framer.StartNone();  // requests without framing headers have no body
  }
  req_.buf.Consume(end);
  req_.phase = Phase::kBody;
  return true;
}

bool Http1Parser::ResponseHead() {
  std::string_view data = resp_.buf.data();
  if (data.empty()) return false;
  std::size_t end = CompleteHead(resp_, /*request=*/false);
  if (end == 0) return false;
  MessageHead head;
  if (end == std::string_view::npos ||
      ParseResponseHead(data.substr(0, end), &head) != ParseStatus::kOk) {
    ResponseError();
    return true;
  }

  Pending* t = ResponseTarget();
  if (t == nullptr) {
    // Requests unlocked by an Upgrade refusal are still unparsed: wait.
    if (resume_requests_) return false;
    // A response to a request we never saw (parser started mid-connection,
    // or a lost request): framed normally, reported as unmatched.
    t = &PushPending(true);
    t->req_done = true;
  }
  resp_.buf.Consume(end);
  int status = head.status;
  bool tunnel = status == 101 || (t->is_connect && status >= 200 && status < 300);
  if (status < 200 && !tunnel) return true;  // interim (100 Continue): the final one follows

  t->ex.http_status = status;
  if (status >= 500) {
    t->ex.error = true;
    t->ex.error_code = std::to_string(status);
  }
  if (tunnel) {
    ResponseFinished(resp_.buf.last_ts_ns());
    EnterTunnel();
    return false;
  }
  if (req_.phase == Phase::kAwaitUpgrade && t->id == await_id_) resume_requests_ = true;

  // RFC 9112 §6.3 message body length, in its order.
  if (t->is_head || status == 204 || status == 304) {
    resp_.framer.StartNone();
  } else if (head.chunked) {
    resp_.framer.StartChunked();
  } else if (head.other_coding) {
    resp_.framer.StartUntilClose();
  } else if (head.content_length) {
    resp_.framer.StartLength(*head.content_length);
  } else {
    resp_.framer.StartUntilClose();
  }
  resp_.phase = Phase::kBody;
  return true;
}

bool Http1Parser::Resync(Side& side, bool request) {
  std::string_view data = side.buf.data();
  std::size_t p = 0;
  if (!side.at_line_start) {
    p = data.find('\n');
    p = p == std::string_view::npos ? data.size() : p + 1;
  }
  while (p < data.size()) {
    Boundary b = MatchBoundary(data.substr(p), request);
    if (b == Boundary::kYes) {
      side.buf.Consume(p);
      side.phase = Phase::kHead;
      side.head_scan = 0;
      side.start_line_ok = false;
      ++stats_.resyncs;
      return true;
    }
    if (b == Boundary::kPrefix) {  // a possible start cut off at the end: keep it
      side.buf.Consume(p);
      side.at_line_start = true;
      return false;
    }
    std::size_t nl = data.find('\n', p);
    if (nl == std::string_view::npos) break;
    p = nl + 1;
  }
  if (!data.empty()) side.at_line_start = data.back() == '\n';
  side.buf.Consume(data.size());
  return false;
}

void Http1Parser::EnterResync(Side& side, bool after_gap) {
  side.phase = Phase::kResync;
  side.head_scan = 0;
  side.start_line_ok = false;
  if (after_gap) {
    // Bytes after a gap may start exactly at a message boundary.
    side.buf.Clear();
    side.at_line_start = true;
    return;
  }
  // Skip the byte where parsing failed so the same start is not retried.
  std::string_view data = side.buf.data();
  side.at_line_start = !data.empty() && data[0] == '\n';
  side.buf.Consume(1);
}

void Http1Parser::RequestFinished() {
  Pending* p = FindRequest(req_current_);
  bool await = false;
  if (p != nullptr) {
    p->req_done = true;
    p->ex.request_end_ns = req_.buf.last_ts_ns();
    // Until the answer to Upgrade/CONNECT is known, the next client bytes may
    // be another protocol.
    await = p->wants_upgrade && p->ex.http_status == 0;
    if (await) await_id_ = p->id;
  }
  req_current_ = 0;
  req_.phase = await ? Phase::kAwaitUpgrade : Phase::kHead;
  Emit();
}

void Http1Parser::ResponseFinished(std::uint64_t ts_ns) {
  resp_.phase = Phase::kHead;
  Pending* t = ResponseTarget();
  if (t == nullptr) return;
  t->resp_done = true;
  t->ex.response_end_ns = ts_ns;
  if (t->placeholder) ++stats_.unmatched_responses;
  Emit();
}

void Http1Parser::RequestError() {
  ++stats_.parse_errors;
  if (req_.phase == Phase::kBody) {
    // Head known, body framing broken: keep the exchange, its response comes.
    RequestFinished();
  } else {
    // An unreadable head: its response must not be matched to the next one.
    PushPending(true).req_done = true;
  }
  EnterResync(req_, /*after_gap=*/false);
}

void Http1Parser::ResponseError() {
  ++stats_.parse_errors;
  if (resp_.phase == Phase::kBody) {
    ResponseFinished(resp_.buf.last_ts_ns());  // status known, body broken
  } else {
    LoseResponseTarget();  // an unreadable status line answered the oldest request
  }
  EnterResync(resp_, /*after_gap=*/false);
}

void Http1Parser::LoseResponseTarget() {
  Pending* t = ResponseTarget();
  if (t == nullptr) return;
  t->placeholder = true;  // not reported: no status
  t->resp_done = true;
  if (req_.phase == Phase::kAwaitUpgrade && t->id == await_id_) resume_requests_ = true;
  Emit();
}

Http1Parser::Pending* Http1Parser::FindRequest(std::uint64_t id) {
  for (auto it = pending_.rbegin(); it != pending_.rend(); ++it) {
    if (it->id == id) return &*it;
  }
  return nullptr;
}

Http1Parser::Pending* Http1Parser::ResponseTarget() {
  for (Pending& p : pending_) {
    if (!p.resp_done) return &p;
  }
  return nullptr;
}

Http1Parser::Pending& Http1Parser::PushPending(bool placeholder) {
  if (pending_.size() >= kMaxPending) {
    ++stats_.parse_errors;  // far deeper than any real pipeline: we lost track
    pending_.pop_front();
  }
  Pending& p = pending_.emplace_back();
  p.id = next_id_++;
  p.placeholder = placeholder;
  return p;
}

void Http1Parser::EnterTunnel() {
  tunnel_ = true;
  req_.buf.Clear();
  resp_.buf.Clear();
}

void Http1Parser::Emit() {
  while (!pending_.empty() && pending_.front().req_done && pending_.front().resp_done) {
    if (!pending_.front().placeholder) done_.push_back(std::move(pending_.front().ex));
    pending_.pop_front();
  }
}

}  // namespace http1

bool LooksLikeHttp1Request(std::string_view first_bytes) {
  std::size_t sp = first_bytes.find(' ');
  if (sp == std::string_view::npos || sp > http1::kMaxMethodBytes) return false;
  return http1::IsKnownMethod(first_bytes.substr(0, sp));
}

std::unique_ptr<ConnectionParser> MakeHttp1Parser(const ParserOptions& options) {
  return std::make_unique<http1::Http1Parser>(options);
}

}  // namespace waitscope::protocols
