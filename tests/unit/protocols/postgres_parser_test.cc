// PostgreSQL parser tests: replays connections recorded from a real
// PostgreSQL 15 server (psql, pgbench -M simple/extended/prepared, and a
// hand-written pipelining client: testdata/pipeline_client.py) whole, split at
// every byte boundary and byte by byte, then damages them (gaps, truncation,
// garbage) and checks the parser recovers.
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "capture.h"
#include "protocols/postgres/parser.h"
#include "protocols/postgres/wire.h"

namespace waitscope::protocols {
namespace {

using testing::Chunk;
using testing::LoadCapture;

std::vector<Chunk> Load(const std::string& name) {
  return LoadCapture(std::string(PROTO_TESTDATA_DIR) + "/" + name + ".capture");
}

// Time of the first chunk in `dir` that contains `needle`: the chunk that
// must supply an exchange's timestamp.
std::uint64_t TsOf(const std::vector<Chunk>& chunks, Direction dir, std::string_view needle) {
  for (const Chunk& c : chunks) {
    if (c.dir == dir && c.data.find(needle) != std::string::npos) return c.ts_ns;
  }
  ADD_FAILURE() << "no chunk holds " << needle;
  return 0;
}

struct Want {
  std::string statement;
  std::int64_t rows;
  std::string error_code;  // empty: success
};

void ExpectStatements(const std::vector<Exchange>& got, const std::vector<Want>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(got[i].protocol, Protocol::kPostgres);
    EXPECT_EQ(got[i].statement, want[i].statement);
    EXPECT_EQ(got[i].rows, want[i].rows);
    EXPECT_EQ(got[i].error, !want[i].error_code.empty());
    EXPECT_EQ(got[i].error_code, want[i].error_code);
    EXPECT_LE(got[i].request_end_ns, got[i].response_end_ns);
  }
}

bool Same(const Exchange& a, const Exchange& b) {
  return a.statement == b.statement && a.rows == b.rows && a.error == b.error &&
         a.error_code == b.error_code && a.request_end_ns == b.request_end_ns &&
         a.response_end_ns == b.response_end_ns;
}

std::vector<Exchange> RunWhole(const std::vector<Chunk>& chunks, ParserStats* stats = nullptr) {
  auto p = MakePostgresParser({});
  testing::Replay(*p, chunks);
  if (stats) *stats = p->stats();
  return p->TakeExchanges();
}

std::string Msg(char type, const std::string& body) {
  std::uint32_t n = static_cast<std::uint32_t>(body.size() + 4);
  std::string m(1, type);
  for (int s = 24; s >= 0; s -= 8) m.push_back(static_cast<char>((n >> s) & 0xff));
  return m + body;
}
std::string Z() {
  return Msg('Z', "I");
}
std::string Cstr(const std::string& s) {
  return s + std::string(1, '\0');
}

const std::vector<Want> kPgbenchSimple = {
    {"BEGIN", -1, ""},
    {"UPDATE pgbench_accounts SET abalance = abalance + ? WHERE aid = ?", 1, ""},
    {"SELECT abalance FROM pgbench_accounts WHERE aid = ?", 1, ""},
    {"UPDATE pgbench_tellers SET tbalance = tbalance + ? WHERE tid = ?", 1, ""},
    {"UPDATE pgbench_branches SET bbalance = bbalance + ? WHERE bid = ?", 1, ""},
    {"INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (?, ?, ?, ?, "
     "CURRENT_TIMESTAMP)",
     1, ""},
    {"END", -1, ""},
};
const std::vector<Want> kPgbenchExtended = {
    {"BEGIN", -1, ""},
    {"UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2", 1, ""},
    {"SELECT abalance FROM pgbench_accounts WHERE aid = $1", 1, ""},
    {"UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2", 1, ""},
    {"UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2", 1, ""},
    {"INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, "
     "CURRENT_TIMESTAMP)",
     1, ""},
    {"END", -1, ""},
};

std::vector<Want> Times3(const std::vector<Want>& tx) {
  std::vector<Want> out;
  for (int i = 0; i < 3; ++i) out.insert(out.end(), tx.begin(), tx.end());
  return out;
}

TEST(PostgresParser, PsqlSessionSimpleQueriesCopyAndErrors) {
  auto chunks = Load("psql_session");
  ParserStats stats;
  auto got = RunWhole(chunks, &stats);
  ExpectStatements(got, {
                            {"SELECT ? AS one", 1, ""},
                            {"SELECT name FROM items WHERE id IN (...)", 0, ""},
                            {"UPDATE items SET price = price + ? WHERE id = ?", 0, ""},
                            {"SELECT * FROM no_such_table", -1, "42P01"},
                            {"COPY items FROM STDIN", 3, ""},
                            {"COPY items TO STDOUT", 3, ""},
                            {"INSERT INTO items VALUES (...)", 2, ""},
                            {"DELETE FROM items WHERE id >= ?", 2, ""},
                            // "SELECT 2" after it is never run; ";" is an EmptyQueryResponse.
                            {"SELECT ?/?", -1, "22012"},
                        });
  EXPECT_EQ(stats.parse_errors, 0u);
  EXPECT_EQ(stats.unmatched_responses, 0u);
  using D = Direction;
  // Three statements of one Query share its request chunk and response chunk.
  EXPECT_EQ(got[0].request_end_ns, TsOf(chunks, D::kRequest, "SELECT 1 AS one"));
  EXPECT_EQ(got[2].request_end_ns, got[0].request_end_ns);
  EXPECT_EQ(got[2].response_end_ns, TsOf(chunks, D::kResponse, "UPDATE 0"));
  // The ErrorResponse and its ReadyForQuery came in separate chunks: the error's counts.
  EXPECT_EQ(got[3].response_end_ns, TsOf(chunks, D::kResponse, "42P01"));
  EXPECT_LT(got[3].response_end_ns, TsOf(chunks, D::kRequest, "COPY  items FROM"));
  // COPY FROM STDIN ends with the client's CopyDone, not with the Query.
  EXPECT_EQ(got[4].request_end_ns, TsOf(chunks, D::kRequest, "apple"));
  EXPECT_EQ(got[4].response_end_ns, TsOf(chunks, D::kResponse, "COPY 3"));
  EXPECT_EQ(got[8].response_end_ns, TsOf(chunks, D::kResponse, "22012"));
}

TEST(PostgresParser, PipelinedSyncGroupsPortalsNoticesAndCopyFail) {
  auto chunks = Load("pipeline_raw");
  ParserStats stats;
  auto got = RunWhole(chunks, &stats);
  const std::string sel_range = "SELECT aid FROM pgbench_accounts WHERE aid <= $1 ORDER BY aid";
  ExpectStatements(got, {
                            {"SELECT aid, abalance FROM pgbench_accounts WHERE aid = $1", 1, ""},
                            {"SELECT aid, abalance FROM pgbench_accounts WHERE aid = $1", 1, ""},
                            {"SELECT * FROM nope WHERE x = $1", -1, "42P01"},
                            {"UPDATE pgbench_accounts SET filler = ? WHERE aid IN (...)", 3, ""},
                            // The empty statement's EmptyQueryResponse yields nothing.
                            // Execute with max_rows 2 (PortalSuspended), then an Execute
                            // of the rest: one portal run, one statement (2 + 1 rows).
                            {sel_range, 3, ""},
                            {"LISTEN ch", -1, ""},
                            {"NOTIFY ch, ?", -1, ""},
                            {"DO ?", -1, ""},  // NoticeResponse before CommandComplete
                            {"SELECT $1::int + ?", 1, ""},
                            {"COPY items FROM STDIN", -1, "57014"},  // CopyFail
                        });
  EXPECT_EQ(stats.parse_errors, 0u);
  EXPECT_EQ(stats.unmatched_responses, 0u);
  // Six Sync groups went out in one write; each reply chunk ends one of them.
  std::uint64_t sent = TsOf(chunks, Direction::kRequest, "nope");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(got[i].request_end_ns, sent) << i;
  EXPECT_LT(got[0].response_end_ns, got[1].response_end_ns);
  EXPECT_EQ(got[2].response_end_ns, TsOf(chunks, Direction::kResponse, "42P01"));
  EXPECT_EQ(got[3].response_end_ns, TsOf(chunks, Direction::kResponse, "UPDATE 3"));
  // Parse+Flush, then Bind/Execute/Sync in a later write: the Execute's write counts.
  EXPECT_GT(got[8].request_end_ns, TsOf(chunks, Direction::kRequest, "SELECT $1::int"));
  EXPECT_EQ(got[9].request_end_ns, TsOf(chunks, Direction::kRequest, "client gave up"));
}

TEST(PostgresParser, PgbenchSimpleExtendedPrepared) {
  ExpectStatements(RunWhole(Load("pgbench_simple")), Times3(kPgbenchSimple));
  ExpectStatements(RunWhole(Load("pgbench_extended")), Times3(kPgbenchExtended));
  // -M prepared: named statements P_0..P_6 parsed once, executed three times.
  auto chunks = Load("pgbench_prepared");
  auto got = RunWhole(chunks);
  ExpectStatements(got, Times3(kPgbenchExtended));
  // Parse and Sync in one write, Bind/Describe/Execute/Sync in the next: the Execute's.
  EXPECT_EQ(got[1].request_end_ns, TsOf(chunks, Direction::kRequest, std::string("\0P_1\0", 5)));
  EXPECT_EQ(got[1].response_end_ns, TsOf(chunks, Direction::kResponse, "UPDATE 1"));
}

const char* const kCaptures[] = {"psql_session",     "pipeline_raw",     "pgbench_simple",
                                 "pgbench_extended", "pgbench_prepared", "sql_prepare"};

// psql -c commands against PostgreSQL 15: SQL-level PREPARE/EXECUTE (a
// name in any case, a quoted one with nested parameter types, several in one
// query string), DEALLOCATE and DEALLOCATE ALL, then EXECUTEs of the
// deallocated names. pg_stat_statements files each EXECUTE under its
// PREPARE; each had been reported as "EXECUTE q(?)", naming no SQL.
TEST(PostgresParser, SqlExecuteIsTheStatementItsPrepareNamed) {
  ParserStats stats;
  auto got = RunWhole(Load("sql_prepare"), &stats);
  const std::string plus = "SELECT $1 + ? AS x";
  const std::string count = "SELECT count(*) FROM pg_class WHERE relname <> ?";
  ExpectStatements(
      got, {
               {"PREPARE q(int) AS " + plus, -1, ""},
               {plus, 1, ""},  // EXECUTE q(1)
               {plus, 1, ""},  // execute Q (2)
               {"PREPARE \"Big\"(numeric(?, ?), text) AS SELECT $1 * ?, length($2)", -1, ""},
               {"SELECT $1 * ?, length($2)", 1, ""},
               {"PREPARE r AS " + count, -1, ""},
               {count, 1, ""},
               {count, 1, ""},
               {"DEALLOCATE q", -1, ""},
               {"EXECUTE q(?)", -1, "26000"},  // deallocated: no such statement
               {"DEALLOCATE ALL", -1, ""},
               {"EXECUTE r", -1, "26000"},
           });
  EXPECT_EQ(stats.parse_errors, 0u);
  EXPECT_EQ(stats.unmatched_responses, 0u);
}

TEST(PostgresParser, SameExchangesWholeSplitAndByteByByte) {
  for (const char* name : kCaptures) {
    SCOPED_TRACE(name);
    auto chunks = Load(name);
    auto want = RunWhole(chunks);
    ASSERT_FALSE(want.empty());
    auto check = [&](ConnectionParser& p, const std::string& how) {
      auto got = p.TakeExchanges();
      ASSERT_EQ(got.size(), want.size()) << how;
      for (std::size_t i = 0; i < got.size(); ++i)
        ASSERT_TRUE(Same(got[i], want[i])) << how << " #" << i;
      ASSERT_EQ(p.stats().parse_errors, 0u) << how;
      ASSERT_EQ(p.stats().unmatched_responses, 0u) << how;
    };
    for (std::size_t c = 0; c < chunks.size(); ++c) {
      for (std::size_t cut = 1; cut < chunks[c].data.size(); ++cut) {
        auto p = MakePostgresParser({});
        testing::ReplaySplitAt(*p, chunks, c, cut);
        check(*p, "split chunk " + std::to_string(c) + " at " + std::to_string(cut));
      }
    }
    auto p = MakePostgresParser({});
    testing::Replay(*p, chunks, 1);
    check(*p, "byte by byte");
  }
}

TEST(PostgresParser, TruncatedCaptureGivesPrefixOfExchanges) {
  auto chunks = Load("pipeline_raw");
  auto full = RunWhole(chunks);
  std::size_t total = 0;
  for (const Chunk& c : chunks) total += c.data.size();
  for (std::size_t keep = 0; keep < total; keep += 7) {
    auto p = MakePostgresParser({});
    std::size_t left = keep;
    for (const Chunk& c : chunks) {
      std::size_t n = std::min(left, c.data.size());
      p->OnData(c.dir, std::string_view(c.data).substr(0, n), c.ts_ns);
      left -= n;
    }
    auto got = p->TakeExchanges();
    ASSERT_LE(got.size(), full.size());
    for (std::size_t i = 0; i < got.size(); ++i) ASSERT_TRUE(Same(got[i], full[i])) << keep;
    EXPECT_EQ(p->stats().parse_errors, 0u);
  }
}

// Replays `chunks`, replacing chunk `lost` by a gap (or, with `keep` > 0,
// delivering only its first `keep` bytes before the gap).
std::vector<Exchange> ReplayWithGap(ConnectionParser& p, const std::vector<Chunk>& chunks,
                                    std::size_t lost, std::size_t keep = 0) {
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const Chunk& c = chunks[i];
    if (i == lost) {
      if (keep) p.OnData(c.dir, std::string_view(c.data).substr(0, keep), c.ts_ns);
      p.OnGap(c.dir, c.data.size() - keep);
    } else {
      p.OnData(c.dir, c.data, c.ts_ns);
    }
  }
  return p.TakeExchanges();
}

