// HTTP/1.x parser tests: captures recorded from nginx 1.22 (Debian 12) with
// curl 7.88 and raw-socket clients through tools/capture/tcp_capture_proxy.py,
// replayed whole, split at every byte boundary and byte by byte; plus gaps,
// truncation, garbage and hand-written edge cases of RFC 9112 framing.
#include <gtest/gtest.h>

#include <algorithm>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "capture.h"
#include "protocols/common/connection_parser.h"
#include "protocols/http1/head_parser.h"
#include "protocols/http1/parser.h"
#include "protocols/http1/route.h"
#include "protocols/http1/types.h"

namespace waitscope::protocols {
namespace {

using http1::Http1Parser;
using testing::Chunk;

std::vector<Chunk> Load(const std::string& name) {
  return testing::LoadCapture(std::string(PROTO_TESTDATA_DIR) + "/" + name);
}

// One comparable line per exchange, all fields.
std::string Describe(const Exchange& e) {
  return e.statement + " | " + e.http_method + " " + e.http_route + " " +
         std::to_string(e.http_status) + " err=" + (e.error ? "1" : "0") + ":" + e.error_code +
         " req=" + std::to_string(e.request_end_ns) + " resp=" + std::to_string(e.response_end_ns) +
         " rows=" + std::to_string(e.rows) +
         " proto=" + std::to_string(static_cast<int>(e.protocol));
}

std::vector<std::string> Describe(const std::vector<Exchange>& v) {
  std::vector<std::string> out;
  for (const Exchange& e : v) out.push_back(Describe(e));
  return out;
}

struct Replayed {
  std::vector<Exchange> ex;
  ParserStats stats;
};

Replayed ReplayWith(const std::vector<Chunk>& chunks, std::size_t piece, bool close,
                    ParserOptions opts = {}) {
  Http1Parser p(opts);
  testing::Replay(p, chunks, piece);
  if (close) p.OnClose(chunks.back().ts_ns + 1);
  return {p.TakeExchanges(), p.stats()};
}

// Whole, byte by byte, and split at every byte of every chunk: all identical.
std::vector<Exchange> ReplayAllWays(const std::string& name, bool close = false) {
  std::vector<Chunk> chunks = Load(name);
  Replayed whole = ReplayWith(chunks, 0, close);
  EXPECT_EQ(whole.stats.parse_errors, 0u) << name;
  EXPECT_EQ(whole.stats.unmatched_responses, 0u) << name;
  Replayed bytes = ReplayWith(chunks, 1, close);
  EXPECT_EQ(Describe(bytes.ex), Describe(whole.ex)) << name << " byte by byte";
  EXPECT_EQ(bytes.stats.parse_errors, 0u);
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    for (std::size_t cut = 1; cut < chunks[i].data.size(); ++cut) {
      Http1Parser p(ParserOptions{});
      testing::ReplaySplitAt(p, chunks, i, cut);
      if (close) p.OnClose(chunks.back().ts_ns + 1);
      std::vector<std::string> got = Describe(p.TakeExchanges());
      if (got != Describe(whole.ex) || p.stats().parse_errors != 0) {
        ADD_FAILURE() << name << " split chunk " << i << " at " << cut;
        EXPECT_EQ(got, Describe(whole.ex));
        return whole.ex;
      }
    }
  }
  return whole.ex;
}

void ExpectExchange(const Exchange& e, const std::string& method, const std::string& route,
                    int status, std::uint64_t req_ns, std::uint64_t resp_ns) {
  EXPECT_EQ(e.protocol, Protocol::kHttp1);
  EXPECT_EQ(e.http_method, method);
  EXPECT_EQ(e.http_route, route);
  EXPECT_EQ(e.statement, method + " " + route);
  EXPECT_EQ(e.http_status, status);
  EXPECT_EQ(e.error, status >= 500);
  EXPECT_EQ(e.error_code, status >= 500 ? std::to_string(status) : "");
  EXPECT_EQ(e.request_end_ns, req_ns);
  EXPECT_EQ(e.response_end_ns, resp_ns);
}

TEST(Http1Capture, KeepAliveSevenRequestsOneConnection) {
  std::vector<Chunk> c = Load("keepalive.capture");
  std::vector<Exchange> ex = ReplayAllWays("keepalive.capture");
  ASSERT_EQ(ex.size(), 7u);
  ExpectExchange(ex[0], "GET", "/static/small.txt", 200, c[0].ts_ns, c[1].ts_ns);
  ExpectExchange(ex[1], "GET", "/orders/{id}", 200, c[2].ts_ns, c[3].ts_ns);
  ExpectExchange(ex[2], "GET", "/users/{uuid}", 200, c[4].ts_ns, c[5].ts_ns);  // ?tab= dropped
  ExpectExchange(ex[3], "GET", "/missing", 404, c[6].ts_ns, c[7].ts_ns);       // 4xx: no error
  ExpectExchange(ex[4], "GET", "/gz/data.txt", 200, c[8].ts_ns, c[9].ts_ns);   // gzip, chunked
  ExpectExchange(ex[5], "GET", "/fail", 503, c[10].ts_ns, c[11].ts_ns);
  ExpectExchange(ex[6], "GET", "/static/{hex}", 404, c[12].ts_ns, c[13].ts_ns);
}

TEST(Http1Capture, HeadAnd304HaveNoBody) {
  std::vector<Chunk> c = Load("head_304.capture");
  std::vector<Exchange> ex = ReplayAllWays("head_304.capture");
  ASSERT_EQ(ex.size(), 3u);
  // HEAD answered with Content-Length: 1347 and no body bytes.
  ExpectExchange(ex[0], "HEAD", "/static/page.html", 200, c[0].ts_ns, c[1].ts_ns);
  ExpectExchange(ex[1], "GET", "/static/page.html", 304, c[2].ts_ns, c[3].ts_ns);
  ExpectExchange(ex[2], "GET", "/static/small.txt", 200, c[4].ts_ns, c[5].ts_ns);
}

TEST(Http1Capture, PostChunkedUploadAndExpectContinue) {
  std::vector<Chunk> c = Load("post_upload.capture");
  std::vector<Exchange> ex = ReplayAllWays("post_upload.capture");
  ASSERT_EQ(ex.size(), 3u);
  ExpectExchange(ex[0], "POST", "/api/orders", 201, c[0].ts_ns, c[1].ts_ns);
  ExpectExchange(ex[1], "POST", "/upload", 200, c[2].ts_ns, c[3].ts_ns);  // chunked request body
  // nginx sent "100 Continue" and the final 201 before curl sent the body:
  // the request ends after its response.
  ExpectExchange(ex[2], "POST", "/api/orders", 201, c[6].ts_ns, c[5].ts_ns);
}

TEST(Http1Capture, PipelinedRequestsMatchInOrder) {
  std::vector<Chunk> c = Load("pipelined.capture");
  std::vector<Exchange> ex = ReplayAllWays("pipelined.capture");
  ASSERT_EQ(ex.size(), 3u);
  // All three requests in one write; the first chunk of responses holds two.
  ExpectExchange(ex[0], "GET", "/static/small.txt", 200, c[0].ts_ns, c[1].ts_ns);
  ExpectExchange(ex[1], "GET", "/orders/{id}", 200, c[0].ts_ns, c[1].ts_ns);
  ExpectExchange(ex[2], "GET", "/missing", 404, c[0].ts_ns, c[2].ts_ns);
}

TEST(Http1Capture, Http10CloseDelimitedBodyEndsAtClose) {
  std::vector<Chunk> c = Load("http10_close.capture");
  Replayed open = ReplayWith(c, 0, /*close=*/false);
  EXPECT_TRUE(open.ex.empty());  // body length unknown until the connection closes
  std::vector<Exchange> ex = ReplayAllWays("http10_close.capture", /*close=*/true);
  ASSERT_EQ(ex.size(), 1u);
  ExpectExchange(ex[0], "GET", "/gz/data.txt", 200, c[0].ts_ns, c[1].ts_ns);
}

TEST(Http1Capture, UpgradeStopsParsingWithoutErrors) {
  std::vector<Chunk> c = Load("upgrade.capture");
  std::vector<Exchange> ex = ReplayAllWays("upgrade.capture");
  ASSERT_EQ(ex.size(), 1u);
  ExpectExchange(ex[0], "GET", "/ws", 101, c[0].ts_ns, c[1].ts_ns);
}

// Checked by hand against nginx's access log of the capture run: one line per
// request, these statuses (conn 1, 5-9 of the run).
TEST(Http1Capture, StatusCountsMatchNginxAccessLog) {
  std::map<int, int> counts;
  for (const char* name : {"keepalive.capture", "head_304.capture", "post_upload.capture",
                           "pipelined.capture", "http10_close.capture", "upgrade.capture"}) {
    for (const Exchange& e : ReplayWith(Load(name), 0, true).ex) ++counts[e.http_status];
  }
  std::map<int, int> access_log = {{101, 1}, {200, 10}, {201, 2}, {304, 1}, {404, 3}, {503, 1}};
  EXPECT_EQ(counts, access_log);
}

TEST(Http1Capture, CaptureValuesKeepsRawTarget) {
  ParserOptions opts;
  opts.capture_values = true;
  Replayed r = ReplayWith(Load("pipelined.capture"), 0, false, opts);
  ASSERT_EQ(r.ex.size(), 3u);
  EXPECT_EQ(r.ex[1].statement, "GET /orders/42?verbose=1");
  EXPECT_EQ(r.ex[1].http_route, "/orders/{id}");
}

TEST(Http1Capture, TruncatedCaptureKeepsCompletedExchanges) {
  std::vector<Chunk> c = Load("keepalive.capture");
  // Stop in the middle of the 5th response (chunked gzip body).
  std::vector<Chunk> cut(c.begin(), c.begin() + 10);
  cut.back().data.resize(cut.back().data.size() / 2);
  Replayed r = ReplayWith(cut, 0, false);
  ASSERT_EQ(r.ex.size(), 4u);
  EXPECT_EQ(r.ex[3].http_route, "/missing");
  EXPECT_EQ(r.stats.parse_errors, 0u);
  // Every prefix of every chunk: no crash, never more than the full result.
  for (std::size_t n = 0; n < c.size(); ++n) {
    std::vector<Chunk> part(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(n + 1));
    for (std::size_t len = 0; len < part.back().data.size(); len += 7) {
      std::vector<Chunk> p = part;
      p.back().data.resize(len);
      Replayed pr = ReplayWith(p, 0, true);
      EXPECT_LE(pr.ex.size(), 7u);
      EXPECT_EQ(pr.stats.parse_errors, 0u);
    }
  }
}

TEST(Http1Capture, GapInRequestHeadResynchronises) {
  std::vector<Chunk> c = Load("keepalive.capture");
  Http1Parser p(ParserOptions{});
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (i == 4) {  // lose the middle of the 3rd request's head
      p.OnData(c[i].dir, std::string_view(c[i].data).substr(0, 20), c[i].ts_ns);
      p.OnGap(c[i].dir, c[i].data.size() - 20);
      continue;
    }
    p.OnData(c[i].dir, c[i].data, c[i].ts_ns);
  }
  std::vector<Exchange> ex = p.TakeExchanges();
  ASSERT_EQ(ex.size(), 6u);
  ExpectExchange(ex[1], "GET", "/orders/{id}", 200, c[2].ts_ns, c[3].ts_ns);
  ExpectExchange(ex[2], "GET", "/missing", 404, c[6].ts_ns, c[7].ts_ns);
  ExpectExchange(ex[5], "GET", "/static/{hex}", 404, c[12].ts_ns, c[13].ts_ns);
  EXPECT_EQ(p.stats().unmatched_responses, 1u);  // the lost request's response
  EXPECT_EQ(p.stats().parse_errors, 0u);
}

