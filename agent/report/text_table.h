// Aligned plain-text tables for the human-readable outputs. Contract: every
// line is at most `max_width` columns unless the fixed (non-flexible) columns
// alone are wider; the one flexible column (a path or address) is shrunk and
// middle-truncated with "…" to make the rest fit; cells wider than their
// column's cap are truncated the same way; no line has trailing spaces.
// Cells must already be sanitized (report/display_text.h).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace waitscope {

struct TextColumn {
  std::string header;
  bool align_right = false;   // numbers
  std::size_t max_width = 0;  // 0: as wide as the widest cell
  bool flexible = false;      // at most one column: gives up width first
};

using TextRow = std::vector<std::string>;  // one cell per column

// One line per row (header first), each starting with `indent` spaces and
// ending in '\n'; columns are separated by two spaces.
std::string RenderTextTable(const std::vector<TextColumn>& columns,
                            const std::vector<TextRow>& rows, std::size_t indent,
                            std::size_t max_width);

}  // namespace waitscope