std::size_t IndexOf(const std::vector<Chunk>& chunks, Direction dir, std::string_view needle) {
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    if (chunks[i].dir == dir && chunks[i].data.find(needle) != std::string::npos) return i;
  }
  ADD_FAILURE() << needle;
  return 0;
}

TEST(PostgresParser, RequestGapDropsOnlyTheLostStatement) {
  auto chunks = Load("psql_session");
  auto full = RunWhole(chunks);
  auto p = MakePostgresParser({});
  auto got = ReplayWithGap(*p, chunks, IndexOf(chunks, Direction::kRequest, "no_such_table"));
  // Everything but the lost query, with the same values and times.
  std::vector<Exchange> want = full;
  want.erase(want.begin() + 3);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(Same(got[i], want[i])) << i;
}

TEST(PostgresParser, RequestGapInsideAMessageResynchronises) {
  auto chunks = Load("pgbench_prepared");
  auto full = RunWhole(chunks);
  // Lose the tail of the second transaction's UPDATE pgbench_tellers Bind/Execute write.
  std::size_t idx = 0;
  int seen = 0;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    if (chunks[i].dir == Direction::kRequest && chunks[i].data.find("P_3") != std::string::npos &&
        chunks[i].data[0] == 'B' && ++seen == 2)
      idx = i;
  }
  ASSERT_NE(idx, 0u);
  auto p = MakePostgresParser({});
  auto got = ReplayWithGap(*p, chunks, idx, 10);
  ASSERT_EQ(got.size(), full.size() - 1);
  EXPECT_GE(p->stats().resyncs, 1u);
  // The last transaction is intact.
  for (std::size_t i = 1; i <= 7; ++i)
    EXPECT_TRUE(Same(got[got.size() - i], full[full.size() - i]));
}

