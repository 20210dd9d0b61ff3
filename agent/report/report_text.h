// Human-readable summary of a Report (what `waitscope record` prints and
// writes beside report.json). Contract: plain text, lines at most
// `max_width` columns (tables shrink the target column, middle-truncated with
// "…"); a header (tool version, duration, targets as "comm (pid)"), one loss
// line ("no events lost" or the three counts), blocked time per wait class
// (total, share of all blocked time, count) and the top `top_n` waits by
// total time (class, syscall, target, count, total, mean, max; a process
// column is added when waits come from more than one pid). A recording with
// no waits says so and suggests why. Process names and paths are sanitized:
// no control characters reach the terminal, invalid UTF-8 shows as U+FFFD.
#pragma once

#include <cstddef>
#include <string>

#include "core/result.h"
#include "report/report.h"

namespace waitscope {

struct TextReportOptions {
  std::size_t top_n = 15;       // rows in the top-waits table; 0 shows all
  std::size_t max_width = 100;  // terminal columns the output must fit in
  // Where each endpoint's time goes, rendered by the findings stage (which
  // owns that data); shown after the findings.
  std::string request_tree;
};

std::string RenderReportText(const Report& report, const TextReportOptions& options = {});

// Writes RenderReportText to `path` atomically (see core/atomic_file.h).
Status WriteReportText(const Report& report, const TextReportOptions& options,
                       const std::string& path);

}  // namespace waitscope