TEST(Http1Capture, GapInResponseHeadAndBody) {
  std::vector<Chunk> c = Load("keepalive.capture");
  Http1Parser p(ParserOptions{});
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (i == 3) {  // status line of the 2nd response lost: that exchange is dropped
      p.OnGap(c[i].dir, 10);
      p.OnData(c[i].dir, std::string_view(c[i].data).substr(10), c[i].ts_ns);
      continue;
    }
    if (i == 7) {  // inside the 404 body (Content-Length 146): framing kept
      std::string_view d = c[i].data;
      p.OnData(c[i].dir, d.substr(0, 200), c[i].ts_ns);
      p.OnGap(c[i].dir, 50);
      p.OnData(c[i].dir, d.substr(250), c[i].ts_ns);
      continue;
    }
    p.OnData(c[i].dir, c[i].data, c[i].ts_ns);
  }
  std::vector<Exchange> ex = p.TakeExchanges();
  ASSERT_EQ(ex.size(), 6u);
  ExpectExchange(ex[0], "GET", "/static/small.txt", 200, c[0].ts_ns, c[1].ts_ns);
  ExpectExchange(ex[1], "GET", "/users/{uuid}", 200, c[4].ts_ns, c[5].ts_ns);
  ExpectExchange(ex[2], "GET", "/missing", 404, c[6].ts_ns, c[7].ts_ns);
  ExpectExchange(ex[4], "GET", "/fail", 503, c[10].ts_ns, c[11].ts_ns);
  EXPECT_GE(p.stats().resyncs, 1u);
}