TEST(PostgresParser, ResponseGapResynchronises) {
  auto chunks = Load("psql_session");
  auto full = RunWhole(chunks);
  for (const char* needle : {"INSERT 0 2", "42P01"}) {
    SCOPED_TRACE(needle);
    auto p = MakePostgresParser({});
    std::size_t lost = IndexOf(chunks, Direction::kResponse, needle);
    auto got = ReplayWithGap(*p, chunks, lost);
    ASSERT_FALSE(got.empty());
    // The last exchange (after the gap) is matched exactly.
    EXPECT_TRUE(Same(got.back(), full.back()));
    for (const Exchange& e : got) EXPECT_NE(e.response_end_ns, chunks[lost].ts_ns);
  }
}

TEST(PostgresParser, GapInsideResponseMessageThenMoreData) {
  auto chunks = Load("pipeline_raw");
  auto full = RunWhole(chunks);
  // Lose most of the reply to the UPDATE and empty-statement Sync groups.
  std::size_t lost = IndexOf(chunks, Direction::kResponse, "UPDATE 3");
  auto p = MakePostgresParser({});
  auto got = ReplayWithGap(*p, chunks, lost, 7);
  // The UPDATE, whose reply was being read when the bytes were lost, is
  // reported when the client's next request shows it ended (rows unknown;
  // response time = the last reply bytes seen before that request, an upper
  // bound here as the pipelined replies behind it came in the same reads).
  // The pipelined groups behind it are dropped, never misattributed; the
  // groups the client sends afterwards are exact.
  std::vector<Exchange> want = full;
  want.erase(want.begin() + 4);  // the portal run (two Executes: one statement)
  ASSERT_EQ(got.size(), want.size());
  EXPECT_EQ(got[3].rows, -1);
  EXPECT_GE(got[3].response_end_ns, chunks[lost].ts_ns);
  EXPECT_LE(got[3].response_end_ns, got[4].request_end_ns);
  want[3].rows = -1;
  want[3].response_end_ns = got[3].response_end_ns;
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(Same(got[i], want[i])) << i;
  EXPECT_GE(p->stats().resyncs, 1u);
}

