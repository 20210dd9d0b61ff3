#include "cli/top_command.h"

#include <cstdio>

namespace waitscope {

CLI::App* AddTopSubcommand(CLI::App& app, TopOptions& options) {
  CLI::App* top = app.add_subcommand("top", "Live view of where processes wait (not built yet)");
  top->add_option("-p,--pid", options.pids, "Process to watch (repeatable)");
  return top;
}

int RunTop(const TopOptions& /*options*/) {
  std::fprintf(stderr, "waitscope: error: top is not built yet\n");
  return 1;
}

}  // namespace waitscope
