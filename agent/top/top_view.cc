#include "top/top_view.h"

#include <algorithm>
#include <array>

#include "core/units.h"
#include "report/display_text.h"
#include "top/top_format.h"

namespace waitscope::top {
namespace {

constexpr std::string_view kSeparator = "  ";
constexpr std::size_t kHeaderLines = 2;
constexpr std::size_t kOtherSectionRows = 2;  // what unfocused sections get before the focus grows

std::size_t SectionIndex(Section s) {
  return static_cast<std::size_t>(s);
}

// "1s", "2s", "500ms": whole seconds without decimals.
std::string FormatInterval(double seconds) {
  if (seconds >= 1 && seconds == static_cast<double>(static_cast<std::uint64_t>(seconds))) {
    return std::to_string(static_cast<std::uint64_t>(seconds)) + "s";
  }
  return FormatSeconds(seconds);
}

std::vector<std::size_t> ColumnWidths(const std::vector<Column>& columns, std::size_t width) {
  std::vector<std::size_t> widths;
  std::size_t fixed = columns.empty() ? 0 : (columns.size() - 1) * kSeparator.size();
  for (const Column& c : columns) {
    widths.push_back(c.width);
    if (!c.flexible) fixed += c.width;
  }
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].flexible)
      widths[i] = std::max(columns[i].width, width > fixed ? width - fixed : 0);
  }
  return widths;
}

// A ", "-separated list cut after its last whole item that fits.
std::string TruncateList(const std::string& cell, std::size_t width) {
  std::string s = cell;
  while (DisplayWidth(s) > width) {
    const std::size_t comma = s.rfind(", ");
    if (comma == std::string::npos) return TruncateEnd(s, width);
    s.resize(comma);
  }
  return s;
}

std::string RightTrim(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

std::string FormatCells(const std::vector<std::string>& cells, const std::vector<Column>& columns,
                        const std::vector<std::size_t>& widths) {
  std::string line;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    const std::string& cell = i < cells.size() ? cells[i] : std::string();
    const std::string cut = columns[i].truncate_middle ? TruncateMiddle(cell, widths[i])
                            : columns[i].list          ? TruncateList(cell, widths[i])
                                                       : TruncateEnd(cell, widths[i]);
    if (i > 0) line += kSeparator;
    line += columns[i].align_right ? PadLeft(cut, widths[i]) : PadRight(cut, widths[i]);
  }
  return RightTrim(std::move(line));
}

std::string SectionLabel(const SectionTable& t, bool numbered) {
  std::string label = numbered ? std::to_string(SectionIndex(t.section) + 1) + " " : "";
  return label + t.title;
}

std::string EmptyHint(const SectionTable& t, const ViewState& view) {
  if (!view.wire_tracing && t.section != Section::kProcesses) {
    return "off: wire tracing is off (--capture-bytes 0)";
  }
  return t.empty_hint;
}

// The section's header line: its label over the first column, then the
// column headers; or, when it has no rows, the label and why.
std::string SectionHeader(const SectionTable& t, const ViewState& view, std::size_t width,
                          bool numbered) {
  const std::string label = SectionLabel(t, numbered);
  if (t.rows.empty()) return FitLine(label + "  " + EmptyHint(t, view), width);
  std::vector<std::string> headers;
  for (const Column& c : t.columns) headers.push_back(c.header);
  headers[0] = label + " (" + std::to_string(t.rows.size()) + ")";
  return FitLine(FormatCells(headers, t.columns, ColumnWidths(t.columns, width)), width);
}

// `with_interval`: the plain blocks leave it out (their timestamps show it).
std::string HeaderSummary(const TopModel& model, const ViewState& view, bool with_interval) {
  const HealthSample& h = model.health();
  std::string out = "up " + FormatUptime(model.uptime_s());
  if (with_interval) out += "  every " + FormatInterval(view.interval_s);
  out += view.traced_pids == 0 ? "  all processes" : "";
  out += "  procs " + FormatCount(static_cast<double>(model.active_processes()));
  out += "  events " + FormatCount(model.events_per_s()) + "/s";
  out += "  drops " + FormatCount(static_cast<double>(h.dropped));
  if (model.window_dropped() > 0) {
    out += " (+" + FormatCount(static_cast<double>(model.window_dropped())) + ")";
  }
  return out;
}

