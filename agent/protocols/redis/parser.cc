#include "protocols/redis/parser.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/ring_queue.h"
#include "protocols/common/ascii.h"
#include "protocols/common/stream_buffer.h"
#include "protocols/redis/normalize.h"
#include "protocols/redis/resp_decoder.h"
#include "protocols/redis/types.h"

namespace waitscope::protocols {
namespace redis {
namespace {

// Commands waiting for replies; a client pipelining deeper than this is
// treated as lost sync rather than allowed to grow memory without bound.
constexpr std::size_t kMaxPending = 8192;
constexpr std::size_t kMaxErrorCodeBytes = 32;

// The (P|S)(UN)SUBSCRIBE kinds, lowercase as the server's confirmations name them.
constexpr std::string_view kConfirmationKinds[] = {"subscribe",   "psubscribe",   "ssubscribe",
                                                   "unsubscribe", "punsubscribe", "sunsubscribe"};

bool IsConfirmationKind(std::string_view k) {
  return std::find(std::begin(kConfirmationKinds), std::end(kConfirmationKinds), k) !=
         std::end(kConfirmationKinds);
}

// The confirmation kind an uppercased command name asks for ("SUBSCRIBE" ->
// "subscribe"), or empty: compared without lowercasing the name first (no
// allocation per command).
std::string_view SubscribeKind(std::string_view name) {
  for (std::string_view kind : kConfirmationKinds) {
    if (kind.size() == name.size() &&
        std::equal(kind.begin(), kind.end(), name.begin(),
                   [](char l, char u) { return u == static_cast<char>(l - 'a' + 'A'); })) {
      return kind;
    }
  }
  return {};
}

StateCommand StateCommandOf(std::string_view name) {
  if (name == "MULTI") return StateCommand::kMulti;
  if (name == "EXEC") return StateCommand::kExec;
  if (name == "DISCARD") return StateCommand::kDiscard;
  if (name == "MONITOR") return StateCommand::kMonitor;
  if (name == "RESET") return StateCommand::kReset;
  return StateCommand::kNone;
}

bool IsMessageKind(std::string_view k) {
  return k == "message" || k == "pmessage" || k == "smessage";
}

// "WRONGTYPE Operation against..." -> "WRONGTYPE". Only the leading code
// word leaves the parser: the rest of a message can quote keys or values.
std::string ErrorCode(std::string_view text) {
  std::string code;
  for (char c : text) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok || code.size() == kMaxErrorCodeBytes) break;
    code.push_back(c);
  }
  return code.empty() ? std::string("ERR") : code;
}

void CountCache(CacheRead kind, const ValueSummary& v, Exchange* e) {
  if (v.is_error) return;
  if (kind == CacheRead::kSingle) {
    e->cache_reads += 1;
    if (!v.is_null) e->cache_hits += 1;
  } else if (kind == CacheRead::kMulti && v.elements >= 0) {
    e->cache_reads += v.child_values + v.child_nulls;
    e->cache_hits += v.child_values;
  }
}

class RedisParser final : public ConnectionParser {
 public:
  explicit RedisParser(const ParserOptions& options) : options_(options) {}

  void OnData(Direction dir, std::string_view bytes, std::uint64_t ts_ns) override {
    Side& s = side(dir);
    if (!s.buf.Append(bytes, ts_ns)) {
      // The message at the front cannot fit in kMaxBufferedBytes: drop it.
      ++stats_.parse_errors;
      StartResync(dir, /*at_boundary=*/false);
      if (!s.buf.Append(bytes, ts_ns)) s.buf.Clear();
    }
    Drain(dir);
  }

  void OnGap(Direction dir, std::uint64_t missing_bytes) override {
    if (missing_bytes == 0) return;
    if (SkipGapInBulk(dir, missing_bytes)) return;
    // Syscalls carry whole writes, so data after a gap usually starts at a
    // message boundary: try there first, then scan.
    StartResync(dir, /*at_boundary=*/true);
  }

 private:
  struct Side {
    StreamBuffer buf;
    bool resync = false;       // looking for a message boundary
    bool at_boundary = false;  // the buffer starts where a chunk started, after a gap
    std::size_t need = 0;      // do not decode before the buffer holds this many bytes
  };

  Side& side(Direction dir) { return dir == Direction::kRequest ? req_ : resp_; }

