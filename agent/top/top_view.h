// The screen and the plain-text blocks of `waitscope top`, as pure functions
// of the model, the view state and the terminal size, so they are testable
// without a terminal.
//
// Contract for RenderScreen(model, view, width, height):
//  - at most `height` lines, each at most `width` columns (DisplayWidth);
//    anything longer is cut with "…", never wrapped;
//  - no control characters in the text (names are sanitized); styling is
//    carried separately in ScreenLine::style for the terminal writer;
//  - two header lines, then the five sections in order, each a header line
//    and its rows; the focused section gets the rows the others leave.
// RenderPlain gives the same sections as plain tables (no escape codes),
// for stdout that is not a terminal.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "top/top_model.h"
#include "top/top_sections.h"

namespace waitscope::top {

struct ViewState {
  SortKey sort = SortKey::kTime;
  Section focus = Section::kProcesses;
  double interval_s = 1.0;
  bool wire_tracing = true;     // false: --capture-bytes 0, no wire sections to fill
  std::size_t traced_pids = 0;  // 0: every process
};

enum class LineStyle { kNormal, kTitle, kSectionHeader, kFocusedHeader };

struct ScreenLine {
  std::string text;
  LineStyle style = LineStyle::kNormal;
};

std::vector<ScreenLine> RenderScreen(const TopModel& model, const ViewState& view,
                                     std::size_t width, std::size_t height);

// One block: a "=== waitscope top TIMESTAMP ..." line, every section with at
// most `rows_per_section` rows (then "... N more"), and an empty line; each
// line is at most `width` columns and ends in '\n'.
std::string RenderPlain(const TopModel& model, const ViewState& view, std::string_view timestamp,
                        std::size_t width, std::size_t rows_per_section);

// `width` columns of `line`, cut with "…" when longer (exposed for tests).
std::string FitLine(std::string_view line, std::size_t width);

}  // namespace waitscope::top