// How many rows each section shows: the focus gets at least half of the
// budget, the others up to kOtherSectionRows each, then the focus the rest,
// then whatever is left goes to the others in order.
std::array<std::size_t, kSectionCount> AllocateRows(
    const std::array<std::size_t, kSectionCount>& available, std::size_t focus,
    std::size_t budget) {
  std::array<std::size_t, kSectionCount> rows{};
  rows[focus] = std::min(available[focus], (budget + 1) / 2);
  budget -= rows[focus];
  for (std::size_t i = 0; i < kSectionCount; ++i) {
    if (i == focus) continue;
    const std::size_t take = std::min({available[i], kOtherSectionRows, budget});
    rows[i] = take;
    budget -= take;
  }
  const std::size_t more = std::min(available[focus] - rows[focus], budget);
  rows[focus] += more;
  budget -= more;
  for (std::size_t i = 0; i < kSectionCount && budget > 0; ++i) {
    const std::size_t take = std::min(available[i] - rows[i], budget);
    rows[i] += take;
    budget -= take;
  }
  return rows;
}

std::array<SectionTable, kSectionCount> BuildAll(const TopModel& model, SortKey sort) {
  std::array<SectionTable, kSectionCount> tables;
  for (Section s : kAllSections) tables[SectionIndex(s)] = BuildSection(s, model, sort);
  return tables;
}

}  // namespace

std::string FitLine(std::string_view line, std::size_t width) {
  return TruncateEnd(line, width);
}

std::vector<ScreenLine> RenderScreen(const TopModel& model, const ViewState& view,
                                     std::size_t width, std::size_t height) {
  std::vector<ScreenLine> lines;
  if (width == 0 || height == 0) return lines;
  lines.push_back(
      {FitLine("waitscope top  " + HeaderSummary(model, view, true), width), LineStyle::kTitle});
  std::string status =
      model.windows() == 0
          ? "collecting the first " + FormatInterval(view.interval_s) + " window...  q quit"
          : "sort " + std::string(SortKeyName(view.sort)) + "  focus " +
                std::string(SectionName(view.focus)) +
                "  | q quit  s sort  tab/1-5 focus  +/- interval";
  lines.push_back({FitLine(status, width), LineStyle::kNormal});

  const std::array<SectionTable, kSectionCount> tables = BuildAll(model, view.sort);
  std::array<std::size_t, kSectionCount> available{};
  for (std::size_t i = 0; i < kSectionCount; ++i) available[i] = tables[i].rows.size();
  const std::size_t fixed = kHeaderLines + kSectionCount;
  const std::size_t budget = height > fixed ? height - fixed : 0;
  const auto shown = AllocateRows(available, SectionIndex(view.focus), budget);

  for (std::size_t i = 0; i < kSectionCount; ++i) {
    const SectionTable& t = tables[i];
    const bool focused = t.section == view.focus;
    lines.push_back({SectionHeader(t, view, width, /*numbered=*/true),
                     focused ? LineStyle::kFocusedHeader : LineStyle::kSectionHeader});
    const std::vector<std::size_t> widths = ColumnWidths(t.columns, width);
    for (std::size_t r = 0; r < shown[i]; ++r) {
      lines.push_back({FitLine(FormatCells(t.rows[r], t.columns, widths), width)});
    }
  }
  if (lines.size() > height) lines.resize(height);
  return lines;
}

std::string RenderPlain(const TopModel& model, const ViewState& view, std::string_view timestamp,
                        std::size_t width, std::size_t rows_per_section) {
  std::string out = FitLine("=== waitscope top " + std::string(timestamp) + "  " +
                                HeaderSummary(model, view, false),
                            width) +
                    "\n";
  for (const SectionTable& t : BuildAll(model, view.sort)) {
    out += SectionHeader(t, view, width, /*numbered=*/false) + "\n";
    const std::vector<std::size_t> widths = ColumnWidths(t.columns, width);
    const std::size_t n = std::min(rows_per_section, t.rows.size());
    for (std::size_t r = 0; r < n; ++r) {
      out += FitLine(FormatCells(t.rows[r], t.columns, widths), width) + "\n";
    }
    if (t.rows.size() > n) out += "  ... " + std::to_string(t.rows.size() - n) + " more\n";
  }
  out += "\n";
  return out;
}

}  // namespace waitscope::top
