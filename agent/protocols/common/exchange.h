// What every wire-protocol parser produces: one Exchange per request matched
// with its response (a SQL statement and its result, a Redis command and its
// reply, an HTTP request and its response). Later stages aggregate these into
// report.json `queries`, `cache` and `http`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace waitscope::protocols {

enum class Protocol : std::uint8_t { kUnknown, kPostgres, kMysql, kRedis, kHttp1 };

// Direction of bytes on a connection, from the protocol's point of view: the
// caller maps (syscall read/write, our role client/server) onto this.
enum class Direction : std::uint8_t {
  kRequest,   // client -> server
  kResponse,  // server -> client
};

struct Exchange {
  // User-provided, so that value-initialization (vector::emplace_back()) runs
  // only the member initializers below: the implicit constructor first
  // zeroed all 184 bytes (`rep stos`), 5 % of the agent's Redis path.
  Exchange() noexcept {}  // NOLINT(modernize-use-equals-default): see above

  Protocol protocol = Protocol::kUnknown;
  // Normalized, redacted text: SQL with literals as `?`, Redis as
  // "GET user:?:cart", HTTP as "GET /orders/{id}". Never holds raw values
  // unless ParserOptions::capture_values is set.
  std::string statement;
  std::uint64_t request_end_ns = 0;   // time of the chunk holding the request's last byte
  std::uint64_t response_end_ns = 0;  // time of the chunk holding the response's last byte
  // False for a request the server runs without answering (Redis under
  // CLIENT REPLY OFF or SKIP): it counts, but has no latency
  // (response_end_ns = request_end_ns) and no result.
  bool answered = true;
  bool error = false;
  // SQLSTATE, MySQL error number, Redis error prefix ("WRONGTYPE"), HTTP status.
  std::string error_code;
  std::int64_t rows = -1;  // rows returned or affected, -1 if unknown

  // Redis/Memcached reads: hit (value returned) or miss (null). Unset for
  // commands that are not cache reads. MGET counts in reads/hits/misses.
  std::uint32_t cache_reads = 0;
  std::uint32_t cache_hits = 0;

  // HTTP only.
  std::string http_method;
  std::string http_route;  // templated path, query string dropped
  int http_status = 0;
};

struct ParserOptions {
  bool capture_values = false;  // keep literals (opt-in, --capture-values)
};

struct ParserStats {
  std::uint64_t parse_errors = 0;  // malformed input seen (each one counted once)
  // Times the parser re-found a message boundary after a gap or error.
  std::uint64_t resyncs = 0;
  std::uint64_t unmatched_responses = 0;
  // Requests dropped unanswered because bytes were lost (a gap the parser
  // could not follow): they are in no exchange. Counted by the Redis and
  // MySQL parsers; PostgreSQL and HTTP report what they keep as exchanges
  // and count the rest as unmatched_responses.
  std::uint64_t exchanges_lost = 0;
};

}  // namespace waitscope::protocols
