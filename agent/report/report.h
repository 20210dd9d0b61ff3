// The in-memory form of report.json (docs: ../shared/docs/report-contract.md).
// Everything a recording produces lands here first; the JSON, text, folded,
// pprof and SVG writers only read it. Sections that later features fill are
// present (and written as empty arrays) from the start, because scripts rely on
// every top-level key existing.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/latency_histogram.h"
#include "core/stack.h"
#include "core/wait_class.h"

namespace waitscope {

struct Target {
  std::uint32_t pid = 0;
  std::string comm;
  std::string exe;  // empty when unknown (kernel thread, or gone before we looked)
};

struct Loss {
  std::uint64_t events_dropped = 0;  // ring-buffer reservations that failed, map inserts refused
  std::uint64_t bytes_truncated =
      0;  // payload bytes not captured (filled by the wire-traffic feature)
  std::uint64_t parse_errors = 0;
  // Requests dropped unanswered after lost bytes (an extra key in report.json).
  std::uint64_t exchanges_lost = 0;
};

// One row of report.json `waits`: blocked time of one process, summed over
// all stacks, for one (class, syscall, target).
struct WaitRow {
  std::uint32_t pid = 0;
  std::string comm;
  WaitClass wait_class = WaitClass::kOther;
  std::string syscall;
  std::string target;  // path, peer "ip:port", or "-" when the wait has no object
  std::uint64_t count = 0;
  std::uint64_t total_ns = 0;
  std::uint64_t max_ns = 0;
};

// Blocked time for one user stack; the folded/pprof/SVG outputs are built from
// these. `frames` is empty when no stack was taken (wait shorter than the
// stack threshold) or the stack could not be read.
struct WaitStack {
  std::uint32_t pid = 0;
  std::string comm;
  WaitClass wait_class = WaitClass::kOther;
  std::string syscall;
  std::string target;
  std::vector<Frame> frames;  // root first
  // false: below --min-block, so no stack was collected; true with no frames:
  // long enough, but its stack could not be had ("[stack unavailable]")
  bool stack_taken = false;
  std::uint64_t count = 0;
  std::uint64_t total_ns = 0;
  std::uint64_t max_ns = 0;
};

// report.json `connections`: TCP connections of one process to one peer
// (client role) or accepted on one local address from one peer host (server
// role; the peer's port varies, so it is written as 0).
struct ConnectionRow {
  std::uint32_t pid = 0;
  bool server = false;
  std::string local;
  std::string peer;
  std::string protocol;  // "postgres", "mysql", "redis", "http", "unknown", "tls"
  std::uint64_t opened = 0;
  LatencySummary connect_us;  // SYN_SENT -> ESTABLISHED, client role
  LatencySummary rtt_us;      // smoothed RTT samples
  std::uint64_t retransmits = 0;
  std::uint64_t resets = 0;  // RSTs sent or received (an extra key in report.json)
};

// report.json `queries`: one normalized statement / command.
struct QueryRow {
  std::uint32_t pid = 0;
  std::string protocol;  // "postgres", "mysql", "redis"
  std::string peer;
  std::string statement;
  std::uint64_t count = 0;
  std::uint64_t errors = 0;
  LatencySummary latency_us;
  std::uint64_t total_ns = 0;  // for ordering and report.txt; not in the contract
  std::int64_t rows = 0;       // rows returned or affected, summed where known
};

struct CacheRow {
  std::uint32_t pid = 0;
  std::string protocol;
  std::string peer;
  std::uint64_t reads = 0;
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
};

// Mean time per request in each class, microseconds (`breakdown_us`).
struct RequestBreakdown {
  double cpu = 0, db = 0, net = 0, disk = 0, lock = 0, tls = 0, other = 0;
};

struct HttpRow {
  std::uint32_t pid = 0;
  bool server = false;
  std::string endpoint;  // "GET /orders/{id}"
  std::uint64_t count = 0;
  std::vector<std::pair<int, std::uint64_t>> status;  // sorted by status code
  LatencySummary latency_us;
  RequestBreakdown breakdown_us;  // server role, filled by request attribution
};

// report.json `tls`: TLS handshakes of one process with one peer, by
// version and resumption.
struct TlsRow {
  std::uint32_t pid = 0;
  bool server = false;
  std::string peer;     // clients: "ip:port"; servers: the peer host with port 0
  std::string version;  // "TLSv1.2", "TLSv1.3", or "unknown" when the handshake failed early
  bool resumed = false;
  std::uint64_t count = 0;
  std::uint64_t failures = 0;   // alerts or connections closed before the handshake finished
  LatencySummary handshake_us;  // first ClientHello byte to the end of the handshake
  double round_trips = 0;       // mean flights the client waited for (an extra key)
  bool plaintext = false;       // decrypted bytes reached the parsers (OpenSSL uprobes; extra key)
};

// report.json `findings`: one anti-pattern with its evidence. `evidence` is
// kept as JSON text so each detector chooses its own fields without this
// header knowing them.
enum class Severity : std::uint8_t { kInfo, kWarning, kCritical };

struct FindingRow {
  std::string kind;  // "n_plus_one", "sync_io_in_request_path", ... (report contract)
  Severity severity = Severity::kWarning;
  std::uint32_t pid = 0;
  std::string endpoint;       // empty: not tied to one endpoint
  std::string summary;        // one sentence: what, how costly, the fix
  std::string evidence_json;  // a JSON object
  std::uint64_t cost_ns = 0;  // time the problem cost over the recording; orders findings
};

struct Report {
  std::string tool_version;
  double duration_s = 0;
  std::uint64_t min_block_ns = 0;  // stack threshold in force
  std::vector<Target> targets;
  Loss loss;
  std::vector<WaitRow> waits;  // sorted by total_ns, largest first
  std::vector<ConnectionRow> connections;
  std::vector<QueryRow> queries;  // sorted by total time, largest first
  std::vector<CacheRow> cache;
  std::vector<HttpRow> http;
  std::vector<TlsRow> tls;
  std::vector<FindingRow> findings;  // most costly first
  std::vector<WaitStack> stacks;     // not in report.json; feeds the flame outputs
};

// Sums `stacks` into report rows keyed by (pid, class, syscall, target),
// sorted by total time (largest first, ties by key so output is stable).
std::vector<WaitRow> SummarizeWaits(const std::vector<WaitStack>& stacks);

}  // namespace waitscope
