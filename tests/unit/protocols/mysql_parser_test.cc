// MySQL parser tests on connections recorded from a real MariaDB 10.11 server
// (mariadb CLI, libmariadb prepared statements, PyMySQL multi-statements)
// through tools/capture/tcp_capture_proxy.py; see docs/protocols/mysql.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "capture.h"
#include "protocols/mysql/parser.h"
#include "protocols/mysql/statement_split.h"
#include "protocols/mysql/types.h"
#include "protocols/sql/normalize.h"

namespace waitscope::protocols {
namespace {

using testing::Chunk;
using testing::LoadCapture;

std::vector<Chunk> Load(const std::string& name) {
  return LoadCapture(std::string(PROTO_TESTDATA_DIR) + "/" + name);
}

std::string N(std::string_view sql) {
  return NormalizeSql(sql, SqlDialect::kMysql);
}

std::vector<Exchange> Parse(const std::vector<Chunk>& chunks, std::size_t piece = 0,
                            ParserStats* stats = nullptr) {
  auto parser = MakeMysqlParser(ParserOptions{});
  testing::Replay(*parser, chunks, piece);
  if (stats) *stats = parser->stats();
  return parser->TakeExchanges();
}

// Index of the n-th chunk (0-based) in direction `dir`.
std::size_t NthChunk(const std::vector<Chunk>& chunks, Direction dir, int n) {
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    if (chunks[i].dir == dir && n-- == 0) return i;
  }
  ADD_FAILURE() << "no such chunk";
  return 0;
}

bool Same(const Exchange& a, const Exchange& b) {
  return a.statement == b.statement && a.request_end_ns == b.request_end_ns &&
         a.response_end_ns == b.response_end_ns && a.error == b.error &&
         a.error_code == b.error_code && a.rows == b.rows && a.protocol == b.protocol;
}

void ExpectSame(const std::vector<Exchange>& want, const std::vector<Exchange>& got,
                const std::string& what) {
  ASSERT_EQ(want.size(), got.size()) << what;
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_TRUE(Same(want[i], got[i])) << what << " exchange " << i << ": " << got[i].statement;
  }
}

// Whole, split at every byte of every chunk, and byte by byte: all identical.
void ExpectStableUnderChunking(const std::string& name) {
  auto chunks = Load(name);
  ParserStats stats;
  auto whole = Parse(chunks, 0, &stats);
  EXPECT_EQ(stats.parse_errors, 0u);
  EXPECT_EQ(stats.unmatched_responses, 0u);
  ExpectSame(whole, Parse(chunks, 1), name + " byte by byte");
  for (std::size_t c = 0; c < chunks.size(); ++c) {
    for (std::size_t cut = 1; cut < chunks[c].data.size(); ++cut) {
      auto parser = MakeMysqlParser(ParserOptions{});
      testing::ReplaySplitAt(*parser, chunks, c, cut);
      ExpectSame(whole, parser->TakeExchanges(),
                 name + " split chunk " + std::to_string(c) + " at " + std::to_string(cut));
      EXPECT_EQ(parser->stats().parse_errors, 0u);
      if (::testing::Test::HasFailure()) return;
    }
  }
}

TEST(MysqlParser, CliQueries) {
  auto chunks = Load("mariadb_cli.capture");
  auto ex = Parse(chunks);
  ASSERT_EQ(ex.size(), 7u);
  EXPECT_EQ(ex[0].statement, N("SELECT id, name FROM items WHERE name = 'apple'"));
  EXPECT_EQ(ex[0].rows, 1);
  EXPECT_FALSE(ex[0].error);
  EXPECT_EQ(ex[0].protocol, Protocol::kMysql);
  EXPECT_EQ(ex[1].statement, N("SELECT COUNT(*) FROM items"));
  EXPECT_EQ(ex[1].rows, 1);
  EXPECT_EQ(ex[2].statement, N("SELECT 1"));
  EXPECT_EQ(ex[3].statement, N("SELECT 2 AS two"));
  EXPECT_EQ(ex[4].statement,
            N("INSERT INTO items (name, price) VALUES ('kiwi', 3.10), ('fig', 4.20)"));
  EXPECT_EQ(ex[4].rows, 2);  // affected rows from the OK packet
  EXPECT_EQ(ex[5].statement, N("UPDATE items SET price = 9.99 WHERE name = 'kiwi'"));
  EXPECT_EQ(ex[5].rows, 1);
  EXPECT_EQ(ex[6].statement, N("SELECT * FROM no_such_table"));
  EXPECT_TRUE(ex[6].error);
  EXPECT_EQ(ex[6].error_code, "1146");
  EXPECT_EQ(ex[6].rows, -1);
  // Times: the first query is request chunk 2 (after handshake response),
  // its result is response chunk 2 (after handshake and auth OK).
  EXPECT_EQ(ex[0].request_end_ns, chunks[NthChunk(chunks, Direction::kRequest, 1)].ts_ns);
  EXPECT_EQ(ex[0].response_end_ns, chunks[NthChunk(chunks, Direction::kResponse, 2)].ts_ns);
  EXPECT_EQ(ex[6].request_end_ns, chunks[NthChunk(chunks, Direction::kRequest, 7)].ts_ns);
  EXPECT_EQ(ex[6].response_end_ns, chunks[NthChunk(chunks, Direction::kResponse, 8)].ts_ns);
  for (const auto& e : ex) EXPECT_LE(e.request_end_ns, e.response_end_ns);
}

