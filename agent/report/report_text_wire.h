// The wire-traffic part of report.txt: top statements by total time (the
// `--top` table), cache hit ratios, HTTP endpoints. Empty string when the
// recording saw no parsed traffic.
#pragma once

#include <string>

#include "report/report.h"
#include "report/report_text.h"

namespace waitscope {

std::string RenderWireText(const Report& report, const TextReportOptions& options);

}  // namespace waitscope