TEST(Http1Garbage, RandomBytesNeverCrashAndCountErrors) {
  std::mt19937 rng(42);
  std::uint64_t errors = 0;
  for (int round = 0; round < 200; ++round) {
    Http1Parser p(ParserOptions{});
    for (int i = 0; i < 20; ++i) {
      std::string junk(rng() % 300, '\0');
      for (char& ch : junk) ch = static_cast<char>(rng());
      p.OnData(rng() % 2 ? Direction::kRequest : Direction::kResponse, junk, 1000 + i);
      if (rng() % 10 == 0) p.OnGap(Direction::kResponse, rng() % 100);
    }
    (void)p.TakeExchanges();
    errors += p.stats().parse_errors;
  }
  EXPECT_GT(errors, 100u);
}

TEST(Http1Garbage, GarbageThenValidTrafficRecovers) {
  Http1Parser p(ParserOptions{});
  p.OnData(Direction::kRequest, std::string("\x01\x02zzz\nnot http\n", 15), 1);
  p.OnData(Direction::kResponse, "garbage\r\n", 2);
  p.OnData(Direction::kRequest, "GET /a/7 HTTP/1.1\r\nHost: x\r\n\r\n", 3);
  p.OnData(Direction::kResponse, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 4);
  p.OnData(Direction::kResponse, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 5);
  std::vector<Exchange> ex = p.TakeExchanges();
  EXPECT_EQ(p.stats().parse_errors, 2u);
  // The unreadable request and the unreadable response cancel out; the
  // surplus response is reported unmatched.
  ASSERT_EQ(ex.size(), 1u);
  ExpectExchange(ex[0], "GET", "/a/{id}", 200, 3, 4);
  EXPECT_EQ(p.stats().unmatched_responses, 1u);
}

