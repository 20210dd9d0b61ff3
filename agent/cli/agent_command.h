// `waitscope agent`: the long-running mode the systemd unit starts. Reads
// waitscope.yaml, traces the selected processes, aggregates in windows and
// exports (Prometheus, OTLP/HTTP, Pyroscope, report directories).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace waitscope {

struct AgentOptions {
  std::string config_path;  // empty: /etc/waitscope/waitscope.yaml
  bool check_only = false;  // --check: validate the config and exit
  // --allow-missing-capabilities: run without CAP_SYS_PTRACE or
  // CAP_DAC_READ_SEARCH, with fewer symbols, instead of refusing to start.
  bool allow_partial_view = false;
  int verbosity = 0;  // -v / -vv: at least debug / trace, whatever log_level says
};

CLI::App* AddAgentSubcommand(CLI::App& app, AgentOptions& options);

// Returns the process exit code (errors already printed as one line).
int RunAgent(const AgentOptions& options);

}  // namespace waitscope