TEST(MysqlParser, PreparedStatements) {
  auto chunks = Load("libmariadb_stmt.capture");
  auto ex = Parse(chunks);
  const std::string select = N("SELECT id, name, price FROM items WHERE id >= ? ORDER BY id");
  const std::string update = N("UPDATE items SET price = price + 1 WHERE id <= ?");
  ASSERT_EQ(ex.size(), 8u);
  EXPECT_EQ(ex[0].statement, "PREPARE " + select);
  EXPECT_EQ(ex[0].rows, -1);
  EXPECT_EQ(ex[1].statement, select);  // COM_STMT_EXECUTE, binary result set
  EXPECT_EQ(ex[1].rows, 4);
  EXPECT_EQ(ex[2].statement, select);
  EXPECT_EQ(ex[2].rows, 5);
  EXPECT_EQ(ex[3].statement, "COM_STMT_RESET");
  EXPECT_EQ(ex[4].statement, "PREPARE " + update);
  EXPECT_EQ(ex[5].statement, update);
  EXPECT_EQ(ex[5].rows, 2);  // affected rows
  EXPECT_EQ(ex[6].statement, "PREPARE " + N("SELECT * FROM no_such_table WHERE id = ?"));
  EXPECT_TRUE(ex[6].error);
  EXPECT_EQ(ex[6].error_code, "1146");
  // COM_STMT_CLOSE x3 (no response) then COM_PING in one chunk.
  EXPECT_EQ(ex[7].statement, "COM_PING");
  EXPECT_FALSE(ex[7].error);
  // The ping shares its request chunk with the closes: that chunk's time.
  EXPECT_EQ(ex[7].request_end_ns, chunks[NthChunk(chunks, Direction::kRequest, 8)].ts_ns);
  EXPECT_EQ(ex[7].response_end_ns, chunks[NthChunk(chunks, Direction::kResponse, 9)].ts_ns);
}

TEST(MysqlParser, CommandsNeverAnsweredAreCappedAndCounted) {
  auto parser = MakeMysqlParser(ParserOptions{});
  std::vector<Chunk> session = Load("libmariadb_stmt.capture");
  session.pop_back();  // its COM_QUIT
  testing::Replay(*parser, session);
  // COM_STMT_EXECUTE of statement 1 (closed by now), sent and never answered.
  const std::string execute("\x0a\x00\x00\x00\x17\x01\x00\x00\x00\x00\x01\x00\x00\x00", 14);
  const std::size_t sent = mysql::MysqlParser::kMaxPending + 100;
  for (std::size_t i = 0; i < sent; ++i) parser->OnData(Direction::kRequest, execute, 1);
  EXPECT_EQ(parser->stats().exchanges_lost, 100u);
  EXPECT_EQ(parser->stats().parse_errors, 0u);
}

TEST(MysqlParser, MultiStatementsOneExchangePerResult) {
  auto chunks = Load("pymysql_multi.capture");
  auto ex = Parse(chunks);
  ASSERT_EQ(ex.size(), 8u);
  EXPECT_EQ(ex[0].statement, N("SET AUTOCOMMIT = 0"));
  EXPECT_EQ(ex[1].statement, N("SELECT name, price FROM items WHERE price > 1"));
  EXPECT_EQ(ex[1].rows, 4);
  EXPECT_EQ(ex[2].statement, N("SELECT 1"));
  EXPECT_EQ(ex[2].rows, 1);
  EXPECT_EQ(ex[3].statement, N("UPDATE items SET price = price WHERE id = 1"));
  EXPECT_EQ(ex[3].rows, 0);
  EXPECT_EQ(ex[4].statement, N("SELECT name FROM items"));
  EXPECT_EQ(ex[4].rows, 5);
  // The three results share the request; each ends with its own packet.
  EXPECT_EQ(ex[2].request_end_ns, ex[4].request_end_ns);
  EXPECT_LE(ex[2].response_end_ns, ex[4].response_end_ns);
  EXPECT_EQ(ex[5].statement, "USE shop");
  EXPECT_EQ(ex[6].statement, "COM_PING");
  EXPECT_EQ(ex[7].statement, N("INSERT INTO items (id, name) VALUES (1, 'dup')"));
  EXPECT_TRUE(ex[7].error);
  EXPECT_EQ(ex[7].error_code, "1062");  // duplicate entry
}