TEST(Http1Garbage, HugeHeadIsBoundedAndCounted) {
  Http1Parser p(ParserOptions{});
  std::string big = "GET /" + std::string(3 << 20, 'a');  // no line end, 3 MiB
  p.OnData(Direction::kRequest, big, 1);
  EXPECT_EQ(p.stats().parse_errors, 1u);
  p.OnData(Direction::kRequest, " HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n", 2);
  p.OnData(Direction::kResponse, "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
           3);
  std::vector<Exchange> ex = p.TakeExchanges();
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].http_route, "/b");
}

TEST(Http1Framing, LargeBodyInOneCallIsNotBuffered) {
  Http1Parser p(ParserOptions{});
  std::string body(5 << 20, 'x');
  p.OnData(Direction::kRequest, "PUT /blob HTTP/1.1\r\nContent-Length: 5242880\r\n\r\n" + body, 1);
  p.OnData(Direction::kResponse, "HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n", 2);
  std::vector<Exchange> ex = p.TakeExchanges();
  ASSERT_EQ(ex.size(), 1u);
  ExpectExchange(ex[0], "PUT", "/blob", 201, 1, 2);
  EXPECT_EQ(p.stats().parse_errors, 0u);
}

TEST(Http1Framing, ChunkExtensionsAndTrailersBothDirections) {
  Http1Parser p(ParserOptions{});
  p.OnData(Direction::kRequest,
           "POST /ingest HTTP/1.1\r\nTRANSFER-encoding: gzip, chunked\r\n\r\n"
           "5;name=\"v\"\r\nhello\r\n3 ; ext\r\nabc\r\n0\r\nX-Checksum: 1\r\n\r\n",
           10);
  p.OnData(Direction::kResponse,
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n"
           "A\r\n0123456789\r\n",
           20);
  p.OnData(Direction::kResponse, "0;last\r\nX-T: 2\r\nX-U: 3\r\n\r\n", 30);
  std::vector<Exchange> ex = p.TakeExchanges();
  ASSERT_EQ(ex.size(), 1u);
  ExpectExchange(ex[0], "POST", "/ingest", 200, 10, 30);
  EXPECT_EQ(p.stats().parse_errors, 0u);
}

