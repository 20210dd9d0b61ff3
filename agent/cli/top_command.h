// `waitscope top`: a live terminal view of where traced processes wait,
// refreshed every second (see top_command.cc).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace waitscope {

struct TopOptions {
  std::vector<std::uint32_t> pids;  // empty: every process
};

// Declares the subcommand and its flags on `app`, writing into `options`.
CLI::App* AddTopSubcommand(CLI::App& app, TopOptions& options);

// Returns the process exit code (errors already printed as one line).
int RunTop(const TopOptions& options);

}  // namespace waitscope
