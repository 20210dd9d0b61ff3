// report.json writer: renders a Report as the public report contract
// (../shared/docs/report-contract.md, schema tests/schema/report.schema.json).
// Contract: every top-level key of schema_version 1 is always present; the
// sections no feature fills yet (connections, queries, cache, tls, http,
// findings) are empty arrays; `exe` is omitted when unknown; an extra
// top-level "recording" object carries {min_block_ns, stacks}. Strings that
// are not valid UTF-8 (process names and paths are arbitrary bytes) are
// written with U+FFFD in place of each bad byte, so the output is always
// valid JSON but such a path is not byte-exact. A non-finite or negative
// duration is written as 0. Output is pretty-printed with 2-space indent.
#pragma once

#include <string>

#include "core/result.h"
#include "report/report.h"

namespace waitscope {

std::string RenderReportJson(const Report& report);

// Writes RenderReportJson(report) plus a trailing newline to `path`
// atomically (see core/atomic_file.h).
Status WriteReportJson(const Report& report, const std::string& path);

}  // namespace waitscope
