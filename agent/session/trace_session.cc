#include "session/trace_session.h"

#include <spdlog/spdlog.h>
#include <time.h>

#include <filesystem>
#include <system_error>
#include <unordered_set>
#include <vector>

#include "findings/request_profiles.h"
#include "procs/process_table.h"
#include "protocols/detect.h"

namespace waitscope {
namespace {

std::uint64_t MonotonicNowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);  // the clock of bpf_ktime_get_ns
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

// Network waits on a peer that speaks a database protocol are database
// waits: the class a person looks for first.
void ClassifyDatabaseWaits(
    const std::map<std::pair<std::uint32_t, std::string>, protocols::Protocol>& peers,
    std::vector<WaitStack>& stacks) {
  for (WaitStack& w : stacks) {
    if (w.wait_class != WaitClass::kNet) continue;
    auto it = peers.find({w.pid, w.target});
    if (it != peers.end() && protocols::IsDatabase(it->second)) w.wait_class = WaitClass::kDb;
  }
}

std::uint64_t Minus(std::uint64_t now, std::uint64_t before) {
  return now > before ? now - before : 0;
}

}  // namespace

Result<std::unique_ptr<TraceSession>> TraceSession::Start(const SessionOptions& options) {
  Result<std::unique_ptr<Probe>> probe = Probe::Start(options.probe);
  if (!probe.ok()) return probe.error();
  std::unique_ptr<findings::EventStreamWriter> events;
  if (!options.save_events_path.empty()) {
    if (!probe.value()->sockets_enabled()) {
      return Error{"cannot save events: wire tracing is off, so there is no request to replay"};
    }
    // The pipeline it forwards to is set once the session exists.
    auto opened =
        findings::EventStreamWriter::Open(options.save_events_path, options.tool_version, nullptr);
    if (!opened.ok()) return opened.error();
    events = std::move(opened.value());
  }
  return std::unique_ptr<TraceSession>(
      new TraceSession(std::move(probe.value()), options, std::move(events)));
}

TraceSession::TraceSession(std::unique_ptr<Probe> probe, const SessionOptions& options,
                           std::unique_ptr<findings::EventStreamWriter> events)
    : probe_(std::move(probe)),
      options_(options),
      collector_(*probe_, procs_, symbolizer_),
      wire_(options.max_statements),
      events_(std::move(events)) {
  probe_->SetWaitsHandler([this](std::span<const std::byte> data) { collector_.OnEvent(data); });
  if (!probe_->sockets_enabled()) return;
  findings::AttributorOptions attribution;
  attribution.thread_name = ReadThreadComm;
  requests_ = std::make_unique<findings::RequestPipeline>(options_.findings, attribution);
  if (events_) {
    events_->SetNext(requests_->observer());
    collector_.SetWaitEventHandler([this](const WaitEvent& w) {
      events_->OnWait(w);
      requests_->OnWait(w);
    });
  } else {
    collector_.SetWaitEventHandler([this](const WaitEvent& w) { requests_->OnWait(w); });
  }
  tracker_ = std::make_unique<ConnectionTracker>(
      wire_, options_.parser,
      [this](std::uint32_t pid, std::int32_t fd, std::uint64_t id,
             ConnectionTracker::CopiedStream stream) {
        if (stream == ConnectionTracker::CopiedStream::kPlaintext) {
          probe_->StopPlaintext(pid, fd, id);
        } else {
          probe_->StopCapture(pid, fd, id);
        }
      });
  tracker_->SetObserver(events_ ? static_cast<WireObserver*>(events_.get())
                                : requests_->observer());
  collector_.SetExitHandler(
      [this](std::uint32_t pid, std::uint64_t ts_ns) { exited_.emplace_back(pid, ts_ns); });
  if (probe_->ssl_enabled()) {
    ssl_ = std::make_unique<SslAttacher>(*probe_);
    AttachSystemOpenssl();
    // Once per process: a scan reads /proc/PID/maps (under the process's
    // mmap lock), and a TLS server would pay that per connection (it was
    // ~70 % of the agent's CPU at 2000 handshakes/s). Libraries loaded
    // later are found by the periodic rescan. Bounded: forgetting the set
    // only costs one more scan per process.
    constexpr std::size_t kMaxTlsScannedPids = 4096;
    tracker_->SetTlsSeen(
        [this, scanned = std::unordered_set<std::uint32_t>()](std::uint32_t pid) mutable {
          if (scanned.size() >= kMaxTlsScannedPids) scanned.clear();
          if (scanned.insert(pid).second) ScanForOpenssl(pid);
        });
  }
  probe_->SetSocketsHandler([this](std::span<const std::byte> data) { tracker_->OnEvent(data); });
}