TEST(PostgresParser, GarbageCountsErrorsAndNeverCrashes) {
  std::mt19937 rng(42);
  for (int round = 0; round < 200; ++round) {
    auto p = MakePostgresParser({});
    for (int i = 0; i < 20; ++i) {
      std::string junk(rng() % 300, '\0');
      for (char& c : junk) c = static_cast<char>(rng());
      p->OnData(rng() % 2 ? Direction::kRequest : Direction::kResponse, junk, i);
      if (rng() % 10 == 0) p->OnGap(Direction::kResponse, 5);
    }
    (void)p->TakeExchanges();
  }
  // Typed garbage after a valid startup is counted.
  auto p = MakePostgresParser({});
  auto chunks = Load("pgbench_simple");
  testing::Replay(*p, std::vector<Chunk>(chunks.begin(), chunks.begin() + 6));
  p->OnData(Direction::kRequest, "\x01\x02garbage that is no message at all", 1);
  p->OnData(Direction::kResponse, std::string("\xff\xff\xff\xff\x00\x01", 6), 2);
  EXPECT_GE(p->stats().parse_errors, 2u);
  // And a real query afterwards still parses.
  p->OnData(Direction::kRequest, Msg('Q', Cstr("SELECT 42")), 3);
  p->OnData(Direction::kResponse, Msg('C', Cstr("SELECT 1")) + Z(), 4);
  auto got = p->TakeExchanges();
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back().statement, "SELECT ?");
  EXPECT_EQ(got.back().response_end_ns, 4u);
}

// A parser past a recorded connection's start-up (pgbench_simple's first
// six chunks), with nothing reported yet.
std::unique_ptr<ConnectionParser> AfterStartup() {
  auto p = MakePostgresParser({});
  auto chunks = Load("pgbench_simple");
  testing::Replay(*p, std::vector<Chunk>(chunks.begin(), chunks.begin() + 6));
  (void)p->TakeExchanges();
  return p;
}

