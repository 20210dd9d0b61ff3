#include "report/text_table.h"

#include <algorithm>

#include "report/display_text.h"

namespace waitscope {
namespace {

constexpr std::size_t kGap = 2;
// A flexible column narrower than this stops being useful for telling rows apart.
constexpr std::size_t kMinFlexibleWidth = 12;

}  // namespace

std::string RenderTextTable(const std::vector<TextColumn>& columns,
                            const std::vector<TextRow>& rows, std::size_t indent,
                            std::size_t max_width) {
  const std::size_t n = columns.size();
  std::vector<std::size_t> widths(n);
  for (std::size_t c = 0; c < n; ++c) {
    std::size_t w = DisplayWidth(columns[c].header);
    for (const TextRow& row : rows) {
      if (c < row.size()) w = std::max(w, DisplayWidth(row[c]));
    }
    if (columns[c].max_width != 0) {
      w = std::min(w, std::max(columns[c].max_width, DisplayWidth(columns[c].header)));
    }
    widths[c] = w;
  }

  std::size_t total = indent;
  for (std::size_t c = 0; c < n; ++c) total += widths[c] + (c > 0 ? kGap : 0);
  if (total > max_width) {
    for (std::size_t c = 0; c < n; ++c) {
      if (!columns[c].flexible) continue;
      const std::size_t floor = std::max(kMinFlexibleWidth, DisplayWidth(columns[c].header));
      const std::size_t excess = total - max_width;
      const std::size_t give = widths[c] > floor ? std::min(excess, widths[c] - floor) : 0;
      widths[c] -= give;
      total -= give;
      break;
    }
  }

  std::string out;
  // Headers take the column's alignment too, so they sit over the numbers.
  auto emit = [&](const std::vector<std::string>& cells) {
    std::string line(indent, ' ');
    for (std::size_t c = 0; c < n; ++c) {
      if (c > 0) line.append(kGap, ' ');
      const std::string cell = TruncateMiddle(c < cells.size() ? cells[c] : "", widths[c]);
      line += columns[c].align_right ? PadLeft(cell, widths[c]) : PadRight(cell, widths[c]);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  };
  std::vector<std::string> headers;
  headers.reserve(n);
  for (const TextColumn& col : columns) headers.push_back(col.header);
  emit(headers);
  for (const TextRow& row : rows) emit(row);
  return out;
}

}  // namespace waitscope