void TraceSession::Trace(std::uint32_t pid) {
  probe_->TracePid(pid);
  procs_.Observe(pid);
  ScanForOpenssl(pid);
}

void TraceSession::AttachSystemOpenssl() {
  // The distribution's libssl, attached up front: a process that starts (or
  // first loads it) during the recording has plaintext from its first call,
  // before any scan of its maps could run.
  std::error_code ec;
  for (const char* dir : {"/usr/lib", "/lib", "/usr/lib64", "/lib64"}) {
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      std::vector<std::filesystem::path> candidates = {entry.path()};
      if (entry.is_directory(ec)) {  // multiarch: /usr/lib/x86_64-linux-gnu
        for (const char* name : {"libssl.so.3", "libssl.so.1.1"}) {
          candidates.push_back(entry.path() / name);
        }
      }
      for (const auto& path : candidates) {
        const std::string name = path.filename().string();
        if (name != "libssl.so.3" && name != "libssl.so.1.1") continue;
        if (!std::filesystem::exists(path, ec)) continue;
        if (Status s = ssl_->AttachFile(path.string()); !s.ok()) {
          spdlog::debug("OpenSSL plaintext: {}", s.error().message);
        }
      }
    }
  }
}

void TraceSession::ScanForOpenssl(std::uint32_t pid) {
  if (!ssl_) return;
  if (Status s = ssl_->Scan(pid); !s.ok())
    spdlog::debug("OpenSSL plaintext: {}", s.error().message);
}

Status TraceSession::Poll(int timeout_ms) {
  // Every event stamped before this instant is read by the poll below, so
  // requests that ended before it (less a margin) can be settled.
  const std::uint64_t poll_start_ns = MonotonicNowNs();
  if (Status s = probe_->Poll(timeout_ms); !s.ok()) return s;
  CloseExitedConnections();
  if (requests_) {
    if (events_) events_->OnFlush(poll_start_ns);
    requests_->Flush(poll_start_ns);
  }
  // Libraries are mapped after exec, by the dynamic loader or dlopen: look
  // again every few seconds (one read of /proc/PID/maps per process).
  constexpr std::uint64_t kSslScanEveryNs = 2'000'000'000;
  if (ssl_ && poll_start_ns - last_ssl_scan_ns_ >= kSslScanEveryNs) {
    last_ssl_scan_ns_ = poll_start_ns;
    for (const Target& t : procs_.Targets()) {
      const ProcessInfo* info = procs_.Find(t.pid);
      if (info && !info->exited) ScanForOpenssl(t.pid);
    }
  }
  return Status::Ok();
}

void TraceSession::CloseExitedConnections() {
  // The exit event comes through the waits ring, the process's last data
  // events through the sockets ring; Probe::Poll drains both, and the kernel
  // sent those before the exit, so by now the tracker has seen them all.
  if (!tracker_) return;
  for (const auto& [pid, ts_ns] : exited_) {
    const std::vector<std::int32_t> fds = tracker_->CloseProcess(pid, ts_ns);
    // Their kernel entries would otherwise stay until the map is full (no
    // close syscall ran), and a new process with the same pid and fd would
    // find them.
    probe_->ForgetConnections(pid, fds);
  }
  exited_.clear();
}