// Extended-protocol messages of a portal run for PortalRunsAreOneStatement.
std::string ParseBind(const std::string& portal, const std::string& sql) {
  return Msg('P', Cstr("") + Cstr(sql) + std::string(2, '\0')) +
         Msg('B', Cstr(portal) + Cstr("") + std::string(6, '\0'));
}
std::string Execute(const std::string& portal, std::uint8_t max_rows) {
  return Msg('E',
             Cstr(portal) + std::string(3, '\0') + std::string(1, static_cast<char>(max_rows)));
}
std::string Rows(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += Msg('D', std::string("\0\x01\0\0\0\x01", 6) + "7");
  return out;
}

// Executes with a row limit (JDBC's fetch size, asyncpg's cursors): the
// server answers PortalSuspended until the portal's last rows, and counts
// the run once (pg_stat_statements calls = 1), so it is one exchange, from
// the first Execute's Sync to the run's end, with all its rows.
TEST(PostgresParser, PortalRunsAreOneStatement) {
  auto p = AfterStartup();
  const std::string in_tx = Msg('Z', "T");
  auto req = [&](const std::string& m, std::uint64_t ts) { p->OnData(Direction::kRequest, m, ts); };
  auto resp = [&](const std::string& m, std::uint64_t ts) {
    p->OnData(Direction::kResponse, m, ts);
  };
  req(Msg('Q', Cstr("BEGIN")), 10);
  resp(Msg('C', Cstr("BEGIN")) + in_tx, 11);
  // 25 rows, 10 per Execute, one Sync each (the portal outlives them in the transaction).
  req(ParseBind("c1", "SELECT a FROM t") + Execute("c1", 10) + Msg('S', ""), 20);
  resp(Msg('1', "") + Msg('2', "") + Rows(10) + Msg('s', "") + in_tx, 21);
  req(Execute("c1", 10) + Msg('S', ""), 30);
  resp(Rows(10) + Msg('s', "") + in_tx, 31);
  req(Execute("c1", 10) + Msg('S', ""), 40);
  resp(Rows(5) + Msg('C', Cstr("SELECT 5")) + in_tx, 41);
  // The unnamed portal, three Executes pipelined in one Sync group.
  req(ParseBind("", "SELECT b FROM t") + Execute("", 2) + Execute("", 2) + Execute("", 2) +
          Msg('S', ""),
      50);
  resp(Msg('1', "") + Msg('2', "") + Rows(2) + Msg('s', "") + Rows(2) + Msg('s', "") + Rows(1) +
           Msg('C', Cstr("SELECT 1")) + in_tx,
       51);
  // Abandoned runs: rebound before its end, closed before its end, and one
  // left open until COMMIT ends the transaction.
  req(ParseBind("c2", "SELECT c FROM t") + Execute("c2", 3) + Msg('S', ""), 60);
  resp(Msg('1', "") + Msg('2', "") + Rows(3) + Msg('s', "") + in_tx, 61);
  req(ParseBind("c2", "SELECT d FROM t") + Execute("c2", 0) + Msg('S', ""), 70);
  resp(Msg('1', "") + Msg('2', "") + Rows(4) + Msg('C', Cstr("SELECT 4")) + in_tx, 71);
  req(ParseBind("c3", "SELECT e FROM t") + Execute("c3", 1) + Msg('C', "P" + Cstr("c3")) +
          Msg('S', ""),
      80);
  resp(Msg('1', "") + Msg('2', "") + Rows(1) + Msg('s', "") + Msg('3', "") + in_tx, 81);
  req(ParseBind("c4", "SELECT f FROM t") + Execute("c4", 2) + Msg('S', ""), 90);
  resp(Msg('1', "") + Msg('2', "") + Rows(2) + Msg('s', "") + in_tx, 91);
  req(Msg('Q', Cstr("COMMIT")), 100);
  resp(Msg('C', Cstr("COMMIT")) + Z(), 101);

  auto got = p->TakeExchanges();
  std::vector<std::string> seen;
  for (const Exchange& e : got) {
    seen.push_back(e.statement + " rows=" + std::to_string(e.rows) + " " +
                   std::to_string(e.request_end_ns) + "-" + std::to_string(e.response_end_ns));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{
                      "BEGIN rows=-1 10-11", "SELECT a FROM t rows=25 20-41",
                      "SELECT b FROM t rows=5 50-51",
                      "SELECT c FROM t rows=3 60-61",  // rebound: ended at its last rows
                      "SELECT d FROM t rows=4 70-71",
                      "SELECT e FROM t rows=1 80-81",  // closed
                      "COMMIT rows=-1 100-101",
                      "SELECT f FROM t rows=2 90-91",  // the transaction ended
                  }));
  EXPECT_EQ(p->stats().parse_errors, 0u);
  EXPECT_EQ(p->stats().unmatched_responses, 0u);
}

