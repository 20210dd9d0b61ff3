// slow_query: a statement whose latency is high, from Report::queries.
// Rule, per QueryRow with count >= min_requests:
//   - p95 >= slow_query.p95_ms; or
//   - it takes >= slow_query.min_share of the process's database time, and
//     its p95 is at least twice the median p95 of the process's other
//     statements and at least a tenth of slow_query.p95_ms (a statement that
//     dominates only because it is frequent and fast is not slow, and a lone
//     statement is 100% of the time by definition).
// Endpoint: the one whose successful requests spent the most time in it.
// Cost: the statement's total time. Severity: the shared share rule, over
// that endpoint's time when there is one, else over the process's DB time.
#include <algorithm>
#include <map>

#include "core/units.h"
#include "findings/detectors.h"
#include "findings/finding_format.h"

namespace waitscope::findings {
namespace {

constexpr double kRelativeFactor = 2.0;

std::uint64_t TotalNs(const QueryRow& q) {
  if (q.total_ns > 0) return q.total_ns;
  return static_cast<std::uint64_t>(q.latency_us.mean * 1e3 * static_cast<double>(q.count));
}

double MedianOtherP95(const std::vector<const QueryRow*>& rows, const QueryRow* self) {
  std::vector<double> p95;
  for (const QueryRow* q : rows) {
    if (q != self) p95.push_back(q->latency_us.p95);
  }
  if (p95.empty()) return -1;
  auto mid = p95.begin() + static_cast<std::ptrdiff_t>(p95.size() / 2);
  std::nth_element(p95.begin(), mid, p95.end());
  return *mid;
}

// The endpoint of `pid` whose requests spent the most in the statement.
const EndpointStats* TopEndpoint(const RequestStats& stats, const QueryRow& q,
                                 std::uint64_t& ns_out) {
  const EndpointStats* best = nullptr;
  ns_out = 0;
  for (const EndpointStats& e : stats.endpoints()) {
    if (e.pid != q.pid) continue;
    const auto it = e.statements.find(q.statement);
    if (it == e.statements.end()) continue;
    for (const StatementStats& s : it->second) {
      if (s.peer == q.peer && s.total_ns > ns_out) {
        ns_out = s.total_ns;
        best = &e;
      }
    }
  }
  return best;
}

}  // namespace

void DetectSlowQuery(const DetectorInputs& in, std::vector<FindingRow>& out) {
  std::map<std::uint32_t, std::vector<const QueryRow*>> by_pid;
  for (const QueryRow& q : in.report.queries) by_pid[q.pid].push_back(&q);
  const double abs_p95_us = in.config.slow_query_p95_ms * 1e3;
  for (const auto& [pid, rows] : by_pid) {
    std::uint64_t db_ns = 0;
    for (const QueryRow* q : rows) db_ns += TotalNs(*q);
    for (const QueryRow* q : rows) {
      if (q->count < in.config.min_requests) continue;
      const std::uint64_t total = TotalNs(*q);
      const double db_share = Share(total, db_ns);
      bool slow = q->latency_us.p95 >= abs_p95_us;
      if (!slow && db_share >= in.config.slow_query_min_share &&
          q->latency_us.p95 >= abs_p95_us / 10) {
        const double others = MedianOtherP95(rows, q);
        slow = others >= 0 && q->latency_us.p95 >= kRelativeFactor * others;
      }
      if (!slow) continue;
      std::uint64_t endpoint_ns = 0;
      const EndpointStats* e = TopEndpoint(in.requests, *q, endpoint_ns);
      const double share = e != nullptr ? Share(endpoint_ns, e->ok_total_ns) : db_share;
      const auto p95_ns = static_cast<std::uint64_t>(q->latency_us.p95 * 1e3);
      std::string summary = "\"" + ShortText(q->statement) + "\" on " + ShortText(q->peer, 40) +
                            " takes " + FormatDuration(p95_ns) + " at p95 over " +
                            std::to_string(q->count) + " runs (" + PercentText(db_share) +
                            " of the process's database time";
      if (e != nullptr) summary += ", mostly from " + e->endpoint;
      summary += "): check its plan (EXPLAIN) for a missing index or an unbounded scan";
      nlohmann::json ev = {
          {"statement", q->statement}, {"protocol", q->protocol},
          {"peer", q->peer},           {"p95_ms", Round(q->latency_us.p95 / 1e3, 3)},
          {"count", q->count},         {"share_of_db_time", Round(db_share, 3)}};
      out.push_back(MakeFinding("slow_query", SeverityForShare(share), pid,
                                e != nullptr ? e->endpoint : "", summary, ev, total));
    }
  }
}

}  // namespace waitscope::findings
