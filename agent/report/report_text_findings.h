// The findings part of report.txt, shown first because it is what a person
// acts on: each finding as "severity kind — endpoint" and its summary
// wrapped to the terminal width, most costly first. Empty string when there
// are no findings.
#pragma once

#include <cstddef>
#include <string>

#include "report/report.h"

namespace waitscope {

std::string RenderFindingsText(const Report& report, std::size_t max_width);

std::string_view SeverityName(Severity severity);

}  // namespace waitscope
