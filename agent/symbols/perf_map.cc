#include "symbols/perf_map.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "symbols/demangle.h"
#include "symbols/read_file.h"
#include "symbols/unique_fd.h"

namespace waitscope {

namespace {

std::string_view TrimLeft(std::string_view s) {
  size_t begin = s.find_first_not_of(" \t");
  return begin == std::string_view::npos ? std::string_view() : s.substr(begin);
}

// Parses a hex number with optional "0x" prefix at the front of s, consuming it.
std::optional<uint64_t> ConsumeHex(std::string_view& s) {
  s = TrimLeft(s);
  if (s.starts_with("0x") || s.starts_with("0X")) s.remove_prefix(2);
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value, 16);
  if (ec != std::errc() || ptr == s.data()) return std::nullopt;
  size_t used = static_cast<size_t>(ptr - s.data());
  if (used < s.size() && s[used] != ' ' && s[used] != '\t') return std::nullopt;
  s.remove_prefix(used);
  return value;
}

}  // namespace

PerfMap PerfMap::Parse(std::string_view text) {
  PerfMap map;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

    auto start = ConsumeHex(line);
    if (!start) continue;
    auto size = ConsumeHex(line);
    std::string_view name = TrimLeft(line);
    if (!size || *size == 0 || name.empty()) continue;
    map.entries_.push_back(Entry{*start, *size, Demangle(name)});
  }
  // Stable sort keeps file order among equal starts; then keep the last of each run.
  std::stable_sort(map.entries_.begin(), map.entries_.end(),
                   [](const Entry& a, const Entry& b) { return a.start < b.start; });
  std::vector<Entry> unique;
  unique.reserve(map.entries_.size());
  for (Entry& e : map.entries_) {
    if (!unique.empty() && unique.back().start == e.start) {
      unique.back() = std::move(e);
    } else {
      unique.push_back(std::move(e));
    }
  }
  map.entries_ = std::move(unique);
  return map;
}

std::optional<std::string> PerfMap::Lookup(uint64_t addr) const {
  auto it = std::upper_bound(entries_.begin(), entries_.end(), addr,
                             [](uint64_t a, const Entry& e) { return a < e.start; });
  if (it == entries_.begin()) return std::nullopt;
  --it;
  if (addr - it->start >= it->size) return std::nullopt;
  return it->name;
}

namespace {

// The text of a perf map waitscope may trust, or why not (see perf_map.h).
Result<std::string> ReadTrustedPerfMap(const std::string& path, std::uint32_t pid) {
  // O_NOFOLLOW: a symlink fails (ELOOP); O_NONBLOCK: a FIFO opens at once.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) {
    const int err = errno;
    return Error{path + (err == ELOOP ? ": a symbolic link" : ": " + std::string(strerror(err)))};
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Error{path + ": " + strerror(errno)};
  if (!S_ISREG(st.st_mode)) return Error{path + ": not a regular file"};
  if (st.st_uid != 0) {
    struct stat proc {};
    const std::string proc_dir = "/proc/" + std::to_string(pid);
    if (::stat(proc_dir.c_str(), &proc) != 0 || proc.st_uid != st.st_uid) {
      return Error{path + ": owned by uid " + std::to_string(st.st_uid) +
                   ", neither root nor the user of process " + std::to_string(pid)};
    }
  }
  if (static_cast<std::uint64_t>(st.st_size) > kMaxPerfMapBytes) {
    return Error{path + ": larger than " + std::to_string(kMaxPerfMapBytes) + " bytes"};
  }
  return ReadOpenFile(fd.get(), path, kMaxPerfMapBytes);
}

}  // namespace

void PerfMapFile::Refresh() {
  struct stat st;
  if (::lstat(path_.c_str(), &st) != 0) {
    map_ = PerfMap();
    refusal_.clear();
    examined_ = false;
    return;
  }
  int64_t mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  // The same file as last time, read or refused: not tried again until it changes.
  if (examined_ && st.st_ino == inode_ && st.st_size == size_ && mtime_ns == mtime_ns_) return;
  inode_ = st.st_ino;
  size_ = st.st_size;
  mtime_ns_ = mtime_ns;
  examined_ = true;
  Result<std::string> text = ReadTrustedPerfMap(path_, pid_);
  map_ = text.ok() ? PerfMap::Parse(*text) : PerfMap();
  refusal_ = text.ok() ? std::string() : text.error().message;
}

std::optional<std::string> PerfMapFile::Lookup(uint64_t addr) {
  Refresh();
  return map_.Lookup(addr);
}

}  // namespace waitscope
