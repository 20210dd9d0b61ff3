// PostgreSQL frontend/backend protocol v3 connection parser: turns both
// directions of one connection into Exchanges, one per executed statement.
//
// Contract (on top of ConnectionParser's):
//  - simple Query: one Exchange per statement of the query string, matched
//    to its CommandComplete/ErrorResponse; statements after an error are not
//    run by the server and produce nothing;
//  - extended protocol: statement text comes from Parse, remembered per
//    connection for named statements and portals (bounded); each Execute is
//    one Exchange, except that the Executes of one portal run paused by row
//    limits (PortalSuspended) are one, as the server counts them;
//    request_end_ns is the Sync that sends (the run's first) Execute; an
//    ErrorResponse fails the first unfinished Execute (or the Parse) of its
//    Sync group and the rest of that group is dropped, as the server skips
//    to Sync;
//  - pipelined Sync groups are matched in order by ReadyForQuery;
//  - an SQL-level `EXECUTE name(...)` of a `PREPARE name AS statement` the
//    session ran is reported as that statement (sql_prepared.h);
//  - SSLRequest/GSSENCRequest answered 'S'/'G': the rest of the connection is
//    encrypted; the parser stops (no errors counted) and encrypted() is true;
//  - after a gap or malformed bytes it scans for a plausible message header
//    (known type, sane length, followed by another plausible header) and
//    drops the exchanges the lost bytes belonged to.
// Statement text is normalized (literals as `?`) unless
// ParserOptions::capture_values.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "protocols/common/connection_parser.h"
#include "protocols/common/stream_buffer.h"
#include "protocols/postgres/sql_prepared.h"

namespace waitscope::protocols {

std::unique_ptr<ConnectionParser> MakePostgresParser(const ParserOptions& options);

// Content-based detection from the first bytes a client sends: a
// StartupMessage (protocol 3.x), SSLRequest, GSSENCRequest or CancelRequest.
bool LooksLikePostgres(std::string_view first_request_bytes);

namespace postgres {

class PostgresParser final : public ConnectionParser {
 public:
  explicit PostgresParser(const ParserOptions& options) : options_(options) {}

  void OnData(Direction dir, std::string_view bytes, std::uint64_t ts_ns) override;
  void OnGap(Direction dir, std::uint64_t missing_bytes) override;

  // The server accepted SSL or GSS encryption: the bytes that follow are not
  // PostgreSQL messages and are ignored.
  bool encrypted() const override { return encrypted_; }

 private:
  // A statement waiting for its CommandComplete (or error).
  struct Pending {
    std::string statement;
    bool known = true;  // false: text unknown (Execute of a portal we never saw)
    std::uint64_t request_end_ns = 0;
    std::int64_t data_rows = 0;  // DataRows seen, for PortalSuspended
    // Extended protocol: the portal executed, and which Bind of that name.
    // A portal run in several Executes (row limits answered by
    // PortalSuspended) is one statement, as the server counts it: a later
    // Execute of the same portal continues the run's exchange (Continue).
    bool has_portal = false;
    std::string portal;  // "" is the unnamed portal
    std::uint64_t portal_bind = 0;
    bool continues_run = false;      // takes over a paused run's exchange
    std::int64_t earlier_rows = 0;   // rows of the run's earlier Executes
    std::uint64_t suspended_ns = 0;  // the run's last PortalSuspended
  };
  // What the server answers with one ReadyForQuery: a simple Query, the
  // extended-protocol messages up to one Sync, or something we cannot follow.
  struct Group {
    enum class Kind : std::uint8_t { kSimple, kExtended, kOpaque } kind = Kind::kSimple;
    std::deque<Pending> pending;
    std::deque<std::string> parses;  // Parse texts not yet acknowledged, for Parse errors
    std::uint64_t request_end_ns = 0;
    bool synced = false;  // extended: Sync seen, no more messages join this group
    bool failed = false;  // error seen: the server skips the rest up to Sync
    bool lost = false;    // response bytes were lost: ignore everything up to ReadyForQuery
    bool cut = false;     // lost by a response gap: its unfinished statements did run
  };
  struct Side {
    StreamBuffer buf;
    std::uint64_t skip = 0;  // bytes of a message we drop without buffering
    bool resync = false;     // scanning for a message boundary
  };
  enum class RequestMode : std::uint8_t { kUnknown, kStartup, kTyped };
  enum class EncryptionReply : std::uint8_t { kNone, kSsl, kGss };

  Side& side(Direction dir) { return dir == Direction::kRequest ? req_ : resp_; }
  void Feed(Direction dir, std::string_view bytes);
  void Parse(Direction dir);
  bool ParseStartup();
  bool ParseEncryptionReply();
  bool Resync(Direction dir);
  bool SkipGap(Direction dir, std::uint64_t n);
  void BadMessage(Direction dir);
  void OnOversized(Direction dir, char type);

  void HandleRequest(char type, std::string_view body);
  void HandleResponse(char type, std::string_view body);
  void HandleQuery(std::string_view body);
  void HandleParse(std::string_view body);
  void HandleBind(std::string_view body);
  void HandleClose(std::string_view body);
  void HandleExecute(std::string_view body);
  void HandleSync();
  void HandleError(std::string_view body);
  // Suspended portal runs: see Pending::portal.
  void Continue(Pending& p);
  void Suspend();
  void EndRun(const std::string& portal);
  void EndFinishedRuns(bool transaction_over);
  void Complete(std::int64_t rows, bool error, std::string code);

  Group& OpenExtendedGroup();
  Group& PushGroup(Group::Kind kind);
  std::string Render(std::string_view sql) const;
  void Emit(Pending& p, std::int64_t rows, bool error, std::string code);
  void FlushCut(Group& g, std::uint64_t response_end_ns);

  ParserOptions options_;
  Side req_;
  Side resp_;
  RequestMode mode_ = RequestMode::kUnknown;
  EncryptionReply awaiting_reply_ = EncryptionReply::kNone;
  bool encrypted_ = false;
  bool ready_seen_ = false;  // first ReadyForQuery: startup is over
  std::uint64_t now_ns_ = 0;
  std::uint64_t resp_last_ns_ = 0;  // time of the newest response chunk
  std::deque<Group> groups_;
  std::unordered_map<std::string, std::string> statements_;  // prepared name -> text
  SqlPreparedStatements sql_prepared_;                       // PREPARE ... AS, as SQL text
  // A bound portal: its statement's text, and which Bind made it (a count
  // of all Binds): an Execute belongs to the run of the Bind before it,
  // wherever the replies are.
  struct Portal {
    std::string text;
    std::uint64_t bind = 0;
  };
  std::unordered_map<std::string, Portal> portals_;
  std::uint64_t binds_ = 0;
  // Portal runs a PortalSuspended paused, by portal name: reported when the
  // run completes, or once the portal is gone (rebound or closed, with no
  // Execute of the run left to answer; the transaction's end).
  std::unordered_map<std::string, Pending> suspended_;
};

}  // namespace postgres
}  // namespace waitscope::protocols
