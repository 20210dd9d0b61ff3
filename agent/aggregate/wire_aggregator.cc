#include "aggregate/wire_aggregator.h"

#include <algorithm>
#include <string_view>
#include <tuple>

#include "core/peer_address.h"

namespace waitscope {

namespace {

// The entry of a map keyed by a tuple of strings (and numbers), looked up
// through views: one lookup per exchange, and a hit copies no string.
template <typename Map, typename... Parts>
typename Map::iterator FindOrAddEntry(Map& map, const Parts&... parts) {
  auto it = map.find(std::make_tuple(parts...));
  if (it == map.end())
    it = map.emplace(typename Map::key_type(parts...), typename Map::mapped_type{}).first;
  return it;
}

template <typename Map, typename... Parts>
typename Map::mapped_type& FindOrAdd(Map& map, const Parts&... parts) {
  return FindOrAddEntry(map, parts...)->second;
}

}  // namespace

void WireAggregator::AddExchange(const ExchangeOrigin& o, const protocols::Exchange& ex) {
  const std::uint64_t latency =
      ex.response_end_ns > ex.request_end_ns ? ex.response_end_ns - ex.request_end_ns : 0;
  if (ex.protocol == protocols::Protocol::kHttp1) {
    HttpAgg& h = HttpRowOf(o.pid, o.server, ex.statement)->second;
    ++h.count;
    ++h.status[ex.http_status];
    h.latency.Add(latency);
    return;
  }
  const std::string server_peer = o.server ? WithPortZero(o.peer) : std::string();
  const std::string_view peer = o.server ? server_peer : o.peer;
  const std::string_view protocol = o.protocol;
  const std::string_view statement = ex.statement;
  // Pipelined and repeated statements go to the previous exchange's row:
  // one compare of its key (statement first: it differs soonest) instead of
  // a walk of the map. Map entries do not move; Reset forgets the entry.
  const bool same_row = last_query_ != queries_.end() && std::get<0>(last_query_->first) == o.pid &&
                        std::get<3>(last_query_->first) == statement &&
                        std::get<2>(last_query_->first) == peer &&
                        std::get<1>(last_query_->first) == protocol;
  if (!same_row) last_query_ = QueryRowOf(o.pid, protocol, peer, statement);
  QueryAgg& q = last_query_->second;
  ++q.count;
  if (ex.error) ++q.errors;
  if (ex.rows > 0) q.rows += ex.rows;
  if (ex.answered) q.latency.Add(latency);
  if (ex.cache_reads > 0) {
    if (last_cache_query_ != last_query_) {
      last_cache_ = FindOrAddEntry(cache_, o.pid, protocol, peer);
      last_cache_query_ = last_query_;
    }
    last_cache_->second.reads += ex.cache_reads;
    last_cache_->second.hits += ex.cache_hits;
  }
}

WireAggregator::QueryMap::iterator WireAggregator::QueryRowOf(std::uint32_t pid,
                                                              std::string_view protocol,
                                                              std::string_view peer,
                                                              std::string_view statement) {
  auto it = queries_.find(std::make_tuple(pid, protocol, peer, statement));
  if (it != queries_.end()) return it;
  std::size_t& rows = statement_rows_[pid];
  if (rows >= max_statements_) {
    it = FindOrAddEntry(queries_, pid, protocol, peer, kFoldedStatement);
    if (std::find(folded_rows_.begin(), folded_rows_.end(), it) == folded_rows_.end()) {
      folded_rows_.push_back(it);
    }
    return it;
  }
  ++rows;
  return queries_.emplace(QueryMap::key_type(pid, protocol, peer, statement), QueryAgg{}).first;
}

WireAggregator::HttpMap::iterator WireAggregator::HttpRowOf(std::uint32_t pid, bool server,
                                                            std::string_view endpoint) {
  auto it = http_.find(std::make_tuple(pid, server, endpoint));
  if (it != http_.end()) return it;
  std::size_t& rows = endpoint_rows_[{pid, server}];
  if (rows >= max_statements_) {
    ++endpoints_folded_;
    return FindOrAddEntry(http_, pid, server, kFoldedEndpoint);
  }
  ++rows;
  return http_.emplace(HttpMap::key_type(pid, server, endpoint), HttpAgg{}).first;
}

WireAggregator::ConnKey WireAggregator::KeyOf(std::uint32_t pid, bool server,
                                              const std::string& local, const std::string& peer) {
  return server ? ConnKey{pid, true, local, WithPortZero(peer)} : ConnKey{pid, false, peer, ""};
}

WireAggregator::ConnAgg& WireAggregator::Conn(std::uint32_t pid, bool server,
                                              const std::string& local, const std::string& peer) {
  ConnAgg& c = conns_[KeyOf(pid, server, local, peer)];
  if (c.local.empty() || !server) c.local = local;
  return c;
}

void WireAggregator::AddConnection(std::uint32_t pid, bool server, const std::string& local,
                                   const std::string& peer, const std::string& protocol) {
  ConnAgg& c = Conn(pid, server, local, peer);
  ++c.opened;
  if (protocol != "unknown") c.protocol = protocol;
}

void WireAggregator::AddConnectLatency(std::uint32_t pid, bool server, const std::string& local,
                                       const std::string& peer, std::uint64_t connect_ns) {
  Conn(pid, server, local, peer).connect.Add(connect_ns);
}

void WireAggregator::AddConnectionStats(std::uint32_t pid, bool server, const std::string& local,
                                        const std::string& peer, std::uint32_t srtt_us,
                                        std::uint32_t retransmits, std::uint32_t resets) {
  ConnAgg& c = Conn(pid, server, local, peer);
  if (srtt_us > 0) c.rtt.Add(std::uint64_t{srtt_us} * 1000);
  c.retransmits += retransmits;
  c.resets += resets;
}

void WireAggregator::SetProtocol(std::uint32_t pid, bool server, const std::string& local,
                                 const std::string& peer, const std::string& protocol) {
  auto it = conns_.find(KeyOf(pid, server, local, peer));
  if (it != conns_.end() && protocol != "unknown") it->second.protocol = protocol;
}

std::vector<QueryRow> WireAggregator::Queries() const {
  std::vector<QueryRow> out;
  for (const auto& [key, q] : queries_) {
    const auto& [pid, protocol, peer, statement] = key;
    QueryRow r;
    r.pid = pid;
    r.protocol = protocol;
    r.peer = peer;
    r.statement = statement;
    r.count = q.count;
    r.errors = q.errors;
    r.rows = q.rows;
    r.latency_us = q.latency.Summarize();
    r.total_ns = q.latency.sum_ns();
    out.push_back(std::move(r));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const QueryRow& a, const QueryRow& b) { return a.total_ns > b.total_ns; });
  return out;
}

