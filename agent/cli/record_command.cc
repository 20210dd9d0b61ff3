#include "cli/record_command.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>

#include "cli/error_line.h"
#include "cli/progress_line.h"
#include "cli/version.h"
#include "core/signal_reader.h"
#include "loader/privileges.h"
#include "output/report_dir.h"
#include "procs/child_launcher.h"
#include "procs/pid_check.h"
#include "procs/process_table.h"
#include "report/report_text.h"
#include "session/trace_session.h"

namespace waitscope {
namespace {

using cli::Fail;

std::string DefaultOutputDir() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "waitscope-%Y%m%d-%H%M%S", &tm);
  return buf;
}

}  // namespace

int RunRecord(const RecordOptions& given) {
  RecordOptions options = given;
  if (options.pids.empty() && options.command.empty()) {
    return Fail("nothing to record: give -p PID or -- COMMAND (see waitscope record --help)");
  }
  if (!options.save_events.empty() && options.capture_bytes == 0) {
    return Fail("--save-events needs wire tracing: drop --capture-bytes 0");
  }
  Result<TracePids> pids = ResolveTracePids(options.pids);
  if (!pids.ok()) return Fail(pids.error().message);
  for (const std::string& note : pids->notes) spdlog::info("{}", note);
  options.pids = std::move(pids->pids);
  if (Status s = CheckTracingPrivileges(); !s.ok()) return Fail(s.error().message);
  if (Status s = CheckKernelBtf(); !s.ok()) return Fail(s.error().message);
  const std::string out_dir = options.output_dir.empty() ? DefaultOutputDir() : options.output_dir;
  if (Status s = PrepareOutputDir(out_dir); !s.ok()) return Fail(s.error().message);
  // If the recording fails before writing anything, do not leave an empty
  // directory behind (rmdir only removes it while it is empty).
  struct EmptyDirCleanup {
    const std::string& dir;
    ~EmptyDirCleanup() { rmdir(dir.c_str()); }
  } cleanup{out_dir};

  // SIGINT/SIGTERM end the recording, and so do SIGHUP (its terminal went
  // away) and SIGQUIT (Ctrl-\): each would otherwise end waitscope without a
  // report and leave the command running. SIGCHLD tells us the command may
  // have exited. Read from a signalfd in the loop, so no handler touches state.
  SignalReader signals({SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD});

  // Fork the command first (parked before exec), so its pid is in the traced
  // set before it runs a single instruction of the new program.
  std::optional<ChildLauncher> child;
  if (!options.command.empty()) {
    Result<ChildLauncher> launched = ChildLauncher::Fork(options.command);
    if (!launched.ok()) return Fail(launched.error().message);
    child.emplace(std::move(launched.value()));
  }

  SessionOptions session_options;
  session_options.probe.min_stack_ns = options.min_block_ns;
  session_options.probe.capture_bytes = options.capture_bytes;
  // Request attribution needs every wait with its thread and time; it only
  // has requests to attribute when wire tracing is on.
  if (options.capture_bytes > 0) session_options.probe.wait_event_min_ns = 0;
  session_options.parser.capture_values = options.capture_values;
  session_options.findings = options.findings;
  session_options.save_events_path = options.save_events;
  session_options.tool_version = kWaitscopeVersion;
  Result<std::unique_ptr<TraceSession>> started = TraceSession::Start(session_options);
  if (!started.ok()) return Fail(started.error().message);
  TraceSession& session = *started.value();
  ProcessTable& procs = session.processes();

  for (std::uint32_t pid : options.pids) {
    session.Trace(pid);
    spdlog::debug("tracing pid {}", pid);
  }
  if (child) {
    // comm/exe/maps are read after exec via the exec event; tracing now also
    // lists a command that exits at once.
    session.Trace(static_cast<std::uint32_t>(child->pid()));
    spdlog::debug("tracing pid {} (the command)", child->pid());
    if (Status s = child->Release(); !s.ok()) {
      Fail(s.error().message);
      // As a shell would: 127 (not found) or 126 (cannot run), unlike a
      // command that ran and failed.
      const int code = child->ExecFailureExitCode();
      return code != 0 ? code : 1;
    }
  }

  const auto start = std::chrono::steady_clock::now();
  const std::int64_t start_unix_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count();
  auto elapsed_s = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  ProgressLine progress;
  std::string stop_reason;
  // The command's status, as the shell would give it, when it ended on its
  // own: waitscope then exits with it, as time(1) and strace(1) do, so
  // `waitscope record -- make test` still fails when the tests fail.
  int command_exit_code = 0;
  auto last_liveness_check = start;

  while (stop_reason.empty()) {
    if (Status st = session.Poll(100); !st.ok()) {
      progress.Clear();
      return Fail(st.error().message);
    }
    for (int sig = signals.Next(); sig != 0; sig = signals.Next()) {
      if (sig != SIGCHLD) stop_reason = sig == SIGHUP ? "hung up" : "interrupted";
    }
    // A signal to waitscope wins over the command's end seen in the same
    // round: Ctrl-C signals both, and the recording was asked to stop (exit 0).
    if (child && stop_reason.empty()) {
      if (std::optional<int> status = child->TryWait()) {
        stop_reason = "the command " + ChildLauncher::DescribeStatus(*status);
        command_exit_code = ChildLauncher::ShellExitCode(*status);
      }
    }
    if (options.duration_ns && elapsed_s() * 1e9 >= static_cast<double>(*options.duration_ns)) {
      stop_reason = "duration reached";
    }
    auto now = std::chrono::steady_clock::now();
    if (!child && stop_reason.empty() &&
        now - last_liveness_check > std::chrono::milliseconds(500)) {
      last_liveness_check = now;
      bool any_alive = false;
      for (const Target& t : procs.Targets()) {
        const ProcessInfo* info = procs.Find(t.pid);
        if (info && !info->exited && ProcessExists(t.pid)) any_alive = true;
      }
      if (!any_alive) stop_reason = "every traced process exited";
    }
    if (!progress.Due()) continue;  // reading counters is a syscall per map: only when shown
    // The same drop count the report's loss.events_dropped will show.
    const SessionHealth health = session.health();
    progress.Update(elapsed_s(), health.waits, health.dropped, procs.Targets().size());
  }
  const double duration_s = elapsed_s();
  progress.Clear();
  Report report = session.TakeWindow(duration_s, /*last=*/true);
  report.tool_version = kWaitscopeVersion;
  const KernelCounters counters = session.kernel_counters();

  TextReportOptions text{.top_n = options.top};
  text.request_tree = session.RequestTreeText(text.max_width);
  if (Status s = WriteReportDir(report, out_dir, start_unix_ns, text); !s.ok()) {
    return Fail(s.error().message);
  }
  const auto duration_ns = static_cast<std::int64_t>(duration_s * 1e9);
  if (Status s = session.WriteRequestProfiles(out_dir, start_unix_ns, duration_ns); !s.ok()) {
    return Fail(s.error().message);
  }
  // After the report: a full disk for the stream still leaves the report.
  if (Status s = session.CloseEventStream(duration_s); !s.ok()) return Fail(s.error().message);
  if (!options.quiet) std::fputs(RenderReportText(report, text).c_str(), stdout);
  std::fprintf(stderr, "waitscope: recorded %.1fs (%s); report in %s/\n", duration_s,
               stop_reason.c_str(), out_dir.c_str());
  if (child) {
    if (std::optional<int> status = child->Terminate()) {
      std::fprintf(stderr, "waitscope: ended the command, still running: it %s\n",
                   ChildLauncher::DescribeStatus(*status).c_str());
    }
  }
  if (counters.stack_errors > 0) {
    spdlog::info("{} stacks could not be read (counted without their stack)",
                 counters.stack_errors);
  }
  if (counters.unseen_switch_ins > 0) {
    spdlog::info(
        "{} blocks ended unseen by the scheduler hook: measured late, when their thread "
        "returned from the syscall, or without their stack when it next left the CPU or exited",
        counters.unseen_switch_ins);
  }
  return command_exit_code;
}

}  // namespace waitscope
