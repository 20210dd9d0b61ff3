// ssl_events_dump: prints the sockets family's events, TLS plaintext
// included, as JSON lines, for tests/bpf/test_ssl_probe.py.
//
// Usage: ssl_events_dump [-o FILE] [--capture-bytes N] [--attach-file PATH]...
//                        [--duration-ms N] [-p PID]... [-- COMMAND ARGS...]
// Traces the command (started parked, traced before exec, children too) or
// the pids (until they all exit), and attaches SslAttacher to every traced process: at start, at
// fork/exec, at each new connection of a process without plaintext yet, and
// every 200 ms. Stops when the command exits, at SIGINT/SIGTERM, or after
// --duration-ms. Lines ("type"): ready, open, close, data, ssl_data,
// ssl_handshake, tcp_connect, ssl_scan (a process got plaintext), ssl_error,
// counters (last). Payload is hex in "hex". Exit 77 when this machine cannot
// trace (no privileges, no kernel BTF); 1 when it can but our programs do not
// load, which is a failure, not a reason to skip.
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "loader/event_read.h"
#include "loader/privileges.h"
#include "loader/probe.h"
#include "loader/ssl_attacher.h"
#include "procs/child_launcher.h"
#include "waitscope/bpf/openssl.h"

namespace waitscope {
namespace {

constexpr int kSkip = 77;

struct Options {
  std::string output;
  std::uint32_t capture_bytes = WS_MAX_CAPTURE;
  std::vector<std::string> attach_files;
  std::vector<std::uint32_t> pids;
  std::vector<std::string> command;
  std::optional<long> duration_ms;
};

std::optional<Options> ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (a == "--") {
      for (++i; i < argc; ++i) o.command.emplace_back(argv[i]);
      break;
    }
    const char* v = next();
    if (!v) return std::nullopt;
    if (a == "-o") {
      o.output = v;
    } else if (a == "--capture-bytes") {
      o.capture_bytes = static_cast<std::uint32_t>(std::stoul(v));
    } else if (a == "--attach-file") {
      o.attach_files.emplace_back(v);
    } else if (a == "--duration-ms") {
      o.duration_ms = std::stol(v);
    } else if (a == "-p") {
      o.pids.push_back(static_cast<std::uint32_t>(std::stoul(v)));
    } else {
      return std::nullopt;
    }
  }
  if (o.pids.empty() && o.command.empty()) return std::nullopt;
  return o;
}

std::string Hex(std::span<const std::byte> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::byte b : bytes) {
    out.push_back(kDigits[std::to_integer<unsigned>(b) >> 4]);
    out.push_back(kDigits[std::to_integer<unsigned>(b) & 0xf]);
  }
  return out;
}

class Dumper {
 public:
  Dumper(std::ostream& out, Probe& probe) : out_(out), probe_(probe), attacher_(probe) {}

  void Emit(const nlohmann::json& j) { out_ << j.dump() << '\n' << std::flush; }

  // Scans pid unless it already has plaintext (cheap either way).
  void Scan(std::uint32_t pid) {
    pids_.insert(pid);
    if (attacher_.HasPlaintext(pid)) return;
    Status s = attacher_.Scan(pid);
    if (!s.ok()) {
      Emit({{"type", "ssl_error"}, {"pid", pid}, {"message", s.error().message}});
    }
    if (attacher_.HasPlaintext(pid))
      Emit({{"type", "ssl_scan"}, {"pid", pid}, {"plaintext", true}});
  }

  void ScanAll() {
    for (std::uint32_t pid : std::set<std::uint32_t>(pids_)) {
      if (!attacher_.HasPlaintext(pid) && ::kill(static_cast<pid_t>(pid), 0) == 0) Scan(pid);
    }
  }

  SslAttacher& attacher() { return attacher_; }

  void OnWaitsEvent(std::span<const std::byte> data) {
    ws_event_header hdr{};
    if (!ReadEvent(data, hdr)) return;
    if (hdr.type == WS_EV_FORK || hdr.type == WS_EV_EXEC) Scan(hdr.tgid);
    if (hdr.type == WS_EV_FORK) {
      ws_proc_event ev{};
      if (ReadEvent(data, ev))
        Emit({{"type", "fork"}, {"pid", hdr.tgid}, {"parent", ev.parent_tgid}});
    }
    if (hdr.type == WS_EV_EXIT) attacher_.Forget(hdr.tgid);
  }

