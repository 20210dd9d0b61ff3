#include "findings/request_tree_text.h"

#include <algorithm>
#include <cstdio>

#include "core/units.h"
#include "report/display_text.h"
#include "report/text_table.h"

namespace waitscope::findings {
namespace {

constexpr std::size_t kIndent = 2;

std::string Pct(std::uint64_t part, std::uint64_t whole) {
  if (whole == 0) return "-";
  const double pct = 100.0 * static_cast<double>(part) / static_cast<double>(whole);
  if (part > 0 && pct < 0.05) return "<0.1%";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f%%", pct);
  return buf;
}

std::string PerRequest(std::uint64_t ns, std::uint64_t requests) {
  return requests == 0 ? "-" : FormatDuration(ns / requests);
}

// Largest first; ties by name so the text is stable.
std::vector<std::uint32_t> Sorted(const RequestProfileData& d, std::vector<std::uint32_t> ids) {
  std::sort(ids.begin(), ids.end(), [&](std::uint32_t a, std::uint32_t b) {
    const auto& na = d.nodes()[a];
    const auto& nb = d.nodes()[b];
    if (na.total_ns != nb.total_ns) return na.total_ns > nb.total_ns;
    return d.name(na.name) < d.name(nb.name);
  });
  return ids;
}

std::size_t Limit(std::size_t n, std::size_t top) {
  return top == 0 ? n : std::min(n, top);
}

}  // namespace

std::string RenderRequestTree(const RequestProfileData& data, const RequestTreeOptions& options) {
  if (data.empty()) return "";
  const auto children = data.Children();
  const auto& nodes = data.nodes();
  const std::uint64_t all = nodes[RequestProfileData::kRoot].total_ns;
  std::vector<TextRow> rows;
  const auto endpoints = Sorted(data, children[RequestProfileData::kRoot]);
  const std::size_t shown = Limit(endpoints.size(), options.top_endpoints);
  for (std::size_t i = 0; i < shown; ++i) {
    const auto& ep = nodes[endpoints[i]];
    const std::uint64_t n = ep.requests;
    rows.push_back({SanitizeForTerminal(data.name(ep.name)), std::to_string(n),
                    PerRequest(ep.total_ns, n), Pct(ep.total_ns, all),
                    FormatDuration(ep.total_ns)});
    for (std::uint32_t c : Sorted(data, children[endpoints[i]])) {
      const auto& cls = nodes[c];
      rows.push_back({"  " + SanitizeForTerminal(data.name(cls.name)), "",
                      PerRequest(cls.total_ns, n), Pct(cls.total_ns, ep.total_ns),
                      FormatDuration(cls.total_ns)});
      const auto details = Sorted(data, children[c]);
      const std::size_t top = std::min(details.size(), options.top_children);
      std::uint64_t rest_ns = 0;
      for (std::size_t k = 0; k < details.size(); ++k) {
        const auto& d = nodes[details[k]];
        if (k >= top) {
          rest_ns += d.total_ns;
          continue;
        }
        rows.push_back({"    " + SanitizeForTerminal(data.name(d.name)), "",
                        PerRequest(d.total_ns, n), Pct(d.total_ns, ep.total_ns),
                        FormatDuration(d.total_ns)});
      }
      if (details.size() > top && top > 0) {
        rows.push_back({"    (" + std::to_string(details.size() - top) + " more)", "",
                        PerRequest(rest_ns, n), Pct(rest_ns, ep.total_ns),
                        FormatDuration(rest_ns)});
      }
    }
  }
  const std::vector<TextColumn> columns = {
      {.header = "endpoint / class / target", .flexible = true},
      {.header = "requests", .align_right = true},
      {.header = "per request", .align_right = true},
      {.header = "share", .align_right = true},
      {.header = "total", .align_right = true},
  };
  std::string out =
      "Request time by endpoint (mean per request; share of all request time, then of the "
      "endpoint's):\n";
  if (DisplayWidth(out) > options.width + 1) {
    out = "Request time by endpoint:\n";
  }
  out += RenderTextTable(columns, rows, kIndent, options.width);
  if (endpoints.size() > shown) {
    out += std::string(kIndent, ' ') + "… and " + std::to_string(endpoints.size() - shown) +
           " more endpoints\n";
  }
  if (data.overflow_ns() > 0) {
    out += std::string(kIndent, ' ') + FormatDuration(data.overflow_ns()) +
           " of request time is under \"(other)\": more distinct stacks than the profile keeps\n";
  }
  return out;
}

}  // namespace waitscope::findings