// A CALL answers with its procedure's result sets (each flagged "more
// results"), then its own OK: one exchange, as the server counts it, which
// ends at that OK or at an ERR. Each result set had been an exchange, and in
// a multi-statement the next statement's name went to the CALL's results.
TEST(MysqlParser, StoredProcedureCallIsOneExchange) {
  auto chunks = Load("stored_procedures.capture");
  ParserStats stats;
  auto ex = Parse(chunks, 0, &stats);
  ASSERT_EQ(ex.size(), 7u);
  EXPECT_EQ(ex[0].statement, N("SET AUTOCOMMIT = 0"));
  EXPECT_EQ(ex[1].statement, N("CALL p()"));
  EXPECT_EQ(ex[1].rows, 3);  // SELECT 1 AS a; SELECT 2 AS b UNION SELECT 3
  EXPECT_EQ(ex[1].response_end_ns, chunks[NthChunk(chunks, Direction::kResponse, 3)].ts_ns);
  EXPECT_EQ(ex[2].statement, N("CALL q()"));  // DO 1: its OK alone
  EXPECT_EQ(ex[2].rows, 0);
  EXPECT_EQ(ex[3].statement, N("CALL p()"));  // CALL p(); SELECT 9 AS z
  EXPECT_EQ(ex[3].rows, 3);
  EXPECT_EQ(ex[4].statement, N("SELECT 9 AS z"));
  EXPECT_EQ(ex[4].rows, 1);
  EXPECT_EQ(ex[3].request_end_ns, ex[4].request_end_ns);
  EXPECT_EQ(ex[5].statement, N("CALL r()"));  // SELECT 1 AS a; SELECT * FROM nope
  EXPECT_TRUE(ex[5].error);
  EXPECT_EQ(ex[5].error_code, "1146");
  EXPECT_EQ(ex[6].statement, N("SELECT 5 AS x"));
  EXPECT_EQ(ex[6].rows, 1);
  for (const Exchange& e : ex) EXPECT_FALSE(e.error && &e != &ex[5]) << e.statement;
  EXPECT_EQ(stats.unmatched_responses, 0u);
  EXPECT_EQ(stats.exchanges_lost, 0u);
}

TEST(MysqlParser, StableUnderChunking) {
  ExpectStableUnderChunking("mariadb_cli.capture");
  ExpectStableUnderChunking("libmariadb_stmt.capture");
  ExpectStableUnderChunking("pymysql_multi.capture");
  ExpectStableUnderChunking("stored_procedures.capture");
  ExpectStableUnderChunking("cursor_fetch.capture");
  ExpectStableUnderChunking("cursor_fetch_deprecate_eof.capture");
}

// One MySQL packet: 3-byte length, sequence id, payload.
std::string Packet(std::uint8_t seq, std::string_view payload) {
  std::string out;
  const auto n = static_cast<std::uint32_t>(payload.size());
  out.push_back(static_cast<char>(n & 0xff));
  out.push_back(static_cast<char>((n >> 8) & 0xff));
  out.push_back(static_cast<char>((n >> 16) & 0xff));
  out.push_back(static_cast<char>(seq));
  out.append(payload);
  return out;
}

// The first three chunks of the CLI capture: handshake, response, auth OK.
std::unique_ptr<ConnectionParser> AfterHandshake() {
  auto chunks = Load("mariadb_cli.capture");
  auto parser = MakeMysqlParser(ParserOptions{});
  testing::Replay(*parser, {chunks.begin(), chunks.begin() + 3});
  EXPECT_TRUE(parser->TakeExchanges().empty());
  return parser;
}

const std::string kOkOneRow("\x00\x01\x00\x02\x00\x00\x00", 7);