  void OnSocketsEvent(std::span<const std::byte> data) {
    ws_event_header hdr{};
    if (!ReadEvent(data, hdr)) return;
    nlohmann::json j{{"pid", hdr.tgid}, {"ts", hdr.ts_ns}};
    switch (hdr.type) {
      case WS_EV_SOCK_OPEN: {
        ws_sock_open_event ev{};
        if (!ReadEvent(data, ev)) return;
        j["type"] = "open";
        j["conn_id"] = ev.conn_id;
        j["fd"] = ev.fd;
        j["role"] = ev.role;
        j["family"] = ev.family;
        j["local_port"] = ev.local_port;
        j["peer_port"] = ev.peer_port;
        Emit(j);
        Scan(hdr.tgid);  // a process's first connection: its libssl is mapped by now
        return;
      }
      case WS_EV_SOCK_CLOSE: {
        ws_sock_close_event ev{};
        if (!ReadEvent(data, ev)) return;
        j["type"] = "close";
        j["conn_id"] = ev.conn_id;
        j["bytes_sent"] = ev.bytes_sent;
        j["bytes_received"] = ev.bytes_received;
        break;
      }
      case WS_EV_SOCK_DATA:
      case WS_EV_SSL_DATA: {
        if (data.size() < WS_SOCK_DATA_HEADER_SIZE) return;
        ws_sock_data_event ev;
        std::memcpy(&ev, data.data(), WS_SOCK_DATA_HEADER_SIZE);
        if (ev.captured > data.size() - WS_SOCK_DATA_HEADER_SIZE) return;
        j["type"] = hdr.type == WS_EV_SSL_DATA ? "ssl_data" : "data";
        j["conn_id"] = ev.conn_id;
        j["tid"] = ev.tid;
        j["dir"] = ev.direction == WS_DIR_EGRESS ? "egress" : "ingress";
        j["pos"] = ev.stream_pos;
        j["len"] = ev.len;
        j["captured"] = ev.captured;
        j["call_ns"] = ev.syscall_ns;
        j["hex"] = Hex(data.subspan(WS_SOCK_DATA_HEADER_SIZE, ev.captured));
        break;
      }
      case WS_EV_SSL_HANDSHAKE: {
        ws_ssl_handshake_event ev{};
        if (!ReadEvent(data, ev)) return;
        j["type"] = "ssl_handshake";
        j["conn_id"] = ev.conn_id;
        j["ssl"] = ev.ssl;
        j["tid"] = ev.tid;
        j["duration_ns"] = ev.duration_ns;
        j["ret"] = ev.ret;
        break;
      }
      case WS_EV_TCP_CONNECT: {
        ws_tcp_connect_event ev{};
        if (!ReadEvent(data, ev)) return;
        j["type"] = "tcp_connect";
        j["latency_ns"] = ev.latency_ns;
        break;
      }
      default:
        j["type"] = "unknown";
        j["event_type"] = hdr.type;
        break;
    }
    Emit(j);
  }

  void EmitCounters() {
    const SocketCounters c = probe_.ReadSocketCounters();
    Emit({{"type", "counters"},
          {"data_events", c.data_events},
          {"ringbuf_drops", c.ringbuf_drops},
          {"bytes_truncated", c.bytes_truncated},
          {"conns_full", c.conns_full},
          {"ssl_data_events", c.ssl_data_events},
          {"ssl_ringbuf_drops", c.ssl_ringbuf_drops},
          {"ssl_bytes_truncated", c.ssl_bytes_truncated},
          {"ssl_inflight_lost", c.ssl_inflight_lost},
          {"ssl_unknown_conn", c.ssl_unknown_conn},
          {"ssl_conns_full", c.ssl_conns_full},
          {"ssl_files_attached", attacher_.attached_files()}});
  }

 private:
  std::ostream& out_;
  Probe& probe_;
  SslAttacher attacher_;
  std::set<std::uint32_t> pids_;
};

