// Perf maps: the symbol files JIT runtimes (V8/Node, the JVM with
// perf-map-agent, .NET, LuaJIT, ...) write to /tmp/perf-PID.map to name code
// they generate in anonymous memory. Each line is "START SIZE name", START and
// SIZE in hex with or without "0x"; the name runs to the end of the line.
// Contract: PerfMap::Parse skips malformed lines; when several entries start
// at the same address the last one wins, since runtimes append as they
// recompile. PerfMapFile re-reads its file whenever it grew or changed.
//
// Any user can create /tmp/perf-PID.map for any PID, and waitscope reads it
// as root, so PerfMapFile reads only what perf itself would: a regular file
// (not a symlink, FIFO or device: a FIFO would block the symbolizer, a link
// to /dev/zero never end), owned by root or by the traced process's user, of
// at most kMaxPerfMapBytes. Anything else is ignored (last_refusal() says
// why) and the JIT frames stay "[anon] 0x...".
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace waitscope {

class PerfMap {
 public:
  static PerfMap Parse(std::string_view text);

  // Name of the entry whose [start, start + size) holds addr.
  std::optional<std::string> Lookup(uint64_t addr) const;
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    uint64_t start;
    uint64_t size;
    std::string name;
  };
  std::vector<Entry> entries_;  // sorted by start, unique start
};

// Perf maps of long-running JVMs and Node processes reach tens of MiB.
inline constexpr std::size_t kMaxPerfMapBytes = std::size_t{64} << 20;

// A perf map file followed over time; not thread-safe.
class PerfMapFile {
 public:
  // `path`: the perf map of process `pid`, whose user may own the file.
  PerfMapFile(std::string path, std::uint32_t pid) : path_(std::move(path)), pid_(pid) {}

  // Re-reads the file if its identity, size or mtime changed since the last
  // read, then looks addr up. A missing file yields nullopt, not an error:
  // most processes have no perf map.
  std::optional<std::string> Lookup(uint64_t addr);
  const std::string& path() const { return path_; }
  // Why the file as it is now was not read ("" when it was, or is missing).
  const std::string& last_refusal() const { return refusal_; }

 private:
  void Refresh();

  std::string path_;
  std::uint32_t pid_;
  std::string refusal_;
  PerfMap map_;
  bool examined_ = false;  // inode_, size_, mtime_ns_ name the file map_ or refusal_ came from
  uint64_t inode_ = 0;
  int64_t size_ = -1;
  int64_t mtime_ns_ = -1;
};

}  // namespace waitscope
