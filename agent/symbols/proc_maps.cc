#include "symbols/proc_maps.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <optional>

#include "symbols/read_file.h"

namespace waitscope {

namespace {

constexpr std::string_view kDeletedSuffix = " (deleted)";

// Splits off the next space-delimited token, skipping leading spaces.
std::string_view NextToken(std::string_view& s) {
  size_t begin = s.find_first_not_of(' ');
  if (begin == std::string_view::npos) {
    s = {};
    return {};
  }
  s.remove_prefix(begin);
  size_t end = s.find(' ');
  std::string_view token = s.substr(0, end);
  s.remove_prefix(end == std::string_view::npos ? s.size() : end);
  return token;
}

std::optional<uint64_t> ParseNumber(std::string_view s, int base) {
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value, base);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return value;
}

// Line format: "start-end perms offset dev inode [path]"; path may contain spaces.
std::optional<Mapping> ParseLine(std::string_view line) {
  std::string_view range = NextToken(line);
  std::string_view perms = NextToken(line);
  std::string_view offset = NextToken(line);
  std::string_view dev = NextToken(line);
  std::string_view inode = NextToken(line);
  if (inode.empty() || perms.size() < 3 || dev.find(':') == std::string_view::npos) {
    return std::nullopt;
  }
  size_t dash = range.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto start = ParseNumber(range.substr(0, dash), 16);
  auto end = ParseNumber(range.substr(dash + 1), 16);
  auto file_offset = ParseNumber(offset, 16);
  auto inode_number = ParseNumber(inode, 10);
  if (!start || !end || !file_offset || !inode_number || *end <= *start) return std::nullopt;

  Mapping m;
  m.start = *start;
  m.end = *end;
  m.file_offset = *file_offset;
  m.inode = *inode_number;
  m.executable = perms[2] == 'x';
  size_t path_begin = line.find_first_not_of(' ');
  if (path_begin != std::string_view::npos) {
    std::string_view path = line.substr(path_begin);
    while (!path.empty() && (path.back() == '\r' || path.back() == ' ')) path.remove_suffix(1);
    if (path.ends_with(kDeletedSuffix)) {
      path.remove_suffix(kDeletedSuffix.size());
      m.deleted = true;
    }
    m.path = std::string(path);
  }
  return m;
}

}  // namespace

ProcessMaps::ProcessMaps(std::vector<Mapping> mappings) : mappings_(std::move(mappings)) {
  std::stable_sort(mappings_.begin(), mappings_.end(),
                   [](const Mapping& a, const Mapping& b) { return a.start < b.start; });
}

ProcessMaps ProcessMaps::Parse(std::string_view text) {
  std::vector<Mapping> mappings;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (auto m = ParseLine(line)) mappings.push_back(std::move(*m));
  }
  return ProcessMaps(std::move(mappings));
}

Result<ProcessMaps> ProcessMaps::Read(uint32_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/maps";
  int err = 0;
  Result<std::string> text = ReadWholeFile(path, &err);
  if (!text.ok()) {
    if (err == ENOENT || err == ESRCH) {
      return Error{"process " + std::to_string(pid) + " is gone (" + text.error().message + ")"};
    }
    return text.error();
  }
  return Parse(*text);
}

const Mapping* ProcessMaps::Find(uint64_t addr) const {
  // First mapping starting after addr; the candidate is the one before it.
  auto it = std::upper_bound(mappings_.begin(), mappings_.end(), addr,
                             [](uint64_t a, const Mapping& m) { return a < m.start; });
  if (it == mappings_.begin()) return nullptr;
  --it;
  return it->contains(addr) ? &*it : nullptr;
}

}  // namespace waitscope