  // --capture-bytes cut a large write inside a bulk string ($len), whose
  // length is known: the lost bytes are that string's payload (and maybe its
  // closing CRLF). The parser never looks at payload bytes beyond keys, so it
  // stands them in with '?' and keeps the message. False if the gap reaches
  // past the string (the next header is lost) or the buffer is not inside a
  // bulk payload.
  bool SkipGapInBulk(Direction dir, std::uint64_t n) {
    Side& s = side(dir);
    if (s.resync || s.buf.empty()) return false;
    std::string_view data = s.buf.data();
    DecodeResult r = Decode(dir, data);
    if (r.status != DecodeStatus::kNeedMore || r.payload_end == 0 || r.payload_end < data.size())
      return false;
    const std::size_t payload_left = r.payload_end - data.size();
    if (n > payload_left + 2) return false;
    std::string filler(std::min<std::size_t>(payload_left, n), '?');
    filler.append(std::string_view("\r\n").substr(0, n - filler.size()));
    if (!s.buf.Append(filler, s.buf.last_ts_ns())) return false;
    s.need = 0;
    Drain(dir);
    return true;
  }

  DecodeResult Decode(Direction dir, std::string_view data) {
    return dir == Direction::kRequest ? DecodeRequest(data, &request_) : DecodeReply(data, &reply_);
  }

  void StartResync(Direction dir, bool at_boundary) {
    Side& s = side(dir);
    s.buf.Clear();
    s.need = 0;
    s.resync = true;
    s.at_boundary = at_boundary;
    LoseSync();
  }

  // We no longer know which reply belongs to which command: forget the
  // commands in flight, and match the next reply only to a command sent
  // before that reply arrived (see OnReply).
  void LoseSync() {
    stats_.exchanges_lost += pending_.size();
    pending_.clear();
    desynced_ = true;
    ReleaseQueued();
    tx_broken_ = true;  // EXEC's results can no longer be paired with commands
  }

  // Reports the commands held since their +QUEUED as they were (whether
  // EXEC ran them is not known any more).
  void ReleaseQueued() {
    done_.insert(done_.end(), std::make_move_iterator(queued_.begin()),
                 std::make_move_iterator(queued_.end()));
    ClearQueued();
  }

  void ClearQueued() {
    queued_.clear();
    queued_cache_.clear();
  }

  void Drain(Direction dir) {
    Side& s = side(dir);
    while (!s.buf.empty()) {
      if (s.resync && !Resync(dir)) return;
      std::string_view data = s.buf.data();
      if (data.size() < s.need) return;
      DecodeResult r = Decode(dir, data);
      if (r.status == DecodeStatus::kNeedMore) {
        if (r.need_total > kMaxBufferedBytes) {  // will never fit: skip it
          ++stats_.parse_errors;
          StartResync(dir, /*at_boundary=*/false);
          return;
        }
        s.need = r.need_total;
        return;
      }
      s.need = 0;
      if (r.status == DecodeStatus::kInvalid) {
        ++stats_.parse_errors;
        LoseSync();
        s.resync = true;
        s.at_boundary = false;
        s.buf.Consume(1);  // scan for the next boundary after this position
        continue;
      }
      if (dir == Direction::kRequest) {
        OnRequest(s.buf.last_ts_ns());
      } else {
        OnReply(s.buf.last_ts_ns());
      }
      s.buf.Consume(r.consumed);
    }
  }

  // Moves the buffer front to a plausible message start. True if found;
  // false if more data is needed (the buffer keeps only a possible partial
  // "\r\n" so a boundary split across chunks is still found).
  bool Resync(Direction dir) {
    Side& s = side(dir);
    std::string_view data = s.buf.data();
    auto plausible = [&](std::string_view at) {
      if (dir == Direction::kRequest ? !IsRequestStart(at) : !IsReplyStart(at)) return false;
      return Decode(dir, at).status != DecodeStatus::kInvalid;
    };
    bool found = false;
    if (s.at_boundary) {
      s.at_boundary = false;
      // At a chunk start an inline command is believable too.
      found = dir == Direction::kRequest ? Decode(dir, data).status != DecodeStatus::kInvalid
                                         : plausible(data);
    }
    for (std::size_t crlf = data.find("\r\n"); !found && crlf != std::string_view::npos;
         crlf = data.find("\r\n", crlf + 1)) {
      std::size_t at = crlf + 2;
      if (at >= data.size()) break;
      if (plausible(data.substr(at))) {
        s.buf.Consume(at);
        found = true;
      }
    }
    if (found) {
      s.resync = false;
      ++stats_.resyncs;
      return true;
    }
    std::size_t keep = data.ends_with("\r\n") ? 2 : data.ends_with('\r') ? 1 : 0;
    s.buf.Consume(data.size() - keep);
    return false;
  }