// A rebound portal's paused run ends once no Execute of it is left in
// flight; behind a pipeline longer than the parser walks (4096 Executes)
// it is reported at a later ReadyForQuery, not lost.
TEST(PostgresParser, PausedRunBehindALongPipelineIsReportedLater) {
  auto p = AfterStartup();
  const std::string in_tx = Msg('Z', "T");
  p->OnData(Direction::kRequest,
            ParseBind("c1", "SELECT a FROM t") + Execute("c1", 2) + Msg('S', ""), 10);
  p->OnData(Direction::kResponse, Msg('1', "") + Msg('2', "") + Rows(2) + Msg('s', "") + in_tx, 11);
  // Rebind c1 (no Execute), then two groups of 2500 Executes of another portal.
  std::string batch;
  for (int i = 0; i < 2500; ++i) batch += Execute("c2", 0);
  p->OnData(Direction::kRequest,
            ParseBind("c1", "SELECT z FROM t") + Msg('S', "") + ParseBind("c2", "SELECT b FROM t") +
                batch + Msg('S', "") + batch + Msg('S', ""),
            20);
  p->OnData(Direction::kResponse, Msg('1', "") + Msg('2', "") + in_tx, 21);
  EXPECT_TRUE(p->TakeExchanges().empty());  // 5000 Executes in flight: not walked
  std::string done;
  for (int i = 0; i < 2500; ++i) done += Msg('C', Cstr("SELECT 0"));
  p->OnData(Direction::kResponse, Msg('1', "") + Msg('2', "") + done + in_tx, 31);
  auto got = p->TakeExchanges();  // 2500 left in flight: walked, none of c1's run
  ASSERT_EQ(got.size(), 2501u);
  EXPECT_EQ(got.back().statement, "SELECT a FROM t");
  EXPECT_EQ(got.back().rows, 2);
  EXPECT_EQ(got.back().request_end_ns, 10u);
  EXPECT_EQ(got.back().response_end_ns, 11u);  // its last PortalSuspended
}

TEST(PostgresParser, SslAcceptedStopsParsingWithoutErrors) {
  auto p = MakePostgresParser({});
  auto* pg = static_cast<postgres::PostgresParser*>(p.get());
  p->OnData(Direction::kRequest, std::string("\0\0\0\x08\x04\xd2\x16\x2f", 8), 1);
  p->OnData(Direction::kResponse, "S", 2);
  p->OnData(Direction::kRequest, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 3);  // ClientHello
  p->OnData(Direction::kResponse, "\x16\x03\x03\x00\x7a\x02", 4);
  EXPECT_TRUE(pg->encrypted());
  EXPECT_EQ(p->stats().parse_errors, 0u);
  EXPECT_TRUE(p->TakeExchanges().empty());
}

TEST(PostgresParser, SslRefusedThenPlaintextIsParsed) {
  // The recorded psql session opened with SSLRequest, refused with 'N'.
  auto chunks = Load("psql_session");
  EXPECT_EQ(chunks[0].data, std::string("\0\0\0\x08\x04\xd2\x16\x2f", 8));
  EXPECT_EQ(chunks[1].data, "N");
  auto p = MakePostgresParser({});
  testing::Replay(*p, chunks);
  EXPECT_FALSE(static_cast<postgres::PostgresParser*>(p.get())->encrypted());
  EXPECT_EQ(p->TakeExchanges().size(), 9u);
}

TEST(PostgresParser, JoinsConnectionMidway) {
  auto chunks = Load("pgbench_extended");
  auto full = RunWhole(chunks);
  // Start at the second transaction's BEGIN: no startup, no statements seen yet.
  std::size_t start = 0;
  int begins = 0;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    if (chunks[i].dir == Direction::kRequest && chunks[i].data.find("BEGIN") != std::string::npos &&
        ++begins == 2) {
      start = i;
      break;
    }
  }
  auto p = MakePostgresParser({});
  testing::Replay(*p, std::vector<Chunk>(chunks.begin() + static_cast<long>(start), chunks.end()));
  auto got = p->TakeExchanges();
  ASSERT_EQ(got.size(), 14u);
  for (std::size_t i = 0; i < 14; ++i) EXPECT_TRUE(Same(got[i], full[7 + i]));
  EXPECT_EQ(p->stats().parse_errors, 0u);
}

TEST(PostgresParser, CaptureValuesKeepsLiterals) {
  ParserOptions o;
  o.capture_values = true;
  auto p = MakePostgresParser(o);
  testing::Replay(*p, Load("psql_session"));
  auto got = p->TakeExchanges();
  ASSERT_EQ(got.size(), 9u);
  EXPECT_EQ(got[0].statement, "SELECT 1 AS one");
  EXPECT_EQ(got[2].statement, "UPDATE items SET price = price + 1 WHERE id = -5");
}

