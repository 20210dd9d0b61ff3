#include "cli/agent_command.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <set>

#include "cli/agent_exports.h"
#include "cli/cli_checks.h"
#include "cli/error_line.h"
#include "cli/version.h"
#include "config/config_parser.h"
#include "config/environment.h"
#include "config/process_selector.h"
#include "core/signal_reader.h"
#include "loader/privileges.h"
#include "metrics/agent_health.h"
#include "metrics/metrics_accumulator.h"
#include "session/trace_session.h"

namespace waitscope {
namespace {

using Clock = std::chrono::steady_clock;

using cli::Fail;

std::int64_t UnixNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

spdlog::level::level_enum SpdlogLevel(config::LogLevel level) {
  switch (level) {
    case config::LogLevel::kTrace:
      return spdlog::level::trace;
    case config::LogLevel::kDebug:
      return spdlog::level::debug;
    case config::LogLevel::kInfo:
      return spdlog::level::info;
    case config::LogLevel::kWarn:
      return spdlog::level::warn;
    case config::LogLevel::kError:
      return spdlog::level::err;
    case config::LogLevel::kOff:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

// The level the agent logs at: the config's log_level, made more verbose by
// -v (debug) or -vv (trace) on the command line, never quieter.
spdlog::level::level_enum AgentLogLevel(config::LogLevel configured, int verbosity) {
  const spdlog::level::level_enum asked = verbosity >= 2   ? spdlog::level::trace
                                          : verbosity == 1 ? spdlog::level::debug
                                                           : spdlog::level::off;
  return std::min(SpdlogLevel(configured), asked);
}

// The settings that are baked into the loaded BPF programs or the session:
// changing them on SIGHUP means a new session.
bool SameSessionSettings(const config::AgentConfig& a, const config::AgentConfig& b) {
  const bool a_all = a.targets.include.empty() && a.targets.exclude.empty();
  const bool b_all = b.targets.include.empty() && b.targets.exclude.empty();
  return a.capture == b.capture && a_all == b_all && a.finding_overrides == b.finding_overrides &&
         a.limits == b.limits;
}

class Agent {
 public:
  Agent(config::AgentConfig config, std::string config_path, int verbosity)
      : config_(std::move(config)),
        config_path_(std::move(config_path)),
        verbosity_(verbosity),
        start_unix_ns_(UnixNowNs()),
        accumulator_(metrics::AccumulatorOptions{.start_unix_ns = start_unix_ns_}) {}

  Status Start() {
    spdlog::set_level(AgentLogLevel(config_.log_level, verbosity_));
    for (const std::string& w : config_.warnings) spdlog::warn("{}", w);
    if (Status s = StartSession(); !s.ok()) return s;
    Result<std::unique_ptr<AgentExports>> exports = AgentExports::Start(config_);
    if (!exports.ok()) return exports.error();
    exports_ = std::move(exports.value());
    PublishHealthOnly();
    spdlog::info("agent started: {} ({}), window {}s, config {}",
                 selector_->SelectsAll() ? "tracing every process" : "tracing selected processes",
                 session_->flavor(), config_.window_ns / 1'000'000'000,
                 config_path_.empty() ? "(defaults)" : config_path_);
    return Status::Ok();
  }

  // Runs until SIGINT/SIGTERM; returns the exit code.
  int Run(SignalReader& signals) {
    Clock::time_point window_start = Clock::now();
    std::int64_t window_start_unix = UnixNowNs();
    Clock::time_point last_scan = Clock::time_point{};
    while (true) {
      if (Status s = session_->Poll(200); !s.ok()) return Fail(s.error().message);
      bool stop = false;
      for (int sig = signals.Next(); sig != 0; sig = signals.Next()) {
        if (sig == SIGHUP) {
          Reload(window_start, window_start_unix);
        } else {
          stop = true;
        }
      }
      const Clock::time_point now = Clock::now();
      if (stop) {
        EndWindow(now - window_start, window_start_unix, /*last=*/true);
        exports_->Stop();
        spdlog::info("agent stopped; every probe detached");
        return 0;
      }
      if (now - last_scan >= std::chrono::seconds(2)) {
        last_scan = now;
        ScanTargets();
      }
      if (now - window_start >= std::chrono::nanoseconds(config_.window_ns)) {
        EndWindow(now - window_start, window_start_unix, /*last=*/false);
        window_start = now;
        window_start_unix = UnixNowNs();
      }
    }
  }

 private:
  Status StartSession() {
    SessionOptions options;
    options.probe.min_stack_ns = config_.capture.min_block_ns;
    options.probe.capture_bytes = config_.capture.capture_bytes;
    if (config_.capture.capture_bytes > 0) options.probe.wait_event_min_ns = 0;
    selector_.emplace(config_.targets, static_cast<std::uint32_t>(getpid()));
    options.probe.trace_all = selector_->SelectsAll();
    options.probe.max_connections = static_cast<std::uint32_t>(config_.limits.max_connections);
    options.probe.max_stacks = static_cast<std::uint32_t>(config_.limits.max_stacks);
    options.max_statements = config_.limits.max_statements;
    options.parser.capture_values = config_.capture.capture_values;
    options.findings = config_.findings;
    Result<std::unique_ptr<TraceSession>> session = TraceSession::Start(options);
    if (!session.ok()) return session.error();
    session_ = std::move(session.value());
    traced_.clear();
    ScanTargets();
    return Status::Ok();
  }

  // Processes that match the selection and started since the last scan
  // (children of traced processes are traced by the kernel already).
  void ScanTargets() {
    if (selector_->SelectsAll()) return;
    for (std::uint32_t pid : config::ScanProcesses(*selector_, selector_->self_pid())) {
      if (traced_.size() >= config_.limits.max_processes) {
        ++evictions_;  // counted: a matching process left untraced
        break;
      }
      if (traced_.insert(pid).second) {
        session_->Trace(pid);
        spdlog::debug("tracing pid {}", pid);
      }
    }
  }

  void EndWindow(Clock::duration length, std::int64_t start_unix_ns, bool last) {
    const double window_s = std::chrono::duration<double>(length).count();
    Report report = session_->TakeWindow(window_s, last, /*clear_kernel_maps=*/true);
    report.tool_version = kWaitscopeVersion;
    accumulator_.AddWindow(report, start_unix_ns);
    exports_->ExportWindow(report, start_unix_ns, UnixNowNs(), Health(), accumulator_);
    // Pids of processes that exited may be reused: forget them.
    std::erase_if(traced_, [this](std::uint32_t pid) { return !session_->IsTraced(pid); });
  }

  metrics::AgentHealth Health() {
    metrics::AgentHealth h;
    if (Status s = metrics::ReadSelfUsage(&h); !s.ok()) spdlog::debug("{}", s.error().message);
    const SessionHealth sh = session_->health();
    h.events = events_before_ + sh.events;
    h.events_dropped = dropped_before_ + sh.dropped;
    // Matching processes left untraced, and statements summed past the cap.
    h.evictions = evictions_ + folded_before_ + sh.statements_folded;
    return h;
  }

  void PublishHealthOnly() {
    accumulator_.SetHealth(Health());
    exports_->PublishPrometheus(accumulator_);
  }

  // SIGHUP: a valid new config replaces the old one without losing data
  // (the open window is closed first when the session must restart); an
  // invalid one is logged and the old one kept.
  void Reload(Clock::time_point& window_start, std::int64_t& window_start_unix) {
    Result<config::AgentConfig> loaded =
        config_path_.empty()
            ? config::ParseAgentConfig("", "(defaults)", config::CurrentEnvironment())
            : config::LoadAgentConfig(config_path_, config::CurrentEnvironment());
    if (!loaded.ok()) {
      spdlog::error("reload: keeping the current configuration: {}", loaded.error().message);
      return;
    }
    config::AgentConfig next = std::move(loaded.value());
    for (const std::string& w : next.warnings) spdlog::warn("{}", w);
    if (next.SameSettings(config_)) {
      spdlog::info("reload: configuration unchanged");
      return;
    }
    const bool restart_session = !SameSessionSettings(config_, next);
    if (restart_session) {
      // Close the window with the old session so nothing it saw is lost.
      EndWindow(Clock::now() - window_start, window_start_unix, /*last=*/true);
      window_start = Clock::now();
      window_start_unix = UnixNowNs();
      const SessionHealth sh = session_->health();
      events_before_ += sh.events;
      dropped_before_ += sh.dropped;
      folded_before_ += sh.statements_folded;
      session_.reset();  // detach before attaching again
    }
    const bool restart_exports =
        !(next.exports == config_.exports) || !(next.spool == config_.spool);
    config::AgentConfig previous = config_;
    config_ = std::move(next);
    spdlog::set_level(AgentLogLevel(config_.log_level, verbosity_));
    if (restart_session) {
      if (Status s = StartSession(); !s.ok()) {
        spdlog::error("reload: cannot trace with the new configuration ({}); back to the old one",
                      s.error().message);
        config_ = previous;
        if (Status again = StartSession(); !again.ok()) {
          spdlog::critical("cannot trace any more: {}", again.error().message);
          std::exit(1);
        }
      }
    } else {
      selector_.emplace(config_.targets, static_cast<std::uint32_t>(getpid()));
      ScanTargets();
    }
    bool kept_exports = false;
    if (restart_exports) {
      // The old exports go first: the new ones may need the same port.
      exports_->Stop();
      exports_.reset();
      Result<std::unique_ptr<AgentExports>> exports = AgentExports::Start(config_);
      if (!exports.ok()) {
        spdlog::error("reload: the new exports fail ({}); keeping the previous ones",
                      exports.error().message);
        config_.exports = previous.exports;
        config_.spool = previous.spool;
        kept_exports = true;
        exports = AgentExports::Start(config_);
      }
      if (!exports.ok()) {
        spdlog::critical("cannot export any more: {}", exports.error().message);
        std::exit(1);
      }
      exports_ = std::move(exports.value());
      PublishHealthOnly();
    }
    if (kept_exports) {
      spdlog::warn(
          "reload: configuration from {} in force, but with the previous exports and "
          "spool",
          config_path_);
    } else {
      spdlog::info("reload: configuration from {} in force", config_path_);
    }
  }

  config::AgentConfig config_;
  std::string config_path_;
  int verbosity_;  // -v count of the command line
  std::int64_t start_unix_ns_;
  metrics::MetricsAccumulator accumulator_;
  std::unique_ptr<TraceSession> session_;
  std::unique_ptr<AgentExports> exports_;
  std::optional<config::ProcessSelector> selector_;
  std::set<std::uint32_t> traced_;
  std::uint64_t evictions_ = 0;
  std::uint64_t events_before_ = 0;  // of sessions replaced on reload
  std::uint64_t dropped_before_ = 0;
  std::uint64_t folded_before_ = 0;
};

// Unattended, a partial view would go unnoticed for weeks (reports without
// symbols for some processes), so the agent refuses to start with one
// unless asked to. `record` and `top`, run by a person at a terminal, trace
// what they can.
Status CheckVisibility(bool allow_partial_view) {
  Result<std::vector<MissingCapability>> missing = MissingVisibilityCapabilities();
  if (!missing.ok()) return missing.error();
  if (missing.value().empty()) return Status::Ok();
  std::string names;
  std::string consequences;
  for (const MissingCapability& m : missing.value()) {
    names += (names.empty() ? "" : " and ") + m.name;
    consequences += (consequences.empty() ? "" : "; ") + m.consequence;
  }
  if (allow_partial_view) {
    spdlog::warn("{} missing (--allow-missing-capabilities): {}", names, consequences);
    return Status::Ok();
  }
  return Error{"the agent lacks " + names + ": " + consequences +
               " (grant it as the packaged unit does, or pass --allow-missing-capabilities)"};
}

}  // namespace

CLI::App* AddAgentSubcommand(CLI::App& app, AgentOptions& options) {
  CLI::App* agent = app.add_subcommand(
      "agent",
      "Run continuously: trace the configured processes, aggregate in windows and export "
      "(Prometheus, OTLP/HTTP, Pyroscope, report directories)");
  agent
      ->add_option("-c,--config", options.config_path,
                   "Configuration file (default: " + std::string(config::kDefaultConfigPath) +
                       "; built-in defaults when that file does not exist)")
      ->check(cli::NonEmptyPathCheck("FILE"));
  agent->add_flag("--check", options.check_only,
                  "Only validate the configuration (and the OTEL_* environment) and exit");
  agent->add_flag("--allow-missing-capabilities", options.allow_partial_view,
                  "Start even without CAP_SYS_PTRACE or CAP_DAC_READ_SEARCH (logged): other "
                  "users' processes are then traced with fewer symbols");
  agent->footer(
      "Signals: SIGHUP reloads the configuration (an invalid one is logged and the old one "
      "kept); SIGTERM or SIGINT flush pending data, detach every probe and exit 0.\n"
      "Needs root, or CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH (the "
      "packaged unit's set); without any of them it exits naming what is missing.");
  return agent;
}

int RunAgent(const AgentOptions& options) {
  const config::Environment env = config::CurrentEnvironment();
  std::string path = options.config_path;
  const bool explicit_path = !path.empty();
  if (!explicit_path && access(config::kDefaultConfigPath, F_OK) == 0) {
    path = config::kDefaultConfigPath;
  }
  Result<config::AgentConfig> loaded = path.empty()
                                           ? config::ParseAgentConfig("", "(defaults)", env)
                                           : config::LoadAgentConfig(path, env);
  if (!loaded.ok()) return Fail(loaded.error().message);
  if (options.check_only) {
    for (const std::string& w : loaded.value().warnings) spdlog::warn("{}", w);
    std::printf("%s: configuration is valid\n", path.empty() ? "(defaults)" : path.c_str());
    return 0;
  }
  if (Status s = CheckTracingPrivileges(); !s.ok()) return Fail(s.error().message);
  if (Status s = CheckKernelBtf(); !s.ok()) return Fail(s.error().message);
  if (Status s = CheckVisibility(options.allow_partial_view); !s.ok()) {
    return Fail(s.error().message);
  }

  // Blocked before any thread exists (exporters and the metrics server
  // start their own), so every thread inherits the mask and the signals
  // reach only the signalfd.
  SignalReader signals({SIGINT, SIGTERM, SIGHUP});
  Agent agent(std::move(loaded.value()), path, options.verbosity);
  if (Status s = agent.Start(); !s.ok()) return Fail(s.error().message);
  return agent.Run(signals);
}

}  // namespace waitscope
