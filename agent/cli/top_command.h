// `waitscope top`: a live view of where traced processes wait, refreshed
// every interval from one TraceSession window: a full-screen view when stdout
// is a terminal (agent/top/), plain text blocks otherwise. Options come
// parsed from main.cc; top_command.cc runs the checks and the event loop.
#pragma once

#include <CLI/CLI.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace waitscope {

struct TopOptions {
  std::vector<std::uint32_t> pids;      // empty: every process but waitscope
  std::string interval = "1s";          // refresh period (validated while parsing)
  std::string sort = "time";            // initial sort key: time, count, p95, name
  std::size_t iterations = 0;           // refreshes before exiting; 0: until q or Ctrl-C
  std::uint32_t capture_bytes = 16384;  // socket payload per syscall; 0: no wire tracing
};

// Declares the subcommand and its flags on `app`, writing into `options`.
CLI::App* AddTopSubcommand(CLI::App& app, TopOptions& options);

// Returns the process exit code: 0 when the view ended by q, a signal or
// --iterations; 1 on errors (printed as one line on stderr, after the
// terminal was restored).
int RunTop(const TopOptions& options);

}  // namespace waitscope
