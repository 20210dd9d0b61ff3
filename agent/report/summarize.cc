#include <algorithm>
#include <map>
#include <tuple>

#include "report/report.h"

namespace waitscope {

std::vector<WaitRow> SummarizeWaits(const std::vector<WaitStack>& stacks) {
  using Key = std::tuple<std::uint32_t, WaitClass, std::string, std::string>;
  std::map<Key, WaitRow> rows;
  for (const WaitStack& s : stacks) {
    WaitRow& row = rows[Key{s.pid, s.wait_class, s.syscall, s.target}];
    if (row.count == 0) {
      row.pid = s.pid;
      row.comm = s.comm;
      row.wait_class = s.wait_class;
      row.syscall = s.syscall;
      row.target = s.target;
    }
    row.count += s.count;
    row.total_ns += s.total_ns;
    row.max_ns = std::max(row.max_ns, s.max_ns);
  }
  std::vector<WaitRow> out;
  out.reserve(rows.size());
  for (auto& [key, row] : rows) out.push_back(std::move(row));
  std::stable_sort(out.begin(), out.end(),
                   [](const WaitRow& a, const WaitRow& b) { return a.total_ns > b.total_ns; });
  return out;
}

}  // namespace waitscope
