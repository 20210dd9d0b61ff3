#include "report/report_text.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <exception>
#include <numeric>
#include <set>

#include "core/atomic_file.h"
#include "core/units.h"
#include "report/display_text.h"
#include "report/report_text_findings.h"
#include "report/report_text_wire.h"
#include "report/text_table.h"

namespace waitscope {
namespace {

constexpr std::size_t kIndent = 2;
constexpr std::size_t kMaxCommWidth = 24;
constexpr std::size_t kMaxSyscallWidth = 16;
constexpr std::size_t kMaxProcessWidth = 24;
constexpr std::size_t kMaxPidsInHint = 5;

std::string ProcessName(const std::string& comm, std::uint32_t pid) {
  const std::string name = comm.empty() ? "?" : SanitizeForTerminal(comm);
  return TruncateMiddle(name, kMaxCommWidth) + " (" + std::to_string(pid) + ")";
}

std::string Percent(std::uint64_t part, std::uint64_t whole) {
  if (whole == 0) return "-";
  const double pct = 100.0 * static_cast<double>(part) / static_cast<double>(whole);
  // "0.0%" next to a nonzero total reads like a bug.
  if (part > 0 && pct < 0.05) return "<0.1%";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", pct);
  return buf;
}

// As many "comm (pid)" as fit on one line, then how many were left out.
std::string TargetsLine(const Report& r, std::size_t max_width) {
  const std::string label = "targets: ";
  if (r.targets.empty()) return label + "none";
  std::string line = label;
  for (std::size_t i = 0; i < r.targets.size(); ++i) {
    const std::string item = ProcessName(r.targets[i].comm, r.targets[i].pid);
    const std::string sep = i == 0 ? "" : ", ";
    const std::size_t rest = r.targets.size() - i - 1;
    const std::string more = rest > 0 ? ", … and " + std::to_string(rest) + " more" : "";
    const std::string more_if_cut = ", … and " + std::to_string(rest + 1) + " more";
    if (i > 0 && DisplayWidth(line) + DisplayWidth(sep + item) + DisplayWidth(more) > max_width) {
      return line + more_if_cut;
    }
    line += sep + item;
  }
  return line;
}

std::string LossLine(const Loss& loss) {
  if (loss.events_dropped == 0 && loss.bytes_truncated == 0 && loss.parse_errors == 0 &&
      loss.exchanges_lost == 0) {
    return "loss: no events lost";
  }
  std::string line = "loss: " + std::to_string(loss.events_dropped) + " events dropped, " +
                     std::to_string(loss.bytes_truncated) + " bytes truncated, " +
                     std::to_string(loss.parse_errors) + " parse errors";
  if (loss.exchanges_lost > 0) {
    line += ", " + std::to_string(loss.exchanges_lost) + " requests unmatched";
  }
  return line + " (totals below are low)";
}

std::string NoWaitsText(const Report& r) {
  std::string out = "No blocking waits were seen.\n";
  if (r.targets.empty()) {
    out += "  - no process was traced: check the pid you passed\n";
  } else {
    std::string pids;
    for (std::size_t i = 0; i < r.targets.size() && i < kMaxPidsInHint; ++i) {
      pids += (i == 0 ? "" : ", ") + std::to_string(r.targets[i].pid);
    }
    if (r.targets.size() > kMaxPidsInHint) pids += ", …";
    const bool one = r.targets.size() == 1;
    out += "  - check the pid: " + std::string(one ? "is " : "are ") + pids +
           (one ? " the process" : " the processes") + " you meant, and running?\n";
  }
  // Not --min-block: it decides which waits get a stack, and every wait is
  // counted whatever its length.
  out += "  - the process may have been idle (nothing to do) while recording\n";
  out +=
      "  - a wait still going on when the recording stops is not counted: record "
      "for longer than the waits you expect\n";
  return out;
}

std::string ClassTable(const Report& r, std::size_t max_width) {
  struct Totals {
    std::uint64_t total_ns = 0;
    std::uint64_t count = 0;
  };
  std::array<Totals, static_cast<std::size_t>(WaitClass::kOther) + 1> by_class{};
  std::uint64_t all = 0;
  for (const WaitRow& w : r.waits) {
    const auto c = std::min(static_cast<std::size_t>(w.wait_class), by_class.size() - 1);
    by_class[c].total_ns += w.total_ns;
    by_class[c].count += w.count;
    all += w.total_ns;
  }
  std::vector<std::size_t> order(by_class.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return by_class[a].total_ns > by_class[b].total_ns;
  });
  std::vector<TextRow> rows;
  for (std::size_t c : order) {
    if (by_class[c].count == 0 && by_class[c].total_ns == 0) continue;
    rows.push_back({std::string(WaitClassName(static_cast<WaitClass>(c))),
                    FormatDuration(by_class[c].total_ns), Percent(by_class[c].total_ns, all),
                    std::to_string(by_class[c].count)});
  }
  const std::vector<TextColumn> columns = {
      {.header = "class"},
      {.header = "total", .align_right = true},
      {.header = "share", .align_right = true},
      {.header = "count", .align_right = true},
  };
  // Threads block in parallel, so blocked time can exceed the recording time.
  return "Blocked time by class (share of all blocked time, summed over threads):\n" +
         RenderTextTable(columns, rows, kIndent, max_width);
}

std::string TopWaitsTable(const Report& r, const TextReportOptions& options) {
  std::vector<const WaitRow*> sorted;
  sorted.reserve(r.waits.size());
  for (const WaitRow& w : r.waits) sorted.push_back(&w);
  // report.h promises this order already; sorting again keeps the text
  // right for hand-built reports too.
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const WaitRow* a, const WaitRow* b) { return a->total_ns > b->total_ns; });
  const std::size_t shown =
      options.top_n == 0 ? sorted.size() : std::min(options.top_n, sorted.size());

  std::set<std::uint32_t> pids;
  for (const WaitRow& w : r.waits) pids.insert(w.pid);
  const bool per_process = pids.size() > 1;

  std::vector<TextColumn> columns;
  if (per_process) columns.push_back({.header = "process", .max_width = kMaxProcessWidth});
  columns.push_back({.header = "class"});
  columns.push_back({.header = "syscall", .max_width = kMaxSyscallWidth});
  columns.push_back({.header = "target", .flexible = true});
  for (const char* h : {"count", "total", "mean", "max"}) {
    columns.push_back({.header = h, .align_right = true});
  }

  std::vector<TextRow> rows;
  rows.reserve(shown);
  for (std::size_t i = 0; i < shown; ++i) {
    const WaitRow& w = *sorted[i];
    TextRow row;
    if (per_process) row.push_back(ProcessName(w.comm, w.pid));
    row.push_back(std::string(WaitClassName(w.wait_class)));
    row.push_back(w.syscall.empty() ? "?" : SanitizeForTerminal(w.syscall));
    row.push_back(w.target.empty() ? "-" : SanitizeForTerminal(w.target));
    row.push_back(std::to_string(w.count));
    row.push_back(FormatDuration(w.total_ns));
    row.push_back(w.count == 0 ? "-" : FormatDuration(w.total_ns / w.count));
    row.push_back(FormatDuration(w.max_ns));
    rows.push_back(std::move(row));
  }
  const std::string title = shown < sorted.size()
                                ? "Top " + std::to_string(shown) + " of " +
                                      std::to_string(sorted.size()) + " waits by total time:\n"
                                : "Waits by total time:\n";
  return title + RenderTextTable(columns, rows, kIndent, options.max_width);
}

}  // namespace

std::string RenderReportText(const Report& report, const TextReportOptions& options) {
  std::string out = "waitscope " + SanitizeForTerminal(report.tool_version) + ": recorded " +
                    FormatSeconds(report.duration_s) + "\n";
  out += TargetsLine(report, options.max_width) + "\n";
  out += LossLine(report.loss) + "\n\n";
  if (std::string findings = RenderFindingsText(report, options.max_width); !findings.empty()) {
    out += findings + "\n";
  }
  if (!options.request_tree.empty()) out += options.request_tree + "\n";
  if (report.waits.empty()) {
    out += NoWaitsText(report);
  } else {
    out += ClassTable(report, options.max_width) + "\n";
    out += TopWaitsTable(report, options);
  }
  out += RenderWireText(report, options);
  return out;
}

Status WriteReportText(const Report& report, const TextReportOptions& options,
                       const std::string& path) {
  std::string text;
  try {
    text = RenderReportText(report, options);
  } catch (const std::exception& e) {  // only allocation can throw here
    return Error{"cannot render " + path + ": " + e.what()};
  }
  return WriteFileAtomically(path, text);
}

}  // namespace waitscope
