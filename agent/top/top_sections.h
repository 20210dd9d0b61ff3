// The five tables of `waitscope top` (processes, endpoints, statements,
// peers, findings) built from a TopModel: columns with fixed widths, one
// flexible column, and rows already sorted by the view's sort key and
// sanitized for a terminal (report/display_text.h). Pure functions.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "top/top_model.h"

namespace waitscope::top {

enum class Section { kProcesses, kEndpoints, kStatements, kPeers, kFindings };
inline constexpr std::size_t kSectionCount = 5;
inline constexpr std::array<Section, kSectionCount> kAllSections = {
    Section::kProcesses, Section::kEndpoints, Section::kStatements, Section::kPeers,
    Section::kFindings};

// time: blocked or spent time; count: waits, requests, calls, connections;
// p95: the latency quantile (processes: longest wait; findings: severity);
// name: alphabetical.
enum class SortKey { kTime, kCount, kP95, kName };
inline constexpr std::size_t kSortKeyCount = 4;

std::string_view SectionName(Section s);  // "processes", ...
std::string_view SortKeyName(SortKey k);  // "time", "count", "p95", "name"
bool ParseSortKey(std::string_view name, SortKey* out);

struct Column {
  std::string header;
  std::size_t width = 0;  // columns; the flexible column's minimum
  bool align_right = false;
  bool flexible = false;         // takes the width left over (at most one per table)
  bool truncate_middle = false;  // paths and addresses keep their tail
  bool list = false;             // ", "-separated items: drop whole items to fit
};

struct SectionTable {
  Section section = Section::kProcesses;
  std::string title;  // "PROCESSES", first column's header
  std::vector<Column> columns;
  std::vector<std::vector<std::string>> rows;  // sorted; one cell per column
  std::string empty_hint;                      // what to say when rows is empty
};

SectionTable BuildSection(Section section, const TopModel& model, SortKey sort);

}  // namespace waitscope::top
