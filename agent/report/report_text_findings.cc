#include "report/report_text_findings.h"

#include "report/display_text.h"

namespace waitscope {
namespace {

constexpr std::size_t kIndent = 4;

// Greedy word wrap; a word longer than the line stays whole on its own line.
std::string Wrap(const std::string& text, std::size_t indent, std::size_t width) {
  const std::size_t room = width > indent + 20 ? width - indent : 20;
  std::string out;
  std::string line;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find(' ', pos);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(pos, end - pos);
    pos = end + 1;
    if (word.empty()) continue;
    if (!line.empty() && line.size() + 1 + word.size() > room) {
      out += std::string(indent, ' ') + line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) out += std::string(indent, ' ') + line + "\n";
  return out;
}

}  // namespace

std::string_view SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kInfo:
      return "info";
    case Severity::kWarning:
      return "warning";
    case Severity::kCritical:
      return "critical";
  }
  return "warning";
}

std::string RenderFindingsText(const Report& report, std::size_t max_width) {
  if (report.findings.empty()) return "";
  std::string out = "Findings (most costly first):\n";
  for (const FindingRow& f : report.findings) {
    std::string head = "  [" + std::string(SeverityName(f.severity)) + "] " + f.kind;
    if (!f.endpoint.empty()) head += " - " + SanitizeForTerminal(f.endpoint);
    head += " (pid " + std::to_string(f.pid) + ")";
    out += head + "\n";
    out += Wrap(SanitizeForTerminal(f.summary), kIndent, max_width);
  }
  return out;
}

}  // namespace waitscope
