// Redis parser on byte streams recorded from a real redis-server 7.0 with
// redis-cli and redis-benchmark (agent/protocols/redis/testdata, recorded by
// tools/capture/tcp_capture_proxy.py; redis-cli's start-up COMMAND DOCS
// exchange was cut off to keep files small), plus hand-written RESP3 frames
// that the real clients cannot produce (bignum, blob error).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "capture.h"
#include "protocols/redis/normalize.h"
#include "protocols/redis/parser.h"

namespace waitscope::protocols {
namespace {

using testing::Chunk;
using testing::LoadCapture;
using testing::Replay;
using testing::ReplaySplitAt;

std::vector<Chunk> Load(const std::string& name) {
  return LoadCapture(std::string(PROTO_TESTDATA_DIR) + "/" + name);
}

std::string Describe(const Exchange& e) {
  return e.statement + "|" + std::to_string(e.request_end_ns) + "|" +
         std::to_string(e.response_end_ns) + "|" + (e.error ? "E:" + e.error_code : "ok") + "|" +
         std::to_string(e.rows) + "|" + std::to_string(e.cache_reads) + "/" +
         std::to_string(e.cache_hits) + (e.answered ? "" : "|unanswered");
}

std::vector<std::string> Describe(const std::vector<Exchange>& v) {
  std::vector<std::string> out;
  for (const Exchange& e : v) out.push_back(Describe(e));
  return out;
}

struct Replayed {
  std::vector<Exchange> exchanges;
  ParserStats stats;
};

Replayed ReplayWhole(const std::vector<Chunk>& chunks, std::size_t piece = 0, bool values = false) {
  ParserOptions opts;
  opts.capture_values = values;
  auto p = MakeRedisParser(opts);
  Replay(*p, chunks, piece);
  return Replayed{p->TakeExchanges(), p->stats()};
}

const char* const kCaptures[] = {
    "basic_resp2.capture",     "resp3_types.capture",     "resp3_tracking.capture",
    "subscribe_resp2.capture", "subscribe_resp3.capture", "bench_config.capture",
    "bench_set.capture",       "bench_get.capture",       "bench_incr.capture",
    "bench_lpush.capture",     "bench_rand_get.capture",  "bench_rand_mset.capture",
    "client_reply.capture",    "transactions.capture",
};

// (a) whole, (b) every chunk split at every byte, (c) byte by byte: same
// exchanges, no errors, every reply matched.
TEST(RedisParserTest, AllReplayModesAgree) {
  for (const char* name : kCaptures) {
    SCOPED_TRACE(name);
    auto chunks = Load(name);
    Replayed whole = ReplayWhole(chunks);
    EXPECT_FALSE(whole.exchanges.empty());
    EXPECT_EQ(whole.stats.parse_errors, 0u);
    EXPECT_EQ(whole.stats.unmatched_responses, 0u);
    auto want = Describe(whole.exchanges);
    EXPECT_EQ(Describe(ReplayWhole(chunks, 1).exchanges), want);
    for (std::size_t i = 0; i < chunks.size(); ++i) {
      for (std::size_t cut = 1; cut < chunks[i].data.size(); ++cut) {
        auto p = MakeRedisParser({});
        ReplaySplitAt(*p, chunks, i, cut);
        ASSERT_EQ(Describe(p->TakeExchanges()), want) << "chunk " << i << " cut " << cut;
        ASSERT_EQ(p->stats().parse_errors, 0u);
      }
    }
  }
}

TEST(RedisParserTest, BasicResp2Session) {
  auto chunks = Load("basic_resp2.capture");
  Replayed r = ReplayWhole(chunks);
  struct Want {
    const char* statement;
    const char* error_code;
    std::int64_t rows;
    std::uint32_t reads, hits;
  };
  const Want want[] = {
      {"SET user:?:name", "", -1, 0, 0},
      {"GET user:?:name", "", -1, 1, 1},
      {"GET user:?:name", "", -1, 1, 0},
      {"MGET user:?:name session:?", "", 4, 4, 2},
      {"HSET user:?:profile", "", -1, 0, 0},
      {"HGET user:?:profile", "", -1, 1, 1},
      {"HGET user:?:profile", "", -1, 1, 0},
      {"INCR counter:page:?", "", -1, 0, 0},
      {"LPUSH queue:jobs", "", -1, 0, 0},
      {"GET queue:jobs", "WRONGTYPE", -1, 0, 0},
      {"MULTI", "", -1, 0, 0},
      {"SET tx:?", "", -1, 0, 0},
      {"GET tx:?", "", -1, 0, 0},  // +QUEUED: the read happens in EXEC
      {"GET tx:missing", "", -1, 0, 0},
      {"INCR tx:counter", "", -1, 0, 0},
      {"EXEC", "", 4, 2, 1},  // results of the two queued GETs: one hit, one miss
      {"EXPIRE user:?:name", "", -1, 0, 0},
      {"DEL tx:? tx:counter", "", -1, 0, 0},
      {"NOSUCHCMD", "ERR", -1, 0, 0},
  };
  ASSERT_EQ(r.exchanges.size(), std::size(want));
  for (std::size_t i = 0; i < std::size(want); ++i) {
    SCOPED_TRACE(i);
    const Exchange& e = r.exchanges[i];
    EXPECT_EQ(e.protocol, Protocol::kRedis);
    EXPECT_EQ(e.statement, want[i].statement);
    EXPECT_EQ(e.error, *want[i].error_code != '\0');
    EXPECT_EQ(e.error_code, want[i].error_code);
    EXPECT_EQ(e.rows, want[i].rows);
    EXPECT_EQ(e.cache_reads, want[i].reads);
    EXPECT_EQ(e.cache_hits, want[i].hits);
    // redis-cli waits for each reply: chunk 2i is the command, 2i+1 the reply.
    EXPECT_EQ(e.request_end_ns, chunks[2 * i].ts_ns);
    EXPECT_EQ(e.response_end_ns, chunks[2 * i + 1].ts_ns);
    // Privacy: no value ever leaves the parser.
    EXPECT_EQ(e.statement.find("alice"), std::string::npos);
    EXPECT_EQ(e.statement.find("paris"), std::string::npos);
  }
}

TEST(RedisParserTest, CaptureValuesKeepsArguments) {
  Replayed r = ReplayWhole(Load("basic_resp2.capture"), 0, /*values=*/true);
  ASSERT_GE(r.exchanges.size(), 2u);
  EXPECT_EQ(r.exchanges[0].statement, "SET user:1001:name alice");
  EXPECT_EQ(r.exchanges[1].statement, "GET user:1001:name");
}

TEST(RedisParserTest, Resp3Types) {
  auto chunks = Load("resp3_types.capture");
  Replayed r = ReplayWhole(chunks);
  const std::vector<std::string> want = {"HELLO",          "HSET h:?",        "HGETALL h:?",
                                         "SADD s:tags",    "SMEMBERS s:tags", "GET nothing:here",
                                         "ZADD z:scores",  "ZSCORE z:scores", "DEBUG PROTOCOL",
                                         "DEBUG PROTOCOL", "DEBUG PROTOCOL"};
  ASSERT_EQ(r.exchanges.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(r.exchanges[i].statement, want[i]);
    EXPECT_FALSE(r.exchanges[i].error);
    EXPECT_EQ(r.exchanges[i].response_end_ns, chunks[2 * i + 1].ts_ns);
  }
  EXPECT_EQ(r.exchanges[0].rows, 7);          // HELLO 3: a map of 7 pairs
  EXPECT_EQ(r.exchanges[2].rows, 2);          // HGETALL: map of 2 field/value pairs
  EXPECT_EQ(r.exchanges[4].rows, 2);          // SMEMBERS: set of 2
  EXPECT_EQ(r.exchanges[5].cache_reads, 1u);  // `_` null: a miss
  EXPECT_EQ(r.exchanges[5].cache_hits, 0u);
  // The attribute (|1 ...) is skipped: the reply is the bulk string after it.
  EXPECT_EQ(r.exchanges[10].rows, -1);
}

TEST(RedisParserTest, Resp3PushesAreNotReplies) {
  auto chunks = Load("resp3_tracking.capture");
  Replayed r = ReplayWhole(chunks);
  const std::vector<std::string> want = {"HELLO",
                                         "DEBUG PROTOCOL",
                                         "CLIENT TRACKING",
                                         "GET track:?",
                                         "SET track:?",
                                         "GET track:?",
                                         "SET track:?",
                                         "HGET h:?",
                                         "MGET h:? nothing:here track:?",
                                         "INCR h:?",
                                         "PING"};
  ASSERT_EQ(Describe(r.exchanges).size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(r.exchanges[i].statement, want[i]);
    EXPECT_EQ(r.exchanges[i].request_end_ns, chunks[2 * i].ts_ns);
    EXPECT_EQ(r.exchanges[i].response_end_ns, chunks[2 * i + 1].ts_ns);
  }
  EXPECT_EQ(r.exchanges[3].cache_hits, 0u);  // GET before SET: miss
  EXPECT_EQ(r.exchanges[5].cache_hits, 1u);
  EXPECT_EQ(r.exchanges[8].cache_reads, 3u);  // MGET: 3 reads, 1 hit (RESP3 `_` nulls)
  EXPECT_EQ(r.exchanges[8].cache_hits, 1u);
  EXPECT_EQ(r.exchanges[9].error_code, "WRONGTYPE");
  EXPECT_EQ(r.stats.unmatched_responses, 0u);
}

TEST(RedisParserTest, SubscribeResp2AndResp3) {
  for (const char* name : {"subscribe_resp2.capture", "subscribe_resp3.capture"}) {
    SCOPED_TRACE(name);
    auto chunks = Load(name);
    Replayed r = ReplayWhole(chunks);
    ASSERT_FALSE(r.exchanges.empty());
    const Exchange& sub = r.exchanges.back();
    EXPECT_EQ(sub.statement, "SUBSCRIBE");
    // Both channel confirmations arrived in one chunk; the messages after it
    // are out of band.
    std::size_t req = std::string(name) == "subscribe_resp2.capture" ? 0 : 2;
    EXPECT_EQ(sub.request_end_ns, chunks[req].ts_ns);
    EXPECT_EQ(sub.response_end_ns, chunks[req + 1].ts_ns);
    EXPECT_EQ(r.exchanges.size(), req == 0 ? 1u : 2u);
    EXPECT_EQ(r.stats.unmatched_responses, 0u);
  }
}

// redis-benchmark -n 50 -c 1 -P 16 -t set,get,incr,lpush (and -r 1000 -t
// get,mset): the per-command counts equal the server's INFO commandstats
// deltas measured during the recording (set/get/incr/lpush calls=64,
// config|get calls=2; with -r: get calls=32, mset 16 in the kept chunks).
TEST(RedisParserTest, PipelinedBenchmark) {
  struct Case {
    const char* file;
    const char* statement;
    std::size_t count;
    std::uint32_t hits;
  };
  const Case cases[] = {
      {"bench_config.capture", "CONFIG GET", 2, 0},
      {"bench_set.capture", "SET key:?", 64, 0},
      {"bench_get.capture", "GET key:?", 64, 64},
      {"bench_incr.capture", "INCR counter:?", 64, 0},
      {"bench_lpush.capture", "LPUSH mylist", 64, 0},
      {"bench_rand_get.capture", "GET key:?", 32, 0},
      {"bench_rand_mset.capture", "MSET key:?", 16, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    auto chunks = Load(c.file);
    Replayed r = ReplayWhole(chunks);
    ASSERT_EQ(r.exchanges.size(), c.count);
    std::uint32_t hits = 0;
    for (std::size_t i = 0; i < r.exchanges.size(); ++i) {
      const Exchange& e = r.exchanges[i];
      EXPECT_EQ(e.statement, c.statement);
      EXPECT_FALSE(e.error);
      hits += e.cache_hits;
      // 16 commands per write, 16 replies per read: batch b is chunks 2b, 2b+1.
      std::size_t batch = i / 16;
      if (c.count > 2) {
        EXPECT_EQ(e.request_end_ns, chunks[2 * batch].ts_ns);
        EXPECT_EQ(e.response_end_ns, chunks[2 * batch + 1].ts_ns);
      }
    }
    EXPECT_EQ(hits, c.hits);
  }
}

// A lost chunk (either direction) loses the exchanges it touches, but every
// exchange whose command was sent after the chunk that follows the gap is
// reported exactly as without the gap.
TEST(RedisParserTest, GapResynchronises) {
  for (const char* name : {"basic_resp2.capture", "resp3_tracking.capture", "bench_get.capture",
                           "bench_set.capture"}) {
    auto chunks = Load(name);
    auto want = ReplayWhole(chunks).exchanges;
    for (std::size_t k = 1; k + 1 < chunks.size(); ++k) {
      SCOPED_TRACE(std::string(name) + " gap at chunk " + std::to_string(k));
      auto p = MakeRedisParser({});
      for (std::size_t i = 0; i < chunks.size(); ++i) {
        if (i == k) {
          p->OnGap(chunks[i].dir, chunks[i].data.size());
        } else {
          p->OnData(chunks[i].dir, chunks[i].data, chunks[i].ts_ns);
        }
      }
      auto got = p->TakeExchanges();
      // Except: a gap inside MULTI..EXEC leaves EXEC's results unpaired with
      // the queued commands, so EXEC then counts no cache reads (by design).
      auto describe = [](Exchange e) {
        if (e.statement == "EXEC") e.cache_reads = e.cache_hits = 0;
        return Describe(e);
      };
      std::vector<std::string> tail_want;
      for (const Exchange& e : want) {
        if (e.request_end_ns > chunks[k + 1].ts_ns) tail_want.push_back(describe(e));
      }
      ASSERT_GE(got.size(), tail_want.size());
      std::vector<std::string> tail_got;
      for (const Exchange& e : got) tail_got.push_back(describe(e));
      tail_got.erase(tail_got.begin(), tail_got.end() - static_cast<long>(tail_want.size()));
      EXPECT_EQ(tail_got, tail_want);
      EXPECT_EQ(p->stats().parse_errors, 0u);
      // The parser re-finds a boundary once the gapped direction sends again.
      bool more = false;
      for (std::size_t i = k + 1; i < chunks.size(); ++i) more |= chunks[i].dir == chunks[k].dir;
      EXPECT_EQ(p->stats().resyncs, more ? 1u : 0u);
    }
  }
}

TEST(RedisParserTest, GapInsideAMessageResynchronises) {
  auto chunks = Load("bench_get.capture");
  auto p = MakeRedisParser({});
  // First batch of requests arrives only partly: cut mid-command, then a gap.
  p->OnData(chunks[0].dir, std::string_view(chunks[0].data).substr(0, 100), chunks[0].ts_ns);
  p->OnGap(Direction::kRequest, chunks[0].data.size() - 100);
  p->OnData(chunks[1].dir, chunks[1].data, chunks[1].ts_ns);  // replies: nobody waits
  for (std::size_t i = 2; i < chunks.size(); ++i) {
    p->OnData(chunks[i].dir, chunks[i].data, chunks[i].ts_ns);
  }
  auto got = p->TakeExchanges();
  ASSERT_EQ(got.size(), 48u);
  EXPECT_EQ(got[0].statement, "GET key:?");
  EXPECT_EQ(got[0].request_end_ns, chunks[2].ts_ns);
  EXPECT_GE(p->stats().unmatched_responses, 16u);
}

TEST(RedisParserTest, TruncatedCaptureKeepsCompleteExchanges) {
  auto chunks = Load("basic_resp2.capture");
  auto want = Describe(ReplayWhole(chunks).exchanges);
  // Drop the tail of the last reply: the last command never completes.
  chunks.back().data.resize(chunks.back().data.size() / 2);
  Replayed r = ReplayWhole(chunks);
  want.pop_back();
  EXPECT_EQ(Describe(r.exchanges), want);
  EXPECT_EQ(r.stats.parse_errors, 0u);
}

TEST(RedisParserTest, GarbageIsCountedAndSurvived) {
  std::mt19937 rng(42);
  for (int round = 0; round < 200; ++round) {
    auto p = MakeRedisParser({});
    std::string junk(1 + rng() % 512, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    junk[0] = '\x01';  // never a RESP type byte nor a command letter
    for (std::size_t off = 0; off < junk.size(); off += 1 + rng() % 64) {
      auto dir = rng() % 2 ? Direction::kRequest : Direction::kResponse;
      p->OnData(dir, std::string_view(junk).substr(off, 1 + rng() % 64), 1);
    }
    (void)p->TakeExchanges();
    EXPECT_GE(p->stats().parse_errors, 1u);
    // After a gap on both sides the parser works again.
    p->OnGap(Direction::kRequest, 1);
    p->OnGap(Direction::kResponse, 1);
    p->OnData(Direction::kRequest, "*2\r\n$3\r\nGET\r\n$6\r\nuser:7\r\n", 10);
    p->OnData(Direction::kResponse, "$2\r\nhi\r\n", 20);
    auto got = p->TakeExchanges();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].statement, "GET user:?");
    EXPECT_EQ(got[0].cache_hits, 1u);
  }
}

// Frames real clients cannot produce or the captures do not hold.
TEST(RedisParserTest, HandWrittenResp3AndEdgeFrames) {
  auto p = MakeRedisParser({});
  auto cmd = [&](std::string_view req, std::string_view rep, std::uint64_t ts) {
    p->OnData(Direction::kRequest, req, ts);
    p->OnData(Direction::kResponse, rep, ts + 1);
  };
  cmd("*1\r\n$4\r\nPING\r\n", "(3492890328409238509324850943850943825024385\r\n", 10);
  cmd("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", "!21\r\nSYNTAX invalid syntax\r\n", 20);
  cmd("PING\r\n", "+PONG\r\n", 30);  // inline command
  cmd("*0\r\n\r\n", "", 40);         // ignored by Redis: no reply expected
  cmd("*3\r\n$6\r\nLRANGE\r\n$1\r\nl\r\n$2\r\n-1\r\n", "*2\r\n*1\r\n:1\r\n*-1\r\n", 50);
  cmd("*2\r\n$4\r\nMGET\r\n$1\r\nk\r\n", "*1\r\n|1\r\n+a\r\n+b\r\n$1\r\nv\r\n", 60);
  cmd("*1\r\n$4\r\nEXEC\r\n", "*-1\r\n", 70);
  cmd("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", ",-inf\r\n", 80);
  auto got = p->TakeExchanges();
  ASSERT_EQ(got.size(), 7u);
  EXPECT_EQ(got[0].statement, "PING");
  EXPECT_FALSE(got[0].error);
  EXPECT_TRUE(got[1].error);
  EXPECT_EQ(got[1].error_code, "SYNTAX");
  EXPECT_EQ(got[1].cache_reads, 0u);
  EXPECT_EQ(got[2].statement, "PING");
  EXPECT_EQ(got[2].request_end_ns, 30u);
  EXPECT_EQ(got[3].statement, "LRANGE l");
  EXPECT_EQ(got[3].rows, 2);
  EXPECT_EQ(got[4].cache_reads, 1u);  // attribute inside the array is not an element
  EXPECT_EQ(got[4].cache_hits, 1u);
  EXPECT_EQ(got[5].rows, -1);  // aborted transaction: null array
  EXPECT_FALSE(got[5].error);
  EXPECT_EQ(p->stats().parse_errors, 0u);
  EXPECT_EQ(p->stats().unmatched_responses, 0u);
}

// CLIENT REPLY OFF/SKIP: commands the server runs without answering count
// at once, unanswered; every reply still goes to its own command.
TEST(RedisParserTest, ClientReplyOffAndSkip) {
  Replayed r = ReplayWhole(Load("client_reply.capture"));
  struct Want {
    const char* statement;
    bool answered;
  };
  const Want want[] = {
      {"SET user:?:name", true}, {"CLIENT REPLY", false}, {"SET skipped:?", false},
      {"GET user:?:name", true}, {"CLIENT REPLY", false}, {"INCR ctr", false},
      {"INCR ctr", false},       {"INCR ctr", false},     {"CLIENT REPLY", false},  // SKIP, off
      {"CLIENT REPLY", true},    {"GET ctr", true},       {"CLIENT REPLY", false},  // SKIP
      {"CLIENT REPLY", true},    {"CLIENT REPLY", false}, {"RESET", true},          // ON ends OFF
      {"CLIENT REPLY", false},   {"RESET", false},        {"CLIENT REPLY", true},   // bogus
      {"GET missing:?", true},
  };
  ASSERT_EQ(r.exchanges.size(), std::size(want)) << ::testing::PrintToString(Describe(r.exchanges));
  for (std::size_t i = 0; i < std::size(want); ++i) {
    SCOPED_TRACE(i);
    const Exchange& e = r.exchanges[i];
    EXPECT_EQ(e.statement, want[i].statement);
    EXPECT_EQ(e.answered, want[i].answered);
    if (!e.answered) {
      EXPECT_EQ(e.response_end_ns, e.request_end_ns);
      EXPECT_EQ(e.cache_reads, 0u);
    }
  }
  EXPECT_EQ(r.exchanges[3].cache_hits, 1u);  // GET user:1:name got "alice", not SET's +OK
  EXPECT_EQ(r.exchanges[10].rows, -1);
  EXPECT_TRUE(r.exchanges[17].error);  // CLIENT REPLY bogus: -ERR syntax error
  EXPECT_EQ(r.exchanges[18].cache_reads, 1u);
  EXPECT_EQ(r.exchanges[18].cache_hits, 0u);  // a miss
  EXPECT_EQ(r.stats.unmatched_responses, 0u);
  EXPECT_EQ(r.stats.exchanges_lost, 0u);
}

// MULTI/EXEC: a queued command counts when EXEC runs it, with its result
// from EXEC's array; DISCARD, -EXECABORT, a null EXEC (WATCH) and RESET run
// none (INFO commandstats counts none of them).
TEST(RedisParserTest, TransactionsCountWhatExecRan) {
  Replayed r = ReplayWhole(Load("transactions.capture"));
  std::vector<std::string> got;
  for (const Exchange& e : r.exchanges) {
    got.push_back(e.statement + (e.error ? " !" + e.error_code : "") +
                  (e.rows >= 0 ? " rows=" + std::to_string(e.rows) : ""));
  }
  const std::vector<std::string> want = {
      "SET k",
      "MULTI",
      "DISCARD",  // SET tx:?, INCR tx:? never ran
      "WATCH k",
      "MULTI",
      "EXEC",  // null: k changed, SET and GET never ran
      "MULTI",
      "NOSUCH !ERR",
      "EXEC !EXECABORT",  // SET tx:? never ran
      "MULTI",
      "SET tx:?",
      "LPUSH tx:? !WRONGTYPE",
      "GET tx:?",
      "GET missing:?",
      "EXEC rows=4",
      "MULTI",
      "RESET",  // SET tx:? discarded
      "GET tx:?",
  };
  EXPECT_EQ(got, want);
  // The cache reads of the EXEC that ran: GET tx:5 (a hit), GET missing:9.
  std::uint32_t reads = 0, hits = 0;
  for (const Exchange& e : r.exchanges) {
    reads += e.cache_reads;
    hits += e.cache_hits;
  }
  EXPECT_EQ(reads, 3u);  // and the last GET, a miss
  EXPECT_EQ(hits, 1u);
  EXPECT_EQ(r.stats.unmatched_responses, 0u);
}

TEST(RedisParserTest, HostileFramesAreBounded) {
  // Nesting deeper than the decoder allows.
  {
    auto p = MakeRedisParser({});
    p->OnData(Direction::kRequest, "*1\r\n$4\r\nPING\r\n", 1);
    std::string deep;
    for (int i = 0; i < 100; ++i) deep += "*1\r\n";
    deep += ":1\r\n";
    p->OnData(Direction::kResponse, deep, 2);
    EXPECT_GE(p->stats().parse_errors, 1u);
  }
  // A bulk string larger than kMaxBufferedBytes: skipped and counted, and the
  // next command after a gap is parsed.
  {
    auto p = MakeRedisParser({});
    p->OnData(Direction::kRequest, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", 1);
    p->OnData(Direction::kResponse, "$5000000\r\nxxxx", 2);
    EXPECT_EQ(p->stats().parse_errors, 1u);
    p->OnGap(Direction::kResponse, 5000000);
    p->OnData(Direction::kRequest, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", 3);
    p->OnData(Direction::kResponse, "$-1\r\n", 4);
    auto got = p->TakeExchanges();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].request_end_ns, 3u);
    EXPECT_EQ(got[0].cache_reads, 1u);
    EXPECT_EQ(got[0].cache_hits, 0u);
  }
  // Endless line without CRLF: capped.
  {
    auto p = MakeRedisParser({});
    std::string line(70 * 1024, 'a');
    p->OnData(Direction::kResponse, "+", 1);
    p->OnData(Direction::kResponse, line, 1);
    EXPECT_EQ(p->stats().parse_errors, 1u);
  }
}

TEST(RedisNormalizeTest, KeyPatterns) {
  using redis::KeyPattern;
  EXPECT_EQ(KeyPattern("user:123:cart"), "user:?:cart");
  EXPECT_EQ(KeyPattern("session:3f2a9c1e7b2d4a11"), "session:?");
  EXPECT_EQ(KeyPattern("order:6f1c2b7e-3d4a-4b5c-8d9e-0a1b2c3d4e5f"), "order:?");
  EXPECT_EQ(KeyPattern("key:000000000042"), "key:?");
  EXPECT_EQ(KeyPattern("counter:__rand_int__"), "counter:?");
  EXPECT_EQ(KeyPattern("mylist"), "mylist");
  EXPECT_EQ(KeyPattern("cache/v1/user_12345/avatar.png"), "cache/v1/user_?/avatar.png");
  EXPECT_EQ(KeyPattern("item4711"), "item?");
  EXPECT_EQ(KeyPattern("tok:Ab3dE5gH7jK9mN1p"), "tok:?");
  EXPECT_EQ(KeyPattern(std::string("a\x01:7", 4)), "a?:?");
}

TEST(RedisNormalizeTest, CommandTable) {
  auto norm = [](std::vector<std::string_view> args, bool values = false) {
    return redis::NormalizeCommand(args, values).statement;
  };
  EXPECT_EQ(norm({"get", "user:1"}), "GET user:?");
  EXPECT_EQ(norm({"SET", "user:1", "secret"}), "SET user:?");
  EXPECT_EQ(norm({"SET", "user:1", "secret"}, true), "SET user:1 secret");
  EXPECT_EQ(norm({"MSET", "a:1", "v1", "b:2", "v2"}), "MSET a:? b:?");
  EXPECT_EQ(norm({"HGET", "user:1", "email"}), "HGET user:?");
  EXPECT_EQ(norm({"BLPOP", "q:1", "q:2", "0"}), "BLPOP q:?");
  EXPECT_EQ(norm({"EVAL", "return 'secret'", "1", "lock:9", "arg"}), "EVAL lock:?");
  EXPECT_EQ(norm({"CLIENT", "SETNAME", "x"}), "CLIENT SETNAME");
  // A subcommand follows the command name's rule; one that breaks it is
  // left out, with its space.
  EXPECT_EQ(norm({"client", "setname"}), "CLIENT SETNAME");
  EXPECT_EQ(norm({"CLIENT"}), "CLIENT");
  EXPECT_EQ(norm({"CLIENT", ""}), "CLIENT");
  EXPECT_EQ(norm({"CLIENT", std::string_view("set\x01name", 8)}), "CLIENT");
  EXPECT_EQ(norm({"CLIENT", std::string(33, 'x')}), "CLIENT");
  EXPECT_EQ(norm({"FOO.BAR", "k", "v"}), "FOO.BAR");  // unknown: no arguments at all
  // The table's names are looked up as up to 16 bytes, zero-padded: the
  // longest name, a longer one and a prefix of a known one.
  EXPECT_EQ(norm({"zremrangebyscore", "z:1", "0", "5"}), "ZREMRANGEBYSCORE z:?");
  EXPECT_EQ(norm({"ZREMRANGEBYSCOREX", "z:1", "0"}), "ZREMRANGEBYSCOREX");
  EXPECT_EQ(norm({"GE", "user:1"}), "GE");
  EXPECT_EQ(norm({"HGETALL", "user:1"}), "HGETALL user:?");
  EXPECT_EQ(norm({std::string_view("\xff\x01", 2)}), "?");
  // A name is uppercased and checked in one pass: one bad byte anywhere,
  // or more than 32 bytes, makes it "?"; module names keep their dot.
  EXPECT_EQ(norm({std::string_view("get\x01", 4), "user:1"}), "?");
  EXPECT_EQ(norm({"json.get", "doc:1"}), "JSON.GET");
  EXPECT_EQ(norm({std::string(32, 'x')}), std::string(32, 'X'));
  EXPECT_EQ(norm({std::string(33, 'x')}), "?");
  EXPECT_EQ(redis::NormalizeCommand({"HMGET", "h:1", "a", "b"}, false).cache,
            redis::CacheRead::kMulti);
}

// Patterns are deduplicated in place, in the statement being built: a repeat
// anywhere is dropped, a pattern that only shares a prefix is kept, and past
// eight distinct patterns the rest is "...".
TEST(RedisNormalizeTest, KeyPatternsDeduplicatedInOrder) {
  auto norm = [](std::vector<std::string_view> args) {
    return redis::NormalizeCommand(args, false).statement;
  };
  EXPECT_EQ(norm({"DEL", "a:1", "b:2", "a:3", "b:4", "c"}), "DEL a:? b:? c");
  EXPECT_EQ(norm({"DEL", "ab:1", "a", "ab", "a:2", "ab:3"}), "DEL ab:? a ab a:?");
  EXPECT_EQ(norm({"RENAME", "old:1", "new:2", "ignored:3"}), "RENAME old:? new:?");
  EXPECT_EQ(norm({"EXISTS", "", "x", ""}), "EXISTS \"\" x");
  EXPECT_EQ(norm({"DEL", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8"}),
            "DEL k1 k2 k3 k4 k5 k6 k7 k8");
  EXPECT_EQ(norm({"DEL", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k1", "k9", "k10"}),
            "DEL k1 k2 k3 k4 k5 k6 k7 k8 ...");
  EXPECT_EQ(norm({"MSET", "a:1", "v", "a:2"}), "MSET a:?");  // odd count: the last key has no value
  EXPECT_EQ(norm({"EVAL", "s", "2", "x:1"}), "EVAL x:?");    // numkeys past the end
  EXPECT_EQ(norm({"BLPOP", "q:1"}), "BLPOP");                // only the timeout position
}

TEST(RedisDetectTest, LooksLikeRedis) {
  EXPECT_TRUE(LooksLikeRedis("*1\r\n$4\r\nPING\r\n"));
  EXPECT_TRUE(LooksLikeRedis("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"));
  EXPECT_TRUE(LooksLikeRedis("*2\r\n$"));
  EXPECT_TRUE(LooksLikeRedis("PING\r\n"));
  EXPECT_TRUE(LooksLikeRedis("get user:1\r\n"));
  EXPECT_FALSE(LooksLikeRedis(""));
  EXPECT_FALSE(LooksLikeRedis("*"));
  EXPECT_FALSE(LooksLikeRedis("*abc\r\n"));
  EXPECT_FALSE(LooksLikeRedis("*1\r\n+OK\r\n"));
  EXPECT_FALSE(LooksLikeRedis("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_FALSE(LooksLikeRedis("howdy world\r\n"));
  EXPECT_FALSE(LooksLikeRedis(std::string_view("\x16\x03\x01\x02\x00", 5)));
  EXPECT_FALSE(LooksLikeRedis(std::string_view("\0\0\0\x08\x04\xd2\x16\x2f", 8)));
}

// --capture-bytes K: every syscall longer than K bytes arrives as its first K
// bytes and a gap. large_values.capture (redis-server 7.0, redis-cli; start-up
// COMMAND DOCS cut off) SETs and GETs 60 KB and 20 KB values and MGETs them.
// A gap inside a bulk string's payload must keep the exchange.
TEST(RedisParserTest, CaptureBytesLimitKeepsExchanges) {
  auto chunks = Load("large_values.capture");
  Replayed whole = ReplayWhole(chunks);
  ASSERT_EQ(whole.exchanges.size(), 10u);
  EXPECT_EQ(whole.stats.parse_errors, 0u);
  EXPECT_EQ(whole.exchanges[2].statement, "GET big:?");
  EXPECT_EQ(whole.exchanges[4].cache_hits, 3u);
  EXPECT_TRUE(whole.exchanges[7].error);
  const auto want = Describe(whole.exchanges);
  // The MGET reply (*4 of 60 KB, 5 B, 20 KB, nil) comes in one 64 KiB read:
  // the gap runs from inside the first value across the next elements'
  // headers, which cannot be followed, so MGET alone is lost (and counted
  // as a resync, not a parse error). Everything else is kept exactly.
  auto want_no_mget = want;
  want_no_mget.erase(want_no_mget.begin() + 4);
  for (std::size_t k : {100u, 4096u, 16384u}) {
    auto p = MakeRedisParser({});
    testing::ReplayCapped(*p, chunks, k);
    EXPECT_EQ(Describe(p->TakeExchanges()), want_no_mget) << "K=" << k;
    EXPECT_EQ(p->stats().parse_errors, 0u) << "K=" << k;
  }
  // K=16 cuts requests inside the key or before the value's $len header:
  // those gaps cross bulk-string boundaries and cannot be followed, so only
  // the exchanges whose request fits 16 bytes or is cut inside its last
  // bulk string survive; whatever is reported must be a true exchange.
  auto p = MakeRedisParser({});
  testing::ReplayCapped(*p, chunks, 16);
  for (const std::string& got : Describe(p->TakeExchanges())) {
    EXPECT_NE(std::find(want.begin(), want.end(), got), want.end()) << got;
  }
}

// A gap anywhere inside the 60 KB GET reply's payload (or its CRLF) keeps
// every exchange identical.
TEST(RedisParserTest, GapInsideBulkPayloadIsSkipped) {
  auto chunks = Load("large_values.capture");
  const auto want = Describe(ReplayWhole(chunks).exchanges);
  std::size_t big = 0;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    if (chunks[i].dir == Direction::kResponse && chunks[i].data.size() > 50000) {
      big = i;
      break;
    }
  }
  ASSERT_GT(big, 0u);
  const std::size_t size = chunks[big].data.size();
  for (std::size_t cut : {std::size_t{9}, std::size_t{5000}, size - 3}) {
    for (std::size_t lost : {std::size_t{1}, size - cut - 2, size - cut}) {
      if (cut + lost > size || lost == 0) continue;
      auto p = MakeRedisParser({});
      testing::ReplayWithGapInChunk(*p, chunks, big, cut, lost);
      EXPECT_EQ(Describe(p->TakeExchanges()), want) << "cut " << cut << " lost " << lost;
      EXPECT_EQ(p->stats().parse_errors, 0u);
    }
  }
}

}  // namespace
}  // namespace waitscope::protocols
