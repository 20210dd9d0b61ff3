// What request attribution hands to the detectors and the request-path flame
// outputs: one record per server request, with everything its serving thread
// did between reading the request and writing the response, plus the
// per-thread facts that are not tied to a request (event-loop blocking).
//
// Produced by agent/findings/request_attributor (from socket exchanges tagged
// with the thread that completed them and per-wait events from the kernel);
// consumed by agent/findings/detectors and the requests.* writers. Times are
// CLOCK_MONOTONIC nanoseconds (bpf_ktime_get_ns).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/stack.h"
#include "core/wait_class.h"

namespace waitscope::findings {

// A request/response exchange the serving thread made as a client while
// handling the request: a SQL statement, a Redis command, an outbound HTTP
// call.
struct StatementSpan {
  std::string protocol;        // "postgres", "mysql", "redis", "http"
  std::string peer;            // "ip:port"
  std::string statement;       // normalized (literals as ?), "GET /v1/x" for HTTP
  std::uint64_t conn_id = 0;   // the connection it went over (pool analysis)
  std::uint64_t start_ns = 0;  // request's last byte sent
  std::uint64_t end_ns = 0;    // response's last byte received
  bool error = false;
  std::uint32_t cache_reads = 0;  // Redis GET/HGET/MGET...
  std::uint32_t cache_hits = 0;
};

// Off-CPU time of the serving thread inside one blocking syscall.
struct WaitSpan {
  WaitClass wait_class = WaitClass::kOther;  // db when the peer speaks a database protocol
  std::string syscall;                       // "recvfrom", "fsync", "futex", ...
  std::string target;                        // peer "ip:port", file path, or "-"
  std::string protocol;  // peer's protocol when known ("smtp" is not parsed: "unknown")
  std::string
      statement;  // the StatementSpan this wait belongs to (same thread, overlapping), if any
  std::uint64_t start_ns = 0;  // end_ns - blocked time
  std::uint64_t end_ns = 0;    // syscall exit
  std::uint64_t blocked_ns = 0;
  std::vector<Frame> frames;  // user stack, root first; empty when not taken
};

struct ConnectSpan {
  std::string peer;
  std::uint64_t conn_id = 0;
  std::uint64_t start_ns = 0;
  std::uint64_t latency_ns = 0;  // SYN_SENT -> ESTABLISHED
  // connect() returned -> the first request sent on it: the protocol's own
  // setup (PostgreSQL startup and authentication, a TLS handshake), which
  // is most of what a new connection costs on a near peer. 0: no request seen.
  std::uint64_t setup_ns = 0;
};

struct TlsSpan {
  std::string peer;
  std::string version;  // "TLSv1.2", "TLSv1.3"
  bool resumed = false;
  bool failed = false;
  std::uint64_t start_ns = 0;
  std::uint64_t duration_ns = 0;
};

struct RequestRecord {
  std::uint32_t pid = 0;
  std::uint32_t tid = 0;       // the serving thread
  std::string endpoint;        // "POST /signup"
  int status = 0;              // HTTP status; 0 when no response
  bool error = false;          // 5xx or connection closed without a response
  std::uint64_t start_ns = 0;  // the request's last byte was read
  std::uint64_t end_ns = 0;    // the response's last byte was written
  std::uint64_t cpu_ns = 0;    // (end - start) minus every off-CPU wait below
  // False for requests served by an event-loop thread: its other requests
  // interleave, so nothing below can be tied to this one (spans empty, cpu 0).
  bool attributed = true;
  std::vector<StatementSpan> statements;
  std::vector<WaitSpan> waits;  // in time order
  std::vector<ConnectSpan> connects;
  std::vector<TlsSpan> tls;

  std::uint64_t duration_ns() const { return end_ns > start_ns ? end_ns - start_ns : 0; }
};

// A thread that runs an event loop (parks in epoll_wait/poll/select and
// serves several connections) blocked in something else.
struct EventLoopBlock {
  std::uint32_t pid = 0;
  std::uint32_t tid = 0;
  std::string comm;      // the thread's name, when known
  std::string endpoint;  // the request the loop answered first after the block, if any
  WaitClass wait_class = WaitClass::kOther;
  std::string syscall;
  std::string target;
  std::uint64_t start_ns = 0;
  std::uint64_t blocked_ns = 0;
};

}  // namespace waitscope::findings