TEST(Http1Framing, InterimNoBodyAndCloseDelimitedByNextRequest) {
  Http1Parser p(ParserOptions{});
  p.OnData(Direction::kRequest, "DELETE /items/12 HTTP/1.1\r\n\r\n", 1);
  p.OnData(Direction::kResponse,
           "HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
           "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n",
           2);
  // A response with no framing headers runs until close...
  p.OnData(Direction::kRequest, "GET /legacy HTTP/1.0\r\n\r\n", 3);
  p.OnData(Direction::kResponse, "HTTP/1.0 500 Oops\r\n\r\npartial", 4);
  p.OnData(Direction::kResponse, " body", 5);
  // ...or until the next request proves the body was over.
  p.OnData(Direction::kRequest, "GET /next HTTP/1.1\r\n\r\n", 6);
  p.OnData(Direction::kResponse, "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", 7);
  std::vector<Exchange> ex = p.TakeExchanges();
  ASSERT_EQ(ex.size(), 3u);
  ExpectExchange(ex[0], "DELETE", "/items/{id}", 204, 1, 2);
  ExpectExchange(ex[1], "GET", "/legacy", 500, 3, 5);
  ExpectExchange(ex[2], "GET", "/next", 200, 6, 7);
  EXPECT_EQ(p.stats().parse_errors, 0u);
}

TEST(Http1Framing, ObsFoldToleratedExceptOnFramingHeaders) {
  Http1Parser p(ParserOptions{});
  p.OnData(Direction::kRequest, "GET /a HTTP/1.1\r\nX-Long: one\r\n  two\r\n\r\n", 1);
  p.OnData(Direction::kResponse, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 2);
  EXPECT_EQ(p.TakeExchanges().size(), 1u);
  EXPECT_EQ(p.stats().parse_errors, 0u);
  p.OnData(Direction::kRequest, "POST /b HTTP/1.1\r\nContent-Length: 1\r\n 0\r\n\r\n", 3);
  EXPECT_EQ(p.stats().parse_errors, 1u);
}