// tests/bpf/mysql_cursor_client.py against MariaDB 10.11, without and with
// CLIENT_DEPRECATE_EOF: a SELECT of 25 rows executed with a cursor and
// fetched 10 at a time until the last row (3 fetches), executed again and
// closed after one fetch, then an empty cursor. The server counts one
// statement per execute (Com_stmt_execute); each fetch had been an exchange
// named COM_STMT_FETCH and the execute's rows were 0.
TEST(MysqlParser, CursorFetchesAreTheExecutesExchange) {
  for (const char* name : {"cursor_fetch.capture", "cursor_fetch_deprecate_eof.capture"}) {
    SCOPED_TRACE(name);
    auto chunks = Load(name);
    ParserStats stats;
    auto ex = Parse(chunks, 0, &stats);
    const std::string s1 = N("SELECT seq FROM seq_1_to_25 WHERE seq > ?");
    const std::string s2 = N("SELECT seq FROM seq_1_to_25 WHERE seq > ? + 100");
    auto ts = [&](std::size_t i) { return chunks[i].ts_ns; };
    ASSERT_EQ(ex.size(), 5u);
    EXPECT_EQ(ex[0].statement, "PREPARE " + s1);
    EXPECT_EQ(ex[1].statement, s1);
    EXPECT_EQ(ex[1].rows, 25);
    EXPECT_EQ(ex[1].request_end_ns, ts(5));    // the execute
    EXPECT_EQ(ex[1].response_end_ns, ts(12));  // the fetch with the last row
    EXPECT_EQ(ex[2].statement, s1);
    EXPECT_EQ(ex[2].rows, 10);  // closed (COM_STMT_CLOSE) after one fetch
    EXPECT_EQ(ex[2].request_end_ns, ts(13));
    EXPECT_EQ(ex[2].response_end_ns, ts(16));
    EXPECT_EQ(ex[3].statement, "PREPARE " + s2);
    EXPECT_EQ(ex[4].statement, s2);
    EXPECT_EQ(ex[4].rows, 0);
    EXPECT_EQ(ex[4].response_end_ns, ts(23));
    for (const Exchange& e : ex) EXPECT_FALSE(e.error) << e.statement;
    EXPECT_EQ(stats.parse_errors, 0u);
    EXPECT_EQ(stats.unmatched_responses, 0u);
    EXPECT_EQ(stats.exchanges_lost, 0u);
  }
}

// A cursor still open when the connection ends (no COM_STMT_CLOSE, no
// COM_QUIT) is reported at the close with the rows fetched so far; one
// executed again is reported at that execute.
TEST(MysqlParser, OpenCursorEndsAtCloseOrNextExecute) {
  auto chunks = Load("cursor_fetch.capture");
  // Up to the first fetch of the second run (chunks 0..16), then the same
  // statement executed again (chunk 13's request and 14's response).
  std::vector<Chunk> cut(chunks.begin(), chunks.begin() + 17);
  cut.push_back(chunks[13]);
  cut.push_back(chunks[14]);
  cut.back().ts_ns = cut[cut.size() - 2].ts_ns + 1;
  auto parser = MakeMysqlParser(ParserOptions{});
  testing::Replay(*parser, cut);
  auto ex = parser->TakeExchanges();
  ASSERT_EQ(ex.size(), 3u);
  EXPECT_EQ(ex[2].rows, 10);  // the second run, ended by the third execute
  EXPECT_EQ(ex[2].response_end_ns, chunks[16].ts_ns);
  parser->OnClose(cut.back().ts_ns + 1);
  ex = parser->TakeExchanges();
  ASSERT_EQ(ex.size(), 1u);  // the third run: no fetch
  EXPECT_EQ(ex[0].statement, N("SELECT seq FROM seq_1_to_25 WHERE seq > ?"));
  EXPECT_EQ(ex[0].rows, 0);
  EXPECT_EQ(ex[0].response_end_ns, cut.back().ts_ns);
}

// COM_RESET_CONNECTION drops the session's prepared statements: the open
// cursor run ends there, and the statement id is unknown after it.
TEST(MysqlParser, ResetConnectionEndsCursorRuns) {
  auto chunks = Load("cursor_fetch.capture");
  auto parser = MakeMysqlParser(ParserOptions{});
  testing::Replay(*parser, {chunks.begin(), chunks.begin() + 17});  // 2nd run: one fetch
  EXPECT_EQ(parser->TakeExchanges().size(), 2u);
  const std::uint64_t ts = chunks[16].ts_ns;
  parser->OnData(Direction::kRequest, Packet(0, "\x1f"), ts + 1);
  auto ex = parser->TakeExchanges();
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].statement, N("SELECT seq FROM seq_1_to_25 WHERE seq > ?"));
  EXPECT_EQ(ex[0].rows, 10);
  EXPECT_EQ(ex[0].response_end_ns, ts);
  parser->OnData(Direction::kResponse, Packet(1, kOkOneRow), ts + 2);
  ex = parser->TakeExchanges();
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].statement, "COM_RESET_CONNECTION");
  // The same statement id executed now is not the old statement.
  parser->OnData(Direction::kRequest, chunks[13].data, ts + 3);
  parser->OnData(Direction::kResponse, chunks[14].data, ts + 4);
  parser->OnClose(ts + 5);
  ex = parser->TakeExchanges();
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].statement, "COM_STMT_EXECUTE");
}