// A Query without ';' is one statement, or none when it holds only space and
// comments (the server answers EmptyQueryResponse): the replies that follow
// stay with their statements.
TEST(PostgresParser, QueryWithoutSemicolonIsOneStatementOrNone) {
  auto p = MakePostgresParser({});
  p->OnData(Direction::kRequest, Msg('Q', Cstr("  /* only */ -- a comment\n ")), 1);
  p->OnData(Direction::kResponse, Msg('I', "") + Z(), 2);
  p->OnData(Direction::kRequest, Msg('Q', Cstr("\n SELECT 1 -- trailing comment")), 3);
  p->OnData(Direction::kResponse, Msg('C', Cstr("SELECT 1")) + Z(), 4);
  p->OnData(Direction::kRequest, Msg('Q', Cstr("SELECT 2; /* and */ SELECT 3")), 5);
  p->OnData(Direction::kResponse, Msg('C', Cstr("SELECT 1")) + Msg('C', Cstr("SELECT 1")) + Z(), 6);
  auto got = p->TakeExchanges();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].statement, "SELECT ?");
  EXPECT_EQ(got[0].request_end_ns, 3u);
  EXPECT_EQ(got[0].response_end_ns, 4u);
  EXPECT_EQ(got[1].request_end_ns, 5u);
  EXPECT_EQ(got[2].statement, "SELECT ?");
  EXPECT_EQ(p->stats().parse_errors, 0u);
  EXPECT_EQ(p->stats().unmatched_responses, 0u);
}

TEST(PostgresParser, HugeDataRowIsSkippedWithoutBuffering) {
  auto p = MakePostgresParser({});
  p->OnData(Direction::kRequest, Msg('Q', Cstr("SELECT repeat('x', 3000000)")), 1);
  std::string row = Msg('D', std::string("\0\x01", 2) + std::string(3000000, 'x'));
  for (std::size_t off = 0; off < row.size(); off += 65536)
    p->OnData(Direction::kResponse, row.substr(off, 65536), 2);
  p->OnData(Direction::kResponse, Msg('C', Cstr("SELECT 1")) + Z(), 3);
  auto got = p->TakeExchanges();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].statement, "SELECT repeat(?, ?)");
  EXPECT_EQ(got[0].rows, 1);
  EXPECT_EQ(p->stats().parse_errors, 0u);
}

TEST(PostgresParser, OversizedQueryIsCountedAndRepliesStayAligned) {
  auto p = MakePostgresParser({});
  std::string big = Msg('Q', Cstr("SELECT '" + std::string(2 << 20, 'a') + "'"));
  p->OnData(Direction::kRequest, big, 1);
  p->OnData(Direction::kResponse, Msg('C', Cstr("SELECT 1")) + Z(), 2);
  p->OnData(Direction::kRequest, Msg('Q', Cstr("SELECT 2")), 3);
  p->OnData(Direction::kResponse, Msg('C', Cstr("SELECT 1")) + Z(), 4);
  auto got = p->TakeExchanges();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].request_end_ns, 3u);
  EXPECT_EQ(p->stats().parse_errors, 1u);
}

TEST(PostgresParser, ExecuteOfUnknownStatementKeepsLaterRepliesAligned) {
  auto p = MakePostgresParser({});
  // Joined midway: Bind of a statement parsed before we started.
  p->OnData(Direction::kRequest,
            Msg('B', Cstr("") + Cstr("S_1") + std::string(6, '\0')) +
                Msg('E', Cstr("") + std::string(4, '\0')) + Msg('S', ""),
            1);
  p->OnData(Direction::kResponse, Msg('2', "") + Msg('C', Cstr("UPDATE 4")) + Z(), 2);
  p->OnData(Direction::kRequest,
            Msg('P', Cstr("") + Cstr("SELECT 1") + std::string(2, '\0')) +
                Msg('B', Cstr("") + Cstr("") + std::string(6, '\0')) +
                Msg('E', Cstr("") + std::string(4, '\0')) + Msg('S', ""),
            3);
  p->OnData(Direction::kResponse, Msg('1', "") + Msg('2', "") + Msg('C', Cstr("SELECT 1")) + Z(),
            4);
  auto got = p->TakeExchanges();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].statement, "SELECT ?");
  EXPECT_EQ(got[0].response_end_ns, 4u);
}

TEST(PostgresDetect, LooksLikePostgres) {
  EXPECT_TRUE(LooksLikePostgres(Load("psql_session")[0].data));  // SSLRequest
  EXPECT_TRUE(LooksLikePostgres(Load("pipeline_raw")[0].data));  // StartupMessage
  EXPECT_TRUE(LooksLikePostgres(Load("psql_session")[2].data));
  EXPECT_TRUE(LooksLikePostgres(std::string("\0\0\0\x08\x04\xd2\x16\x30", 8)));  // GSSENCRequest
  EXPECT_TRUE(LooksLikePostgres(std::string("\0\0\0\x10\x04\xd2\x16\x2e\0\0\0\x01\0\0\0\x02", 16)));
  EXPECT_FALSE(LooksLikePostgres("GET / HTTP/1.1\r\n\r\n"));
  EXPECT_FALSE(LooksLikePostgres("*1\r\n$4\r\nPING\r\n"));
  EXPECT_FALSE(LooksLikePostgres(std::string("\0\0\0\x08", 4)));
  EXPECT_FALSE(LooksLikePostgres(std::string("\0\0\0\x09\0\x02\0\0\0", 9)));  // protocol 2
}