int Run(const Options& options) {
  for (const Status& s : {CheckTracingPrivileges(), CheckKernelBtf()}) {
    if (!s.ok()) {
      std::cerr << "ssl_events_dump: " << s.error().message << '\n';
      return kSkip;
    }
  }
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  const int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);

  std::optional<ChildLauncher> child;
  if (!options.command.empty()) {
    Result<ChildLauncher> launched = ChildLauncher::Fork(options.command);
    if (!launched.ok()) {
      std::cerr << "ssl_events_dump: " << launched.error().message << '\n';
      return 1;
    }
    child.emplace(std::move(launched.value()));
  }
  ProbeOptions probe_options;
  probe_options.capture_bytes = options.capture_bytes;
  Result<std::unique_ptr<Probe>> started = Probe::Start(probe_options);
  if (!started.ok()) {
    std::cerr << "ssl_events_dump: " << started.error().message << '\n';
    return 1;
  }
  Probe& probe = *started.value();
  if (!probe.ssl_enabled()) {
    std::cerr << "ssl_events_dump: the kernel refused the OpenSSL uprobe programs (-v for why)\n";
    return 1;
  }

  std::ofstream file;
  if (!options.output.empty()) file.open(options.output, std::ios::out | std::ios::trunc);
  std::ostream& out = options.output.empty() ? std::cout : file;
  Dumper dumper(out, probe);
  probe.SetWaitsHandler([&](std::span<const std::byte> d) { dumper.OnWaitsEvent(d); });
  probe.SetSocketsHandler([&](std::span<const std::byte> d) { dumper.OnSocketsEvent(d); });

  for (const std::string& path : options.attach_files) {
    if (Status s = dumper.attacher().AttachFile(path); !s.ok()) {
      dumper.Emit({{"type", "ssl_error"}, {"path", path}, {"message", s.error().message}});
    }
  }
  for (std::uint32_t pid : options.pids) {
    probe.TracePid(pid);
    dumper.Scan(pid);
  }
  if (child) {
    probe.TracePid(static_cast<std::uint32_t>(child->pid()));
    dumper.Emit({{"type", "ready"}, {"child", child->pid()}});
    if (Status s = child->Release(); !s.ok()) {
      std::cerr << "ssl_events_dump: " << s.error().message << '\n';
      return 1;
    }
  } else {
    dumper.Emit({{"type", "ready"}});
  }

  const auto start = std::chrono::steady_clock::now();
  auto last_scan = start;
  int exit_code = 0;
  for (bool stop = false; !stop;) {
    if (Status s = probe.Poll(50); !s.ok()) {
      std::cerr << "ssl_events_dump: " << s.error().message << '\n';
      return 1;
    }
    signalfd_siginfo si;
    if (sfd >= 0 && read(sfd, &si, sizeof(si)) == sizeof(si)) stop = true;
    if (child) {
      if (std::optional<int> status = child->TryWait()) {
        stop = true;
        exit_code = WIFEXITED(*status) ? WEXITSTATUS(*status) : 1;
      }
    }
    if (!child && std::none_of(options.pids.begin(), options.pids.end(), [](std::uint32_t pid) {
          return ::kill(static_cast<pid_t>(pid), 0) == 0;
        })) {
      stop = true;  // every traced pid exited
    }
    const auto now = std::chrono::steady_clock::now();
    if (options.duration_ms && now - start >= std::chrono::milliseconds(*options.duration_ms)) {
      stop = true;
    }
    if (now - last_scan >= std::chrono::milliseconds(200)) {
      last_scan = now;
      dumper.ScanAll();
    }
  }
  (void)probe.Poll(0);
  dumper.EmitCounters();
  if (sfd >= 0) close(sfd);
  return exit_code;
}

}  // namespace
}  // namespace waitscope

int main(int argc, char** argv) {
  std::optional<waitscope::Options> options = waitscope::ParseArgs(argc, argv);
  if (!options) {
    std::cerr << "usage: ssl_events_dump [-o FILE] [--capture-bytes N] [--attach-file PATH]... "
                 "[--duration-ms N] [-p PID]... [-- COMMAND ARGS...]\n";
    return 2;
  }
  try {
    return waitscope::Run(*options);
  } catch (const std::exception& e) {
    std::cerr << "ssl_events_dump: " << e.what() << '\n';
    return 1;
  }
}