std::vector<CacheRow> WireAggregator::Cache() const {
  std::vector<CacheRow> out;
  for (const auto& [key, c] : cache_) {
    const auto& [pid, protocol, peer] = key;
    out.push_back(CacheRow{pid, protocol, peer, c.reads, c.hits, c.reads - c.hits});
  }
  return out;
}

std::vector<HttpRow> WireAggregator::Http() const {
  std::vector<HttpRow> out;
  for (const auto& [key, h] : http_) {
    const auto& [pid, server, endpoint] = key;
    HttpRow r;
    r.pid = pid;
    r.server = server;
    r.endpoint = endpoint;
    r.count = h.count;
    r.status.assign(h.status.begin(), h.status.end());
    r.latency_us = h.latency.Summarize();
    out.push_back(std::move(r));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const HttpRow& a, const HttpRow& b) { return a.count > b.count; });
  return out;
}

std::vector<ConnectionRow> WireAggregator::Connections() const {
  std::vector<ConnectionRow> out;
  for (const auto& [key, c] : conns_) {
    const auto& [pid, server, addr, peer_host] = key;
    ConnectionRow r;
    r.pid = pid;
    r.server = server;
    r.local = c.local;
    r.peer = server ? peer_host : addr;
    r.protocol = c.protocol;
    r.opened = c.opened;
    r.connect_us = c.connect.Summarize();
    r.rtt_us = c.rtt.Summarize();
    r.retransmits = c.retransmits;
    r.resets = c.resets;
    out.push_back(std::move(r));
  }
  return out;
}

void WireAggregator::AddTlsHandshake(const ExchangeOrigin& o, const protocols::tls::Handshake& h,
                                     bool plaintext) {
  const std::string peer = o.server ? WithPortZero(o.peer) : o.peer;
  TlsAgg& t = tls_[{o.pid, o.server, peer, h.version, h.resumed}];
  ++t.count;
  if (h.failed) ++t.failures;
  t.round_trips += h.round_trips;
  t.plaintext = t.plaintext || plaintext;
  if (!h.failed && h.end_ns > h.start_ns) t.handshake.Add(h.end_ns - h.start_ns);
}

std::uint64_t WireAggregator::statements_folded() const {
  std::uint64_t n = folded_before_ + endpoints_folded_;
  for (QueryMap::const_iterator row : folded_rows_) n += row->second.count;
  return n;
}

void WireAggregator::Reset() {
  folded_before_ = statements_folded() - endpoints_folded_;  // the query rows' share
  folded_rows_.clear();
  queries_.clear();
  statement_rows_.clear();
  last_query_ = queries_.end();
  cache_.clear();
  last_cache_ = cache_.end();
  last_cache_query_ = queries_.end();
  http_.clear();
  endpoint_rows_.clear();
  conns_.clear();
  tls_.clear();
}

std::vector<TlsRow> WireAggregator::Tls() const {
  std::vector<TlsRow> rows;
  for (const auto& [key, t] : tls_) {
    TlsRow r;
    std::tie(r.pid, r.server, r.peer, r.version, r.resumed) = key;
    r.count = t.count;
    r.failures = t.failures;
    r.handshake_us = t.handshake.Summarize();
    r.round_trips = t.count ? static_cast<double>(t.round_trips) / static_cast<double>(t.count) : 0;
    r.plaintext = t.plaintext;
    rows.push_back(std::move(r));
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const TlsRow& a, const TlsRow& b) { return a.count > b.count; });
  return rows;
}

}  // namespace waitscope