TEST(PostgresWire, CommandTagRowsAndSqlstate) {
  using postgres::RowsFromCommandTag;
  EXPECT_EQ(RowsFromCommandTag("SELECT 5"), 5);
  EXPECT_EQ(RowsFromCommandTag("INSERT 0 1"), 1);
  EXPECT_EQ(RowsFromCommandTag("UPDATE 3"), 3);
  EXPECT_EQ(RowsFromCommandTag("COPY 12"), 12);
  EXPECT_EQ(RowsFromCommandTag("BEGIN"), -1);
  EXPECT_EQ(RowsFromCommandTag("CREATE TABLE"), -1);
  EXPECT_EQ(RowsFromCommandTag("SELECT x"), -1);
  EXPECT_EQ(RowsFromCommandTag("SELECT "), -1);
  EXPECT_EQ(postgres::SqlstateFromErrorFields(std::string("SERROR\0C23505\0Mdup\0\0", 20)),
            "23505");
  EXPECT_EQ(postgres::SqlstateFromErrorFields(std::string("SERROR\0C235", 11)), "");
  EXPECT_EQ(postgres::SqlstateFromErrorFields(""), "");
}

// --capture-bytes K: every syscall longer than K bytes arrives as its first K
// bytes and a gap. psql_large_rows.capture (PostgreSQL 15, psql) returns a
// 60 KB row, 40 rows of 3 KB and a 70 KB row, each result in several reads.
TEST(PostgresParser, CaptureBytesLimitKeepsExchanges) {
  auto chunks = Load("psql_large_rows");
  ParserStats stats;
  auto whole = RunWhole(chunks, &stats);
  ASSERT_EQ(whole.size(), 9u);
  EXPECT_EQ(stats.parse_errors, 0u);
  EXPECT_EQ(whole[2].rows, 1);
  EXPECT_EQ(whole[4].rows, 40);
  EXPECT_EQ(whole[5].error_code, "42P01");
  for (std::size_t k : {100u, 4096u, 16384u}) {
    SCOPED_TRACE("K=" + std::to_string(k));
    auto p = MakePostgresParser({});
    testing::ReplayCapped(*p, chunks, k);
    auto got = p->TakeExchanges();
    EXPECT_EQ(p->stats().parse_errors, 0u);
    // Same exchanges and times. Rows are exact when every gap fell inside
    // one message; a gap across messages (the 40 rows of 3 KB, or a gap
    // swallowing the CommandComplete) makes them unknown, never wrong.
    ASSERT_EQ(got.size(), whole.size());
    for (std::size_t i = 0; i < whole.size(); ++i) {
      SCOPED_TRACE(i);
      EXPECT_EQ(got[i].statement, whole[i].statement);
      EXPECT_EQ(got[i].error, whole[i].error);
      EXPECT_EQ(got[i].request_end_ns, whole[i].request_end_ns);
      EXPECT_EQ(got[i].response_end_ns, whole[i].response_end_ns);
      if (got[i].rows != -1) {
        EXPECT_EQ(got[i].rows, whole[i].rows);
      }
    }
    if (k >= 4096) {
      EXPECT_EQ(got[2].rows, 1);  // 60 KB row: gaps inside the DataRow
      EXPECT_EQ(got[5].error_code, "42P01");
    }
  }
}

// A gap anywhere inside the 70 KB DataRow keeps every exchange identical.
TEST(PostgresParser, GapInsideDataRowIsSkipped) {
  auto chunks = Load("psql_large_rows");
  auto whole = RunWhole(chunks);
  std::size_t big = 0;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    if (chunks[i].dir == Direction::kRequest &&
        chunks[i].data.find("'y', 70000") != std::string::npos)
      big = i + 1;
  }
  ASSERT_GT(big, 0u);
  ASSERT_EQ(chunks[big].dir, Direction::kResponse);
  const std::size_t size = chunks[big].data.size();
  for (std::size_t cut : {std::size_t{60}, std::size_t{1000}, size - 1}) {
    for (std::size_t lost : {std::size_t{1}, std::size_t{700}, size - cut}) {
      if (cut + lost > size) continue;
      auto p = MakePostgresParser({});
      testing::ReplayWithGapInChunk(*p, chunks, big, cut, lost);
      auto got = p->TakeExchanges();
      ASSERT_EQ(got.size(), whole.size()) << "cut " << cut << " lost " << lost;
      for (std::size_t i = 0; i < whole.size(); ++i) EXPECT_TRUE(Same(got[i], whole[i])) << i;
      EXPECT_EQ(p->stats().parse_errors, 0u);
    }
  }
}

}  // namespace
}  // namespace waitscope::protocols
