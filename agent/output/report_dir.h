// Writes a recording's report directory, the public output of
// `waitscope record -o DIR` (see docs/outputs.md):
//   report.json  report.txt  waits.folded  waits.pb.gz  flamegraph.svg
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/result.h"
#include "report/report.h"
#include "report/report_text.h"

namespace waitscope {

// Creates DIR (and parents) if needed and checks it is writable, before a
// recording starts, so a bad -o fails in the first second and not at the end.
Status PrepareOutputDir(const std::string& dir);

// `text`: how report.txt is rendered (rows per table, the request tree).
Status WriteReportDir(const Report& report, const std::string& dir, std::int64_t start_unix_ns,
                      const TextReportOptions& text = {});

}  // namespace waitscope
