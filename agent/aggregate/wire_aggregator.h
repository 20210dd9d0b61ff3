// WireAggregator sums what the protocol parsers and the connection tracker
// see into the report's `queries`, `cache`, `http` and `connections` rows.
// Keys follow the report contract: a statement per (pid, protocol, peer),
// a cache per (pid, protocol, peer), an endpoint per (pid, role), a
// connection row per (pid, role, peer) — for servers, per local address and
// peer host, since the client's port changes with every connection.
// Memory is bounded by the number of distinct keys, not by traffic, and the
// statements of one process by max_statements per window (the agent's
// limits.max_statements): past it, a process's new statements are summed in
// one row, kFoldedStatement, and each exchange so summed is counted.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "core/latency_histogram.h"
#include "protocols/common/exchange.h"
#include "protocols/tls/handshake_observer.h"
#include "report/report.h"

namespace waitscope {

// What the aggregator needs to know of the connection an exchange came from.
struct ExchangeOrigin {
  std::uint32_t pid = 0;
  bool server = false;        // this process served the request
  std::string peer;           // the other side, "ip:port"
  std::string protocol;       // report name
  std::uint32_t tid = 0;      // thread that completed the exchange (0: unknown)
  std::uint64_t conn_id = 0;  // connection it went over
  // False when every connection this process has had so far was one it
  // connected itself: none of its threads can be serving a request yet, so
  // its client exchanges belong to no request window.
  bool may_serve = true;
};

class WireAggregator {
 public:
  static constexpr std::size_t kDefaultMaxStatements = 2000;  // per process and window
  static constexpr std::string_view kFoldedStatement = "(other statements: limits.max_statements)";
  // The same cap holds each process's HTTP endpoints per role (a scanner's
  // unique paths made a row, ~15 KB of histogram, each).
  static constexpr std::string_view kFoldedEndpoint = "(other endpoints: limits.max_statements)";

  explicit WireAggregator(std::size_t max_statements = kDefaultMaxStatements)
      : max_statements_(max_statements) {}
  // Not copyable: last_query_ and last_cache_ point into the maps.
  WireAggregator(const WireAggregator&) = delete;
  WireAggregator& operator=(const WireAggregator&) = delete;

  void AddExchange(const ExchangeOrigin& origin, const protocols::Exchange& ex);

  // A connection was opened (or first seen). `connect_ns` 0: unknown.
  void AddConnection(std::uint32_t pid, bool server, const std::string& local,
                     const std::string& peer, const std::string& protocol);
  void AddConnectLatency(std::uint32_t pid, bool server, const std::string& local,
                         const std::string& peer, std::uint64_t connect_ns);
  void AddConnectionStats(std::uint32_t pid, bool server, const std::string& local,
                          const std::string& peer, std::uint32_t srtt_us, std::uint32_t retransmits,
                          std::uint32_t resets);
  // The protocol of a connection row became known after it was counted.
  void SetProtocol(std::uint32_t pid, bool server, const std::string& local,
                   const std::string& peer, const std::string& protocol);

  // One TLS handshake (finished or failed); `plaintext`: decrypted bytes of
  // this connection reached the parsers.
  void AddTlsHandshake(const ExchangeOrigin& origin, const protocols::tls::Handshake& handshake,
                       bool plaintext);

  std::vector<QueryRow> Queries() const;  // by total time, largest first
  std::vector<CacheRow> Cache() const;
  std::vector<HttpRow> Http() const;  // by count, largest first
  std::vector<ConnectionRow> Connections() const;
  std::vector<TlsRow> Tls() const;  // by count, largest first
  // Forgets every row (the next window starts from zero).
  void Reset();
  // Exchanges summed in a kFoldedStatement or kFoldedEndpoint row, since
  // construction.
  std::uint64_t statements_folded() const;

 private:
  struct QueryAgg {
    std::uint64_t count = 0, errors = 0;
    std::int64_t rows = 0;
    LatencyHistogram latency;
  };
  struct CacheAgg {
    std::uint64_t reads = 0, hits = 0;
  };
  struct HttpAgg {
    std::uint64_t count = 0;
    std::map<int, std::uint64_t> status;
    LatencyHistogram latency;
  };
  struct TlsAgg {
    std::uint64_t count = 0, failures = 0, round_trips = 0;
    bool plaintext = false;
    LatencyHistogram handshake;
  };
  struct ConnAgg {
    std::string local;
    std::string protocol = "unknown";
    std::uint64_t opened = 0;
    LatencyHistogram connect;
    LatencyHistogram rtt;
    std::uint64_t retransmits = 0;
    std::uint64_t resets = 0;
  };
  // (pid, server, key address, peer): clients key on the peer, servers on
  // the local address plus the peer's host.
  using ConnKey = std::tuple<std::uint32_t, bool, std::string, std::string>;
  static ConnKey KeyOf(std::uint32_t pid, bool server, const std::string& local,
                       const std::string& peer);
  ConnAgg& Conn(std::uint32_t pid, bool server, const std::string& local, const std::string& peer);

  // Orders key tuples element by element with strings compared as views, so
  // a key held as std::strings is found by a tuple of string_views (see
  // FindOrAdd): one lookup per exchange, and a hit copies nothing.
  struct ViewLess {
    using is_transparent = void;
    static std::string_view View(const std::string& s) { return s; }
    static std::string_view View(std::string_view s) { return s; }
    template <typename T>
    static T View(T v) requires std::is_arithmetic_v<T> {
      return v;
    }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      auto views = [](const auto&... e) { return std::make_tuple(View(e)...); };
      return std::apply(views, a) < std::apply(views, b);
    }
  };
  using QueryMap = std::map<std::tuple<std::uint32_t, std::string, std::string, std::string>,
                            QueryAgg, ViewLess>;
  QueryMap::iterator QueryRowOf(std::uint32_t pid, std::string_view protocol, std::string_view peer,
                                std::string_view statement);

  std::size_t max_statements_;
  // Counted from the folded rows' own counts, so that AddExchange does no
  // work for the cap; folded_before_ keeps those of earlier windows.
  std::uint64_t folded_before_ = 0;
  std::map<std::uint32_t, std::size_t> statement_rows_;  // per pid, this window
  QueryMap queries_;
  QueryMap::iterator last_query_ = queries_.end();  // the previous exchange's row
  std::vector<QueryMap::iterator> folded_rows_;     // this window's kFoldedStatement rows
  using CacheMap =
      std::map<std::tuple<std::uint32_t, std::string, std::string>, CacheAgg, ViewLess>;
  CacheMap cache_;
  // The cache row of the query row last_cache_query_: its key (pid,
  // protocol, peer) is part of the query row's, so a repeated cache read
  // finds it without a walk of cache_.
  CacheMap::iterator last_cache_ = cache_.end();
  QueryMap::iterator last_cache_query_ = queries_.end();
  using HttpMap = std::map<std::tuple<std::uint32_t, bool, std::string>, HttpAgg, ViewLess>;
  HttpMap::iterator HttpRowOf(std::uint32_t pid, bool server, std::string_view endpoint);
  HttpMap http_;
  std::map<std::pair<std::uint32_t, bool>, std::size_t> endpoint_rows_;  // this window
  std::uint64_t endpoints_folded_ = 0;                                   // since construction
  std::map<ConnKey, ConnAgg> conns_;
  // (pid, server, peer key, version, resumed)
  std::map<std::tuple<std::uint32_t, bool, std::string, std::string, bool>, TlsAgg> tls_;
};

}  // namespace waitscope
