// Perf maps: the symbol files JIT runtimes (V8/Node, the JVM with
// perf-map-agent, .NET, LuaJIT, ...) write to /tmp/perf-PID.map to name code
// they generate in anonymous memory. Each line is "START SIZE name", START and
// SIZE in hex with or without "0x"; the name runs to the end of the line.
// Contract: PerfMap::Parse skips malformed lines; when several entries start
// at the same address the last one wins, since runtimes append as they
// recompile. PerfMapFile re-reads its file whenever it grew or changed.
#pragma once

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
  static Result<PerfMap> Read(const std::string& path);

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

// A perf map file followed over time; not thread-safe.
class PerfMapFile {
 public:
  explicit PerfMapFile(std::string path) : path_(std::move(path)) {}

  // Re-reads the file if its identity, size or mtime changed since the last
  // read, then looks addr up. A missing file yields nullopt, not an error:
  // most processes have no perf map.
  std::optional<std::string> Lookup(uint64_t addr);
  const std::string& path() const { return path_; }

 private:
  void Refresh();

  std::string path_;
  PerfMap map_;
  bool loaded_ = false;
  uint64_t inode_ = 0;
  int64_t size_ = -1;
  int64_t mtime_ns_ = -1;
};

}  // namespace waitscope