// A gap that cuts a fetch's rows across a packet boundary: the run goes on,
// its rows unknown (-1); it still ends as one exchange.
TEST(MysqlParser, GapInAFetchLeavesTheRunsRowsUnknown) {
  auto chunks = Load("cursor_fetch.capture");
  auto parser = MakeMysqlParser(ParserOptions{});
  testing::Replay(*parser, {chunks.begin(), chunks.begin() + 10});  // up to the 2nd fetch
  const std::string& rows = chunks[10].data;
  parser->OnData(Direction::kResponse, std::string_view(rows).substr(0, 30), chunks[10].ts_ns);
  parser->OnGap(Direction::kResponse, rows.size() - 30 + 10);  // past the row packets' end
  testing::Replay(*parser, {chunks.begin() + 11, chunks.end()});
  auto ex = parser->TakeExchanges();
  const std::string s1 = N("SELECT seq FROM seq_1_to_25 WHERE seq > ?");
  ASSERT_GE(ex.size(), 2u);
  EXPECT_EQ(ex[1].statement, s1);
  EXPECT_EQ(ex[1].rows, -1);
  for (const Exchange& e : ex) EXPECT_NE(e.statement, "COM_STMT_FETCH");
  EXPECT_EQ(
      std::count_if(ex.begin(), ex.end(), [&](const Exchange& e) { return e.statement == s1; }), 2);
}

// Attached after the execute: the fetches' cursor is unknown, so each is
// reported as it was before cursors were followed, by its command name.
TEST(MysqlParser, FetchOfAnUnknownCursorIsItsOwnExchange) {
  auto chunks = Load("cursor_fetch.capture");
  auto parser = MakeMysqlParser(ParserOptions{});
  testing::Replay(*parser, {chunks.begin() + 7, chunks.begin() + 13});
  auto ex = parser->TakeExchanges();
  ASSERT_EQ(ex.size(), 3u);
  for (const Exchange& e : ex) EXPECT_EQ(e.statement, "COM_STMT_FETCH");
}

TEST(MysqlParser, GapInResponseResynchronises) {
  auto chunks = Load("mariadb_cli.capture");
  const std::size_t lost = NthChunk(chunks, Direction::kResponse, 4);  // SELECT 1's result
  auto parser = MakeMysqlParser(ParserOptions{});
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    if (i == lost) {
      // Half of the result arrives, then the rest is lost.
      parser->OnData(chunks[i].dir, std::string_view(chunks[i].data).substr(0, 20),
                     chunks[i].ts_ns);
      parser->OnGap(chunks[i].dir, chunks[i].data.size() - 20);
      continue;
    }
    parser->OnData(chunks[i].dir, chunks[i].data, chunks[i].ts_ns);
  }
  auto ex = parser->TakeExchanges();
  // The gap crossed packet boundaries: SELECT 1's end is lost, but the next
  // command proves it ended, so it is still reported, rows unknown.
  ASSERT_EQ(ex.size(), 7u);
  EXPECT_EQ(ex[1].statement, N("SELECT COUNT(*) FROM items"));
  EXPECT_EQ(ex[2].statement, N("SELECT 1"));
  EXPECT_EQ(ex[2].rows, -1);
  EXPECT_FALSE(ex[2].error);
  EXPECT_EQ(ex[2].request_end_ns, chunks[lost - 1].ts_ns);
  EXPECT_EQ(ex[2].response_end_ns, chunks[lost].ts_ns);
  EXPECT_EQ(ex[3].statement, N("SELECT 2 AS two"));
  EXPECT_EQ(ex[3].rows, 1);
  EXPECT_EQ(ex[4].rows, 2);
  EXPECT_EQ(ex[6].error_code, "1146");
  EXPECT_EQ(parser->stats().parse_errors, 0u);
  EXPECT_GE(parser->stats().resyncs, 1u);
}

// --capture-bytes K: every syscall longer than K bytes arrives as its first
// K bytes and a gap. mariadb_large_rows.capture (MariaDB 10.11, mariadb CLI)
// has result sets of 60 KB and 70 KB in single reads.
TEST(MysqlParser, CaptureBytesLimitKeepsExchanges) {
  auto chunks = Load("mariadb_large_rows.capture");
  ParserStats whole_stats;
  auto whole = Parse(chunks, 0, &whole_stats);
  ASSERT_EQ(whole.size(), 7u);
  EXPECT_EQ(whole_stats.parse_errors, 0u);
  EXPECT_EQ(whole[0].statement, N("SELECT id, REPEAT(name, 12000) FROM items WHERE id = 1"));
  EXPECT_EQ(whole[0].rows, 1);
  EXPECT_EQ(whole[2].rows, 4);
  EXPECT_EQ(whole[3].rows, 1);
  EXPECT_EQ(whole[6].error_code, "1146");
  for (std::size_t k : {16u, 100u, 4096u, 16384u}) {
    auto parser = MakeMysqlParser(ParserOptions{});
    testing::ReplayCapped(*parser, chunks, k);
    auto got = parser->TakeExchanges();
    const std::string what = "K=" + std::to_string(k);
    ASSERT_EQ(got.size(), whole.size()) << what;
    for (std::size_t i = 0; i < whole.size(); ++i) {
      // A request longer than K is itself cut: its text is a prefix.
      if (k >= 100) {
        EXPECT_EQ(got[i].statement, whole[i].statement) << what << " #" << i;
      } else {
        EXPECT_TRUE(whole[i].statement.starts_with(got[i].statement))
            << what << " #" << i << ": " << got[i].statement;
        EXPECT_FALSE(got[i].statement.empty()) << what << " #" << i;
      }
      EXPECT_EQ(got[i].error, whole[i].error) << what << " #" << i;
      EXPECT_EQ(got[i].error_code, whole[i].error_code) << what << " #" << i;
      EXPECT_EQ(got[i].request_end_ns, whole[i].request_end_ns) << what << " #" << i;
      EXPECT_EQ(got[i].response_end_ns, whole[i].response_end_ns) << what << " #" << i;
      // Rows are exact when every gap fell inside one packet; a gap across
      // packets makes them unknown, never wrong.
      if (got[i].rows != -1) {
        EXPECT_EQ(got[i].rows, whole[i].rows) << what << " #" << i;
      }
    }
    EXPECT_EQ(parser->stats().parse_errors, 0u) << what;
    // Small results fit in K bytes and keep their row counts.
    if (k >= 4096) {
      EXPECT_EQ(got[1].rows, 4) << what;
      EXPECT_EQ(got[4].rows, 2) << what;  // UPDATE's OK packet
      EXPECT_EQ(got[5].rows, 1) << what;
    }
  }
}

