// Inputs shared by the metrics tests and the promtool check: a window report
// with one row of every kind (and label values that need escaping or are not
// UTF-8), and a hand-built snapshot exercising the encoder's edge cases.
#pragma once

#include <limits>

#include "metrics/metric_snapshot.h"
#include "report/report.h"

namespace waitscope::metrics::testing {

inline LatencySummary Summary(std::uint64_t count, double mean, double p50, double p95, double p99,
                              double max) {
  LatencySummary s;
  s.count = count;
  s.mean = mean;
  s.p50 = p50;
  s.p95 = p95;
  s.p99 = p99;
  s.max = max;
  return s;
}

// One window of a web service (pid 10, "api") talking to PostgreSQL and
// Redis, plus a worker (pid 11, "worker").
inline Report SampleWindow() {
  Report r;
  r.duration_s = 10;
  r.targets = {{10, "api", "/usr/bin/api"}, {11, "worker", "/usr/bin/worker"}};
  r.loss.bytes_truncated = 100;
  r.loss.parse_errors = 2;
  r.loss.exchanges_lost = 1;
  r.waits = {
      {10, "api", WaitClass::kDb, "recvfrom", "10.0.0.5:5432", 40, 2'000'000'000, 90'000'000},
      {10, "api", WaitClass::kDisk, "fsync", "/var/lib/api/journal", 5, 50'000'000, 20'000'000},
      {11, "worker", WaitClass::kNet, "recvfrom", "10.0.0.9:41234", 3, 3'000'000, 2'000'000},
  };
  QueryRow q;
  q.pid = 10;
  q.protocol = "postgres";
  q.peer = "10.0.0.5:5432";
  q.statement = "SELECT * FROM \"orders\" WHERE note = '\\n' AND id = ?";
  q.count = 40;
  q.errors = 1;
  q.latency_us = Summary(40, 2500, 1000, 9000, 20000, 90000);
  QueryRow g;
  g.pid = 10;
  g.protocol = "redis";
  g.peer = "10.0.0.6:6379";
  g.statement = "GET order:?";
  g.count = 20;
  g.latency_us = Summary(20, 150, 100, 400, 900, 900);
  // A key a client sent as raw bytes: not UTF-8, which a Prometheus scrape
  // (and promtool) refuses whole unless the label is repaired.
  QueryRow bad;
  bad.pid = 11;
  bad.protocol = "redis";
  bad.peer = "10.0.0.6:6379";
  bad.statement = "GET \xff\xfe:?";
  bad.count = 1;
  bad.latency_us = Summary(1, 100, 100, 100, 100, 100);
  r.queries = {q, g, bad};
  r.cache = {{10, "redis", "10.0.0.6:6379", 20, 15, 5}};
  HttpRow h;
  h.pid = 10;
  h.server = true;
  h.endpoint = "GET /orders/{id}";
  h.count = 30;
  h.status = {{200, 28}, {500, 2}};
  h.latency_us = Summary(30, 70000, 60000, 200000, 400000, 400000);
  r.http = {h};
  ConnectionRow c;
  c.pid = 10;
  c.local = "10.0.0.2:40000";
  c.peer = "10.0.0.5:5432";
  c.protocol = "postgres";
  c.opened = 2;
  c.connect_us = Summary(2, 300, 200, 400, 400, 400);
  ConnectionRow s;
  s.pid = 10;
  s.server = true;
  s.local = "10.0.0.2:8080";
  s.peer = "10.0.0.7:0";
  s.protocol = "http";
  s.opened = 5;
  r.connections = {c, s};
  TlsRow t;
  t.pid = 11;
  t.peer = "10.0.0.8:443";
  t.version = "TLSv1.3";
  t.count = 4;
  t.failures = 1;
  t.handshake_us = Summary(4, 3000, 2000, 6000, 6000, 6000);
  r.tls = {t};
  FindingRow f;
  f.kind = "n_plus_one";
  f.severity = Severity::kWarning;
  f.pid = 10;
  f.endpoint = "GET /orders/{id}";
  r.findings = {f};
  return r;
}

// Names, units and label values that need sanitizing or escaping.
inline MetricSnapshot GoldenSnapshot() {
  MetricSnapshot s;
  Metric wait{
      "waitscope.wait.time", "Blocked \\ time\nper process", "s", MetricType::kCounter, {}, {}};
  wait.numbers = {
      {{{"process.executable.name", "z\"quoted\""}, {"waitscope.wait.class", "disk"}}, 2},
      {{{"process.executable.name", "a\\b\nc"}, {"waitscope.wait.class", "lock"}}, 1.5},
  };
  Metric odd{"9lives.metric-x", "Odd name", "By", MetricType::kGauge, {}, {}};
  odd.numbers = {{{{"0key", "v"}, {"__reserved", "w"}, {"a.b", "1"}, {"a-b", "2"}}, 1e-5}};
  Metric total{
      "requests.total", "Already ends in total", "{request}", MetricType::kCounter, {}, {}};
  total.numbers = {{{}, 7}};
  Metric ratio{"cache.hit_ratio", "A ratio", "1", MetricType::kGauge, {}, {}};
  ratio.numbers = {{{}, 0.75}};
  Metric inf{"x.limit", "Special values", "By", MetricType::kGauge, {}, {}};
  inf.numbers = {{{{"k", "inf"}}, std::numeric_limits<double>::infinity()},
                 {{{"k", "nan"}}, std::numeric_limits<double>::quiet_NaN()}};
  Metric empty{"nothing.here", "No points: left out", "s", MetricType::kCounter, {}, {}};
  Metric hist{
      "waitscope.db.statement.duration", "Statement latency", "s", MetricType::kHistogram, {}, {}};
  HistogramPoint p;
  p.labels = {{"db.statement", "SELECT \"x\""}, {"db.system", "postgres"}};
  p.bounds = {0.001, 0.01, 0.1};
  p.counts = {1, 2, 0, 1};
  p.count = 4;
  p.sum = 0.25;
  hist.histograms = {p};
  s.metrics = {wait, odd, total, ratio, inf, empty, hist};
  return s;
}

}  // namespace waitscope::metrics::testing
