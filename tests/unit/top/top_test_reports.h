// Hand-built window reports for the `waitscope top` tests.
#pragma once

#include <cstdint>
#include <string>

#include "report/report.h"

namespace waitscope::top::testing {

inline WaitRow Wait(std::uint32_t pid, std::string comm, WaitClass cls, std::uint64_t count,
                    std::uint64_t total_ns) {
  WaitRow w;
  w.pid = pid;
  w.comm = std::move(comm);
  w.wait_class = cls;
  w.syscall = "read";
  w.target = "-";
  w.count = count;
  w.total_ns = total_ns;
  w.max_ns = count ? total_ns / count : 0;
  return w;
}

inline LatencySummary Summary(std::uint64_t count, double mean_us, double p95_us) {
  LatencySummary s;
  s.count = count;
  s.mean = mean_us;
  s.p50 = mean_us;
  s.p95 = p95_us;
  s.p99 = p95_us;
  s.max = p95_us;
  return s;
}

inline QueryRow Query(std::uint32_t pid, std::string statement, std::uint64_t count,
                      double p95_us) {
  QueryRow q;
  q.pid = pid;
  q.protocol = "postgres";
  q.peer = "127.0.0.1:5432";
  q.statement = std::move(statement);
  q.count = count;
  q.latency_us = Summary(count, p95_us / 2, p95_us);
  q.total_ns = static_cast<std::uint64_t>(count * p95_us / 2 * 1000);
  return q;
}

inline HttpRow Http(std::uint32_t pid, std::string endpoint, std::uint64_t count) {
  HttpRow h;
  h.pid = pid;
  h.server = true;
  h.endpoint = std::move(endpoint);
  h.count = count;
  h.status = {{200, count}};
  h.latency_us = Summary(count, 2000, 9000);
  h.breakdown_us.db = 1500;
  h.breakdown_us.cpu = 500;
  return h;
}

inline ConnectionRow Connection(std::uint32_t pid, std::string peer, std::uint64_t opened) {
  ConnectionRow c;
  c.pid = pid;
  c.local = "127.0.0.1:40000";
  c.peer = std::move(peer);
  c.protocol = "redis";
  c.opened = opened;
  c.connect_us = Summary(opened, 80, 120);
  c.rtt_us = Summary(10, 30, 50);
  return c;
}

inline FindingRow Finding(std::uint32_t pid, std::string kind, std::string summary) {
  FindingRow f;
  f.kind = std::move(kind);
  f.pid = pid;
  f.endpoint = "GET /orders/{id}";
  f.summary = std::move(summary);
  f.evidence_json = "{}";
  f.cost_ns = 5'000'000;
  return f;
}

// A busy window: `n` of everything, with long names.
inline Report BusyWindow(int n) {
  Report r;
  r.duration_s = 1;
  for (int i = 0; i < n; ++i) {
    const auto pid = static_cast<std::uint32_t>(1000 + i);
    const std::string id = std::to_string(i);
    r.targets.push_back({pid, "worker-with-a-very-long-name-" + id, "/usr/bin/worker"});
    r.waits.push_back(Wait(pid, "worker-with-a-very-long-name-" + id, WaitClass::kDb, 10 + i,
                           1'000'000ULL * (i + 1)));
    r.waits.push_back(Wait(pid, "worker-with-a-very-long-name-" + id, WaitClass::kSleep, 3,
                           500'000ULL * (i + 1)));
    r.queries.push_back(
        Query(pid,
              "SELECT o.id, o.total, c.name, c.email FROM orders o JOIN customers c "
              "ON c.id = o.customer_id WHERE o.id = ? -- " +
                  id,
              5 + i, 100.0 * (i + 1)));
    r.http.push_back(Http(pid, "GET /api/v1/very/long/path/segment/orders/{id}/items/" + id, 7));
    r.connections.push_back(
        Connection(pid, "[2001:db8::1234:5678:9abc]:" + std::to_string(6000 + i), 2));
    r.findings.push_back(
        Finding(pid, "n_plus_one",
                "SELECT ... repeated 40 times per request; batch it into one query " + id));
  }
  return r;
}

}  // namespace waitscope::top::testing
