// ElfCache: parsed ElfSymbols shared by every process that maps the same file,
// so libc is parsed once, not once per process.
// Contract: entries are keyed by the file's identity (device, inode, mtime,
// size), not by the path used to reach it: the same library seen through
// /proc/PID/root of two containers shares one entry, and a file rewritten in
// place at the same path gets a new one. Entries are never evicted; the
// caller bounds memory by the set of files its processes map. Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>

#include "core/result.h"
#include "symbols/elf_symbols.h"

namespace waitscope {

class ElfCache {
 public:
  Result<std::shared_ptr<const ElfSymbols>> Get(const std::string& path);
  size_t size() const { return entries_.size(); }

 private:
  // dev, inode, mtime seconds, mtime nanoseconds, size
  using FileKey = std::tuple<uint64_t, uint64_t, int64_t, int64_t, int64_t>;
  std::map<FileKey, std::shared_ptr<const ElfSymbols>> entries_;
};

}  // namespace waitscope