// A gap inside one packet keeps the exchange; byte-exact skipping means the
// rest of the result (more rows, EOF) parses normally.
TEST(MysqlParser, GapInsideRowPacketIsSkipped) {
  auto chunks = Load("mariadb_large_rows.capture");
  auto whole = Parse(chunks);
  // Cut every chunk in the middle of the 60 KB row, at many offsets.
  const std::size_t big = NthChunk(chunks, Direction::kResponse, 2);
  ASSERT_GT(chunks[big].data.size(), 50000u);
  for (std::size_t cut : {200u, 1000u, 30000u, 59000u}) {
    for (std::size_t lost : {1u, 17u, 500u}) {
      auto parser = MakeMysqlParser(ParserOptions{});
      for (std::size_t i = 0; i < chunks.size(); ++i) {
        if (i != big) {
          parser->OnData(chunks[i].dir, chunks[i].data, chunks[i].ts_ns);
          continue;
        }
        std::string_view d(chunks[i].data);
        parser->OnData(chunks[i].dir, d.substr(0, cut), chunks[i].ts_ns);
        parser->OnGap(chunks[i].dir, lost);
        parser->OnData(chunks[i].dir, d.substr(cut + lost), chunks[i].ts_ns);
      }
      ExpectSame(whole, parser->TakeExchanges(),
                 "cut " + std::to_string(cut) + " lost " + std::to_string(lost));
      EXPECT_EQ(parser->stats().parse_errors, 0u);
    }
  }
}

TEST(MysqlParser, GapInRequestResynchronises) {
  auto chunks = Load("mariadb_cli.capture");
  const std::size_t lost = NthChunk(chunks, Direction::kRequest, 3);  // "SELECT 1"
  auto parser = MakeMysqlParser(ParserOptions{});
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    if (i == lost) {
      parser->OnData(chunks[i].dir, std::string_view(chunks[i].data).substr(0, 6), chunks[i].ts_ns);
      parser->OnGap(chunks[i].dir, chunks[i].data.size() - 6);
      continue;
    }
    parser->OnData(chunks[i].dir, chunks[i].data, chunks[i].ts_ns);
  }
  auto ex = parser->TakeExchanges();
  // The gap ended inside the command packet, whose length is known: the
  // command is kept with the text that arrived ("S", a prefix).
  ASSERT_EQ(ex.size(), 7u);
  EXPECT_EQ(ex[2].statement, "S");
  EXPECT_EQ(ex[2].rows, 1);
  EXPECT_EQ(ex[3].statement, N("SELECT 2 AS two"));
  EXPECT_EQ(ex[3].request_end_ns, chunks[lost + 2].ts_ns);
  EXPECT_EQ(ex[5].rows, 1);
  EXPECT_EQ(ex[6].error_code, "1146");
}

TEST(MysqlParser, TruncatedCaptureKeepsCompletedExchanges) {
  auto chunks = Load("libmariadb_stmt.capture");
  const std::size_t cut = NthChunk(chunks, Direction::kResponse, 4);  // second execute's rows
  auto parser = MakeMysqlParser(ParserOptions{});
  testing::Replay(*parser, {chunks.begin(), chunks.begin() + static_cast<std::ptrdiff_t>(cut)});
  parser->OnData(Direction::kResponse, std::string_view(chunks[cut].data).substr(0, 50), 1);
  auto ex = parser->TakeExchanges();
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[1].rows, 4);
  EXPECT_EQ(parser->stats().parse_errors, 0u);
}