TEST(Http1Framing, RejectsConflictingAndBadLengths) {
  for (const char* head : {"POST /a HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
                           "POST /a HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
                           "POST /a HTTP/1.1\r\nContent-Length : 1\r\n\r\n",
                           "POST /a HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
                           "GET /a HTTP/2.0\r\n\r\n", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"}) {
    Http1Parser p(ParserOptions{});
    p.OnData(Direction::kRequest, head, 1);
    EXPECT_GE(p.stats().parse_errors, 1u) << head;
  }
  Http1Parser ok(ParserOptions{});
  ok.OnData(Direction::kRequest, "POST /a HTTP/1.1\r\nContent-Length: 2, 2\r\n\r\nhi", 1);
  ok.OnData(Direction::kResponse, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 2);
  EXPECT_EQ(ok.TakeExchanges().size(), 1u);
  EXPECT_EQ(ok.stats().parse_errors, 0u);
}

TEST(Http1Framing, ConnectTunnelAndRefusedUpgrade) {
  Http1Parser tunnel(ParserOptions{});
  tunnel.OnData(Direction::kRequest, "CONNECT db.internal:5432 HTTP/1.1\r\n\r\n\x16\x03\x01", 1);
  tunnel.OnData(Direction::kResponse, "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03", 2);
  tunnel.OnData(Direction::kRequest, "\x17\x03\x03 binary", 3);
  tunnel.OnGap(Direction::kResponse, 100);
  std::vector<Exchange> ex = tunnel.TakeExchanges();
  ASSERT_EQ(ex.size(), 1u);
  ExpectExchange(ex[0], "CONNECT", "db.internal:5432", 200, 1, 2);
  EXPECT_EQ(tunnel.stats().parse_errors, 0u);

  // The server ignores the Upgrade: the connection stays HTTP, including a
  // request pipelined right behind it.
  Http1Parser refused(ParserOptions{});
  refused.OnData(Direction::kRequest,
                 "GET /chat HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
                 "GET /after HTTP/1.1\r\n\r\n",
                 1);
  refused.OnData(Direction::kResponse,
                 "HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\n\r\n"
                 "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
                 2);
  ex = refused.TakeExchanges();
  ASSERT_EQ(ex.size(), 2u);
  ExpectExchange(ex[0], "GET", "/chat", 426, 1, 2);
  ExpectExchange(ex[1], "GET", "/after", 200, 1, 2);
  EXPECT_EQ(refused.stats().parse_errors, 0u);
  EXPECT_EQ(refused.stats().unmatched_responses, 0u);
}

TEST(Http1Framing, EarlyFinalResponseReportedOnClose) {
  Http1Parser p(ParserOptions{});
  p.OnData(Direction::kRequest,
           "POST /up HTTP/1.1\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n", 1);
  p.OnData(Direction::kResponse,
           "HTTP/1.1 413 Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 2);
  EXPECT_TRUE(p.TakeExchanges().empty());
  p.OnClose(3);
  std::vector<Exchange> ex = p.TakeExchanges();
  ASSERT_EQ(ex.size(), 1u);
  ExpectExchange(ex[0], "POST", "/up", 413, 1, 2);
}

TEST(Http1Framing, ResponseWithoutRequestIsUnmatched) {
  Http1Parser p(ParserOptions{});
  p.OnData(Direction::kResponse, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", 1);
  p.OnData(Direction::kRequest, "GET /x HTTP/1.1\r\n\r\n", 2);
  p.OnData(Direction::kResponse, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", 3);
  std::vector<Exchange> ex = p.TakeExchanges();
  ASSERT_EQ(ex.size(), 1u);
  ExpectExchange(ex[0], "GET", "/x", 200, 2, 3);
  EXPECT_EQ(p.stats().unmatched_responses, 1u);
}

TEST(Http1Detect, LooksLikeHttp1Request) {
  EXPECT_TRUE(LooksLikeHttp1Request("GET / HTTP/1.1\r\n"));
  EXPECT_TRUE(LooksLikeHttp1Request("POST "));
  EXPECT_TRUE(LooksLikeHttp1Request("OPTIONS * HTTP/1.1"));
  EXPECT_FALSE(LooksLikeHttp1Request("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
  EXPECT_FALSE(LooksLikeHttp1Request("GET"));
  EXPECT_FALSE(LooksLikeHttp1Request("get / HTTP/1.1"));
  EXPECT_FALSE(LooksLikeHttp1Request("\x16\x03\x01\x02\x00"));
  EXPECT_FALSE(LooksLikeHttp1Request(""));
  EXPECT_NE(MakeHttp1Parser(ParserOptions{}), nullptr);
}

TEST(Http1Route, Templating) {
  using http1::TemplateRoute;
  EXPECT_EQ(TemplateRoute("/orders/123"), "/orders/{id}");
  EXPECT_EQ(TemplateRoute("/orders/123/items/9?x=1#f"), "/orders/{id}/items/{id}");
  EXPECT_EQ(TemplateRoute("/u/3F2504E0-4F89-11D3-9A0C-0305E82C3301/p"), "/u/{uuid}/p");
  EXPECT_EQ(TemplateRoute("/blob/0123456789abcdef"), "/blob/{hex}");
  EXPECT_EQ(TemplateRoute("/blob/0123456789abcde"), "/blob/0123456789abcde");  // 15: kept
  EXPECT_EQ(TemplateRoute("/v1/users/me"), "/v1/users/me");
  EXPECT_EQ(TemplateRoute("/a%20b/"), "/a%20b/");
  EXPECT_EQ(TemplateRoute("http://example.com:8080/x/42?q"), "/x/{id}");
  EXPECT_EQ(TemplateRoute("http://example.com"), "/");
  EXPECT_EQ(TemplateRoute("*"), "*");
  EXPECT_EQ(TemplateRoute("?only=query"), "/");
  EXPECT_EQ(TemplateRoute("/caf\xc3\xa9"), "/caf%C3%A9");
  std::string long_path = "/" + std::string(1000, 'z');
  std::string r = TemplateRoute(long_path);
  EXPECT_EQ(r.size(), http1::kMaxRouteBytes + 3);
  EXPECT_EQ(r.substr(r.size() - 3), "...");
}

// --capture-bytes K: every syscall longer than K bytes arrives as its first K
// bytes and a gap. large_bodies.capture (nginx, curl keep-alive) returns a
// 70 KB and a 20 KB Content-Length body between small responses and a 404.
TEST(Http1Capture, CaptureBytesLimitKeepsExchanges) {
  std::vector<Chunk> c = Load("large_bodies.capture");
  Replayed whole = ReplayWith(c, 0, false);
  ASSERT_EQ(whole.ex.size(), 5u);
  EXPECT_EQ(whole.ex[3].http_status, 404);
  const auto want = Describe(whole.ex);
  for (std::size_t k : {4096u, 16384u}) {
    Http1Parser p({});
    testing::ReplayCapped(p, c, k);
    EXPECT_EQ(Describe(p.TakeExchanges()), want) << "K=" << k;
    EXPECT_EQ(p.stats().parse_errors, 0u) << "K=" << k;
  }
  // K=16 and K=100 cut every response head (nginx's are ~240 bytes): a
  // head has no length, so the exchanges are lost; nothing wrong may be
  // reported.
  for (std::size_t k : {16u, 100u}) {
    Http1Parser p({});
    testing::ReplayCapped(p, c, k);
    for (const std::string& got : Describe(p.TakeExchanges())) {
      EXPECT_NE(std::find(want.begin(), want.end(), got), want.end()) << "K=" << k << " " << got;
    }
  }
}

}  // namespace
}  // namespace waitscope::protocols
