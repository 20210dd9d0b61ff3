// MySQL/MariaDB client/server protocol parser: one instance per connection
// turns both directions' bytes into Exchanges (one per command, and one per
// result of a multi-statement COM_QUERY).
//
// Contract (beyond protocols/common/connection_parser.h):
//  - follows the connection from the server's initial handshake (v10),
//    through the handshake response (capabilities: CLIENT_DEPRECATE_EOF,
//    MariaDB metadata caching) and authentication (auth switch, auth more
//    data), to the command phase. A parser attached mid-connection starts at
//    the next command and guesses the EOF style per result set;
//  - CLIENT_SSL (SSL request) or CLIENT_COMPRESS: the rest of the stream is
//    TLS / compressed, so parsing stops; encrypted()/compressed() say so.
//    This is not an error;
//  - statement text is NormalizeSql(text, kMysql) unless
//    ParserOptions::capture_values; COM_STMT_EXECUTE reports the text its
//    COM_STMT_PREPARE registered, COM_STMT_PREPARE itself is reported as
//    "PREPARE <text>", other commands as their name ("COM_PING", "USE db").
//    Parameter values and rows are never decoded or kept;
//  - rows: rows of a result set, or affected rows of an OK packet (COM_QUERY,
//    COM_STMT_EXECUTE); error/error_code from ERR packets (the MySQL error
//    number, e.g. "1146");
//  - a COM_STMT_EXECUTE that opens a cursor and the COM_STMT_FETCHes that
//    read it are one exchange (the server counts one execute), ending at the
//    fetch that sends the last row, an error, or the statement's close,
//    reset, next execute or the connection's end, with all rows fetched.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "protocols/common/connection_parser.h"
#include "protocols/mysql/packet.h"
#include "protocols/mysql/types.h"

namespace waitscope::protocols {

std::unique_ptr<ConnectionParser> MakeMysqlParser(const ParserOptions& options);

// Protocol detection. In MySQL the SERVER speaks first: pass the first bytes
// the server sent on the connection (server -> client). True if they start
// with an initial handshake packet: sequence id 0, protocol version 10, a
// printable NUL-terminated server version. Needs at least the header and the
// version string; shorter input returns false.
bool LooksLikeMysql(std::string_view first_response_bytes);

namespace mysql {

class MysqlParser final : public ConnectionParser {
 public:
  explicit MysqlParser(const ParserOptions& options);

  void OnData(Direction dir, std::string_view bytes, std::uint64_t ts_ns) override;
  void OnGap(Direction dir, std::uint64_t missing_bytes) override;
  void OnClose(std::uint64_t ts_ns) override;

  bool encrypted() const override { return encrypted_; }  // SSL request seen: rest is TLS
  bool compressed() const { return compressed_; }         // CLIENT_COMPRESS negotiated

  // Upper bound of remembered prepared statements per connection.
  static constexpr std::size_t kMaxPreparedStatements = 4096;
  // Upper bound of commands awaiting their response (a peer that never
  // answers must not grow the queue for the connection's life).
  static constexpr std::size_t kMaxPending = 4096;

