// PostgreSQL v3 connection state machine; see parser.h for the contract and
// docs/protocols/postgres.md for the wire format.
#include "protocols/postgres/parser.h"

#include <algorithm>
#include <unordered_set>
#include <utility>

#include "protocols/common/binary_reader.h"
#include "protocols/postgres/types.h"
#include "protocols/postgres/wire.h"
#include "protocols/sql/normalize.h"

namespace waitscope::protocols {
namespace postgres {
namespace {

// Largest message length we accept at all (the server's own limit is 1 GB).
constexpr std::uint32_t kMaxMessageLength = 1u << 30;
// While resynchronising, candidates must be small: a random "length" would
// otherwise make us wait for megabytes that never form a message.
constexpr std::uint32_t kMaxResyncLength = 1u << 16;
// Bounds on per-connection state a hostile client could grow.
constexpr std::size_t kMaxNames = 4096;   // prepared statements, portals
constexpr std::size_t kMaxGroups = 4096;  // Sync groups / queries awaiting replies
constexpr std::size_t kMaxPendingPerGroup = 4096;
constexpr std::size_t kMaxRunCheck = 4096;  // Executes in flight walked per ReadyForQuery

SqlNormalizeOptions SqlOptions(const ParserOptions& o) {
  return SqlNormalizeOptions{.keep_literals = o.capture_values};
}

// Messages whose body we never look at: dropped as they stream in instead of
// being buffered, so a huge row or COPY chunk costs no memory.
bool BodyIgnored(Direction dir, char type) {
  return type == (dir == Direction::kRequest ? frontend::kCopyData : backend::kDataRow) ||
         (dir == Direction::kResponse && type == backend::kCopyData);
}

template <typename Value>
void PutBounded(std::unordered_map<std::string, Value>& map, std::string_view key, Value value) {
  auto it = map.find(std::string(key));
  if (it != map.end()) {
    it->second = std::move(value);
    return;
  }
  if (map.size() >= kMaxNames) map.erase(map.begin());
  map.emplace(std::string(key), std::move(value));
}

}  // namespace

void PostgresParser::OnData(Direction dir, std::string_view bytes, std::uint64_t ts_ns) {
  if (encrypted_) return;
  now_ns_ = ts_ns;
  if (dir == Direction::kResponse) resp_last_ns_ = ts_ns;
  Side& s = side(dir);
  while (!bytes.empty() && !encrypted_) {
    if (s.skip > 0) {
      std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(s.skip, bytes.size()));
      s.skip -= n;
      bytes.remove_prefix(n);
      continue;
    }
    std::size_t room = kMaxBufferedBytes - s.buf.data().size();
    if (room == 0) {
      // Full and nothing parseable (only possible while resynchronising, as
      // oversized messages are skipped): drop and keep scanning.
      s.buf.Clear();
      continue;
    }
    std::size_t n = std::min(room, bytes.size());
    (void)s.buf.Append(bytes.substr(0, n), ts_ns);  // cannot overflow: n <= room
    bytes.remove_prefix(n);
    Parse(dir);
  }
}

// --capture-bytes cut a large read/write: the lost bytes usually are the
// rest of the message in progress, whose length its header gave. Skip them
// and keep the exchange. True if the gap was absorbed so.
bool PostgresParser::SkipGap(Direction dir, std::uint64_t n) {
  Side& s = side(dir);
  if (s.resync) {
    // Still confirming a boundary found after an earlier gap: Resync() left
    // a plausible header at the front and waits for the next one, which this
    // gap swallowed. A new read starting with a plausible header is the
    // likely boundary: take it.
    std::string_view d = s.buf.data();
    auto h = ReadHeader(d);
    if (!h || !IsKnownType(dir, h->type) ||
        !PlausibleLength(dir, h->type, h->length, kMaxResyncLength) ||
        std::size_t{h->length} + 1 <= d.size()) {
      return false;
    }
    s.resync = false;
    ++stats_.resyncs;
  }
  if (s.skip > 0) {
    // Already dropping a message's body (a DataRow, CopyData, or a message
    // too big to buffer): more of it is lost.
    if (n > s.skip) return false;
    s.skip -= n;
    return true;
  }
  if (dir == Direction::kRequest && mode_ != RequestMode::kTyped) return false;
  if (dir == Direction::kResponse && awaiting_reply_ != EncryptionReply::kNone) return false;
  std::string_view data = s.buf.data();
  auto h = ReadHeader(data);
  if (!h || !IsKnownType(dir, h->type) ||
      !PlausibleLength(dir, h->type, h->length, kMaxMessageLength)) {
    return false;
  }
  const std::uint64_t total = std::uint64_t{h->length} + 1;
  if (total <= data.size()) return false;
  // The message is cut: act on what its first bytes say. If the gap also
  // runs past its end (the next header is lost), it is still acted on (an
  // ErrorResponse still fails its statement) and the caller resynchronises.
  const bool inside = n <= total - data.size();
  std::string body(data.substr(5));
  s.buf.Clear();
  if (inside) s.skip = total - data.size() - n;
  if (dir == Direction::kRequest) {
    if (h->type == frontend::kQuery) {
      body.push_back('\0');  // statement text: the prefix that was captured
      HandleQuery(body);
    } else if (h->type == frontend::kParse) {
      body.append(3, '\0');  // close the cut text; no parameter types
      HandleParse(body);
    } else if (h->type == frontend::kExecute || h->type == frontend::kSync) {
      OnOversized(dir, h->type);  // not malformed, only cut: no parse error
    } else if (h->type == frontend::kBind || h->type == frontend::kDescribe ||
               h->type == frontend::kClose) {
      OpenExtendedGroup();  // a cut Bind leaves its portal unknown
    }
    // CopyData bodies are skipped by Parse(); other messages change nothing.
  } else if (h->type == backend::kCommandComplete) {
    Complete(-1, false, {});  // the tag, hence the row count, was cut
  } else if (h->type == backend::kErrorResponse) {
    HandleError(body);  // SQLSTATE if its field was captured
  } else {
    HandleResponse(h->type, body);
  }
  return inside;
}

void PostgresParser::OnGap(Direction dir, std::uint64_t missing_bytes) {
  if (encrypted_ || missing_bytes == 0) return;
  if (SkipGap(dir, missing_bytes)) return;
  Side& s = side(dir);
  s.buf.Clear();
  s.skip = 0;
  if (dir == Direction::kRequest) {
    if (mode_ == RequestMode::kUnknown) return;  // nothing known yet: detect on next bytes
    if (mode_ == RequestMode::kStartup) mode_ = RequestMode::kTyped;
    // Whatever the lost requests were, their replies end with a
    // ReadyForQuery: swallow them instead of pinning them on later requests.
    Group& g = PushGroup(Group::Kind::kOpaque);
    g.synced = true;
    g.lost = true;
  } else {
    // Only the front group's replies were being read when the bytes were
    // lost; pipelined groups behind it may not have run yet.
    if (!groups_.empty() && !groups_.front().lost) groups_.front().cut = true;
    for (Group& g : groups_) g.lost = true;
  }
  s.resync = true;
}

PostgresParser::Group& PostgresParser::PushGroup(Group::Kind kind) {
  // A new request: a client that waits for replies has seen the end of
  // whatever a gap cut into, so stop waiting for the lost replies' end.
  while (!groups_.empty() && groups_.front().lost) {
    FlushCut(groups_.front(), resp_last_ns_);
    groups_.pop_front();
  }
  if (groups_.size() >= kMaxGroups) {
    groups_.pop_front();
    ++stats_.unmatched_responses;
  }
  groups_.emplace_back();
  groups_.back().kind = kind;
  groups_.back().request_end_ns = now_ns_;
  return groups_.back();
}

PostgresParser::Group& PostgresParser::OpenExtendedGroup() {
  if (!groups_.empty() && groups_.back().kind == Group::Kind::kExtended && !groups_.back().synced)
    return groups_.back();
  return PushGroup(Group::Kind::kExtended);
}

std::string PostgresParser::Render(std::string_view sql) const {
  return NormalizeSql(sql, SqlDialect::kPostgres, SqlOptions(options_));
}

void PostgresParser::BadMessage(Direction dir) {
  ++stats_.parse_errors;
  side(dir).resync = true;
}

void PostgresParser::Parse(Direction dir) {
  Side& s = side(dir);
  while (!encrypted_) {
    if (dir == Direction::kRequest) {
      if (awaiting_reply_ != EncryptionReply::kNone) return;  // next bytes may be TLS
      if (mode_ == RequestMode::kUnknown) {
        if (s.buf.empty()) return;
        // Startup packets begin with a length < 16 MB (first byte 0); typed
        // messages never have type 0. Lets us join a connection midway.
        mode_ = s.buf.data()[0] == 0 ? RequestMode::kStartup : RequestMode::kTyped;
      }
      if (mode_ == RequestMode::kStartup) {
        if (!ParseStartup()) return;
        continue;
      }
    } else if (awaiting_reply_ != EncryptionReply::kNone) {
      if (!ParseEncryptionReply()) return;
      continue;
    }
    if (s.resync && !Resync(dir)) return;
    std::string_view data = s.buf.data();
    auto h = ReadHeader(data);
    if (!h) return;
    if (!IsKnownType(dir, h->type) ||
        !PlausibleLength(dir, h->type, h->length, kMaxMessageLength)) {
      BadMessage(dir);
      s.buf.Consume(1);
      continue;
    }
    std::size_t total = std::size_t{h->length} + 1;
    if (data.size() < total) {
      bool ignored = BodyIgnored(dir, h->type);
      if (!ignored && total <= kMaxBufferedBytes) return;  // wait for the rest
      if (ignored) {
        if (dir == Direction::kResponse && h->type == backend::kDataRow)
          HandleResponse(h->type, {});
      } else {
        ++stats_.parse_errors;
        OnOversized(dir, h->type);
      }
      s.skip = total - data.size();
      s.buf.Consume(data.size());
      return;
    }
    std::string_view body = data.substr(5, h->length - 4);
    if (dir == Direction::kRequest) {
      HandleRequest(h->type, body);
    } else {
      HandleResponse(h->type, body);
    }
    s.buf.Consume(total);
  }
}

// A message we need is too big to buffer (the caller counts it) or was cut
// by a gap: keep replies aligned.
void PostgresParser::OnOversized(Direction dir, char type) {
  if (dir == Direction::kRequest && type == frontend::kQuery) {
    PushGroup(Group::Kind::kOpaque).synced = true;
  } else if (dir == Direction::kRequest && type == frontend::kExecute) {
    Pending p;
    p.known = false;
    p.request_end_ns = now_ns_;
    OpenExtendedGroup().pending.push_back(std::move(p));
  } else if (dir == Direction::kRequest && type == frontend::kSync) {
    HandleSync();
  } else if (dir == Direction::kResponse && type == backend::kErrorResponse) {
    HandleError({});
  } else if (dir == Direction::kResponse && type == backend::kCommandComplete) {
    Complete(-1, false, {});
  }
}

bool PostgresParser::ParseStartup() {
  std::string_view data = req_.buf.data();
  BinaryReader r(data);
  auto length = r.U32Be();
  auto code = r.U32Be();
  if (!length || !code) return false;
  switch (ClassifyStartupPacket(*length, *code)) {
    case StartupPacket::kSslRequest:
      awaiting_reply_ = EncryptionReply::kSsl;
      break;
    case StartupPacket::kGssEncRequest:
      awaiting_reply_ = EncryptionReply::kGss;
      break;
    case StartupPacket::kCancel:
      break;
    case StartupPacket::kStartup:
      if (data.size() < *length) return false;
      mode_ = RequestMode::kTyped;
      break;
    case StartupPacket::kInvalid:
      // Not a startup packet: maybe we joined midway; look for typed messages.
      ++stats_.parse_errors;
      mode_ = RequestMode::kTyped;
      req_.resync = true;
      return true;
  }
  req_.buf.Consume(*length);
  return true;
}

bool PostgresParser::ParseEncryptionReply() {
  std::string_view data = resp_.buf.data();
  if (data.empty()) return false;
  char c = data[0];
  if ((c == kTlsAccepted && awaiting_reply_ == EncryptionReply::kSsl) ||
      (c == kGssAccepted && awaiting_reply_ == EncryptionReply::kGss)) {
    // From here on the stream is TLS/GSS: not ours to parse, and not an error.
    encrypted_ = true;
    req_ = Side{};
    resp_ = Side{};
    groups_.clear();
    return false;
  }
  awaiting_reply_ = EncryptionReply::kNone;
  // 'N': the client goes on in plaintext. Anything else (an old server's
  // ErrorResponse) is a typed message, left for the normal path.
  if (c == kEncryptionRefused) resp_.buf.Consume(1);
  Parse(Direction::kRequest);  // request bytes held back while we waited
  return true;
}

bool PostgresParser::Resync(Direction dir) {
  Side& s = side(dir);
  std::string_view d = s.buf.data();
  auto plausible = [&](std::size_t at) {
    auto h = ReadHeader(d.substr(at));
    return h && IsKnownType(dir, h->type) &&
           PlausibleLength(dir, h->type, h->length, kMaxResyncLength);
  };
  std::size_t p = 0;
  for (; p + 5 <= d.size(); ++p) {
    if (!plausible(p)) continue;
    std::size_t next = p + 1 + ReadHeader(d.substr(p))->length;
    // A message ending exactly where the data ends (a write boundary) is
    // accepted alone, so a lone request is not held until the next one.
    bool accept = next == d.size();
    if (!accept) {
      if (next + 5 > d.size()) break;  // wait for the next header
      accept = plausible(next);
    }
    if (accept) {
      s.buf.Consume(p);
      s.resync = false;
      ++stats_.resyncs;
      return true;
    }
  }
  s.buf.Consume(p);
  return false;
}

void PostgresParser::HandleRequest(char type, std::string_view body) {
  switch (type) {
    case frontend::kQuery:
      HandleQuery(body);
      break;
    case frontend::kParse:
      HandleParse(body);
      break;
    case frontend::kBind:
      HandleBind(body);
      break;
    case frontend::kExecute:
      HandleExecute(body);
      break;
    case frontend::kSync:
      HandleSync();
      break;
    case frontend::kClose:
      HandleClose(body);
      break;
    case frontend::kDescribe:
      OpenExtendedGroup();
      break;
    case frontend::kCopyDone:
    case frontend::kCopyFail:
      // COPY FROM STDIN: the request ends with its last CopyData.
      for (Group& g : groups_) {
        if (!g.lost && !g.pending.empty()) {
          g.pending.front().request_end_ns = now_ns_;
          break;
        }
      }
      break;
    case frontend::kFunctionCall:
      PushGroup(Group::Kind::kOpaque).synced = true;
      break;
    default:  // Flush, Terminate, CopyData, password/SASL: nothing to match
      break;
  }
}

void PostgresParser::HandleQuery(std::string_view body) {
  BinaryReader r(body);
  auto sql = r.CString();
  Group& g = PushGroup(sql ? Group::Kind::kSimple : Group::Kind::kOpaque);
  g.synced = true;
  if (!sql) {
    ++stats_.parse_errors;
    return;
  }
  // One lexer pass for the split and every statement's text.
  for (std::string& statement : NormalizeSqlStatements(*sql, SqlDialect::kPostgres,
                                                       SqlOptions(options_), kMaxPendingPerGroup)) {
    Pending p;
    p.statement = std::move(statement);
    p.request_end_ns = now_ns_;
    g.pending.push_back(std::move(p));
  }
}

void PostgresParser::HandleParse(std::string_view body) {
  Group& g = OpenExtendedGroup();
  BinaryReader r(body);
  auto name = r.CString();
  auto sql = r.CString();
  if (!name || !sql) {
    ++stats_.parse_errors;
    return;
  }
  std::string text = Render(*sql);
  if (g.parses.size() < kMaxPendingPerGroup) g.parses.push_back(text);
  PutBounded(statements_, *name, std::move(text));
}

void PostgresParser::HandleBind(std::string_view body) {
  OpenExtendedGroup();
  BinaryReader r(body);
  auto portal = r.CString();
  auto stmt = r.CString();
  if (!portal || !stmt) {
    ++stats_.parse_errors;
    return;
  }
  auto it = statements_.find(std::string(*stmt));
  if (it == statements_.end()) {
    portals_.erase(std::string(*portal));  // an unknown portal from now on
    return;
  }
  PutBounded(portals_, *portal, Portal{it->second, ++binds_});
}

void PostgresParser::HandleClose(std::string_view body) {
  OpenExtendedGroup();
  BinaryReader r(body);
  auto kind = r.U8();
  auto name = r.CString();
  if (!kind || !name) {
    ++stats_.parse_errors;
    return;
  }
  if (*kind == 'S') statements_.erase(std::string(*name));
  if (*kind == 'P') {
    portals_.erase(std::string(*name));
  }
}

void PostgresParser::HandleExecute(std::string_view body) {
  Group& g = OpenExtendedGroup();
  BinaryReader r(body);
  auto portal = r.CString();
  Pending p;
  p.request_end_ns = now_ns_;
  if (!portal) {
    ++stats_.parse_errors;
    p.known = false;
  } else if (auto it = portals_.find(std::string(*portal)); it != portals_.end()) {
    p.statement = it->second.text;
    p.has_portal = true;
    p.portal = it->first;
    p.portal_bind = it->second.bind;
  } else {
    p.known = false;  // Bind before we joined the connection
  }
  if (g.pending.size() < kMaxPendingPerGroup) g.pending.push_back(std::move(p));
}

// The server answers `p` (an Execute at the front): if it continues a run
// PortalSuspended paused (same portal, same Bind), it takes over that run's
// exchange; a paused run of an older Bind of that portal is over.
void PostgresParser::Continue(Pending& p) {
  if (!p.has_portal || suspended_.empty()) return;
  auto it = suspended_.find(p.portal);
  if (it == suspended_.end()) return;
  if (it->second.portal_bind != p.portal_bind) {
    EndRun(p.portal);
    return;
  }
  p.request_end_ns = it->second.request_end_ns;
  p.earlier_rows = it->second.earlier_rows;
  p.continues_run = true;
  suspended_.erase(it);
}

// PortalSuspended: the front Execute's row limit was reached; the portal
// lives on, and its next Execute continues the same statement.
void PostgresParser::Suspend() {
  if (groups_.empty()) return;
  Group& g = groups_.front();
  if (g.lost || g.failed || g.pending.empty()) return;
  Pending p = std::move(g.pending.front());
  g.pending.pop_front();
  Continue(p);
  p.earlier_rows += p.data_rows;
  p.data_rows = 0;
  p.suspended_ns = now_ns_;
  if (!p.known || !p.has_portal) return;  // nothing to report
  if (suspended_.size() >= kMaxNames) {
    Emit(p, p.earlier_rows, false, {});  // no room to wait: report what ran so far
    return;
  }
  std::string portal = p.portal;
  suspended_.emplace(std::move(portal), std::move(p));
}

// The portal's paused run will not go on: the statement ran as far as the
// client fetched. Reported ending at its last PortalSuspended.
void PostgresParser::EndRun(const std::string& portal) {
  auto it = suspended_.find(portal);
  if (it == suspended_.end()) return;
  Pending p = std::move(it->second);
  suspended_.erase(it);
  const std::uint64_t saved = now_ns_;
  now_ns_ = p.suspended_ns;
  Emit(p, p.earlier_rows, false, {});
  now_ns_ = saved;
}

// At a ReadyForQuery: every run ends with the transaction; otherwise a run
// whose portal was rebound or closed ends once no Execute of it is left to
// answer. That check walks the Executes in flight, at most kMaxRunCheck of
// them: a longer pipeline only delays the report to a later ReadyForQuery.
void PostgresParser::EndFinishedRuns(bool transaction_over) {
  std::unordered_set<std::string> over;
  for (const auto& [portal, run] : suspended_) {
    // Rebound (another Bind), closed, or bound to a statement we do not know.
    auto now = portals_.find(portal);
    if (transaction_over || now == portals_.end() || now->second.bind != run.portal_bind) {
      over.insert(portal);
    }
  }
  if (!transaction_over && !over.empty()) {
    std::size_t budget = kMaxRunCheck;
    for (const Group& g : groups_) {
      for (const Pending& q : g.pending) {
        if (budget-- == 0) return;
        if (!q.has_portal) continue;
        auto run = suspended_.find(q.portal);
        if (run != suspended_.end() && run->second.portal_bind == q.portal_bind) {
          over.erase(q.portal);  // an Execute of the run is still coming
        }
      }
    }
  }
  for (const std::string& portal : over) EndRun(portal);
}

void PostgresParser::HandleSync() {
  Group& g = OpenExtendedGroup();
  g.synced = true;
  // The client sends its Executes when it sends the Sync (libpq, JDBC and
  // pgbench write them together); the Sync marks the request's end.
  g.request_end_ns = now_ns_;
  for (Pending& p : g.pending) p.request_end_ns = now_ns_;
}

void PostgresParser::Emit(Pending& p, std::int64_t rows, bool error, std::string code) {
  if (!p.known || p.statement.empty()) return;
  if (!error) sql_prepared_.Ran(p.statement);
  Exchange e;
  e.protocol = Protocol::kPostgres;
  if (const std::string* runs = sql_prepared_.Resolve(p.statement)) {
    e.statement = *runs;  // EXECUTE name: the statement its PREPARE named
  } else {
    e.statement = std::move(p.statement);
  }
  e.request_end_ns = p.request_end_ns;
  e.response_end_ns = now_ns_;
  e.error = error;
  e.error_code = std::move(code);
  e.rows = rows;
  done_.push_back(std::move(e));
}

// A response gap crossed message boundaries in this group's replies, so its
// CommandCompletes were not seen; its ReadyForQuery (or the client's next
// request) shows the server finished it. Its statements still ran: report
// them, rows unknown, as successes (an error among the lost bytes cannot be
// known). Groups lost by a request gap hold nothing to report.
void PostgresParser::FlushCut(Group& g, std::uint64_t response_end_ns) {
  if (!g.cut || g.failed || g.kind == Group::Kind::kOpaque) return;
  if (g.kind == Group::Kind::kExtended && !g.synced) return;  // not sent in full
  const std::uint64_t saved = now_ns_;
  now_ns_ = response_end_ns;
  for (Pending& p : g.pending) Emit(p, -1, false, {});
  now_ns_ = saved;
  g.pending.clear();
  g.cut = false;
}

void PostgresParser::Complete(std::int64_t rows, bool error, std::string code) {
  if (groups_.empty()) {
    if (ready_seen_) ++stats_.unmatched_responses;
    return;
  }
  Group& g = groups_.front();
  if (g.lost || g.kind == Group::Kind::kOpaque || g.failed) return;
  if (g.pending.empty()) {
    ++stats_.unmatched_responses;
    return;
  }
  Pending p = std::move(g.pending.front());
  g.pending.pop_front();
  Continue(p);
  // A continued run: the tag counts its last Execute only.
  if (p.continues_run && !error) rows = p.earlier_rows + (rows >= 0 ? rows : p.data_rows);
  Emit(p, rows, error, std::move(code));
}

void PostgresParser::HandleError(std::string_view body) {
  std::string code = SqlstateFromErrorFields(body);
  if (groups_.empty() || groups_.front().lost || groups_.front().kind == Group::Kind::kOpaque ||
      groups_.front().failed) {
    if (groups_.empty() && ready_seen_) ++stats_.unmatched_responses;
    return;
  }
  Group& g = groups_.front();
  if (!g.pending.empty()) {
    Complete(-1, true, std::move(code));
  } else if (!g.parses.empty()) {
    // A Parse failed with no Execute behind it in this group.
    Pending p;
    p.statement = std::move(g.parses.front());
    p.request_end_ns = g.request_end_ns;
    Emit(p, -1, true, std::move(code));
  }
  // The server abandons the rest of the query string / skips to Sync.
  g.pending.clear();
  g.parses.clear();
  g.failed = true;
}

void PostgresParser::HandleResponse(char type, std::string_view body) {
  Group* g = groups_.empty() ? nullptr : &groups_.front();
  switch (type) {
    case backend::kCommandComplete: {
      BinaryReader r(body);
      auto tag = r.CString();
      if (!tag) ++stats_.parse_errors;
      Complete(tag ? RowsFromCommandTag(*tag) : -1, false, {});
      break;
    }
    case backend::kErrorResponse:
      HandleError(body);
      break;
    case backend::kReadyForQuery:
      ready_seen_ = true;
      if (g) {
        if (g->lost) FlushCut(*g, now_ns_);
        groups_.pop_front();
      }
      // 'I': idle, the transaction (and every portal) is over.
      if (!suspended_.empty()) EndFinishedRuns(!body.empty() && body[0] == 'I');
      break;
    case backend::kParseComplete:
      if (g && !g->parses.empty()) g->parses.pop_front();
      break;
    case backend::kDataRow:
      if (g && !g->pending.empty()) ++g->pending.front().data_rows;
      break;
    case backend::kPortalSuspended:
      Suspend();
      break;
    case backend::kEmptyQueryResponse:
      // Extended: the Execute of an empty statement ends here. Simple: an
      // empty query string, for which we queued nothing.
      if (g && g->kind == Group::Kind::kExtended && !g->lost && !g->failed && !g->pending.empty())
        g->pending.pop_front();
      break;
    default:
      // Authentication, ParameterStatus, BackendKeyData, notices,
      // notifications, row descriptions, COPY framing: no effect on matching.
      break;
  }
}

}  // namespace postgres

std::unique_ptr<ConnectionParser> MakePostgresParser(const ParserOptions& options) {
  return std::make_unique<postgres::PostgresParser>(options);
}

bool LooksLikePostgres(std::string_view first_request_bytes) {
  BinaryReader r(first_request_bytes);
  auto length = r.U32Be();
  auto code = r.U32Be();
  if (!length || !code) return false;
  postgres::StartupPacket kind = postgres::ClassifyStartupPacket(*length, *code);
  if (kind == postgres::StartupPacket::kInvalid) return false;
  // A complete StartupMessage ends with the NUL closing its parameter list.
  if (kind == postgres::StartupPacket::kStartup && first_request_bytes.size() >= *length)
    return first_request_bytes[*length - 1] == '\0';
  return true;
}

}  // namespace waitscope::protocols
