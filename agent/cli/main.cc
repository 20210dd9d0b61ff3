// waitscope: shows where server requests wait, from kernel tracepoints.
// Entry point: parses the command line and dispatches to a subcommand.
// Errors reach the user as one line on stderr and a non-zero exit code.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "cli/agent_command.h"
#include "cli/cli_checks.h"
#include "cli/error_line.h"
#include "cli/record_command.h"
#include "cli/top_command.h"
#include "cli/version.h"
#include "core/duration.h"
#include "findings/detector_config.h"
#include "waitscope/bpf/sockets.h"

namespace {

void SetUpLogging(int verbosity) {
  auto logger = spdlog::stderr_color_mt("waitscope");
  logger->set_pattern("waitscope: %^%l%$: %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(verbosity >= 2   ? spdlog::level::trace
                    : verbosity == 1 ? spdlog::level::debug
                                     : spdlog::level::info);
}

// CLI11 validator for human durations ("1ms"); `seconds_default` lets a bare
// number mean seconds; `allow_zero` whether 0 means something.
CLI::Validator DurationValidator(bool seconds_default, bool allow_zero) {
  return CLI::Validator(
      [seconds_default, allow_zero](std::string& value) -> std::string {
        auto parsed = seconds_default ? waitscope::ParseSecondsOrDurationNs(value)
                                      : waitscope::ParseDurationNs(value);
        if (!parsed.ok()) return parsed.error().message;
        if (*parsed == 0 && !allow_zero) return "'" + value + "': must be longer than 0";
        return {};
      },
      "DURATION");
}

std::string JoinKeys(const std::vector<std::string>& keys) {
  std::string out;
  for (const std::string& k : keys) out += (out.empty() ? "" : ", ") + k;
  return out;
}

// "key=value" onto a detector config; the error names what is wrong.
waitscope::Status ApplyFindingOption(waitscope::findings::DetectorConfig& config,
                                     const std::string& text) {
  const std::size_t eq = text.find('=');
  if (eq == std::string::npos) return waitscope::Error{"expected KEY=VALUE, got '" + text + "'"};
  const std::string key = text.substr(0, eq);
  const std::string value = text.substr(eq + 1);
  char* end = nullptr;
  errno = 0;
  const double number = std::strtod(value.c_str(), &end);
  if (value.empty() || end != value.c_str() + value.size() || errno != 0) {
    return waitscope::Error{"'" + key + "' needs a number, got '" + value + "'"};
  }
  return waitscope::findings::SetDetectorOption(config, key, number);
}

CLI::Validator FindingOptionValidator() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        waitscope::findings::DetectorConfig scratch;
        waitscope::Status s = ApplyFindingOption(scratch, value);
        return s.ok() ? std::string() : s.error().message;
      },
      "KEY=VALUE");
}