 private:
  enum class Phase : std::uint8_t { kHandshake, kHandshakeResponse, kAuth, kCommand, kStopped };
  // Where the front request's response is.
  enum class Resp : std::uint8_t {
    kFirst,          // expecting OK / ERR / result set header / prepare OK
    kColumnDefs,     // column definitions of a result set
    kColumnsEof,     // EOF after column definitions (unless CLIENT_DEPRECATE_EOF)
    kRows,           // rows until EOF/OK (also COM_FIELD_LIST, COM_STMT_FETCH)
    kPrepareParams,  // parameter definitions of a COM_STMT_PREPARE response
    kPrepareCols,    // column definitions of a COM_STMT_PREPARE response
    kPrepareEof,     // EOF closing one of the two prepare sections
    kSinglePacket,   // any one packet ends the response
  };
  struct Pending {
    std::uint8_t command = 0;
    std::vector<std::string> statements;  // one per expected result
    std::size_t result_index = 0;
    std::uint64_t request_end_ns = 0;
    // A CALL answers with its procedure's result sets, then its own OK (or
    // an ERR): one exchange. Rows of the result sets it had so far.
    bool call_had_results = false;
    std::int64_t call_rows = 0;
    std::uint32_t stmt_id = 0;  // COM_STMT_EXECUTE, COM_STMT_FETCH
  };
  // A cursor a COM_STMT_EXECUTE opened (SERVER_STATUS_CURSOR_EXISTS): its
  // rows come through COM_STMT_FETCH, and its exchange waits for its end.
  struct Cursor {
    std::string statement;
    std::uint64_t request_end_ns = 0;   // the execute's
    std::uint64_t response_end_ns = 0;  // the run's latest response
    std::int64_t rows = 0;              // -1 once a gap cut a fetch
  };
  using Cursors = std::unordered_map<std::uint32_t, Cursor>;

  bool OnRequestPacket(const Packet& p);
  bool OnResponsePacket(const Packet& p);
  bool OnServerHandshake(const Packet& p);
  bool OnHandshakeResponse(const Packet& p);
  bool OnAuthPacket(const Packet& p);
  bool OnCommand(const Packet& p);
  // Result set / prepare response steps; false on malformed input.
  bool OnResultPacket(const Packet& p, Pending& req);
  bool OnPrepareOk(const Packet& p, Pending& req);
  void AfterPrepareSection();

  // True if the statement the front request is answering is a CALL.
  static bool AnsweringCall(const Pending& req);
  void StartResponse(Resp state);
  void Finish(const Packet& p, bool error, std::string error_code, std::int64_t rows, bool more);
  // The front execute's response opened a cursor: its exchange starts.
  void OpenCursor(const Packet& p);
  // Ends the front COM_STMT_FETCH's response (status: of its end packet);
  // false if the cursor is unknown (opened before we attached).
  bool FinishFetch(const Packet& p, bool error, std::string error_code, std::uint16_t status);
  // Reports a cursor's exchange and forgets it.
  void CloseCursor(Cursors::iterator it, bool error = false, std::string error_code = {});
  void CloseCursor(std::uint32_t stmt_id);
  void CloseAllCursors();
  // The text of the statement whose result the front request is answering.
  static std::string_view CurrentStatement(const Pending& req);
  bool ResponseError();  // counts a parse error, drops pending, resyncs
  void FlushCut();
  std::string StatementText(std::string_view sql) const;
  bool DeprecateEof() const { return caps_known_ && (caps_ & kClientDeprecateEof) != 0; }
  bool CacheMetadata() const { return caps_known_ && cache_metadata_; }

  ParserOptions options_;
  PacketFramer req_framer_;
  PacketFramer resp_framer_;
  Phase phase_ = Phase::kHandshake;
  bool encrypted_ = false;
  bool compressed_ = false;
  bool caps_known_ = false;
  std::uint32_t server_caps_ = 0;
  std::uint32_t server_ext_caps_ = 0;
  std::uint32_t caps_ = 0;  // negotiated
  bool cache_metadata_ = false;

  std::deque<Pending> pending_;
  Resp resp_ = Resp::kFirst;
  std::uint64_t columns_left_ = 0;
  std::uint64_t params_left_ = 0;
  std::uint64_t rows_ = 0;
  std::uint32_t prepare_id_ = 0;
  bool req_resyncing_ = false;      // request bytes lost: wait for a command
  bool resp_wait_request_ = false;  // response bytes unusable until a new request
  std::uint64_t resp_last_ts_ = 0;  // time of the newest response chunk parsed
  // Exchange whose response a gap cut across packet boundaries; reported
  // (rows = -1) when the next command shows the response ended.
  std::optional<Exchange> cut_;

  std::unordered_map<std::uint32_t, std::string> prepared_;
  Cursors cursors_;  // by statement id, at most kMaxPreparedStatements
};

}  // namespace mysql
}  // namespace waitscope::protocols