  void OnRequest(std::uint64_t ts) {
    if (request_.no_reply) return;
    NormalizedCommand n = NormalizeCommand(request_.args, options_.capture_values);
    const std::string_view name = n.name();  // into n.statement: used before it moves
    if (!Answered(name)) {
      // Run, counted, never answered: waiting for its reply would pair
      // every later reply with the command before it.
      Exchange& e = done_.emplace_back();
      e.protocol = Protocol::kRedis;
      e.statement = std::move(n.statement);
      e.request_end_ns = e.response_end_ns = ts;
      e.answered = false;
      return;
    }
    if (pending_.size() >= kMaxPending) LoseSync();
    PendingCommand& cmd = pending_.emplace_back();  // built in place: the hot path
    cmd.cache = n.cache;
    cmd.state = StateCommandOf(name);
    cmd.request_end_ns = ts;
    cmd.pubsub_kind = SubscribeKind(name);
    if (!cmd.pubsub_kind.empty()) {
      // One confirmation per channel named; UNSUBSCRIBE without channels
      // completes at the first confirmation (the rest are then ignored).
      cmd.confirmations_left =
          static_cast<std::uint32_t>(std::max<std::size_t>(1, request_.args.size() - 1));
    }
    cmd.statement = std::move(n.statement);
  }

  // Whether the server answers this command, after CLIENT REPLY: ON
  // answers (+OK) and ends OFF; OFF and SKIP are not answered, OFF silences
  // every later command and SKIP (unless OFF) the next one only; RESET ends
  // OFF too. The order is Redis's: a command's own flags first, then the
  // skip moves on (networking.c: clientCommand, resetClient,
  // clearClientConnectionState).
  bool Answered(std::string_view name) {
    bool answered = !reply_off_ && !reply_skip_;
    bool skip_next = false;
    if (name == "RESET") {
      reply_off_ = false;  // answered (+RESET) unless this very command is skipped
      answered = !reply_skip_;
    } else if (name == "CLIENT" && request_.args.size() == 3 &&
               EqualsIgnoreCase(request_.args[1], "REPLY")) {
      const std::string_view mode = request_.args[2];
      if (EqualsIgnoreCase(mode, "ON")) {
        reply_off_ = false;
        answered = true;
      } else if (EqualsIgnoreCase(mode, "OFF")) {
        reply_off_ = true;
        answered = false;
      } else if (EqualsIgnoreCase(mode, "SKIP")) {
        skip_next = !reply_off_;
        answered = false;
      }
    }
    reply_skip_ = skip_next;
    return answered;
  }

  void OnReply(std::uint64_t ts) {
    if (monitor_) return;  // everything after MONITOR's +OK is monitor output
    const ValueSummary& v = reply_.value;
    const bool push = v.type == '>';
    std::string_view kind;
    if ((push || v.type == '*') && !reply_.children.empty() &&
        (reply_.children[0].type == '$' || reply_.children[0].type == '+')) {
      kind = reply_.children[0].text;
    }
    const bool head_is_pubsub = !pending_.empty() && !pending_.front().pubsub_kind.empty();
    if (IsConfirmationKind(kind) && reply_.children.size() == 3 && reply_.children[2].type == ':' &&
        (push || subscribed_ || head_is_pubsub)) {
      subscribed_ = reply_.children[2].text != "0";
      if (head_is_pubsub && pending_.front().pubsub_kind == kind &&
          --pending_.front().confirmations_left == 0) {
        Complete(pending_.front(), ts);
        pending_.pop_front();
      }
      return;  // a confirmation nobody waits for is out of band
    }
    if (push) return;
    if (subscribed_ && v.type == '*' && IsMessageKind(kind)) return;
    if (pending_.empty()) {
      ++stats_.unmatched_responses;
      return;
    }
    if (desynced_) {
      if (ts <= pending_.front().request_end_ns) {
        ++stats_.unmatched_responses;  // answers a command we lost
        return;
      }
      desynced_ = false;
    }
    Complete(pending_.front(), ts);
    pending_.pop_front();
  }

  // Reports `cmd` (moving its statement out); the caller then drops it.
  void Complete(PendingCommand& cmd, std::uint64_t ts) {
    const ValueSummary& v = reply_.value;
    Exchange& e = done_.emplace_back();  // built in place: the hot path
    e.protocol = Protocol::kRedis;
    e.statement = std::move(cmd.statement);
    e.request_end_ns = cmd.request_end_ns;
    e.response_end_ns = ts;
    if (v.is_error) {
      e.error = true;
      e.error_code = ErrorCode(v.text);
    }
    if (v.elements >= 0) e.rows = v.elements;
    // Only a command queued by MULTI is answered with the status +QUEUED.
    if (v.type == '+' && v.text == "QUEUED") {
      // Held until EXEC says whether it ran (the server counts it only then).
      if (queued_.size() < kMaxReplyChildren && !tx_broken_) {
        queued_.push_back(std::move(e));
        queued_cache_.push_back(cmd.cache);
        done_.pop_back();
      }
      return;
    }
    CountCache(cmd.cache, v, &e);

    if (cmd.state == StateCommand::kMulti && !v.is_error) {
      ClearQueued();
      tx_broken_ = false;
    } else if (cmd.state == StateCommand::kExec || cmd.state == StateCommand::kDiscard) {
      if (cmd.state == StateCommand::kExec && v.elements >= 0 && !tx_broken_) {
        // EXEC's array holds the queued commands' replies, in order: each
        // ran, with that result.
        for (std::size_t i = 0; i < queued_.size() && i < reply_.children.size(); ++i) {
          const ValueSummary& r = reply_.children[i];
          Exchange& q = queued_[i];
          if (r.is_error) {
            q.error = true;
            q.error_code = ErrorCode(r.text);
          }
          if (r.elements >= 0) q.rows = r.elements;
          CountCache(queued_cache_[i], r, &e);
        }
      } else if (!tx_broken_) {
        // DISCARD, -EXECABORT, or a null EXEC (a WATCHed key changed): none ran.
        ClearQueued();
      }
      // The commands EXEC ran (or, after a gap, may have run), before it.
      done_.insert(done_.end() - 1, std::make_move_iterator(queued_.begin()),
                   std::make_move_iterator(queued_.end()));
      ClearQueued();
    } else if (cmd.state == StateCommand::kMonitor && !v.is_error) {
      monitor_ = true;
    } else if (cmd.state == StateCommand::kReset && !v.is_error) {
      subscribed_ = monitor_ = false;
      ClearQueued();  // the transaction is discarded
    }
  }