TEST(MysqlParser, GarbageNeverCrashesAndIsCounted) {
  std::mt19937 rng(42);
  std::uint64_t errors = 0;
  for (int round = 0; round < 200; ++round) {
    auto parser = round % 2 ? AfterHandshake() : MakeMysqlParser(ParserOptions{});
    for (int i = 0; i < 20; ++i) {
      std::string junk(rng() % 300, '\0');
      for (char& c : junk) c = static_cast<char>(rng());
      parser->OnData(rng() % 2 ? Direction::kRequest : Direction::kResponse, junk, i);
      if (rng() % 10 == 0) parser->OnGap(Direction::kResponse, 5);
    }
    parser->TakeExchanges();
    errors += parser->stats().parse_errors + parser->stats().unmatched_responses;
  }
  EXPECT_GT(errors, 0u);
}

TEST(MysqlParser, SslRequestStopsParsingWithoutError) {
  auto chunks = Load("mariadb_cli.capture");
  auto parser = std::make_unique<mysql::MysqlParser>(ParserOptions{});
  parser->OnData(Direction::kResponse, chunks[0].data, 1);  // real server handshake
  // SSL request: capabilities with CLIENT_SSL, max packet, charset, 23 zeros.
  std::string ssl(32, '\0');
  const std::uint32_t caps = mysql::kClientProtocol41 | mysql::kClientSsl |
                             mysql::kClientSecureConnection | mysql::kClientPluginAuth;
  for (int i = 0; i < 4; ++i) ssl[i] = static_cast<char>((caps >> (8 * i)) & 0xff);
  parser->OnData(Direction::kRequest, Packet(1, ssl), 2);
  parser->OnData(Direction::kRequest, std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc", 9), 3);
  parser->OnData(Direction::kResponse, std::string("\x16\x03\x03\x00\x7a\x02", 6), 4);
  EXPECT_TRUE(parser->encrypted());
  EXPECT_TRUE(parser->TakeExchanges().empty());
  EXPECT_EQ(parser->stats().parse_errors, 0u);
}

TEST(MysqlParser, OversizedAndMultiPacketPayloadsAreSkippedBounded) {
  auto parser = AfterHandshake();
  // A 2 MiB statement: more than kMaxBufferedBytes, delivered in 64 KiB writes.
  std::string big = "\x03SELECT '" + std::string(2 << 20, 'a') + "'";
  std::string wire = Packet(0, big);
  for (std::size_t off = 0; off < wire.size(); off += 65536) {
    parser->OnData(Direction::kRequest, std::string_view(wire).substr(off, 65536), 100);
  }
  parser->OnData(Direction::kResponse, Packet(1, kOkOneRow), 200);
  // A multi-packet payload: 0xFFFFFF bytes, then a 5-byte continuation.
  std::string huge(mysql::kMaxPacketPayload, 'b');
  huge[0] = '\x03';
  std::string wire2 = Packet(0, huge) + Packet(1, "bbbbb");
  parser->OnData(Direction::kRequest, wire2, 300);
  parser->OnData(Direction::kResponse, Packet(2, kOkOneRow), 400);
  auto ex = parser->TakeExchanges();
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[0].request_end_ns, 100u);
  EXPECT_EQ(ex[0].response_end_ns, 200u);
  EXPECT_EQ(ex[0].rows, 1);
  EXPECT_EQ(ex[0].statement.substr(0, 6), "SELECT");
  EXPECT_LE(ex[0].statement.size(), 300u);
  EXPECT_EQ(ex[1].request_end_ns, 300u);
  EXPECT_EQ(parser->stats().parse_errors, 2u);  // each skipped payload counted once
}

