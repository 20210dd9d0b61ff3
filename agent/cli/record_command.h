// `waitscope record`: trace processes for a while and write a report
// directory. Options come parsed from main.cc; this file runs the recording:
// checks, probe start, event loop, shutdown, outputs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "findings/detector_config.h"

namespace waitscope {

struct RecordOptions {
  std::vector<std::uint32_t> pids;
  std::optional<std::uint64_t> duration_ns;
  std::string output_dir;  // empty: ./waitscope-YYYYmmdd-HHMMSS
  std::uint64_t min_block_ns = 1'000'000;
  std::vector<std::string> command;     // after --
  bool quiet = false;                   // no summary on stdout
  std::size_t top = 15;                 // rows per table in report.txt and the summary (0: all)
  std::uint32_t capture_bytes = 16384;  // socket payload copied per syscall; 0: no wire tracing
  bool capture_values = false;          // keep SQL literals and raw paths (privacy opt-in)
  findings::DetectorConfig findings;    // thresholds (--finding KEY=VALUE)
  std::string save_events;  // --save-events FILE: the request stage's inputs, for replay
};

// Returns the process exit code: 1 on errors (already printed as one line on
// stderr); once the report is written, the command's own exit status if it
// ended on its own (128 + N if signal N killed it), else 0.
int RunRecord(const RecordOptions& options);

}  // namespace waitscope
