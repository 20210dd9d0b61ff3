// HTTP/1.0 and HTTP/1.1 connection parser (RFC 9112): turns the two byte
// streams of one connection into Exchanges "METHOD /templated/route" with
// status, in request order. Pipelined requests are matched to responses in
// order; keep-alive connections carry any number of exchanges.
//
// Framing: request bodies by Content-Length or chunked; response bodies by
// the request method and status (HEAD, 1xx, 204, 304: none), chunked,
// Content-Length, else until the connection closes. Interim 1xx responses
// (100 Continue) are skipped; a response may complete before its request
// body (Expect: 100-continue with an early final status). After 101
// Switching Protocols or a 2xx answer to CONNECT the connection carries
// another protocol: the parser stops looking at it (not an error).
//
// Close-delimited bodies: the shared interface has no close event, so the
// parser offers OnClose(); until it is called such an exchange is finished
// when the next request head arrives on the connection (a client can only do
// that on a connection it thinks is still open, so the body was over).
//
// Hostile input: heads are capped at kMaxHeadBytes, body bytes are counted
// and never kept, at most kMaxPending requests wait for responses. Malformed
// input counts a parse error and the direction resynchronises on the next
// line that starts a request ("GET ", known methods) or a status line
// ("HTTP/1.x "). A gap inside a body of known length is skipped without
// losing framing.
//
// Privacy: header values are never stored (framing headers are parsed and
// dropped); the target is reduced to a route unless
// ParserOptions::capture_values, which puts the raw target in `statement`.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "protocols/common/connection_parser.h"
#include "protocols/common/stream_buffer.h"
#include "protocols/http1/body_framer.h"

namespace waitscope::protocols {

// True when `first_bytes` start with a known HTTP/1 method and a space. The
// HTTP/2 preface "PRI * HTTP/2.0" does not match.
bool LooksLikeHttp1Request(std::string_view first_bytes);

std::unique_ptr<ConnectionParser> MakeHttp1Parser(const ParserOptions& options);

namespace http1 {

class Http1Parser : public ConnectionParser {
 public:
  explicit Http1Parser(const ParserOptions& options) : options_(options) {}

  void OnData(Direction dir, std::string_view bytes, std::uint64_t ts_ns) override;
  void OnGap(Direction dir, std::uint64_t missing_bytes) override;
  // The connection closed: a close-delimited response is complete, and a
  // response that finished before its request body is reported. Later data
  // is ignored. (Proposed as a virtual on ConnectionParser.)
  void OnClose(std::uint64_t ts_ns) override;

 private:
  enum class Phase : std::uint8_t {
    kHead,
    kBody,
    kAwaitUpgrade,  // request side: sent Upgrade/CONNECT, waiting for the answer
    kResync,
  };

  struct Side {
    StreamBuffer buf;
    Phase phase = Phase::kHead;
    BodyFramer framer;
    std::size_t head_scan = 0;           // FindHeadEnd resume point
    bool start_line_ok = false;          // first line of the pending head validated
    bool at_line_start = true;           // resync: data()[0] follows a line break
    bool dropped_while_waiting = false;  // kAwaitUpgrade overflowed: resync on resume
  };

  struct Pending {
    std::uint64_t id = 0;
    bool placeholder = false;  // a request we lost; its response is dropped
    bool is_head = false;
    bool is_connect = false;
    bool wants_upgrade = false;
    bool req_done = false;
    bool resp_done = false;
    Exchange ex;
  };

  void ProcessRequests();
  void ResumeRequests();
  void ProcessResponses();
  // Returns false when the loop must stop (need more data / tunnel).
  bool RequestHead();
  bool ResponseHead();
  bool Resync(Side& side, bool request);
  void EnterResync(Side& side, bool after_gap);
  std::size_t CompleteHead(Side& side, bool request);
  void RequestFinished();
  void ResponseFinished(std::uint64_t ts_ns);
  void RequestError();
  void ResponseError();
  void LoseResponseTarget();
  Pending* FindRequest(std::uint64_t id);
  Pending* ResponseTarget();  // oldest request without its final response
  Pending& PushPending(bool placeholder);
  void EnterTunnel();
  void Emit();

  ParserOptions options_;
  Side req_;
  Side resp_;
  std::deque<Pending> pending_;
  std::uint64_t next_id_ = 1;
  std::uint64_t req_current_ = 0;  // id of the request whose body is being read
  std::uint64_t await_id_ = 0;     // id of the Upgrade/CONNECT request paused on
  bool resume_requests_ = false;   // that request got a non-switching answer
  bool tunnel_ = false;
  bool closed_ = false;
};

}  // namespace http1
}  // namespace waitscope::protocols