// A prepared CALL (COM_STMT_EXECUTE) answers like a CALL in a COM_QUERY:
// result sets flagged "more results", then its OK. The procedure's answer is
// the recorded one of `CALL p()` (rows are counted alike in both protocols).
TEST(MysqlParser, PreparedCallIsOneExchange) {
  auto chunks = Load("stored_procedures.capture");
  auto parser = MakeMysqlParser(ParserOptions{});
  testing::Replay(*parser, {chunks.begin(), chunks.begin() + 3});        // handshake, auth OK
  const std::size_t call = NthChunk(chunks, Direction::kResponse, 3);    // CALL p()'s answer
  const std::size_t select = NthChunk(chunks, Direction::kResponse, 8);  // SELECT 5 AS x's
  // COM_STMT_PREPARE; OK: statement 7, no columns, no parameters.
  parser->OnData(Direction::kRequest,
                 Packet(0,
                        "\x16"
                        "CALL p()"),
                 100);
  parser->OnData(Direction::kResponse,
                 Packet(1, std::string("\x00\x07\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 12)),
                 110);
  // COM_STMT_EXECUTE 7, no cursor, one iteration.
  parser->OnData(Direction::kRequest,
                 Packet(0, std::string("\x17\x07\x00\x00\x00\x00\x01\x00\x00\x00", 10)), 200);
  parser->OnData(Direction::kResponse, chunks[call].data, 210);
  parser->OnData(Direction::kRequest, Packet(0, "\x03SELECT 5 AS x"), 300);
  parser->OnData(Direction::kResponse, chunks[select].data, 310);
  auto ex = parser->TakeExchanges();
  ASSERT_EQ(ex.size(), 3u);
  EXPECT_EQ(ex[0].statement, "PREPARE " + N("CALL p()"));
  EXPECT_EQ(ex[1].statement, N("CALL p()"));
  EXPECT_EQ(ex[1].rows, 3);
  EXPECT_EQ(ex[1].request_end_ns, 200u);
  EXPECT_EQ(ex[1].response_end_ns, 210u);
  EXPECT_EQ(ex[2].statement, N("SELECT 5 AS x"));
  EXPECT_EQ(ex[2].rows, 1);
  EXPECT_EQ(parser->stats().parse_errors, 0u);
  EXPECT_EQ(parser->stats().unmatched_responses, 0u);
}

TEST(MysqlParser, PipelinedRequestsMatchInOrder) {
  auto parser = AfterHandshake();
  parser->OnData(Direction::kRequest, Packet(0, "\x03UPDATE a SET x = 1") + Packet(0, "\x0e"), 10);
  parser->OnData(Direction::kResponse,
                 Packet(1, kOkOneRow) + Packet(1, std::string("\x00\x00\x00\x02\x00\x00\x00", 7)),
                 20);
  auto ex = parser->TakeExchanges();
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[0].statement, N("UPDATE a SET x = 1"));
  EXPECT_EQ(ex[0].rows, 1);
  EXPECT_EQ(ex[1].statement, "COM_PING");
}

TEST(MysqlParser, CaptureValuesKeepsRawText) {
  auto chunks = Load("mariadb_cli.capture");
  auto parser = MakeMysqlParser(ParserOptions{.capture_values = true});
  testing::Replay(*parser, chunks);
  auto ex = parser->TakeExchanges();
  ASSERT_FALSE(ex.empty());
  EXPECT_EQ(ex[0].statement, "SELECT id, name FROM items WHERE name = 'apple'");
}

TEST(MysqlParser, LooksLikeMysqlOnServerHandshake) {
  auto chunks = Load("mariadb_cli.capture");
  EXPECT_TRUE(LooksLikeMysql(chunks[0].data));
  EXPECT_FALSE(LooksLikeMysql(chunks[0].data.substr(0, 6)));
  EXPECT_FALSE(LooksLikeMysql(chunks[1].data));  // client handshake response
  EXPECT_FALSE(LooksLikeMysql("HTTP/1.1 200 OK\r\n\r\n"));
  EXPECT_FALSE(LooksLikeMysql("+PONG\r\n"));
  EXPECT_FALSE(LooksLikeMysql(""));
}

TEST(MysqlStatementSplit, RespectsQuotesAndComments) {
  auto parts = mysql::SplitStatements(
      "SELECT 'a;b'; SELECT `x;y` FROM t -- c;d\n; /* ; */ UPDATE t SET s = \"q\\\";\";  ;");
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0], "SELECT 'a;b'");
  EXPECT_EQ(parts[1], "SELECT `x;y` FROM t -- c;d");
  EXPECT_EQ(parts[2], "/* ; */ UPDATE t SET s = \"q\\\";\"");
  EXPECT_EQ(mysql::SplitStatements("SELECT 1").size(), 1u);
  EXPECT_TRUE(mysql::SplitStatements(" ; ").empty());
}

// MariaDB 10.11 answers these one part at a time (a result, an OK or an
// error each): the parts are what it answers, so each reply gets its own.
TEST(MysqlStatementSplit, EmptyPartsBeforeTextAreStatements) {
  using Parts = std::vector<std::string_view>;
  EXPECT_EQ(mysql::SplitStatements("SELECT 1;;SELECT 2"), (Parts{"SELECT 1", "", "SELECT 2"}));
  EXPECT_EQ(mysql::SplitStatements(";SELECT 1"), (Parts{"", "SELECT 1"}));
  EXPECT_EQ(mysql::SplitStatements("SELECT 1; ;"), (Parts{"SELECT 1"}));
  EXPECT_EQ(mysql::SplitStatements("SELECT 1; /* a */;"), (Parts{"SELECT 1", "/* a */"}));
  EXPECT_EQ(mysql::SplitStatements("SELECT 1;\n-- x\n;SELECT 2"),
            (Parts{"SELECT 1", "-- x", "SELECT 2"}));
}

}  // namespace
}  // namespace waitscope::protocols
