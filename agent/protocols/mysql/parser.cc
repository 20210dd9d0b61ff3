#include "protocols/mysql/parser.h"

#include <algorithm>
#include <utility>

#include "protocols/common/ascii.h"
#include "protocols/common/binary_reader.h"
#include "protocols/mysql/statement_split.h"
#include "protocols/sql/normalize.h"

namespace waitscope::protocols {
namespace mysql {
namespace {

bool IsEofPacket(const Packet& p) {
  // The 4.1 EOF packet is 0xFE + warnings + status. A row can only start with
  // 0xFE as a >= 16 MiB string, i.e. a truncated multi-packet payload. A
  // packet cut by a gap still has its declared length.
  return (!p.truncated || p.gap) && !p.payload.empty() &&
         static_cast<std::uint8_t>(p.payload[0]) == kEofHeader && p.length < 9;
}

// The end of a result set: an EOF packet, or (CLIENT_DEPRECATE_EOF) an OK
// packet with the 0xFE header. Under 16 MiB a row cannot start with 0xFE.
bool IsEndOfRows(const Packet& p) {
  return !p.payload.empty() && static_cast<std::uint8_t>(p.payload[0]) == kEofHeader &&
         (!p.truncated || (p.gap && p.length < kMaxPacketPayload));
}

// A gap-truncated packet whose payload prefix is too short to check a
// column definition's "def" catalog.
bool TooShortToCheck(const Packet& p, std::size_t n) {
  return p.gap && p.payload.size() < n;
}

std::uint8_t First(const Packet& p) {
  return p.payload.empty() ? 0 : static_cast<std::uint8_t>(p.payload[0]);
}

const char* CommandName(std::uint8_t cmd) {
  static const char* const kNames[] = {
      "COM_SLEEP",
      "COM_QUIT",
      "COM_INIT_DB",
      "COM_QUERY",
      "COM_FIELD_LIST",
      "COM_CREATE_DB",
      "COM_DROP_DB",
      "COM_REFRESH",
      "COM_SHUTDOWN",
      "COM_STATISTICS",
      "COM_PROCESS_INFO",
      "COM_CONNECT",
      "COM_PROCESS_KILL",
      "COM_DEBUG",
      "COM_PING",
      "COM_TIME",
      "COM_DELAYED_INSERT",
      "COM_CHANGE_USER",
      "COM_BINLOG_DUMP",
      "COM_TABLE_DUMP",
      "COM_CONNECT_OUT",
      "COM_REGISTER_SLAVE",
      "COM_STMT_PREPARE",
      "COM_STMT_EXECUTE",
      "COM_STMT_SEND_LONG_DATA",
      "COM_STMT_CLOSE",
      "COM_STMT_RESET",
      "COM_SET_OPTION",
      "COM_STMT_FETCH",
      "COM_DAEMON",
      "COM_BINLOG_DUMP_GTID",
      "COM_RESET_CONNECTION",
  };
  if (cmd <= kLastCommand) return kNames[cmd];
  if (cmd == kMariadbStmtBulkExecute) return "COM_STMT_BULK_EXECUTE";
  return "COM_UNKNOWN";
}

}  // namespace

MysqlParser::MysqlParser(const ParserOptions& options)
    : options_(options), req_framer_(stats_), resp_framer_(stats_) {}

void MysqlParser::OnData(Direction dir, std::string_view bytes, std::uint64_t ts_ns) {
  if (phase_ == Phase::kStopped) return;
  if (dir == Direction::kRequest) {
    req_framer_.Feed(bytes, ts_ns, [this](const Packet& p) { return OnRequestPacket(p); });
  } else {
    // Bytes of a response whose request we lost cannot be told apart from a
    // new response: drop them until a request after the gap. They may still
    // be the tail of a response cut by a gap (see cut_).
    if (resp_wait_request_) {
      if (cut_) cut_->response_end_ns = std::max(cut_->response_end_ns, ts_ns);
      return;
    }
    resp_last_ts_ = ts_ns;
    resp_framer_.Feed(bytes, ts_ns, [this](const Packet& p) { return OnResponsePacket(p); });
  }
}

void MysqlParser::OnGap(Direction dir, std::uint64_t missing_bytes) {
  if (phase_ == Phase::kStopped || missing_bytes == 0) return;
  // Common case (--capture-bytes cut a large read/write): the lost bytes are
  // the rest of the packet being assembled, whose length is known. Skip them
  // and keep the exchange.
  if (dir == Direction::kResponse && !resp_wait_request_ && phase_ == Phase::kCommand) {
    if (resp_framer_.SkipGap(missing_bytes,
                             [this](const Packet& p) { return OnResponsePacket(p); })) {
      return;
    }
    if (phase_ == Phase::kStopped) return;
  } else if (dir == Direction::kRequest && !req_resyncing_ && phase_ == Phase::kCommand) {
    if (req_framer_.SkipGap(missing_bytes,
                            [this](const Packet& p) { return OnRequestPacket(p); })) {
      return;
    }
    if (phase_ == Phase::kStopped) return;
  }
  // The gap crossed a packet boundary: the next header is lost. A response
  // in progress cannot be followed to its end, but a classic MySQL client
  // reads the whole response before its next command, so that command
  // proves the response ended: remember the exchange and report it then
  // (rows unknown), see FlushCut().
  auto cut_cursor = cursors_.end();
  if (dir == Direction::kResponse && !pending_.empty() &&
      pending_.front().command == static_cast<std::uint8_t>(Command::kStmtFetch)) {
    cut_cursor = cursors_.find(pending_.front().stmt_id);
  }
  if (cut_cursor != cursors_.end()) {
    // A fetch was cut: the cursor's run goes on with its rows unknown, and
    // ends as any run does (we cannot tell whether this fetch was its last).
    cut_cursor->second.rows = -1;
    cut_cursor->second.response_end_ns =
        std::max(cut_cursor->second.response_end_ns, resp_last_ts_);
    pending_.pop_front();
  } else if (dir == Direction::kResponse && !pending_.empty() && phase_ == Phase::kCommand) {
    const Pending& req = pending_.front();
    Exchange ex;
    ex.protocol = Protocol::kMysql;
    ex.statement = CurrentStatement(req);
    if (req.command == static_cast<std::uint8_t>(Command::kStmtPrepare)) {
      ex.statement = "PREPARE " + ex.statement;
    }
    ex.request_end_ns = req.request_end_ns;
    ex.response_end_ns = std::max(resp_last_ts_, req.request_end_ns);
    ex.rows = -1;
    cut_ = std::move(ex);
  } else if (dir == Direction::kRequest) {
    cut_.reset();  // a request was lost too: the next command proves nothing
  }
  // Lost bytes of either direction make the pending responses unreliable.
  stats_.exchanges_lost += pending_.size();
  pending_.clear();
  resp_ = Resp::kFirst;
  if (phase_ != Phase::kCommand) phase_ = Phase::kCommand;  // handshake lost: caps_known_ stays
  if (dir == Direction::kRequest) {
    req_resyncing_ = true;
    req_framer_.ResyncAtNextChunk(0);
  }
  resp_wait_request_ = true;
  resp_framer_.ResyncAtNextChunk(1);
}

// ---- requests ----

bool MysqlParser::OnRequestPacket(const Packet& p) {
  switch (phase_) {
    case Phase::kHandshake:
      // Handshake not seen (parser attached late): a sequence-0 packet is a
      // command.
      if (p.seq == 0) {
        phase_ = Phase::kCommand;
        return OnCommand(p);
      }
      ++stats_.parse_errors;
      return true;
    case Phase::kHandshakeResponse:
      return OnHandshakeResponse(p);
    case Phase::kAuth:
      return true;  // auth data (scramble, public key request, cleartext...)
    case Phase::kCommand:
      // Sequence ids > 0 are LOAD DATA LOCAL file contents: no command.
      if (p.seq != 0) return true;
      return OnCommand(p);
    case Phase::kStopped:
      return false;
  }
  return false;
}

bool MysqlParser::OnHandshakeResponse(const Packet& p) {
  BinaryReader r(p.payload);
  auto client_caps = r.U32Le();
  if (!client_caps || (*client_caps & kClientProtocol41) == 0) {
    // Pre-4.1 clients are not supported; follow the commands anyway.
    ++stats_.parse_errors;
    phase_ = Phase::kAuth;
    return true;
  }
  caps_ = *client_caps & server_caps_;
  caps_known_ = true;
  if ((*client_caps & kClientSsl) != 0 && p.payload.size() == 32) {
    // SSL request: the TLS handshake follows; nothing more is readable.
    encrypted_ = true;
    phase_ = Phase::kStopped;
    return false;
  }
  if ((caps_ & kClientCompress) != 0) {
    compressed_ = true;
    phase_ = Phase::kStopped;
    return false;
  }
  // max packet size (4), charset (1), 19 reserved bytes, then MariaDB's
  // extended capabilities (4) when neither side claims CLIENT_MYSQL.
  if (r.Skip(4 + 1 + 19)) {
    auto ext = r.U32Le();
    if (ext && (*client_caps & kClientMysql) == 0 && (server_caps_ & kClientMysql) == 0) {
      cache_metadata_ = ((*ext & server_ext_caps_) & kMariadbClientCacheMetadata) != 0;
    }
  }
  phase_ = Phase::kAuth;
  return true;
}

std::string MysqlParser::StatementText(std::string_view sql) const {
  if (options_.capture_values) return std::string(sql);
  return NormalizeSql(sql, SqlDialect::kMysql);
}

bool MysqlParser::OnCommand(const Packet& p) {
  const std::uint8_t cmd = First(p);
  const bool known = !p.payload.empty() && (cmd <= kLastCommand || cmd == kMariadbStmtBulkExecute);
  if (!known) {
    if (!req_resyncing_) ++stats_.parse_errors;
    req_resyncing_ = true;
    req_framer_.ResyncAtNextChunk(0);
    return false;
  }
  req_resyncing_ = false;
  FlushCut();
  std::string_view body = p.payload.substr(1);
  const auto command = static_cast<Command>(cmd);

  Pending req;
  req.command = cmd;
  req.request_end_ns = p.ts_ns;
  switch (command) {
    case Command::kQuit:
      CloseAllCursors();
      phase_ = Phase::kStopped;  // the server closes without answering
      return false;
    case Command::kStmtClose:
    case Command::kStmtSendLongData: {
      // No response. Forget closed statements so the map stays small.
      BinaryReader r(body);
      if (auto id = r.U32Le(); id && command == Command::kStmtClose) {
        prepared_.erase(*id);
        CloseCursor(*id);
      }
      return true;
    }
    case Command::kStmtReset: {
      BinaryReader r(body);
      if (auto id = r.U32Le()) CloseCursor(*id);  // the server closes it
      req.statements.emplace_back(CommandName(cmd));
      break;
    }
    case Command::kBinlogDump:
    case Command::kBinlogDumpGtid:
      phase_ = Phase::kStopped;  // replication stream, not request/response
      return false;
    case Command::kQuery: {
      if ((caps_ & kClientQueryAttributes) != 0) {
        // MySQL 8 query attributes precede the text; only the no-attribute
        // form is decoded (values would need the binary value codec).
        BinaryReader r(body);
        auto count = ReadLenencInt(r);
        auto sets = ReadLenencInt(r);
        if (!count || !sets || *count != 0) {
          req.statements.emplace_back(CommandName(cmd));
          break;
        }
        body = r.rest();
      }
      if (p.truncated) {
        // Only a prefix of a huge statement is here; its normalized prefix
        // still names it.
        req.statements.push_back(StatementText(body));
        break;
      }
      for (std::string_view part : SplitStatements(body)) {
        req.statements.push_back(StatementText(part));
      }
      if (req.statements.empty()) req.statements.emplace_back();
      break;
    }
    case Command::kStmtPrepare:
      req.statements.push_back(StatementText(body));
      break;
    case Command::kStmtExecute:
    case Command::kStmtFetch: {
      BinaryReader r(body);
      auto id = r.U32Le();
      if (id) req.stmt_id = *id;
      // Executing a statement again closes its cursor.
      if (id && command == Command::kStmtExecute) CloseCursor(*id);
      auto it = id ? prepared_.find(*id) : prepared_.end();
      if (command == Command::kStmtExecute && it != prepared_.end()) {
        req.statements.push_back(it->second);
      } else {
        req.statements.emplace_back(CommandName(cmd));
      }
      break;
    }
    case Command::kInitDb:
      // A database name is an identifier, not a literal.
      req.statements.push_back(options_.capture_values || body.size() <= 64
                                   ? "USE " + std::string(body)
                                   : std::string(CommandName(cmd)));
      break;
    default:
      req.statements.emplace_back(CommandName(cmd));
      break;
  }
  if (command == Command::kChangeUser || command == Command::kResetConnection) {
    // The session starts over: the server drops its prepared statements,
    // so their cursor runs are over (and their ids will be reused).
    CloseAllCursors();
    prepared_.clear();
  }
  if (command == Command::kChangeUser) {
    phase_ = Phase::kAuth;  // re-authentication, no exchange
    return true;
  }
  if (pending_.size() >= kMaxPending) {
    pending_.pop_front();  // its response, if it ever comes, is unmatched
    ++stats_.exchanges_lost;
  }
  pending_.push_back(std::move(req));
  if (resp_wait_request_) {
    // First request after a gap: its response starts at the next response
    // chunk (the framer already waits for one with sequence id 1).
    resp_wait_request_ = false;
    resp_ = Resp::kFirst;
  }
  return true;
}

// A command arrived after a response was cut by a gap that crossed packet
// boundaries: that response is over. Report its exchange (rows unknown).
void MysqlParser::FlushCut() {
  if (!cut_) return;
  done_.push_back(std::move(*cut_));
  cut_.reset();
}

// ---- responses ----

bool MysqlParser::OnResponsePacket(const Packet& p) {
  switch (phase_) {
    case Phase::kHandshake:
      return OnServerHandshake(p);
    case Phase::kHandshakeResponse:
      ++stats_.unmatched_responses;  // server talks before the client answered
      return true;
    case Phase::kAuth:
      return OnAuthPacket(p);
    case Phase::kStopped:
      return false;
    case Phase::kCommand:
      break;
  }
  if (pending_.empty()) {
    ++stats_.unmatched_responses;
    resp_wait_request_ = true;
    resp_framer_.ResyncAtNextChunk(1);
    return false;
  }
  Pending& req = pending_.front();
  if (resp_ == Resp::kFirst) {
    switch (static_cast<Command>(req.command)) {
      case Command::kStmtPrepare:
        return OnPrepareOk(p, req);
      case Command::kQuery:
      case Command::kStmtExecute:
      case Command::kProcessInfo:
        return OnResultPacket(p, req);
      case Command::kFieldList:
      case Command::kStmtFetch:
        resp_ = Resp::kRows;
        rows_ = 0;
        return OnResultPacket(p, req);
      default:
        if (req.command == kMariadbStmtBulkExecute) return OnResultPacket(p, req);
        resp_ = Resp::kSinglePacket;
        return OnResultPacket(p, req);
    }
  }
  if (resp_ == Resp::kPrepareParams || resp_ == Resp::kPrepareCols || resp_ == Resp::kPrepareEof) {
    return OnPrepareOk(p, req);
  }
  return OnResultPacket(p, req);
}

bool MysqlParser::OnServerHandshake(const Packet& p) {
  if (First(p) == kErrHeader) {
    // Refused before the handshake ("Too many connections", host blocked).
    phase_ = Phase::kStopped;
    return false;
  }
  BinaryReader r(p.payload);
  auto version = r.U8();
  auto server_version = r.CString();
  auto thread_id = r.U32Le();
  bool ok = version && *version == kHandshakeV10 && server_version && thread_id && r.Skip(8 + 1);
  auto caps_low = ok ? r.U16Le() : std::nullopt;
  if (!caps_low) {
    ++stats_.parse_errors;
    phase_ = Phase::kCommand;  // follow commands with unknown capabilities
    return true;
  }
  server_caps_ = *caps_low;
  // charset (1), status (2), upper capabilities (2), auth data length (1),
  // 6 reserved bytes, MariaDB extended capabilities (4).
  if (r.Skip(1 + 2)) {
    if (auto caps_high = r.U16Le()) server_caps_ |= static_cast<std::uint32_t>(*caps_high) << 16;
    if (r.Skip(1 + 6)) {
      if (auto ext = r.U32Le(); ext && (server_caps_ & kClientMysql) == 0) server_ext_caps_ = *ext;
    }
  }
  phase_ = Phase::kHandshakeResponse;
  return true;
}

bool MysqlParser::OnAuthPacket(const Packet& p) {
  switch (First(p)) {
    case kOkHeader:
      phase_ = Phase::kCommand;
      return true;
    case kErrHeader:
      phase_ = Phase::kStopped;  // access denied: the server closes
      return false;
    case kEofHeader:           // auth switch request
    case kAuthMoreDataHeader:  // e.g. caching_sha2 fast-auth result, RSA key
      return true;
    default:
      ++stats_.parse_errors;
      return true;
  }
}

void MysqlParser::StartResponse(Resp state) {
  resp_ = state;
  columns_left_ = 0;
  params_left_ = 0;
  rows_ = 0;
}

std::string_view MysqlParser::CurrentStatement(const Pending& req) {
  if (req.statements.empty()) return {};
  return req.statements[std::min(req.result_index, req.statements.size() - 1)];
}

bool MysqlParser::AnsweringCall(const Pending& req) {
  const std::string_view s = CurrentStatement(req);
  return s.size() >= 4 && EqualsIgnoreCase(s.substr(0, 4), "CALL") &&
         (s.size() == 4 || s[4] == ' ' || s[4] == '(');
}

void MysqlParser::Finish(const Packet& p, bool error, std::string error_code, std::int64_t rows,
                         bool more) {
  Pending& req = pending_.front();
  req.call_had_results = false;
  req.call_rows = 0;
  Exchange ex;
  ex.protocol = Protocol::kMysql;
  ex.statement = CurrentStatement(req);
  if (req.command == static_cast<std::uint8_t>(Command::kStmtPrepare)) {
    ex.statement = "PREPARE " + ex.statement;
  }
  ex.request_end_ns = req.request_end_ns;
  ex.response_end_ns = p.ts_ns;
  ex.error = error;
  ex.error_code = std::move(error_code);
  ex.rows = rows;
  done_.push_back(std::move(ex));
  StartResponse(Resp::kFirst);
  if (more) {
    ++req.result_index;
  } else {
    pending_.pop_front();
  }
}

void MysqlParser::OpenCursor(const Packet& p) {
  const Pending& req = pending_.front();
  // A pipelined second execute of the statement may have been sent before
  // this response: the earlier run is over.
  CloseCursor(req.stmt_id);
  if (cursors_.size() >= kMaxPreparedStatements) CloseCursor(cursors_.begin());
  Cursor& c = cursors_[req.stmt_id];
  c.statement = CurrentStatement(req);
  c.request_end_ns = req.request_end_ns;
  c.response_end_ns = p.ts_ns;
  StartResponse(Resp::kFirst);
  pending_.pop_front();
}

bool MysqlParser::FinishFetch(const Packet& p, bool error, std::string error_code,
                              std::uint16_t status) {
  auto it = cursors_.find(pending_.front().stmt_id);
  if (it == cursors_.end()) return false;
  Cursor& c = it->second;
  if (c.rows >= 0) c.rows += static_cast<std::int64_t>(rows_);
  c.response_end_ns = p.ts_ns;
  if (error || (status & kServerStatusLastRowSent) != 0)
    CloseCursor(it, error, std::move(error_code));
  StartResponse(Resp::kFirst);
  pending_.pop_front();
  return true;
}

void MysqlParser::CloseCursor(Cursors::iterator it, bool error, std::string error_code) {
  Cursor& c = it->second;
  Exchange& ex = done_.emplace_back();
  ex.protocol = Protocol::kMysql;
  ex.statement = std::move(c.statement);
  ex.request_end_ns = c.request_end_ns;
  ex.response_end_ns = std::max(c.response_end_ns, c.request_end_ns);
  ex.error = error;
  ex.error_code = std::move(error_code);
  ex.rows = c.rows;
  cursors_.erase(it);
}

void MysqlParser::CloseCursor(std::uint32_t stmt_id) {
  if (auto it = cursors_.find(stmt_id); it != cursors_.end()) CloseCursor(it);
}

void MysqlParser::CloseAllCursors() {
  while (!cursors_.empty()) CloseCursor(cursors_.begin());
}

void MysqlParser::OnClose(std::uint64_t /*ts_ns: a run ends at its last response*/) {
  CloseAllCursors();
}

bool MysqlParser::ResponseError() {
  ++stats_.parse_errors;
  stats_.exchanges_lost += pending_.size();
  pending_.clear();
  StartResponse(Resp::kFirst);
  resp_wait_request_ = true;
  resp_framer_.ResyncAtNextChunk(1);
  return false;
}

bool MysqlParser::OnResultPacket(const Packet& p, Pending& req) {
  const std::uint8_t first = First(p);
  const bool counts_rows = req.command == static_cast<std::uint8_t>(Command::kQuery) ||
                           req.command == static_cast<std::uint8_t>(Command::kStmtExecute) ||
                           req.command == kMariadbStmtBulkExecute;
  if (p.payload.empty()) {
    // A gap took all of a packet but its header: only a row can be told
    // (an end-of-rows packet is shorter than 9 bytes).
    if (p.gap && resp_ == Resp::kRows && p.length >= 9) {
      ++rows_;
      return true;
    }
    return ResponseError();
  }
  if (first == kErrHeader && (!p.truncated || p.gap)) {
    auto err = ParseErr(p.payload);
    if (!err && !p.gap) return ResponseError();
    std::string code = err ? std::to_string(err->code) : std::string();
    const bool fetch = req.command == static_cast<std::uint8_t>(Command::kStmtFetch);
    if (!fetch || !FinishFetch(p, true, code, 0)) Finish(p, true, std::move(code), -1, false);
    return true;
  }
  switch (resp_) {
    case Resp::kSinglePacket: {
      // COM_PING & co.: OK, EOF (COM_SET_OPTION) or a string (COM_STATISTICS).
      Finish(p, false, "", -1, false);
      return true;
    }
    case Resp::kFirst: {
      if (first == kOkHeader) {
        auto ok = ParseOk(p.payload);
        if (!ok && p.gap) {
          Finish(p, false, "", -1, false);  // cut OK: affected rows unknown
          return true;
        }
        if (!ok) return ResponseError();
        const bool more = (ok->status & kServerMoreResultsExist) != 0;
        // A CALL's own OK: its rows are those of its result sets, if it had any.
        const auto rows =
            req.call_had_results ? req.call_rows : static_cast<std::int64_t>(ok->affected_rows);
        Finish(p, false, "", counts_rows ? rows : -1, more);
        return true;
      }
      if (first == kLocalInfileHeader) return true;  // file upload, then OK/ERR
      BinaryReader r(p.payload);
      auto columns = ReadLenencInt(r);
      if (!columns || *columns == 0 || *columns > kMaxColumns) return ResponseError();
      bool metadata_follows = true;
      if (CacheMetadata()) {
        // MariaDB: a flag says whether column definitions are sent or the
        // client's cached ones apply.
        auto flag = r.U8();
        if (!flag) return ResponseError();
        metadata_follows = *flag != 0;
      }
      StartResponse(metadata_follows ? Resp::kColumnDefs : Resp::kColumnsEof);
      columns_left_ = metadata_follows ? *columns : 0;
      if (!metadata_follows && DeprecateEof()) resp_ = Resp::kRows;
      return true;
    }
    case Resp::kColumnDefs:
      // Column definition 4.1 starts with the catalog, always "def".
      if (p.payload.substr(0, 4) != std::string_view("\x03"
                                                     "def",
                                                     4) &&
          !(TooShortToCheck(p, 4) && std::string_view("\x03"
                                                      "def",
                                                      4)
                                         .starts_with(p.payload)))
        return ResponseError();
      if (--columns_left_ == 0) resp_ = DeprecateEof() ? Resp::kRows : Resp::kColumnsEof;
      return true;
    case Resp::kColumnsEof:
      if (IsEofPacket(p) && p.length == 5) {
        auto eof = ParseEof(p.payload);
        if (!eof && !p.gap) return ResponseError();
        if (eof && (eof->status & kServerStatusCursorExists) != 0) {
          // Cursor opened: rows come later through COM_STMT_FETCH.
          OpenCursor(p);
          return true;
        }
        resp_ = Resp::kRows;
        return true;
      }
      if (caps_known_) return ResponseError();
      resp_ = Resp::kRows;  // capabilities unknown: the server deprecated EOF
      [[fallthrough]];
    case Resp::kRows: {
      if (IsEndOfRows(p)) {
        auto end = p.length == 5 ? ParseEof(p.payload) : ParseOk(p.payload);
        if (!end && !p.gap) return ResponseError();
        // A cut end packet lost its status: assume no more results (and, for
        // a fetch, a cursor that goes on until it is closed).
        const std::uint16_t status = end ? end->status : 0;
        if (req.command == static_cast<std::uint8_t>(Command::kStmtFetch)) {
          if (!FinishFetch(p, false, "", status)) Finish(p, false, "", -1, false);
          return true;
        }
        if (req.command == static_cast<std::uint8_t>(Command::kStmtExecute) && rows_ == 0 &&
            (status & kServerStatusCursorExists) != 0) {
          // Under CLIENT_DEPRECATE_EOF this OK ends the metadata of an
          // execute that opened a cursor.
          OpenCursor(p);
          return true;
        }
        const bool more_results = (status & kServerMoreResultsExist) != 0;
        if (more_results && AnsweringCall(req)) {
          // One of a procedure's result sets (COM_QUERY or COM_STMT_EXECUTE):
          // the CALL goes on until its own OK or an ERR.
          req.call_had_results = true;
          req.call_rows += static_cast<std::int64_t>(rows_);
          StartResponse(Resp::kFirst);
          return true;
        }
        const bool more = more_results && req.command == static_cast<std::uint8_t>(Command::kQuery);
        Finish(p, false, "", counts_rows ? static_cast<std::int64_t>(rows_) : -1, more);
        return true;
      }
      ++rows_;
      return true;
    }
    default:
      return ResponseError();
  }
}

bool MysqlParser::OnPrepareOk(const Packet& p, Pending& req) {
  switch (resp_) {
    case Resp::kFirst: {
      if (First(p) == kErrHeader) {
        auto err = ParseErr(p.payload);
        if (!err && !p.gap) return ResponseError();
        Finish(p, true, err ? std::to_string(err->code) : std::string(), -1, false);
        return true;
      }
      BinaryReader r(p.payload);
      auto status = r.U8();
      auto id = r.U32Le();
      auto columns = r.U16Le();
      auto params = r.U16Le();
      if (!status || *status != kOkHeader || !id || !columns || !params) return ResponseError();
      prepare_id_ = *id;
      if (prepared_.size() >= kMaxPreparedStatements && !prepared_.contains(*id)) {
        prepared_.erase(prepared_.begin());  // a leaking client: forget any one
      }
      prepared_[*id] = req.statements.empty() ? std::string() : req.statements.front();
      StartResponse(Resp::kPrepareParams);
      params_left_ = *params;
      columns_left_ = *columns;
      AfterPrepareSection();
      if (resp_ == Resp::kFirst) Finish(p, false, "", -1, false);
      return true;
    }
    case Resp::kPrepareParams:
    case Resp::kPrepareCols: {
      if (p.payload.substr(0, 4) != std::string_view("\x03"
                                                     "def",
                                                     4) &&
          !(TooShortToCheck(p, 4) && std::string_view("\x03"
                                                      "def",
                                                      4)
                                         .starts_with(p.payload)))
        return ResponseError();
      std::uint64_t& left = resp_ == Resp::kPrepareParams ? params_left_ : columns_left_;
      if (--left == 0) {
        if (DeprecateEof()) {
          AfterPrepareSection();
        } else {
          // Which section the EOF closes follows from params_left_ == 0 and
          // the section order (parameters before columns).
          resp_ = Resp::kPrepareEof;
        }
      }
      if (resp_ == Resp::kFirst) Finish(p, false, "", -1, false);
      return true;
    }
    case Resp::kPrepareEof: {
      if (!IsEofPacket(p)) return ResponseError();
      AfterPrepareSection();
      if (resp_ == Resp::kFirst) Finish(p, false, "", -1, false);
      return true;
    }
    default:
      return ResponseError();
  }
}

// Moves to the next non-empty section of a prepare response, or to kFirst
// when the response is complete.
void MysqlParser::AfterPrepareSection() {
  if (params_left_ > 0) {
    resp_ = Resp::kPrepareParams;
  } else if (columns_left_ > 0) {
    resp_ = Resp::kPrepareCols;
  } else {
    resp_ = Resp::kFirst;
  }
}

}  // namespace mysql

std::unique_ptr<ConnectionParser> MakeMysqlParser(const ParserOptions& options) {
  return std::make_unique<mysql::MysqlParser>(options);
}

bool LooksLikeMysql(std::string_view first_response_bytes) {
  BinaryReader r(first_response_bytes);
  auto len = r.U24Le();
  auto seq = r.U8();
  auto version = r.U8();
  if (!len || !seq || !version || *seq != 0 || *version != mysql::kHandshakeV10) return false;
  // A real handshake is ~70-120 bytes; the version string is printable.
  if (*len < 30 || *len > 1024) return false;
  std::string_view rest = r.rest().substr(0, *len - 1);
  std::size_t nul = rest.find('\0');
  if (nul == std::string_view::npos || nul == 0 || nul > 64) return false;
  return std::all_of(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(nul),
                     [](char c) { return c >= 0x20 && c < 0x7f; });
}

}  // namespace waitscope::protocols
