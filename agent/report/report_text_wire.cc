#include "report/report_text_wire.h"

#include <algorithm>
#include <cstdio>

#include "core/peer_address.h"
#include "core/units.h"
#include "report/display_text.h"
#include "report/text_table.h"

namespace waitscope {
namespace {

constexpr std::size_t kIndent = 2;

// A peer for the terminal: a server's clients (port 0, core/peer_address.h)
// read "127.0.0.1:*", any port, rather than a port 0 that looks real.
std::string PeerForText(const std::string& peer) {
  const std::string_view host = AnyPortHost(peer);
  return host.empty() ? SanitizeForTerminal(peer) : SanitizeForTerminal(host) + ":*";
}

std::string Micros(double us) {
  return FormatDuration(static_cast<std::uint64_t>(us * 1000.0));
}

std::string StatementsTable(const Report& r, const TextReportOptions& options) {
  if (r.queries.empty()) return "";
  const std::size_t shown =
      options.top_n == 0 ? r.queries.size() : std::min(options.top_n, r.queries.size());
  std::vector<TextColumn> columns = {{.header = "protocol"},
                                     {.header = "statement", .flexible = true},
                                     {.header = "peer", .max_width = 24}};
  for (const char* h : {"count", "errors", "total", "p50", "p95"}) {
    columns.push_back({.header = h, .align_right = true});
  }
  std::vector<TextRow> rows;
  for (std::size_t i = 0; i < shown; ++i) {
    const QueryRow& q = r.queries[i];
    rows.push_back({q.protocol, SanitizeForTerminal(q.statement), PeerForText(q.peer),
                    std::to_string(q.count), std::to_string(q.errors), FormatDuration(q.total_ns),
                    Micros(q.latency_us.p50), Micros(q.latency_us.p95)});
  }
  std::string title = shown < r.queries.size()
                          ? "Top " + std::to_string(shown) + " of " +
                                std::to_string(r.queries.size()) + " statements by total time:\n"
                          : "Statements by total time:\n";
  return title + RenderTextTable(columns, rows, kIndent, options.max_width);
}

std::string CacheLines(const Report& r) {
  std::string out;
  for (const CacheRow& c : r.cache) {
    char line[256];
    const double ratio = c.reads ? 100.0 * static_cast<double>(c.hits) / c.reads : 0.0;
    std::snprintf(line, sizeof(line),
                  "  %s %s (pid %u): %llu reads, %llu hits, %llu misses (%.1f%% hits)\n",
                  c.protocol.c_str(), PeerForText(c.peer).c_str(), c.pid,
                  static_cast<unsigned long long>(c.reads), static_cast<unsigned long long>(c.hits),
                  static_cast<unsigned long long>(c.misses), ratio);
    out += line;
  }
  return out.empty() ? "" : "Cache reads:\n" + out;
}

std::string HttpTable(const Report& r, const TextReportOptions& options) {
  if (r.http.empty()) return "";
  std::vector<TextColumn> columns = {{.header = "role"},
                                     {.header = "endpoint", .flexible = true},
                                     {.header = "count", .align_right = true},
                                     {.header = "statuses"},
                                     {.header = "p50", .align_right = true},
                                     {.header = "p95", .align_right = true}};
  std::vector<TextRow> rows;
  const std::size_t shown =
      options.top_n == 0 ? r.http.size() : std::min(options.top_n, r.http.size());
  for (std::size_t i = 0; i < shown; ++i) {
    const HttpRow& h = r.http[i];
    std::string statuses;
    for (const auto& [code, n] : h.status) {
      statuses += (statuses.empty() ? "" : " ") + std::to_string(code) + ":" + std::to_string(n);
    }
    rows.push_back({h.server ? "server" : "client", SanitizeForTerminal(h.endpoint),
                    std::to_string(h.count), statuses, Micros(h.latency_us.p50),
                    Micros(h.latency_us.p95)});
  }
  return "HTTP endpoints:\n" + RenderTextTable(columns, rows, kIndent, options.max_width);
}

std::string TlsTable(const Report& r, const TextReportOptions& options) {
  if (r.tls.empty()) return "";
  std::vector<TextColumn> columns = {{.header = "role"},
                                     {.header = "peer", .flexible = true},
                                     {.header = "version"},
                                     {.header = "resumed"},
                                     {.header = "count", .align_right = true},
                                     {.header = "failed", .align_right = true},
                                     {.header = "p50", .align_right = true},
                                     {.header = "p95", .align_right = true},
                                     {.header = "plaintext"}};
  std::vector<TextRow> rows;
  const std::size_t shown =
      options.top_n == 0 ? r.tls.size() : std::min(options.top_n, r.tls.size());
  for (std::size_t i = 0; i < shown; ++i) {
    const TlsRow& t = r.tls[i];
    rows.push_back({t.server ? "server" : "client", PeerForText(t.peer), t.version,
                    t.resumed ? "yes" : "no", std::to_string(t.count), std::to_string(t.failures),
                    Micros(t.handshake_us.p50), Micros(t.handshake_us.p95),
                    t.plaintext ? "yes" : "no"});
  }
  return "TLS handshakes:\n" + RenderTextTable(columns, rows, kIndent, options.max_width);
}

}  // namespace

std::string RenderWireText(const Report& report, const TextReportOptions& options) {
  std::string out;
  for (const std::string& part : {StatementsTable(report, options), CacheLines(report),
                                  HttpTable(report, options), TlsTable(report, options)}) {
    if (!part.empty()) out += "\n" + part;
  }
  return out;
}

}  // namespace waitscope
