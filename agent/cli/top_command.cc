#include "cli/top_command.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>

#include "cli/cli_checks.h"
#include "cli/error_line.h"
#include "core/duration.h"
#include "core/signal_reader.h"
#include "loader/privileges.h"
#include "procs/pid_check.h"
#include "session/trace_session.h"
#include "top/terminal.h"
#include "top/top_keys.h"
#include "top/top_model.h"
#include "top/top_view.h"
#include "waitscope/bpf/sockets.h"

namespace waitscope {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kMinIntervalNs = 100'000'000;        // 100ms
constexpr std::uint64_t kMaxIntervalNs = 3'600'000'000'000;  // 1h
constexpr int kPollMs = 100;  // longest a key or signal waits to be seen
constexpr std::size_t kPlainWidth = 100;
constexpr std::size_t kPlainRowsPerSection = 10;

Result<std::uint64_t> ParseInterval(const std::string& text) {
  Result<std::uint64_t> ns = ParseSecondsOrDurationNs(text);
  if (!ns.ok()) return ns;
  if (*ns < kMinIntervalNs || *ns > kMaxIntervalNs) {
    return Error{"must be between 100ms and 1h, got '" + text + "'"};
  }
  return ns;
}

std::string LocalTimestamp() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

Clock::duration Seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

// The event loop: poll the session, react to keys and signals, take a window
// and show it every interval. Returns when the view ends; the screen (if
// any) is restored before this returns, so errors print on the real screen.
Status RunLoop(const TopOptions& options, top::ViewState view) {
  // Blocked before the probe starts: a Ctrl-C while it loads ends the view
  // at once instead of killing the process with the terminal in raw mode.
  SignalReader signals({SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH});

  SessionOptions session_options;
  session_options.probe.trace_all = options.pids.empty();
  session_options.probe.capture_bytes = options.capture_bytes;
  // Request attribution (endpoint breakdowns, findings) needs every wait.
  if (options.capture_bytes > 0) session_options.probe.wait_event_min_ns = 0;
  Result<std::unique_ptr<TraceSession>> started = TraceSession::Start(session_options);
  if (!started.ok()) return started.error();
  TraceSession& session = *started.value();
  for (std::uint32_t pid : options.pids) session.Trace(pid);

  std::unique_ptr<top::ScreenSession> screen;
  if (isatty(STDOUT_FILENO)) {
    Result<std::unique_ptr<top::ScreenSession>> entered =
        top::ScreenSession::Enter(STDIN_FILENO, STDOUT_FILENO);
    if (!entered.ok()) return entered.error();
    screen = std::move(entered.value());
  }

  top::TopModel model;
  const Clock::time_point start = Clock::now();
  Clock::time_point last_window = start;
  Clock::time_point next_refresh = start + Seconds(view.interval_s);
  std::size_t refreshes = 0;
  bool dirty = true;
  auto draw = [&]() -> Status {
    const top::TerminalSize size =
        top::QueryTerminalSize(STDOUT_FILENO).value_or(top::TerminalSize{});
    return screen->Draw(top::RenderScreen(model, view, size.cols, size.rows), size);
  };

  for (;;) {
    if (screen && dirty) {
      if (Status s = draw(); !s.ok()) return s;
      dirty = false;
    }
    const auto until_refresh =
        std::chrono::duration_cast<std::chrono::milliseconds>(next_refresh - Clock::now()).count();
    const int timeout_ms = static_cast<int>(std::clamp<long long>(until_refresh, 0, kPollMs));
    if (Status s = session.Poll(timeout_ms); !s.ok()) return s;

    for (int sig = signals.Next(); sig != 0; sig = signals.Next()) {
      if (sig == SIGWINCH) {
        dirty = true;
      } else {
        return Status::Ok();
      }
    }
    if (screen) {
      for (const top::Key& key : top::ParseKeys(screen->ReadInput())) {
        const double interval_before = view.interval_s;
        if (!top::ApplyKey(key, view)) return Status::Ok();
        if (view.interval_s != interval_before)
          next_refresh = last_window + Seconds(view.interval_s);
        dirty = true;
      }
    }

    const Clock::time_point now = Clock::now();
    if (now < next_refresh) continue;
    const double window_s = std::chrono::duration<double>(now - last_window).count();
    last_window = now;
    next_refresh = now + Seconds(view.interval_s);
    // Tracing every process: empty the kernel's maps each window so the
    // processes that come and go do not fill them.
    const Report report = session.TakeWindow(window_s, /*last=*/false,
                                             /*clear_kernel_maps=*/session_options.probe.trace_all);
    const SessionHealth health = session.health();
    model.AddWindow(report, {health.events, health.dropped, health.processes},
                    std::chrono::duration<double>(now - start).count());
    ++refreshes;
    dirty = true;
    if (!screen) {
      const std::string block =
          top::RenderPlain(model, view, LocalTimestamp(), kPlainWidth, kPlainRowsPerSection);
      if (std::fputs(block.c_str(), stdout) < 0 || std::fflush(stdout) != 0) {
        return Error{std::string("cannot write to stdout: ") + std::strerror(errno)};
      }
    }
    if (options.iterations > 0 && refreshes >= options.iterations) {
      if (screen) return draw();
      return Status::Ok();
    }
  }
}

}  // namespace