Loss TraceSession::LossSinceStart(const KernelCounters& k) const {
  const SocketCounters s = probe_->ReadSocketCounters();
  Loss loss;
  // tgids_full: a child of a traced process left untraced, all its events
  // with it (pid_max above the set's 2^22; never seen on a default kernel).
  loss.events_dropped = k.ringbuf_drops + k.waits_lost() + k.stacks_full + k.hook_misses +
                        k.tgids_full + collector_.stats().bad_events + s.ringbuf_drops +
                        s.conns_full + s.ssl_ringbuf_drops + s.ssl_inflight_lost;
  if (tracker_) {
    // Plaintext of an SSL object never tied to a socket cannot be placed.
    loss.events_dropped += tracker_->stats().bad_events + tracker_->stats().unknown_conn +
                           tracker_->stats().plaintext_unknown_conn;
    loss.bytes_truncated = s.bytes_truncated + s.ssl_bytes_truncated;
    loss.parse_errors = tracker_->parse_errors();
    loss.exchanges_lost = tracker_->exchanges_lost();
  }
  return loss;
}

SessionHealth TraceSession::health() const {
  SessionHealth h;
  h.events = collector_.stats().events + (tracker_ ? tracker_->stats().events : 0);
  const KernelCounters k = probe_->ReadCounters();
  h.waits = k.waits;
  h.dropped = LossSinceStart(k).events_dropped;
  h.processes = procs_.Targets().size();
  h.statements_folded = wire_.statements_folded();
  return h;
}

Report TraceSession::TakeWindow(double window_s, bool last, bool clear_kernel_maps) {
  if (Status s = probe_->Poll(0); !s.ok()) {
    spdlog::debug("draining the ring buffers: {}", s.error().message);
  }
  CloseExitedConnections();
  if (last && tracker_) tracker_->Finish();

  Report report;
  report.duration_s = window_s;
  report.min_block_ns = options_.probe.min_stack_ns;
  report.stacks = collector_.Collect(/*since_last_call=*/true);
  if (clear_kernel_maps) {
    probe_->ClearAggregates();
    collector_.OnKernelMapsCleared();
  }
  if (tracker_) {
    ClassifyDatabaseWaits(tracker_->peer_protocols(), report.stacks);
    tracker_->ForgetExitedPeers();
  }
  report.waits = SummarizeWaits(report.stacks);
  report.connections = wire_.Connections();
  report.queries = wire_.Queries();
  report.cache = wire_.Cache();
  report.http = wire_.Http();
  report.tls = wire_.Tls();
  wire_.Reset();
  report.targets = procs_.Targets();

  const Loss now = LossSinceStart(probe_->ReadCounters());
  report.loss.events_dropped = Minus(now.events_dropped, previous_loss_.events_dropped);
  report.loss.bytes_truncated = Minus(now.bytes_truncated, previous_loss_.bytes_truncated);
  report.loss.parse_errors = Minus(now.parse_errors, previous_loss_.parse_errors);
  report.loss.exchanges_lost = Minus(now.exchanges_lost, previous_loss_.exchanges_lost);
  previous_loss_ = now;

  if (requests_) requests_->TakeWindow(report, last);
  if (clear_kernel_maps) procs_.ForgetExited();
  if (last && probe_->sockets_enabled()) {
    // How much was copied, for -v: the copies stopped for connections of no
    // interest show here (tests/bpf/test_wire.py relies on this line).
    const SocketCounters s = probe_->ReadSocketCounters();
    spdlog::debug("sockets: {} data events, {} plaintext events copied", s.data_events,
                  s.ssl_data_events);
  }
  return report;
}

Status TraceSession::CloseEventStream(double duration_s) {
  if (!events_) return Status::Ok();
  return events_->Close(duration_s);
}

std::string TraceSession::RequestTreeText(std::size_t width) const {
  return requests_ ? requests_->RequestTreeText(width) : std::string();
}

Status TraceSession::WriteRequestProfiles(const std::string& dir, std::int64_t start_unix_ns,
                                          std::int64_t duration_ns) const {
  if (!requests_ || !requests_->has_requests()) return findings::RemoveRequestProfiles(dir);
  return requests_->WriteProfiles(dir, start_unix_ns, duration_ns);
}

}  // namespace waitscope