  ParserOptions options_;
  Side req_;
  Side resp_;
  RequestFrame request_;  // decode outputs, reused to avoid allocations
  ReplyFrame reply_;
  RingQueue<PendingCommand> pending_;
  // Commands MULTI queued (+QUEUED), reported when EXEC runs them, and
  // how each one's result in EXEC's array feeds the cache counts.
  std::vector<Exchange> queued_;
  std::vector<CacheRead> queued_cache_;
  bool desynced_ = false;
  bool subscribed_ = false;
  bool tx_broken_ = false;   // a gap or error hit the current transaction
  bool reply_off_ = false;   // CLIENT REPLY OFF: no command is answered
  bool reply_skip_ = false;  // CLIENT REPLY SKIP: the next command is not answered
  bool monitor_ = false;
};

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-' || c == '|';
}

// "*<n>\r\n$<len>\r\n<name...": checks as much of that as is present, but at
// least up to the '$', so a lone '*' is not enough.
bool LooksLikeMultibulk(std::string_view s) {
  std::size_t i = 1;
  auto digits = [&](std::size_t max) {
    std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < max) ++i;
    return i > start;
  };
  auto crlf = [&] {
    if (s.substr(i, 2) != "\r\n") return false;
    i += 2;
    return true;
  };
  if (!digits(7) || !crlf() || i >= s.size() || s[i++] != '$') return false;
  if (i == s.size()) return true;
  if (!digits(3) || !crlf()) return false;
  std::size_t name_len = 0;
  while (i < s.size() && s[i] != '\r' && IsNameChar(s[i])) ++i, ++name_len;
  return i == s.size() || (s[i] == '\r' && name_len > 0);
}

bool LooksLikeInline(std::string_view s) {
  static constexpr std::string_view kCommands[] = {
      "PING",    "AUTH",      "HELLO",    "INFO",    "SELECT", "ECHO",     "QUIT",
      "GET",     "SET",       "DEL",      "EXISTS",  "KEYS",   "SCAN",     "TYPE",
      "TTL",     "INCR",      "DECR",     "MGET",    "MSET",   "HGET",     "HSET",
      "HGETALL", "LPUSH",     "RPUSH",    "LRANGE",  "SADD",   "SMEMBERS", "ZADD",
      "ZRANGE",  "EXPIRE",    "FLUSHALL", "FLUSHDB", "DBSIZE", "CLIENT",   "CONFIG",
      "MONITOR", "SUBSCRIBE", "PUBLISH",  "MULTI",   "EXEC",   "COMMAND"};
  std::size_t lf = s.find('\n');
  if (lf == std::string_view::npos) return false;
  std::string_view line = s.substr(0, lf);
  if (line.find("HTTP/") != std::string_view::npos) return false;
  RequestFrame f;
  DecodeResult r = DecodeRequest(s, &f);
  if (r.status != DecodeStatus::kOk || f.args.empty() || f.args[0].size() > 16) return false;
  std::string name(f.args[0]);
  for (char& c : name) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  return std::find(std::begin(kCommands), std::end(kCommands), name) != std::end(kCommands);
}

}  // namespace
}  // namespace redis

std::unique_ptr<ConnectionParser> MakeRedisParser(const ParserOptions& options) {
  return std::make_unique<redis::RedisParser>(options);
}

bool LooksLikeRedis(std::string_view first_request_bytes) {
  if (first_request_bytes.empty()) return false;
  if (first_request_bytes[0] == '*') return redis::LooksLikeMultibulk(first_request_bytes);
  return redis::LooksLikeInline(first_request_bytes);
}

}  // namespace waitscope::protocols