int RunCli(int argc, char** argv) {
  CLI::App app{
      "waitscope shows where a process's threads wait (disk, network, database, locks, sleeps, "
      "polls) and which SQL statements, Redis commands and HTTP requests it made, from kernel "
      "tracepoints, with no change to the program."};
  app.set_version_flag("--version", std::string("waitscope ") + waitscope::kWaitscopeVersion);
  app.require_subcommand(1);
  int verbosity = 0;
  app.add_flag("-v,--verbose", verbosity,
               "More detail on stderr (-v: debug, -vv: also libbpf and verifier messages)");

  waitscope::RecordOptions record;
  std::string duration_text;
  std::string min_block_text = "1ms";
  app.fallthrough();  // -v works after the subcommand too
  CLI::App* rec = app.add_subcommand(
      "record", "Trace processes (by pid, or a command it starts) and write a report directory");
  rec->footer(
      "Writes DIR/report.json and report.txt (findings first), requests.svg/.folded/.pb.gz "
      "(where each endpoint's time goes) and flamegraph.svg, waits.folded, waits.pb.gz "
      "(blocked time).\n"
      "Examples:\n"
      "  waitscope record -p 1234 --duration 30s -o /tmp/ws\n"
      "  waitscope record -o /tmp/ws -- python3 app.py\n"
      "Needs root (or CAP_BPF + CAP_PERFMON) and a kernel with BTF.\n"
      "See also: waitscope top (live view), waitscope agent (daemon).");
  rec->add_option("-p,--pid", record.pids,
                  "Process to trace (repeatable); its child processes are traced too. A thread "
                  "ID traces its process")
      ->check(waitscope::cli::PidCheck());
  rec->add_option("--duration", duration_text,
                  "Stop after this long (e.g. 30, 30s, 2m, 500ms; a bare number is seconds). "
                  "Default: until Ctrl-C, the command exits, or every traced process exits")
      ->check(DurationValidator(true, false));
  rec->add_option("-o,--output", record.output_dir,
                  "Report directory, created if missing (default: ./waitscope-DATE-TIME)")
      ->check(waitscope::cli::NonEmptyPathCheck("DIR"));
  rec->add_option("--min-block", min_block_text,
                  "Take the user stack of waits at least this long (e.g. 1ms, 200us, 0 for "
                  "every wait). Shorter waits are still counted, without a stack")
      ->check(DurationValidator(false, true))
      ->capture_default_str();
  rec->add_flag("-q,--quiet", record.quiet, "Do not print the summary on stdout");
  rec->add_option("--top", record.top,
                  "Rows in each table of the summary and report.txt: waits and statements by "
                  "total time (0: all)")
      ->check(waitscope::cli::CountCheck("all"))
      ->capture_default_str();
  rec->add_option("--capture-bytes", record.capture_bytes,
                  "Socket payload copied per read/write for protocol parsing (0 turns wire "
                  "tracing off; at most 16384)")
      ->check(waitscope::cli::WholeNumberCheck(0, WS_MAX_CAPTURE, "a byte count"))
      ->capture_default_str();
  rec->add_flag("--capture-values", record.capture_values,
                "Keep SQL literals, Redis values and full URLs in the report (off: they are "
                "replaced by ? before leaving the parser)");
  std::vector<std::string> finding_options;
  rec->add_option("--finding", finding_options,
                  "Change a findings threshold, KEY=VALUE (repeatable), e.g. "
                  "--finding n_plus_one.min_repeats=10. Keys: " +
                      JoinKeys(waitscope::findings::DetectorOptionKeys()))
      ->check(FindingOptionValidator());
  rec->add_option("--save-events", record.save_events,
                  "Also write the request stage's inputs (waits, statements, requests, connects, "
                  "TLS handshakes; redacted like the report) to FILE as JSON lines (.gz: "
                  "compressed), to replay them into the detectors in tests and benchmarks")
      ->check(waitscope::cli::NonEmptyPathCheck("FILE"));
  rec->add_option("command", record.command,
                  "Command to start and trace until it exits (put it after --); if the "
                  "recording stops first, it gets SIGTERM (SIGKILL 5 s later). Exits with "
                  "the command's status (128+N if signal N killed it), or 0 if the "
                  "recording stopped first");

  waitscope::TopOptions top_options;
  CLI::App* top = waitscope::AddTopSubcommand(app, top_options);
  waitscope::AgentOptions agent_options;
  CLI::App* agent = waitscope::AddAgentSubcommand(app, agent_options);

  // CLI11 would take an unknown command for a stray argument and say that a
  // subcommand is required.
  if (std::string unknown = waitscope::cli::UnknownSubcommand(argc, argv, app); !unknown.empty()) {
    waitscope::cli::PrintError(unknown + " (see waitscope --help)");
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version print and exit 0; usage errors are one line,
    // like every other error, and exit 2 (the shell convention).
    if (e.get_exit_code() == 0) return app.exit(e);
    waitscope::cli::PrintError(std::string(e.what()) + " (see waitscope --help)");
    return 2;
  }
  SetUpLogging(verbosity);

  if (rec->parsed()) {
    if (!duration_text.empty()) {
      record.duration_ns = *waitscope::ParseSecondsOrDurationNs(duration_text);
    }
    record.min_block_ns = *waitscope::ParseDurationNs(min_block_text);
    for (const std::string& kv : finding_options) {
      // Validated while parsing: cannot fail here.
      (void)ApplyFindingOption(record.findings, kv);
    }
    return waitscope::RunRecord(record);
  }
  if (top->parsed()) return waitscope::RunTop(top_options);
  if (agent->parsed()) {
    agent_options.verbosity = verbosity;
    return waitscope::RunAgent(agent_options);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return RunCli(argc, argv);
  } catch (const std::exception& e) {
    // Last line of defence: a bug must still end in one readable line.
    std::fprintf(stderr, "waitscope: internal error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "waitscope: internal error\n");
  }
  return 1;
}