CLI::App* AddTopSubcommand(CLI::App& app, TopOptions& options) {
  CLI::App* top =
      app.add_subcommand("top", "Live view of where processes wait, refreshed every second");
  top->footer(
      "Keys: q quit, s/S sort key, tab/1-5 which section gets the most rows, +/- interval.\n"
      "When stdout is not a terminal, prints a plain text block every interval instead.\n"
      "Examples:\n"
      "  waitscope top                 # every process on the machine\n"
      "  waitscope top -p 1234 --sort count\n"
      "  waitscope top -p 1234 -n 5 > top.txt\n"
      "Needs root (or CAP_BPF + CAP_PERFMON) and a kernel with BTF.");
  top->add_option("-p,--pid", options.pids,
                  "Process to watch (repeatable); its child processes too; a thread ID stands "
                  "for its process. Default: every process but waitscope")
      ->check(cli::PidCheck());
  top->add_option("--interval", options.interval,
                  "Refresh period (e.g. 1s, 500ms, 2; a bare number is seconds; 100ms to 1h)")
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            Result<std::uint64_t> ns = ParseInterval(value);
            return ns.ok() ? std::string() : ns.error().message;
          },
          "DURATION"))
      ->capture_default_str();
  top->add_option("--sort", options.sort, "Initial sort key: time, count, p95 or name")
      ->check(CLI::IsMember({"time", "count", "p95", "name"}))
      ->capture_default_str();
  top->add_option("-n,--iterations", options.iterations,
                  "Exit after this many refreshes (0: until q or Ctrl-C)")
      ->check(cli::CountCheck("until q or Ctrl-C"))
      ->capture_default_str();
  top->add_option("--capture-bytes", options.capture_bytes,
                  "Socket payload copied per read/write for protocol parsing (0 turns wire "
                  "tracing off: no endpoints, statements, peers or findings; at most 16384)")
      ->check(cli::WholeNumberCheck(0, WS_MAX_CAPTURE, "a byte count"))
      ->capture_default_str();
  return top;
}

int RunTop(const TopOptions& given) {
  Result<TracePids> pids = ResolveTracePids(given.pids);
  if (!pids.ok()) return cli::Fail(pids.error().message);
  // Before the screen takes over the terminal, which keeps these lines.
  for (const std::string& note : pids->notes) {
    std::fprintf(stderr, "waitscope: info: %s\n", note.c_str());
  }
  TopOptions options = given;
  options.pids = std::move(pids->pids);
  Result<std::uint64_t> interval_ns = ParseInterval(options.interval);
  if (!interval_ns.ok()) return cli::Fail("--interval: " + interval_ns.error().message);
  top::ViewState view;
  if (!top::ParseSortKey(options.sort, &view.sort))
    return cli::Fail("unknown sort key '" + options.sort + "'");
  view.interval_s = static_cast<double>(*interval_ns) / 1e9;
  view.wire_tracing = options.capture_bytes > 0;
  view.traced_pids = options.pids.size();
  if (Status s = CheckTracingPrivileges(); !s.ok()) return cli::Fail(s.error().message);
  if (Status s = CheckKernelBtf(); !s.ok()) return cli::Fail(s.error().message);
  if (Status s = RunLoop(options, view); !s.ok()) return cli::Fail(s.error().message);
  return 0;
}

}  // namespace waitscope
