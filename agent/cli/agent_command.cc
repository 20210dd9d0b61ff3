#include "cli/agent_command.h"

#include <cstdio>

namespace waitscope {

CLI::App* AddAgentSubcommand(CLI::App& app, AgentOptions& options) {
  CLI::App* agent = app.add_subcommand("agent", "Run continuously and export (not built yet)");
  agent->add_option("-c,--config", options.config_path, "Configuration file");
  return agent;
}

int RunAgent(const AgentOptions& /*options*/) {
  std::fprintf(stderr, "waitscope: error: agent is not built yet\n");
  return 1;
}

}  // namespace waitscope
